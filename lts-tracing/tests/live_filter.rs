//! A LiveFilter changed while events are emitted: the change holds for the
//! next event on every thread, events emitted during it are neither lost
//! nor duplicated, and a layer beside it keeps its own filter.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;

use common::{config, delivered, Got, Seen};
use lts_mock::MockLts;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

const THREADS: usize = 4;
const PER_PHASE: usize = 100;

fn seqs(got: &[Got], message: &str) -> Vec<u64> {
    got.iter()
        .filter(|g| g.json["message"] == message)
        .map(|g| g.json["fields"]["seq"].as_u64().unwrap())
        .collect()
}

/// Alone, the LTS layer's filter decides the callsites' cached interest and
/// the maximum level (a change must rebuild both); beside another layer,
/// it must leave that layer's filter alone. One test, one after the other:
/// interest is process-wide, and a second dispatcher alive at the same time
/// would keep every callsite interesting.
#[test]
fn a_change_holds_for_the_next_event_on_every_thread_and_loses_nothing_in_flight() {
    scenario(Beside::Nothing);
    scenario(Beside::AnotherLayer);
}

#[derive(PartialEq)]
enum Beside {
    Nothing,
    AnotherLayer,
}

fn scenario(beside: Beside) {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let (filter, handle) = lts_tracing::LiveFilter::new("info").unwrap();
    let seen = Seen::default();
    let dispatch = match beside {
        Beside::Nothing => tracing::Dispatch::new(tracing_subscriber::registry().with(layer.with_filter(filter))),
        Beside::AnotherLayer => tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(layer.with_filter(filter))
                .with(seen.clone().with_filter(LevelFilter::TRACE)),
        ),
    };
    let phase = Barrier::new(THREADS + 1);
    let stop = AtomicBool::new(false);
    let background = std::thread::scope(|s| {
        // Emits all through the changes, each event numbered.
        let background = s.spawn(|| {
            tracing::dispatcher::with_default(&dispatch, || {
                let mut n = 0u64;
                // Capped, so a slow run cannot outgrow the queue budget.
                while !stop.load(Ordering::Acquire) && n < 20_000 {
                    tracing::info!(seq = n, "steady");
                    tracing::debug!(seq = n, "chatty");
                    n += 1;
                }
                n
            })
        });
        for _ in 0..THREADS {
            s.spawn(|| {
                tracing::dispatcher::with_default(&dispatch, || {
                    for p in 1..=3 {
                        phase.wait(); // the filter for phase p is in force
                        for _ in 0..PER_PHASE {
                            tracing::debug!(p, "debug");
                            tracing::info!(p, "info");
                        }
                        phase.wait(); // phase p done
                    }
                });
            });
        }
        for directives in ["info", "debug", "info"] {
            // Inside the dispatcher: with a single (scoped) dispatcher,
            // tracing-core rebuilds interest through the caller's default.
            tracing::dispatcher::with_default(&dispatch, || handle.set(directives)).unwrap();
            phase.wait();
            phase.wait();
        }
        stop.store(true, Ordering::Release);
        background.join().unwrap()
    });
    let got = delivered(&shipper, &mock);
    let count = |m: &str, p: u64| {
        got.iter()
            .filter(|g| g.json["message"] == m && g.json["fields"]["p"] == p)
            .count()
    };
    let all = THREADS * PER_PHASE;
    assert_eq!(
        [1, 2, 3].map(|p| (count("debug", p), count("info", p))),
        [(0, all), (all, all), (0, all)]
    );
    let steady = seqs(&got, "steady");
    assert_eq!(steady, (0..background).collect::<Vec<_>>());
    let chatty = seqs(&got, "chatty");
    let unique: BTreeSet<u64> = chatty.iter().copied().collect();
    assert_eq!(unique.len(), chatty.len(), "no duplicates");
    if let (Some(first), Some(last)) = (chatty.first(), chatty.last()) {
        assert_eq!(chatty, (*first..=*last).collect::<Vec<_>>());
    }
    if beside == Beside::AnotherLayer {
        // The layer beside it saw every event, whatever the LTS filter said.
        assert_eq!(seen.targets().len() as u64, 3 * 2 * all as u64 + 2 * background);
    }
}
