//! A batch's body as it goes on the wire: the same bytes for every attempt,
//! and the same bytes in the spool, labelled with how they are compressed.

use std::sync::Arc;

/// Body compression.
///
/// # Example
///
/// ```
/// let builder = lts_core::Config::builder().compression(lts_core::Compression::Snappy);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (`Content-Encoding: gzip`). The default.
    #[default]
    Gzip,
    /// snappy, block format (`Content-Encoding: snappy`): several times
    /// faster to compress than gzip, with bodies a few times bigger. For a
    /// shipper whose worker thread is short of CPU.
    Snappy,
    /// Uncompressed JSON.
    None,
}

/// What one request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Payload {
    /// The body as sent (compressed as `compression` says), shared between
    /// the batch and the request that carries it.
    pub(crate) wire: Arc<[u8]>,
    pub(crate) compression: Compression,
    /// The body's length before compression.
    pub(crate) raw_len: usize,
    /// Events in the body.
    pub(crate) events: u64,
    /// The first event's time.
    pub(crate) first_time_ns: u64,
}

impl Payload {
    /// The `Content-Encoding` header for `wire`, if any.
    pub(crate) fn content_encoding(&self) -> Option<&'static str> {
        content_encoding(self.compression)
    }
}

/// The `Content-Encoding` a body compressed this way is sent with.
pub(crate) fn content_encoding(compression: Compression) -> Option<&'static str> {
    match compression {
        Compression::Gzip => Some("gzip"),
        Compression::Snappy => Some("snappy"),
        Compression::None => None,
    }
}
