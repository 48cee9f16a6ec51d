//! Shared by the test binaries: configs pointing at an lts-mock, a hook that
//! collects diagnostics, and what the mock received, parsed.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lts_core::{Compression, Config, ConfigBuilder, Diagnostic, DiagnosticKind, RetryPolicy};
use lts_mock::{MockLts, RequestLog};

/// Every compression this build can do (gzip and snappy need their Cargo
/// features).
pub const COMPRESSIONS: &[Compression] = &[
    #[cfg(feature = "gzip")]
    Compression::Gzip,
    #[cfg(feature = "snappy")]
    Compression::Snappy,
    Compression::None,
];

/// The mock's ids, shipping to `endpoint`; no credentials, every other
/// setting its default.
pub fn ids(endpoint: impl Into<String>) -> ConfigBuilder {
    Config::builder()
        .endpoint(endpoint)
        .project_id(lts_mock::PROJECT_ID)
        .log_group_id(lts_mock::LOG_GROUP_ID)
        .log_stream_id(lts_mock::LOG_STREAM_ID)
}

/// A config for `mock` without credentials: its endpoint and ids, a short
/// linger (5 ms) and a fast retry policy (4 tries, 1 to 5 ms apart).
pub fn base(mock: &MockLts) -> ConfigBuilder {
    ids(mock.endpoint())
        .linger(Duration::from_millis(5))
        .retry(RetryPolicy {
            max_tries: 4,
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
        })
}

/// A config for `mock`: [`base`] with the mock's static token. Tests chain
/// what they need otherwise.
pub fn config(mock: &MockLts) -> ConfigBuilder {
    base(mock).token(mock.token())
}

/// `max_tries` tries, 1 to 10 ms apart.
pub fn retry(max_tries: u32) -> RetryPolicy {
    RetryPolicy {
        max_tries,
        base: Duration::from_millis(1),
        max: Duration::from_millis(10),
    }
}

/// The diagnostics a [`hook`] collected.
pub type Seen = Arc<Mutex<Vec<Diagnostic>>>;

/// An error hook that collects diagnostics for assertions, and what it
/// collected.
pub fn hook() -> (Seen, impl Fn(&Diagnostic) + Send + Sync + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (seen, move |d: &Diagnostic| s.lock().unwrap().push(d.clone()))
}

/// The messages of the collected diagnostics of one kind.
pub fn kinds(seen: &Mutex<Vec<Diagnostic>>, kind: DiagnosticKind) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| d.message.clone())
        .collect()
}

/// A received line, parsed; panics naming the line's length and end (lines
/// may be megabytes) if it is not JSON.
pub fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| {
        let end: String = line
            .chars()
            .rev()
            .take(80)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        panic!("not JSON ({e}), {} bytes ending in {end:?}", line.len())
    })
}

/// The message of a received line.
pub fn message_of(line: &str) -> String {
    json(line)["message"].as_str().unwrap().to_owned()
}

/// The events the mock kept, but the pipeline's own drop reports, as (time,
/// message), in arrival order.
pub fn received(mock: &MockLts) -> Vec<(u64, String)> {
    mock.events()
        .iter()
        .map(|e| (e.time_ns, json(&e.line)))
        .filter(|(_, v)| v["target"] != "lts")
        .map(|(t, v)| (t, v["message"].as_str().unwrap().to_owned()))
        .collect()
}

/// [`received`], sorted by time as LTS sorts a stream: with several
/// requests out at once, batches arrive in any order.
pub fn received_by_time(mock: &MockLts) -> Vec<(u64, String)> {
    let mut got = received(mock);
    got.sort_by_key(|(t, _)| *t);
    got
}

/// The pipeline's in-band drop reports the mock kept, as JSON.
pub fn drop_reports(mock: &MockLts) -> Vec<serde_json::Value> {
    mock.events()
        .iter()
        .map(|e| json(&e.line))
        .filter(|v| v["target"] == "lts")
        .collect()
}

/// Groups the request log by batch (body hash), in the order each batch
/// was first sent, whatever else went out between its attempts (several
/// requests are out at once), and checks that every attempt but the last of
/// each batch failed (or was a slow answer the client gave up on) and that
/// the attempts of one batch carried the same number of events.
pub fn attempts_by_batch(requests: &[RequestLog]) -> Vec<Vec<RequestLog>> {
    let mut batches: Vec<Vec<RequestLog>> = Vec::new();
    for r in requests {
        assert_ne!(r.body_sha256_or_hash, 0, "request {} has no hash", r.index);
        match batches
            .iter_mut()
            .find(|b| b[0].body_sha256_or_hash == r.body_sha256_or_hash)
        {
            Some(b) => b.push(r.clone()),
            None => batches.push(vec![r.clone()]),
        }
    }
    for attempts in &batches {
        check_attempts(attempts);
    }
    batches
}

fn check_attempts(run: &[RequestLog]) {
    for (i, r) in run.iter().enumerate() {
        assert_eq!(
            r.events, run[0].events,
            "an attempt of the batch of request {} changed",
            run[0].index
        );
        let gave_up = r.status != 200 || r.fault.as_deref().is_some_and(|f| f.starts_with("delay"));
        if i + 1 < run.len() {
            assert!(gave_up, "request {} succeeded yet was sent again", r.index);
        }
    }
}

/// Splits the request log into runs of attempts at one batch (consecutive
/// requests with the same body hash) and checks that each batch was sent in
/// one run only, that every attempt but the last of a run failed (or was a
/// slow answer the client gave up on), and that attempts of one batch
/// carried the same number of events. Returns the runs.
pub fn attempt_runs(requests: &[RequestLog]) -> Vec<Vec<RequestLog>> {
    let mut runs: Vec<Vec<RequestLog>> = Vec::new();
    for r in requests {
        assert_ne!(r.body_sha256_or_hash, 0, "request {} has no hash", r.index);
        match runs.last_mut() {
            Some(run) if run[0].body_sha256_or_hash == r.body_sha256_or_hash => run.push(r.clone()),
            _ => runs.push(vec![r.clone()]),
        }
    }
    let mut hashes: Vec<u64> = runs.iter().map(|r| r[0].body_sha256_or_hash).collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), runs.len(), "a batch was sent again after another batch");
    for run in &runs {
        check_attempts(run);
    }
    runs
}
