//! A service far away and busy: a delay on every answer, a rate limit, a mix
//! of random failures. Counts are exact; no test relies on how fast the
//! machine is.

mod common;

use std::io::Write;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use lts_mock::{error_codes as codes, Api, Failure, MockLts, RateLimit};

const WAIT: Duration = Duration::from_secs(10);

/// Sends one report on a fresh connection from each of `n` threads, all
/// released at once; returns each thread's raw answer (empty: EOF, no answer).
fn burst(mock: &MockLts, n: usize) -> Vec<String> {
    let barrier = Barrier::new(n);
    let body = ha_body(now_ns(), &["x", "y"]).to_string();
    let req = raw_request(mock, Api::HighAccuracy, body.as_bytes());
    thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    let mut c = connect(mock);
                    barrier.wait();
                    c.write_all(&req).unwrap();
                    c.shutdown(std::net::Shutdown::Write).unwrap();
                    String::from_utf8(read_to_eof(&mut c)).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn status_of(answer: &str) -> u16 {
    answer.get(9..12).map_or(0, |s| s.parse().unwrap())
}

#[test]
fn rate_limit_answers_429_above_the_limit_in_the_window() {
    let mock = MockLts::start().unwrap();
    // A minute-long window, so that the count does not depend on how fast
    // the burst goes out (the one-second window is pinned by the unit tests).
    mock.faults().rate_limit(Some(
        RateLimit::per_second(10)
            .window(Duration::from_secs(60))
            .retry_after(Duration::from_millis(1500)),
    ));
    let answers = burst(&mock, 30);
    let ok: Vec<&String> = answers.iter().filter(|a| status_of(a) == 200).collect();
    let limited: Vec<&String> = answers.iter().filter(|a| status_of(a) == 429).collect();
    assert_eq!((ok.len(), limited.len()), (10, 20), "{answers:?}");
    for a in &limited {
        // Whole seconds, rounded up; LTS's error body.
        assert!(a.contains("\r\nRetry-After: 2\r\n"), "{a}");
        assert!(
            a.contains(&format!("\"errorCode\":\"{}\"", codes::TOO_MANY_REQUESTS)),
            "{a}"
        );
    }
    assert!(!ok[0].contains("Retry-After"), "{}", ok[0]);

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 30);
    let faults: Vec<Option<&str>> = reqs.iter().map(|r| r.fault.as_deref()).collect();
    assert_eq!(faults.iter().filter(|f| **f == Some("rate_limit")).count(), 20);
    assert_eq!(faults.iter().filter(|f| f.is_none()).count(), 10);
    // The first ten to arrive went through, the rest were refused.
    for r in &reqs {
        let expect = if r.index < 10 { 200 } else { 429 };
        assert_eq!(r.status, expect, "request {}", r.index);
    }
    assert_eq!(mock.event_count(), 20);

    // Still full: one more is refused; without the limit it goes through.
    assert_eq!(status_of(&burst(&mock, 1)[0]), 429);
    mock.faults().rate_limit(None);
    assert_eq!(status_of(&burst(&mock, 1)[0]), 200);
}

#[test]
fn clear_removes_the_rate_limit_and_the_delay() {
    let mock = MockLts::start().unwrap();
    mock.faults().rate_limit(Some(RateLimit::per_second(0)));
    mock.faults().delay_all(Duration::from_secs(60));
    mock.faults().clear();
    let answers = burst(&mock, 3);
    assert!(answers.iter().all(|a| status_of(a) == 200), "{answers:?}");
    assert!(mock.requests().iter().all(|r| r.fault.is_none()));
}

#[test]
fn delay_all_holds_concurrent_requests_side_by_side() {
    let mock = MockLts::start().unwrap();
    // Far longer than the wait below: no answer can come before it ends.
    mock.faults().delay_all(Duration::from_secs(600));
    let body = ha_body(now_ns(), &["x"]).to_string();
    let req = raw_request(&mock, Api::HighAccuracy, body.as_bytes());
    let mut conns: Vec<_> = (0..4).map(|_| connect(&mock)).collect();
    for c in &mut conns {
        c.write_all(&req).unwrap();
    }
    // All four are taken in (each is recorded before its wait) while none is
    // answered: they wait side by side, not one after another.
    assert!(mock.wait_for_requests(4, WAIT), "{} of 4", mock.request_count());
    let reqs = mock.requests();
    assert!(reqs.iter().all(|r| r.fault.as_deref() == Some("delay")));
    assert!(reqs.iter().all(|r| r.status == 200));
    // Shutting down ends the waits: EOF, no answer.
    mock.shutdown();
    for c in &mut conns {
        assert_eq!(read_to_eof(c), b"");
    }
}

#[test]
fn delay_all_delays_every_answer_until_turned_off() {
    let mock = MockLts::start().unwrap();
    let d = Duration::from_millis(300);
    mock.faults().delay_all(d);
    let barrier = Barrier::new(4);
    let latencies: Vec<(u16, Duration)> = thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let t = Instant::now();
                    let a = post_json(&mock, Api::HighAccuracy, &ha_body(now_ns(), &["x"]));
                    (a.status, t.elapsed())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, took) in &latencies {
        assert_eq!(*status, 200);
        assert!(*took >= d, "answered after {took:?}");
    }
    assert_eq!(mock.event_count(), 4);
    // delay_next takes precedence over it, then it applies again.
    mock.faults().delay_next(1, Duration::ZERO);
    mock.faults().delay_all(Duration::ZERO);
    post_json(&mock, Api::HighAccuracy, &ha_body(now_ns(), &["x"]));
    post_json(&mock, Api::HighAccuracy, &ha_body(now_ns(), &["x"]));
    let faults: Vec<Option<String>> = mock.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(faults[4].as_deref(), Some("delay"));
    assert_eq!(faults[5], None);
}

fn mix_pattern(seed: u64) -> Vec<(u16, Option<String>)> {
    let mock = MockLts::start().unwrap();
    mock.faults().fail_fraction_mix(
        1.0,
        &[
            Failure::Status(500),
            Failure::Status(503),
            Failure::Status(429),
            Failure::Drop,
        ],
        seed,
    );
    let body = ha_body(now_ns(), &["x"]).to_string();
    for _ in 0..40 {
        let mut c = connect(&mock);
        c.write_all(&raw_request(&mock, Api::HighAccuracy, body.as_bytes()))
            .unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let answer = String::from_utf8(read_to_eof(&mut c)).unwrap();
        let logged = mock.requests().last().unwrap().status;
        assert_eq!(status_of(&answer), logged, "{answer}");
    }
    assert_eq!(mock.event_count(), 0);
    mock.requests().into_iter().map(|r| (r.status, r.fault)).collect()
}

#[test]
fn fail_fraction_mix_spreads_hits_over_the_answers_by_seed() {
    let a = mix_pattern(11);
    assert_eq!(a, mix_pattern(11));
    for (status, fault) in [
        (500, "fail_fraction"),
        (503, "fail_fraction"),
        (429, "fail_fraction"),
        (0, "fail_fraction_drop"),
    ] {
        let n = a
            .iter()
            .filter(|(s, f)| *s == status && f.as_deref() == Some(fault))
            .count();
        assert!(n > 0, "no {status} ({fault}) in {a:?}");
    }
    assert_eq!(a.len(), 40);
    assert_ne!(a, mix_pattern(12));
}
