//! The console: its page and assets, its JSON API, and the bounded store it reads.

mod common;

use std::io::Write;

use common::{agent, ha_body, now_ns, post, post_json};
use lts_mock::{Api, MockLts};
use serde_json::{json, Value};

fn get(mock: &MockLts, path: &str) -> (u16, String, String) {
    let mut resp = agent()
        .get(format!("{}{path}", mock.endpoint()))
        .call()
        .expect("transport");
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("Content-Type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, resp.body_mut().read_to_string().unwrap())
}

fn get_json(mock: &MockLts, path: &str) -> Value {
    let (status, ct, body) = get(mock, path);
    assert_eq!((status, ct.as_str()), (200, "application/json"), "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn post_faults(mock: &MockLts, content_type: &str, body: &str) -> (u16, Value) {
    let mut resp = agent()
        .post(format!("{}/api/faults", mock.endpoint()))
        .header("Content-Type", content_type)
        .send(body)
        .expect("transport");
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap(),
    )
}

fn console(keep_last: Option<usize>) -> MockLts {
    let b = MockLts::builder().console(true);
    match keep_last {
        Some(n) => b.keep_last(n),
        None => b,
    }
    .build()
    .unwrap()
}

fn seqs(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn page_and_assets_are_served_and_neither_recorded_nor_faulted() {
    let mock = console(None);
    assert_eq!(mock.console_url(), Some(format!("{}/", mock.endpoint())));
    mock.faults().fail_next(1, 503);
    let (status, ct, html) = get(&mock, "/");
    assert_eq!((status, ct.as_str()), (200, "text/html; charset=utf-8"));
    assert!(html.contains(r#"<script src="/assets/app.js"></script>"#));
    let (status, ct, js) = get(&mock, "/assets/app.js");
    assert_eq!((status, ct.as_str()), (200, "text/javascript; charset=utf-8"));
    assert_eq!(js, include_str!("../src/console/assets/app.js"));
    let (status, _, css) = get(&mock, "/assets/style.css");
    assert_eq!(status, 200);
    assert_eq!(css, include_str!("../src/console/assets/style.css"));
    let (status, _, body) = get(&mock, "/api/nothing");
    assert_eq!(status, 404);
    assert_eq!(body, r#"{"error":"no console resource /api/nothing"}"#);
    let (status, _, _) = get(&mock, "/favicon.ico");
    assert_eq!(status, 404);
    assert_eq!(mock.request_count(), 0, "console requests are not recorded");
    // The pending fault is still there for the first reporting request.
    let t = now_ns();
    assert_eq!(post_json(&mock, Api::HighAccuracy, &ha_body(t, &["a"])).status, 503);
    assert_eq!(post_json(&mock, Api::HighAccuracy, &ha_body(t, &["a"])).status, 200);
    assert_eq!(mock.requests().iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1]);
}

#[test]
fn without_the_console_its_paths_are_unknown_to_the_service() {
    let mock = MockLts::start().unwrap();
    assert_eq!(mock.console_url(), None);
    let (status, _, body) = get(&mock, "/");
    assert_eq!(status, 404);
    assert!(body.contains("errorCode"), "{body}");
    assert_eq!(mock.request_count(), 1);
    assert_eq!(mock.evicted_events(), 0);
}

#[test]
fn poll_pages_through_the_last_n_events_in_order() {
    let mock = console(Some(5));
    let t = now_ns();
    for (k, lines) in [["a0", "a1", "a2"], ["b0", "b1", "b2"], ["c0", "c1", "c2"]]
        .iter()
        .enumerate()
    {
        let a = post_json(&mock, Api::HighAccuracy, &ha_body(t + 10 * k as u64, lines));
        assert_eq!(a.status, 200);
    }
    // 9 events kept 5: the last five, in arrival order; 4 evicted, all counted.
    let lines: Vec<String> = mock.events().into_iter().map(|e| e.line).collect();
    assert_eq!(lines, ["b1", "b2", "c0", "c1", "c2"]);
    assert_eq!((mock.evicted_events(), mock.evicted_requests()), (4, 0));
    assert_eq!(mock.stats().events, 9);
    assert_eq!(mock.event_count(), 9);

    let p = get_json(&mock, "/api/poll");
    assert_eq!(seqs(&p["events"]), [4, 5, 6, 7, 8]);
    assert_eq!(p["next_events"], 9);
    assert_eq!(
        (p["kept_events"].as_u64(), p["evicted_events"].as_u64()),
        (Some(5), Some(4))
    );
    assert_eq!(p["capacity"], 5);
    assert_eq!(p["stats"]["events"], 9);
    assert_eq!(p["stats"]["requests"], 3);
    let e = &p["events"][0];
    assert_eq!(e["line"], "b1");
    assert_eq!(e["time_ns"], (t + 10 + 1).to_string(), "a string: exact in JavaScript");
    assert_eq!(e["labels"], json!({"app": "test"}));
    assert_eq!(e["api"], "high-accuracy");
    assert_eq!(e["request"], 1);
    assert_eq!(e["stream"], lts_mock::LOG_STREAM_ID);
    assert_eq!(seqs(&p["requests"]), [0, 1, 2]);
    assert_eq!(p["next_requests"], 3);

    let p = get_json(&mock, "/api/poll?events=7&requests=3");
    assert_eq!(seqs(&p["events"]), [7, 8]);
    assert_eq!(seqs(&p["requests"]), Vec::<u64>::new());
    assert_eq!(
        (p["next_events"].as_u64(), p["next_requests"].as_u64()),
        (Some(9), Some(3))
    );
    let p = get_json(&mock, "/api/poll?events=9");
    assert_eq!(seqs(&p["events"]), Vec::<u64>::new());
    assert_eq!(p["next_events"], 9);
    let p = get_json(&mock, "/api/poll?events=0&limit=2");
    assert_eq!(seqs(&p["events"]), [4, 5]);
    assert_eq!(p["next_events"], 6);
    let (status, _, body) = get(&mock, "/api/poll?events=x");
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"error":"query parameter events: want a whole number, got \"x\""}"#
    );
}

#[test]
fn requests_carry_wire_size_compression_and_attempt() {
    let mock = console(Some(3));
    let t = now_ns();
    let body_a = ha_body(t, &["a"]).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body_a.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    mock.faults().fail_next(2, 503);
    assert_eq!(
        post(&mock, Api::HighAccuracy, &gz, &[("Content-Encoding", "gzip")]).status,
        503
    );
    assert_eq!(post(&mock, Api::HighAccuracy, body_a.as_bytes(), &[]).status, 503);
    assert_eq!(
        post(&mock, Api::HighAccuracy, &gz, &[("Content-Encoding", "gzip")]).status,
        200
    );

    let p = get_json(&mock, "/api/poll");
    let r: Vec<(u64, u64, Value, u64, u64)> = p["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_u64().unwrap(),
                r["attempt"].as_u64().unwrap(),
                r["content_encoding"].clone(),
                r["wire_bytes"].as_u64().unwrap(),
                r["decoded_bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    let (gz_len, plain_len) = (gz.len() as u64, body_a.len() as u64);
    assert_eq!(
        r,
        [
            (503, 1, json!("gzip"), gz_len, plain_len),
            (503, 2, Value::Null, plain_len, plain_len),
            (200, 3, json!("gzip"), gz_len, plain_len),
        ],
        "the same decoded bytes: attempts 1, 2, 3 whatever the encoding"
    );
    let last = &p["requests"][2];
    assert_eq!(last["fault"], Value::Null);
    assert_eq!(p["requests"][0]["fault"], "fail_next");
    assert_eq!(last["stream"], lts_mock::LOG_STREAM_ID);
    assert_eq!(last["auth"], "token", "the kind of credential, never the token");
    assert_eq!(last["events"], 1);
    assert_eq!(p["events"][0]["request"], 2);

    // Other bytes start at 1; the count covers the kept requests only (3 here).
    assert_eq!(post_json(&mock, Api::HighAccuracy, &ha_body(t + 5, &["b"])).status, 200);
    assert_eq!(mock.requests().last().unwrap().attempt, 1);
    let attempts: Vec<u32> = mock.requests().iter().map(|r| r.attempt).collect();
    assert_eq!(attempts, [2, 3, 1], "the first attempt was evicted");
    assert_eq!(post(&mock, Api::HighAccuracy, body_a.as_bytes(), &[]).status, 200);
    assert_eq!(mock.requests().last().unwrap().attempt, 3, "two of its kin still kept");
}

#[test]
fn faults_are_set_through_the_api() {
    let mock = console(None);
    let (status, f) = post_faults(
        &mock,
        "application/json",
        r#"{"action":"fail_next","n":1,"status":429}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(
        (f["fail_next"].as_u64(), f["fail_next_status"].as_u64()),
        (Some(1), Some(429))
    );
    assert_eq!(get_json(&mock, "/api/faults"), f);
    assert_eq!(get_json(&mock, "/api/poll")["faults"], f);
    let t = now_ns();
    assert_eq!(
        post_json(&mock, Api::Standard, &common::std_body(t, &["x"])).status,
        429
    );
    assert_eq!(get_json(&mock, "/api/faults")["fail_next"], 0);

    let (status, e) = post_faults(&mock, "text/plain", r#"{"action":"clear"}"#);
    assert_eq!(status, 415);
    assert_eq!(e["error"], "POST /api/faults needs Content-Type: application/json");
    let (status, e) = post_faults(&mock, "application/json", r#"{"action":"drop_next"}"#);
    assert_eq!(status, 400);
    assert_eq!(e["error"], "drop_next needs \"n\", a whole number");
    let (status, _) = post_faults(&mock, "application/json", r#"{"action":"delay_next","n":1,"ms":5}"#);
    assert_eq!(status, 200);
    let (status, f) = post_faults(&mock, "application/json", r#"{"action":"clear"}"#);
    assert_eq!((status, f["delay_next"].as_u64()), (200, Some(0)));
    assert_eq!(mock.request_count(), 1);
}
