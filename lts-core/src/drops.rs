//! Drops as LTS itself shows them: counts by cause, and the in-band report
//! (one `WARN` record, target `lts`) that the next sealed batch carries.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::record::{Level, Record};
use crate::shared::Counters;

/// Records dropped, by cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DropCounts {
    pub(crate) queue_full: u64,
    pub(crate) rejected: u64,
    pub(crate) retries_exhausted: u64,
}

impl DropCounts {
    /// The counters' values now.
    pub(crate) fn read(c: &Counters) -> DropCounts {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        DropCounts {
            queue_full: get(&c.dropped_queue_full),
            rejected: get(&c.dropped_rejected),
            retries_exhausted: get(&c.dropped_retries_exhausted),
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.queue_full + self.rejected + self.retries_exhausted
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.total() == 0
    }

    /// What was added since `earlier`.
    fn since(self, earlier: DropCounts) -> DropCounts {
        DropCounts {
            queue_full: self.queue_full - earlier.queue_full,
            rejected: self.rejected - earlier.rejected,
            retries_exhausted: self.retries_exhausted - earlier.retries_exhausted,
        }
    }
}

/// Which drops LTS has been told of (by a report in a batch not lost), and
/// since when the others wait.
#[derive(Debug)]
pub(crate) struct DropReports {
    reported: DropCounts,
    /// When unreported drops were first noticed.
    since_ns: Option<u64>,
    /// "Since" for drops noticed before any look.
    started_ns: u64,
}

impl DropReports {
    pub(crate) fn new(started_ns: u64) -> DropReports {
        DropReports {
            reported: DropCounts::default(),
            since_ns: None,
            started_ns,
        }
    }

    /// Notes when drops start, for the report's "since".
    pub(crate) fn watch(&mut self, now: DropCounts, wall_ns: u64) {
        if self.since_ns.is_none() && now != self.reported {
            self.since_ns = Some(wall_ns);
        }
    }

    /// Whether some drops are not yet carried by any batch's report.
    pub(crate) fn unreported(&self, now: DropCounts) -> bool {
        now != self.reported
    }

    /// The report of the drops not yet told of, stamped `time_ns`, and the
    /// counts it tells of; `None` when there are none. Nothing counts as
    /// told until [`DropReports::carried`].
    pub(crate) fn report(&self, now: DropCounts, time_ns: u64) -> Option<(Record, DropCounts)> {
        let new = now.since(self.reported);
        if new.is_zero() {
            return None;
        }
        let mut at = String::new();
        crate::format::write_rfc3339_nanos(&mut at, self.since_ns.unwrap_or(self.started_ns));
        let total = new.total();
        let record = Record::new(
            time_ns,
            Level::Warn,
            "lts",
            format!(
                "{total} records dropped since {at}: {} (queue full), {} (rejected by the service or outside its time window), {} (out of retries)",
                new.queue_full, new.rejected, new.retries_exhausted
            ),
        )
        .with_field("dropped", total)
        .with_field("dropped_queue_full", new.queue_full)
        .with_field("dropped_rejected", new.rejected)
        .with_field("dropped_retries_exhausted", new.retries_exhausted);
        Some((record, new))
    }

    /// A batch carries the report of `counts`.
    pub(crate) fn carried(&mut self, counts: DropCounts) {
        self.reported.queue_full += counts.queue_full;
        self.reported.rejected += counts.rejected;
        self.reported.retries_exhausted += counts.retries_exhausted;
        self.since_ns = None;
    }

    /// The batch that carried the report of `counts` was lost: they are
    /// owed again.
    pub(crate) fn unreport(&mut self, counts: DropCounts) {
        self.reported = self.reported.since(counts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(queue_full: u64, rejected: u64, retries_exhausted: u64) -> DropCounts {
        DropCounts {
            queue_full,
            rejected,
            retries_exhausted,
        }
    }

    #[test]
    fn a_report_tells_what_is_new_and_a_lost_report_is_owed_again() {
        let mut r = DropReports::new(0);
        assert!(r.report(counts(0, 0, 0), 1).is_none());
        r.watch(counts(2, 1, 0), 1_700_000_000_000_000_000);
        let (record, told) = r.report(counts(2, 1, 0), 5).unwrap();
        assert_eq!(told, counts(2, 1, 0));
        assert_eq!(record.time_ns, 5);
        assert_eq!(
            record.message,
            "3 records dropped since 2023-11-14T22:13:20.000000000Z: 2 (queue full), 1 (rejected by the service or outside its time window), 0 (out of retries)"
        );
        r.carried(told);
        assert!(!r.unreported(counts(2, 1, 0)));
        // Three more out of retries: only those are new.
        assert_eq!(r.report(counts(2, 1, 3), 6).unwrap().1, counts(0, 0, 3));
        // The batch with the first report was lost: owed again, with the new.
        r.unreport(told);
        assert_eq!(r.report(counts(2, 1, 3), 7).unwrap().1, counts(2, 1, 3));
    }
}
