//! A batch read back from the spool goes out exactly as it was written:
//! the same bytes with the same `Content-Encoding`, whatever the next run's
//! compression setting is.
//!
//! Writes snappy and reads back with gzip: needs both features.
#![cfg(all(feature = "gzip", feature = "snappy"))]

use std::time::Duration;

use lts_core::{Compression, Level, Record, Shipper};
use lts_mock::MockLts;

mod common;

#[test]
fn a_snappy_batch_replayed_from_the_spool_goes_out_as_snappy() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLts::start().unwrap();
    mock.faults().fail_next(1_000_000, 503);
    let config = |mock: &MockLts, compression| {
        common::config(mock)
            .compression(compression)
            .spool_dir(dir.path())
            .shutdown_timeout(Duration::from_millis(100))
            .build()
            .unwrap()
    };
    let (shipper, guard) = Shipper::start(config(&mock, Compression::Snappy)).unwrap();
    for i in 0..10 {
        shipper
            .send(Record::new(shipper.now_ns(), Level::Info, "t", format!("n{i}")))
            .unwrap();
    }
    assert_eq!(guard.shutdown(), Ok(()));
    assert_eq!(shipper.stats().spooled, 10);
    drop(mock);

    // The next run compresses with gzip; the spooled batch stays snappy.
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock, Compression::Gzip)).unwrap();
    assert_eq!(shipper.stats().restored, 10);
    shipper.flush(Duration::from_secs(10)).unwrap();
    let sent = mock.requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].status, sent[0].content_encoding.as_deref(), sent[0].events),
        (200, Some("snappy"), 10)
    );
    assert_eq!(mock.event_count(), 10);
}
