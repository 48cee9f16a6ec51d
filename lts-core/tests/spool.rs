//! The disk spool: batches that cannot be delivered in time wait on disk and
//! are delivered once when the service is back or at the next start
//! (several requests are out at once, so records are compared in time
//! order, as LTS sorts them).

use std::path::Path;
use std::time::Duration;

use lts_core::{ConfigBuilder, DiagnosticKind, FlushError, Level, Overflow, Record, RetryPolicy, Shipper};
use lts_mock::MockLts;

mod common;
use common::{hook, received, received_by_time};

const WAIT: Duration = Duration::from_secs(10);

/// The shared config, spooling to `dir` after 2 tries 1 to 2 ms apart.
fn config(mock: &MockLts, dir: &Path) -> ConfigBuilder {
    common::config(mock)
        .retry(RetryPolicy {
            max_tries: 2,
            base: Duration::from_millis(1),
            max: Duration::from_millis(2),
        })
        .spool_dir(dir)
}

fn send_numbered(shipper: &Shipper, range: std::ops::Range<u32>) -> Vec<u64> {
    range
        .map(|i| {
            let r = Record::new(shipper.now_ns(), Level::Info, "spool", format!("n{i:06}"));
            let t = r.time_ns;
            shipper.send(r).unwrap();
            t
        })
        .collect()
}

#[test]
fn batches_out_of_retries_wait_in_the_spool_and_are_delivered_once_in_order() {
    let mock = MockLts::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock, dir.path()).batch_max_events(10).build().unwrap()).unwrap();
    // Down until told otherwise: every batch runs out of its two tries.
    mock.faults().fail_next(1_000_000, 503);
    let times = send_numbered(&shipper, 0..50);
    let result = shipper.flush(Duration::from_millis(300));
    assert!(matches!(result, Err(FlushError::Timeout { .. })), "{result:?}");
    let stats = shipper.stats();
    assert!(stats.spooled >= 10, "{stats:?}");
    assert_eq!(stats.dropped_retries_exhausted, 0);

    mock.faults().clear();
    shipper.flush(WAIT).unwrap();
    let got = received_by_time(&mock);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        times,
        "not once each, in order"
    );
    let stats = shipper.stats();
    assert_eq!((stats.delivered, stats.pending()), (50, 0));
}

#[test]
fn what_is_undelivered_at_shutdown_is_delivered_at_the_next_start() {
    let mock = MockLts::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (seen, hook) = hook();
    let retry_on = RetryPolicy {
        max_tries: 1_000,
        base: Duration::from_millis(1),
        max: Duration::from_millis(2),
    };
    let (first, guard) = Shipper::start(
        config(&mock, dir.path())
            .retry(retry_on)
            .error_hook(hook)
            .build()
            .unwrap(),
    )
    .unwrap();
    mock.faults().fail_next(1_000_000, 503);
    let times = send_numbered(&first, 0..30);
    let mut guard = guard;
    guard.set_timeout(Duration::from_millis(100));
    assert_eq!(guard.shutdown(), Ok(()));
    let stats = first.stats();
    assert_eq!((stats.spooled, stats.dropped_shutdown, stats.delivered), (30, 0, 0));
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|d| d.kind == DiagnosticKind::Shutdown
                && d.message.contains("30 records undelivered; kept in the spool"))
    );

    mock.faults().clear();
    let (second, _guard) = Shipper::start(config(&mock, dir.path()).build().unwrap()).unwrap();
    assert_eq!(second.stats().restored, 30);
    second.flush(WAIT).unwrap();
    assert_eq!(received_by_time(&mock).iter().map(|g| g.0).collect::<Vec<_>>(), times);
    let stats = second.stats();
    assert_eq!((stats.delivered, stats.pending()), (30, 0));
}

#[test]
fn under_memory_pressure_batches_move_to_disk_and_the_budget_holds() {
    let mock = MockLts::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let budget = 256 * 1024;
    let (shipper, _guard) = Shipper::start(
        config(&mock, dir.path())
            .queue_bytes(budget)
            .batch_max_bytes(16 * 1024)
            .overflow(Overflow::Block { max: WAIT })
            .retry(RetryPolicy {
                max_tries: 1_000,
                base: Duration::from_millis(5),
                max: Duration::from_millis(5),
            })
            .build()
            .unwrap(),
    )
    .unwrap();
    mock.faults().fail_next(1_000_000, 503);
    let mut times = Vec::new();
    for chunk in 0..20 {
        times.extend(send_numbered(&shipper, chunk * 1_000..(chunk + 1) * 1_000));
        assert!(shipper.queued_bytes() <= budget);
    }
    let stats = shipper.stats();
    assert_eq!(stats.dropped_queue_full, 0);
    assert!(stats.spooled > 0, "{stats:?}");
    mock.faults().clear();
    shipper.flush(WAIT).unwrap();
    let got = received_by_time(&mock);
    assert_eq!(got.len(), 20_000);
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), times);
}

#[test]
fn a_spooled_batch_older_than_the_window_is_dropped_and_counted() {
    let mock = MockLts::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (first, guard) = Shipper::start(config(&mock, dir.path()).build().unwrap()).unwrap();
    mock.faults().fail_next(1_000, 503);
    let hour = 3_600_000_000_000u64;
    let old = Record::new(first.now_ns() - 2 * hour, Level::Info, "spool", "two hours old");
    first.send(old).unwrap();
    let mut guard = guard;
    guard.set_timeout(Duration::from_millis(100));
    guard.shutdown().unwrap();
    mock.faults().clear();

    // The next run keeps a one-hour window: the batch is too old by then.
    let (seen, hook) = hook();
    let (second, _guard) = Shipper::start(
        config(&mock, dir.path())
            .time_window(Duration::from_secs(3_600))
            .error_hook(hook)
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(second.flush(WAIT), Err(FlushError::Lost { lost: 1 }));
    let stats = second.stats();
    assert_eq!((stats.restored, stats.dropped_rejected, stats.delivered), (1, 1, 0));
    assert!(received(&mock).is_empty());
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|d| d.kind == DiagnosticKind::OutsideTimeWindow));
}

#[test]
fn a_damaged_spool_batch_is_skipped_counted_and_never_sent() {
    let mock = MockLts::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (first, guard) = Shipper::start(config(&mock, dir.path()).build().unwrap()).unwrap();
    mock.faults().fail_next(1_000, 503);
    send_numbered(&first, 0..5);
    let mut guard = guard;
    guard.set_timeout(Duration::from_millis(100));
    guard.shutdown().unwrap();
    assert_eq!(first.stats().spooled, 5);
    mock.faults().clear();
    let requests_before = mock.requests().len();

    // Flip one byte inside the batch.
    let segment = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "lts"))
        .unwrap();
    let mut data = std::fs::read(&segment).unwrap();
    let last = data.len() - 1;
    data[last] ^= 0xff;
    std::fs::write(&segment, data).unwrap();

    let (seen, hook) = hook();
    let (second, _guard) = Shipper::start(config(&mock, dir.path()).error_hook(hook).build().unwrap()).unwrap();
    second.flush(WAIT).unwrap();
    let stats = second.stats();
    assert_eq!((stats.restored, stats.spool_corrupt, stats.delivered), (0, 1, 0));
    assert_eq!(mock.requests().len(), requests_before, "a damaged batch was sent");
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|d| d.kind == DiagnosticKind::Spool && d.message.contains("damaged")));
}
