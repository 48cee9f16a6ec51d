//! A bounded, in-order store: the last N items, with the evicted ones counted.

use std::collections::VecDeque;

/// The last `capacity` items pushed, oldest first. Each item has a sequence
/// number: its position among all items ever pushed (0-based), so a reader
/// can ask for "what came after the last one I saw" across evictions.
#[derive(Debug)]
pub(crate) struct Ring<T> {
    items: VecDeque<T>,
    capacity: Option<usize>,
    evicted: u64,
}

impl<T> Default for Ring<T> {
    fn default() -> Self {
        Ring::new(None)
    }
}

impl<T> Ring<T> {
    /// A ring keeping at most `capacity` items (`None`: every item).
    pub(crate) fn new(capacity: Option<usize>) -> Ring<T> {
        Ring {
            items: VecDeque::new(),
            capacity,
            evicted: 0,
        }
    }

    /// Appends `item`; when full, the oldest item is evicted and returned.
    /// A capacity of 0 keeps nothing: the item itself is evicted.
    pub(crate) fn push(&mut self, item: T) -> Option<T> {
        match self.capacity {
            Some(0) => {
                self.evicted += 1;
                Some(item)
            }
            Some(cap) if self.items.len() >= cap => {
                let old = self.items.pop_front();
                self.items.push_back(item);
                self.evicted += 1;
                old
            }
            _ => {
                self.items.push_back(item);
                None
            }
        }
    }

    /// Items evicted so far.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The sequence number the next item pushed will get.
    pub(crate) fn next_seq(&self) -> u64 {
        self.evicted + self.items.len() as u64
    }

    /// The items kept, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    /// The kept items with sequence number `seq` or later, oldest first, each
    /// with its sequence number. Asking for an evicted one starts at the oldest kept.
    pub(crate) fn since(&self, seq: u64) -> impl Iterator<Item = (u64, &T)> {
        let skip = seq.saturating_sub(self.evicted).min(self.items.len() as u64) as usize;
        let first = self.evicted + skip as u64;
        self.items.iter().skip(skip).zip(first..).map(|(item, seq)| (seq, item))
    }

    /// How many items are kept.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The most items kept (`None`: no limit).
    pub(crate) fn capacity(&self) -> Option<usize> {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(r: &Ring<u32>) -> Vec<u32> {
        r.iter().copied().collect()
    }

    #[test]
    fn keeps_the_last_n_in_order_and_counts_the_rest() {
        let mut r = Ring::new(Some(3));
        for i in 0..3 {
            assert_eq!(r.push(i), None);
        }
        assert_eq!(kept(&r), [0, 1, 2]);
        assert_eq!(r.evicted(), 0);
        assert_eq!(r.push(3), Some(0));
        assert_eq!(r.push(4), Some(1));
        assert_eq!(kept(&r), [2, 3, 4]);
        assert_eq!(r.evicted(), 2);
        assert_eq!(r.len(), 3);
        assert_eq!(r.next_seq(), 5);
        for i in 5..1005 {
            r.push(i);
        }
        assert_eq!(kept(&r), [1002, 1003, 1004]);
        assert_eq!(r.evicted(), 1002);
    }

    #[test]
    fn since_numbers_items_across_evictions() {
        let mut r = Ring::new(Some(4));
        for i in 10..16 {
            r.push(i);
        }
        // Kept: seq 2..=5 holding 12..=15.
        let all: Vec<(u64, u32)> = r.since(0).map(|(s, v)| (s, *v)).collect();
        assert_eq!(all, [(2, 12), (3, 13), (4, 14), (5, 15)]);
        let tail: Vec<(u64, u32)> = r.since(4).map(|(s, v)| (s, *v)).collect();
        assert_eq!(tail, [(4, 14), (5, 15)]);
        assert_eq!(r.since(6).count(), 0);
        assert_eq!(r.since(u64::MAX).count(), 0);
    }

    #[test]
    fn unbounded_and_zero() {
        let mut r = Ring::new(None);
        for i in 0..10_000 {
            assert_eq!(r.push(i), None);
        }
        assert_eq!((r.len(), r.evicted()), (10_000, 0));
        let mut z = Ring::new(Some(0));
        assert_eq!(z.push(7), Some(7));
        assert_eq!((z.len(), z.evicted(), z.next_seq()), (0, 1, 1));
    }
}
