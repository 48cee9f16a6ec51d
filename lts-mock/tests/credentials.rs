//! The IAM stand-in and AK/SK signature verification.

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use hmac::{Hmac, KeyInit, Mac};
use lts_mock::{error_codes as codes, Api, MockLts, CONTENT_TYPE, PROJECT_ID};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const WRONG: &str = r#"{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}"#;

fn mock() -> MockLts {
    MockLts::builder()
        .iam_user("alice", "alice-pw", "acme")
        .iam_user("bob", "bob-pw", "other")
        .access_key("AK1", "SK1-secret")
        .build()
        .unwrap()
}

fn token_body(user: &str, password: &str, domain: &str, project: &str) -> Value {
    json!({"auth":{"identity":{"methods":["password"],
        "password":{"user":{"name":user,"password":password,"domain":{"name":domain}}}},
        "scope":{"project":{"id":project}}}})
}

/// An IAM answer: status, `X-Subject-Token`, `Content-Type`, body.
#[derive(Debug)]
struct IamAnswer {
    status: u16,
    token: Option<String>,
    content_type: Option<String>,
    body: String,
    json: Value,
}

fn iam_raw(mock: &MockLts, method: &str, target: &str, content_type: Option<&str>, body: &[u8]) -> IamAnswer {
    let url = format!("{}{target}", mock.iam_endpoint());
    let agent = agent();
    let mut resp = if method == "POST" {
        let mut req = agent.post(&url);
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        req.send(body).expect("transport")
    } else {
        agent.get(&url).call().expect("transport")
    };
    let header = |n: &str| resp.headers().get(n).map(|v| v.to_str().unwrap().to_string());
    let (token, content_type) = (header("X-Subject-Token"), header("Content-Type"));
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    IamAnswer {
        status,
        token,
        content_type,
        body,
        json,
    }
}

fn iam(mock: &MockLts, body: &Value) -> IamAnswer {
    iam_raw(
        mock,
        "POST",
        "/v3/auth/tokens?nocatalog=true",
        Some("application/json;charset=UTF-8"),
        body.to_string().as_bytes(),
    )
}

fn new_token(mock: &MockLts) -> String {
    let a = iam(mock, &token_body("alice", "alice-pw", "acme", PROJECT_ID));
    assert_eq!(a.status, 201, "{}", a.body);
    a.token.unwrap()
}

fn report_with_token(mock: &MockLts, token: &str) -> Answer {
    let body = ha_body(now_ns(), &["a line"]).to_string();
    send(
        &agent(),
        &mock.url(Api::HighAccuracy),
        &[("X-Auth-Token", token), ("Content-Type", CONTENT_TYPE)],
        body.as_bytes(),
    )
}

/// Checks an IAM error answer's shape and returns its message.
fn iam_error(a: &IamAnswer, status: u16) -> String {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.token, None);
    assert_eq!(a.json["error"]["code"], status, "{}", a.body);
    assert!(a.json["error"]["title"].is_string(), "{}", a.body);
    a.json["error"]["message"].as_str().unwrap().to_string()
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` to microseconds since the epoch.
fn parse_micros(s: &str) -> u64 {
    let b = s.as_bytes();
    assert_eq!(s.len(), 27, "{s}");
    assert_eq!(
        (b[4], b[7], b[10], b[13], b[16], b[19], b[26]),
        (b'-', b'-', b'T', b':', b':', b'.', b'Z'),
        "{s}"
    );
    let n = |r: std::ops::Range<usize>| s[r].parse::<u64>().unwrap();
    let days = days_from_civil(n(0..4) as i64, n(5..7) as u32, n(8..10) as u32);
    (days as u64 * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)) * 1_000_000 + n(20..26)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

// ---------------------------------------------------------------- IAM

#[test]
fn a_password_identity_gets_a_new_unique_token_with_its_times() {
    let mock = mock();
    let before_us = now_ns() / 1_000;
    let a = iam(&mock, &token_body("alice", "alice-pw", "acme", PROJECT_ID));
    let after_us = now_ns() / 1_000;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.content_type.as_deref(), Some("application/json;charset=UTF-8"));
    let t1 = a.token.clone().unwrap();
    assert!(t1.len() >= 1_200, "{}", t1.len());
    assert!(t1.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let issued = parse_micros(a.json["token"]["issued_at"].as_str().unwrap());
    let expires = parse_micros(a.json["token"]["expires_at"].as_str().unwrap());
    assert!(
        issued >= before_us && issued <= after_us,
        "{issued} not in {before_us}..={after_us}"
    );
    assert_eq!(expires - issued, 24 * 3600 * 1_000_000);

    let t2 = iam(&mock, &token_body("bob", "bob-pw", "other", PROJECT_ID))
        .token
        .unwrap();
    assert_ne!(t1, t2);
    assert_ne!(t1[..8], t2[..8], "the logged prefixes must tell tokens apart");
    assert_ne!(t1, mock.token());
    assert_eq!((mock.iam_requests(), mock.iam_tokens_issued()), (2, 2));

    let logs = mock.requests();
    assert_eq!(logs.len(), 2);
    let l = &logs[0];
    assert!(l.iam);
    assert_eq!(
        (l.method.as_str(), l.path.as_str()),
        ("POST", "/v3/auth/tokens?nocatalog=true")
    );
    assert_eq!((l.status, l.error_code.as_deref()), (201, None));
    assert_eq!(l.auth.as_deref(), Some("password:alice"));
    assert_eq!(l.body_sha256_or_hash, 0, "a body holding a password is not hashed");
    assert_eq!((l.api, l.events), (None, 0));
    assert_eq!(logs[1].auth.as_deref(), Some("password:bob"));
    assert_eq!((mock.stats().requests, mock.stats().accepted_requests), (2, 0));
}

#[test]
fn an_issued_token_is_accepted_and_the_log_shows_which_one() {
    let mock = mock();
    let t1 = new_token(&mock);
    let t2 = new_token(&mock);
    assert_eq!(report_with_token(&mock, &t1).status, 200);
    assert_eq!(report_with_token(&mock, &t2).status, 200);
    let static_token = mock.token();
    assert_eq!(report_with_token(&mock, &static_token).status, 200);
    let auths: Vec<Option<String>> = mock.requests().into_iter().filter(|r| !r.iam).map(|r| r.auth).collect();
    assert_eq!(
        auths,
        vec![
            Some(format!("token:{}", &t1[..8])),
            Some(format!("token:{}", &t2[..8])),
            Some(format!("token:{}", &static_token[..8])),
        ]
    );
    assert_eq!(mock.event_count(), 3);
}

#[test]
fn a_wrong_password_user_or_domain_is_refused_with_iams_answer() {
    let mock = mock();
    for (u, p, d) in [
        ("alice", "wrong", "acme"),
        ("nobody", "alice-pw", "acme"),
        ("alice", "alice-pw", "other"),
        // bob's password does not open alice's account, nor the reverse
        ("alice", "bob-pw", "acme"),
        ("bob", "alice-pw", "other"),
    ] {
        let a = iam(&mock, &token_body(u, p, d, PROJECT_ID));
        assert_eq!(a.status, 401, "{u}/{d}");
        assert_eq!(a.token, None);
        assert_eq!(a.json, serde_json::from_str::<Value>(WRONG).unwrap(), "{u}/{d}");
        assert_eq!(a.content_type.as_deref(), Some("application/json;charset=UTF-8"));
    }
    assert_eq!((mock.iam_requests(), mock.iam_tokens_issued()), (5, 0));
    let l = &mock.requests()[0];
    assert_eq!((l.status, l.error_code.as_deref()), (401, Some("401")));
    assert_eq!(l.error_msg.as_deref(), Some("The username or password is wrong."));
}

#[test]
fn with_no_user_registered_every_token_request_is_refused() {
    let mock = MockLts::start().unwrap();
    let a = iam(&mock, &token_body("alice", "alice-pw", "acme", PROJECT_ID));
    assert_eq!(a.status, 401);
    assert_eq!(a.body, WRONG);
}

#[test]
fn a_body_not_of_the_documented_shape_is_400() {
    let mock = mock();
    let good = token_body("alice", "alice-pw", "acme", PROJECT_ID);
    let mut bad: Vec<(String, Vec<u8>)> = Vec::new();
    let mut variant = |what: &str, f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        bad.push((what.to_string(), v.to_string().into_bytes()));
    };
    variant("methods token", &|v| {
        v["auth"]["identity"]["methods"] = json!(["token"])
    });
    variant("methods two", &|v| {
        v["auth"]["identity"]["methods"] = json!(["password", "password"])
    });
    variant("methods string", &|v| {
        v["auth"]["identity"]["methods"] = json!("password")
    });
    variant("no scope", &|v| {
        v["auth"].as_object_mut().unwrap().remove("scope");
    });
    variant("other project", &|v| {
        v["auth"]["scope"]["project"]["id"] = json!("ffffffffffffffffffffffffffffffff")
    });
    variant("project by name", &|v| {
        v["auth"]["scope"]["project"] = json!({"name": "eu-de"})
    });
    variant("domain scope", &|v| {
        v["auth"]["scope"] = json!({"domain": {"name": "acme"}})
    });
    variant("extra field", &|v| {
        v["auth"]["identity"]["password"]["user"]["id"] = json!("x")
    });
    variant("extra top field", &|v| v["extra"] = json!(1));
    variant("password number", &|v| {
        v["auth"]["identity"]["password"]["user"]["password"] = json!(1)
    });
    variant("empty name", &|v| {
        v["auth"]["identity"]["password"]["user"]["name"] = json!("")
    });
    variant("domain string", &|v| {
        v["auth"]["identity"]["password"]["user"]["domain"] = json!("acme")
    });
    variant("domain id", &|v| {
        v["auth"]["identity"]["password"]["user"]["domain"] = json!({"id": "d"})
    });
    variant("no password", &|v| {
        v["auth"]["identity"]["password"]["user"]
            .as_object_mut()
            .unwrap()
            .remove("password");
    });
    bad.push(("not JSON".into(), b"{\"auth\":".to_vec()));
    bad.push(("array".into(), b"[]".to_vec()));
    bad.push(("empty".into(), Vec::new()));
    for (what, body) in &bad {
        let a = iam_raw(
            &mock,
            "POST",
            "/v3/auth/tokens?nocatalog=true",
            Some("application/json"),
            body,
        );
        let msg = iam_error(&a, 400);
        assert_eq!(a.json["error"]["title"], "Bad Request");
        assert!(
            !msg.contains("alice-pw"),
            "{what}: the message repeats the password: {msg}"
        );
    }
    assert_eq!(mock.iam_tokens_issued(), 0);
    assert_eq!(mock.iam_requests(), bad.len());
}

#[test]
fn the_content_type_must_be_json_with_an_optional_utf8_charset() {
    let mock = mock();
    let body = token_body("alice", "alice-pw", "acme", PROJECT_ID).to_string();
    let path = "/v3/auth/tokens?nocatalog=true";
    for ok in [
        "application/json",
        "application/json;charset=UTF-8",
        "application/json; charset=utf-8",
    ] {
        assert_eq!(
            iam_raw(&mock, "POST", path, Some(ok), body.as_bytes()).status,
            201,
            "{ok}"
        );
    }
    for bad in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json;charset=ISO-8859-1",
    ] {
        iam_error(&iam_raw(&mock, "POST", path, Some(bad), body.as_bytes()), 400);
    }
    iam_error(&iam_raw(&mock, "POST", path, None, body.as_bytes()), 400);
}

#[test]
fn only_post_with_nocatalog_is_served() {
    let mock = mock();
    let body = token_body("alice", "alice-pw", "acme", PROJECT_ID).to_string();
    let ct = Some("application/json");
    iam_error(&iam_raw(&mock, "POST", "/v3/auth/tokens", ct, body.as_bytes()), 400);
    iam_error(
        &iam_raw(&mock, "POST", "/v3/auth/tokens?nocatalog=false", ct, body.as_bytes()),
        400,
    );
    assert_eq!(
        iam_raw(&mock, "POST", "/v3/auth/tokens?a=1&nocatalog=true", ct, body.as_bytes()).status,
        201
    );
    iam_error(&iam_raw(&mock, "GET", "/v3/auth/tokens?nocatalog=true", None, b""), 405);
    // Another IAM path is not served (an LTS-style 404).
    let a = iam_raw(&mock, "POST", "/v3/auth/projects", ct, body.as_bytes());
    assert_eq!(a.status, 404);
    assert_eq!(a.json["errorCode"], codes::NOT_FOUND);
    assert_eq!(mock.iam_requests(), 4);
}

#[test]
fn a_token_ends_at_its_lifetime_which_applies_to_tokens_issued_later() {
    let mock = mock();
    let long = new_token(&mock);
    mock.set_token_lifetime(Duration::from_millis(300));
    let a = iam(&mock, &token_body("alice", "alice-pw", "acme", PROJECT_ID));
    let short = a.token.unwrap();
    let issued = parse_micros(a.json["token"]["issued_at"].as_str().unwrap());
    let expires = parse_micros(a.json["token"]["expires_at"].as_str().unwrap());
    assert_eq!(expires - issued, 300_000);
    assert_eq!(report_with_token(&mock, &short).status, 200);
    // Only to let the short lifetime pass.
    std::thread::sleep(Duration::from_millis(350));
    let r = report_with_token(&mock, &short);
    assert_eq!((r.status, r.code()), (401, codes::TOKEN));
    assert!(r.json["error_msg"].as_str().unwrap().contains("expired"), "{}", r.body);
    assert_eq!(report_with_token(&mock, &long).status, 200);
    assert_eq!(mock.event_count(), 2);
}

#[test]
fn revoked_tokens_are_refused_and_later_ones_accepted() {
    let mock = mock();
    let t1 = new_token(&mock);
    let t2 = new_token(&mock);
    assert_eq!(report_with_token(&mock, &t1).status, 200);
    mock.revoke_tokens();
    for t in [&t1, &t2] {
        let r = report_with_token(&mock, t);
        assert_eq!((r.status, r.code()), (401, codes::TOKEN), "{}", r.body);
    }
    let t3 = new_token(&mock);
    assert_eq!(report_with_token(&mock, &t3).status, 200);
    assert_eq!(
        report_with_token(&mock, &mock.token()).status,
        200,
        "the static token is not revoked"
    );
    let statuses: Vec<(bool, u16)> = mock.requests().iter().map(|r| (r.iam, r.status)).collect();
    assert_eq!(
        statuses,
        vec![
            (true, 201),
            (true, 201),
            (false, 200),
            (false, 401),
            (false, 401),
            (true, 201),
            (false, 200),
            (false, 200)
        ]
    );
    // A made-up token in the same shape is refused too.
    let mut forged = t3.clone();
    forged.pop();
    forged.push(if t3.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(report_with_token(&mock, &forged).status, 401);
}

#[test]
fn set_token_and_expiry_of_the_static_token_leave_issued_tokens_alone() {
    let mock = mock();
    let t = new_token(&mock);
    mock.faults().set_token("another-static-token");
    mock.faults().expire_token_after(0);
    assert_eq!(report_with_token(&mock, &t).status, 200);
    assert_eq!(report_with_token(&mock, "another-static-token").status, 401);
}

#[test]
fn fail_iam_next_fails_only_token_requests_with_iams_body() {
    let mock = mock();
    mock.faults().fail_iam_next(2, 503);
    assert_eq!(report_with_token(&mock, &mock.token()).status, 200);
    let a = iam(&mock, &token_body("alice", "alice-pw", "acme", PROJECT_ID));
    iam_error(&a, 503);
    assert_eq!(a.json["error"]["title"], "Service Unavailable");
    iam_error(&iam(&mock, &token_body("alice", "alice-pw", "acme", PROJECT_ID)), 503);
    new_token(&mock);
    assert_eq!(mock.iam_requests(), 3);
    let faults: Vec<Option<String>> = mock.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        vec![None, Some("fail_iam_next".into()), Some("fail_iam_next".into()), None]
    );
}

#[test]
fn the_general_faults_meet_token_requests_in_arrival_order() {
    let mock = mock();
    mock.faults().fail_next(1, 500);
    let a = iam(&mock, &token_body("alice", "alice-pw", "acme", PROJECT_ID));
    iam_error(&a, 500);
    assert_eq!(report_with_token(&mock, &mock.token()).status, 200);
    mock.faults().fail_request(3, 429);
    new_token(&mock);
    iam_error(&iam(&mock, &token_body("alice", "alice-pw", "acme", PROJECT_ID)), 429);
    let l = mock.requests();
    assert_eq!(l.iter().map(|r| r.index).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    assert_eq!(l[3].fault.as_deref(), Some("fail_request"));
    // A dropped token request: EOF, no answer.
    mock.faults().drop_next(1);
    let err = agent()
        .post(format!("{}/v3/auth/tokens?nocatalog=true", mock.iam_endpoint()))
        .header("Content-Type", "application/json")
        .send(token_body("alice", "alice-pw", "acme", PROJECT_ID).to_string())
        .unwrap_err();
    let _ = err;
    assert_eq!((mock.iam_requests(), mock.iam_tokens_issued()), (4, 1));
}

// ---------------------------------------------------------------- AK/SK

/// A small SDK-HMAC-SHA256 signer, independent of the mock's verifier.
struct Signer<'a> {
    ak: &'a str,
    sk: &'a str,
    date: String,
    /// Lower-case (name, value), signed in this order after sorting.
    signed: Vec<(String, String)>,
}

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn sdk_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // civil_from_days
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Signer<'_> {
    /// `query` must already be in canonical form (encoded, sorted).
    fn authorization(&self, method: &str, path: &str, query: &str, body: &[u8]) -> String {
        let mut signed = self.signed.clone();
        signed.sort();
        let mut canonical = format!("{method}\n{path}/\n{query}\n");
        for (n, v) in &signed {
            canonical.push_str(&format!("{n}:{}\n", v.trim()));
        }
        let names: Vec<&str> = signed.iter().map(|(n, _)| n.as_str()).collect();
        canonical.push_str(&format!("\n{}\n{}", names.join(";"), hex(&Sha256::digest(body))));
        let sts = format!(
            "SDK-HMAC-SHA256\n{}\n{}",
            self.date,
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.sk.as_bytes()).unwrap();
        mac.update(sts.as_bytes());
        format!(
            "SDK-HMAC-SHA256 Access={}, SignedHeaders={}, Signature={}",
            self.ak,
            names.join(";"),
            hex(&mac.finalize().into_bytes())
        )
    }
}

/// Headers of a report signed over `content-type;host;x-sdk-date`, as lts-core signs.
fn signer<'a>(mock: &MockLts, ak: &'a str, sk: &'a str, date: String) -> Signer<'a> {
    Signer {
        ak,
        sk,
        signed: vec![
            ("content-type".into(), CONTENT_TYPE.into()),
            ("host".into(), mock.addr().to_string()),
            ("x-sdk-date".into(), date.clone()),
        ],
        date,
    }
}

/// Sends `sent` with a signature over `signed_body` and these extra headers.
fn send_signed(mock: &MockLts, s: &Signer<'_>, signed_body: &[u8], sent: &[u8], extra: &[(&str, &str)]) -> Answer {
    let url = mock.url(Api::HighAccuracy);
    let path = &url[mock.endpoint().len()..];
    let authorization = s.authorization("POST", path, "", signed_body);
    let host = mock.addr().to_string();
    let mut headers = vec![
        ("Content-Type", CONTENT_TYPE),
        ("Host", host.as_str()),
        ("X-Sdk-Date", s.date.as_str()),
        ("Authorization", authorization.as_str()),
    ];
    headers.extend_from_slice(extra);
    send(&agent(), &url, &headers, sent)
}

fn now_date() -> String {
    sdk_date(SystemTime::now())
}

fn body() -> Vec<u8> {
    ha_body(now_ns(), &["signed line"]).to_string().into_bytes()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn the_test_signer_matches_the_published_vectors() {
    let s = Signer {
        ak: "AccessKey",
        sk: "SecretKey",
        date: "20060102T150405Z".into(),
        signed: vec![("x-sdk-date".into(), "20060102T150405Z".into())],
    };
    assert_eq!(
        s.authorization("GET", "/path", "limit=1", b""),
        "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, \
         Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
    );
    assert!(s
        .authorization("POST", "/path", "key=value", b"{\"Name\":\"test\",\"Id\":1}\n")
        .ends_with("Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"));
    assert_eq!(
        sdk_date(UNIX_EPOCH + Duration::from_secs(1_136_214_245)),
        "20060102T150405Z"
    );
}

#[test]
fn a_signed_report_is_accepted_plain_and_gzipped() {
    let mock = mock();
    let s = signer(&mock, "AK1", "SK1-secret", now_date());
    let plain = body();
    let r = send_signed(&mock, &s, &plain, &plain, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    // The signature covers the compressed bytes, as sent.
    let gz = gzip(&body());
    let r = send_signed(&mock, &s, &gz, &gz, &[("Content-Encoding", "gzip")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(mock.event_count(), 2);
    for l in mock.requests() {
        assert_eq!(l.auth.as_deref(), Some("aksk:AK1"));
        // The verifier saw the Host the client sent, not the relay's internal address.
        assert_eq!(l.host, Some(mock.addr().to_string()));
    }
}

#[test]
fn a_signature_over_the_decompressed_body_is_refused() {
    let mock = mock();
    let s = signer(&mock, "AK1", "SK1-secret", now_date());
    let plain = body();
    let r = send_signed(&mock, &s, &plain, &gzip(&plain), &[("Content-Encoding", "gzip")]);
    assert_eq!((r.status, r.code()), (401, codes::AKSK_BAD_SIGNATURE), "{}", r.body);
}

#[test]
fn a_changed_body_is_refused() {
    let mock = mock();
    let s = signer(&mock, "AK1", "SK1-secret", now_date());
    let signed = ha_body(now_ns(), &["what was signed"]).to_string();
    let sent = signed.replace("what was signed", "what was sent!!");
    let r = send_signed(&mock, &s, signed.as_bytes(), sent.as_bytes(), &[]);
    assert_eq!((r.status, r.code()), (401, codes::AKSK_BAD_SIGNATURE), "{}", r.body);
    assert_eq!(mock.event_count(), 0);
    assert_eq!(mock.requests()[0].auth.as_deref(), Some("aksk:AK1"));
}

#[test]
fn a_wrong_secret_or_unknown_access_key_is_refused() {
    let mock = mock();
    let b = body();
    let r = send_signed(&mock, &signer(&mock, "AK1", "SK1-wrong", now_date()), &b, &b, &[]);
    assert_eq!((r.status, r.code()), (401, codes::AKSK_BAD_SIGNATURE), "{}", r.body);
    let r = send_signed(&mock, &signer(&mock, "AK2", "SK1-secret", now_date()), &b, &b, &[]);
    assert_eq!((r.status, r.code()), (401, codes::AKSK_UNKNOWN_KEY), "{}", r.body);
    assert!(!r.body.contains("SK1"), "{}", r.body);
    assert_eq!(mock.event_count(), 0);
}

#[test]
fn a_stale_or_future_date_is_refused_and_a_near_one_accepted() {
    let mock = mock();
    let b = body();
    for (offset, ok) in [(-16 * 60, false), (16 * 60, false), (-10 * 60, true), (10 * 60, true)] {
        let t = if offset < 0 {
            SystemTime::now() - Duration::from_secs(-offset as u64)
        } else {
            SystemTime::now() + Duration::from_secs(offset as u64)
        };
        let r = send_signed(&mock, &signer(&mock, "AK1", "SK1-secret", sdk_date(t)), &b, &b, &[]);
        if ok {
            assert_eq!(r.status, 200, "{offset}: {}", r.body);
        } else {
            assert_eq!(
                (r.status, r.code()),
                (401, codes::AKSK_BAD_DATE),
                "{offset}: {}",
                r.body
            );
        }
    }
}

#[test]
fn the_date_must_be_signed_and_every_signed_header_present() {
    let mock = mock();
    let b = body();
    // x-sdk-date sent but not signed.
    let mut s = signer(&mock, "AK1", "SK1-secret", now_date());
    s.signed.retain(|(n, _)| n != "x-sdk-date");
    let r = send_signed(&mock, &s, &b, &b, &[]);
    assert_eq!((r.status, r.code()), (401, codes::AKSK_BAD_DATE), "{}", r.body);
    // A signed header that is not sent.
    let mut s = signer(&mock, "AK1", "SK1-secret", now_date());
    s.signed.push(("x-project-id".into(), PROJECT_ID.into()));
    let r = send_signed(&mock, &s, &b, &b, &[]);
    assert_eq!((r.status, r.code()), (401, codes::AKSK_MISSING_HEADER), "{}", r.body);
    // ... and once sent, accepted.
    let r = send_signed(&mock, &s, &b, &b, &[("X-Project-Id", PROJECT_ID)]);
    assert_eq!(r.status, 200, "{}", r.body);
    // A malformed date.
    let s = signer(&mock, "AK1", "SK1-secret", "2006-01-02T15:04:05Z".into());
    let r = send_signed(&mock, &s, &b, &b, &[]);
    assert_eq!((r.status, r.code()), (401, codes::AKSK_BAD_DATE), "{}", r.body);
}

#[test]
fn the_host_is_covered_by_the_signature() {
    let mock = mock();
    let b = body();
    let mut s = signer(&mock, "AK1", "SK1-secret", now_date());
    s.signed.retain(|(n, _)| n != "host");
    s.signed.push(("host".into(), "lts-access.eu-de.example:8102".into()));
    let r = send_signed(&mock, &s, &b, &b, &[]);
    assert_eq!((r.status, r.code()), (401, codes::AKSK_BAD_SIGNATURE), "{}", r.body);
}

#[test]
fn a_malformed_authorization_or_two_credentials_are_refused() {
    let mock = mock();
    let b = body();
    let url = mock.url(Api::HighAccuracy);
    let date = now_date();
    for bad in [
        "SDK-HMAC-SHA1 Access=AK1, SignedHeaders=x-sdk-date, Signature=00",
        "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date",
        "Bearer abc",
    ] {
        let r = send(
            &agent(),
            &url,
            &[
                ("Content-Type", CONTENT_TYPE),
                ("X-Sdk-Date", &date),
                ("Authorization", bad),
            ],
            &b,
        );
        assert_eq!((r.status, r.code()), (401, codes::AKSK_MALFORMED), "{bad}: {}", r.body);
    }
    // A valid signature and a valid token: ambiguous, refused.
    let token = mock.token();
    let r = send_signed(
        &mock,
        &signer(&mock, "AK1", "SK1-secret", date),
        &b,
        &b,
        &[("X-Auth-Token", &token)],
    );
    assert_eq!((r.status, r.code()), (401, codes::TWO_CREDENTIALS), "{}", r.body);
    let last = mock.requests().pop().unwrap();
    assert_eq!(last.auth, Some(format!("token:{}+aksk:AK1", &token[..8])));
}

#[test]
fn signed_requests_on_the_standard_endpoint_and_with_a_query_verify_too() {
    let mock = mock();
    let b = std_body(now_ns(), &["std"]).to_string().into_bytes();
    let url = mock.url(Api::Standard);
    let path = &url[mock.endpoint().len()..];
    let s = signer(&mock, "AK1", "SK1-secret", now_date());
    let host = mock.addr().to_string();
    let send_with = |signed_query: &str, sent_query: &str| {
        let auth = s.authorization("POST", path, signed_query, &b);
        send(
            &agent(),
            &format!("{url}?{sent_query}"),
            &[
                ("Content-Type", CONTENT_TYPE),
                ("Host", &host),
                ("X-Sdk-Date", &s.date),
                ("Authorization", &auth),
            ],
            &b,
        )
    };
    // The query is part of the canonical request, sorted and encoded.
    assert_eq!(send_with("a=1&b=x%20y", "b=x%20y&a=1").status, 200);
    assert_eq!(send_with("b=x%20y&a=1", "b=x%20y&a=1").status, 401);
    assert_eq!(send_with("", "b=x%20y&a=1").status, 401);
    assert_eq!(mock.event_count(), 1);
}
