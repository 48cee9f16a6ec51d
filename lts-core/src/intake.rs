//! The control channel from the handles to the worker: flush and shutdown,
//! apart from the records (which travel in the `queue`).

use std::time::Instant;

use crossbeam_channel::Sender;

/// A flush or a shutdown, answered on `ack` with the number of records lost.
pub(crate) enum Control {
    Flush { ack: Sender<u64>, deadline: Instant },
    Shutdown { ack: Sender<u64>, deadline: Instant },
}
