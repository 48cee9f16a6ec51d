//! A connection keeps smaller buffers than ureq's default (64 KiB in,
//! 16 KiB out, where ureq's default is 128 KiB each way): a body larger than
//! the output buffer still goes out whole, and an answer with a large head
//! (a gateway's padding, 40 KiB here, under ureq's 64 KiB limit for a head)
//! is still read.

mod common;
#[path = "common/origin.rs"]
mod origin;

use std::time::Duration;

use common::ids;
use lts_core::{Compression, Level, Record, Shipper};
use origin::Origin;

#[test]
fn a_large_body_goes_out_whole_and_a_large_answer_head_is_read() {
    const EVENTS: usize = 2_000;
    let padding = "p".repeat(40_000);
    let origin = Origin::http(200, vec![("X-Padding".to_owned(), padding)]);
    let config = ids(format!("http://127.0.0.1:{}", origin.port))
        .token("tok")
        .compression(Compression::None)
        .linger(Duration::from_secs(60))
        .build()
        .unwrap();
    let message = |i: usize| format!("m{i:05} {}", "x".repeat(200));
    let (shipper, guard) = Shipper::start(config).unwrap();
    for i in 0..EVENTS {
        shipper
            .send(Record::new(shipper.now_ns(), Level::Info, "t", message(i)))
            .unwrap();
    }
    assert_eq!(shipper.flush(Duration::from_secs(10)), Ok(()));
    let stats = shipper.stats();
    assert_eq!((stats.delivered, stats.retries), (EVENTS as u64, 0));
    let seen = origin.seen();
    let mut messages = Vec::new();
    for request in &seen {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        for entry in body["contents"].as_array().unwrap() {
            let line: serde_json::Value = serde_json::from_str(entry["log"].as_str().unwrap()).unwrap();
            messages.push(line["message"].as_str().unwrap().to_owned());
        }
    }
    assert!(
        seen.iter().any(|r| r.body.len() > 10 * 16 * 1024),
        "a body of ten output buffers or more: {:?}",
        seen.iter().map(|r| r.body.len()).collect::<Vec<_>>()
    );
    assert_eq!(messages, (0..EVENTS).map(message).collect::<Vec<_>>());
    drop(guard);
}
