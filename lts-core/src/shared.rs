//! State the handles and the worker share: the queue [`Budget`], the
//! counters behind [`Stats`], and the flags a shutdown sets.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::route_stats::RouteCounters;

/// Counters of everything the pipeline did, since it started.
///
/// At any flush that returned `Ok` or `Lost`, every record accepted has been
/// accounted for: `enqueued + restored == delivered + dropped_rejected +
/// dropped_retries_exhausted + dropped_shutdown + pending()`, and
/// `pending()` is 0. Records refused by
/// `send` (`dropped_queue_full`) were never enqueued.
///
/// # Example
///
/// ```
/// # let mock = lts_mock::MockLts::start()?;
/// # let config = lts_core::Config::builder()
/// #     .endpoint(mock.endpoint())
/// #     .project_id(lts_mock::PROJECT_ID)
/// #     .log_group_id(lts_mock::LOG_GROUP_ID)
/// #     .log_stream_id(lts_mock::LOG_STREAM_ID)
/// #     .token(mock.token())
/// #     .build()?;
/// use std::time::Duration;
/// use lts_core::{Level, Record, Shipper};
///
/// let (shipper, _guard) = Shipper::start(config)?;
/// shipper.send(Record::new(shipper.now_ns(), Level::Info, "app", "hello"))?;
/// shipper.flush(Duration::from_secs(5))?;
/// let stats = shipper.stats();
/// assert_eq!((stats.enqueued, stats.delivered, stats.pending()), (1, 1, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Records accepted by [`Shipper::send`](crate::Shipper::send): a record is counted before
    /// `send` returns `Ok`.
    pub enqueued: u64,
    /// Records the service acknowledged.
    pub delivered: u64,
    /// Records refused by `send` because the queue budget was used up (or
    /// the shipper was shut down).
    pub dropped_queue_full: u64,
    /// Records in batches the service refused (400 and other non-retryable
    /// answers), and records outside the service's time window.
    pub dropped_rejected: u64,
    /// Records in batches that ran out of retries.
    pub dropped_retries_exhausted: u64,
    /// Records still undelivered when the shutdown deadline passed.
    pub dropped_shutdown: u64,
    /// Lines cut because they were longer than the line limit.
    pub truncated: u64,
    /// Requests that were retries of an earlier attempt.
    pub retries: u64,
    /// HTTP requests made.
    pub requests: u64,
    /// Body bytes sent, after compression.
    pub bytes_sent: u64,
    /// Body bytes sent, before compression.
    pub bytes_raw: u64,
    /// Records written to the disk spool (they stay pending until delivered).
    pub spooled: u64,
    /// Records found in the disk spool at start, left by an earlier run.
    pub restored: u64,
    /// Spooled batches skipped because they failed their checksum or were
    /// cut short by a crash (never sent).
    pub spool_corrupt: u64,
    /// Requests out now.
    pub in_flight: u64,
    /// The most requests out at once so far.
    pub in_flight_max: u64,
    /// How many requests may be out now (adapts to the service unless
    /// `Concurrency::Fixed`).
    pub concurrency_limit: u64,
    /// The median round trip of the last 64 requests, in microseconds.
    pub rtt_median_us: u64,
    /// The longest round trip of the last 64 requests, in microseconds.
    pub rtt_max_us: u64,
    /// Requests per second allowed since the service throttled (429, 503):
    /// 90% of what it accepted, rising 5% a calm second; 0 when it never did.
    pub pace_per_second: u64,
    /// Records refused by the per-call-site rate limit
    /// ([`ConfigBuilder::rate_limit`](crate::ConfigBuilder::rate_limit));
    /// never enqueued. Equal, after a flush, to the sum of the in-band
    /// reports' `suppressed` counts.
    pub suppressed: u64,
    /// Records let through unlimited because their call site found no slot
    /// in the rate limit's table (more than 4096 call sites).
    pub rate_limit_untracked: u64,
    /// Records that travelled in an overflow batch because
    /// [`max_open_batches`](crate::ConfigBuilder::max_open_batches) batches
    /// were open (their label fields say `"(overflow)"`); all delivered as
    /// any other. Per route in [`RouteStats`](crate::RouteStats).
    pub label_overflow: u64,
    /// Records larger than a queue chunk (64 KiB in the queue): each
    /// travelled in a chunk allocated for it and freed after it, the one
    /// case where queueing a record allocates.
    pub queue_spills: u64,
}

impl Stats {
    /// Records accepted but neither delivered nor given up on yet.
    pub fn pending(&self) -> u64 {
        (self.enqueued + self.restored).saturating_sub(
            self.delivered + self.dropped_rejected + self.dropped_retries_exhausted + self.dropped_shutdown,
        )
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_rejected: AtomicU64,
    pub(crate) dropped_retries_exhausted: AtomicU64,
    pub(crate) dropped_shutdown: AtomicU64,
    pub(crate) truncated: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) bytes_raw: AtomicU64,
    pub(crate) spooled: AtomicU64,
    pub(crate) restored: AtomicU64,
    pub(crate) spool_corrupt: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) in_flight_max: AtomicU64,
    pub(crate) concurrency_limit: AtomicU64,
    pub(crate) rtt_median_us: AtomicU64,
    pub(crate) rtt_max_us: AtomicU64,
    pub(crate) pace_per_second: AtomicU64,
    pub(crate) label_overflow: AtomicU64,
}

pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Acquire);
        Stats {
            // Counted by the queue, under its lock (`Queue::enqueued`).
            enqueued: 0,
            delivered: get(&self.delivered),
            dropped_queue_full: get(&self.dropped_queue_full),
            dropped_rejected: get(&self.dropped_rejected),
            dropped_retries_exhausted: get(&self.dropped_retries_exhausted),
            dropped_shutdown: get(&self.dropped_shutdown),
            truncated: get(&self.truncated),
            retries: get(&self.retries),
            requests: get(&self.requests),
            bytes_sent: get(&self.bytes_sent),
            bytes_raw: get(&self.bytes_raw),
            spooled: get(&self.spooled),
            restored: get(&self.restored),
            spool_corrupt: get(&self.spool_corrupt),
            in_flight: get(&self.in_flight),
            in_flight_max: get(&self.in_flight_max),
            concurrency_limit: get(&self.concurrency_limit),
            rtt_median_us: get(&self.rtt_median_us),
            rtt_max_us: get(&self.rtt_max_us),
            pace_per_second: get(&self.pace_per_second),
            suppressed: 0,
            rate_limit_untracked: 0,
            label_overflow: get(&self.label_overflow),
            queue_spills: 0,
        }
    }
}

/// The memory budget: bytes held by queued records and unsent batches.
pub(crate) struct Budget {
    used: AtomicUsize,
    limit: usize,
    waiters: AtomicUsize,
    lock: Mutex<()>,
    room: Condvar,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Budget {
        Budget {
            used: AtomicUsize::new(0),
            limit,
            waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            room: Condvar::new(),
        }
    }

    /// Takes `n` bytes of the budget if they are free. The total never
    /// reads over the limit, not even for a moment.
    #[inline]
    pub(crate) fn try_reserve(&self, n: usize) -> bool {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            if used + n > self.limit {
                return false;
            }
            match self
                .used
                .compare_exchange_weak(used, used + n, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    /// Takes `n` bytes, waiting up to `max` for them.
    pub(crate) fn reserve_within(&self, n: usize, max: Duration) -> bool {
        if self.try_reserve(n) {
            return true;
        }
        let deadline = Instant::now() + max;
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let ok = loop {
            if self.try_reserve(n) {
                break true;
            }
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            guard = match self.room.wait_timeout(guard, deadline - now) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        };
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        ok
    }

    /// Gives `n` bytes back.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.used.fetch_sub(n, Ordering::AcqRel);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.room.notify_all();
        }
    }

    /// The budget.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes in use now.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// State shared by the handles and the worker.
pub(crate) struct Shared {
    pub(crate) budget: Budget,
    pub(crate) counters: Counters,
    /// Set by the first shutdown; `send` refuses records from then on.
    pub(crate) closed: AtomicBool,
    /// Set when a shutdown stopped waiting for the worker (a request hung
    /// past the deadline) and counted what was left as undelivered.
    pub(crate) abandoned: AtomicBool,
    /// The counts per route, by route index (0: the default stream).
    pub(crate) routes: Box<[RouteCounters]>,
}

impl Shared {
    /// Fresh state with a budget of `queue_bytes`.
    pub(crate) fn new(queue_bytes: usize) -> Shared {
        Shared {
            budget: Budget::new(queue_bytes),
            counters: Counters::default(),
            closed: AtomicBool::new(false),
            abandoned: AtomicBool::new(false),
            routes: Box::new([RouteCounters::default()]),
        }
    }

    /// Fresh state with a budget of `queue_bytes` and one set of counts
    /// for each of `routes`.
    pub(crate) fn with_routes(queue_bytes: usize, routes: Vec<RouteCounters>) -> Shared {
        Shared {
            routes: routes.into_boxed_slice(),
            ..Shared::new(queue_bytes)
        }
    }

    /// The counts of route `i`, or the default route's.
    pub(crate) fn route(&self, i: usize) -> &RouteCounters {
        self.routes.get(i).unwrap_or(&self.routes[0])
    }
}
