//! Each fault kind, with exact counts.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use lts_mock::{error_codes as codes, Api, MockLts, CONTENT_TYPE};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

fn statuses(mock: &MockLts) -> Vec<u16> {
    mock.requests().iter().map(|r| r.status).collect()
}

#[test]
fn fail_next_answers_exactly_n_requests_with_the_status_and_body() {
    let mock = MockLts::start().unwrap();
    let body = ha_body(now_ns(), &["x"]);
    for (status, code) in [
        (429, codes::TOO_MANY_REQUESTS),
        (500, codes::INTERNAL_ERROR),
        (503, codes::SERVICE_UNAVAILABLE),
        (401, codes::TOKEN),
    ] {
        mock.faults().fail_next(2, status);
        for _ in 0..2 {
            let a = post_json(&mock, Api::HighAccuracy, &body);
            assert_eq!((a.status, a.code()), (status, code), "{}", a.body);
            assert!(a.json["error_msg"].is_string());
            assert_eq!(a.json["result"], Value::Null);
        }
        assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
    }
    assert_eq!(
        statuses(&mock),
        [429, 429, 200, 500, 500, 200, 503, 503, 200, 401, 401, 200]
    );
    // Injected answers record no event.
    assert_eq!(mock.event_count(), 4);
    let r = &mock.requests()[0];
    assert_eq!(r.fault.as_deref(), Some("fail_next"));
    assert_eq!(r.error_code.as_deref(), Some(codes::TOO_MANY_REQUESTS));
    assert_eq!(r.events, 1);
    assert_eq!(codes::TOO_MANY_REQUESTS.split('.').nth(2), Some("429"));
    assert_eq!(codes::SERVICE_UNAVAILABLE.split('.').nth(2), Some("503"));
}

#[test]
fn injected_failure_on_standard_endpoint_uses_error_message_key() {
    let mock = MockLts::start().unwrap();
    mock.faults().fail_next(1, 503);
    let a = post_json(&mock, Api::Standard, &std_body(now_ns(), &["x"]));
    assert_eq!((a.status, a.code()), (503, codes::SERVICE_UNAVAILABLE));
    assert!(a.json["errorMessage"].is_string());
    assert!(a.json.get("error_msg").is_none());
}

#[test]
fn injected_failure_preempts_validation_but_logs_the_body() {
    let mock = MockLts::start().unwrap();
    let body = ha_body(now_ns(), &["a", "b", "c"]);
    mock.faults().fail_next(1, 500);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 500);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
    let r = mock.requests();
    assert_eq!((r[0].events, r[1].events), (3, 3));
    assert_eq!(r[0].body_sha256_or_hash, r[1].body_sha256_or_hash);
    assert_ne!(r[0].body_sha256_or_hash, 0);
    // A different body hashes differently.
    post_json(&mock, Api::HighAccuracy, &ha_body(now_ns(), &["a", "b", "d"]));
    assert_ne!(mock.requests()[2].body_sha256_or_hash, r[1].body_sha256_or_hash);
    // Even a bad token gets the injected answer.
    mock.faults().fail_next(1, 429);
    let a = send(
        &agent(),
        &mock.url(Api::HighAccuracy),
        &[("Content-Type", CONTENT_TYPE)],
        b"{",
    );
    assert_eq!(a.status, 429);
    assert_eq!(mock.event_count(), 6);
}

#[test]
fn fail_request_hits_exactly_that_index() {
    let mock = MockLts::start().unwrap();
    mock.faults().fail_request(1, 503);
    mock.faults().fail_request(3, 429);
    let body = ha_body(now_ns(), &["x"]);
    for _ in 0..5 {
        post_json(&mock, Api::HighAccuracy, &body);
    }
    assert_eq!(statuses(&mock), [200, 503, 200, 429, 200]);
    let r = mock.requests();
    assert_eq!(r[1].fault.as_deref(), Some("fail_request"));
    assert_eq!(r[3].error_code.as_deref(), Some(codes::TOO_MANY_REQUESTS));
    assert_eq!(mock.event_count(), 3);
}

fn fraction_pattern(p: f64, seed: u64, n: usize) -> Vec<u16> {
    let mock = MockLts::start().unwrap();
    mock.faults().fail_fraction(p, 503, seed);
    let body = ha_body(now_ns(), &["x"]);
    (0..n)
        .map(|_| post_json(&mock, Api::HighAccuracy, &body).status)
        .collect()
}

#[test]
fn fail_fraction_is_deterministic_per_seed() {
    let a = fraction_pattern(0.5, 42, 40);
    let b = fraction_pattern(0.5, 42, 40);
    assert_eq!(a, b);
    let failed = a.iter().filter(|s| **s == 503).count();
    assert!((8..=32).contains(&failed), "{a:?}");
    assert!(a.iter().all(|s| *s == 200 || *s == 503));
    assert_ne!(a, fraction_pattern(0.5, 43, 40));
}

#[test]
fn fail_fraction_extremes_and_off() {
    assert_eq!(fraction_pattern(1.0, 7, 10), [503; 10]);
    assert_eq!(fraction_pattern(0.0, 7, 10), [200; 10]);
    let mock = MockLts::start().unwrap();
    mock.faults().fail_fraction(1.0, 500, 1);
    let body = ha_body(now_ns(), &["x"]);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 500);
    mock.faults().fail_fraction(0.0, 500, 1);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
    assert_eq!(mock.requests()[0].fault.as_deref(), Some("fail_fraction"));
}

#[test]
fn delay_next_delays_only_n_requests_and_does_not_stall_others() {
    let mock = Arc::new(MockLts::start().unwrap());
    let delay = Duration::from_millis(400);
    mock.faults().delay_next(1, delay);
    let body = ha_body(now_ns(), &["slow"]);
    let done = Arc::new(AtomicBool::new(false));
    let slow = {
        let (mock, done, body) = (Arc::clone(&mock), Arc::clone(&done), body.clone());
        thread::spawn(move || {
            let start = Instant::now();
            let a = post_json(&mock, Api::HighAccuracy, &body);
            done.store(true, Ordering::SeqCst);
            (a.status, start.elapsed())
        })
    };
    // The delayed request is recorded (with its event) before its wait.
    assert!(mock.wait_for_requests(1, WAIT));
    assert_eq!(mock.event_count(), 1);
    let a = post_json(&mock, Api::HighAccuracy, &ha_body(now_ns(), &["fast"]));
    assert_eq!(a.status, 200);
    assert!(!done.load(Ordering::SeqCst), "the fast request waited for the slow one");
    let (status, elapsed) = slow.join().unwrap();
    assert_eq!(status, 200);
    assert!(elapsed >= delay, "{elapsed:?}");
    let r = mock.requests();
    assert_eq!(r[0].fault.as_deref(), Some("delay"));
    assert_eq!(r[1].fault, None);
}

#[test]
fn delay_combines_with_an_injected_failure() {
    let mock = MockLts::start().unwrap();
    mock.faults().delay_next(1, Duration::from_millis(150));
    mock.faults().fail_next(1, 503);
    let start = Instant::now();
    let a = post_json(&mock, Api::HighAccuracy, &ha_body(now_ns(), &["x"]));
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert_eq!(a.status, 503);
    assert_eq!(mock.requests()[0].fault.as_deref(), Some("delay+fail_next"));
}

#[test]
fn drop_next_closes_the_connection_without_a_byte() {
    let mock = MockLts::start().unwrap();
    mock.faults().drop_next(2);
    let body = ha_body(now_ns(), &["x"]).to_string();

    // Raw keep-alive client: the whole request goes out, EOF comes back, no byte.
    let mut s = connect(&mock);
    s.write_all(&raw_request(&mock, Api::HighAccuracy, body.as_bytes()))
        .unwrap();
    assert_eq!(read_to_eof(&mut s), b"");

    // An HTTP client sees a transport error, not a status.
    let token = mock.token();
    let r = agent()
        .post(mock.url(Api::HighAccuracy))
        .header("X-Auth-Token", &token)
        .header("Content-Type", CONTENT_TYPE)
        .send(body.as_bytes());
    assert!(r.is_err(), "{r:?}");

    // Then it is over.
    assert_eq!(post(&mock, Api::HighAccuracy, body.as_bytes(), &[]).status, 200);
    let reqs = mock.requests();
    assert_eq!(statuses(&mock), [0, 0, 200]);
    assert_eq!(reqs[0].fault.as_deref(), Some("drop"));
    assert_eq!(reqs[0].error_code, None);
    assert_eq!(reqs[0].events, 1);
    assert_eq!(reqs[0].wire_bytes, body.len());
    assert_eq!(mock.event_count(), 1);
}

#[test]
fn drop_on_a_reused_connection_closes_only_that_connection() {
    let mock = MockLts::start().unwrap();
    let body = ha_body(now_ns(), &["x"]).to_string();
    let req = raw_request(&mock, Api::HighAccuracy, body.as_bytes());
    let mut s = connect(&mock);
    let first = raw_roundtrip(&mut s, &req);
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    let mut other = connect(&mock);
    mock.faults().drop_next(1);
    s.write_all(&req).unwrap();
    assert_eq!(read_to_eof(&mut s), b"");
    let again = raw_roundtrip(&mut other, &req);
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    assert_eq!(statuses(&mock), [200, 0, 200]);
}

#[test]
fn hang_next_holds_the_connection_until_shutdown() {
    let mock = MockLts::start().unwrap();
    mock.faults().hang_next(1);
    let body = ha_body(now_ns(), &["x"]).to_string();
    let mut hung = connect(&mock);
    hung.write_all(&raw_request(&mock, Api::HighAccuracy, body.as_bytes()))
        .unwrap();
    assert!(mock.wait_for_requests(1, WAIT));
    // Others are served meanwhile.
    assert_eq!(post(&mock, Api::HighAccuracy, body.as_bytes(), &[]).status, 200);
    let reqs = mock.requests();
    assert_eq!((reqs[0].status, reqs[0].fault.as_deref()), (0, Some("hang")));
    assert_eq!(mock.event_count(), 1);
    // Nothing has been answered on the hung connection: check without blocking.
    hung.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1];
    let e = std::io::Read::read(&mut hung, &mut buf).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
    hung.set_nonblocking(false).unwrap();

    mock.shutdown();
    assert_eq!(read_to_eof(&mut hung), b"");
}

#[test]
fn dropping_the_mock_releases_a_hung_request() {
    let mock = MockLts::start().unwrap();
    mock.faults().hang_next(1);
    let mut hung = connect(&mock);
    hung.write_all(&raw_request(
        &mock,
        Api::Standard,
        std_body(now_ns(), &["x"]).to_string().as_bytes(),
    ))
    .unwrap();
    assert!(mock.wait_for_requests(1, WAIT));
    drop(mock);
    assert_eq!(read_to_eof(&mut hung), b"");
}

#[test]
fn shutdown_ends_a_long_delay_without_an_answer() {
    let mock = MockLts::start().unwrap();
    mock.faults().delay_next(1, Duration::from_secs(600));
    let mut s = connect(&mock);
    s.write_all(&raw_request(
        &mock,
        Api::HighAccuracy,
        ha_body(now_ns(), &["x"]).to_string().as_bytes(),
    ))
    .unwrap();
    assert!(mock.wait_for_requests(1, WAIT));
    let start = Instant::now();
    mock.shutdown();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(read_to_eof(&mut s), b"");
}

#[test]
fn expire_token_after_n_accepted_requests() {
    let mock = MockLts::start().unwrap();
    let body = ha_body(now_ns(), &["x"]);
    let old = mock.token();
    mock.faults().expire_token_after(2);
    // A rejected request does not count towards the expiry.
    assert_eq!(post(&mock, Api::HighAccuracy, b"{", &[]).status, 400);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
    for _ in 0..2 {
        let a = post_json(&mock, Api::HighAccuracy, &body);
        assert_eq!((a.status, a.code()), (401, codes::TOKEN));
    }
    assert_eq!(mock.requests()[3].fault.as_deref(), Some("token_expired"));

    mock.faults().set_token("fresh-token");
    assert_eq!(mock.token(), "fresh-token");
    // The old token is now simply wrong; the new one works.
    let a = send(
        &agent(),
        &mock.url(Api::HighAccuracy),
        &[("X-Auth-Token", &old), ("Content-Type", CONTENT_TYPE)],
        body.to_string().as_bytes(),
    );
    assert_eq!((a.status, a.code()), (401, codes::TOKEN));
    assert_eq!(mock.requests()[5].fault, None);
    assert_ne!(old, mock.token());
    let token = mock.token();
    let a = send(
        &agent(),
        &mock.url(Api::HighAccuracy),
        &[("X-Auth-Token", &token), ("Content-Type", CONTENT_TYPE)],
        body.to_string().as_bytes(),
    );
    assert_eq!(a.status, 200);
    assert_eq!(statuses(&mock), [400, 200, 200, 401, 401, 401, 200]);
    assert_eq!(mock.event_count(), 3);
}

#[test]
fn expire_token_after_zero_expires_now_and_set_token_same_value_revives() {
    let mock = MockLts::start().unwrap();
    let body = ha_body(now_ns(), &["x"]);
    mock.faults().expire_token_after(0);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 401);
    mock.faults().set_token(mock.token());
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
}

#[test]
fn clear_removes_every_fault() {
    let mock = MockLts::start().unwrap();
    let f = mock.faults();
    f.fail_next(5, 500);
    f.fail_request(0, 503);
    f.fail_fraction(1.0, 429, 3);
    f.delay_next(5, Duration::from_secs(600));
    f.drop_next(5);
    f.hang_next(5);
    f.expire_token_after(0);
    f.clear();
    let body = ha_body(now_ns(), &["x"]);
    for _ in 0..3 {
        assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
    }
    assert!(mock.requests().iter().all(|r| r.fault.is_none()));
}

#[test]
fn shutdown_closes_idle_keep_alive_connections() {
    let mock = MockLts::start().unwrap();
    let mut s = connect(&mock);
    let req = raw_request(
        &mock,
        Api::HighAccuracy,
        ha_body(now_ns(), &["x"]).to_string().as_bytes(),
    );
    let resp = raw_roundtrip(&mut s, &req);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let addr = mock.addr();
    mock.shutdown();
    assert_eq!(read_to_eof(&mut s), b"");
    // And the port no longer accepts connections.
    assert!(std::net::TcpStream::connect(addr).is_err());
}
