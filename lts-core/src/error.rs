//! The error type for configuration and start-up, and the error of a flush.

use std::fmt;

/// What kind of [`Error`] happened.
///
/// # Example
///
/// ```
/// use lts_core::{Config, ErrorKind};
///
/// let err = Config::builder().endpoint("ftp://example.com").build().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidConfig);
/// assert_eq!(err.setting(), Some("endpoint"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A required setting is missing.
    MissingConfig,
    /// A setting has a value of the wrong shape.
    InvalidConfig,
    /// Settings that exclude each other were both given.
    ConflictingConfig,
    /// A file named by the configuration (a CA certificate) could not be read
    /// or parsed.
    Io,
    /// The background thread could not be started.
    Start,
}

/// An error from building a [`crate::Config`] or starting a [`crate::Shipper`].
///
/// The message names the setting (the environment variable when the value
/// came from one, else the builder method) and what was expected. It never
/// contains a secret's value.
///
/// # Example
///
/// ```
/// let vars = |name: &str| (name == "LTS_ENDPOINT").then(|| "lts.example.com".to_string());
/// let err = lts_core::Config::from_lookup(vars).unwrap_err();
/// // Named by its variable, with what was expected:
/// assert_eq!(err.setting(), Some("LTS_ENDPOINT"));
/// assert!(err.to_string().contains("https://"));
/// ```
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    setting: Option<String>,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, setting: Option<&str>, message: impl Into<String>) -> Error {
        Error {
            kind,
            setting: setting.map(str::to_owned),
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn invalid(setting: &str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidConfig, Some(setting), message)
    }

    pub(crate) fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The setting the error is about: an environment variable such as
    /// `LTS_PROJECT_ID`, or a builder method such as `project_id`.
    pub fn setting(&self) -> Option<&str> {
        self.setting.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.setting {
            Some(s) => write!(f, "{s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e.as_ref() as _)
    }
}

/// Why a flush (or shutdown) did not end with everything delivered.
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
/// use lts_core::{FlushError, Shipper};
///
/// let (shipper, _guard) = Shipper::start(config)?;
/// match shipper.flush(Duration::from_secs(5)) {
///     Ok(()) => {}                                      // all delivered
///     Err(FlushError::Lost { lost }) => eprintln!("{lost} records were given up on"),
///     Err(FlushError::Timeout { pending }) => eprintln!("{pending} records still queued"),
///     Err(other) => eprintln!("{other}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlushError {
    /// The deadline passed; `pending` records sent before the call were
    /// neither delivered nor given up on yet (they stay queued, unless this
    /// was a shutdown).
    Timeout {
        /// Records still in the pipeline.
        pending: u64,
    },
    /// Everything was dealt with, but `lost` records were given up on
    /// (rejected by the service, outside its time window, or out of
    /// retries); they are counted in [`crate::Stats`].
    Lost {
        /// Records given up on.
        lost: u64,
    },
    /// The shipper was already shut down.
    ShutDown,
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlushError::Timeout { pending } => {
                write!(f, "flush timed out with {pending} records not yet delivered")
            }
            FlushError::Lost { lost } => write!(f, "{lost} records could not be delivered and were dropped"),
            FlushError::ShutDown => f.write_str("the shipper is shut down"),
        }
    }
}

impl std::error::Error for FlushError {}
