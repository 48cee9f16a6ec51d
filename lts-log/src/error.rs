//! [`InitError`]: why the logger could not be built or installed.

use std::fmt;

/// Why [`crate::init`], [`crate::try_init_from_env`] or
/// [`crate::LtsLoggerBuilder::build`] failed.
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
/// let err = lts_log::LtsLogger::builder(config).filter("my_app=loud").build().unwrap_err();
/// assert!(matches!(err, lts_log::InitError::Filter { origin: "filter", .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum InitError {
    /// A global logger is already installed (by an earlier `init` or by
    /// another logging crate). The installed logger is left as it was, and
    /// the shipper started for this call has been shut down again.
    AlreadySet,
    /// The configuration could not be read from the environment, or the
    /// shipper could not start; the [`lts_core::Error`] names the setting.
    Config(lts_core::Error),
    /// The filter directives are malformed.
    Filter {
        /// Where they came from: `"LTS_LOG"`, `"RUST_LOG"` or `"filter"`
        /// (the builder method).
        origin: &'static str,
        /// What is wrong with them.
        message: String,
    },
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::AlreadySet => f.write_str("a global logger is already installed"),
            InitError::Config(e) => write!(f, "cannot start the LTS shipper: {e}"),
            InitError::Filter { origin, message } => write!(f, "{origin}: {message}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::Config(e) => Some(e),
            _ => None,
        }
    }
}

impl From<lts_core::Error> for InitError {
    fn from(e: lts_core::Error) -> InitError {
        InitError::Config(e)
    }
}
