//! The worker thread: the stages a record passes through after the
//! caller's send, in order.
//!
//! capture (the caller, `Record` + `Shipper::send`) → queue (`queue`: the
//! records as bytes in recycled chunks) → line (`line`: the record formatted and cut to fit) →
//! batch (`batches`: the record's route and label values pick its open
//! batch, a `batch::Builder` sealed by count, bytes or linger, with the
//! in-band drop report from `drops`) → outbox (`outbox`:
//! sealed batches and the spool, retries, accounting) → delivery
//! (`delivery`: requests on sender threads, through any `Deliver`, as many
//! at once as `limiter` allows). Flushes and the shutdown wait in
//! `waiters`.
//!
//! It marks itself (see [`is_shipper_thread`](crate::is_shipper_thread))
//! so that nothing it does comes back into the pipeline. Its own
//! diagnostics go to the error hook.
//!
//! Why one long file: it is the loop that joins the stages, one method a
//! step (take in, seal, send, take answers, act on the outbox's notes,
//! finish); the stages themselves are in their own modules, and its unit
//! tests in worker/tests.rs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::batches::{BatchKey, OpenBatches};
use crate::clock::{self, ClockMode, Now};
use crate::config::Config;
use crate::delivery::{Answer, Deliver, Delivery, Outcome, Request};
use crate::diag::{DiagnosticKind, Reporter};
use crate::drops::{DropCounts, DropReports};
use crate::encode::Compressor;
use crate::gauges::Gauges;
use crate::intake::Control;
use crate::limiter::Limiter;
use crate::line::LineEncoder;
use crate::outbox::{Accounting, GiveUp, Note, Outbox, Ready, Resolved};
use crate::payload::{Compression, Payload};
use crate::queue::{Chunk, Queue};
use crate::record::{Level, Record};
use crate::self_filter::mark_shipper_thread;
use crate::shared::{add, Shared};
use crate::spool::Spool;
use crate::waiters::Waiters;

/// How long the worker sleeps between looks at the queue while a batch is
/// open. Senders never wake it: it collects what arrived at each look.
const TICK: Duration = Duration::from_millis(2);

/// How long past the shutdown deadline the worker waits for the answer to a
/// request whose timeout was cut to that deadline (the guard waits 50 ms
/// past it for the worker).
const FINISH_GRACE: Duration = Duration::from_millis(20);

pub(crate) struct Worker {
    queue: Arc<Queue>,
    /// A message here: a record was queued while the worker slept.
    woken: Receiver<()>,
    /// The chunks taken from the queue, being read (kept for its memory).
    taken: Vec<Chunk>,
    /// The record each queued one is read into, in turn.
    scratch: Record,
    control: Receiver<Control>,
    /// Set when the shutdown gave up waiting for the worker: the caller has
    /// counted what was left; stop, count nothing.
    abandoned: bool,
    /// The clocks as read at the start of the current run of records.
    now: Now,
    shared: Arc<Shared>,
    delivery: Delivery,
    reporter: Reporter,
    lines: LineEncoder,
    compressor: Compressor,
    compression: Compression,
    batches: OpenBatches,
    outbox: Outbox,
    limiter: Limiter,
    gauges: Gauges,
    waiters: Waiters,
    drops: DropReports,
    disconnected: bool,
    escaped: String,
    time_window_ns: u64,
    request_timeout: Duration,
    shutdown_timeout: Duration,
    rng: u64,
    queue_full_reported: u64,
    /// The last credentials failure reported, so it is reported once.
    credentials_error: Option<String>,
    clock: ClockMode,
}

impl Worker {
    /// A worker delivering through `deliver` (the HTTP transport, or a
    /// test's script).
    pub(crate) fn new(
        config: &Config,
        queue: Arc<Queue>,
        woken: Receiver<()>,
        control: Receiver<Control>,
        shared: Arc<Shared>,
        deliver: impl Deliver,
    ) -> Result<Worker, crate::Error> {
        let destinations = Arc::new(config.destinations());
        let mut reporter = Reporter::new(config.error_hook.clone());
        let spool = match &config.spool_dir {
            None => None,
            Some(dir) => {
                let (spool, found) = Spool::open(dir, config.spool_max_bytes, destinations.clone()).map_err(|e| {
                    crate::Error::new(
                        crate::ErrorKind::Io,
                        Some(config.setting_name("spool_dir")),
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
                Some((spool, found.batches))
            }
        };
        let time_window_ns = u64::try_from(config.time_window.as_nanos()).unwrap_or(u64::MAX);
        let delivery = Delivery::start(deliver, config.max_in_flight).map_err(|e| {
            crate::Error::new(crate::ErrorKind::Start, None, "cannot start the delivery thread").with_source(e)
        })?;
        let batches = OpenBatches::new(config, destinations);
        Ok(Worker {
            control,
            abandoned: false,
            now: Now::read(),
            outbox: Outbox::new(
                spool,
                config.retry,
                time_window_ns,
                config.max_in_flight == 1,
                shared.clone(),
                Instant::now(),
            ),
            limiter: Limiter::new(config.concurrency, config.max_in_flight, Instant::now()),
            gauges: Gauges::new(shared.clone()),
            queue,
            woken,
            taken: Vec::new(),
            scratch: empty_record(),
            shared,
            delivery,
            reporter,
            lines: LineEncoder::new(config.format.clone(), config.max_line_bytes, batches.max_escaped_line()),
            compressor: Compressor::new(config.compression, config.gzip_level),
            compression: config.compression,
            batches,
            waiters: Waiters::default(),
            drops: DropReports::new(clock::wall_ns()),
            disconnected: false,
            escaped: String::new(),
            time_window_ns,
            request_timeout: config.request_timeout,
            shutdown_timeout: config.shutdown_timeout,
            rng: clock::wall_ns() | 1,
            queue_full_reported: 0,
            credentials_error: None,
            clock: config.clock,
        })
    }

    pub(crate) fn run(mut self) {
        mark_shipper_thread();
        self.delivery.wake(std::thread::current());
        loop {
            self.receive();
            if self.is_abandoned() {
                return;
            }
            self.report_queue_full();
            if self.shutting_down() {
                self.seal_all();
            } else {
                for key in self.batches.due(Instant::now()) {
                    self.seal(&key);
                }
            }
            while let Some(answer) = self.delivery.try_answer() {
                self.on_answer(answer);
            }
            self.send_ready();
            self.outbox.spill_under_pressure(Instant::now());
            self.apply_notes();
            self.waiters.answer(self.outbox.done_below(), Instant::now());
            if self.try_finish() {
                return;
            }
        }
    }

    fn shutting_down(&self) -> bool {
        self.waiters.shutdown_deadline().is_some()
    }

    /// Waits for work as the state asks, then takes everything queued.
    fn receive(&mut self) {
        let idle = self.batches.is_empty() && self.outbox.is_empty() && !self.shutting_down();
        if idle && !self.disconnected {
            // Nothing to do until something arrives: sleep (the one wake-up
            // a sender pays for, once per idle period).
            if self.queue.sleep() {
                crossbeam_channel::select! {
                    recv(self.woken) -> _ => {},
                    recv(self.control) -> msg => match msg {
                        Ok(c) => {
                            // Records queued before the control message come first.
                            self.drain_records();
                            self.handle_control(c);
                        }
                        Err(_) => self.on_disconnect(),
                    },
                }
            }
            self.queue.awake();
        } else if !self.queue.has_full_chunks() && self.control.is_empty() {
            // Records in the chunk being filled wait for the next look.
            let now = Instant::now();
            let mut wake = now + TICK;
            if let Some(d) = self.batches.linger_deadline() {
                wake = wake.min(d);
            }
            if self.delivery.in_flight() < self.limiter.limit() {
                if let Some(t) = self.outbox.next_try() {
                    wake = wake.min(t.max(self.limiter.next_send()));
                }
            }
            if let Some(d) = self.waiters.shutdown_deadline() {
                wake = wake.min(d);
            }
            if wake > now {
                // The delivery thread unparks the worker when an answer comes.
                std::thread::park_timeout(wake - now);
            }
        }
        self.drain();
    }

    /// Takes in every record queued, then the control messages, each after
    /// the records that were queued before it: a record queued before a
    /// flush was sent is in the queue when the flush is taken, so the queue
    /// is read again before it is handled.
    fn drain(&mut self) {
        self.drain_records();
        loop {
            match self.control.try_recv() {
                Ok(c) => {
                    self.drain_records();
                    self.handle_control(c);
                }
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => return self.on_disconnect(),
            }
        }
    }

    /// Takes every record queued now into its batch.
    fn drain_records(&mut self) {
        // The clocks are read once for a run of records rather than per record.
        self.now = Now::read();
        let mut taken = std::mem::take(&mut self.taken);
        let mut record = std::mem::replace(&mut self.scratch, empty_record());
        self.queue.take(&mut taken);
        for mut chunk in taken.drain(..) {
            let (queued, mut read) = (chunk.records(), 0);
            let mut source = chunk.source();
            while let Some(size) = source.next_into(&mut record) {
                self.add_record(&record, size);
                read += 1;
            }
            drop(source);
            debug_assert_eq!(read, queued, "a queued record did not read back");
            // Back at once: the callers refill the budget its records gave
            // back while the next chunks are read.
            self.recycle(chunk);
        }
        self.scratch = record;
        self.taken = taken;
    }

    /// Gives a read chunk back to the queue, which keeps as many as the
    /// budget has room for.
    fn recycle(&self, chunk: Chunk) {
        let room = self.shared.budget.limit().saturating_sub(self.shared.budget.used());
        self.queue.recycle(chunk, room);
    }

    fn is_abandoned(&mut self) -> bool {
        if !self.abandoned && self.shared.abandoned.load(std::sync::atomic::Ordering::Acquire) {
            self.abandoned = true;
        }
        self.abandoned
    }

    /// Every handle is gone without a shutdown: shut down as the guard would.
    fn on_disconnect(&mut self) {
        if !self.disconnected && !self.shutting_down() {
            let (ack, _) = crossbeam_channel::bounded(1);
            self.start_shutdown(ack, Instant::now() + self.shutdown_timeout);
        }
        self.disconnected = true;
    }

    fn handle_control(&mut self, c: Control) {
        match c {
            Control::Flush { ack, deadline } => {
                self.seal_all();
                self.waiters.flush(self.outbox.next_seq(), ack, deadline);
            }
            Control::Shutdown { ack, deadline } => self.start_shutdown(ack, deadline),
        }
    }

    fn start_shutdown(&mut self, ack: Sender<u64>, deadline: Instant) {
        self.seal_all();
        self.waiters.shutdown(ack, deadline);
        // With a spool, what waits goes to disk now, while there is time:
        // delivery goes on from there until the deadline, and whatever
        // happens to the request out, little is left to write at the end.
        self.outbox.spill_all();
        self.apply_notes();
    }

    fn add_record(&mut self, record: &Record, size: usize) {
        let now_ns = self.now.wall_ns;
        let chosen = self.batches.key(record);
        let route = self.shared.route(chosen.key.route);
        if record.time_ns.abs_diff(now_ns) > self.time_window_ns {
            add(&self.shared.counters.dropped_rejected, 1);
            add(&route.routed, 1);
            add(&route.dropped, 1);
            self.shared.budget.release(size);
            self.batches.add_lost(1);
            let (t, window) = (record.time_ns, self.time_window_ns / 1_000_000_000);
            self.reporter.report(DiagnosticKind::OutsideTimeWindow, || {
                let mut at = String::new();
                crate::format::write_rfc3339_nanos(&mut at, t);
                format!("dropped a record stamped {at}: more than {window} s from now, the service would delete it")
            });
            return;
        }
        let time_ns = record.time_ns;
        let cut = self.lines.encode(record, &mut self.escaped);
        if cut.is_cut() {
            add(&self.shared.counters.truncated, 1);
            self.reporter.report(DiagnosticKind::Truncated, || {
                let dropped = match cut.dropped {
                    0 => String::new(),
                    n => format!(" and dropped {n} fields, spans or keys"),
                };
                format!(
                    "cut {} bytes{dropped} from a log line longer than the line limit",
                    cut.bytes
                )
            });
        }
        if chosen.overflowed {
            add(&self.shared.counters.label_overflow, 1);
            add(&route.label_overflow, 1);
            let open = self.batches.max_open();
            self.reporter.report(DiagnosticKind::LabelOverflow, || {
                format!(
                    "{open} batches with label values are open (max_open_batches): a record with new label values travels in its route's overflow batch, labelled \"{}\"",
                    crate::batches::OVERFLOW_VALUE
                )
            });
        }
        let key = chosen.key;
        let mut batch = self.batches.get(&key);
        if !batch.fits(self.escaped.len()) {
            self.seal(&key);
            batch = self.batches.get(&key);
        }
        // A batch's linger runs from its first record: the clock is read
        // again for that one, as a large take can last longer than a linger.
        let now = if batch.is_empty() {
            Instant::now()
        } else {
            self.now.instant
        };
        batch.push(time_ns, &self.escaped, size, false, now);
        if batch.is_full() {
            self.seal(&key);
        }
    }

    /// Changes what a sealed batch holds of the budget from `held` (its
    /// records' estimates of their lines) to `wanted` (its body's bytes),
    /// and returns what it holds then: less is given back; more is taken if
    /// the budget has room, else it stays at `held` (the budget is never
    /// overdrawn). Once a batch, not once a record: each release wakes the
    /// callers waiting for room in block mode.
    fn recharge(&self, held: usize, wanted: usize) -> usize {
        if wanted <= held {
            self.shared.budget.release(held - wanted);
            wanted
        } else if self.shared.budget.try_reserve(wanted - held) {
            wanted
        } else {
            held
        }
    }

    /// Seals every open batch.
    fn seal_all(&mut self) {
        for key in self.batches.keys() {
            self.seal(&key);
        }
    }

    /// Seals the open batch of `key`. The in-band report of drops not yet
    /// told of goes in a batch of the default stream: this one when it is
    /// one and has room, else a batch of its own.
    fn seal(&mut self, key: &BatchKey) {
        if !self.batches.has(key) {
            // Nothing in it: close it (it counts as open).
            let _ = self.batches.take(key);
            return;
        }
        let carried = if key.route != 0 || self.batches.get(key).is_empty() {
            DropCounts::default()
        } else {
            self.append_drop_report(key)
        };
        self.seal_open(key, carried);
        if carried.is_zero() && self.drops.unreported(DropCounts::read(&self.shared.counters)) {
            // The report did not fit the batch just sealed (it was full, had
            // no events, or went to another stream): it goes in the default
            // stream's base batch, sealed now, rather than wait for a next
            // batch that may never come.
            let base = self.batches.base();
            let carried = self.append_drop_report(&base);
            if !carried.is_zero() {
                self.seal_open(&base, carried);
            }
        }
    }

    /// Seals the open batch of `key`, carrying the drop report `carried`,
    /// into the outbox.
    fn seal_open(&mut self, key: &BatchKey, carried: DropCounts) {
        let Some((sealed, dest)) = self.batches.take(key) else {
            return;
        };
        // Counted per batch, not per record: one atomic add a batch.
        add(&self.shared.route(dest.route).routed, sealed.events - sealed.internal);
        let raw_len = sealed.raw.len();
        let wire = if sealed.events == 0 {
            Arc::default()
        } else {
            // Compressing into memory cannot fail; were it to, the empty
            // body is given up on and counted like a refused one.
            self.compressor.compress(sealed.raw).unwrap_or_default()
        };
        // From now on the batch holds its wire bytes, not the records.
        let reserved = self.recharge(sealed.reserved, wire.len());
        let payload = Payload {
            wire,
            compression: self.compression,
            raw_len,
            events: sealed.events,
            first_time_ns: sealed.first_time_ns,
            dest,
        };
        let accounting = Accounting {
            internal: sealed.internal,
            reported_drops: carried,
            reserved,
            lost_before: sealed.lost_before,
        };
        self.outbox.push(payload, accounting, Instant::now());
    }

    /// If records were dropped since the last report, adds one record
    /// saying so to the open batch, so the loss shows in LTS itself and not
    /// only in a counter. It is the pipeline's own record and is not
    /// counted in `Stats`. Returns the drops it reports (none if there are
    /// none, or if the batch or the budget has no room for it).
    fn append_drop_report(&mut self, key: &BatchKey) -> DropCounts {
        let counts = DropCounts::read(&self.shared.counters);
        let Some((record, told)) = self.drops.report(counts, clock::now_ns(self.clock)) else {
            return DropCounts::default();
        };
        let mut escaped = String::new();
        self.lines.encode(&record, &mut escaped);
        if !self.batches.get(key).fits(escaped.len()) {
            return DropCounts::default();
        }
        let size = escaped.len();
        if !self.shared.budget.try_reserve(size) {
            // No room in the budget now: the next batch carries the report.
            return DropCounts::default();
        }
        self.batches
            .get(key)
            .push(record.time_ns, &escaped, size, true, Instant::now());
        self.drops.carried(told);
        told
    }

    /// Sends batches whose time has come, oldest first, while the
    /// concurrency limit allows.
    fn send_ready(&mut self) {
        while self.delivery.in_flight() < self.limiter.limit() {
            let now = Instant::now();
            if now < self.limiter.next_send() {
                // The service throttled: requests go out at its pace.
                return;
            }
            let mut timeout = self.request_timeout;
            if let Some(deadline) = self.waiters.shutdown_deadline() {
                match deadline.checked_duration_since(now) {
                    Some(left) if !left.is_zero() => timeout = timeout.min(left),
                    _ => return,
                }
            }
            let Ready::Send { seq, payload } = self.outbox.next_to_send(now, clock::wall_ns()) else {
                return;
            };
            let random = next_random(&mut self.rng);
            self.delivery.send(Request {
                seq,
                payload,
                timeout,
                random,
            });
            self.limiter.on_send(now, self.delivery.in_flight());
            self.gauges.sent(self.delivery.in_flight(), self.limiter.limit());
        }
    }

    /// The answer to a request out.
    fn on_answer(&mut self, answer: Answer) {
        if self.is_abandoned() {
            // The shutdown already counted this batch as undelivered.
            return;
        }
        let now = Instant::now();
        if !matches!(answer.outcome, Outcome::NoCredentials { .. }) {
            self.limiter.on_answer(now, answer.round_trip, answer.outcome.signal());
            self.gauges.answered(
                answer.round_trip,
                self.delivery.in_flight(),
                self.limiter.limit(),
                self.limiter.pace(),
            );
        }
        match &answer.outcome {
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
            }
            _ => self.credentials_error = None,
        }
        let random = next_random(&mut self.rng);
        self.outbox.complete(answer.seq, answer.outcome, now, random);
        self.apply_notes();
    }

    /// Acts on what the outbox did: answers waiters, owes lost reports
    /// again, and reports to the error hook.
    fn apply_notes(&mut self) {
        while let Some(note) = self.outbox.take_note() {
            match note {
                Note::Resolved(r) => {
                    self.waiters.resolve(r.seq, r.lost);
                    self.drops.unreport(r.unreport);
                    self.report_given_up(&r);
                }
                Note::Retrying {
                    kind: Some(kind),
                    attempt,
                    tries,
                    reason,
                    delay,
                } => self.reporter.report(kind, || {
                    format!(
                        "attempt {attempt} of {tries} failed ({reason}); retrying in {} ms",
                        delay.as_millis()
                    )
                }),
                Note::Retrying { kind: None, .. } => {}
                Note::Spooled { reason, batches, bytes } => self.reporter.report(DiagnosticKind::Spool, || {
                    format!(
                        "a batch ran out of tries ({reason}); kept in the spool ({batches} batches, {bytes} bytes there)"
                    )
                }),
                Note::SpoolTrouble(message) => self.reporter.report(DiagnosticKind::Spool, || message),
            }
        }
    }

    fn report_given_up(&mut self, r: &Resolved) {
        let n = r.events;
        match &r.gave_up {
            None | Some(GiveUp::Empty) | Some(GiveUp::Shutdown) => {}
            Some(GiveUp::Rejected { status, answer }) => self.reporter.report(DiagnosticKind::Rejected, || {
                format!("the service refused a batch of {n} records with HTTP {status}: {answer}; dropped")
            }),
            Some(GiveUp::RetriesExhausted { tries, reason }) => {
                self.reporter.report(DiagnosticKind::RetriesExhausted, || {
                    format!("gave up on a batch of {n} records after {tries} tries; last error: {reason}")
                })
            }
            Some(GiveUp::TooOld) => self.reporter.report(DiagnosticKind::OutsideTimeWindow, || {
                format!("dropped a spooled batch of {n} records: older than the service's time window")
            }),
            Some(GiveUp::Unreadable { error }) => self.reporter.report(DiagnosticKind::Spool, || {
                format!("skipped a spooled batch of {n} records that cannot be read back: {error}")
            }),
        }
    }

    /// Ends the thread once a shutdown has everything delivered, or its
    /// deadline passed, or the next try would come after it.
    fn try_finish(&mut self) -> bool {
        let Some(deadline) = self.waiters.shutdown_deadline() else {
            return false;
        };
        let now = Instant::now();
        let all_done = self.outbox.is_empty() && self.batches.is_empty() && self.queue.is_empty();
        let out_of_time = now >= deadline
            || (self.delivery.in_flight() == 0 && self.outbox.next_try().is_some_and(|t| t >= deadline));
        if !all_done && !out_of_time {
            return false;
        }
        // A request sent during the shutdown has its timeout cut to the
        // deadline: its answer is due, and is waited for a moment. One sent
        // before (a hung service) is abandoned: its batch is kept (spooled)
        // or counted with the rest, and the thread ends now, whatever the
        // request does.
        for answer in self.delivery.wait_answers(deadline + FINISH_GRACE) {
            self.on_answer(answer);
        }
        self.delivery.abandon();
        self.outbox.abandoned();
        self.gauges.sent(0, self.limiter.limit());
        if self.outbox.has_spool() {
            // Keep what is left on disk for the next start.
            self.drain_records();
            self.seal_all();
            self.outbox.spill_all();
        }
        self.seal_all();
        // Whatever is left, including records sent in a race with the
        // shutdown, is counted as undelivered.
        let never_batched = self.discard_queued();
        let undelivered = self.outbox.finish() + never_batched;
        self.apply_notes();
        add(&self.shared.counters.dropped_shutdown, never_batched);
        if self.outbox.has_spool() {
            // Every record neither resolved nor counted is on disk.
            let mut stats = self.shared.counters.snapshot();
            stats.enqueued = self.queue.enqueued();
            let kept = stats.pending();
            if kept > 0 {
                self.reporter.report(DiagnosticKind::Shutdown, || {
                    format!("shut down with {kept} records undelivered; kept in the spool for the next start")
                });
            }
        }
        if undelivered > 0 {
            self.reporter.report(DiagnosticKind::Shutdown, || {
                format!("shut down with {undelivered} records undelivered")
            });
        }
        // Records left in the queue were never in a batch, so no
        // waiter has counted them yet.
        self.waiters.finish(never_batched);
        true
    }

    /// Closes the queue and counts what is in it, giving its budget back.
    fn discard_queued(&mut self) -> u64 {
        self.queue.close(&self.shared.budget);
        let mut taken = std::mem::take(&mut self.taken);
        self.queue.take(&mut taken);
        let mut record = empty_record();
        let mut count = 0;
        for mut chunk in taken.drain(..) {
            let mut source = chunk.source();
            while let Some(size) = source.next_into(&mut record) {
                self.shared.budget.release(size);
                count += 1;
            }
            drop(source);
            self.recycle(chunk);
        }
        self.taken = taken;
        count
    }

    fn report_queue_full(&mut self) {
        self.drops
            .watch(DropCounts::read(&self.shared.counters), clock::wall_ns());
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

/// A record with nothing in it (no allocation), to be read into.
fn empty_record() -> Record {
    Record::new(0, Level::Trace, "", String::new())
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
mod tests;
