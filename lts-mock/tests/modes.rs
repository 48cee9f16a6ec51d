//! Counting-only mode, the two-day window, waiting, callbacks and the builder.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use lts_mock::{
    default_token, error_codes as codes, Api, MockLts, ReceivedEvent, LOG_GROUP_ID, LOG_STREAM_ID, PROJECT_ID,
    WINDOW_NS,
};
use serde_json::json;

const NOW: u64 = 1_700_000_000_000_000_000;

#[test]
fn ids_and_token_constants() {
    assert_eq!(PROJECT_ID.len(), 32);
    assert_eq!(LOG_GROUP_ID.len(), 36);
    assert_eq!(LOG_STREAM_ID.len(), 36);
    let t = default_token();
    assert_eq!(t.len(), 1200);
    assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let mock = MockLts::start().unwrap();
    assert_eq!(mock.token(), t);
    assert_eq!(mock.endpoint(), format!("http://127.0.0.1:{}", mock.addr().port()));
    assert_ne!(mock.addr().port(), 0);
    assert_eq!(
        mock.url(Api::HighAccuracy),
        format!(
            "{}/v2/{PROJECT_ID}/lts/groups/{LOG_GROUP_ID}/streams/{LOG_STREAM_ID}/tenant/contents/high-accuracy",
            mock.endpoint()
        )
    );
}

#[test]
fn out_of_window_events_are_answered_200_and_discarded() {
    let mock = MockLts::builder().now_ns(|| NOW).build().unwrap();
    let body = json!({"contents":[
        {"log_time_ns": NOW - WINDOW_NS - 1, "log":"too old"},
        {"log_time_ns": NOW - WINDOW_NS, "log":"oldest kept"},
        {"log_time_ns": NOW, "log":"now"},
        {"log_time_ns": NOW + WINDOW_NS, "log":"latest kept"},
        {"log_time_ns": NOW + WINDOW_NS + 1, "log":"too new"},
        {"log_time_ns": 0, "log":"epoch"},
    ],"labels":{}});
    let a = post_json(&mock, Api::HighAccuracy, &body);
    assert_eq!((a.status, a.code()), (200, codes::SUCCESS));
    let lines: Vec<String> = mock.events().into_iter().map(|e| e.line).collect();
    assert_eq!(lines, ["oldest kept", "now", "latest kept"]);
    assert_eq!(mock.discarded_out_of_window(), 3);
    assert_eq!(mock.event_count(), 3);
    assert_eq!(mock.requests()[0].events, 6);
}

#[test]
fn standard_endpoint_window_applies_per_event_time() {
    let mock = MockLts::builder().now_ns(|| NOW).build().unwrap();
    // base + 0 and base + 1 are inside, base + 2 is one ns too far.
    let base = NOW + WINDOW_NS - 1;
    let a = post_json(&mock, Api::Standard, &std_body(base, &["in", "edge", "out"]));
    assert_eq!(a.status, 200);
    let got: Vec<(u64, String)> = mock.events().into_iter().map(|e| (e.time_ns, e.line)).collect();
    assert_eq!(got, [(base, "in".to_string()), (base + 1, "edge".to_string())]);
    assert_eq!(mock.discarded_out_of_window(), 1);
}

#[test]
fn all_events_out_of_window_still_200() {
    let mock = MockLts::builder().now_ns(|| NOW).build().unwrap();
    let a = post_json(
        &mock,
        Api::HighAccuracy,
        &ha_body(NOW - 3 * 86_400 * 1_000_000_000, &["a", "b"]),
    );
    assert_eq!(a.status, 200);
    assert_eq!(mock.event_count(), 0);
    assert_eq!(mock.discarded_out_of_window(), 2);
    assert_eq!(mock.stats().accepted_requests, 1);
}

#[test]
fn counting_only_stores_nothing_and_counts_everything() {
    let mock = MockLts::builder().counting_only(true).build().unwrap();
    let t = now_ns();
    let b1 = ha_body(t, &["a", "b", "c"]).to_string();
    let b2 = std_body(t, &["d", "e"]).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b2.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(post(&mock, Api::HighAccuracy, b1.as_bytes(), &[]).status, 200);
    assert_eq!(
        post(&mock, Api::Standard, &gz, &[("Content-Encoding", "gzip")]).status,
        200
    );
    // Still validated: headers, token, and the basic body shape.
    assert_eq!(post(&mock, Api::HighAccuracy, b"{", &[]).code(), codes::MALFORMED_JSON);
    assert_eq!(
        post_json(&mock, Api::HighAccuracy, &json!({"contents":[1]})).code(),
        codes::INVALID_LABELS
    );
    assert_eq!(
        post_json(&mock, Api::HighAccuracy, &json!({"contents":[],"labels":{}})).code(),
        codes::INVALID_CONTENTS
    );
    let a = send(
        &agent(),
        &mock.url(Api::HighAccuracy),
        &[("Content-Type", "application/json")],
        b1.as_bytes(),
    );
    assert_eq!(a.status, 401);

    assert!(mock.events().is_empty());
    assert!(mock.requests().is_empty());
    assert_eq!(mock.event_count(), 5);
    assert_eq!(mock.request_count(), 6);
    let s = mock.stats();
    assert_eq!(s.requests, 6);
    assert_eq!(s.accepted_requests, 2);
    assert_eq!(s.events, 5);
    assert_eq!(s.accepted_wire_bytes, (b1.len() + gz.len()) as u64);
    assert_eq!(s.accepted_decoded_bytes, (b1.len() + b2.len()) as u64);
    assert!(mock.wait_for_events(5, Duration::ZERO));
}

#[test]
fn counting_only_fault_still_applies() {
    let mock = MockLts::builder().counting_only(true).build().unwrap();
    mock.faults().fail_next(1, 503);
    let body = ha_body(now_ns(), &["a"]);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 503);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &body).status, 200);
    assert_eq!(mock.event_count(), 1);
    assert_eq!(mock.stats().accepted_requests, 1);
}

#[test]
fn wait_for_events_wakes_when_events_arrive() {
    let mock = Arc::new(MockLts::start().unwrap());
    let sender = {
        let mock = Arc::clone(&mock);
        thread::spawn(move || {
            for i in 0..3 {
                let line = format!("line {i}");
                assert_eq!(
                    post_json(&mock, Api::HighAccuracy, &ha_body(now_ns(), &[&line, "x"])).status,
                    200
                );
            }
        })
    };
    assert!(mock.wait_for_events(6, Duration::from_secs(10)));
    assert!(mock.event_count() >= 6);
    sender.join().unwrap();
    assert_eq!(mock.event_count(), 6);
}

#[test]
fn wait_for_events_times_out() {
    let mock = MockLts::start().unwrap();
    let start = Instant::now();
    assert!(!mock.wait_for_events(1, Duration::from_millis(50)));
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(50), "{waited:?}");
    assert!(mock.wait_for_events(0, Duration::ZERO));
    assert!(!mock.wait_for_requests(1, Duration::ZERO));
}

#[test]
fn on_event_and_on_request_callbacks() {
    let seen: Arc<Mutex<Vec<ReceivedEvent>>> = Arc::default();
    let statuses: Arc<Mutex<Vec<u16>>> = Arc::default();
    let mock = {
        let (seen, statuses) = (Arc::clone(&seen), Arc::clone(&statuses));
        MockLts::builder()
            .on_event(move |e| seen.lock().unwrap().push(e.clone()))
            .on_request(move |r| statuses.lock().unwrap().push(r.status))
            .build()
            .unwrap()
    };
    post_json(&mock, Api::HighAccuracy, &ha_body(now_ns(), &["a", "b"]));
    post(&mock, Api::HighAccuracy, b"{", &[]);
    // Callbacks run before the answer is sent, so they are done by now.
    assert_eq!(*seen.lock().unwrap(), mock.events());
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(*statuses.lock().unwrap(), [200, 400]);
}

#[test]
fn builder_custom_ids_and_token() {
    let project = "ffffffffffffffffffffffffffffff00";
    let group = "11111111-2222-4333-8444-555555555555";
    let stream = "66666666-7777-4888-9999-aaaaaaaaaaaa";
    let mock = MockLts::builder()
        .project_id(project)
        .log_group_id(group)
        .log_stream_id(stream)
        .token("my-token")
        .build()
        .unwrap();
    assert_eq!(mock.token(), "my-token");
    assert_eq!(
        (mock.project_id(), mock.log_group_id(), mock.log_stream_id()),
        (project, group, stream)
    );
    assert!(mock.url(Api::Standard).contains(stream));
    assert_eq!(post_json(&mock, Api::Standard, &std_body(now_ns(), &["x"])).status, 200);
    // The default ids are now unknown.
    let url = mock.url(Api::Standard).replace(project, PROJECT_ID);
    let a = send(
        &agent(),
        &url,
        &[("X-Auth-Token", "my-token"), ("Content-Type", lts_mock::CONTENT_TYPE)],
        std_body(now_ns(), &["x"]).to_string().as_bytes(),
    );
    assert_eq!((a.status, a.code()), (404, codes::UNKNOWN_PROJECT_ID));
}

#[test]
fn builder_rejects_malformed_ids() {
    for b in [
        MockLts::builder().project_id("short"),
        MockLts::builder().log_group_id("not-a-uuid"),
        MockLts::builder().log_stream_id("0a1b2c3d-0000-4000-8000-00000000000"),
    ] {
        let e = b.build().unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    }
}

#[test]
fn builder_bind_and_port() {
    let mock = MockLts::builder()
        .bind("127.0.0.1:0".parse().unwrap())
        .port(0)
        .build()
        .unwrap();
    let port = mock.addr().port();
    // The port is taken while the mock runs.
    assert!(MockLts::builder().port(port).build().is_err());
    mock.shutdown();
}

#[test]
fn concurrent_clients_are_all_recorded() {
    let mock = Arc::new(MockLts::start().unwrap());
    let handles: Vec<_> = (0..4)
        .map(|c| {
            let mock = Arc::clone(&mock);
            thread::spawn(move || {
                let agent = agent();
                let token = mock.token();
                for i in 0..10 {
                    let line = format!("c{c} i{i}");
                    let a = send(
                        &agent,
                        &mock.url(Api::HighAccuracy),
                        &[("X-Auth-Token", &token), ("Content-Type", lts_mock::CONTENT_TYPE)],
                        ha_body(now_ns(), &[&line]).to_string().as_bytes(),
                    );
                    assert_eq!(a.status, 200);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(mock.event_count(), 40);
    let reqs = mock.requests();
    assert_eq!(
        reqs.iter().map(|r| r.index).collect::<Vec<_>>(),
        (0..40).collect::<Vec<_>>()
    );
    // Each client's own events are in its sending order.
    for c in 0..4 {
        let mine: Vec<String> = mock
            .events()
            .into_iter()
            .map(|e| e.line)
            .filter(|l| l.starts_with(&format!("c{c} ")))
            .collect();
        let want: Vec<String> = (0..10).map(|i| format!("c{c} i{i}")).collect();
        assert_eq!(mine, want);
    }
}
