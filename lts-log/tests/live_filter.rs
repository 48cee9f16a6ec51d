//! Directives changed while the program runs: the change holds for the
//! next record on every thread, and records logged while it happens are
//! neither lost nor duplicated.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;

use common::{config_for, events, Event, FLUSH};
use log::LevelFilter;
use lts_log::{InitError, LtsLogger};
use lts_mock::MockLts;

const THREADS: usize = 4;
const PER_PHASE: usize = 100;

fn seqs(got: &[Event], message: &str) -> Vec<u64> {
    got.iter()
        .filter(|e| e.message() == message)
        .map(|e| e.json["fields"]["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_change_holds_for_the_next_record_on_every_thread_and_loses_nothing_in_flight() {
    log::set_max_level(LevelFilter::Trace);
    let mock = MockLts::start().unwrap();
    let (l, _guard) = LtsLogger::builder(config_for(&mock).build().unwrap())
        .filter("info")
        .build()
        .unwrap();
    let handle = l.filter_handle();
    let phase = Barrier::new(THREADS + 1);
    let stop = AtomicBool::new(false);
    let background = std::thread::scope(|s| {
        // Logs all through the changes, each record numbered.
        let background = s.spawn(|| {
            let mut n = 0u64;
            // Capped, so a slow run cannot outgrow the queue budget.
            while !stop.load(Ordering::Acquire) && n < 20_000 {
                log::info!(logger: &l, seq = n; "steady");
                log::debug!(logger: &l, seq = n; "chatty");
                n += 1;
            }
            n
        });
        for _ in 0..THREADS {
            s.spawn(|| {
                for p in 1..=3 {
                    phase.wait(); // the filter for phase p is in force
                    for _ in 0..PER_PHASE {
                        log::debug!(logger: &l, "debug {p}");
                        log::info!(logger: &l, "info {p}");
                    }
                    phase.wait(); // phase p done
                }
            });
        }
        for directives in ["info", "debug", "info"] {
            handle.set(directives).unwrap();
            phase.wait();
            phase.wait();
        }
        stop.store(true, Ordering::Release);
        background.join().unwrap()
    });
    l.shipper().flush(FLUSH).unwrap();
    let got = events(&mock);
    let count = |m: &str| got.iter().filter(|e| e.message() == m).count();
    let all = THREADS * PER_PHASE;
    assert_eq!(
        [1, 2, 3].map(|p| (count(&format!("debug {p}")), count(&format!("info {p}")))),
        [(0, all), (all, all), (0, all)]
    );
    // The steady records all arrived, once each.
    let steady = seqs(&got, "steady");
    assert_eq!(steady, (0..background).collect::<Vec<_>>());
    // The chatty ones arrived while debug was on: one unbroken run, no repeats.
    let chatty = seqs(&got, "chatty");
    let unique: BTreeSet<u64> = chatty.iter().copied().collect();
    assert_eq!(unique.len(), chatty.len(), "no duplicates");
    if let (Some(first), Some(last)) = (chatty.first(), chatty.last()) {
        assert_eq!(chatty, (*first..=*last).collect::<Vec<_>>());
    }
    assert_eq!(handle.directives(), "info");
    assert_eq!(handle.max_level(), LevelFilter::Info);
}

#[test]
fn malformed_directives_are_refused_and_the_old_ones_stay() {
    let mock = MockLts::start().unwrap();
    let (l, _guard) = LtsLogger::builder(config_for(&mock).build().unwrap())
        .filter("warn")
        .build()
        .unwrap();
    let handle = l.filter_handle();
    match handle.set("a=b=c") {
        Err(InitError::Filter { origin, .. }) => assert_eq!(origin, "FilterHandle::set"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(handle.directives(), "warn");
    assert_eq!(l.max_level(), LevelFilter::Warn);
}
