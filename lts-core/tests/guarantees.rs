//! The README's guarantees, each pinned by a test that fails if it is
//! broken: exactly once and in order in blocking mode, exact accounting in
//! lossy mode, bounded memory, bounded shutdown that reports its losses, and
//! retries that resend the same batch. Plus a soak test (ignored by default).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lts_core::{
    clock, ConfigBuilder, Diagnostic, DiagnosticKind, FlushError, Level, Overflow, Record, RetryPolicy, Shipper, Stats,
};
use lts_mock::MockLts;

mod common;
use common::{attempt_runs, attempts_by_batch, drop_reports, hook, json, kinds, received, received_by_time, retry};

const WAIT: Duration = Duration::from_secs(10);
const DAY_NS: u64 = 24 * 3600 * 1_000_000_000;

/// The shared config, with a 5 s request timeout and 6 tries 1 to 10 ms apart.
fn config(mock: &MockLts) -> ConfigBuilder {
    common::config(mock)
        .request_timeout(Duration::from_secs(5))
        .retry(retry(6))
}

/// A record `message` padded to about 100 bytes, so budgets fill quickly.
fn padded(shipper: &Shipper, message: String) -> Record {
    Record::new(shipper.now_ns(), Level::Info, "guarantees", message).with_field("pad", "p".repeat(64))
}

/// Sends one record; returns its (time, message) if it was taken.
fn send(shipper: &Shipper, message: String) -> Option<(u64, String)> {
    let r = padded(shipper, message);
    let sent = (r.time_ns, r.message.clone());
    shipper.send(r).ok().map(|()| sent)
}

/// The accounting identities of lossy mode, checked after a flush that
/// returned: everything accepted is delivered or counted as dropped, and
/// everything `send` was given was accepted or refused. With `before`, the
/// snapshot at the previous flush, the flush's answer must name exactly what
/// was given up on since (each loss is reported by one flush, the first
/// after it); without, it must only have finished.
fn assert_balanced(shipper: &Shipper, flushed: Result<(), FlushError>, sends: u64, before: Option<&Stats>) -> Stats {
    let s = shipper.stats();
    assert_eq!(
        s.delivered + s.dropped_rejected + s.dropped_retries_exhausted + s.dropped_shutdown,
        s.enqueued,
        "{s:?}"
    );
    assert_eq!(s.enqueued + s.dropped_queue_full, sends, "{s:?}");
    assert_eq!(s.pending(), 0);
    match before {
        Some(before) => {
            let lost = (s.dropped_rejected + s.dropped_retries_exhausted)
                - (before.dropped_rejected + before.dropped_retries_exhausted);
            let expected = if lost == 0 {
                Ok(())
            } else {
                Err(FlushError::Lost { lost })
            };
            assert_eq!(flushed, expected, "{s:?}");
        }
        None => assert!(
            matches!(flushed, Ok(()) | Err(FlushError::Lost { .. })),
            "the flush did not finish: {flushed:?} {s:?}"
        ),
    }
    assert_eq!(shipper.queued_bytes(), 0, "memory still held after a flush: {s:?}");
    s
}

// 1. Blocking mode, a service that recovers within the retry budget:
//    every record delivered exactly once, in time order.

fn block_mode_config(mock: &MockLts) -> ConfigBuilder {
    config(mock)
        .queue_bytes(32 * 1024)
        .batch_max_bytes(8 * 1024)
        .overflow(Overflow::Block { max: WAIT })
        .retry(retry(12))
}

/// 503s on 30% of requests (seeded), two connections dropped and three
/// 429s: each batch needs at most a few of its 12 tries.
fn flaky_but_recovering(mock: &MockLts) {
    mock.faults().fail_fraction(0.3, 503, 7);
    mock.faults().drop_next(2);
    mock.faults().fail_next(3, 429);
}

#[test]
fn block_mode_with_the_service_recovering_within_the_retry_budget_delivers_every_record_once_in_time_order() {
    let mock = MockLts::start().unwrap();
    let budget = 32 * 1024;
    let (shipper, _guard) = Shipper::start(block_mode_config(&mock).build().unwrap()).unwrap();
    flaky_but_recovering(&mock);
    let mut sent = Vec::new();
    let mut high_water = 0;
    for i in 0..3_000 {
        sent.push(send(&shipper, format!("b{i}")).expect("block mode never refuses here"));
        high_water = high_water.max(shipper.queued_bytes());
    }
    shipper.flush(WAIT).unwrap();

    // Several requests are out at once: batches arrive in any order, and
    // LTS sorts by time. Sorted so, the records are the ones sent, once.
    let got = received_by_time(&mock);
    assert_eq!(got.len(), sent.len());
    assert!(got == sent, "not exactly once in time order");
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    let s = shipper.stats();
    assert_eq!(
        (s.enqueued, s.delivered, s.dropped_queue_full, s.pending()),
        (3_000, 3_000, 0, 0)
    );
    assert_eq!(s.dropped_rejected + s.dropped_retries_exhausted + s.dropped_shutdown, 0);
    assert!(drop_reports(&mock).is_empty());
    // The faults fired and the senders did wait for room.
    assert!(s.retries >= 5, "{s:?}");
    assert!(high_water > budget / 2, "the budget was never pressed: {high_water}");
    attempts_by_batch(&mock.requests());
}

#[test]
fn block_mode_from_two_threads_delivers_every_record_once_in_each_threads_order() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(block_mode_config(&mock).build().unwrap()).unwrap();
    flaky_but_recovering(&mock);
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let shipper = shipper.clone();
            std::thread::spawn(move || {
                (0..2_000)
                    .map(|i| send(&shipper, format!("t{t}-{i}")).expect("block mode never refuses here"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let sent: Vec<Vec<(u64, String)>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    shipper.flush(WAIT).unwrap();

    let got = received_by_time(&mock);
    assert_eq!(got.len(), 4_000);
    for (t, sent) in sent.iter().enumerate() {
        let mine: Vec<(u64, String)> = got
            .iter()
            .filter(|(_, m)| m.starts_with(&format!("t{t}-")))
            .cloned()
            .collect();
        assert!(mine == *sent, "thread {t}: not exactly once in its order");
    }
    assert_eq!(shipper.stats().delivered, 4_000);
}

// 2. Lossy mode: the accounting balances at every flush, and every drop is
//    reported in band exactly once.

#[test]
fn drop_newest_accounting_balances_at_every_flush_and_every_drop_is_reported_in_band_exactly() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            // The faults below aim at one batch each ("three 503s: a batch
            // out of its three tries"): one request out at a time, so a
            // loaded machine cannot spread them over several batches.
            .max_in_flight(1)
            .queue_bytes(64 * 1024)
            .batch_max_bytes(16 * 1024)
            .overflow(Overflow::DropNewest)
            .retry(retry(3))
            .error_hook(hook)
            .build()
            .unwrap(),
    )
    .unwrap();
    let sends = Cell::new(0u64);
    let send_counted = |message: String| {
        sends.set(sends.get() + 1);
        send(&shipper, message).is_some()
    };
    let mut last = Stats::default();

    // A full queue: the worker waits on a slow answer while records flood in.
    mock.faults().delay_next(1, Duration::from_millis(300));
    assert!(send_counted("first".into()));
    assert!(mock.wait_for_requests(1, WAIT));
    let refused = (0..3_000).filter(|i| !send_counted(format!("flood {i}"))).count();
    assert!(refused > 0, "the queue never filled");
    last = assert_balanced(&shipper, shipper.flush(WAIT), sends.get(), Some(&last));
    assert_eq!(last.dropped_queue_full, refused as u64);

    // A batch refused with 400.
    mock.faults().fail_next(1, 400);
    (0..50).for_each(|i| assert!(send_counted(format!("rejected {i}"))));
    last = assert_balanced(&shipper, shipper.flush(WAIT), sends.get(), Some(&last));
    assert!(last.dropped_rejected > 0);

    // A batch out of retries.
    mock.faults().fail_next(3, 503);
    (0..50).for_each(|i| assert!(send_counted(format!("exhausted {i}"))));
    last = assert_balanced(&shipper, shipper.flush(WAIT), sends.get(), Some(&last));
    assert!(last.dropped_retries_exhausted > 0);

    // Records outside the service's time window, among good ones.
    for i in 0..20 {
        sends.set(sends.get() + 1);
        let t = if i % 2 == 0 {
            clock::wall_ns() - 3 * DAY_NS
        } else {
            shipper.now_ns()
        };
        shipper
            .send(Record::new(t, Level::Info, "guarantees", format!("window {i}")))
            .unwrap();
    }
    let before = last;
    last = assert_balanced(&shipper, shipper.flush(WAIT), sends.get(), Some(&last));
    assert_eq!(last.dropped_rejected - before.dropped_rejected, 10);

    // Everything at once: half the requests fail, some batches run out of
    // tries, one is refused, the queue overflows, old records mixed in.
    mock.faults().fail_fraction(0.5, 503, 11);
    mock.faults().fail_request(mock.request_count() + 3, 400);
    mock.faults().delay_next(1, Duration::from_millis(200));
    for i in 0..5_000 {
        if i % 500 == 0 {
            sends.set(sends.get() + 1);
            let old = Record::new(clock::wall_ns() + 3 * DAY_NS, Level::Info, "guarantees", "future");
            let _ = shipper.send(old);
        }
        send_counted(format!("storm {i}"));
    }
    last = assert_balanced(&shipper, shipper.flush(WAIT), sends.get(), Some(&last));

    // Calm again: one more record carries the report of what is left.
    mock.faults().clear();
    assert!(send_counted("last".into()));
    last = assert_balanced(&shipper, shipper.flush(WAIT), sends.get(), Some(&last));

    // Every drop is told in band, exactly: the reports the service got add
    // up to the counters, kind by kind.
    let reports = drop_reports(&mock);
    assert!(!reports.is_empty());
    let sum = |key: &str| reports.iter().map(|r| r["fields"][key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("dropped_queue_full"), last.dropped_queue_full);
    assert_eq!(sum("dropped_rejected"), last.dropped_rejected);
    assert_eq!(sum("dropped_retries_exhausted"), last.dropped_retries_exhausted);
    for r in &reports {
        assert_eq!(r["level"], "WARN");
        let parts = ["dropped_queue_full", "dropped_rejected", "dropped_retries_exhausted"]
            .map(|k| r["fields"][k].as_u64().unwrap());
        assert_eq!(r["fields"]["dropped"].as_u64().unwrap(), parts.iter().sum::<u64>());
        assert!(r["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{} records dropped since ", r["fields"]["dropped"])));
    }
    // The reports are not counted in Stats: the service has the delivered
    // records and the reports, nothing else.
    assert_eq!(mock.event_count() as u64, last.delivered + reports.len() as u64);
    assert_eq!(received(&mock).len() as u64, last.delivered);
    for kind in [
        DiagnosticKind::QueueFull,
        DiagnosticKind::Rejected,
        DiagnosticKind::RetriesExhausted,
        DiagnosticKind::OutsideTimeWindow,
    ] {
        assert!(
            seen.lock().unwrap().iter().any(|d| d.kind == kind),
            "no {kind:?} diagnostic"
        );
    }
}

#[test]
fn a_flush_reports_records_lost_before_it_was_called() {
    let mock = MockLts::start().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .error_hook(move |d: &Diagnostic| {
                if d.kind == DiagnosticKind::Rejected {
                    let _ = tx.lock().unwrap().send(());
                }
            })
            .build()
            .unwrap(),
    )
    .unwrap();
    mock.faults().fail_next(1, 400);
    (0..5).for_each(|i| assert!(send(&shipper, format!("refused {i}")).is_some()));
    // The linger seals the batch; the service refuses it; then we flush.
    rx.recv_timeout(WAIT).expect("the batch was refused");
    assert_eq!(shipper.stats().dropped_rejected, 5);
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 5 }));
    // Reported once: the next flush has nothing new to report.
    assert!(send(&shipper, "fine".into()).is_some());
    assert_eq!(shipper.flush(WAIT), Ok(()));
}

#[test]
fn stats_count_records_not_flush_requests_while_the_worker_is_busy() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .linger(Duration::from_secs(60))
            .batch_max_events(10)
            .request_timeout(Duration::from_millis(600))
            .build()
            .unwrap(),
    )
    .unwrap();
    mock.faults().hang_next(1);
    (0..10).for_each(|i| assert!(send(&shipper, format!("in flight {i}")).is_some()));
    assert!(mock.wait_for_requests(1, WAIT));
    for _ in 0..3 {
        assert!(matches!(
            shipper.flush(Duration::from_millis(1)),
            Err(FlushError::Timeout { .. })
        ));
    }
    let s = shipper.stats();
    assert_eq!((s.enqueued, s.pending(), s.dropped_queue_full), (10, 10, 0), "{s:?}");
    shipper.flush(WAIT).unwrap();
    assert_eq!(shipper.stats().enqueued, 10);
}

// 3. Bounded memory: queued_bytes() never exceeds the budget while the
//    service is down, sampled after every send.

/// Floods `shipper` from this thread for `for_how_long`, sampling the
/// memory in use after every send. Returns (sends, high-water mark).
fn flood(shipper: &Shipper, budget: usize, for_how_long: Duration) -> (u64, usize) {
    let started = Instant::now();
    let (mut sends, mut high_water) = (0u64, 0usize);
    while started.elapsed() < for_how_long {
        for _ in 0..100 {
            let _ = send(shipper, format!("flood {sends}"));
            sends += 1;
            let used = shipper.queued_bytes();
            high_water = high_water.max(used);
            assert!(
                used <= budget,
                "{used} bytes in use, budget {budget}, after send {sends}"
            );
        }
    }
    (sends, high_water)
}

/// One thread floods a drop-newest shipper while `down` keeps the service
/// down in a way that lets the worker seal batches, with the in-band report
/// of the drops, during the flood; then the service recovers and the books
/// must balance.
fn memory_bound_while_down(down: impl Fn(&MockLts), request_timeout: Duration) {
    let mock = MockLts::start().unwrap();
    let budget = 64 * 1024;
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .queue_bytes(budget)
            .batch_max_bytes(16 * 1024)
            .request_timeout(request_timeout)
            .retry(retry(4))
            .build()
            .unwrap(),
    )
    .unwrap();
    down(&mock);
    let (sends, high_water) = flood(&shipper, budget, Duration::from_millis(1_000));
    assert!(high_water > budget - 1024, "high-water mark {high_water} of {budget}");
    mock.faults().clear();
    let flushed = shipper.flush(WAIT);
    assert_balanced(&shipper, flushed, sends, Some(&Stats::default()));
    assert!(shipper.stats().dropped_queue_full > 0);
}

/// A retry a minute after each failure: a batch that failed waits.
const SLOW_RETRY: RetryPolicy = RetryPolicy {
    max_tries: 100,
    base: Duration::from_secs(60),
    max: Duration::from_secs(60),
};

/// A batch waiting for its retry holds its compressed body: that, to the
/// byte, is what it holds of the budget (not the worst case a compressor
/// reserves: a snappy batch was once charged 611,701 bytes for a ~40 KB
/// body, so the queue reported "full" at a third of its budget).
#[test]
fn a_waiting_batch_is_charged_its_wire_bytes() {
    for &compression in common::COMPRESSIONS {
        let mock = MockLts::start().unwrap();
        mock.faults().fail_next(1_000_000, 503);
        let (shipper, guard) = Shipper::start(
            config(&mock)
                .compression(compression)
                .batch_max_events(2_000)
                .linger(Duration::from_secs(60))
                .retry(SLOW_RETRY)
                .shutdown_timeout(Duration::from_millis(50))
                .build()
                .unwrap(),
        )
        .unwrap();
        for i in 0..2_000 {
            shipper.send(padded(&shipper, format!("record {i}"))).unwrap();
        }
        // The 2,000th record seals the one batch; its first attempt failed.
        assert!(mock.wait_for_requests(1, WAIT));
        let sent = &mock.requests()[0];
        assert_eq!((sent.events, sent.status), (2_000, 503));
        assert_eq!(shipper.queued_bytes(), sent.wire_bytes, "{compression:?}");
        drop(guard);
    }
}

#[test]
fn memory_stays_within_the_budget_while_flooding_a_service_that_keeps_timing_out() {
    memory_bound_while_down(|mock| mock.faults().hang_next(1_000), Duration::from_millis(50));
}

/// The budget identity with the service down: every batch waiting for its
/// retry holds its compressed body, to the byte, and nothing else holds
/// any of the budget (the queue is empty, no batch is open).
#[test]
fn with_the_service_down_the_budget_is_exactly_the_waiting_bodies() {
    let mock = MockLts::start().unwrap();
    mock.faults().fail_next(1_000_000, 500);
    let (shipper, guard) = Shipper::start(
        config(&mock)
            .batch_max_events(50)
            .linger(Duration::from_secs(60))
            .retry(SLOW_RETRY)
            .concurrency(lts_core::Concurrency::Fixed)
            .max_in_flight(4)
            .shutdown_timeout(Duration::from_millis(50))
            .build()
            .unwrap(),
    )
    .unwrap();
    for i in 0..1_000 {
        assert!(send(&shipper, format!("down {i}")).is_some());
    }
    // 20 batches sealed by count, each tried once and waiting a minute.
    assert!(mock.wait_for_requests(20, WAIT));
    let requests = mock.requests();
    assert_eq!(requests.len(), 20);
    assert_eq!(requests.iter().map(|r| r.events).sum::<usize>(), 1_000);
    let waiting: usize = requests.iter().map(|r| r.wire_bytes).sum();
    assert_eq!(shipper.queued_bytes(), waiting);
    assert_eq!(shipper.stats().pending(), 1_000);
    drop(guard);
}

/// Two threads flood a small budget while the service is down: every
/// record is either refused at `send` (counted) or, once the service is
/// back, delivered exactly once; none of those the accounting took in
/// goes missing, and the budget is all given back.
#[test]
fn a_flood_into_a_down_service_loses_nothing_it_took_in() {
    let mock = MockLts::start().unwrap();
    let budget = 128 * 1024;
    mock.faults().fail_next(1_000_000, 503);
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .queue_bytes(budget)
            .batch_max_bytes(16 * 1024)
            .retry(retry(1_000))
            .build()
            .unwrap(),
    )
    .unwrap();
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let shipper = shipper.clone();
            std::thread::spawn(move || {
                let mut taken = Vec::new();
                for i in 0..20_000 {
                    if let Some((_, message)) = send(&shipper, format!("t{t} {i}")) {
                        taken.push(message);
                    }
                    assert!(shipper.queued_bytes() <= budget);
                }
                taken
            })
        })
        .collect();
    let mut taken: Vec<String> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let s = shipper.stats();
    assert_eq!(s.enqueued, taken.len() as u64);
    assert_eq!(s.enqueued + s.dropped_queue_full, 40_000, "{s:?}");
    assert!(s.dropped_queue_full > 0, "the budget was never used up: {s:?}");
    mock.faults().clear();
    shipper.flush(WAIT).unwrap();
    let s = shipper.stats();
    assert_eq!((s.delivered, s.pending()), (taken.len() as u64, 0), "{s:?}");
    assert_eq!(shipper.queued_bytes(), 0);
    let mut got: Vec<String> = received(&mock).into_iter().map(|(_, m)| m).collect();
    got.sort();
    taken.sort();
    assert_eq!(got, taken);
}

#[test]
fn memory_stays_within_the_budget_while_flooding_a_service_answering_503() {
    memory_bound_while_down(|mock| mock.faults().fail_next(1_000_000, 503), Duration::from_secs(5));
}

#[test]
fn memory_stays_within_the_budget_while_two_threads_flood_a_hung_service() {
    // The worker is stuck in one hung request for the whole flood, so all
    // the contention is between the two senders' reservations.
    let mock = MockLts::start().unwrap();
    let budget = 64 * 1024;
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .queue_bytes(budget)
            .batch_max_bytes(16 * 1024)
            .request_timeout(Duration::from_secs(2))
            .build()
            .unwrap(),
    )
    .unwrap();
    mock.faults().hang_next(1);
    assert!(send(&shipper, "first".into()).is_some());
    assert!(mock.wait_for_requests(1, WAIT));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let shipper = shipper.clone();
            std::thread::spawn(move || flood(&shipper, budget, Duration::from_millis(800)))
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join()).collect();
    let flushed = shipper.flush(WAIT);
    let mut sends = 1;
    for r in results {
        sends += r.unwrap_or_else(|e| std::panic::resume_unwind(e)).0;
    }
    assert_balanced(&shipper, flushed, sends, Some(&Stats::default()));
}

#[test]
fn block_mode_memory_stays_within_the_budget_while_the_service_is_down() {
    let mock = MockLts::start().unwrap();
    let budget = 32 * 1024;
    let (shipper, _guard) = Shipper::start(
        block_mode_config(&mock)
            .request_timeout(Duration::from_millis(100))
            .build()
            .unwrap(),
    )
    .unwrap();
    // Down for a while (three hung requests, then 503s), within the tries.
    mock.faults().hang_next(3);
    mock.faults().fail_next(5, 503);
    let mut high_water = 0;
    for i in 0..3_000 {
        send(&shipper, format!("b{i}")).expect("block mode never refuses here");
        let used = shipper.queued_bytes();
        high_water = high_water.max(used);
        assert!(used <= budget, "{used} bytes in use, budget {budget}, after send {i}");
    }
    shipper.flush(WAIT).unwrap();
    assert_eq!(shipper.stats().delivered, 3_000);
    assert!(high_water > budget / 2, "the budget was never pressed: {high_water}");
    assert_eq!(shipper.queued_bytes(), 0);
}

// 4. Shutdown: bounded by its deadline even if the service hangs forever,
//    and what it could not deliver is counted and reported.

fn assert_shutdown_reported(seen: &Mutex<Vec<Diagnostic>>, undelivered: u64) {
    let lines = kinds(seen, DiagnosticKind::Shutdown);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(&format!("{undelivered} records undelivered")),
        "{}",
        lines[0]
    );
}

#[test]
fn the_guard_returns_within_its_deadline_when_the_service_hangs_and_counts_what_it_could_not_deliver() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let deadline = Duration::from_millis(300);
    let (shipper, guard) = Shipper::start(
        config(&mock)
            .linger(Duration::from_secs(60))
            .batch_max_events(10)
            .request_timeout(Duration::from_secs(30))
            .shutdown_timeout(deadline)
            .error_hook(hook)
            .build()
            .unwrap(),
    )
    .unwrap();
    // Ten delivered, then the service hangs for good.
    (0..10).for_each(|i| assert!(send(&shipper, format!("ok {i}")).is_some()));
    shipper.flush(WAIT).unwrap();
    mock.faults().hang_next(usize::MAX);
    (0..5).for_each(|i| assert!(send(&shipper, format!("stuck {i}")).is_some()));

    let started = Instant::now();
    drop(guard);
    let took = started.elapsed();
    assert!(
        took < deadline + Duration::from_millis(250),
        "the guard's drop took {took:?}"
    );
    let s = shipper.stats();
    assert_eq!(
        (s.enqueued, s.delivered, s.dropped_shutdown, s.pending()),
        (15, 10, 5, 0)
    );
    assert_shutdown_reported(&seen, 5);
    assert!(shipper.send(padded(&shipper, "late".into())).is_err());
}

#[test]
fn the_guard_returns_within_its_deadline_when_a_request_in_flight_hangs_and_counts_what_it_could_not_deliver() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let deadline = Duration::from_millis(300);
    // The default request timeout (10 s) is longer than the default
    // shutdown timeout (5 s); here 30 s and 300 ms.
    let (shipper, guard) = Shipper::start(
        config(&mock)
            .linger(Duration::from_secs(60))
            .batch_max_events(10)
            .request_timeout(Duration::from_secs(30))
            .shutdown_timeout(deadline)
            .error_hook(hook)
            .build()
            .unwrap(),
    )
    .unwrap();
    mock.faults().hang_next(usize::MAX);
    (0..10).for_each(|i| assert!(send(&shipper, format!("in flight {i}")).is_some()));
    // The full batch went out at once and hangs; more wait behind it.
    assert!(mock.wait_for_requests(1, WAIT));
    (0..7).for_each(|i| assert!(send(&shipper, format!("queued {i}")).is_some()));

    let started = Instant::now();
    drop(guard);
    let took = started.elapsed();
    assert!(
        took < deadline + Duration::from_millis(250),
        "the guard's drop took {took:?}"
    );
    let s = shipper.stats();
    assert_eq!(
        (s.enqueued, s.delivered, s.dropped_shutdown, s.pending()),
        (17, 0, 17, 0)
    );
    assert_shutdown_reported(&seen, 17);
}

// 5. A retried batch is the same batch: same bytes, same events, same times.

#[test]
fn a_retried_batch_is_the_same_bytes_events_and_times_whatever_the_failure() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            // The request sequence below is exact: one request at a time.
            .max_in_flight(1)
            .linger(Duration::from_secs(60))
            .batch_max_events(10)
            .queue_bytes(32 * 1024)
            .batch_max_bytes(8 * 1024)
            .request_timeout(Duration::from_millis(600))
            .retry(retry(8))
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut sent = Vec::new();
    let mut send_all = |from: usize, to: usize| {
        for i in from..to {
            sent.extend(send(&shipper, format!("r{i}")));
        }
    };

    // Batch 0: dropped connection, hang (timeout), 503, 429, 401, then 200.
    // Batch 1: 500, then 200.
    mock.faults().drop_next(1);
    mock.faults().hang_next(1);
    for (index, status) in [(2, 503), (3, 429), (4, 401), (6, 500)] {
        mock.faults().fail_request(index, status);
    }
    send_all(0, 20);
    shipper.flush(WAIT).unwrap();
    assert_eq!(
        mock.requests().iter().map(|r| r.status).collect::<Vec<_>>(),
        [0, 0, 503, 429, 401, 200, 500, 200]
    );

    // Batch 2: answered after the client gave up: the service has it twice.
    mock.faults().delay_next(1, Duration::from_secs(3));
    send_all(20, 30);
    shipper.flush(WAIT).unwrap();

    // Batch 3 hangs while records flood in and are dropped: its retry must
    // not pick up the report of those drops, nor anything else.
    mock.faults().hang_next(1);
    send_all(30, 40);
    assert!(mock.wait_for_requests(11, WAIT));
    send_all(40, 2_000);
    shipper.flush(WAIT).unwrap();
    send_all(2_000, 2_001);
    shipper.flush(WAIT).unwrap();
    assert!(shipper.stats().dropped_queue_full > 0, "nothing was dropped meanwhile");

    let requests = mock.requests();
    let runs = attempt_runs(&requests);
    assert_eq!(runs[0].len(), 6);
    assert_eq!(runs[1].len(), 2);
    assert_eq!(runs[2].len(), 2);
    assert_eq!(runs[3].len(), 2);
    assert!(
        runs.iter().all(|run| run.last().unwrap().status == 200),
        "a batch was not delivered"
    );
    // The events of a batch, once per batch (from its last attempt), are
    // exactly the records sent, with their capture times.
    let events = mock.events();
    let of = |request: usize| {
        events
            .iter()
            .filter(|e| e.request == request)
            .map(|e| (e.time_ns, e.line.clone()))
            .collect::<Vec<_>>()
    };
    let once: Vec<(u64, String)> = runs
        .iter()
        .flat_map(|run| of(run.last().unwrap().index))
        .map(|(t, line)| (t, json(&line)))
        .filter(|(_, v)| v["target"] != "lts")
        .map(|(t, v)| (t, v["message"].as_str().unwrap().to_owned()))
        .collect();
    assert!(once == sent, "the batches delivered are not the records sent");
    // The duplicate the slow answer caused is byte for byte the retry.
    let slow = &runs[2];
    assert_eq!(slow[0].fault.as_deref(), Some("delay"));
    assert_eq!(of(slow[0].index).len(), 10);
    assert_eq!(of(slow[0].index), of(slow[1].index));
    let s = shipper.stats();
    assert_eq!(s.requests as usize, requests.len());
    assert_eq!(s.retries as usize, requests.len() - runs.len());
}

// The soak test: steady load from two threads with random faults.

#[test]
#[ignore = "soak: 10 minutes; run with cargo test -p lts-core --release --test guarantees -- --ignored soak"]
fn soak_steady_load_with_random_faults_keeps_the_accounting_and_the_memory_bound() {
    let secs: u64 = std::env::var("LTS_SOAK_SECS")
        .ok()
        .map(|v| v.parse().expect("LTS_SOAK_SECS: a number of seconds"))
        .unwrap_or(600);
    let run_for = Duration::from_secs(secs);
    // Counting only: the mock keeps no events, so memory stays flat.
    let mock = Arc::new(MockLts::builder().counting_only(true).build().unwrap());
    let budget = 4 * 1024 * 1024;
    let (seen, hook) = hook();
    let (shipper, guard) = Shipper::start(
        config(&mock)
            .queue_bytes(budget)
            .batch_max_bytes(256 * 1024)
            .linger(Duration::from_millis(50))
            .request_timeout(Duration::from_millis(500))
            .retry(RetryPolicy {
                max_tries: 5,
                base: Duration::from_millis(5),
                max: Duration::from_millis(100),
            })
            .error_hook(hook)
            .build()
            .unwrap(),
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let high_water = Arc::new(AtomicUsize::new(0));
    let over_budget = Arc::new(AtomicU64::new(0));
    let sends = Arc::new(AtomicU64::new(0));

    // Chaos: random 503s all along, now and then a slow answer (longer than
    // the request timeout, so a duplicate) or a dropped connection.
    mock.faults().fail_fraction(0.1, 503, 2026);
    let chaos = {
        let (mock, stop) = (mock.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            while !stop.load(Ordering::Relaxed) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                match x % 10 {
                    0 => mock.faults().delay_next(1, Duration::from_millis(800)),
                    1 => mock.faults().drop_next(1),
                    2 => mock.faults().fail_next(8, 503),
                    _ => {}
                }
                // Pacing, not synchronization.
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let senders: Vec<_> = (0..2)
        .map(|t| {
            let shipper = shipper.clone();
            let (stop, high_water, over_budget, sends) =
                (stop.clone(), high_water.clone(), over_budget.clone(), sends.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..50 {
                        let _ = send(&shipper, format!("soak t{t} {i}"));
                        sends.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                        let used = shipper.queued_bytes();
                        high_water.fetch_max(used, Ordering::Relaxed);
                        if used > budget {
                            over_budget.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    // Steady load: about 20,000 records a second per thread.
                    std::thread::sleep(Duration::from_micros(2_500));
                }
            })
        })
        .collect();

    let started = Instant::now();
    let mut flushes = 0;
    while started.elapsed() < run_for {
        std::thread::sleep(Duration::from_secs(1).min(run_for));
        // Flushes while records keep coming: they must return.
        if let Ok(()) | Err(FlushError::Lost { .. }) = shipper.flush(WAIT) {
            flushes += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    senders.into_iter().for_each(|t| t.join().unwrap());
    chaos.join().unwrap();
    mock.faults().clear();
    let flushed = shipper.flush(WAIT);
    // Earlier flushes that timed out may have taken some losses with them:
    // only the books are checked exactly here.
    let s = assert_balanced(&shipper, flushed, sends.load(Ordering::Relaxed), None);
    drop(guard);
    let dropped = s.dropped_queue_full + s.dropped_rejected + s.dropped_retries_exhausted + s.dropped_shutdown;
    eprintln!(
        "soak: {secs} s, {} sends, {} delivered, {dropped} dropped ({} queue full, {} rejected, {} out of retries, {} at shutdown), \
         {} retries, {} requests, {flushes} flushes, queued_bytes high-water mark {} of {budget}, {} diagnostics",
        sends.load(Ordering::Relaxed),
        s.delivered,
        s.dropped_queue_full,
        s.dropped_rejected,
        s.dropped_retries_exhausted,
        s.dropped_shutdown,
        s.retries,
        s.requests,
        high_water.load(Ordering::Relaxed),
        seen.lock().unwrap().len(),
    );
    // The service has every delivered record (more, counting duplicates of
    // slow answers) and the in-band reports.
    assert!(mock.event_count() as u64 >= s.delivered);
    assert_eq!(
        over_budget.load(Ordering::Relaxed),
        0,
        "queued_bytes went over the budget"
    );
    assert!(high_water.load(Ordering::Relaxed) <= budget);
}
