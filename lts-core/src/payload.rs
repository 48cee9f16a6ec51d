//! A batch's body as it goes on the wire: the same bytes for every attempt,
//! and the same bytes in the spool, labelled with how they are compressed.

use std::sync::Arc;

use crate::destination::Destination;
use crate::error::Error;

/// Body compression.
///
/// gzip and snappy each need their Cargo feature of lts-core, `gzip` and
/// `snappy` (both on by default; lts-log and lts-tracing pass them through
/// under the same names). Every variant exists whatever the features, so
/// code naming one compiles in every build; a configuration asking for one
/// whose feature is off fails at `build()` (or `from_env()`) with an
/// [`InvalidConfig`](crate::ErrorKind::InvalidConfig) error naming the
/// setting and the feature to turn on.
///
/// The default ([`Compression::default`]) is the best one compiled in:
/// gzip; snappy when the `gzip` feature is off; no compression when both
/// are off.
///
/// # Example
///
/// ```
/// let builder = lts_core::Config::builder().compression(lts_core::Compression::Snappy);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (`Content-Encoding: gzip`), feature `gzip`. The default when
    /// that feature is on.
    Gzip,
    /// snappy, block format (`Content-Encoding: snappy`), feature `snappy`:
    /// several times faster to compress than gzip, with bodies a few times
    /// bigger. For a shipper whose worker thread is short of CPU.
    Snappy,
    /// Uncompressed JSON.
    None,
}

impl Default for Compression {
    /// gzip; snappy when the `gzip` feature is off; none when both are off.
    fn default() -> Compression {
        if cfg!(feature = "gzip") {
            Compression::Gzip
        } else if cfg!(feature = "snappy") {
            Compression::Snappy
        } else {
            Compression::None
        }
    }
}

/// Why this build cannot compress this way (the Cargo feature to turn
/// on), or `None` when it can.
pub(crate) fn compiled_out(compression: Compression) -> Option<&'static str> {
    match compression {
        Compression::Gzip if !cfg!(feature = "gzip") => Some(
            "gzip needs lts-core's `gzip` Cargo feature (lts-log's and lts-tracing's `gzip`), which this build leaves out: turn it on, or choose another compression",
        ),
        Compression::Snappy if !cfg!(feature = "snappy") => Some(
            "snappy needs lts-core's `snappy` Cargo feature (lts-log's and lts-tracing's `snappy`), which this build leaves out: turn it on, or choose another compression",
        ),
        _ => None,
    }
}

/// Refuses a compression this build cannot do, naming `setting`.
pub(crate) fn check(compression: Compression, setting: &str) -> Result<(), Error> {
    match compiled_out(compression) {
        Some(why) => Err(Error::invalid(setting, why)),
        None => Ok(()),
    }
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
    /// The stream it goes to.
    pub(crate) dest: Arc<Destination>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_best_compression_compiled_in() {
        let want = match (cfg!(feature = "gzip"), cfg!(feature = "snappy")) {
            (true, _) => Compression::Gzip,
            (false, true) => Compression::Snappy,
            (false, false) => Compression::None,
        };
        assert_eq!(Compression::default(), want);
        // The default is always one this build can do.
        check(Compression::default(), "compression").unwrap();
    }

    #[test]
    fn only_a_compiled_out_compression_is_refused() {
        for (compression, compiled) in [
            (Compression::Gzip, cfg!(feature = "gzip")),
            (Compression::Snappy, cfg!(feature = "snappy")),
            (Compression::None, true),
        ] {
            assert_eq!(check(compression, "compression").is_ok(), compiled, "{compression:?}");
        }
    }
}
