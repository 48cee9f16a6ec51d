//! Flush and shutdown called by async programs: from a `current_thread`
//! tokio runtime (the flavor of `#[tokio::main(flavor = "current_thread")]`
//! and of `#[tokio::test]`), directly on its only thread and from
//! `spawn_blocking`. The shipper runs on its own thread, so a blocking
//! flush on the runtime's thread cannot deadlock; with the service hanging,
//! each call returns at its deadline.

mod common;

use std::time::{Duration, Instant};

use lts_core::{FlushError, Level, Record, Shipper};
use lts_mock::MockLts;

fn send(shipper: &Shipper, n: usize) {
    for i in 0..n {
        shipper
            .send(Record::new(
                shipper.now_ns(),
                Level::Info,
                "async",
                format!("event {i}"),
            ))
            .unwrap();
    }
}

/// How far past its deadline a call may return: the worker's grace to
/// answer (50 ms) and scheduling on a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "current_thread")]
async fn flush_and_shutdown_on_the_runtime_thread_deliver_everything() {
    let mock = MockLts::start().unwrap();
    let (shipper, guard) = Shipper::start(common::config(&mock).build().unwrap()).unwrap();
    // An async task sends while the runtime is running.
    let s = shipper.clone();
    tokio::spawn(async move { send(&s, 100) }).await.unwrap();
    // Blocking the runtime's only thread: the worker is not on it.
    assert_eq!(shipper.flush(Duration::from_secs(5)), Ok(()));
    assert_eq!(mock.event_count(), 100);
    send(&shipper, 20);
    assert_eq!(guard.shutdown(), Ok(()));
    assert_eq!(mock.event_count(), 120);
    assert_eq!(shipper.stats().delivered, 120);
}

#[tokio::test(flavor = "current_thread")]
async fn flush_and_shutdown_from_spawn_blocking_deliver_everything() {
    let mock = MockLts::start().unwrap();
    let (shipper, guard) = Shipper::start(common::config(&mock).build().unwrap()).unwrap();
    send(&shipper, 50);
    let s = shipper.clone();
    let (flushed, stopped) = tokio::task::spawn_blocking(move || {
        let flushed = s.flush(Duration::from_secs(5));
        send(&s, 10);
        (flushed, guard.shutdown())
    })
    .await
    .unwrap();
    assert_eq!((flushed, stopped), (Ok(()), Ok(())));
    assert_eq!(mock.event_count(), 60);
}

#[tokio::test(flavor = "current_thread")]
async fn with_the_service_hanging_flush_and_shutdown_return_at_their_deadlines() {
    let mock = MockLts::start().unwrap();
    mock.faults().hang_next(100);
    let flush_deadline = Duration::from_millis(300);
    let shutdown_deadline = Duration::from_millis(400);
    let (shipper, guard) = Shipper::start(
        common::config(&mock)
            .request_timeout(Duration::from_secs(30))
            .shutdown_timeout(shutdown_deadline)
            .build()
            .unwrap(),
    )
    .unwrap();
    send(&shipper, 5);

    let started = Instant::now();
    let flushed = shipper.flush(flush_deadline);
    let took = started.elapsed();
    assert_eq!(flushed, Err(FlushError::Timeout { pending: 5 }));
    assert!(took >= flush_deadline && took < flush_deadline + SLACK, "{took:?}");

    // The guard dropped inside a blocking task of the runtime, as an async
    // main's cleanup would.
    let (stopped, took) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let stopped = guard.shutdown();
        (stopped, started.elapsed())
    })
    .await
    .unwrap();
    assert!(
        took >= shutdown_deadline && took < shutdown_deadline + SLACK,
        "{took:?}"
    );
    // A request was still out at the deadline: abandoned, and its records
    // counted as lost by the worker before the guard returned.
    assert_eq!(stopped, Err(FlushError::Lost { lost: 5 }));
    assert_eq!(shipper.stats().dropped_shutdown, 5);
}
