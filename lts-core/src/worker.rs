//! The background thread: receives records, formats them, batches,
//! compresses, delivers with retries, and answers flushes.
//!
//! It marks itself (see [`is_shipper_thread`]) so that nothing it does,
//! including the `log` records ureq and rustls emit on it, comes back into
//! the pipeline. Its own diagnostics go to the error hook.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::batch::{truncate_with_marker, truncation_marker, Batch, Builder, MARKER_MAX};
use crate::clock::{self, ClockMode};
use crate::config::{Config, RetryPolicy};
use crate::diag::{DiagnosticKind, Reporter};
use crate::encode::{labels_json, write_json_str, Compressor};
use crate::format::{json_line_bound, json_line_embedded, Format};
use crate::record::{Level, Record};
use crate::shipper::{add, Shared};
use crate::spool::{Spool, Stored};
use crate::transport::{Outcome, Transport};

thread_local! {
    static IS_SHIPPER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is a shipper's background thread.
///
/// Front ends (`lts-log`, `lts-tracing`) check this first and ignore events
/// from that thread, so the transport's own logging can never loop back.
///
/// # Example
///
/// ```
/// // A `log::Log` of your own that forwards to LTS skips the shipper's thread,
/// // so the HTTP client's own logging cannot loop back:
/// fn should_forward() -> bool {
///     !lts_core::is_shipper_thread()
/// }
/// assert!(should_forward());
/// ```
#[inline]
pub fn is_shipper_thread() -> bool {
    IS_SHIPPER.try_with(Cell::get).unwrap_or(false)
}

/// How long the worker sleeps between looks at the queue while a batch is
/// open. Senders never wake it: it collects what arrived at each look.
const TICK: Duration = Duration::from_millis(2);

/// A record and the bytes it holds of the budget.
pub(crate) type Msg = (Record, usize);

/// Control messages travel on their own channel, so the record channel's
/// length is the number of records in flight.
pub(crate) enum Control {
    Flush { ack: Sender<u64>, deadline: Instant },
    Shutdown { ack: Sender<u64>, deadline: Instant },
}

/// Someone waiting for every batch with `seq < target` to be resolved.
struct Waiter {
    target: u64,
    lost: u64,
    ack: Sender<u64>,
    deadline: Instant,
}

pub(crate) struct Worker {
    rx: Receiver<Msg>,
    control: Receiver<Control>,
    /// Set when the shutdown gave up waiting (a request hung past its
    /// deadline): the caller has counted what was left; stop, count nothing.
    abandoned: bool,
    /// Losses resolved while no flush was waiting for them: the next flush
    /// reports them.
    lost_unclaimed: u64,
    /// The clocks as read at the start of the current run of records.
    now: (Instant, u64),
    shared: Arc<Shared>,
    transport: Transport,
    reporter: Reporter,
    format: Format,
    compressor: Compressor,
    labels_json: String,
    builder: Builder,
    pending: VecDeque<Batch>,
    next_seq: u64,
    waiters: Vec<Waiter>,
    shutdown: Option<Waiter>,
    disconnected: bool,
    line: String,
    escaped: String,
    max_line_bytes: usize,
    time_window_ns: u64,
    retry: RetryPolicy,
    request_timeout: Duration,
    shutdown_timeout: Duration,
    rng: u64,
    queue_full_reported: u64,
    /// The last credentials failure reported, so it is reported once.
    credentials_error: Option<String>,
    clock: ClockMode,
    /// Drops (queue full, rejected, out of retries) already reported in-band.
    drops_reported: [u64; 3],
    /// When unreported drops were first noticed.
    drops_since: Option<u64>,
    /// When the worker started: "since" for drops noticed before any look.
    started_ns: u64,
    spool: Option<Spool>,
    /// The sequence numbers of the spooled batches, oldest first (0 for
    /// batches left by an earlier run), so flushes wait for them.
    spool_seqs: VecDeque<u64>,
    /// The spool's oldest batch is not tried again before this.
    spool_not_before: Instant,
}

impl Worker {
    pub(crate) fn new(
        config: &Config,
        rx: Receiver<Msg>,
        control: Receiver<Control>,
        shared: Arc<Shared>,
    ) -> Result<Worker, crate::Error> {
        let labels_json = labels_json(&config.labels);
        let mut reporter = Reporter::new(config.error_hook.clone());
        let (spool, spool_seqs) = match &config.spool_dir {
            None => (None, VecDeque::new()),
            Some(dir) => {
                let (spool, found) = Spool::open(dir, config.spool_max_bytes).map_err(|e| {
                    crate::Error::new(
                        crate::ErrorKind::Io,
                        Some("spool_dir"),
                        format!("cannot open the spool in {}: {e}", dir.display()),
                    )
                    .with_source(e)
                })?;
                add(&shared.counters.restored, found.events);
                add(&shared.counters.spool_corrupt, found.corrupt);
                if found.corrupt > 0 {
                    reporter.report(DiagnosticKind::Spool, || {
                        format!(
                            "skipped {} damaged or cut-short batches in the spool in {} (never sent)",
                            found.corrupt,
                            dir.display()
                        )
                    });
                }
                (Some(spool), (0..found.batches).map(|_| 0).collect())
            }
        };
        Ok(Worker {
            control,
            abandoned: false,
            lost_unclaimed: 0,
            now: (Instant::now(), clock::wall_ns()),
            spool,
            spool_seqs,
            spool_not_before: Instant::now(),
            rx,
            shared,
            transport: Transport::new(config)?,
            reporter,
            format: config.format.clone(),
            compressor: Compressor::new(config.compression, config.gzip_level),
            builder: Builder::new(
                config.api,
                &labels_json,
                config.batch_max_events,
                config.batch_max_bytes,
                config.linger,
            ),
            labels_json,
            pending: VecDeque::new(),
            // Batches left in the spool by an earlier run count as 0.
            next_seq: 1,
            waiters: Vec::new(),
            shutdown: None,
            disconnected: false,
            line: String::new(),
            escaped: String::new(),
            max_line_bytes: config.max_line_bytes,
            time_window_ns: u64::try_from(config.time_window.as_nanos()).unwrap_or(u64::MAX),
            retry: config.retry,
            request_timeout: config.request_timeout,
            shutdown_timeout: config.shutdown_timeout,
            rng: clock::wall_ns() | 1,
            queue_full_reported: 0,
            credentials_error: None,
            clock: config.clock,
            drops_reported: [0; 3],
            drops_since: None,
            started_ns: clock::wall_ns(),
        })
    }

    pub(crate) fn run(mut self) {
        IS_SHIPPER.with(|c| c.set(true));
        loop {
            self.receive();
            if self.is_abandoned() {
                return;
            }
            self.report_queue_full();
            let now = Instant::now();
            if self.builder.linger_deadline().is_some_and(|d| d <= now) || self.shutdown.is_some() {
                self.seal();
            }
            self.send_ready();
            if self.is_abandoned() {
                return;
            }
            self.spill_under_pressure();
            self.answer_waiters();
            if self.try_finish() {
                return;
            }
        }
    }

    /// Waits for work as the state asks, then takes everything queued.
    fn receive(&mut self) {
        let idle = self.builder.is_empty() && self.pending.is_empty() && self.shutdown.is_none();
        if idle && !self.disconnected {
            // Nothing to do until something arrives: block (the one wake-up
            // a sender pays for, once per idle period).
            crossbeam_channel::select! {
                recv(self.rx) -> msg => match msg {
                    Ok((record, size)) => {
                        self.refresh_now();
                        self.add_record(record, size);
                    }
                    Err(_) => self.on_disconnect(),
                },
                recv(self.control) -> msg => if let Ok(c) = msg {
                    // Records queued before the control message come first.
                    self.drain_records();
                    self.handle_control(c);
                },
            }
        } else if self.rx.is_empty() && self.control.is_empty() {
            let now = Instant::now();
            let mut wake = now + TICK;
            if let Some(d) = self.builder.linger_deadline() {
                wake = wake.min(d);
            }
            if let Some(b) = self.pending.front() {
                wake = wake.min(b.not_before);
            }
            if let Some(s) = &self.shutdown {
                wake = wake.min(s.deadline);
            }
            if wake > now {
                std::thread::park_timeout(wake - now);
            }
        }
        self.drain();
    }

    /// Takes in every record queued, then the control messages, each after
    /// the records that were queued before it.
    fn drain(&mut self) {
        loop {
            self.drain_records();
            match self.control.try_recv() {
                Ok(c) => self.handle_control(c),
                Err(_) => return,
            }
        }
    }

    fn drain_records(&mut self) {
        self.refresh_now();
        loop {
            match self.rx.try_recv() {
                Ok((record, size)) => self.add_record(record, size),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => return self.on_disconnect(),
            }
        }
    }

    /// Reads the clocks once for a run of records rather than per record.
    fn refresh_now(&mut self) {
        self.now = (Instant::now(), clock::wall_ns());
    }

    fn is_abandoned(&mut self) -> bool {
        if !self.abandoned && self.shared.abandoned.load(std::sync::atomic::Ordering::Acquire) {
            self.abandoned = true;
        }
        self.abandoned
    }

    /// Every handle is gone without a shutdown: shut down as the guard would.
    fn on_disconnect(&mut self) {
        if !self.disconnected && self.shutdown.is_none() {
            let (ack, _) = crossbeam_channel::bounded(1);
            self.start_shutdown(ack, Instant::now() + self.shutdown_timeout);
        }
        self.disconnected = true;
    }

    fn handle_control(&mut self, c: Control) {
        match c {
            Control::Flush { ack, deadline } => {
                self.seal();
                self.waiters.push(Waiter {
                    target: self.next_seq,
                    // Losses no earlier flush was told of.
                    lost: std::mem::take(&mut self.lost_unclaimed),
                    ack,
                    deadline,
                });
            }
            Control::Shutdown { ack, deadline } => self.start_shutdown(ack, deadline),
        }
    }

    fn start_shutdown(&mut self, ack: Sender<u64>, deadline: Instant) {
        self.seal();
        self.shutdown = Some(Waiter {
            target: u64::MAX,
            lost: std::mem::take(&mut self.lost_unclaimed),
            ack,
            deadline,
        });
    }

    fn add_record(&mut self, mut record: Record, size: usize) {
        let now_ns = self.now.1;
        if record.time_ns.abs_diff(now_ns) > self.time_window_ns {
            add(&self.shared.counters.dropped_rejected, 1);
            self.shared.budget.release(size);
            self.builder.add_lost(1);
            let (t, window) = (record.time_ns, self.time_window_ns / 1_000_000_000);
            self.reporter.report(DiagnosticKind::OutsideTimeWindow, || {
                let mut at = String::new();
                crate::format::write_rfc3339_nanos(&mut at, t);
                format!("dropped a record stamped {at}: more than {window} s from now, the service would delete it")
            });
            return;
        }
        let time_ns = record.time_ns;
        let cut = if matches!(self.format, Format::Json)
            && json_line_bound(&record) <= self.max_line_bytes.min(self.builder.max_escaped_line())
        {
            // The usual case: the line surely fits, so it is written once,
            // already escaped for the body.
            self.escaped.clear();
            self.escaped.push('"');
            json_line_embedded(&record, &mut self.escaped);
            self.escaped.push('"');
            0
        } else {
            let cut = self.format_line(&mut record);
            self.escaped.clear();
            write_json_str(&mut self.escaped, &self.line);
            cut
        };
        drop(record);
        if cut > 0 {
            add(&self.shared.counters.truncated, 1);
            self.reporter.report(DiagnosticKind::Truncated, || {
                format!("cut {cut} bytes from a log line longer than the line limit")
            });
        }
        if !self.builder.fits(self.escaped.len()) {
            self.seal();
        }
        self.builder.push(time_ns, &self.escaped, size, false, self.now.0);
        if self.builder.is_full() {
            self.seal();
        }
    }

    /// Formats the record into `self.line`, fitting it both to the line
    /// limit and, once escaped into the request body, to one batch. The
    /// message is cut (with a marker saying how many bytes), which keeps a
    /// JSON line valid JSON; it is cut no more than needed (a binary search
    /// over the kept length). Only if the rest of the line (fields) is too
    /// long by itself is the line itself cut. Returns the bytes cut.
    fn format_line(&mut self, record: &mut Record) -> usize {
        let max_escaped = self.builder.max_escaped_line();
        let max_line = self.max_line_bytes;
        let fits = |line: &str| line.len() <= max_line && escaped_len(line) <= max_escaped;
        self.line.clear();
        self.format.format(record, &mut self.line);
        if fits(&self.line) {
            return 0;
        }
        let message = std::mem::take(&mut record.message);
        let total = message.len();
        let try_keep = |keep: usize, record: &mut Record, line: &mut String| {
            record.message.clear();
            record.message.push_str(&message[..keep]);
            record.message.push_str(&truncation_marker(total - keep));
            line.clear();
            self.format.format(record, line);
        };
        // Kept lengths at char boundaries, searched for the longest that fits.
        let (mut lo, mut hi) = (0usize, total.min(max_line));
        while !message.is_char_boundary(hi) {
            hi -= 1;
        }
        try_keep(0, record, &mut self.line);
        if !fits(&self.line) {
            // The fields alone are too long: cut the line itself.
            record.message = message;
            let mut original = String::new();
            self.format.format(record, &mut original);
            let mut limit = max_line.min(max_escaped);
            loop {
                self.line.clear();
                self.line.push_str(&original);
                let cut = truncate_with_marker(&mut self.line, limit);
                if fits(&self.line) || limit <= MARKER_MAX {
                    return cut;
                }
                limit = limit * 3 / 4;
            }
        }
        while lo < hi {
            let mut mid = lo + (hi - lo).div_ceil(2);
            while !message.is_char_boundary(mid) {
                mid -= 1;
            }
            if mid <= lo {
                break;
            }
            try_keep(mid, record, &mut self.line);
            if fits(&self.line) {
                lo = mid;
            } else {
                hi = mid - 1;
                while !message.is_char_boundary(hi) {
                    hi -= 1;
                }
            }
        }
        try_keep(lo, record, &mut self.line);
        total - lo
    }

    /// Seals the open batch into a pending one.
    fn seal(&mut self) {
        if self.builder.is_empty() && self.builder.lost_before() == 0 {
            return;
        }
        let reported_drops = if self.builder.is_empty() {
            [0; 3]
        } else {
            self.append_drop_report()
        };
        self.seal_open(reported_drops);
        if reported_drops == [0; 3] && self.drops_unreported() {
            // The report did not fit the batch just sealed (it was full, or
            // had no events): it goes in a batch of its own rather than wait
            // for a next batch that may never come.
            let reported_drops = self.append_drop_report();
            if reported_drops != [0; 3] {
                self.seal_open(reported_drops);
            }
        }
    }

    /// Seals the open batch, carrying the drop report `reported_drops`.
    fn seal_open(&mut self, reported_drops: [u64; 3]) {
        let sealed = self.builder.take(&self.labels_json);
        let raw_len = sealed.raw.len();
        let (wire, content_encoding) = if sealed.events == 0 {
            (Vec::new(), None)
        } else {
            // Compressing into memory cannot fail; were it to, the empty
            // body is given up on and counted like a refused one.
            self.compressor.compress(sealed.raw).unwrap_or_default()
        };
        // From now on the batch holds its wire bytes, not the records.
        let reserved = sealed.reserved.min(wire.capacity());
        self.shared.budget.release(sealed.reserved - reserved);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back(Batch {
            seq,
            wire,
            content_encoding,
            raw_len,
            events: sealed.events,
            internal: sealed.internal,
            reported_drops,
            first_time_ns: sealed.first_time_ns,
            from_spool: false,
            reserved,
            lost_before: sealed.lost_before,
            attempts: 0,
            unauthorized: false,
            not_before: Instant::now(),
        });
    }

    /// Sends the batches whose time has come, oldest first. Between
    /// requests it takes in what arrived, so the queue keeps moving.
    fn send_ready(&mut self) {
        loop {
            self.load_spool_head();
            let Some(front) = self.pending.front() else {
                return;
            };
            let now = Instant::now();
            if front.not_before > now {
                return;
            }
            if front.events == 0 || front.wire.is_empty() {
                let b = self.take_front();
                let lost = b.lost_before + b.counted();
                add(&self.shared.counters.dropped_rejected, b.counted());
                self.resolve(b, lost, false);
                continue;
            }
            let mut timeout = self.request_timeout;
            if let Some(s) = &self.shutdown {
                match s.deadline.checked_duration_since(now) {
                    Some(left) if !left.is_zero() => timeout = timeout.min(left),
                    _ => return,
                }
            }
            let (wire_len, raw_len) = (front.wire.len() as u64, front.raw_len as u64);
            let random = next_random(&mut self.rng);
            let outcome = self
                .transport
                .send(&front.wire, front.content_encoding, timeout, random);
            if self.is_abandoned() {
                return;
            }
            if !matches!(outcome, Outcome::NoCredentials { .. }) {
                // Counted only when a request went out.
                let counters = &self.shared.counters;
                add(&counters.requests, 1);
                add(&counters.bytes_sent, wire_len);
                add(&counters.bytes_raw, raw_len);
            }
            self.on_outcome(outcome);
            self.drain();
        }
    }

    fn on_outcome(&mut self, outcome: Outcome) {
        if self.is_abandoned() {
            // The shutdown already counted this batch as undelivered.
            return;
        }
        if !matches!(outcome, Outcome::NoCredentials { .. }) {
            self.credentials_error = None;
        }
        match outcome {
            Outcome::Delivered => {
                let b = self.take_front();
                add(&self.shared.counters.delivered, b.counted());
                let lost = b.lost_before;
                self.resolve(b, lost, true);
            }
            Outcome::Rejected { status, answer } => {
                let b = self.take_front();
                add(&self.shared.counters.dropped_rejected, b.counted());
                let n = b.events;
                self.reporter.report(DiagnosticKind::Rejected, || {
                    format!("the service refused a batch of {n} records with HTTP {status}: {answer}; dropped")
                });
                let lost = b.lost_before + b.counted();
                self.resolve(b, lost, false);
            }
            Outcome::Unauthorized { answer } => {
                let renewable = self.transport.on_unauthorized();
                let front = self.pending.front_mut().expect("a batch was sent");
                let first_401 = !front.unauthorized;
                front.unauthorized = true;
                let reason = format!("HTTP 401: {answer}");
                if renewable && first_401 {
                    // Fresh credentials are fetched before the next attempt,
                    // which goes out at once.
                    self.retry_after(Some(DiagnosticKind::Unauthorized), reason, Some(Duration::ZERO));
                } else {
                    self.retry_after(Some(DiagnosticKind::Unauthorized), reason, None);
                }
            }
            Outcome::NoCredentials { message } => {
                // Reported once per distinct failure, not once per batch,
                // and not held back by the per-kind rate limit (it is
                // already de-duplicated).
                if self.credentials_error.as_deref() != Some(message.as_str()) {
                    self.reporter.report_now(
                        DiagnosticKind::Credentials,
                        format!("no credentials could be had: {message}; batches wait and retry"),
                    );
                    self.credentials_error = Some(message.clone());
                }
                self.retry_after(None, message, None);
            }
            Outcome::Retry { reason, retry_after } => {
                if let Some(front) = self.pending.front_mut() {
                    front.unauthorized = false;
                }
                self.retry_after(
                    Some(DiagnosticKind::Retrying),
                    reason,
                    retry_after.map(|d| d.max(Duration::from_millis(1))),
                );
            }
        }
    }

    /// Counts a failed attempt of the front batch and schedules the next one
    /// (after `delay`, or after the policy's backoff), or drops the batch if
    /// it is out of tries.
    fn retry_after(&mut self, report: Option<DiagnosticKind>, reason: String, delay: Option<Duration>) {
        let tries = self.retry.max_tries;
        let front = self.pending.front_mut().expect("a batch was sent");
        front.attempts += 1;
        if front.attempts >= tries && self.spool.is_some() {
            if front.from_spool {
                // On disk already: it waits there, trying at the longest
                // backoff, until it is delivered or too old for the service.
                front.attempts = 0;
                front.not_before = Instant::now() + self.retry.max;
                self.spool_not_before = front.not_before;
                add(&self.shared.counters.retries, 1);
                return;
            }
            if self.spill_front() {
                self.spool_not_before = Instant::now() + self.retry.max;
                let n = self.spool_seqs.len();
                let bytes = self.spool.as_ref().map_or(0, Spool::bytes);
                self.reporter.report(DiagnosticKind::Spool, || {
                    format!("a batch ran out of tries ({reason}); kept in the spool ({n} batches, {bytes} bytes there)")
                });
                return;
            }
        }
        let front = self.pending.front_mut().expect("a batch was sent");
        if front.attempts >= tries {
            let b = self.take_front();
            add(&self.shared.counters.dropped_retries_exhausted, b.counted());
            let n = b.events;
            self.reporter.report(DiagnosticKind::RetriesExhausted, || {
                format!("gave up on a batch of {n} records after {tries} tries; last error: {reason}")
            });
            let lost = b.lost_before + b.counted();
            self.resolve(b, lost, false);
            return;
        }
        add(&self.shared.counters.retries, 1);
        let attempts = front.attempts;
        let backoff = backoff(&self.retry, attempts, next_random(&mut self.rng));
        let delay = match delay {
            Some(d) if d.is_zero() => d,
            // A Retry-After longer than our backoff is honoured, up to the cap.
            Some(d) => d.min(self.retry.max).max(backoff),
            None => backoff,
        };
        front.not_before = Instant::now() + delay;
        if let Some(kind) = report {
            self.reporter.report(kind, || {
                format!(
                    "attempt {attempts} of {tries} failed ({reason}); retrying in {} ms",
                    delay.as_millis()
                )
            });
        }
    }

    /// A batch is done with: give its bytes back and tell the waiters. An
    /// undelivered batch's drop report is owed again.
    fn resolve(&mut self, batch: Batch, lost: u64, delivered: bool) {
        self.shared.budget.release(batch.reserved);
        if !delivered {
            self.unreport(batch.reported_drops);
        }
        let mut claimed = false;
        for w in self.waiters.iter_mut().chain(self.shutdown.as_mut()) {
            if batch.seq < w.target {
                w.lost += lost;
                claimed = true;
            }
        }
        if !claimed {
            self.lost_unclaimed += lost;
        }
    }

    /// Takes the front batch off the queue; if it was the spool's oldest,
    /// the spool forgets it too.
    fn take_front(&mut self) -> Batch {
        let b = self.pending.pop_front().expect("the caller saw a front batch");
        if b.from_spool {
            self.spool_seqs.pop_front();
            if let Some(spool) = &mut self.spool {
                if let Err(e) = spool.pop_front() {
                    self.reporter
                        .report(DiagnosticKind::Spool, || format!("cannot update the spool: {e}"));
                }
            }
        }
        b
    }

    /// Puts the spool's oldest batch at the head of the queue (spooled
    /// batches are older than any in memory), dropping batches too old for
    /// the service and damaged ones, counted.
    fn load_spool_head(&mut self) {
        if self.pending.front().is_some_and(|b| b.from_spool) {
            return;
        }
        let Some(spool) = &mut self.spool else {
            return;
        };
        while !spool.is_empty() {
            let seq = self.spool_seqs.front().copied().unwrap_or(0);
            let events = spool.front_events();
            let batch = match spool.front() {
                Ok(Some(stored)) => stored,
                Ok(None) => return,
                Err(e) => {
                    add(&self.shared.counters.spool_corrupt, 1);
                    add(&self.shared.counters.dropped_rejected, events);
                    self.reporter.report(DiagnosticKind::Spool, || {
                        format!("skipped a spooled batch of {events} records that cannot be read back: {e}")
                    });
                    self.spool_seqs.pop_front();
                    let _ = spool.pop_front();
                    continue;
                }
            };
            let too_old = clock::wall_ns().saturating_sub(batch.first_time_ns) > self.time_window_ns;
            let b = Batch {
                seq,
                wire: batch.wire,
                content_encoding: batch.content_encoding,
                raw_len: batch.raw_len,
                events: batch.events,
                internal: 0,
                reported_drops: [0; 3],
                reserved: 0,
                lost_before: 0,
                first_time_ns: batch.first_time_ns,
                from_spool: true,
                attempts: 0,
                unauthorized: false,
                not_before: self.spool_not_before,
            };
            self.pending.push_front(b);
            if !too_old {
                return;
            }
            let b = self.take_front();
            add(&self.shared.counters.dropped_rejected, b.events);
            let n = b.events;
            self.reporter.report(DiagnosticKind::OutsideTimeWindow, || {
                format!("dropped a spooled batch of {n} records: older than the service's time window")
            });
            self.resolve(b, n, false);
            return self.load_spool_head();
        }
    }

    /// Writes the front batch (from memory) to the spool. Returns whether it
    /// went there; if so it left the queue and gave its memory back.
    fn spill_front(&mut self) -> bool {
        let Some(spool) = &mut self.spool else {
            return false;
        };
        let b = self.pending.front().expect("the caller saw a front batch");
        debug_assert!(!b.from_spool);
        let stored = Stored {
            wire: b.wire.clone(),
            content_encoding: b.content_encoding,
            raw_len: b.raw_len,
            events: b.events,
            first_time_ns: b.first_time_ns,
        };
        match spool.append(&stored) {
            Ok(true) => {
                let b = self.pending.pop_front().expect("front exists");
                self.shared.budget.release(b.reserved);
                add(&self.shared.counters.spooled, b.counted());
                self.spool_seqs.push_back(b.seq);
                true
            }
            Ok(false) => {
                self.reporter.report(DiagnosticKind::Spool, || {
                    "the spool is at its size cap; batches stay in memory or are dropped as without a spool".into()
                });
                false
            }
            Err(e) => {
                self.reporter
                    .report(DiagnosticKind::Spool, || format!("cannot write to the spool: {e}"));
                false
            }
        }
    }

    /// Moves every batch held in memory (not the spool's own head) to the
    /// spool, oldest first, keeping the order. Returns the records moved.
    fn spill_pending(&mut self) -> u64 {
        let head = self
            .pending
            .front()
            .is_some_and(|b| b.from_spool)
            .then(|| self.pending.pop_front())
            .flatten();
        let mut moved = 0;
        while let Some(b) = self.pending.front() {
            let n = b.counted();
            if !self.spill_front() {
                break;
            }
            moved += n;
        }
        if let Some(h) = head {
            self.pending.push_front(h);
        }
        moved
    }

    /// While the service is failing and half the budget is used, batches
    /// waiting in memory move to disk, so the queue keeps taking records.
    fn spill_under_pressure(&mut self) {
        if self.spool.is_none() || self.shared.budget.used() <= self.shared.budget.limit() / 2 {
            return;
        }
        let waiting = self
            .pending
            .front()
            .is_some_and(|b| b.not_before > Instant::now() || b.attempts > 0);
        if waiting {
            self.spill_pending();
        }
    }

    fn answer_waiters(&mut self) {
        let mut done_below = self.pending.front().map_or(self.next_seq, |b| b.seq);
        if let Some(&seq) = self.spool_seqs.front() {
            done_below = done_below.min(seq);
        }
        let now = Instant::now();
        self.waiters.retain(|w| {
            if w.target <= done_below {
                let _ = w.ack.send(w.lost);
                false
            } else {
                // A waiter whose caller stopped waiting is forgotten.
                w.deadline > now
            }
        });
    }

    /// Ends the thread once a shutdown has everything delivered, or its
    /// deadline passed, or the next try would come after it.
    fn try_finish(&mut self) -> bool {
        let Some(s) = &self.shutdown else {
            return false;
        };
        let now = Instant::now();
        let all_done = self.pending.is_empty()
            && self.builder.is_empty()
            && self.rx.is_empty()
            && self.spool.as_ref().is_none_or(Spool::is_empty);
        let out_of_time = now >= s.deadline || self.pending.front().is_some_and(|b| b.not_before >= s.deadline);
        if !all_done && !out_of_time {
            return false;
        }
        if self.spool.is_some() {
            // Keep what is left on disk for the next start.
            self.refresh_now();
            while let Ok((record, size)) = self.rx.try_recv() {
                self.add_record(record, size);
            }
            self.seal();
            let kept = self.spill_pending();
            if kept > 0 {
                self.reporter.report(DiagnosticKind::Shutdown, || {
                    format!("shut down with {kept} records undelivered; kept in the spool for the next start")
                });
            }
        }
        self.seal();
        // Whatever is left, including records sent in a race with the
        // shutdown, is counted as undelivered.
        let mut never_batched = 0;
        while let Ok((_, size)) = self.rx.try_recv() {
            self.shared.budget.release(size);
            never_batched += 1;
        }
        let mut undelivered = never_batched;
        if self.pending.front().is_some_and(|b| b.from_spool) {
            // Still on disk: not lost, tried again at the next start.
            self.pending.pop_front();
        }
        while let Some(b) = self.pending.pop_front() {
            undelivered += b.counted();
            let lost = b.lost_before + b.counted();
            self.resolve(b, lost, false);
        }
        add(&self.shared.counters.dropped_shutdown, undelivered);
        if undelivered > 0 {
            self.reporter.report(DiagnosticKind::Shutdown, || {
                format!("shut down with {undelivered} records undelivered")
            });
        }
        let s = self.shutdown.take().expect("checked above");
        for w in self.waiters.drain(..) {
            let _ = w.ack.send(w.lost);
        }
        // Records drained from the channel were never in a batch, so they
        // are not in the waiter's count yet.
        let _ = s.ack.send(s.lost + never_batched);
        true
    }

    /// If records were dropped since the last report, adds one record
    /// saying so to the batch being sealed, so the loss shows in LTS itself
    /// and not only in a counter. It is the pipeline's own record and is not
    /// counted in `Stats`. Returns the drops it reports (zero if none, or if
    /// the batch is full or the budget has no room: see [`Worker::seal`]).
    fn append_drop_report(&mut self) -> [u64; 3] {
        let now = self.drop_counts();
        let new = [0, 1, 2].map(|i| now[i] - self.drops_reported[i]);
        let total: u64 = new.iter().sum();
        if total == 0 {
            return [0; 3];
        }
        let mut at = String::new();
        crate::format::write_rfc3339_nanos(&mut at, self.drops_since.unwrap_or(self.started_ns));
        let record = Record::new(
            clock::now_ns(self.clock),
            Level::Warn,
            "lts",
            format!(
                "{total} records dropped since {at}: {} (queue full), {} (rejected by the service or outside its time window), {} (out of retries)",
                new[0], new[1], new[2]
            ),
        )
        .with_field("dropped", total)
        .with_field("dropped_queue_full", new[0])
        .with_field("dropped_rejected", new[1])
        .with_field("dropped_retries_exhausted", new[2]);
        let (mut line, mut escaped) = (String::new(), String::new());
        self.format.format(&record, &mut line);
        write_json_str(&mut escaped, &line);
        if !self.builder.fits(escaped.len()) {
            return [0; 3];
        }
        let size = record.memory_size();
        if !self.shared.budget.try_reserve(size) {
            // No room in the budget now: the next batch carries the report.
            return [0; 3];
        }
        self.builder.push(record.time_ns, &escaped, size, true, Instant::now());
        self.drops_reported = now;
        self.drops_since = None;
        new
    }

    /// Whether some drops are not yet carried by any batch's report.
    fn drops_unreported(&self) -> bool {
        self.drop_counts() != self.drops_reported
    }

    fn drop_counts(&self) -> [u64; 3] {
        let c = &self.shared.counters;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        [
            get(&c.dropped_queue_full),
            get(&c.dropped_rejected),
            get(&c.dropped_retries_exhausted),
        ]
    }

    /// A batch carrying a drop report was lost: report those drops again.
    fn unreport(&mut self, reported: [u64; 3]) {
        for (r, n) in self.drops_reported.iter_mut().zip(reported) {
            *r -= n;
        }
    }

    /// Notes when drops start, for the in-band report's "since".
    fn watch_drops(&mut self) {
        if self.drops_since.is_none() && self.drops_unreported() {
            self.drops_since = Some(clock::wall_ns());
        }
    }

    fn report_queue_full(&mut self) {
        self.watch_drops();
        let dropped = self
            .shared
            .counters
            .dropped_queue_full
            .load(std::sync::atomic::Ordering::Relaxed);
        if dropped > self.queue_full_reported {
            let new = dropped - self.queue_full_reported;
            self.queue_full_reported = dropped;
            self.reporter.report(DiagnosticKind::QueueFull, || {
                format!("dropped {new} records: the queue budget is used up (the service is slow or unreachable)")
            });
        }
    }
}

/// The length of `s` once written as a JSON string literal.
fn escaped_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' => 2,
            0x00..=0x1f | 0x7f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Backoff before attempt `attempts + 1`: `base * 2^(attempts-1)` capped at
/// `max`, then a random value between half of it and all of it.
pub(crate) fn backoff(policy: &RetryPolicy, attempts: u32, random: u64) -> Duration {
    let exp = attempts.saturating_sub(1).min(32);
    let full = policy.base.saturating_mul(1u32 << exp.min(31)).min(policy.max);
    let nanos = full.as_nanos() as u64;
    let half = nanos / 2;
    Duration::from_nanos(half + if half == 0 { 0 } else { random % (half + 1) })
}

/// xorshift64: enough randomness for jitter, no dependency.
fn next_random(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_between_half_and_all() {
        let p = RetryPolicy {
            max_tries: 10,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(backoff(&p, 1, 0), Duration::from_millis(50));
        assert_eq!(
            backoff(&p, 1, u64::MAX - (u64::MAX % 50_000_001)),
            Duration::from_millis(50)
        );
        // Attempt 2: 200 ms in full, so between 100 and 200 ms.
        assert_eq!(backoff(&p, 2, 100_000_000), Duration::from_millis(200));
        assert_eq!(backoff(&p, 3, 0), Duration::from_millis(200));
        assert_eq!(backoff(&p, 20, 0), Duration::from_millis(500));
        for r in [1u64, 12345, u64::MAX] {
            let d = backoff(&p, 5, r);
            assert!(d >= Duration::from_millis(500) && d <= Duration::from_secs(1), "{d:?}");
        }
    }

    #[test]
    fn the_thread_marker_is_off_for_other_threads() {
        assert!(!is_shipper_thread());
    }
}
