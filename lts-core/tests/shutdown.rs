//! A shutdown while a request hangs: the guard returns by its deadline (not
//! by the request's timeout), and with a spool everything not acknowledged,
//! the hung batches included, is on disk before it returns.

use std::time::{Duration, Instant};

use lts_core::{ConfigBuilder, FlushError, Level, Record, Shipper};
use lts_mock::MockLts;

mod common;
use common::received_by_time;

const RECORDS: u32 = 20_000;

/// Far past any bound a test waits for: a request hanging this long is one
/// the shutdown must not wait for.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

fn config(mock: &MockLts) -> ConfigBuilder {
    common::config(mock)
        .request_timeout(REQUEST_TIMEOUT)
        .shutdown_timeout(Duration::from_millis(300))
        .batch_max_events(1_000)
}

/// Sends `RECORDS` records while the service hangs every request, waits
/// until one request is out, then shuts down. Returns the times sent, the
/// shutdown's result and how long it took.
fn flood_then_shut_down_while_hung(
    mock: &MockLts,
    config: ConfigBuilder,
) -> (Vec<u64>, Result<(), FlushError>, Duration, lts_core::Stats) {
    mock.faults().hang_next(1_000_000);
    let (shipper, guard) = Shipper::start(config.build().unwrap()).unwrap();
    let times: Vec<u64> = (0..RECORDS)
        .map(|i| {
            let r = Record::new(shipper.now_ns(), Level::Info, "shutdown", format!("n{i:06}"));
            let t = r.time_ns;
            shipper.send(r).unwrap();
            t
        })
        .collect();
    assert!(
        mock.wait_for_requests(1, Duration::from_secs(10)),
        "no request went out"
    );
    let started = Instant::now();
    let result = guard.shutdown();
    (times, result, started.elapsed(), shipper.stats())
}

#[test]
fn a_hung_request_at_shutdown_leaves_every_record_in_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLts::start().unwrap();
    let (times, result, took, stats) = flood_then_shut_down_while_hung(&mock, config(&mock).spool_dir(dir.path()));
    assert!(took < Duration::from_secs(5), "the shutdown took {took:?}");
    assert_eq!(result, Ok(()));
    assert_eq!(
        (stats.enqueued, stats.delivered, stats.spooled, stats.dropped_shutdown),
        (u64::from(RECORDS), 0, u64::from(RECORDS), 0),
        "{stats:?}"
    );
    drop(mock);

    // The next start delivers all of it, once each, oldest first.
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).spool_dir(dir.path()).build().unwrap()).unwrap();
    assert_eq!(shipper.stats().restored, u64::from(RECORDS));
    shipper.flush(Duration::from_secs(10)).unwrap();
    // The batches whose requests were abandoned went to disk last: LTS
    // sorts by time, and sorted so every record is there once.
    let got: Vec<u64> = received_by_time(&mock).iter().map(|(t, _)| *t).collect();
    assert!(got == times, "not every record once");
}

#[test]
fn a_hung_request_at_shutdown_without_a_spool_is_counted_and_does_not_hold_the_guard() {
    let mock = MockLts::start().unwrap();
    let (_, result, took, stats) = flood_then_shut_down_while_hung(&mock, config(&mock));
    assert!(took < Duration::from_secs(5), "the shutdown took {took:?}");
    assert_eq!(
        result,
        Err(FlushError::Lost {
            lost: u64::from(RECORDS)
        })
    );
    assert_eq!(
        (stats.delivered, stats.dropped_shutdown),
        (0, u64::from(RECORDS)),
        "{stats:?}"
    );
}
