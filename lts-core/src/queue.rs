//! The queue stage: records on their way from the callers' threads to the
//! worker, held as bytes ([`wire`]) in chunks of [`CHUNK_BYTES`] that are
//! recycled.
//!
//! A caller writes its record into the current chunk under a short lock
//! and drops the record on its own thread; a full chunk joins the list of
//! full ones and the caller takes a free one. The worker takes the full
//! chunks and the current one in one step (so it reads records in the
//! order they were queued), reads them back into one record it reuses,
//! and gives the chunks back. So, in steady state, nothing is allocated
//! per record on either side and nothing is freed on another thread than
//! the one that allocated it: the queue's memory is what the budget counts
//! (each record's bytes, [`Footprint::reserved`]) plus at most one chunk
//! being filled, and the free chunks kept are at most what the budget has
//! free.
//!
//! The worker sleeps when it has nothing to do; the first record queued
//! while it sleeps wakes it (one message on a channel of one slot), the
//! others cost no wake-up. While a batch is open it looks at the queue once
//! a tick, or at once when a chunk is full: a caller touches nothing the
//! worker writes per record but the lock, which the worker takes once a
//! look.

mod wire;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crossbeam_channel::{Receiver, Sender};

use crate::config::Overflow;
use crate::record::{Record, SpanInfo};
use crate::shared::Budget;

pub(crate) use wire::{footprint, Footprint};

/// The size of a chunk: its records' bytes and references
/// ([`Footprint::in_queue`]). A record larger than this travels in a chunk
/// of its own, allocated for it and freed after it (a spill).
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;

// `Record::memory_size` is the queue's charge, so it is defined here (the
// record module knows nothing of the queue).
impl Record {
    /// What this record holds of the queue budget from its send until the
    /// worker writes its line, in bytes: an estimate of the line (the
    /// queue keeps the record in less: its texts as bytes, a `'static`
    /// string and a span by reference). In its batch it then holds its
    /// line's exact length, and once compressed its share of the body.
    pub fn memory_size(&self) -> usize {
        footprint(self).reserved()
    }
}

/// Free chunks kept even when the budget is full (256 KiB): with fewer,
/// a full budget in block mode frees a chunk on the worker for every one a
/// caller allocates. The queue's records hold less memory than the budget
/// charges them (an estimate of their line), which more than covers these.
pub(crate) const MIN_FREE_CHUNKS: usize = 4;

/// Records in a chunk: their bytes, and what they hold by reference.
pub(crate) struct Chunk {
    bytes: Vec<u8>,
    statics: Vec<&'static str>,
    spans: Vec<Arc<SpanInfo>>,
    records: usize,
    /// What its records take in it ([`Footprint::in_queue`]): a chunk is
    /// full at [`CHUNK_BYTES`], its reference lists counted with its bytes.
    held: usize,
}

impl Chunk {
    fn new() -> Chunk {
        Chunk {
            bytes: Vec::new(),
            statics: Vec::new(),
            spans: Vec::new(),
            records: 0,
            held: 0,
        }
    }

    fn write(&mut self, record: &Record, f: Footprint) {
        if self.bytes.capacity() == 0 {
            self.bytes.reserve_exact(CHUNK_BYTES.max(f.bytes));
        }
        wire::Sink {
            bytes: &mut self.bytes,
            statics: &mut self.statics,
            spans: &mut self.spans,
        }
        .write(record, f);
        self.records += 1;
        self.held += f.in_queue();
    }

    /// The number of records in it.
    pub(crate) fn records(&self) -> usize {
        self.records
    }

    /// Reads the records, in order: `next_into` fills a record and gives
    /// the bytes it held of the budget.
    pub(crate) fn source(&mut self) -> wire::Source<'_> {
        wire::Source::new(&self.bytes, &self.statics, &mut self.spans)
    }

    /// Whether its buffers grew past a chunk's worth (a large record, or
    /// a great many static strings or spans): such a chunk is not kept.
    fn holds_more_than_a_chunk(&self) -> bool {
        self.bytes.capacity() > CHUNK_BYTES
            || self.statics.capacity() * std::mem::size_of::<&'static str>()
                + self.spans.capacity() * std::mem::size_of::<Arc<SpanInfo>>()
                > CHUNK_BYTES
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.statics.clear();
        self.spans.clear();
        self.records = 0;
        self.held = 0;
    }
}

/// How much of the budget the queue takes at a time for the records to
/// come, so that a caller's send costs no atomic operation on the shared
/// budget but once every this many bytes (about 230 records).
pub(crate) const CREDIT_BYTES: usize = CHUNK_BYTES;

/// Why [`Queue::push`] did not take a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The budget has no room for it (after waiting, in block mode).
    Full,
    /// The worker has ended.
    Closed,
}

/// The chunks, under one lock.
struct Lanes {
    current: Chunk,
    /// Full chunks, oldest first.
    full: Vec<Chunk>,
    free: Vec<Chunk>,
    /// Bytes taken from the budget for records not yet queued: at most
    /// [`CREDIT_BYTES`]; not counted as in use (`in_use`).
    credit: usize,
    /// Records queued so far (`Stats::enqueued`).
    enqueued: u64,
    /// Set when the worker has ended: nothing more is taken.
    closed: bool,
}

impl Lanes {
    /// Takes `n` bytes for a record from the credit, topping the credit up
    /// from the budget when it is short (by [`CREDIT_BYTES`], or by just
    /// `n` when the budget has no more room: the credit never keeps a
    /// record out that the budget has room for).
    fn take_credit(&mut self, n: usize, budget: &Budget) -> bool {
        if self.credit < n {
            let want = n - self.credit;
            if budget.try_reserve(want + CREDIT_BYTES) {
                self.credit += want + CREDIT_BYTES;
            } else if budget.try_reserve(want) {
                self.credit += want;
            } else {
                return false;
            }
        }
        self.credit -= n;
        true
    }
}

/// The queue between the handles and the worker.
pub(crate) struct Queue {
    lanes: Mutex<Lanes>,
    /// Full chunks waiting: read without the lock, so the worker can tell
    /// whether to look before its next tick (callers write it once a chunk,
    /// not once a record).
    full_chunks: AtomicUsize,
    /// Set while the worker sleeps waiting for records.
    sleeping: AtomicBool,
    wake: Sender<()>,
    /// Records larger than a chunk.
    spills: AtomicU64,
}

impl Queue {
    /// An empty queue (no chunk allocated until the first record), and the
    /// channel its first record after a sleep wakes the worker on.
    pub(crate) fn new() -> (Queue, Receiver<()>) {
        let (wake, woken) = crossbeam_channel::bounded(1);
        let queue = Queue {
            lanes: Mutex::new(Lanes {
                current: Chunk::new(),
                full: Vec::new(),
                free: Vec::new(),
                credit: 0,
                enqueued: 0,
                closed: false,
            }),
            full_chunks: AtomicUsize::new(0),
            sleeping: AtomicBool::new(false),
            wake,
            spills: AtomicU64::new(0),
        };
        (queue, woken)
    }

    fn lock(&self) -> MutexGuard<'_, Lanes> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `record`, whose footprint is `f`, taking its share of
    /// `budget` ([`Footprint::reserved`]); in block mode waits up to `max`
    /// for it (without the lock). Counted in `enqueued` before it returns.
    pub(crate) fn push(
        &self,
        record: &Record,
        f: Footprint,
        budget: &Budget,
        overflow: Overflow,
    ) -> Result<(), Refused> {
        let n = f.reserved();
        let mut lanes = self.lock();
        if lanes.closed {
            return Err(Refused::Closed);
        }
        if !lanes.take_credit(n, budget) {
            let Overflow::Block { max } = overflow else {
                return Err(Refused::Full);
            };
            drop(lanes);
            if !budget.reserve_within(n, max) {
                return Err(Refused::Full);
            }
            lanes = self.lock();
            if lanes.closed {
                drop(lanes);
                budget.release(n);
                return Err(Refused::Closed);
            }
        }
        lanes.enqueued += 1;
        if lanes.current.records > 0 && lanes.current.held + f.in_queue() > CHUNK_BYTES {
            let next = lanes.free.pop().unwrap_or_else(Chunk::new);
            let full = std::mem::replace(&mut lanes.current, next);
            lanes.full.push(full);
            self.full_chunks.fetch_add(1, Ordering::Relaxed);
        }
        if f.in_queue() > CHUNK_BYTES {
            self.spills.fetch_add(1, Ordering::Relaxed);
        }
        lanes.current.write(record, f);
        drop(lanes);
        // After the lock is let go: the worker raises the flag before it
        // looks at the queue under the lock (`sleep`), so either it sees this
        // record or this sees the flag.
        if self.sleeping.load(Ordering::SeqCst) && self.sleeping.swap(false, Ordering::SeqCst) {
            let _ = self.wake.try_send(());
        }
        Ok(())
    }

    /// Moves every queued chunk, oldest first, to the end of `into`.
    pub(crate) fn take(&self, into: &mut Vec<Chunk>) {
        let mut lanes = self.lock();
        self.full_chunks.fetch_sub(lanes.full.len(), Ordering::Relaxed);
        into.append(&mut lanes.full);
        if lanes.current.records > 0 {
            let next = lanes.free.pop().unwrap_or_else(Chunk::new);
            into.push(std::mem::replace(&mut lanes.current, next));
        }
    }

    /// Gives a read chunk back (emptied), keeping as many free chunks as
    /// `room` bytes of the budget hold ([`MIN_FREE_CHUNKS`] at least) and freeing the rest,
    /// and any chunk grown past [`CHUNK_BYTES`] by a large record.
    pub(crate) fn recycle(&self, mut chunk: Chunk, room: usize) {
        chunk.clear();
        if chunk.holds_more_than_a_chunk() {
            return;
        }
        let keep = (room / CHUNK_BYTES).max(MIN_FREE_CHUNKS);
        let mut lanes = self.lock();
        lanes.free.truncate(keep);
        if lanes.free.len() < keep {
            lanes.free.push(chunk);
        }
    }

    /// Whether no record is queued.
    pub(crate) fn is_empty(&self) -> bool {
        let lanes = self.lock();
        lanes.current.records == 0 && lanes.full.is_empty()
    }

    /// Whether a full chunk waits (without the lock).
    pub(crate) fn has_full_chunks(&self) -> bool {
        self.full_chunks.load(Ordering::Relaxed) > 0
    }

    /// Refuses every later record (the worker has ended), and gives the
    /// credit back to `budget`.
    pub(crate) fn close(&self, budget: &Budget) {
        let mut lanes = self.lock();
        lanes.closed = true;
        budget.release(std::mem::take(&mut lanes.credit));
    }

    /// Records queued so far.
    pub(crate) fn enqueued(&self) -> u64 {
        self.lock().enqueued
    }

    /// Bytes of `budget` in use: all it has given out but the queue's credit.
    pub(crate) fn in_use(&self, budget: &Budget) -> usize {
        let lanes = self.lock();
        budget.used() - lanes.credit
    }

    /// The worker is about to sleep: the next record queued wakes it.
    /// Returns whether it may (nothing is queued).
    pub(crate) fn sleep(&self) -> bool {
        self.sleeping.store(true, Ordering::SeqCst);
        // Looked at under the lock after the flag is up: a record queued
        // before this look is seen here, one queued after it (its lock taken
        // after this one is let go) sees the flag.
        self.is_empty()
    }

    /// The worker is awake.
    pub(crate) fn awake(&self) {
        self.sleeping.store(false, Ordering::SeqCst);
    }

    /// Records larger than a chunk queued so far.
    pub(crate) fn spills(&self) -> u64 {
        self.spills.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Level;

    fn record(i: u64, message_len: usize) -> Record {
        Record::new(i, Level::Info, "t", "m".repeat(message_len))
    }

    fn budget() -> &'static Budget {
        static BUDGET: once_cell::sync::Lazy<Budget> = once_cell::sync::Lazy::new(|| Budget::new(usize::MAX / 2));
        &BUDGET
    }

    fn push(queue: &Queue, r: &Record) -> usize {
        let f = footprint(r);
        queue.push(r, f, budget(), Overflow::DropNewest).unwrap();
        f.reserved()
    }

    fn read_all(chunks: &mut [Chunk]) -> Vec<(u64, usize)> {
        let mut out = Vec::new();
        let mut scratch = record(0, 0);
        for chunk in chunks.iter_mut() {
            let mut source = chunk.source();
            while let Some(size) = source.next_into(&mut scratch) {
                out.push((scratch.time_ns, size));
            }
        }
        out
    }

    #[test]
    fn memory_size_is_an_estimate_of_the_line_and_covers_the_queue() {
        // In the queue: a header of 8, time 8, level and parts 2, the
        // target's tag 1 (and a 16-byte reference), the message's length 4,
        // the field and span counts 8: 31 bytes. Its line is estimated at
        // those bytes, the target's 1 and 128 for the keys and the time.
        let base = Record::new(1, Level::Info, "t", String::new()).memory_size();
        assert_eq!(base, 31 + 1 + 128);
        // An owned target is copied (its length 4 and its 6 bytes); the
        // message's bytes are copied, its capacity is not.
        let owned = Record::new(1, Level::Info, String::from("target"), "x".repeat(100));
        assert_eq!(owned.memory_size(), 31 + 4 + 6 + 100 + 128);
    }

    #[test]
    fn records_come_out_in_order_across_chunks_with_their_sizes() {
        let (queue, _woken) = Queue::new();
        let mut want = Vec::new();
        // 1,000-byte messages (1,047 bytes in the queue): 62 a chunk, so 3
        // full chunks and a partial one.
        for i in 0..240 {
            want.push((i, push(&queue, &record(i, 1000))));
        }
        let mut taken = Vec::new();
        queue.take(&mut taken);
        assert_eq!(taken.len(), 4);
        assert_eq!(
            taken.iter().map(Chunk::records).collect::<Vec<_>>(),
            vec![62, 62, 62, 54]
        );
        assert!(queue.is_empty());
        assert_eq!(read_all(&mut taken), want);
        // Given back with room for all four: kept, and reused by the next records.
        for chunk in taken.drain(..) {
            queue.recycle(chunk, 4 * CHUNK_BYTES);
        }
        assert_eq!(queue.lock().free.len(), 4);
        push(&queue, &record(1000, 1000));
        queue.take(&mut taken);
        assert_eq!(
            read_all(&mut taken),
            vec![(1000, footprint(&record(0, 1000)).reserved())]
        );
        assert_eq!(queue.spills(), 0);
    }

    #[test]
    fn free_chunks_are_kept_only_as_the_budget_has_room() {
        let (queue, _woken) = Queue::new();
        for i in 0..240 {
            push(&queue, &record(i, 1000));
        }
        let mut taken = Vec::new();
        queue.take(&mut taken);
        assert_eq!(taken.len(), 4);
        for chunk in taken.drain(..) {
            queue.recycle(chunk, 0);
        }
        // No room: the minimum kept, here all four.
        assert_eq!(queue.lock().free.len(), MIN_FREE_CHUNKS);
        // Room for six: a fifth and a sixth kept, not a seventh.
        for _ in 0..3 {
            queue.recycle(Chunk::new(), 6 * CHUNK_BYTES);
        }
        assert_eq!(queue.lock().free.len(), 6);
        // Less room than chunks kept: the extra ones are freed.
        queue.recycle(Chunk::new(), CHUNK_BYTES);
        assert_eq!(queue.lock().free.len(), MIN_FREE_CHUNKS);
    }

    #[test]
    fn a_record_larger_than_a_chunk_is_a_spill_and_its_chunk_is_freed() {
        let (queue, _woken) = Queue::new();
        push(&queue, &record(1, 10));
        push(&queue, &record(2, CHUNK_BYTES * 2));
        push(&queue, &record(3, 10));
        assert_eq!(queue.spills(), 1);
        let mut taken = Vec::new();
        queue.take(&mut taken);
        assert_eq!(taken.len(), 3);
        let times: Vec<u64> = read_all(&mut taken).into_iter().map(|(t, _)| t).collect();
        assert_eq!(times, vec![1, 2, 3]);
        for chunk in taken.drain(..) {
            queue.recycle(chunk, 100 * CHUNK_BYTES);
        }
        let lanes = queue.lock();
        assert_eq!(lanes.free.len(), 2);
        assert!(lanes.free.iter().all(|c| !c.holds_more_than_a_chunk()));
    }

    #[test]
    fn static_references_fill_a_chunk_as_bytes_do_and_the_chunk_is_kept() {
        // 100 fields named by 'static strings, with booleans: little in
        // bytes, 1,600 bytes of references each.
        let mut r = record(0, 10);
        for _ in 0..100 {
            r.fields.push(crate::value::Field::new("flag", true));
        }
        let f = footprint(&r);
        assert_eq!((f.statics, f.in_queue() - f.bytes), (101, 101 * 16));
        let (queue, _woken) = Queue::new();
        for _ in 0..200 {
            push(&queue, &r);
        }
        let mut taken = Vec::new();
        queue.take(&mut taken);
        let per_chunk = CHUNK_BYTES / f.in_queue();
        assert_eq!(taken[0].records(), per_chunk);
        assert_eq!(taken.len(), 200usize.div_ceil(per_chunk));
        let n = taken.len();
        for chunk in taken.drain(..) {
            assert!(!chunk.holds_more_than_a_chunk());
            queue.recycle(chunk, 100 * CHUNK_BYTES);
        }
        assert_eq!(queue.lock().free.len(), n);
    }

    #[test]
    fn a_closed_queue_refuses_and_gives_its_credit_back() {
        let budget = Budget::new(1 << 20);
        let (queue, _woken) = Queue::new();
        let r = record(1, 1);
        let n = footprint(&r).reserved();
        queue.push(&r, footprint(&r), &budget, Overflow::DropNewest).unwrap();
        // One record in use; the budget gave out a credit besides.
        assert_eq!(budget.used(), n + CREDIT_BYTES);
        assert_eq!(queue.in_use(&budget), n);
        queue.close(&budget);
        assert_eq!(budget.used(), n);
        assert_eq!(
            queue.push(&r, footprint(&r), &budget, Overflow::DropNewest),
            Err(Refused::Closed)
        );
        assert_eq!(queue.enqueued(), 1);
    }

    #[test]
    fn the_credit_never_keeps_out_a_record_the_budget_has_room_for() {
        let r = record(1, 100);
        let n = footprint(&r).reserved();
        // Room for exactly 10 records: 10 are taken, the 11th refused.
        let budget = Budget::new(10 * n);
        let (queue, _woken) = Queue::new();
        for _ in 0..10 {
            queue.push(&r, footprint(&r), &budget, Overflow::DropNewest).unwrap();
        }
        assert_eq!(
            queue.push(&r, footprint(&r), &budget, Overflow::DropNewest),
            Err(Refused::Full)
        );
        assert_eq!(
            (budget.used(), queue.in_use(&budget), queue.enqueued()),
            (10 * n, 10 * n, 10)
        );
        // Block mode waits for room, here none comes.
        assert_eq!(
            queue.push(
                &r,
                footprint(&r),
                &budget,
                Overflow::Block {
                    max: std::time::Duration::ZERO
                }
            ),
            Err(Refused::Full)
        );
    }

    #[test]
    fn the_first_record_after_a_sleep_wakes_the_worker_once() {
        let (queue, woken) = Queue::new();
        push(&queue, &record(1, 1));
        assert!(woken.try_recv().is_err(), "not asleep: no wake-up");
        let mut taken = Vec::new();
        queue.take(&mut taken);
        assert!(queue.sleep());
        push(&queue, &record(2, 1));
        push(&queue, &record(3, 1));
        assert_eq!(woken.try_recv(), Ok(()));
        assert!(woken.try_recv().is_err(), "one wake-up for both");
        // Something queued: the worker may not sleep.
        assert!(!queue.sleep());
    }
}
