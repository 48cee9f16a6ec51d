//! A 3xx from the endpoint (or from IAM) is never followed: no token, no
//! signature and no password leaves for another origin; the batch is
//! refused, counted as rejected, and the error names the status and where
//! the redirect pointed. Certificate failures say they are certificate
//! failures and name the settings that fix them.

mod common;
#[path = "common/origin.rs"]
mod origin;

use std::time::Duration;

use common::{hook, ids, kinds, retry};
use lts_core::{DiagnosticKind, FlushError, Level, Record, Shipper};
use origin::Origin;

const TOKEN: &str = "tok-SECRET-0123456789";

/// A server on another port (another origin) that would take anything.
fn elsewhere() -> Origin {
    Origin::http(200, vec![])
}

fn redirect_to(target: &Origin, scheme_of_target: &str) -> Vec<(String, String)> {
    vec![(
        "Location".to_owned(),
        format!("{scheme_of_target}://127.0.0.1:{}/v2/steal?x={TOKEN}", target.port),
    )]
}

/// Ships 3 records to `endpoint` and checks what a refused redirect must
/// look like: dropped as rejected, one request (never retried), the
/// diagnostic naming the status and the target without the query, and no
/// secret in any diagnostic.
fn ship_three_and_check(builder: lts_core::ConfigBuilder, status: u16, endpoint_origin: &Origin) {
    let (seen, h) = hook();
    let config = builder
        .retry(retry(4))
        .linger(Duration::from_millis(5))
        .error_hook(h)
        .build()
        .unwrap();
    let (shipper, guard) = Shipper::start(config).unwrap();
    for i in 0..3 {
        shipper
            .send(Record::new(shipper.now_ns(), Level::Info, "t", format!("m{i}")))
            .unwrap();
    }
    assert_eq!(shipper.flush(Duration::from_secs(5)), Err(FlushError::Lost { lost: 3 }));
    let stats = shipper.stats();
    assert_eq!((stats.delivered, stats.dropped_rejected, stats.retries), (0, 3, 0));
    assert_eq!(endpoint_origin.seen().len(), 1, "a redirect is not retried");
    let rejected = kinds(&seen, DiagnosticKind::Rejected);
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].contains(&format!("HTTP {status}")), "{}", rejected[0]);
    assert!(rejected[0].contains("/v2/steal;"), "{}", rejected[0]);
    drop(guard);
    for d in seen.lock().unwrap().iter() {
        assert!(!d.message.contains(TOKEN), "{d:?}");
        assert!(!d.message.contains("SECRET"), "{d:?}");
    }
}

#[test]
fn no_redirect_is_followed_and_the_token_stays_home() {
    for status in [301, 302, 303, 307, 308] {
        let other = elsewhere();
        let endpoint = Origin::http(status, redirect_to(&other, "http"));
        let builder = ids(format!("http://127.0.0.1:{}", endpoint.port)).token(TOKEN);
        ship_three_and_check(builder, status, &endpoint);
        assert_eq!(other.seen().len(), 0, "HTTP {status} was followed");
        let sent = &endpoint.seen()[0];
        assert_eq!(
            (sent.method.as_str(), sent.header("x-auth-token")),
            ("POST", Some(TOKEN))
        );
        assert!(sent.path.ends_with("/high-accuracy"), "{}", sent.path);
    }
}

#[test]
fn an_https_endpoint_redirecting_to_http_gets_nothing_followed() {
    let other = elsewhere();
    let endpoint = Origin::https(302, redirect_to(&other, "http"));
    let builder = ids(format!("https://127.0.0.1:{}", endpoint.port))
        .token(TOKEN)
        .ca_file(origin::cert_path());
    ship_three_and_check(builder, 302, &endpoint);
    assert_eq!(other.seen().len(), 0);
}

#[test]
fn a_signed_request_is_not_replayed_elsewhere() {
    let other = elsewhere();
    let endpoint = Origin::http(307, redirect_to(&other, "http"));
    let builder = ids(format!("http://127.0.0.1:{}", endpoint.port)).access_key("AK0123456789", "SK-SECRET-abcdef");
    ship_three_and_check(builder, 307, &endpoint);
    assert_eq!(other.seen().len(), 0);
    assert!(endpoint.seen()[0].header("authorization").is_some());
}

/// Ships one record with `builder` (2 quick tries), flushes and shuts down;
/// returns the flush's result and the diagnostics.
fn ship_one(builder: lts_core::ConfigBuilder) -> (Result<(), FlushError>, common::Seen) {
    let (seen, h) = hook();
    let config = builder
        .retry(retry(2))
        .linger(Duration::from_millis(5))
        .error_hook(h)
        .build()
        .unwrap();
    let (shipper, guard) = Shipper::start(config).unwrap();
    shipper
        .send(Record::new(shipper.now_ns(), Level::Info, "t", "m"))
        .unwrap();
    let flushed = shipper.flush(Duration::from_secs(5));
    drop(guard);
    (flushed, seen)
}

#[test]
fn iam_redirecting_the_password_elsewhere_is_not_followed() {
    let other = elsewhere();
    let iam = Origin::http(307, redirect_to(&other, "http"));
    let endpoint = elsewhere();
    let (flushed, seen) = ship_one(
        ids(format!("http://127.0.0.1:{}", endpoint.port))
            .iam("user", "PASSWORD-SECRET-xyz", "domain")
            .iam_endpoint(format!("http://127.0.0.1:{}", iam.port)),
    );
    assert_eq!(flushed, Err(FlushError::Lost { lost: 1 }));
    assert_eq!(other.seen().len(), 0, "the password followed the redirect");
    assert_eq!(endpoint.seen().len(), 0, "nothing is sent without a token");
    assert!(iam.seen()[0].body.windows(8).any(|w| w == b"PASSWORD"));
    let creds = kinds(&seen, DiagnosticKind::Credentials);
    assert!(creds.iter().any(|m| m.contains("HTTP 307")), "{creds:?}");
    for d in seen.lock().unwrap().iter() {
        assert!(!d.message.contains("PASSWORD"), "{d:?}");
    }
}

#[test]
fn an_untrusted_certificate_is_reported_as_one_and_names_the_fix() {
    let endpoint = Origin::https(200, vec![]);
    let (flushed, seen) = ship_one(ids(format!("https://127.0.0.1:{}", endpoint.port)).token(TOKEN));
    assert_eq!(flushed, Err(FlushError::Lost { lost: 1 }));
    assert_eq!(endpoint.seen().len(), 0);
    let exhausted = kinds(&seen, DiagnosticKind::RetriesExhausted);
    assert_eq!(exhausted.len(), 1, "{exhausted:?}");
    let m = &exhausted[0];
    assert!(m.contains("TLS certificate was not accepted"), "{m}");
    assert!(
        m.contains("LTS_CA_FILE") && m.contains("LTS_INSECURE_SKIP_VERIFY"),
        "{m}"
    );
}

#[test]
fn a_leaf_certificate_given_as_ca_file_is_trusted() {
    let endpoint = Origin::https(200, vec![]);
    let (flushed, _) = ship_one(
        ids(format!("https://127.0.0.1:{}", endpoint.port))
            .token(TOKEN)
            .ca_file(origin::cert_path()),
    );
    assert_eq!(flushed, Ok(()));
    assert_eq!(endpoint.seen().len(), 1);
}
