//! The capture time: read on the caller's thread when the event happens,
//! before anything else, and delivered as the event's `log_time_ns`.

mod common;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{config, delivered};
use lts_core::clock::wall_ns;
use lts_core::ClockMode;
use lts_mock::MockLts;
use tracing_subscriber::prelude::*;

/// Strict mode hands out `last + 1 ns` when the wall clock has not moved
/// past the last time handed out (by any thread of this test process), so a
/// time may be a few nanoseconds past the wall clock read after the event.
const STRICT_SLACK_NS: u64 = 1_000;

fn times_fall_in_their_windows(clock: ClockMode, slack: u64) {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).clock(clock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let mut windows = Vec::new();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..200u64 {
            let before = wall_ns();
            tracing::info!(i, "event {i}");
            let after = wall_ns();
            windows.push((before, after));
        }
    });
    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 200);
    let mut last = 0;
    for (i, (event, (before, after))) in got.iter().zip(&windows).enumerate() {
        assert_eq!(event.json["fields"]["i"], i as u64, "events arrive in order");
        assert!(
            *before <= event.time_ns && event.time_ns <= after + slack,
            "event {i}: {before} <= {} <= {after} + {slack}",
            event.time_ns
        );
        // The line's own time is the same instant.
        assert_eq!(event.json["time"], lts_mock::rfc3339_nanos(event.time_ns));
        assert!(event.time_ns > last || clock == ClockMode::Wall);
        last = event.time_ns;
    }
}

#[test]
fn every_event_carries_a_time_read_during_its_macro_call_strict_clock() {
    times_fall_in_their_windows(ClockMode::StrictlyIncreasing, STRICT_SLACK_NS);
}

#[test]
fn every_event_carries_a_time_read_during_its_macro_call_wall_clock() {
    times_fall_in_their_windows(ClockMode::Wall, 0);
}

/// A value whose `Debug` notes when it was formatted.
struct Stamp<'a>(&'a AtomicU64);

impl fmt::Debug for Stamp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.store(wall_ns(), Ordering::SeqCst);
        f.write_str("stamped")
    }
}

#[test]
fn the_time_is_read_before_the_fields_are_recorded() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).clock(ClockMode::Wall).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let formatted_at = AtomicU64::new(0);
    let before = wall_ns();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(value = ?Stamp(&formatted_at), "first field formatted after the clock read");
    });
    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json["fields"]["value"], "stamped");
    let formatted_at = formatted_at.load(Ordering::SeqCst);
    assert!(before <= got[0].time_ns && got[0].time_ns <= formatted_at);
}
