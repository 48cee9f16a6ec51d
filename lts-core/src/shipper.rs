//! [`Shipper`], the handle callers send records through, and [`Guard`],
//! which flushes and stops it on drop.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use crate::clock::{self, ClockMode};
use crate::config::{Config, Overflow};
use crate::delivery::Deliver;
use crate::diag::{Diagnostic, DiagnosticKind, ErrorHook};
use crate::error::{Error, ErrorKind, FlushError};
use crate::intake::Control;
use crate::queue::{footprint, Queue, Refused};
use crate::record::Record;
use crate::route_stats::{RouteCounters, RouteStats};
use crate::shared::{add, Shared, Stats};
use crate::storm::{CallSite, CallSiteKey, Storm, SuppressedCallSite};
use crate::transport::Transport;
use crate::worker::Worker;

/// Why [`Shipper::send`] did not take a record. The record is dropped and
/// counted in [`Stats::dropped_queue_full`] either way.
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
/// use lts_core::{Level, Record, SendError, Shipper};
///
/// let (shipper, guard) = Shipper::start(config)?;
/// guard.shutdown()?;
/// let late = Record::new(shipper.now_ns(), Level::Info, "app", "too late");
/// assert_eq!(shipper.send(late), Err(SendError::ShutDown));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The queue budget was used up (after waiting, in `Overflow::Block` mode).
    QueueFull,
    /// The shipper was shut down.
    ShutDown,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::QueueFull => "the queue budget is used up; the record was dropped",
            SendError::ShutDown => "the shipper is shut down; the record was dropped",
        })
    }
}

impl std::error::Error for SendError {}

struct Inner {
    queue: Arc<Queue>,
    control: Sender<Control>,
    error_hook: ErrorHook,
    shared: Arc<Shared>,
    overflow: Overflow,
    clock: ClockMode,
    worker: Thread,
    join: Mutex<Option<JoinHandle<()>>>,
    /// The outcome of the first shutdown, handed to later calls.
    shutdown_result: Mutex<Option<Result<(), FlushError>>>,
    /// The per-call-site rate limit, when one is configured.
    storm: Option<Storm>,
}

/// The handle to a running pipeline: cheap to clone, safe to share.
///
/// [`send`](Shipper::send) costs the caller a size estimate, one atomic
/// reservation and a copy into the queue under a short lock; the background thread formats, batches,
/// compresses and delivers.
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
/// let (shipper, guard) = Shipper::start(config)?;
/// let record = Record::new(shipper.now_ns(), Level::Warn, "my_app::db", "slow query")
///     .with_field("elapsed_ms", 1250_u64);
/// shipper.send(record)?; // never blocks in the default overflow mode
/// shipper.flush(Duration::from_secs(5))?; // Ok: everything sent so far was delivered
/// # assert_eq!(mock.event_count(), 1);
/// drop(guard); // at exit: deliver what is left and stop the background thread
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Shipper {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Shipper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shipper")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Shipper {
    /// Starts the background thread and returns the handle and the guard
    /// that shuts it down on drop.
    ///
    /// Fails only if the TLS settings cannot be used or the thread cannot be
    /// spawned; the service is not contacted until there is something to send.
    pub fn start(config: Config) -> Result<(Shipper, Guard), Error> {
        let transport = Transport::new(&config)?;
        Shipper::start_with(config, transport)
    }

    /// [`Shipper::start`] delivering through `deliver` (tests script it).
    pub(crate) fn start_with(config: Config, deliver: impl Deliver) -> Result<(Shipper, Guard), Error> {
        let shared = Arc::new(Shared::with_routes(config.queue_bytes, route_counters(&config)));
        let (queue, woken) = Queue::new();
        let queue = Arc::new(queue);
        let (control, control_rx) = crossbeam_channel::unbounded();
        let worker = Worker::new(&config, queue.clone(), woken, control_rx, shared.clone(), deliver)?;
        let join = std::thread::Builder::new()
            .name("lts-shipper".into())
            .spawn(move || worker.run())
            .map_err(|e| Error::new(ErrorKind::Start, None, "cannot start the shipper thread").with_source(e))?;
        let shipper = Shipper {
            inner: Arc::new(Inner {
                queue,
                control,
                error_hook: config.error_hook.clone(),
                shared,
                overflow: config.overflow,
                clock: config.clock,
                worker: join.thread().clone(),
                join: Mutex::new(Some(join)),
                shutdown_result: Mutex::new(None),
                storm: config.rate_limit.map(Storm::new),
            }),
        };
        let guard = Guard {
            shipper: shipper.clone(),
            timeout: config.shutdown_timeout,
        };
        Ok((shipper, guard))
    }

    /// Reads the capture time with this shipper's clock mode. Call it first
    /// thing when an event happens.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        clock::now_ns(self.inner.clock)
    }

    /// Hands a record to the worker.
    ///
    /// In `Overflow::DropNewest` mode (the default) this never waits: when
    /// the queue budget is used up the record is dropped and counted. In
    /// `Overflow::Block { max }` mode it waits up to `max` for room first.
    pub fn send(&self, record: Record) -> Result<(), SendError> {
        self.send_ref(&record)
    }

    /// [`send`](Shipper::send) for a record the caller keeps: it is copied
    /// into the queue, so a caller that reuses one record (its message and
    /// field buffers) queues events without allocating.
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
    /// use std::fmt::Write as _;
    /// use std::time::Duration;
    /// use lts_core::{Level, Record, Shipper};
    ///
    /// let (shipper, guard) = Shipper::start(config)?;
    /// let mut record = Record::new(0, Level::Info, "my_app", String::new());
    /// for i in 0..3 {
    ///     record.time_ns = shipper.now_ns();
    ///     record.message.clear(); // the buffer is kept for the next event
    ///     write!(record.message, "request {i} handled")?;
    ///     shipper.send_ref(&record)?;
    /// }
    /// shipper.flush(Duration::from_secs(5))?;
    /// # assert_eq!(mock.event_count(), 3);
    /// drop(guard);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_ref(&self, record: &Record) -> Result<(), SendError> {
        let shared = &self.inner.shared;
        if shared.closed.load(Ordering::Acquire) {
            add(&shared.counters.dropped_queue_full, 1);
            return Err(SendError::ShutDown);
        }
        match self
            .inner
            .queue
            .push(record, footprint(record), &shared.budget, self.inner.overflow)
        {
            Ok(()) => Ok(()),
            Err(refused) => {
                add(&shared.counters.dropped_queue_full, 1);
                Err(match refused {
                    Refused::Full => SendError::QueueFull,
                    // The worker has ended (it only does after a shutdown).
                    Refused::Closed => SendError::ShutDown,
                })
            }
        }
    }

    /// Whether a record from the call site `key`, captured at `time_ns`, is
    /// within the rate limit ([`ConfigBuilder::rate_limit`](crate::ConfigBuilder::rate_limit));
    /// always `true` without one. Ask before building the record: a refused
    /// one is counted ([`Stats::suppressed`]) and reported in-band, and
    /// should not be sent. `key` and `describe` are only called with a
    /// limit configured; `describe` only the first time a call site is seen.
    /// No lock, no allocation.
    #[inline]
    pub fn admit(&self, time_ns: u64, key: impl FnOnce() -> CallSiteKey, describe: impl FnOnce() -> CallSite) -> bool {
        match &self.inner.storm {
            None => true,
            Some(storm) => storm.admit(key(), time_ns, describe, &|r| self.send(r).is_ok()),
        }
    }

    /// The call sites whose records the rate limit refused, with how many
    /// each, most first (empty without a rate limit).
    pub fn suppressed_call_sites(&self) -> Vec<SuppressedCallSite> {
        self.inner
            .storm
            .as_ref()
            .map_or_else(Vec::new, Storm::suppressed_call_sites)
    }

    /// Sends the rate limit's outstanding reports (before a flush or a shutdown).
    fn report_suppressed(&self) {
        if let Some(storm) = &self.inner.storm {
            storm.report_all(self.now_ns(), &|r| self.send(r).is_ok());
        }
    }

    /// Waits until every record sent before this call has been delivered or
    /// given up on, or until `timeout` passes.
    ///
    /// `Ok(())`: all delivered. `Err(FlushError::Lost { lost })`: all dealt
    /// with, `lost` of them dropped (see [`Stats`]). `Err(Timeout)`: the
    /// deadline passed first; the records stay queued.
    pub fn flush(&self, timeout: Duration) -> Result<(), FlushError> {
        if self.inner.shared.closed.load(Ordering::Acquire) {
            return Err(FlushError::ShutDown);
        }
        self.report_suppressed();
        let (ack, done) = crossbeam_channel::bounded(1);
        let deadline = Instant::now() + timeout;
        if self.inner.control.send(Control::Flush { ack, deadline }).is_err() {
            return Err(FlushError::ShutDown);
        }
        self.inner.worker.unpark();
        match done.recv_deadline(deadline) {
            Ok(0) => Ok(()),
            Ok(lost) => Err(FlushError::Lost { lost }),
            Err(_) => Err(FlushError::Timeout {
                pending: self.stats().pending(),
            }),
        }
    }

    /// Flushes, waiting up to `timeout`, then stops the background thread.
    /// Records still undelivered at the deadline are counted in
    /// [`Stats::dropped_shutdown`] and reported through the error hook.
    ///
    /// Later calls (and sends) are harmless: they return the first call's
    /// outcome (and `SendError::ShutDown`). Returns within `timeout` (plus a
    /// few milliseconds) even if the service hangs.
    pub fn shutdown(&self, timeout: Duration) -> Result<(), FlushError> {
        let mut result = self.inner.shutdown_result.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = result.as_ref() {
            return r.clone();
        }
        self.report_suppressed();
        self.inner.shared.closed.store(true, Ordering::Release);
        let deadline = Instant::now() + timeout;
        let (ack, done) = crossbeam_channel::bounded(1);
        let outcome = if self.inner.control.send(Control::Shutdown { ack, deadline }).is_err() {
            // The worker is gone without a shutdown: it failed. Whatever it
            // held is lost; say so rather than report a clean stop.
            let join = self.inner.join.lock().unwrap_or_else(|e| e.into_inner()).take();
            let panicked = join.is_some_and(|j| j.join().is_err());
            if panicked {
                Err(FlushError::Lost {
                    lost: self.stats().pending(),
                })
            } else {
                Ok(())
            }
        } else {
            self.inner.worker.unpark();
            // A little grace past the deadline for the worker to count and answer.
            match done.recv_deadline(deadline + Duration::from_millis(50)) {
                Ok(0) => Ok(()),
                Ok(lost) => Err(FlushError::Lost { lost }),
                Err(_) => Err(self.abandon()),
            }
        };
        if outcome.is_ok() || matches!(outcome, Err(FlushError::Lost { .. })) {
            // The worker answered, so it is ending: joining is quick.
            if let Some(join) = self.inner.join.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = join.join();
            }
        }
        *result = Some(outcome.clone());
        outcome
    }

    /// The worker did not answer the shutdown in time (a request hangs past
    /// the deadline): tell it to stop without counting anything more, count
    /// what it held as undelivered, and report it.
    fn abandon(&self) -> FlushError {
        let shared = &self.inner.shared;
        shared.abandoned.store(true, Ordering::Release);
        let pending = self.stats().pending();
        add(&shared.counters.dropped_shutdown, pending);
        self.inner.error_hook.call(&Diagnostic {
            kind: DiagnosticKind::Shutdown,
            message: format!(
                "shut down with {pending} records undelivered: a request was still in flight at the deadline"
            ),
        });
        FlushError::Timeout { pending }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let mut stats = self.inner.shared.counters.snapshot();
        stats.enqueued = self.inner.queue.enqueued();
        stats.queue_spills = self.inner.queue.spills();
        if let Some(storm) = &self.inner.storm {
            stats.suppressed = storm.suppressed();
            stats.rate_limit_untracked = storm.untracked();
        }
        stats
    }

    /// The counters of each destination: the default stream first, then
    /// each route in the order configured.
    pub fn route_stats(&self) -> Vec<RouteStats> {
        self.inner.shared.routes.iter().map(RouteCounters::snapshot).collect()
    }

    /// Bytes of the queue budget in use now (records queued plus batches
    /// awaiting delivery).
    pub fn queued_bytes(&self) -> usize {
        self.inner.queue.in_use(&self.inner.shared.budget)
    }
}

/// Shuts the shipper down when dropped, waiting up to the configured
/// shutdown timeout (default 5 s) for delivery.
///
/// The global logger and a subscriber layer are never dropped, so keep the
/// guard alive in `main` until the program ends: its drop is how the
/// program says "I'm exiting, deliver what you have".
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
/// let (shipper, mut guard) = Shipper::start(config)?;
/// guard.set_timeout(Duration::from_secs(2)); // wait at most 2 s at exit
/// shipper.send(Record::new(shipper.now_ns(), Level::Info, "app", "bye"))?;
/// guard.shutdown()?; // like drop, with the outcome
/// # assert_eq!(mock.event_count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the guard shuts the shipper down at once; keep it until the program ends"]
#[derive(Debug)]
pub struct Guard {
    shipper: Shipper,
    timeout: Duration,
}

impl Guard {
    /// The shipper this guard stops.
    pub fn shipper(&self) -> &Shipper {
        &self.shipper
    }

    /// Changes how long the drop waits.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Shuts down now and returns the outcome (the drop does the same and
    /// ignores it).
    pub fn shutdown(self) -> Result<(), FlushError> {
        self.shipper.shutdown(self.timeout)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.shipper.shutdown(self.timeout);
    }
}

/// One set of counters per destination: "default" for the default stream,
/// each route under its description.
fn route_counters(config: &Config) -> Vec<RouteCounters> {
    let default = RouteCounters::new("default".to_owned(), &config.log_group_id, &config.log_stream_id);
    let routes = (config.routes.iter().zip(config.route_streams()))
        .map(|(r, (group, stream))| RouteCounters::new(r.describe(), group, stream));
    std::iter::once(default).chain(routes).collect()
}
