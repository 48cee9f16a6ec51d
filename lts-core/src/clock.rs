//! The capture clock: UTC nanoseconds since the Unix epoch, read on the
//! caller's thread at the moment an event happens.
//!
//! LTS sorts a stream by `log_time_ns`. Two events that read the same
//! nanosecond, or an event read just after the wall clock stepped backwards,
//! would be shown out of order. [`ClockMode::StrictlyIncreasing`] (the
//! default) therefore hands out a time that is strictly greater than every
//! time handed out before it in this process, across all threads: when the
//! wall clock reads a time not after the last one, the event gets
//! `last + 1 ns`. The cost is one clock read and one uncontended atomic
//! compare-and-swap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// How the capture time is read.
///
/// # Example
///
/// ```
/// let builder = lts_core::Config::builder().clock(lts_core::ClockMode::Wall);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClockMode {
    /// Wall-clock time, made strictly increasing across the whole process
    /// (`last + 1 ns` when the wall clock does not move forward). The default.
    #[default]
    StrictlyIncreasing,
    /// The wall clock as it reads, which may repeat or step backwards.
    Wall,
}

/// The last time handed out in strictly increasing mode, process-wide.
static LAST_NS: AtomicU64 = AtomicU64::new(0);

/// Reads the wall clock as UTC nanoseconds since the Unix epoch.
///
/// A clock set before 1970 reads as 0; one past the year 2554 (where `u64`
/// nanoseconds end) reads as `u64::MAX`.
#[inline]
pub fn wall_ns() -> u64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
        Err(_) => 0,
    }
}

/// Reads the capture time in the given mode.
#[inline]
pub fn now_ns(mode: ClockMode) -> u64 {
    match mode {
        ClockMode::Wall => wall_ns(),
        ClockMode::StrictlyIncreasing => strictly_after_last(&LAST_NS, wall_ns()),
    }
}

/// Returns `wall` if it is after every time handed out so far, else the last
/// time handed out plus one nanosecond, and records the result as the last.
#[inline]
fn strictly_after_last(last_ns: &AtomicU64, wall: u64) -> u64 {
    let mut last = last_ns.load(Ordering::Relaxed);
    loop {
        let next = if wall > last { wall } else { last.saturating_add(1) };
        match last_ns.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_mode_never_repeats_even_when_the_wall_clock_steps_back() {
        let last = AtomicU64::new(0);
        let a = strictly_after_last(&last, 5_000_000_000);
        assert_eq!(a, 5_000_000_000);
        // The wall clock stepped back one second, then read the same twice.
        let b = strictly_after_last(&last, 4_000_000_000);
        let c = strictly_after_last(&last, 4_000_000_000);
        assert_eq!((b, c), (a + 1, a + 2));
        // Once the wall clock is ahead again, its reading is used as is.
        assert_eq!(strictly_after_last(&last, 6_000_000_000), 6_000_000_000);
    }

    #[test]
    fn strict_mode_is_strictly_increasing_across_threads() {
        let per_thread = 20_000;
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    (0..per_thread)
                        .map(|_| now_ns(ClockMode::StrictlyIncreasing))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            let times = h.join().unwrap();
            assert!(times.windows(2).all(|w| w[0] < w[1]));
            all.extend(times);
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "two events got the same time");
    }

    #[test]
    fn wall_mode_reads_the_wall_clock() {
        let before = wall_ns();
        let t = now_ns(ClockMode::Wall);
        let after = wall_ns();
        assert!(before <= t && t <= after);
    }
}

/// Both clocks, read together: the monotonic one for deadlines, the wall
/// one for the service's time window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub(crate) instant: std::time::Instant,
    pub(crate) wall_ns: u64,
}

impl Now {
    pub(crate) fn read() -> Now {
        Now {
            instant: std::time::Instant::now(),
            wall_ns: wall_ns(),
        }
    }
}
