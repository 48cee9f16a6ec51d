//! Several requests out at once against lts-mock: exactly once whatever
//! fails, flushes that wait for every earlier batch, a shutdown bounded with
//! requests out, and a service that throttles.

use std::time::{Duration, Instant};

use lts_core::{Concurrency, ConfigBuilder, FlushError, Level, Overflow, Record, RetryPolicy, Shipper};
use lts_mock::{Failure, MockLts, RateLimit};

mod common;
use common::{attempts_by_batch, received_by_time};

const WAIT: Duration = Duration::from_secs(20);

/// Up to `n` requests out, always (no adaptation), batches of `batch`
/// events sealed by count, block mode, many quick tries.
fn config(mock: &MockLts, n: usize, batch: usize) -> ConfigBuilder {
    common::config(mock)
        .max_in_flight(n)
        .concurrency(Concurrency::Fixed)
        .batch_max_events(batch)
        .overflow(Overflow::Block { max: WAIT })
        .retry(RetryPolicy {
            max_tries: 30,
            base: Duration::from_millis(1),
            max: Duration::from_millis(20),
        })
}

fn send(shipper: &Shipper, n: usize) -> Vec<(u64, String)> {
    (0..n)
        .map(|i| {
            let r = Record::new(shipper.now_ns(), Level::Info, "concurrency", format!("c{i}"));
            let sent = (r.time_ns, r.message.clone());
            shipper.send(r).unwrap();
            sent
        })
        .collect()
}

#[test]
fn every_record_arrives_once_with_several_requests_out_and_a_fifth_failing() {
    let mock = MockLts::start().unwrap();
    mock.faults().delay_all(Duration::from_millis(5));
    let failures = [
        Failure::Status(500),
        Failure::Status(503),
        Failure::Status(429),
        Failure::Drop,
    ];
    mock.faults().fail_fraction_mix(0.2, &failures, 2026);
    let (shipper, _guard) = Shipper::start(config(&mock, 8, 25).build().unwrap()).unwrap();
    let sent = send(&shipper, 5_000);
    shipper.flush(WAIT).unwrap();

    assert!(received_by_time(&mock) == sent, "not every record exactly once");
    let batches = attempts_by_batch(&mock.requests());
    assert_eq!(batches.len(), 200);
    let s = shipper.stats();
    assert_eq!((s.delivered, s.pending(), s.dropped_retries_exhausted), (5_000, 0, 0));
    assert!(s.retries > 0, "{s:?}");
    assert_eq!(s.requests as usize, mock.request_count());
    assert!(s.in_flight_max > 1, "never more than one request out: {s:?}");
    assert!(s.in_flight_max <= 8, "{s:?}");
}

#[test]
fn a_flush_waits_for_an_earlier_batch_that_finishes_after_later_ones() {
    let mock = MockLts::start().unwrap();
    // The first request is answered after 400 ms; the next two at once.
    mock.faults().delay_next(1, Duration::from_millis(400));
    let (shipper, _guard) = Shipper::start(config(&mock, 4, 10).build().unwrap()).unwrap();
    send(&shipper, 30);
    // The later batches are delivered while the first is still out.
    while shipper.stats().delivered < 20 {
        assert!(mock.wait_for_events(20, WAIT));
    }
    assert_eq!(shipper.stats().delivered, 20, "the first batch is still out");
    assert_eq!(
        shipper.flush(Duration::from_millis(1)),
        Err(FlushError::Timeout { pending: 10 })
    );
    shipper.flush(WAIT).unwrap();
    assert_eq!(shipper.stats().delivered, 30);
    let first = &mock.requests()[0];
    assert_eq!((first.fault.as_deref(), first.events), (Some("delay"), 10));
}

#[test]
fn a_shutdown_with_several_requests_hanging_returns_by_its_deadline_with_all_of_them_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLts::start().unwrap();
    mock.faults().hang_next(1_000);
    let with_spool = |mock: &MockLts| {
        config(mock, 4, 10)
            .request_timeout(Duration::from_secs(60))
            .shutdown_timeout(Duration::from_millis(300))
            .spool_dir(dir.path())
    };
    let (shipper, guard) = Shipper::start(with_spool(&mock).build().unwrap()).unwrap();
    let sent = send(&shipper, 60);
    assert!(mock.wait_for_requests(4, WAIT), "four requests out");
    let started = Instant::now();
    assert_eq!(guard.shutdown(), Ok(()));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "the shutdown took {took:?}");
    let s = shipper.stats();
    assert_eq!((s.spooled, s.dropped_shutdown, s.delivered), (60, 0, 0), "{s:?}");
    assert_eq!(mock.request_count(), 4, "no request after the four that hung");
    drop(mock);

    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(with_spool(&mock).build().unwrap()).unwrap();
    assert_eq!(shipper.stats().restored, 60);
    shipper.flush(WAIT).unwrap();
    assert!(received_by_time(&mock) == sent, "not every record exactly once");
}

#[test]
fn a_service_throttling_at_a_rate_loses_nothing_in_block_mode_and_the_limit_comes_down() {
    let mock = MockLts::start().unwrap();
    mock.faults().delay_all(Duration::from_millis(20));
    mock.faults().rate_limit(Some(RateLimit::per_second(100)));
    let (shipper, _guard) = Shipper::start(
        config(&mock, 16, 20)
            .concurrency(Concurrency::Adaptive)
            .build()
            .unwrap(),
    )
    .unwrap();
    let sent = send(&shipper, 3_000);
    shipper.flush(WAIT).unwrap();

    assert!(received_by_time(&mock) == sent, "not every record exactly once");
    let s = shipper.stats();
    assert_eq!((s.delivered, s.dropped_retries_exhausted), (3_000, 0));
    let throttled = mock.requests_with_status(429).len();
    assert!(throttled > 0, "the service never throttled: {s:?}");
    // 100 requests a second at 20 ms a round trip: two out at once would
    // do; the limit must not have run up to 16 and stayed there.
    assert!(s.concurrency_limit < 16, "{s:?}");
}
