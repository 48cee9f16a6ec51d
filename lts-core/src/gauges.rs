//! What an operator watches of delivery, kept in the shared counters:
//! requests out now and at most, the concurrency limit, and the recent
//! round trips (median and max of the last [`RECENT`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::shared::Shared;

/// Round trips kept for the recent median and max.
pub(crate) const RECENT: usize = 64;

pub(crate) struct Gauges {
    shared: Arc<Shared>,
    recent: VecDeque<Duration>,
    sorted: Vec<Duration>,
}

impl Gauges {
    pub(crate) fn new(shared: Arc<Shared>) -> Gauges {
        Gauges {
            shared,
            recent: VecDeque::with_capacity(RECENT),
            sorted: Vec::with_capacity(RECENT),
        }
    }

    /// A request went out: `in_flight` are out, under `limit`.
    pub(crate) fn sent(&mut self, in_flight: usize, limit: usize) {
        let c = &self.shared.counters;
        set(&c.in_flight, in_flight);
        c.in_flight_max.fetch_max(in_flight as u64, Ordering::Relaxed);
        set(&c.concurrency_limit, limit);
    }

    /// An answer came after `rtt`; `pace`: the requests per second the
    /// limiter allows, if the service throttled.
    pub(crate) fn answered(&mut self, rtt: Duration, in_flight: usize, limit: usize, pace: Option<f64>) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(rtt);
        self.sorted.clear();
        self.sorted.extend(self.recent.iter().copied());
        self.sorted.sort_unstable();
        let c = &self.shared.counters;
        let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        c.rtt_median_us
            .store(us(self.sorted[self.sorted.len() / 2]), Ordering::Relaxed);
        c.rtt_max_us
            .store(us(self.sorted[self.sorted.len() - 1]), Ordering::Relaxed);
        set(&c.in_flight, in_flight);
        set(&c.concurrency_limit, limit);
        c.pace_per_second
            .store(pace.map_or(0, |p| p.round() as u64), Ordering::Relaxed);
    }
}

fn set(gauge: &AtomicU64, n: usize) {
    gauge.store(n as u64, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recent_median_and_max_cover_the_last_round_trips_only() {
        let shared = Arc::new(Shared::new(1 << 20));
        let mut g = Gauges::new(shared.clone());
        g.sent(3, 4);
        g.sent(1, 4);
        for ms in 1..=(RECENT as u64 + 10) {
            g.answered(Duration::from_millis(ms), 0, 5, Some(17.6));
        }
        let s = shared.counters.snapshot();
        // The last 64 are 11..=74 ms: the median is the 33rd, 43 ms.
        assert_eq!((s.rtt_median_us, s.rtt_max_us), (43_000, 74_000));
        assert_eq!((s.in_flight, s.in_flight_max, s.concurrency_limit), (0, 3, 5));
        assert_eq!(s.pace_per_second, 18);
    }
}
