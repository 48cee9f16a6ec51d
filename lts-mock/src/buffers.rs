//! The buffers bodies are decoded into: a fixed number, lent to one request
//! at a time and kept from one request to the next.
//!
//! Every request runs on a thread of its own. Each decoded its body (about
//! 1 MiB at line rate) into a buffer of its own, and on two cores shared with
//! a flooding shipper up to 16 of them waited for the CPU at once, each
//! holding its decoded body: a mock receiving in the shipper's process added
//! about 20 MiB to the process's peak. Decoding and parsing are CPU work
//! only, so no more of them than there are cores run usefully at once: a
//! request borrows one of that many buffers for them (and waits for one when
//! all are lent), with its body still in its own, compressed form.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};

/// A buffer grown past this is freed when given back, and a new one is
/// allocated for the next request (a kept one is never shrunk).
const MAX_KEPT_CAPACITY: usize = 16 << 20;

/// At most `max` buffers, lent out and given back.
pub(crate) struct Buffers {
    state: Mutex<State>,
    given_back: Condvar,
    max: usize,
}

struct State {
    /// Empty buffers with the room an earlier request gave them.
    kept: Vec<Vec<u8>>,
    /// How many are out.
    lent: usize,
    /// How many requests wait for one (for the tests to see).
    #[cfg(test)]
    waiting: usize,
}

/// A buffer lent from [`Buffers`]: given back, emptied, when dropped.
pub(crate) struct Lent<'a> {
    from: &'a Buffers,
    buf: Vec<u8>,
}

impl Buffers {
    /// A pool of at most `max` buffers (at least 1).
    pub(crate) fn new(max: usize) -> Buffers {
        Buffers {
            state: Mutex::new(State {
                kept: Vec::new(),
                lent: 0,
                #[cfg(test)]
                waiting: 0,
            }),
            given_back: Condvar::new(),
            max: max.max(1),
        }
    }

    /// One for each core this process may run on.
    pub(crate) fn per_core() -> Buffers {
        Buffers::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An empty buffer, waiting while all are lent.
    pub(crate) fn lend(&self) -> Lent<'_> {
        let mut state = self.lock();
        while state.lent == self.max {
            #[cfg(test)]
            {
                state.waiting += 1;
            }
            state = self.given_back.wait(state).unwrap_or_else(|e| e.into_inner());
            #[cfg(test)]
            {
                state.waiting -= 1;
            }
        }
        self.lend_from(state)
    }

    /// An empty buffer, or `None` while all are lent.
    #[cfg(test)]
    fn try_lend(&self) -> Option<Lent<'_>> {
        let state = self.lock();
        (state.lent < self.max).then(|| self.lend_from(state))
    }

    fn lend_from(&self, mut state: MutexGuard<'_, State>) -> Lent<'_> {
        state.lent += 1;
        let buf = state.kept.pop().unwrap_or_default();
        Lent { from: self, buf }
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let mut state = self.from.lock();
        state.lent -= 1;
        if buf.capacity() > 0 && buf.capacity() <= MAX_KEPT_CAPACITY {
            state.kept.push(buf);
        }
        drop(state);
        self.from.given_back.notify_one();
    }
}

impl Deref for Lent<'_> {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.buf
    }
}

impl DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    #[test]
    fn a_buffer_given_back_comes_back_empty_with_its_room() {
        let pool = Buffers::new(1);
        let ptr = {
            let mut buf = pool.lend();
            assert_eq!(buf.capacity(), 0);
            buf.reserve_exact(1 << 20);
            buf.extend_from_slice(b"a previous body");
            buf.as_ptr()
        };
        let again = pool.lend();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), 1 << 20);
        assert_eq!(again.as_ptr(), ptr);
    }

    #[test]
    fn lends_at_most_its_count_and_frees_an_oversized_buffer() {
        let pool = Buffers::new(2);
        let a = pool.lend();
        let mut b = pool.lend();
        assert!(pool.try_lend().is_none());
        b.reserve_exact(MAX_KEPT_CAPACITY + 1);
        drop(b);
        let c = pool.try_lend().expect("one was given back");
        assert_eq!(c.capacity(), 0, "the oversized one was not kept");
        assert!(pool.try_lend().is_none());
        drop((a, c));
        assert_eq!(pool.lock().lent, 0);
        assert_eq!(pool.lock().kept.len(), 0, "neither had room worth keeping");
    }

    #[test]
    fn a_request_waits_for_a_buffer_until_one_is_given_back() {
        let pool = Arc::new(Buffers::new(1));
        let mut held = pool.lend();
        held.extend_from_slice(b"body");
        let (tx, rx) = mpsc::channel();
        let waiting = Arc::clone(&pool);
        // Not joined: were it never woken, the test fails at the timeout below.
        std::thread::spawn(move || {
            let buf = waiting.lend();
            let _ = tx.send((buf.len(), buf.capacity()));
        });
        while pool.lock().waiting == 0 {
            std::thread::yield_now();
        }
        // It cannot have a buffer while the only one is out.
        assert!(rx.try_recv().is_err());
        let room = held.capacity();
        drop(held);
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok((0, room)));
    }
}
