//! [`Live`]: a value read on every event and replaced rarely while the
//! program runs (the front ends' filters).

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Distinguishes `Live` values in the per-thread caches.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How many `Live` values each thread keeps cached at once.
const CACHED: usize = 4;

struct Cached {
    id: u64,
    generation: u64,
    value: Arc<dyn Any + Send + Sync>,
}

thread_local! {
    static CACHE: RefCell<[Option<Cached>; CACHED]> = const { RefCell::new([const { None }; CACHED]) };
}

/// A value that is read on every event, from any thread, and replaced
/// rarely (a filter changed while the program runs).
///
/// A read costs one atomic load of a generation counter (a cache line that
/// only changes on replacement, so it is not bounced between cores) and a
/// look-up in a small per-thread cache of the current value; a thread takes
/// the lock once after each replacement, to refresh its copy. A
/// replacement is seen by every read that starts after [`set`](Live::set)
/// returns, on every thread.
pub struct Live<T> {
    id: u64,
    generation: AtomicU64,
    current: Mutex<Arc<T>>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Live<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_tuple("Live").field(&*current).finish()
    }
}

impl<T: Send + Sync + 'static> Live<T> {
    /// A live value starting at `value`.
    pub fn new(value: T) -> Live<T> {
        Live {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            current: Mutex::new(Arc::new(value)),
        }
    }

    /// Replaces the value, then calls `then` with the new one while still
    /// holding the lock (so replacements racing each other finish their
    /// side effects in the order they replaced the value).
    pub fn set_then(&self, value: T, then: impl FnOnce(&T)) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        *current = Arc::new(value);
        self.generation.fetch_add(1, Ordering::AcqRel);
        then(&current);
    }

    /// Replaces the value.
    pub fn set(&self, value: T) {
        self.set_then(value, |_| {});
    }

    /// The current value (a shared copy; prefer [`with`](Live::with) on hot paths).
    pub fn get(&self) -> Arc<T> {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Calls `f` with the current value.
    #[inline]
    pub fn with<R>(&self, f: impl Fn(&T) -> R) -> R {
        let generation = self.generation.load(Ordering::Acquire);
        let hit = CACHE.try_with(|cache| {
            let cache = cache.try_borrow().ok()?;
            let cached = cache
                .iter()
                .flatten()
                .find(|c| c.id == self.id && c.generation == generation)?;
            cached.value.downcast_ref::<T>().map(&f)
        });
        match hit {
            Ok(Some(r)) => r,
            _ => f(&self.refresh()),
        }
    }

    /// The slow path: reads the value under the lock and caches it for
    /// this thread.
    #[cold]
    fn refresh(&self) -> Arc<T> {
        let (generation, value) = {
            let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            (self.generation.load(Ordering::Acquire), current.clone())
        };
        let _ = CACHE.try_with(|cache| {
            if let Ok(mut cache) = cache.try_borrow_mut() {
                let slot = match cache.iter().position(|c| c.as_ref().is_some_and(|c| c.id == self.id)) {
                    Some(i) => i,
                    None => {
                        // Evict the oldest: shift the others down.
                        cache.rotate_left(1);
                        CACHED - 1
                    }
                };
                cache[slot] = Some(Cached {
                    id: self.id,
                    generation,
                    value: value.clone(),
                });
            }
        });
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_is_seen_by_the_next_read_on_every_thread() {
        let live = Live::new(1u32);
        assert_eq!(live.with(|v| *v), 1);
        let other = Live::new(String::from("a"));
        let live = &live;
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let (back, done) = std::sync::mpsc::channel::<u32>();
            s.spawn(move || {
                for _ in 0..3 {
                    rx.recv().unwrap();
                    back.send(live_read(live)).unwrap();
                }
            });
            for expected in [1, 2, 3] {
                if expected > 1 {
                    live.set(expected);
                }
                tx.send(()).unwrap();
                assert_eq!(done.recv().unwrap(), expected);
            }
        });
        assert_eq!(live.with(|v| *v), 3);
        assert_eq!(other.with(|v| v.clone()), "a");
        // More live values than cache slots on one thread still read right.
        let many: Vec<Live<usize>> = (0..10).map(Live::new).collect();
        for _ in 0..2 {
            for (i, l) in many.iter().enumerate() {
                assert_eq!(l.with(|v| *v), i);
            }
        }
    }

    fn live_read(live: &Live<u32>) -> u32 {
        live.with(|v| *v)
    }
}
