//! A [`log`] backend that ships records, with their nanosecond capture time,
//! to Huawei Cloud / Open Telekom Cloud Log Tank Service (LTS) through
//! [`lts_core`].
//!
//! ```toml
//! [dependencies]
//! lts-log = "0.1"
//! log = { version = "0.4", features = ["kv"] }
//! ```
//!
//! ```no_run
//! use log::{info, warn};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // LTS_ENDPOINT or LTS_REGION, LTS_PROJECT_ID, LTS_LOG_GROUP_ID,
//!     // LTS_LOG_STREAM_ID, LTS_TOKEN; the filter from LTS_LOG or RUST_LOG.
//!     let _guard = lts_log::try_init_from_env()?;
//!     lts_log::install_panic_hook(); // optional: a crash's last words reach LTS
//!
//!     info!(user_id = 42, path = "/api/v1/items"; "request handled");
//!     warn!(attempt = 3; "slow upstream");
//!     Ok(())
//! } // the guard drops here: what was logged is delivered (5 s at most)
//! ```
//!
//! # What is captured
//!
//! On the caller's thread, in this order: the time (the configured
//! [`lts_core::ClockMode`], strictly increasing by default), then the level,
//! target, module path, file, line, thread name, the formatted message and
//! the record's key-values as typed fields (integers, floats and booleans
//! stay numbers and booleans in the JSON line; anything else is its
//! `Display` text). Static strings from the macro call site are borrowed,
//! not copied. Everything else (formatting the line, batching, compression,
//! delivery) happens on the shipper's background thread. The line's format
//! (JSON by default, or text, or your own) is a [`Config`] setting
//! ([`lts_core::ConfigBuilder::format`], `LTS_FORMAT`) or
//! [`LtsLoggerBuilder::format`].
//!
//! # Filtering
//!
//! Directives use `RUST_LOG` syntax, parsed by [`env_filter`] (the parser of
//! `env_logger`): `warn,my_app=debug,my_app::db=trace`. A directive names a
//! target prefix; the longest matching prefix wins; a bare level sets the
//! default. `/text` after the directives keeps only messages containing
//! `text` (a substring match: the regex feature is off). The directives come
//! from, in this order: [`LtsLoggerBuilder::filter`], the `LTS_LOG`
//! environment variable, the `RUST_LOG` environment variable; with none of
//! them the level is `info` for every target. An empty variable counts as
//! unset; a malformed one is an [`InitError::Filter`] naming it.
//!
//! Whatever the directives say:
//! - records logged on the shipper's own thread ([`lts_core::is_shipper_thread`])
//!   never enter, so the transport's own logging cannot feed back into the
//!   pipeline;
//! - records whose target is one of the shipper's own crates (`lts_core`,
//!   `lts_log`, `lts_tracing`, `lts_mock`, or a module inside one) never enter;
//! - records at `debug` and `trace` from the transport's crates (`ureq`,
//!   `ureq_proto`, `rustls`, and their modules) are dropped from every
//!   thread, unless [`LtsLoggerBuilder::transport_debug`] turns that off.
//!
//! [`log::set_max_level`] is set to the most verbose level any directive
//! allows, so a record below every directive costs only the level
//! comparison in the `log` macro.
//!
//! The directives can be changed while the program runs, from any thread,
//! with a [`FilterHandle`] ([`LtsLoggerBuilder::init_with_handle`], which
//! also moves [`log::set_max_level`], or [`LtsLogger::filter_handle`]): the
//! next record on every thread sees the change; a record logged during it
//! is filtered by the old or the new directives, never both, never neither.
//! The check stays one atomic load and a per-thread cache look-up.
//!
//! # Storm control
//!
//! With a rate limit ([`lts_core::ConfigBuilder::rate_limit`],
//! `LTS_RATE_LIMIT=200/s`), each call site (file and line) passes at most
//! that many records per interval, in bursts of up to that many; the rest
//! are counted ([`lts_core::Stats::suppressed`]) and reported in-band as
//! one `WARN` record (target `lts`) per call site and interval.
//!
//! # OpenTelemetry (feature `opentelemetry`)
//!
//! A record logged while an OpenTelemetry context with a valid span is
//! current on the calling thread (`opentelemetry::Context::current()`:
//! inside `tracer.in_span(...)`, or a span made current with
//! `mark_as_active_span`) carries its `trace_id` (32 lower-case hex
//! digits), `span_id` (16) and `trace_flags` as top-level keys of the line.
//! Others carry none. The feature uses opentelemetry 0.33.
//!
//! # Flushing and shutdown
//!
//! The global logger is never dropped, so [`init`] returns the
//! [`lts_core::Guard`]: keep it in `main`; its drop delivers what is queued
//! (waiting up to the configured shutdown timeout, 5 s by default) and
//! stops the background thread. [`log::logger().flush()`](log::Log::flush)
//! waits (up to the same timeout) until everything logged before it is
//! delivered or given up on.
//!
//! # Composing with other loggers
//!
//! [`LtsLogger::builder`] builds the logger without installing it, for a
//! logger of your own that also writes elsewhere (to stderr, say) and
//! forwards to the [`LtsLogger`] through its [`log::Log`] implementation.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod capture;
mod error;
mod filter;
mod handle;
mod logger;
mod panic;

pub use error::InitError;
pub use handle::FilterHandle;
pub use logger::{LtsLogger, LtsLoggerBuilder};
pub use panic::{install_panic_hook, PANIC_TARGET};

use lts_core::{Config, Guard};

/// Installs an [`LtsLogger`] shipping with `config` as the global logger,
/// sets [`log::set_max_level`] from the filter (`LTS_LOG`, else `RUST_LOG`,
/// else `info`), and returns the guard that delivers what is left and stops
/// the shipper when dropped.
///
/// Fails, without touching the logger already installed, if a global
/// logger is set ([`InitError::AlreadySet`]), if the filter is malformed,
/// or if the shipper cannot start.
///
/// # Example
///
/// ```
/// # let mock = lts_mock::MockLts::start()?;
/// # let config = lts_core::Config::builder()
/// #     .endpoint(mock.endpoint())
/// #     .project_id(lts_mock::PROJECT_ID)
/// #     .log_group_id(lts_mock::LOG_GROUP_ID)
/// #     .log_stream_id(lts_mock::LOG_STREAM_ID)
/// #     .token(mock.token())
/// #     .build()?;
/// let _guard = lts_log::init(config)?;
/// log::info!(user_id = 42; "request handled");
/// log::logger().flush(); // waits until it is delivered
/// # assert_eq!(mock.event_count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn init(config: Config) -> Result<Guard, InitError> {
    LtsLogger::builder(config).init()
}

/// Like [`init`], with the configuration read from `LTS_*` environment
/// variables by [`Config::from_env`].
///
/// # Example
///
/// ```no_run
/// let _guard = lts_log::try_init_from_env()?; // LTS_* variables; LTS_LOG or RUST_LOG
/// log::info!("started");
/// # Ok::<(), lts_log::InitError>(())
/// ```
pub fn try_init_from_env() -> Result<Guard, InitError> {
    let config = Config::from_env().map_err(InitError::Config)?;
    init(config)
}
