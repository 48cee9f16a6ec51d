//! Batching: collecting escaped lines into one request body under the three
//! caps (events, encoded bytes, linger time). A line longer than the byte
//! cap travels in a batch of its own.

use std::time::{Duration, Instant};

use crate::config::MAX_BATCH_BYTES;
use crate::encode::Api;
use crate::encode::Body;

/// The open batch: a body being written and what it holds.
#[derive(Debug)]
pub(crate) struct Builder {
    body: Body,
    max_events: usize,
    max_bytes: usize,
    linger: Duration,
    opened: Option<Instant>,
    reserved: usize,
    lost_before: u64,
    internal: u64,
    first_time_ns: u64,
    /// `len_with(0)` of an empty body: the overhead of a one-event batch.
    empty_len: usize,
    /// What closes the body after `"labels":` (see [`crate::encode::batch_tail`]).
    tail: String,
}

/// What [`Builder::take`] hands over for sealing.
#[derive(Debug)]
pub(crate) struct Sealed {
    pub(crate) raw: String,
    pub(crate) events: u64,
    pub(crate) internal: u64,
    pub(crate) first_time_ns: u64,
    pub(crate) reserved: usize,
    pub(crate) lost_before: u64,
}

impl Builder {
    /// An empty batch whose body ends with `tail` (its labels, and its
    /// tenant when one is set).
    pub(crate) fn new(api: Api, tail: String, max_events: usize, max_bytes: usize, linger: Duration) -> Builder {
        let body = Body::new(api, &tail);
        Builder {
            tail,
            empty_len: body.len_with(0),
            body,
            max_events,
            max_bytes,
            linger,
            opened: None,
            reserved: 0,
            lost_before: 0,
            internal: 0,
            first_time_ns: 0,
        }
    }

    /// The longest escaped line a batch can carry: a line longer than the
    /// byte cap travels alone, in a batch of up to [`MAX_BATCH_BYTES`].
    pub(crate) fn max_escaped_line(&self) -> usize {
        MAX_BATCH_BYTES.max(self.max_bytes).saturating_sub(self.empty_len)
    }

    /// Whether an event with an escaped line of this length fits without
    /// breaking a cap.
    pub(crate) fn fits(&self, escaped_len: usize) -> bool {
        self.body.events() < self.max_events && self.body.len_with(escaped_len) <= self.max_bytes
    }

    /// Whether the event cap is reached, or the byte cap (by a line that
    /// travels alone).
    pub(crate) fn is_full(&self) -> bool {
        self.body.events() >= self.max_events || self.body.len_with(0) > self.max_bytes
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.body.events() == 0
    }

    /// Adds an event; the caller checked [`Builder::fits`], or the batch is
    /// empty (a line longer than the byte cap then fills it alone).
    /// `internal` marks the pipeline's own reports.
    pub(crate) fn push(&mut self, time_ns: u64, escaped_line: &str, reserved: usize, internal: bool, now: Instant) {
        if self.body.events() == 0 {
            self.opened = Some(now);
            self.first_time_ns = time_ns;
        }
        self.body.push(time_ns, escaped_line);
        self.reserved += reserved;
        self.internal += u64::from(internal);
    }

    /// Counts a record given up on before it reached a batch.
    pub(crate) fn add_lost(&mut self, n: u64) {
        self.lost_before += n;
    }

    pub(crate) fn lost_before(&self) -> u64 {
        self.lost_before
    }

    /// When the open batch must be sealed, if it holds anything.
    pub(crate) fn linger_deadline(&self) -> Option<Instant> {
        self.opened.map(|t| t + self.linger)
    }

    /// Takes the open batch's content, leaving it empty.
    pub(crate) fn take(&mut self) -> Sealed {
        let events = self.body.events() as u64;
        self.opened = None;
        Sealed {
            raw: self.body.finish(&self.tail),
            events,
            internal: std::mem::take(&mut self.internal),
            first_time_ns: self.first_time_ns,
            reserved: std::mem::take(&mut self.reserved),
            lost_before: std::mem::take(&mut self.lost_before),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_cap_and_the_byte_cap_are_both_enforced() {
        let mut b = Builder::new(Api::HighAccuracy, "{}".into(), 3, 10_000, Duration::from_secs(1));
        let now = Instant::now();
        for _ in 0..3 {
            assert!(b.fits(10));
            b.push(1, "\"0123456789\"", 5, false, now);
        }
        assert!(!b.fits(10));
        assert!(b.is_full());
        let sealed = b.take();
        assert_eq!((sealed.events, sealed.reserved), (3, 15));
        assert!(b.is_empty() && b.linger_deadline().is_none());

        let mut b = Builder::new(Api::HighAccuracy, "{}".into(), 100, 200, Duration::from_secs(1));
        let mut n = 0;
        while b.fits(30) {
            b.push(
                1_000_000_000_000_000_000,
                &format!("\"{}\"", "x".repeat(28)),
                1,
                false,
                now,
            );
            n += 1;
        }
        let raw = b.take().raw;
        assert!(raw.len() <= 200, "{}", raw.len());
        assert!(n >= 2);
    }

    #[test]
    fn linger_deadline_starts_with_the_first_event() {
        let mut b = Builder::new(Api::Standard, "{}".into(), 10, 1000, Duration::from_millis(250));
        let t0 = Instant::now();
        b.push(1, "\"a\"", 1, false, t0);
        b.push(2, "\"b\"", 1, false, t0 + Duration::from_millis(100));
        assert_eq!(b.linger_deadline(), Some(t0 + Duration::from_millis(250)));
    }
}
