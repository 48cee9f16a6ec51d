//! The two channels from the handles to the worker: records on one, flush
//! and shutdown on the other, so the record channel's length is the number
//! of records on their way.

use std::time::Instant;

use crossbeam_channel::Sender;

use crate::record::Record;

/// A record on its way to the worker, and the bytes it holds of the budget.
pub(crate) struct Queued {
    pub(crate) record: Record,
    /// Bytes it holds of the budget.
    pub(crate) size: usize,
}

/// Control messages travel on their own channel, so the record channel's
/// length is the number of records in flight.
pub(crate) enum Control {
    Flush { ack: Sender<u64>, deadline: Instant },
    Shutdown { ack: Sender<u64>, deadline: Instant },
}
