//! The shipping pipeline behind `lts-log` and `lts-tracing`: it takes
//! events captured on the caller's thread with their nanosecond time and
//! delivers them to Huawei Cloud / Open Telekom Cloud Log Tank Service (LTS)
//! through the high-precision reporting API.
//!
//! ```toml
//! [dependencies]
//! lts-core = "0.1"
//! ```
//!
//! The caller pays for a [`Record`] and its copy into the queue; one background
//! thread formats ([`Format`]), batches (by count, bytes and linger),
//! compresses (gzip) and keeps count ([`Stats`]); sender threads deliver
//! (ureq, several requests at once as the service allows, with retries,
//! backoff and jitter). Memory is bounded by a byte budget; what cannot
//! be kept is dropped and counted, never lost silently.
//!
//! Most programs use it through `lts-log` or `lts-tracing`. Directly:
//!
//! ```no_run
//! use std::time::Duration;
//! use lts_core::{Config, Level, Record, Shipper};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::from_env()?; // LTS_ENDPOINT or LTS_REGION, LTS_PROJECT_ID, ...
//! let (shipper, guard) = Shipper::start(config)?;
//!
//! let record = Record::new(shipper.now_ns(), Level::Info, "my_app", "started")
//!     .with_field("version", "1.2.3");
//! let _ = shipper.send(record);
//!
//! shipper.flush(Duration::from_secs(5))?; // everything sent so far is delivered
//! drop(guard); // flush what is left (5 s at most) and stop the thread
//! # Ok(()) }
//! ```
//!
//! # What happens on failure
//! - 200: delivered. 400 (and other 4xx but 401, 408, 429): the batch is
//!   dropped, counted in [`Stats::dropped_rejected`], and the service's
//!   answer goes to the error hook. It is never retried: the same body
//!   would be refused again.
//! - 401, 408, 429, 5xx, timeouts and connection errors: retried with
//!   exponential backoff and jitter ([`RetryPolicy`]); a batch waiting for
//!   its retry does not hold back the others (each event carries its own
//!   time and LTS sorts by it; `max_in_flight(1)` keeps the order sealed).
//!   Out of tries, the batch is dropped and counted.
//! - The queue budget ([`ConfigBuilder::queue_bytes`]) covers queued records
//!   and batches awaiting delivery. When it is used up, `send` drops the new
//!   record and counts it ([`Overflow::DropNewest`]) or waits a bounded time
//!   ([`Overflow::Block`]).
//! - Events whose time is more than two days from now are dropped before
//!   sending and counted as rejected (the service would delete them).
//! - A line longer than 1 MiB is cut with a `…[truncated N bytes]` marker
//!   and counted in [`Stats::truncated`].
//!
//! # Async programs
//!
//! The shipper needs no runtime: it runs on its own thread, and
//! [`Shipper::send`] never blocks in the default overflow mode, so it is
//! fine inside async code. [`Shipper::flush`], [`Shipper::shutdown`] and
//! dropping the [`Guard`] block the calling thread until delivery or their
//! deadline, whichever comes first, and never wait on the runtime; they do
//! not deadlock on a tokio `current_thread` runtime either. On a runtime
//! thread, a flush stalls the other tasks of that thread for up to its
//! timeout: call it from `tokio::task::spawn_blocking` when that matters.
//!
//! ```
//! # let mock = lts_mock::MockLts::start()?;
//! # let config = lts_core::Config::builder()
//! #     .endpoint(mock.endpoint())
//! #     .project_id(lts_mock::PROJECT_ID)
//! #     .log_group_id(lts_mock::LOG_GROUP_ID)
//! #     .log_stream_id(lts_mock::LOG_STREAM_ID)
//! #     .token(mock.token())
//! #     .build()?;
//! use std::time::Duration;
//! use lts_core::{Level, Record, Shipper};
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! runtime.block_on(async {
//!     let (shipper, guard) = Shipper::start(config)?;
//!     shipper.send(Record::new(shipper.now_ns(), Level::Info, "my_app", "in a task"))?;
//!     // Deliver what is queued without stalling the runtime's thread.
//!     let flushed = tokio::task::spawn_blocking(move || {
//!         let flushed = shipper.flush(Duration::from_secs(5));
//!         drop(guard); // at the end of an async main: the same, bounded by its timeout
//!         flushed
//!     })
//!     .await?;
//!     flushed?;
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # assert_eq!(mock.event_count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod answer;
mod auth;
mod batch;
mod batches;
// Public only for the workspace's own tests and benches (`wall_ns`,
// `now_ns`); users read the clock with `Shipper::now_ns`. Not part of the
// stable API.
#[doc(hidden)]
pub mod clock;
mod config;
mod delivery;
mod destination;
mod diag;
mod drops;
mod encode;
mod env;
mod error;
mod format;
mod gauges;
mod intake;
mod limiter;
mod line;
mod live;
mod outbox;
mod payload;
mod proxy;
mod queue;
mod record;
mod route;
mod route_stats;
mod secret;
mod self_filter;
mod shared;
mod shipper;
mod spool;
mod storm;
mod tls;
mod trace_context;
mod transport;
mod value;
mod waiters;
mod worker;

pub use auth::{Credentials, TokenProvider};
pub use clock::ClockMode;
pub use config::{
    Concurrency, Config, ConfigBuilder, Overflow, RetryPolicy, DEFAULT_MAX_OPEN_BATCHES, MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS, MAX_IN_FLIGHT, MAX_LABELS, MIN_BATCH_BYTES,
};
pub use diag::{Diagnostic, DiagnosticKind};
pub use encode::Api;
pub use error::{Error, ErrorKind, FlushError};
pub use format::{write_rfc3339_nanos, Format, FormatRecord};
pub use live::Live;
pub use payload::Compression;
pub use proxy::Proxy;
pub use record::{current_thread_name, Level, Record, SpanInfo};
pub use route::Route;
pub use route_stats::RouteStats;
pub use secret::Secret;
pub use self_filter::{is_left_out, is_shipper_thread};
pub use shared::Stats;
pub use shipper::{Guard, SendError, Shipper};
pub use storm::{CallSite, CallSiteKey, ParseRateLimitError, RateLimit, SuppressedCallSite, REPORT_TARGET};
pub use tls::TlsRoots;
pub use trace_context::TraceContext;
pub use value::{set_owned, Field, Fields, Str, Text, Value};
