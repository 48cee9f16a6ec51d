//! The outbox: sealed batches waiting for delivery, oldest first, with the
//! disk spool behind them. It says what goes out next, decides what becomes
//! of a batch after each answer (delivered, tried again after a backoff,
//! kept on disk, given up on), and keeps the counts in [`Stats`]. What the
//! worker must act on (waiters to answer, diagnostics to report) comes out
//! as [`Note`]s.
//!
//! Several requests may be out at once. Every answer names its batch by
//! sequence number; a batch waiting for its backoff does not hold back the
//! batches behind it (each event carries its own time, and LTS sorts by
//! it). Flushes wait for every batch below a sequence number
//! ([`Outbox::done_below`]), whatever order they finish in. The spool's
//! oldest batch is the one spooled batch in memory at a time.
//!
//! Time is a parameter (`now`), never read here, so the state machine runs
//! under a test's clock.
//!
//! [`Stats`]: crate::Stats
//!
//! Why one long file: half of it is the unit tests of the state machine,
//! and the rest is one state machine whose invariants (a batch is out at
//! most once; the spool's oldest batch is the one spooled batch in memory;
//! every batch leaves through `settle`) are read together.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::RetryPolicy;
use crate::delivery::Outcome;
use crate::diag::DiagnosticKind;
use crate::drops::DropCounts;
use crate::payload::Payload;
use crate::shared::{add, Shared};
use crate::spool::Spool;

/// A sealed batch waiting for delivery.
#[derive(Debug)]
struct Batch {
    seq: u64,
    payload: Payload,
    accounting: Accounting,
    attempts: Attempts,
    /// Whether it is the spool's oldest batch (read back from disk, or
    /// written there while its request was out): resolving it pops the
    /// spool.
    from_spool: bool,
}

impl Batch {
    /// Events that count in `Stats`: all but the pipeline's own reports.
    fn counted(&self) -> u64 {
        self.payload.events - self.accounting.internal
    }
}

/// What a batch stands for besides its events.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accounting {
    /// Of its events, the pipeline's own reports (not counted in `Stats`).
    pub(crate) internal: u64,
    /// The drops its in-band report tells of.
    pub(crate) reported_drops: DropCounts,
    /// Bytes it holds of the queue budget.
    pub(crate) reserved: usize,
    /// Records given up on before it was sealed (outside the time window),
    /// resolved with it.
    pub(crate) lost_before: u64,
}

#[derive(Debug)]
struct Attempts {
    made: u32,
    /// Whether a request for it is out now.
    out: bool,
    /// Whether the last attempt got a 401.
    unauthorized: bool,
    /// Not to be sent before this (backoff).
    not_before: Instant,
}

/// Why a batch was given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// The service refused it (a 3xx included: redirects are not followed).
    Rejected { status: u16, answer: String },
    /// Out of tries, with no spool to keep it.
    RetriesExhausted { tries: u32, reason: String },
    /// It held nothing to send.
    Empty,
    /// A spooled batch older than the service's time window.
    TooOld,
    /// A spooled batch that cannot be read back.
    Unreadable { error: String },
    /// Still undelivered when the shutdown ended.
    Shutdown,
}

/// A batch done with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) seq: u64,
    /// Its events that count in `Stats`.
    pub(crate) events: u64,
    /// Records given up on with it (its own when it was, and those lost
    /// before it was sealed).
    pub(crate) lost: u64,
    /// Drops its report told of that are owed again (it was lost).
    pub(crate) unreport: DropCounts,
    /// `None`: delivered.
    pub(crate) gave_up: Option<GiveUp>,
}

/// What the outbox did that the worker acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    Resolved(Resolved),
    /// An attempt failed; the next one goes out after `delay`. `kind`: how
    /// to report it (`None`: the caller reports it its own way).
    Retrying {
        kind: Option<DiagnosticKind>,
        attempt: u32,
        tries: u32,
        reason: String,
        delay: Duration,
    },
    /// A batch ran out of tries and waits in the spool.
    Spooled {
        reason: String,
        batches: usize,
        bytes: u64,
    },
    /// The spool could not take or give back a batch.
    SpoolTrouble(String),
}

/// What to do next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ready {
    /// Send batch `seq` (it now counts as out).
    Send { seq: u64, payload: Payload },
    /// The next batch may go out then.
    At(Instant),
    /// Nothing waits to go out.
    Nothing,
}

/// The sequence numbers of the spooled batches, in the spool's order (0 for
/// batches an earlier run left), and the smallest of them.
#[derive(Debug, Default)]
struct SpoolSeqs {
    fifo: VecDeque<u64>,
    counts: BTreeMap<u64, usize>,
}

impl SpoolSeqs {
    fn push_back(&mut self, seq: u64) {
        self.fifo.push_back(seq);
        *self.counts.entry(seq).or_default() += 1;
    }

    fn pop_front(&mut self) {
        if let Some(seq) = self.fifo.pop_front() {
            if let Some(n) = self.counts.get_mut(&seq) {
                *n -= 1;
                if *n == 0 {
                    self.counts.remove(&seq);
                }
            }
        }
    }

    fn front(&self) -> Option<u64> {
        self.fifo.front().copied()
    }

    fn min(&self) -> Option<u64> {
        self.counts.keys().next().copied()
    }

    fn len(&self) -> usize {
        self.fifo.len()
    }
}

/// The batches waiting, the spool, and the sequence numbers.
pub(crate) struct Outbox {
    /// In the order sealed, but for the spool's oldest batch, first.
    pending: VecDeque<Batch>,
    spool: Option<Spool>,
    spool_seqs: SpoolSeqs,
    /// The spool's oldest batch is not tried again before this.
    spool_not_before: Instant,
    /// The next batch's sequence number (batches from an earlier run count
    /// as 0).
    next_seq: u64,
    retry: RetryPolicy,
    time_window_ns: u64,
    /// One request at a time, in the order sealed: a batch waiting for its
    /// backoff holds back those behind it.
    in_order: bool,
    shared: Arc<Shared>,
    notes: VecDeque<Note>,
}

impl Outbox {
    /// An outbox with `spool` (holding `restored` batches an earlier run
    /// left), or none.
    pub(crate) fn new(
        spool: Option<(Spool, u64)>,
        retry: RetryPolicy,
        time_window_ns: u64,
        in_order: bool,
        shared: Arc<Shared>,
        now: Instant,
    ) -> Outbox {
        let (spool, restored) = match spool {
            Some((s, n)) => (Some(s), n),
            None => (None, 0),
        };
        let mut spool_seqs = SpoolSeqs::default();
        for _ in 0..restored {
            spool_seqs.push_back(0);
        }
        Outbox {
            pending: VecDeque::new(),
            spool,
            spool_seqs,
            spool_not_before: now,
            next_seq: 1,
            retry,
            time_window_ns,
            in_order,
            shared,
            notes: VecDeque::new(),
        }
    }

    /// Adds a sealed batch; returns its sequence number.
    pub(crate) fn push(&mut self, payload: Payload, accounting: Accounting, now: Instant) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back(Batch {
            seq,
            payload,
            accounting,
            attempts: Attempts {
                made: 0,
                out: false,
                unauthorized: false,
                not_before: now,
            },
            from_spool: false,
        });
        seq
    }

    /// The sequence number the next sealed batch gets: a flush waits for
    /// every batch below it.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Every batch below this is resolved.
    pub(crate) fn done_below(&self) -> u64 {
        let in_memory = self.pending.iter().map(|b| b.seq).min().unwrap_or(self.next_seq);
        self.spool_seqs.min().map_or(in_memory, |s| in_memory.min(s))
    }

    /// Whether nothing waits, in memory or on disk.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.spool.as_ref().is_none_or(Spool::is_empty)
    }

    pub(crate) fn has_spool(&self) -> bool {
        self.spool.is_some()
    }

    /// When the next batch not out may be tried.
    pub(crate) fn next_try(&self) -> Option<Instant> {
        self.pending
            .iter()
            .filter(|b| !b.attempts.out)
            .map(|b| b.attempts.not_before)
            .min()
    }

    /// The next note for the worker.
    pub(crate) fn take_note(&mut self) -> Option<Note> {
        self.notes.pop_front()
    }

    /// The oldest batch whose time has come and whose request is not out
    /// (in order: the oldest batch, when its time has come); it counts as
    /// out from now on. Batches given up on before sending
    /// (empty, too old, unreadable) are resolved on the way. `wall_ns`: the
    /// wall clock, for the time window.
    pub(crate) fn next_to_send(&mut self, now: Instant, wall_ns: u64) -> Ready {
        self.load_spool_head(wall_ns);
        let mut i = 0;
        let mut next: Option<Instant> = None;
        while i < self.pending.len() {
            let b = &self.pending[i];
            if b.attempts.out {
                i += 1;
                continue;
            }
            if b.attempts.not_before > now {
                next = Some(next.map_or(b.attempts.not_before, |t| t.min(b.attempts.not_before)));
                if self.in_order {
                    break;
                }
                i += 1;
                continue;
            }
            if b.payload.events == 0 || b.payload.wire.is_empty() {
                let b = self.take(i);
                self.settle(b, Some(GiveUp::Empty));
                continue;
            }
            let b = &mut self.pending[i];
            b.attempts.out = true;
            return Ready::Send {
                seq: b.seq,
                payload: b.payload.clone(),
            };
        }
        next.map_or(Ready::Nothing, Ready::At)
    }

    /// The answer to batch `seq`'s request. `random` draws the backoff's
    /// jitter.
    pub(crate) fn complete(&mut self, seq: u64, outcome: Outcome, now: Instant, random: u64) {
        let Some(i) = self.pending.iter().position(|b| b.seq == seq && b.attempts.out) else {
            debug_assert!(false, "an answer for batch {seq}, which is not out");
            return;
        };
        let b = &mut self.pending[i];
        b.attempts.out = false;
        if !matches!(outcome, Outcome::NoCredentials { .. }) {
            // Counted only when a request went out.
            let c = &self.shared.counters;
            add(&c.requests, 1);
            add(&c.bytes_sent, b.payload.wire.len() as u64);
            add(&c.bytes_raw, b.payload.raw_len as u64);
        }
        match outcome {
            Outcome::Delivered => {
                let b = self.take(i);
                self.settle(b, None);
            }
            Outcome::Rejected { status, answer } => {
                let b = self.take(i);
                self.settle(b, Some(GiveUp::Rejected { status, answer }));
            }
            Outcome::Unauthorized { answer, renewable } => {
                let first_401 = !std::mem::replace(&mut b.attempts.unauthorized, true);
                // With fresh credentials to be had, the first retry goes out
                // at once.
                let delay = (renewable && first_401).then_some(Duration::ZERO);
                let reason = format!("HTTP 401: {answer}");
                self.failed(i, Some(DiagnosticKind::Unauthorized), reason, delay, now, random);
            }
            Outcome::NoCredentials { message } => self.failed(i, None, message, None, now, random),
            Outcome::Retry {
                reason, retry_after, ..
            } => {
                b.attempts.unauthorized = false;
                let delay = retry_after.map(|d| d.max(Duration::from_millis(1)));
                self.failed(i, Some(DiagnosticKind::Retrying), reason, delay, now, random);
            }
        }
    }

    /// Counts a failed attempt of batch `i` and schedules the next (after
    /// `delay`, else the policy's backoff); out of tries, the batch goes to
    /// the spool, or is given up on.
    fn failed(
        &mut self,
        i: usize,
        kind: Option<DiagnosticKind>,
        reason: String,
        delay: Option<Duration>,
        now: Instant,
        random: u64,
    ) {
        let tries = self.retry.max_tries;
        let b = &mut self.pending[i];
        b.attempts.made += 1;
        if b.attempts.made >= tries && self.spool.is_some() {
            if b.from_spool {
                // On disk already: it waits there, tried at the longest
                // backoff, until it is delivered or too old for the service.
                b.attempts.made = 0;
                b.attempts.not_before = now + self.retry.max;
                self.spool_not_before = b.attempts.not_before;
                add(&self.shared.counters.retries, 1);
                add(&self.shared.route(b.payload.dest.route).retries, 1);
                return;
            }
            if self.spill_at(i) {
                self.spool_not_before = now + self.retry.max;
                let bytes = self.spool.as_ref().map_or(0, Spool::bytes);
                self.notes.push_back(Note::Spooled {
                    reason,
                    batches: self.spool_seqs.len(),
                    bytes,
                });
                return;
            }
        }
        let b = &mut self.pending[i];
        if b.attempts.made >= tries {
            let b = self.take(i);
            self.settle(b, Some(GiveUp::RetriesExhausted { tries, reason }));
            return;
        }
        add(&self.shared.counters.retries, 1);
        add(&self.shared.route(b.payload.dest.route).retries, 1);
        let attempt = b.attempts.made;
        let backoff = backoff(&self.retry, attempt, random);
        let delay = match delay {
            Some(d) if d.is_zero() => d,
            // A Retry-After longer than our backoff is honoured, up to the cap.
            Some(d) => d.min(self.retry.max).max(backoff),
            None => backoff,
        };
        b.attempts.not_before = now + delay;
        self.notes.push_back(Note::Retrying {
            kind,
            attempt,
            tries,
            reason,
            delay,
        });
    }

    /// The one way a batch leaves: its memory is given back, it is counted
    /// (delivered, or given up on and why), and a note tells the worker.
    fn settle(&mut self, b: Batch, gave_up: Option<GiveUp>) {
        let events = b.counted();
        self.resolve(b.seq, events, b.accounting, gave_up, b.payload.dest.route);
    }

    fn resolve(&mut self, seq: u64, events: u64, accounting: Accounting, gave_up: Option<GiveUp>, route: usize) {
        self.shared.budget.release(accounting.reserved);
        let r = self.shared.route(route);
        match &gave_up {
            None => {
                add(&r.delivered, events);
                add(&r.batches, 1);
            }
            Some(_) => add(&r.dropped, events),
        }
        let c = &self.shared.counters;
        let (counter, lost, unreport) = match &gave_up {
            None => (&c.delivered, accounting.lost_before, DropCounts::default()),
            Some(why) => {
                let counter = match why {
                    GiveUp::RetriesExhausted { .. } => &c.dropped_retries_exhausted,
                    GiveUp::Shutdown => &c.dropped_shutdown,
                    GiveUp::Rejected { .. } | GiveUp::Empty | GiveUp::TooOld | GiveUp::Unreadable { .. } => {
                        &c.dropped_rejected
                    }
                };
                (counter, accounting.lost_before + events, accounting.reported_drops)
            }
        };
        add(counter, events);
        self.notes.push_back(Note::Resolved(Resolved {
            seq,
            events,
            lost,
            unreport,
            gave_up,
        }));
    }

    /// Takes batch `i` off the queue; if it is the spool's oldest, the
    /// spool forgets it too.
    fn take(&mut self, i: usize) -> Batch {
        let b = self.pending.remove(i).expect("the caller saw the batch");
        if b.from_spool {
            self.spool_seqs.pop_front();
            self.pop_spool();
        }
        b
    }

    fn pop_spool(&mut self) {
        if let Some(spool) = &mut self.spool {
            if let Err(e) = spool.pop_front() {
                self.notes
                    .push_back(Note::SpoolTrouble(format!("cannot update the spool: {e}")));
            }
        }
    }

    /// Puts the spool's oldest batch at the head of the queue, unless it is
    /// there already, giving up on batches too old for the service and
    /// unreadable ones.
    fn load_spool_head(&mut self, wall_ns: u64) {
        if self.pending.iter().any(|b| b.from_spool) {
            return;
        }
        loop {
            let Some(spool) = self.spool.as_mut().filter(|s| !s.is_empty()) else {
                return;
            };
            let seq = self.spool_seqs.front().unwrap_or(0);
            let events = spool.front_events();
            let payload = match spool.front() {
                Ok(Some(p)) => p,
                Ok(None) => return,
                Err(e) => {
                    add(&self.shared.counters.spool_corrupt, 1);
                    self.spool_seqs.pop_front();
                    self.pop_spool();
                    let why = GiveUp::Unreadable { error: e.to_string() };
                    self.resolve(seq, events, Accounting::default(), Some(why), 0);
                    continue;
                }
            };
            let too_old = wall_ns.saturating_sub(payload.first_time_ns) > self.time_window_ns;
            self.pending.push_front(Batch {
                seq,
                payload,
                accounting: Accounting::default(),
                attempts: Attempts {
                    made: 0,
                    out: false,
                    unauthorized: false,
                    not_before: self.spool_not_before,
                },
                from_spool: true,
            });
            if !too_old {
                return;
            }
            let b = self.take(0);
            self.settle(b, Some(GiveUp::TooOld));
        }
    }

    /// Writes batch `i` (from memory, not out) to the spool. Returns whether
    /// it went there; if so it left the queue and gave its memory back.
    fn spill_at(&mut self, i: usize) -> bool {
        let Some(spool) = &mut self.spool else {
            return false;
        };
        let b = &self.pending[i];
        debug_assert!(!b.from_spool && !b.attempts.out);
        match spool.append(&b.payload) {
            Ok(true) => {
                let b = self.pending.remove(i).expect("just seen");
                self.shared.budget.release(b.accounting.reserved);
                add(&self.shared.counters.spooled, b.counted());
                self.spool_seqs.push_back(b.seq);
                true
            }
            Ok(false) => {
                self.notes.push_back(Note::SpoolTrouble(
                    "the spool is at its size cap; batches stay in memory or are dropped as without a spool".into(),
                ));
                false
            }
            Err(e) => {
                self.notes
                    .push_back(Note::SpoolTrouble(format!("cannot write to the spool: {e}")));
                false
            }
        }
    }

    /// Moves every batch held in memory whose request is not out to the
    /// spool, oldest first. Returns the records moved.
    pub(crate) fn spill_all(&mut self) -> u64 {
        let mut moved = 0;
        let mut i = 0;
        while i < self.pending.len() {
            let b = &self.pending[i];
            if b.from_spool || b.attempts.out {
                i += 1;
                continue;
            }
            let n = b.counted();
            if !self.spill_at(i) {
                break;
            }
            moved += n;
        }
        moved
    }

    /// While the service is failing and half the budget is used, batches
    /// waiting in memory move to disk, so the queue keeps taking records.
    pub(crate) fn spill_under_pressure(&mut self, now: Instant) {
        let budget = &self.shared.budget;
        if self.spool.is_none() || budget.used() <= budget.limit() / 2 {
            return;
        }
        let failing = self
            .pending
            .iter()
            .any(|b| !b.from_spool && !b.attempts.out && (b.attempts.made > 0 || b.attempts.not_before > now));
        if failing {
            self.spill_all();
        }
    }

    /// The requests out were abandoned: their batches wait again.
    pub(crate) fn abandoned(&mut self) {
        for b in &mut self.pending {
            b.attempts.out = false;
        }
    }

    /// The end: what is still in memory is given up on (the spool's oldest
    /// stays on disk for the next start). Returns the records given up on.
    pub(crate) fn finish(&mut self) -> u64 {
        self.pending.retain(|b| !b.from_spool);
        let mut undelivered = 0;
        while let Some(b) = self.pending.pop_front() {
            undelivered += b.counted();
            self.settle(b, Some(GiveUp::Shutdown));
        }
        undelivered
    }
}

/// The wait before attempt `attempts + 1`: `base * 2^(attempts-1)`, capped
/// at `max`, then a point between half and all of it drawn from `random`
/// (jitter).
pub(crate) fn backoff(policy: &RetryPolicy, attempts: u32, random: u64) -> Duration {
    let exp = attempts.saturating_sub(1).min(32);
    let full = policy.base.saturating_mul(1u32 << exp.min(31)).min(policy.max);
    let nanos = full.as_nanos() as u64;
    let half = nanos / 2;
    Duration::from_nanos(half + if half == 0 { 0 } else { random % (half + 1) })
}

#[cfg(test)]
mod tests {
    //! The outbox's state machine under a test's clock: no socket, no
    //! sleep; every time is `t0` plus a stated offset.
    use super::*;
    use crate::delivery::RetryCause;
    use crate::payload::Compression;
    use crate::shared::Stats;

    const WALL: u64 = 1_800_000_000_000_000_000;
    const DAY_NS: u64 = 86_400_000_000_000;
    const RESERVED: usize = 10;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn policy(max_tries: u32) -> RetryPolicy {
        RetryPolicy {
            max_tries,
            base: ms(100),
            max: ms(1_000),
        }
    }

    struct Fixture {
        outbox: Outbox,
        shared: Arc<Shared>,
        t0: Instant,
        /// Events sealed so far, for the books.
        sealed: u64,
        _dir: Option<tempfile::TempDir>,
    }

    fn fixture(max_tries: u32, spool: bool) -> Fixture {
        let shared = Arc::new(Shared::new(1 << 20));
        let t0 = Instant::now();
        let dir = spool.then(|| tempfile::tempdir().unwrap());
        let spool = dir.as_ref().map(|d| {
            (
                Spool::open(d.path(), 1 << 30, Arc::new(crate::destination::Destinations::single()))
                    .unwrap()
                    .0,
                0,
            )
        });
        Fixture {
            outbox: Outbox::new(spool, policy(max_tries), 2 * DAY_NS, false, shared.clone(), t0),
            shared,
            t0,
            sealed: 0,
            _dir: dir,
        }
    }

    fn payload(events: u64, byte: u8) -> Payload {
        Payload {
            wire: Arc::from(vec![byte; 10]),
            compression: Compression::Snappy,
            raw_len: 30,
            events,
            first_time_ns: WALL,
            dest: Arc::default(),
        }
    }

    impl Fixture {
        fn at(&self, offset_ms: u64) -> Instant {
            self.t0 + ms(offset_ms)
        }

        /// Seals a batch of `events` holding `RESERVED` bytes of the budget.
        fn seal(&mut self, events: u64) -> u64 {
            assert!(self.shared.budget.try_reserve(RESERVED));
            self.sealed += events;
            let accounting = Accounting {
                reserved: RESERVED,
                ..Accounting::default()
            };
            self.outbox.push(payload(events, events as u8), accounting, self.t0)
        }

        fn ready(&mut self, offset_ms: u64) -> Ready {
            self.outbox.next_to_send(self.at(offset_ms), WALL)
        }

        /// Asks for the next batch at `offset_ms`; it must be `seq`.
        fn send(&mut self, offset_ms: u64, seq: u64) -> Payload {
            match self.ready(offset_ms) {
                Ready::Send { seq: s, payload } if s == seq => payload,
                other => panic!("expected batch {seq} at +{offset_ms} ms, got {other:?}"),
            }
        }

        fn answer(&mut self, offset_ms: u64, seq: u64, outcome: Outcome) {
            self.outbox.complete(seq, outcome, self.at(offset_ms), 0);
        }

        fn notes(&mut self) -> Vec<Note> {
            std::iter::from_fn(|| self.outbox.take_note()).collect()
        }

        fn stats(&self) -> Stats {
            self.shared.counters.snapshot()
        }

        /// Everything sealed is delivered or counted as given up on, and
        /// the budget is all given back.
        fn assert_books_balance(&self) {
            let s = self.stats();
            assert_eq!(
                self.sealed,
                s.delivered + s.dropped_rejected + s.dropped_retries_exhausted + s.dropped_shutdown,
                "{s:?}"
            );
            assert_eq!(self.shared.budget.used(), 0);
        }
    }

    fn retry_503() -> Outcome {
        Outcome::Retry {
            reason: "HTTP 503".into(),
            retry_after: None,
            cause: RetryCause::Throttled,
        }
    }

    fn resolved(notes: &[Note]) -> Vec<Resolved> {
        notes
            .iter()
            .filter_map(|n| match n {
                Note::Resolved(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_between_half_and_all() {
        let p = RetryPolicy {
            max_tries: 10,
            base: ms(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(backoff(&p, 1, 0), ms(50));
        assert_eq!(backoff(&p, 1, u64::MAX - (u64::MAX % 50_000_001)), ms(50));
        // Attempt 2: 200 ms in full, so between 100 and 200 ms.
        assert_eq!(backoff(&p, 2, 100_000_000), ms(200));
        assert_eq!(backoff(&p, 3, 0), ms(200));
        assert_eq!(backoff(&p, 20, 0), ms(500));
        for r in [1u64, 12345, u64::MAX] {
            let d = backoff(&p, 5, r);
            assert!(d >= ms(500) && d <= Duration::from_secs(1), "{d:?}");
        }
    }

    #[test]
    fn retries_follow_the_backoff_schedule_then_the_batch_is_given_up() {
        let mut f = fixture(4, false);
        let seq = f.seal(5);
        // With no jitter drawn (random 0) each wait is half the full
        // backoff: 50, 100, 200 ms.
        let mut at = 0;
        for (attempt, wait) in [(1, 50), (2, 100), (3, 200)] {
            f.send(at, seq);
            f.answer(at, seq, retry_503());
            assert_eq!(f.ready(at + wait - 1), Ready::At(f.at(at + wait)));
            assert_eq!(
                f.notes(),
                vec![Note::Retrying {
                    kind: Some(DiagnosticKind::Retrying),
                    attempt,
                    tries: 4,
                    reason: "HTTP 503".into(),
                    delay: ms(wait),
                }]
            );
            at += wait;
        }
        f.send(at, seq);
        f.answer(at, seq, retry_503());
        let notes = f.notes();
        assert_eq!(
            resolved(&notes),
            vec![Resolved {
                seq,
                events: 5,
                lost: 5,
                unreport: DropCounts::default(),
                gave_up: Some(GiveUp::RetriesExhausted {
                    tries: 4,
                    reason: "HTTP 503".into()
                }),
            }]
        );
        let s = f.stats();
        assert_eq!((s.requests, s.retries, s.dropped_retries_exhausted), (4, 3, 5));
        assert_eq!(f.ready(at), Ready::Nothing);
        f.assert_books_balance();
    }

    #[test]
    fn a_retry_after_is_honoured_up_to_the_longest_backoff() {
        let mut f = fixture(10, false);
        let seq = f.seal(1);
        f.send(0, seq);
        let answer = |secs| Outcome::Retry {
            reason: "HTTP 429".into(),
            retry_after: Some(Duration::from_secs(secs)),
            cause: RetryCause::Throttled,
        };
        f.answer(0, seq, answer(60));
        assert_eq!(f.ready(0), Ready::At(f.at(1_000)), "capped at the policy's max");
        f.send(1_000, seq);
        f.answer(1_000, seq, answer(0));
        // A Retry-After shorter than the backoff: the backoff (100 ms).
        assert_eq!(f.ready(1_000), Ready::At(f.at(1_100)));
    }

    #[test]
    fn a_refused_batch_is_dropped_alone_and_the_next_goes_out() {
        let mut f = fixture(10, false);
        let (a, b) = (f.seal(3), f.seal(4));
        f.send(0, a);
        f.answer(
            0,
            a,
            Outcome::Rejected {
                status: 400,
                answer: "LTS.0009 invalid".into(),
            },
        );
        let gone = resolved(&f.notes());
        assert_eq!(gone.len(), 1);
        assert_eq!((gone[0].seq, gone[0].lost), (a, 3));
        f.send(0, b);
        f.answer(0, b, Outcome::Delivered);
        assert_eq!(resolved(&f.notes())[0].gave_up, None);
        let s = f.stats();
        assert_eq!((s.dropped_rejected, s.delivered, s.retries), (3, 4, 0));
        assert_eq!(f.outbox.done_below(), f.outbox.next_seq());
        f.assert_books_balance();
    }

    #[test]
    fn a_401_with_fresh_credentials_is_retried_at_once_then_backs_off() {
        let mut f = fixture(10, false);
        let seq = f.seal(2);
        let unauthorized = |renewable| Outcome::Unauthorized {
            answer: "SVCSTG.ALS.403.105".into(),
            renewable,
        };
        f.send(0, seq);
        f.answer(0, seq, unauthorized(true));
        // Renewed: the next attempt goes out now.
        f.send(0, seq);
        f.answer(0, seq, unauthorized(true));
        // A second 401 in a row: the fresh credential was refused too.
        assert_eq!(f.ready(0), Ready::At(f.at(100)));
        f.send(100, seq);
        f.answer(100, seq, Outcome::Delivered);
        assert_eq!(f.stats().retries, 2);

        // A credential that cannot be renewed (a static token): backoff.
        let seq = f.seal(1);
        f.send(100, seq);
        f.answer(100, seq, unauthorized(false));
        assert_eq!(f.ready(100), Ready::At(f.at(150)));
    }

    #[test]
    fn out_of_tries_a_batch_waits_in_the_spool_and_goes_out_again_as_it_was() {
        let mut f = fixture(2, true);
        let (a, b) = (f.seal(3), f.seal(4));
        let sent = f.send(0, a);
        f.answer(0, a, retry_503());
        f.send(50, a);
        f.answer(50, a, retry_503());
        let notes = f.notes();
        assert!(
            matches!(notes.last(), Some(Note::Spooled { batches: 1, .. })),
            "{notes:?}"
        );
        assert_eq!(f.stats().spooled, 3);
        assert_eq!(
            f.shared.budget.used(),
            RESERVED,
            "the spooled batch gave its memory back"
        );
        // b goes out meanwhile; the spooled batch waits for the longest
        // backoff, then goes out with the same bytes and compression.
        f.send(50, b);
        f.answer(50, b, Outcome::Delivered);
        assert_eq!(f.outbox.done_below(), a, "a flush waits for the spooled batch");
        assert_eq!(f.ready(50), Ready::At(f.at(1_050)));
        let again = f.send(1_050, a);
        assert_eq!(again, sent);
        assert_eq!(again.compression, Compression::Snappy);
        f.answer(1_050, a, Outcome::Delivered);
        assert!(f.outbox.is_empty());
        assert_eq!(f.stats().delivered, 7);
        f.assert_books_balance();
    }

    #[test]
    fn spilled_batches_are_replayed_in_the_order_they_were_sealed() {
        let mut f = fixture(10, true);
        let seqs: Vec<u64> = (1..=4).map(|n| f.seal(n)).collect();
        assert_eq!(f.outbox.spill_all(), 1 + 2 + 3 + 4);
        assert_eq!(f.shared.budget.used(), 0);
        assert_eq!(f.outbox.done_below(), seqs[0], "a flush still waits for them");
        for &seq in &seqs {
            f.send(0, seq);
            f.answer(0, seq, Outcome::Delivered);
        }
        assert_eq!(f.outbox.done_below(), f.outbox.next_seq());
        f.assert_books_balance();
    }

    #[test]
    fn a_batch_out_when_the_shutdown_spills_stays_until_abandoned_then_goes_to_disk() {
        let mut f = fixture(10, true);
        let (a, b) = (f.seal(1), f.seal(2));
        f.send(0, a);
        // The shutdown spills what waits; a's request is out.
        assert_eq!(f.outbox.spill_all(), 2);
        assert_eq!(f.outbox.done_below(), a);
        // The deadline: a's request is abandoned, and a goes to disk too.
        f.outbox.abandoned();
        assert_eq!(f.outbox.spill_all(), 1);
        assert_eq!(f.outbox.finish(), 0);
        assert_eq!((f.stats().spooled, f.stats().dropped_shutdown), (3, 0));
        // Both are on disk, b first (it went there first).
        let seqs: Vec<u64> = f.outbox.spool_seqs.fifo.iter().copied().collect();
        assert_eq!(seqs, vec![b, a]);
        assert_eq!(f.shared.budget.used(), 0);
    }

    #[test]
    fn a_batch_waiting_for_its_backoff_does_not_hold_back_the_next_but_a_flush_waits_for_it() {
        let mut f = fixture(10, false);
        let (a, b) = (f.seal(1), f.seal(2));
        f.send(0, a);
        f.send(0, b);
        assert_eq!(f.ready(0), Ready::Nothing, "both are out");
        f.answer(0, a, retry_503());
        let c = f.seal(3);
        // a waits 50 ms; c goes out meanwhile.
        f.send(0, c);
        f.answer(0, b, Outcome::Delivered);
        f.answer(0, c, Outcome::Delivered);
        assert_eq!(f.outbox.done_below(), a, "a flush still waits for a");
        assert_eq!(f.ready(10), Ready::At(f.at(50)));
        f.send(50, a);
        f.answer(50, a, Outcome::Delivered);
        assert_eq!(f.outbox.done_below(), f.outbox.next_seq());
        f.assert_books_balance();
    }

    #[test]
    fn answers_in_any_order_resolve_their_own_batches() {
        let mut f = fixture(10, false);
        let seqs: Vec<u64> = (1..=3).map(|n| f.seal(n)).collect();
        for &seq in &seqs {
            f.send(0, seq);
        }
        let mut done_below = Vec::new();
        for i in [2, 0, 1] {
            f.answer(0, seqs[i], Outcome::Delivered);
            done_below.push(f.outbox.done_below());
        }
        let order: Vec<(u64, u64)> = resolved(&f.notes()).iter().map(|r| (r.seq, r.events)).collect();
        assert_eq!(order, vec![(seqs[2], 3), (seqs[0], 1), (seqs[1], 2)]);
        assert_eq!(done_below, vec![seqs[0], seqs[1], f.outbox.next_seq()]);
        f.assert_books_balance();
    }

    #[test]
    fn the_end_counts_what_is_in_memory_and_leaves_the_spool_alone() {
        let mut f = fixture(1, true);
        let a = f.seal(5);
        f.send(0, a);
        f.answer(0, a, retry_503()); // out of its one try: spooled
        f.seal(6);
        f.seal(7);
        assert_eq!(f.outbox.finish(), 13);
        let s = f.stats();
        assert_eq!((s.dropped_shutdown, s.spooled, s.delivered), (13, 5, 0));
        let gave_up: Vec<_> = resolved(&f.notes()).into_iter().map(|r| r.gave_up).collect();
        assert_eq!(gave_up, vec![Some(GiveUp::Shutdown), Some(GiveUp::Shutdown)]);
    }

    #[test]
    fn a_spooled_batch_older_than_the_window_is_given_up_before_sending() {
        let mut f = fixture(1, true);
        let a = f.seal(2);
        f.outbox.spill_all();
        // Three days later.
        assert_eq!(f.outbox.next_to_send(f.t0, WALL + 3 * DAY_NS), Ready::Nothing);
        let gone = resolved(&f.notes());
        assert_eq!((gone[0].seq, gone[0].gave_up.clone()), (a, Some(GiveUp::TooOld)));
        assert_eq!(f.stats().dropped_rejected, 2);
        f.assert_books_balance();
    }

    #[test]
    fn a_lost_batch_owes_its_drop_report_again_and_a_delivered_one_does_not() {
        let mut f = fixture(1, false);
        let told = DropCounts {
            queue_full: 7,
            ..DropCounts::default()
        };
        for outcome in [Outcome::Delivered, retry_503()] {
            let accounting = Accounting {
                internal: 1,
                reported_drops: told,
                ..Accounting::default()
            };
            let seq = f.outbox.push(payload(3, 1), accounting, f.t0);
            f.send(0, seq);
            f.answer(0, seq, outcome);
        }
        let owed: Vec<_> = resolved(&f.notes())
            .into_iter()
            .map(|r| (r.events, r.unreport))
            .collect();
        assert_eq!(owed, vec![(2, DropCounts::default()), (2, told)]);
    }

    #[test]
    fn the_books_balance_through_every_kind_of_answer() {
        let mut f = fixture(3, false);
        let script = [
            vec![Outcome::Delivered],
            vec![retry_503(), Outcome::Delivered],
            vec![Outcome::Rejected {
                status: 413,
                answer: String::new(),
            }],
            vec![retry_503(), retry_503(), retry_503()],
            vec![
                Outcome::NoCredentials {
                    message: "IAM down".into(),
                },
                Outcome::Delivered,
            ],
        ];
        let mut at = 0;
        for (i, answers) in script.into_iter().enumerate() {
            let seq = f.seal(i as u64 + 1);
            for outcome in answers {
                loop {
                    match f.ready(at) {
                        Ready::At(t) => at = (t - f.t0).as_millis() as u64,
                        Ready::Send { seq: s, .. } => {
                            assert_eq!(s, seq);
                            break;
                        }
                        Ready::Nothing => panic!("batch {seq} vanished"),
                    }
                }
                f.answer(at, seq, outcome);
            }
        }
        let left = f.seal(10);
        assert_eq!(f.outbox.finish(), 10);
        let s = f.stats();
        assert_eq!(
            (
                s.delivered,
                s.dropped_rejected,
                s.dropped_retries_exhausted,
                s.dropped_shutdown
            ),
            (1 + 2 + 5, 3, 4, 10)
        );
        assert_eq!(s.requests, 1 + 2 + 1 + 3 + 1, "NoCredentials sent nothing");
        assert!(left > 0);
        f.assert_books_balance();
    }
}
