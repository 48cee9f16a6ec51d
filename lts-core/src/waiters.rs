//! Flushes and the shutdown waiting for batches: each waits until every
//! batch sealed before it (sequence number below its target) is resolved,
//! and learns how many records of those were given up on.

use std::time::Instant;

use crossbeam_channel::Sender;

/// Someone waiting for every batch with `seq < target` to be resolved.
struct Waiter {
    target: u64,
    /// Records given up on among those batches so far.
    lost: u64,
    ack: Sender<u64>,
    deadline: Instant,
}

/// The flushes waiting, and the shutdown once one started.
#[derive(Default)]
pub(crate) struct Waiters {
    flushes: Vec<Waiter>,
    shutdown: Option<Waiter>,
    /// Losses resolved while no flush was waiting for them: the next
    /// waiter is told of them.
    lost_unclaimed: u64,
}

impl Waiters {
    /// A flush waiting for every batch below `target`.
    pub(crate) fn flush(&mut self, target: u64, ack: Sender<u64>, deadline: Instant) {
        let lost = std::mem::take(&mut self.lost_unclaimed);
        self.flushes.push(Waiter {
            target,
            lost,
            ack,
            deadline,
        });
    }

    /// The shutdown, waiting for everything.
    pub(crate) fn shutdown(&mut self, ack: Sender<u64>, deadline: Instant) {
        let lost = std::mem::take(&mut self.lost_unclaimed);
        self.shutdown = Some(Waiter {
            target: u64::MAX,
            lost,
            ack,
            deadline,
        });
    }

    /// The shutdown's deadline, once one started.
    pub(crate) fn shutdown_deadline(&self) -> Option<Instant> {
        self.shutdown.as_ref().map(|s| s.deadline)
    }

    /// Batch `seq` is resolved with `lost` records given up on.
    pub(crate) fn resolve(&mut self, seq: u64, lost: u64) {
        let mut claimed = false;
        for w in self.flushes.iter_mut().chain(self.shutdown.as_mut()) {
            if seq < w.target {
                w.lost += lost;
                claimed = true;
            }
        }
        if !claimed {
            self.lost_unclaimed += lost;
        }
    }

    /// Answers the flushes whose batches are all resolved (every batch
    /// below `done_below` is), and forgets those whose caller stopped
    /// waiting.
    pub(crate) fn answer(&mut self, done_below: u64, now: Instant) {
        self.flushes.retain(|w| {
            if w.target <= done_below {
                let _ = w.ack.send(w.lost);
                false
            } else {
                w.deadline > now
            }
        });
    }

    /// The end: every waiter is answered, the shutdown told of
    /// `never_batched` more records lost besides. Returns whether a
    /// shutdown was waiting.
    pub(crate) fn finish(&mut self, never_batched: u64) -> bool {
        for w in self.flushes.drain(..) {
            let _ = w.ack.send(w.lost);
        }
        match self.shutdown.take() {
            Some(s) => {
                let _ = s.ack.send(s.lost + never_batched);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_flush_is_answered_when_every_earlier_batch_is_resolved_with_their_losses() {
        let t0 = Instant::now();
        let mut w = Waiters::default();
        w.resolve(1, 4); // before anyone waited: the next waiter hears of it
        let (ack, done) = crossbeam_channel::bounded(1);
        w.flush(5, ack, t0 + Duration::from_secs(1));
        w.resolve(3, 2);
        w.resolve(7, 100); // after the flush: not its business
        w.answer(4, t0);
        assert!(done.try_recv().is_err(), "batch 4 is not resolved yet");
        w.answer(5, t0);
        assert_eq!(done.try_recv(), Ok(6));
    }

    #[test]
    fn a_flush_past_its_deadline_is_forgotten_and_the_shutdown_hears_of_everything() {
        let t0 = Instant::now();
        let mut w = Waiters::default();
        let (ack, done) = crossbeam_channel::bounded(1);
        w.flush(3, ack, t0 + Duration::from_millis(10));
        w.answer(1, t0 + Duration::from_millis(10));
        assert!(done.try_recv().is_err());
        w.resolve(1, 5); // nobody claims it now
        let (ack, stopped) = crossbeam_channel::bounded(1);
        w.shutdown(ack, t0 + Duration::from_secs(5));
        assert_eq!(w.shutdown_deadline(), Some(t0 + Duration::from_secs(5)));
        w.resolve(9, 2);
        assert!(w.finish(3));
        assert_eq!(stopped.try_recv(), Ok(5 + 2 + 3));
        assert!(done.try_recv().is_err(), "a forgotten flush is not answered");
    }
}
