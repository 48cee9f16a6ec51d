//! [`LtsLogger`], the `log::Log` implementation, and its builder.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use log::{LevelFilter, Log, Metadata, Record};
use lts_core::{is_shipper_thread, Config, Guard, Live, Shipper};

use crate::capture;
use crate::error::InitError;
use crate::filter::{self, Filter};
use crate::handle::FilterHandle;

/// A [`log::Log`] that captures records on the caller's thread and ships
/// them to LTS through an [`lts_core::Shipper`].
///
/// Install it with [`crate::init`] or [`LtsLoggerBuilder::init`], or build
/// it with [`LtsLogger::builder`] and call it from a logger of your own.
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
/// use log::Log;
///
/// // Built, not installed: call it from a logger of your own.
/// let (logger, guard) = lts_log::LtsLogger::builder(config).filter("info").build()?;
/// logger.log(
///     &log::Record::builder()
///         .level(log::Level::Info)
///         .target("my_app")
///         .args(format_args!("forwarded"))
///         .build(),
/// );
/// logger.flush();
/// # assert_eq!(mock.event_count(), 1);
/// drop(guard);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LtsLogger {
    shipper: Shipper,
    filter: Arc<Live<Filter>>,
    flush_timeout: Duration,
}

impl LtsLogger {
    /// A builder for a logger that ships with `config`.
    pub fn builder(config: Config) -> LtsLoggerBuilder {
        LtsLoggerBuilder {
            flush_timeout: config.shutdown_timeout(),
            config,
            filter: None,
            transport_debug: false,
        }
    }

    /// The shipper this logger sends through (for its [`Shipper::stats`],
    /// or to flush with a timeout of your choice).
    pub fn shipper(&self) -> &Shipper {
        &self.shipper
    }

    /// The most verbose level the filter lets through: pass it to
    /// [`log::set_max_level`] when you install a logger that wraps this one.
    pub fn max_level(&self) -> LevelFilter {
        self.filter.with(Filter::max_level)
    }

    /// A handle that changes this logger's directives while it runs. It
    /// leaves [`log::set_max_level`] alone: a logger you install yourself
    /// sets that from [`FilterHandle::max_level`] after a change (or once
    /// to `Trace`). [`LtsLoggerBuilder::init_with_handle`] gives one that
    /// keeps it in step.
    pub fn filter_handle(&self) -> FilterHandle {
        FilterHandle::new(self.filter.clone(), false)
    }
}

thread_local! {
    /// Each thread's record, written over for each of its events: the
    /// shipper copies it into its queue, so the message buffer is reused.
    static SCRATCH: RefCell<lts_core::Record> =
        RefCell::new(lts_core::Record::new(0, lts_core::Level::Trace, "", String::new()));
}

/// A message buffer grown past this by one long message is let go rather
/// than kept by the thread.
const MAX_KEPT_MESSAGE: usize = 4096;

impl Log for LtsLogger {
    #[inline]
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !is_shipper_thread() && self.filter.with(|f| f.enabled(metadata))
    }

    fn log(&self, record: &Record<'_>) {
        if is_shipper_thread() || !self.filter.with(|f| f.matches(record)) {
            return;
        }
        let time_ns = self.shipper.now_ns();
        if !self.shipper.admit(
            time_ns,
            || capture::call_site_key(record),
            || capture::call_site(record),
        ) {
            return; // over the rate limit: counted and reported by the shipper
        }
        // A refused record is counted by the shipper (Stats::dropped_queue_full).
        // The thread's own record is reused (its message buffer), unless it
        // is in use: a message whose formatting logs comes here again.
        let reused = SCRATCH.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                capture::fill(time_ns, record, &mut scratch);
                let _ = self.shipper.send_ref(&scratch);
                if scratch.message.capacity() > MAX_KEPT_MESSAGE {
                    scratch.message = String::new();
                }
                true
            }
            Err(_) => false,
        });
        if reused != Ok(true) {
            let _ = self.shipper.send(capture::record(time_ns, record));
        }
    }

    /// Waits until every record logged before the call is delivered or
    /// given up on, at most the flush timeout (by default the configured
    /// shutdown timeout). Does nothing on the shipper's own thread.
    fn flush(&self) {
        if is_shipper_thread() {
            return;
        }
        let _ = self.shipper.flush(self.flush_timeout);
    }
}

/// Builds an [`LtsLogger`]: [`build`](Self::build) to get the logger and
/// its guard, [`init`](Self::init) to install it as the global logger.
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
/// use std::time::Duration;
///
/// let _guard = lts_log::LtsLogger::builder(config)
///     .filter("warn,my_app=debug")
///     .format(lts_core::Format::Text)
///     .flush_timeout(Duration::from_secs(2))
///     .init()?; // installs it as the global logger
/// log::debug!(target: "my_app", "kept");
/// log::debug!(target: "other", "filtered out");
/// log::logger().flush();
/// # assert_eq!(mock.event_count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until build() or init() is called"]
pub struct LtsLoggerBuilder {
    config: Config,
    filter: Option<String>,
    transport_debug: bool,
    flush_timeout: Duration,
}

impl LtsLoggerBuilder {
    /// The filter directives, in `RUST_LOG` syntax
    /// (`warn,my_app=debug,my_app::db=trace`), on top of the default level
    /// `info`. Given, they replace the `LTS_LOG` and `RUST_LOG` variables,
    /// which are read otherwise.
    pub fn filter(mut self, directives: impl Into<String>) -> Self {
        self.filter = Some(directives.into());
        self
    }

    /// Keeps the `debug` and `trace` records of the transport's crates
    /// (`ureq`, `ureq_proto`, `rustls`) logged on threads other than the
    /// shipper's, when the directives allow them. Off by default: they are
    /// noise about the shipper's own connections. Records from the shipper's
    /// thread and from the `lts_*` crates never enter either way.
    pub fn transport_debug(mut self, keep: bool) -> Self {
        self.transport_debug = keep;
        self
    }

    /// The log line format (replaces the one in the config).
    pub fn format(mut self, format: lts_core::Format) -> Self {
        self.config.set_format(format);
        self
    }

    /// How long [`Log::flush`] waits at most (default: the configured
    /// shutdown timeout, 5 s unless set).
    pub fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Checks the filter, starts the shipper and returns the logger and the
    /// guard that stops the shipper when dropped. Nothing is installed:
    /// the logger is yours to call or to wrap.
    pub fn build(self) -> Result<(LtsLogger, Guard), InitError> {
        let (origin, spec) = filter::directives(self.filter.as_deref(), |name| std::env::var_os(name))?;
        let filter = Filter::parse(origin, &spec, self.transport_debug)?;
        let (shipper, guard) = Shipper::start(self.config).map_err(InitError::Config)?;
        let logger = LtsLogger {
            shipper,
            filter: Arc::new(Live::new(filter)),
            flush_timeout: self.flush_timeout,
        };
        Ok((logger, guard))
    }

    /// Builds the logger, installs it as the global logger and sets
    /// [`log::set_max_level`] from the filter. Returns the guard to keep
    /// until the program ends.
    ///
    /// Fails with [`InitError::AlreadySet`] if a global logger is already
    /// installed; the shipper started here is then stopped again.
    pub fn init(self) -> Result<Guard, InitError> {
        self.init_with_handle().map(|(guard, _)| guard)
    }

    /// Like [`init`](Self::init), and returns a [`FilterHandle`] too, that
    /// changes the directives while the program runs and keeps
    /// [`log::set_max_level`] in step.
    pub fn init_with_handle(self) -> Result<(Guard, FilterHandle), InitError> {
        let (logger, guard) = self.build()?;
        let handle = FilterHandle::new(logger.filter.clone(), true);
        let max_level = logger.max_level();
        log::set_boxed_logger(Box::new(logger)).map_err(|_| InitError::AlreadySet)?;
        log::set_max_level(max_level);
        Ok((guard, handle))
    }
}
