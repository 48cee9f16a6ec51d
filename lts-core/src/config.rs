//! [`Config`]: where to ship, how to authenticate, and how to batch, built
//! with [`Config::builder`] or read from `LTS_*` environment variables with
//! [`Config::from_env`].
//!
//! Why one long file: it is mostly documentation, one builder method per
//! setting with its meaning, default and variable, and the checks in
//! `build_checked` sit beside the fields they check. The leaf types live
//! with their users (`Api` in encode.rs, `Compression` in payload.rs,
//! `Credentials` in auth, `Secret` in secret.rs, TLS in tls.rs, the proxy in
//! proxy.rs), the getters in config/getters.rs, and reading the environment
//! in env.rs; this module imports none of the stages.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Credentials, TokenProvider};
use crate::clock::ClockMode;
use crate::destination::{report_path, Destinations};
use crate::diag::{Diagnostic, ErrorHook};
use crate::encode::Api;
use crate::error::{Error, ErrorKind};
use crate::format::Format;
use crate::payload::Compression;
use crate::proxy::Proxy;
use crate::route::Route;
use crate::secret::Secret;
use crate::storm::RateLimit;
use crate::tls::{ClientCertFiles, Tls, TlsRoots};

mod getters;

/// How many requests may be out at once, up to
/// [`max_in_flight`](ConfigBuilder::max_in_flight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Concurrency {
    /// Start at 2 and adapt to the service: one more while round trips
    /// stay flat and answers succeed, a tenth less (at least one) after a
    /// 429, a 503, a timeout or a round trip well above the recent ones
    /// (AIMD, as Vector's adaptive request concurrency). The default.
    #[default]
    Adaptive,
    /// Always up to `max_in_flight`.
    Fixed,
}

/// What [`crate::Shipper::send`] does when the queue budget is used up.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use lts_core::{Config, Overflow};
///
/// // Callers wait up to 50 ms for room rather than drop at once.
/// let builder = Config::builder().overflow(Overflow::Block { max: Duration::from_millis(50) });
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Overflow {
    /// Drop the new record and count it in `Stats::dropped_queue_full`.
    /// The caller never waits. The default.
    #[default]
    DropNewest,
    /// Wait up to `max` for room, then drop and count as above.
    Block {
        /// The longest a caller waits.
        max: Duration,
    },
}

/// Retry policy for requests that fail in a way worth retrying (429, 5xx,
/// 401, timeouts, connection errors).
///
/// Attempt `n` (1-based) that fails waits `min(base * 2^(n-1), max)`, with
/// jitter (a random value between half and all of it), before the next
/// attempt. After `max_tries` attempts the batch is dropped and counted in
/// `Stats::dropped_retries_exhausted`.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use lts_core::{Config, RetryPolicy};
///
/// let builder = Config::builder().retry(RetryPolicy {
///     max_tries: 5,
///     base: Duration::from_millis(200),
///     max: Duration::from_secs(10),
/// });
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per batch, the first included (at least 1).
    pub max_tries: u32,
    /// Backoff after the first failure.
    pub base: Duration,
    /// The longest backoff.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_tries: 10,
            base: Duration::from_millis(100),
            max: Duration::from_secs(30),
        }
    }
}

/// The most labels LTS accepts.
pub const MAX_LABELS: usize = 100;
/// The most events per request the vendor producers allow; larger caps are clamped.
pub const MAX_BATCH_EVENTS: usize = 40_960;
/// The largest request body the vendor producers allow; larger caps are clamped.
pub const MAX_BATCH_BYTES: usize = 5 * 1024 * 1024;
/// The most requests [`max_in_flight`](ConfigBuilder::max_in_flight) allows.
pub const MAX_IN_FLIGHT: usize = 64;
/// Requests out at once at most, by default.
const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// The smallest byte cap accepted, so one event always fits.
pub const MIN_BATCH_BYTES: usize = 4 * 1024;

/// The environment variable of each setting, by builder method, for errors
/// found after the configuration was built (see [`Config::setting_name`]).
/// A setting read from several variables maps to the first.
const SETTING_VARS: &[(&str, &str)] = &[
    ("endpoint", "LTS_ENDPOINT"),
    ("region", "LTS_REGION"),
    ("project_id", "LTS_PROJECT_ID"),
    ("log_group_id", "LTS_LOG_GROUP_ID"),
    ("log_stream_id", "LTS_LOG_STREAM_ID"),
    ("token", "LTS_TOKEN"),
    ("iam", "LTS_IAM_USER"),
    ("iam_endpoint", "LTS_IAM_ENDPOINT"),
    ("access_key", "LTS_ACCESS_KEY"),
    ("label", "LTS_LABELS"),
    ("api", "LTS_API"),
    ("compression", "LTS_COMPRESSION"),
    ("gzip_level", "LTS_GZIP_LEVEL"),
    ("format", "LTS_FORMAT"),
    ("batch_max_events", "LTS_BATCH_MAX_EVENTS"),
    ("batch_max_bytes", "LTS_BATCH_MAX_BYTES"),
    ("linger", "LTS_LINGER_MS"),
    ("queue_bytes", "LTS_QUEUE_BYTES"),
    ("overflow", "LTS_OVERFLOW"),
    ("request_timeout", "LTS_TIMEOUT_MS"),
    ("retry", "LTS_RETRY_TRIES"),
    ("max_line_bytes", "LTS_MAX_LINE_BYTES"),
    ("spool_dir", "LTS_SPOOL_DIR"),
    ("spool_max_bytes", "LTS_SPOOL_MAX_BYTES"),
    ("shutdown_timeout", "LTS_SHUTDOWN_TIMEOUT_MS"),
    ("clock", "LTS_CLOCK"),
    ("ca_file", "LTS_CA_FILE"),
    ("danger_accept_invalid_certs", "LTS_INSECURE_SKIP_VERIFY"),
    ("tls_roots", "LTS_TLS_ROOTS"),
    ("client_cert", "LTS_CLIENT_CERT_FILE"),
    ("proxy", "LTS_PROXY"),
    ("max_in_flight", "LTS_MAX_IN_FLIGHT"),
    ("concurrency", "LTS_CONCURRENCY"),
    ("rate_limit", "LTS_RATE_LIMIT"),
    ("route", "LTS_ROUTES"),
    ("label_field", "LTS_LABEL_FIELDS"),
    ("tenant_project_id", "LTS_TENANT_PROJECT_ID"),
    ("max_open_batches", "LTS_MAX_OPEN_BATCHES"),
];

/// Open batches at most, by default (see [`ConfigBuilder::max_open_batches`]).
pub const DEFAULT_MAX_OPEN_BATCHES: usize = 256;

/// The shipper's configuration. Build one with [`Config::builder`] or
/// [`Config::from_env`].
///
/// | setting | builder | environment | default |
/// |---|---|---|---|
/// | endpoint | [`endpoint`](ConfigBuilder::endpoint) | `LTS_ENDPOINT` | from the region |
/// | region | [`region`](ConfigBuilder::region) | `LTS_REGION` | — |
/// | project id | [`project_id`](ConfigBuilder::project_id) | `LTS_PROJECT_ID` | required |
/// | log group id | [`log_group_id`](ConfigBuilder::log_group_id) | `LTS_LOG_GROUP_ID` | required |
/// | log stream id | [`log_stream_id`](ConfigBuilder::log_stream_id) | `LTS_LOG_STREAM_ID` | required |
/// | token | [`token`](ConfigBuilder::token) | `LTS_TOKEN` | one kind of credentials is required |
/// | IAM user | [`iam`](ConfigBuilder::iam) | `LTS_IAM_USER`, `LTS_IAM_PASSWORD`, `LTS_IAM_DOMAIN` | — |
/// | IAM endpoint | [`iam_endpoint`](ConfigBuilder::iam_endpoint) | `LTS_IAM_ENDPOINT` | `https://iam.{region}.myhuaweicloud.com` |
/// | access key pair | [`access_key`](ConfigBuilder::access_key) | `LTS_ACCESS_KEY`, `LTS_SECRET_KEY` | — |
/// | token provider | [`token_provider`](ConfigBuilder::token_provider) | — | — |
/// | labels | [`label`](ConfigBuilder::label) | `LTS_LABELS` (`k=v,k2=v2`) | none |
/// | API | [`api`](ConfigBuilder::api) | `LTS_API` (`high-accuracy`, `standard`) | high-accuracy |
/// | compression | [`compression`](ConfigBuilder::compression) | `LTS_COMPRESSION` (`gzip`, `snappy`, `none`) | gzip (without the `gzip` feature: snappy, else none; see [`Compression`]) |
/// | gzip level | [`gzip_level`](ConfigBuilder::gzip_level) | `LTS_GZIP_LEVEL` (0-9) | 1 |
/// | format | [`format`](ConfigBuilder::format) | `LTS_FORMAT` (`json`, `text`) | json |
/// | max events per batch | [`batch_max_events`](ConfigBuilder::batch_max_events) | `LTS_BATCH_MAX_EVENTS` | 8192 (clamped to 40960) |
/// | max bytes per batch | [`batch_max_bytes`](ConfigBuilder::batch_max_bytes) | `LTS_BATCH_MAX_BYTES` | 1048576 (clamped to 5 MiB) |
/// | linger | [`linger`](ConfigBuilder::linger) | `LTS_LINGER_MS` | 1000 ms |
/// | queue budget | [`queue_bytes`](ConfigBuilder::queue_bytes) | `LTS_QUEUE_BYTES` | 100 MiB |
/// | overflow | [`overflow`](ConfigBuilder::overflow) | `LTS_OVERFLOW` (`drop`, `block`, `block:<ms>`) | drop |
/// | request timeout | [`request_timeout`](ConfigBuilder::request_timeout) | `LTS_TIMEOUT_MS` | 10000 ms |
/// | requests in flight | [`max_in_flight`](ConfigBuilder::max_in_flight) | `LTS_MAX_IN_FLIGHT` (1-64) | 16 |
/// | concurrency | [`concurrency`](ConfigBuilder::concurrency) | `LTS_CONCURRENCY` (`adaptive`, `fixed`) | adaptive |
/// | retries | [`retry`](ConfigBuilder::retry) | `LTS_RETRY_TRIES`, `LTS_RETRY_BASE_MS`, `LTS_RETRY_MAX_MS` | 10, 100 ms, 30000 ms |
/// | line limit | [`max_line_bytes`](ConfigBuilder::max_line_bytes) | `LTS_MAX_LINE_BYTES` | 1048576 |
/// | disk spool | [`spool_dir`](ConfigBuilder::spool_dir) | `LTS_SPOOL_DIR` | off |
/// | spool size cap | [`spool_max_bytes`](ConfigBuilder::spool_max_bytes) | `LTS_SPOOL_MAX_BYTES` | 1 GiB |
/// | shutdown wait | [`shutdown_timeout`](ConfigBuilder::shutdown_timeout) | `LTS_SHUTDOWN_TIMEOUT_MS` | 5000 ms |
/// | clock | [`clock`](ConfigBuilder::clock) | `LTS_CLOCK` (`strict`, `wall`) | strict |
/// | CA file | [`ca_file`](ConfigBuilder::ca_file) | `LTS_CA_FILE` | none |
/// | skip TLS verification | [`danger_accept_invalid_certs`](ConfigBuilder::danger_accept_invalid_certs) | `LTS_INSECURE_SKIP_VERIFY` (`true`/`false`) | false |
/// | rate limit per call site | [`rate_limit`](ConfigBuilder::rate_limit) | `LTS_RATE_LIMIT` (`200/s`, `N/m`, `N/h`) | off |
/// | routes to other streams | [`route`](ConfigBuilder::route) | `LTS_ROUTES` (`audit=STREAM,*@error=GROUP/STREAM`) | none |
/// | fields whose values label batches | [`label_field`](ConfigBuilder::label_field) | `LTS_LABEL_FIELDS` (`tenant,region`) | none |
/// | open batches at most | [`max_open_batches`](ConfigBuilder::max_open_batches) | `LTS_MAX_OPEN_BATCHES` | 256 |
/// | tenant project id in the body | [`tenant_project_id`](ConfigBuilder::tenant_project_id) | `LTS_TENANT_PROJECT_ID` | not sent |
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use lts_core::{Compression, Config};
///
/// let config = Config::builder()
///     .region("eu-de") // or .endpoint("https://host:port")
///     .project_id("0123456789abcdef0123456789abcdef")
///     .log_group_id("0a1b2c3d-0000-4000-8000-000000000001")
///     .log_stream_id("0a1b2c3d-0000-4000-8000-000000000002")
///     .token("my-iam-token") // or .iam(..), .access_key(..), .token_provider(..)
///     .compression(Compression::Snappy)
///     .linger(Duration::from_millis(200))
///     .build()?;
/// assert_eq!(config.endpoint(), "https://lts-access.eu-de.myhuaweicloud.com:8102");
/// # Ok::<(), lts_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) endpoint: String,
    pub(crate) project_id: String,
    pub(crate) log_group_id: String,
    pub(crate) log_stream_id: String,
    pub(crate) credentials: Credentials,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) api: Api,
    pub(crate) compression: Compression,
    pub(crate) gzip_level: u32,
    pub(crate) format: Format,
    pub(crate) batch_max_events: usize,
    pub(crate) batch_max_bytes: usize,
    pub(crate) linger: Duration,
    pub(crate) queue_bytes: usize,
    pub(crate) overflow: Overflow,
    pub(crate) request_timeout: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) concurrency: Concurrency,
    pub(crate) retry: RetryPolicy,
    pub(crate) tls: Tls,
    pub(crate) proxy: Proxy,
    pub(crate) max_line_bytes: usize,
    pub(crate) time_window: Duration,
    pub(crate) spool_dir: Option<PathBuf>,
    pub(crate) spool_max_bytes: u64,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) clock: ClockMode,
    pub(crate) error_hook: ErrorHook,
    /// Whether the settings came from the environment ([`Config::from_env`]),
    /// so errors name variables rather than builder methods.
    pub(crate) from_env: bool,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) routes: Vec<Route>,
    pub(crate) label_fields: Vec<String>,
    pub(crate) tenant_project_id: Option<String>,
    pub(crate) max_open_batches: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint)
            .field("project_id", &self.project_id)
            .field("log_group_id", &self.log_group_id)
            .field("log_stream_id", &self.log_stream_id)
            .field("credentials", &self.credentials)
            .field("labels", &self.labels)
            .field("api", &self.api)
            .field("compression", &self.compression)
            .field("gzip_level", &self.gzip_level)
            .field("format", &self.format)
            .field("batch_max_events", &self.batch_max_events)
            .field("batch_max_bytes", &self.batch_max_bytes)
            .field("linger", &self.linger)
            .field("queue_bytes", &self.queue_bytes)
            .field("overflow", &self.overflow)
            .field("request_timeout", &self.request_timeout)
            .field("max_in_flight", &self.max_in_flight)
            .field("concurrency", &self.concurrency)
            .field("retry", &self.retry)
            .field("tls", &self.tls)
            .field("proxy", &self.proxy)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("time_window", &self.time_window)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("clock", &self.clock)
            .field("rate_limit", &self.rate_limit)
            .field("routes", &self.routes)
            .field("label_fields", &self.label_fields)
            .field("tenant_project_id", &self.tenant_project_id)
            .field("max_open_batches", &self.max_open_batches)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A builder with every default set; endpoint (or region), the three
    /// ids and the credentials are required.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The name an error gives a setting: its environment variable when
    /// the configuration came from the environment, else `builder`, the
    /// builder method (`"spool_dir"` gives `LTS_SPOOL_DIR` or `spool_dir`).
    pub(crate) fn setting_name(&self, builder: &'static str) -> &'static str {
        let var = SETTING_VARS.iter().find(|(b, _)| *b == builder).map(|(_, v)| *v);
        debug_assert!(var.is_some(), "no variable for the setting {builder}");
        match var {
            Some(var) if self.from_env => var,
            _ => builder,
        }
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The full URL of the reporting API in use for the default stream
    /// (each route has its own).
    pub fn report_url(&self) -> String {
        let path = report_path(
            &self.project_id,
            &self.log_group_id,
            &self.log_stream_id,
            self.api.path_suffix(),
        );
        format!("{}{path}", self.endpoint)
    }

    /// The (group, stream) of each route, in order: a route without a
    /// group of its own writes to the default group.
    pub(crate) fn route_streams(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.routes
            .iter()
            .map(|r| (r.log_group_id().unwrap_or(&self.log_group_id), r.log_stream_id()))
    }

    /// Where batches go: the default stream, then each route's.
    pub(crate) fn destinations(&self) -> Destinations {
        Destinations::new(
            &self.endpoint,
            &self.project_id,
            self.api.path_suffix(),
            (&self.log_group_id, &self.log_stream_id),
            self.route_streams(),
        )
    }

    /// Replaces the log line format. For the front ends' own builders
    /// (`lts-log`, `lts-tracing`), which take a format after the config is
    /// built; users set it with [`ConfigBuilder::format`]. Hidden: not part
    /// of the stable API.
    #[doc(hidden)]
    pub fn set_format(&mut self, format: Format) {
        self.format = format;
    }

    /// The configured API.
    pub fn api(&self) -> Api {
        self.api
    }

    /// The configured clock mode.
    pub fn clock(&self) -> ClockMode {
        self.clock
    }

    /// How long a [`crate::Guard`] waits on drop.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// The per-call-site rate limit, if any.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }
}

/// Builds a [`Config`]. Every setter takes the value as is; [`build`]
/// checks everything and says what is wrong.
///
/// [`build`]: ConfigBuilder::build
///
/// # Example
///
/// ```
/// use lts_core::{Config, ErrorKind};
///
/// // `build` checks everything and names what is wrong.
/// let err = Config::builder().region("eu-de").token("t").build().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::MissingConfig);
/// assert_eq!(err.setting(), Some("project_id"));
/// ```
#[derive(Clone)]
pub struct ConfigBuilder {
    endpoint: Option<String>,
    region: Option<String>,
    iam_endpoint: Option<String>,
    project_id: Option<String>,
    log_group_id: Option<String>,
    log_stream_id: Option<String>,
    /// Every credential set, so that setting two kinds is an error that
    /// names both rather than a silent override.
    credentials: Vec<Credentials>,
    labels: Vec<(String, String)>,
    api: Api,
    compression: Compression,
    gzip_level: u32,
    format: Format,
    batch_max_events: usize,
    batch_max_bytes: usize,
    linger: Duration,
    queue_bytes: usize,
    overflow: Overflow,
    request_timeout: Duration,
    max_in_flight: usize,
    concurrency: Concurrency,
    retry: RetryPolicy,
    tls: Tls,
    proxy: Proxy,
    max_line_bytes: usize,
    time_window: Duration,
    spool_dir: Option<PathBuf>,
    spool_max_bytes: u64,
    shutdown_timeout: Duration,
    clock: ClockMode,
    error_hook: ErrorHook,
    rate_limit: Option<RateLimit>,
    routes: Vec<Route>,
    label_fields: Vec<String>,
    tenant_project_id: Option<String>,
    max_open_batches: usize,
}

impl Default for ConfigBuilder {
    fn default() -> ConfigBuilder {
        ConfigBuilder {
            endpoint: None,
            region: None,
            iam_endpoint: None,
            project_id: None,
            log_group_id: None,
            log_stream_id: None,
            credentials: Vec::new(),
            labels: Vec::new(),
            api: Api::default(),
            compression: Compression::default(),
            gzip_level: 1,
            format: Format::default(),
            // Sized for the wire: 1 MiB before compression (about 4,500
            // typical lines, a ~60 KB gzipped body). Against a 50 ms round
            // trip, 2 M events went at 552k/s against 392k/s with 512 KiB,
            // in half the requests (the vendor's Java baseline: 1 MB).
            batch_max_events: 8192,
            batch_max_bytes: 1024 * 1024,
            linger: Duration::from_secs(1),
            queue_bytes: 100 * 1024 * 1024,
            overflow: Overflow::default(),
            request_timeout: Duration::from_secs(10),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            concurrency: Concurrency::default(),
            retry: RetryPolicy::default(),
            tls: Tls::default(),
            proxy: Proxy::default(),
            max_line_bytes: 1024 * 1024,
            time_window: Duration::from_secs(2 * 24 * 3600),
            spool_dir: None,
            spool_max_bytes: 1 << 30,
            shutdown_timeout: Duration::from_secs(5),
            clock: ClockMode::default(),
            error_hook: ErrorHook::default(),
            rate_limit: None,
            routes: Vec::new(),
            label_fields: Vec::new(),
            tenant_project_id: None,
            max_open_batches: DEFAULT_MAX_OPEN_BATCHES,
        }
    }
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("project_id", &self.project_id)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// The base URL: `https://host[:port]` or `http://host[:port]`, no path
    /// (a trailing slash is ignored). Takes precedence over [`region`](Self::region).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The region, such as `cn-north-4` or `eu-de`: the endpoint becomes
    /// `https://lts-access.{region}.myhuaweicloud.com:8102`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The project id (32 characters).
    pub fn project_id(mut self, id: impl Into<String>) -> Self {
        self.project_id = Some(id.into());
        self
    }

    /// The log group id (36 characters, UUID form).
    pub fn log_group_id(mut self, id: impl Into<String>) -> Self {
        self.log_group_id = Some(id.into());
        self
    }

    /// The log stream id (36 characters, UUID form).
    pub fn log_stream_id(mut self, id: impl Into<String>) -> Self {
        self.log_stream_id = Some(id.into());
        self
    }

    /// Authenticates with a static IAM token.
    pub fn token(self, token: impl Into<String>) -> Self {
        self.credentials(Credentials::Token(Secret::new(token)))
    }

    /// Authenticates as an IAM user (password identity), with the IAM
    /// endpoint derived from the region unless [`iam_endpoint`](Self::iam_endpoint) is set.
    pub fn iam(self, user: impl Into<String>, password: impl Into<String>, domain: impl Into<String>) -> Self {
        self.credentials(Credentials::Iam {
            endpoint: None,
            user: user.into(),
            password: Secret::new(password),
            domain: domain.into(),
            project_id: None,
        })
    }

    /// The IAM endpoint for [`iam`](Self::iam) credentials, such as
    /// `https://iam.eu-de.otc.t-systems.com`.
    pub fn iam_endpoint(mut self, url: impl Into<String>) -> Self {
        self.iam_endpoint = Some(url.into());
        self
    }

    /// Authenticates with tokens from your own provider.
    pub fn token_provider(self, provider: impl TokenProvider) -> Self {
        self.credentials(Credentials::Provider(Arc::new(provider)))
    }

    /// Signs every request with an access key pair (SDK-HMAC-SHA256).
    pub fn access_key(self, access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        self.credentials(Credentials::AkSk {
            access_key: access_key.into(),
            secret_key: Secret::new(secret_key),
        })
    }

    /// Sets the credentials. Exactly one kind may be set: two different
    /// kinds are an error at [`build`](Self::build) naming both.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials.retain(|c| c.kind_name() != credentials.kind_name());
        self.credentials.push(credentials);
        self
    }

    /// Adds a label sent with every batch (at most 100; a repeated key keeps
    /// the last value).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((key.into(), value.into()));
        self
    }

    /// Adds labels.
    pub fn labels<K: Into<String>, V: Into<String>>(mut self, labels: impl IntoIterator<Item = (K, V)>) -> Self {
        self.labels
            .extend(labels.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Adds a route: records it matches go to its stream rather than the
    /// default one (the first route that matches wins; see [`Route`]).
    /// `LTS_ROUTES` from the environment.
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Adds routes, tried in order after those already added.
    pub fn routes(mut self, routes: impl IntoIterator<Item = Route>) -> Self {
        self.routes.extend(routes);
        self
    }

    /// A record field whose value becomes a label of the batch the record
    /// travels in (`tenant`: records of different tenants travel in
    /// different batches, each labelled `tenant=<value>`). Looked up among
    /// the record's fields, then its spans' fields, innermost first; a
    /// record without it travels without that label. `LTS_LABEL_FIELDS`
    /// (names separated by commas) from the environment.
    ///
    /// How many batches can be open at once is bounded
    /// ([`max_open_batches`](Self::max_open_batches)).
    pub fn label_field(mut self, name: impl Into<String>) -> Self {
        self.label_fields.push(name.into());
        self
    }

    /// The most batches open at once, one per route and set of label
    /// values (default 256). A record that would open one more travels in
    /// its route's overflow batch instead, whose label fields all say
    /// `"(overflow)"`; it is counted in [`Stats::label_overflow`](crate::Stats::label_overflow)
    /// and reported to the error hook. Nothing is dropped. At least 1.
    /// `LTS_MAX_OPEN_BATCHES` from the environment.
    pub fn max_open_batches(mut self, n: usize) -> Self {
        self.max_open_batches = n;
        self
    }

    /// The `tenant_project_id` sent in every body (a route can name its
    /// own): the project the logs are reported for, when that is not the
    /// project of the endpoint's credentials. 32 characters.
    /// `LTS_TENANT_PROJECT_ID` from the environment.
    pub fn tenant_project_id(mut self, id: impl Into<String>) -> Self {
        self.tenant_project_id = Some(id.into());
        self
    }

    /// The reporting API (default: high-accuracy).
    pub fn api(mut self, api: Api) -> Self {
        self.api = api;
        self
    }

    /// Body compression (default: gzip; the best one compiled in when a
    /// Cargo feature is off, see [`Compression`]).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// gzip level, 0 (store) to 9 (smallest); default 1, chosen for
    /// throughput: log lines compress well at any level.
    pub fn gzip_level(mut self, level: u32) -> Self {
        self.gzip_level = level;
        self
    }

    /// The log line format (default: JSON).
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The most events in one request (default 8192; values above 40960 are
    /// clamped to it).
    pub fn batch_max_events(mut self, n: usize) -> Self {
        self.batch_max_events = n;
        self
    }

    /// The most bytes of encoded (uncompressed) body in one request
    /// (default 1 MiB; values above 5 MiB are clamped to it; at least 4 KiB).
    pub fn batch_max_bytes(mut self, n: usize) -> Self {
        self.batch_max_bytes = n;
        self
    }

    /// The longest an event waits for its batch to fill (default 1 s).
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// The memory budget of the pipeline in bytes: records queued plus
    /// batches awaiting delivery (default 100 MiB, as the vendor producers use).
    pub fn queue_bytes(mut self, n: usize) -> Self {
        self.queue_bytes = n;
        self
    }

    /// Limits each call site to `limit` records (default: no limit): a
    /// storm from one hot loop is cut to the rate, other call sites are
    /// unaffected, and the refused records are counted and reported in-band
    /// (see [`RateLimit`]).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// What happens when the budget is used up (default: drop the newest and count it).
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// The longest one request may take, connection included (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The most requests out at once (default 16, at most
    /// [`MAX_IN_FLIGHT`]): each on a sender thread of its own, with its own
    /// connection.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// Whether the number of requests out adapts to the service (the
    /// default) or is always `max_in_flight`.
    pub fn concurrency(mut self, concurrency: Concurrency) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Trusts the CA certificates in this PEM file, in addition to the
    /// bundled roots.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_file = Some(path.into());
        self
    }

    /// Turns TLS certificate verification off. Dangerous; off by default.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.danger_accept_invalid_certs = accept;
        self
    }

    /// Which roots are trusted (default: the bundled Mozilla roots; see
    /// [`TlsRoots`]).
    pub fn tls_roots(mut self, roots: TlsRoots) -> Self {
        self.tls.roots = roots;
        self
    }

    /// Presents this client certificate (mutual TLS): `cert` is a PEM file
    /// with the certificate chain, leaf first; `key` a PEM file with its
    /// private key (PKCS#8, PKCS#1 or SEC1; PKCS#8 with the `native-tls`
    /// feature). Both are read by [`build`](Self::build).
    ///
    /// ```
    /// let builder = lts_core::Config::builder()
    ///     .client_cert("/etc/my-app/lts-client.pem", "/etc/my-app/lts-client.key");
    /// # let _ = builder;
    /// ```
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls.client_cert = Some(ClientCertFiles {
            cert: cert.into(),
            key: key.into(),
        });
        self
    }

    /// Sends every request through this proxy: `http://host:port`,
    /// `https://host:port` or `socks5://host:port` (with `user:password@`
    /// if the proxy wants them). By default the standard variables
    /// (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, ...) are honoured; see
    /// [`Proxy`].
    ///
    /// ```
    /// use lts_core::{Config, Proxy};
    ///
    /// let through_proxy = Config::builder().proxy(Proxy::url("http://proxy.corp.example:3128"));
    /// let direct = Config::builder().proxy(Proxy::None); // ignore HTTPS_PROXY and the rest
    /// # let _ = (through_proxy, direct);
    /// ```
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// The longest log line in bytes (default 1 MiB, LTS's limit); a longer
    /// line is cut to fit with `…[truncated N bytes]` markers (a JSON line
    /// stays valid JSON) and counted. A line longer than the batch byte cap
    /// travels in a batch of its own.
    pub fn max_line_bytes(mut self, n: usize) -> Self {
        self.max_line_bytes = n;
        self
    }

    /// How far from now an event's time may be (default 2 days, LTS's
    /// window); events outside it are dropped before sending, counted as
    /// rejected and reported, since the service would delete them silently.
    pub fn time_window(mut self, window: Duration) -> Self {
        self.time_window = window;
        self
    }

    /// Keeps batches that cannot be delivered in time on disk in this
    /// directory (off by default): batches out of retries, batches pushed
    /// out of memory while the service is down and the queue budget is half
    /// used, and what is undelivered at shutdown. They are sent, oldest
    /// first, when delivery works again, and at the next start. See the
    /// README's "Disk spool" section.
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// The most bytes the spool may hold on disk (default 1 GiB); past it,
    /// batches are kept in memory or dropped and counted as without a spool.
    pub fn spool_max_bytes(mut self, n: u64) -> Self {
        self.spool_max_bytes = n;
        self
    }

    /// How long the [`crate::Guard`] waits for delivery on drop (default 5 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The clock mode (default: strictly increasing).
    pub fn clock(mut self, clock: ClockMode) -> Self {
        self.clock = clock;
        self
    }

    /// Where the worker's own diagnostics go (default: one line on stderr,
    /// at most one line per kind every 10 seconds). Called on the worker
    /// thread; never called with a secret in the message.
    pub fn error_hook(mut self, hook: impl Fn(&Diagnostic) + Send + Sync + 'static) -> Self {
        self.error_hook = ErrorHook::new(Arc::new(hook));
        self
    }

    /// Checks the settings and builds the [`Config`].
    pub fn build(self) -> Result<Config, Error> {
        self.build_checked(false)
    }

    fn resolve_credentials(&mut self, from_env: bool) -> Result<Credentials, Error> {
        let name = |builder: &'static str, env: &'static str| if from_env { env } else { builder };
        let mut set = std::mem::take(&mut self.credentials);
        if set.len() > 1 {
            let kinds: Vec<&str> = set.iter().map(Credentials::kind_name).collect();
            let vars = if from_env {
                " (LTS_TOKEN; LTS_IAM_USER/LTS_IAM_PASSWORD/LTS_IAM_DOMAIN; LTS_ACCESS_KEY/LTS_SECRET_KEY)"
            } else {
                ""
            };
            return Err(Error::new(
                ErrorKind::ConflictingConfig,
                Some(name("credentials", "LTS_TOKEN")),
                format!(
                    "exactly one kind of credentials may be set, got {}{vars}",
                    kinds.join(" and ")
                ),
            ));
        }
        let mut credentials = set.pop().ok_or_else(|| {
            Error::new(
                ErrorKind::MissingConfig,
                Some(name("token", "LTS_TOKEN")),
                if from_env {
                    "required, not set (or set LTS_IAM_USER, LTS_IAM_PASSWORD and LTS_IAM_DOMAIN, or LTS_ACCESS_KEY and LTS_SECRET_KEY)"
                } else {
                    "required, not set (or set iam(..) or access_key(..) credentials)"
                },
            )
        })?;
        match &mut credentials {
            Credentials::Token(t) => check_header_value(name("token", "LTS_TOKEN"), "token", t.expose())?,
            Credentials::Iam {
                endpoint, user, domain, ..
            } => {
                if user.is_empty() {
                    return Err(Error::invalid(
                        name("iam", "LTS_IAM_USER"),
                        "the IAM user name is empty",
                    ));
                }
                if domain.is_empty() {
                    return Err(Error::invalid(
                        name("iam", "LTS_IAM_DOMAIN"),
                        "the IAM domain (account) name is empty",
                    ));
                }
                let setting = name("iam_endpoint", "LTS_IAM_ENDPOINT");
                *endpoint = Some(match (endpoint.take().or(self.iam_endpoint.take()), &self.region) {
                    (Some(e), _) => normalize_endpoint(setting, &e)?,
                    (None, Some(r)) => format!("https://iam.{r}.myhuaweicloud.com"),
                    (None, None) => {
                        return Err(Error::new(
                            ErrorKind::MissingConfig,
                            Some(setting),
                            "an IAM endpoint is needed: set it, or set the region it is derived from",
                        ))
                    }
                });
            }
            Credentials::Provider(_) => {}
            Credentials::AkSk { access_key, secret_key } => {
                check_header_value(name("access_key", "LTS_ACCESS_KEY"), "access key", access_key)?;
                if secret_key.expose().is_empty() {
                    return Err(Error::invalid(
                        name("access_key", "LTS_SECRET_KEY"),
                        "the secret key is empty",
                    ));
                }
            }
        }
        Ok(credentials)
    }

    /// `from_env` names environment variables in its errors, the builder
    /// names its own methods.
    pub(crate) fn build_checked(mut self, from_env: bool) -> Result<Config, Error> {
        let name = |builder: &'static str, env: &'static str| if from_env { env } else { builder };
        let endpoint = match (&self.endpoint, &self.region) {
            (Some(e), _) => normalize_endpoint(name("endpoint", "LTS_ENDPOINT"), e)?,
            (None, Some(r)) => {
                check_region(name("region", "LTS_REGION"), r)?;
                format!("https://lts-access.{r}.myhuaweicloud.com:8102")
            }
            (None, None) => {
                return Err(Error::new(
                    ErrorKind::MissingConfig,
                    Some(name("endpoint", "LTS_ENDPOINT")),
                    if from_env {
                        "set LTS_ENDPOINT (https://host:port) or LTS_REGION (such as cn-north-4)"
                    } else {
                        "set an endpoint (https://host:port) or a region (such as cn-north-4)"
                    },
                ))
            }
        };
        let project_id = required(self.project_id.take(), name("project_id", "LTS_PROJECT_ID"))?;
        check_id(name("project_id", "LTS_PROJECT_ID"), &project_id, IdShape::Project)?;
        let log_group_id = required(self.log_group_id.take(), name("log_group_id", "LTS_LOG_GROUP_ID"))?;
        check_id(name("log_group_id", "LTS_LOG_GROUP_ID"), &log_group_id, IdShape::Uuid)?;
        let log_stream_id = required(self.log_stream_id.take(), name("log_stream_id", "LTS_LOG_STREAM_ID"))?;
        check_id(
            name("log_stream_id", "LTS_LOG_STREAM_ID"),
            &log_stream_id,
            IdShape::Uuid,
        )?;
        let credentials = self.resolve_credentials(from_env)?;

        let labels_setting = name("label", "LTS_LABELS");
        let mut labels = BTreeMap::new();
        for (k, v) in self.labels {
            if k.is_empty() {
                return Err(Error::invalid(labels_setting, "a label key is empty"));
            }
            labels.insert(k, v);
        }
        if labels.len() > MAX_LABELS {
            return Err(Error::invalid(
                labels_setting,
                format!("{} labels given; LTS accepts at most {MAX_LABELS}", labels.len()),
            ));
        }
        if self.gzip_level > 9 {
            return Err(Error::invalid(
                name("gzip_level", "LTS_GZIP_LEVEL"),
                format!("expected a level from 0 to 9, got {}", self.gzip_level),
            ));
        }
        crate::payload::check(self.compression, name("compression", "LTS_COMPRESSION"))?;
        if self.batch_max_events == 0 {
            return Err(Error::invalid(
                name("batch_max_events", "LTS_BATCH_MAX_EVENTS"),
                "expected at least 1",
            ));
        }
        if self.batch_max_bytes < MIN_BATCH_BYTES {
            return Err(Error::invalid(
                name("batch_max_bytes", "LTS_BATCH_MAX_BYTES"),
                format!(
                    "expected at least {MIN_BATCH_BYTES} bytes, got {}",
                    self.batch_max_bytes
                ),
            ));
        }
        let batch_max_bytes = self.batch_max_bytes.min(MAX_BATCH_BYTES);
        if self.queue_bytes < batch_max_bytes {
            return Err(Error::invalid(
                name("queue_bytes", "LTS_QUEUE_BYTES"),
                format!(
                    "the queue budget ({} bytes) must be at least the batch byte cap ({batch_max_bytes} bytes)",
                    self.queue_bytes
                ),
            ));
        }
        if self.max_line_bytes < 256 {
            return Err(Error::invalid(
                name("max_line_bytes", "LTS_MAX_LINE_BYTES"),
                format!("expected at least 256 bytes, got {}", self.max_line_bytes),
            ));
        }
        if self.request_timeout.is_zero() {
            return Err(Error::invalid(
                name("request_timeout", "LTS_TIMEOUT_MS"),
                "expected more than 0 ms",
            ));
        }
        if !(1..=MAX_IN_FLIGHT).contains(&self.max_in_flight) {
            return Err(Error::invalid(
                name("max_in_flight", "LTS_MAX_IN_FLIGHT"),
                format!("expected 1 to {MAX_IN_FLIGHT}, got {}", self.max_in_flight),
            ));
        }
        if self.retry.max_tries == 0 {
            return Err(Error::invalid(
                name("retry", "LTS_RETRY_TRIES"),
                "expected at least 1 try",
            ));
        }
        crate::tls::check(
            &self.tls,
            &crate::tls::SettingNames {
                ca_file: name("ca_file", "LTS_CA_FILE"),
                roots: name("tls_roots", "LTS_TLS_ROOTS"),
                client_cert: name("client_cert", "LTS_CLIENT_CERT_FILE"),
                client_key: name("client_cert", "LTS_CLIENT_KEY_FILE"),
            },
        )?;
        crate::proxy::check(&self.proxy, name("proxy", "LTS_PROXY"))?;
        let tenant_setting = name("tenant_project_id", "LTS_TENANT_PROJECT_ID");
        if let Some(t) = &self.tenant_project_id {
            check_id(tenant_setting, t, IdShape::Project)?;
        }
        let fields_setting = name("label_field", "LTS_LABEL_FIELDS");
        for (i, f) in self.label_fields.iter().enumerate() {
            if f.is_empty() {
                return Err(Error::invalid(fields_setting, "a label field name is empty"));
            }
            if self.label_fields[..i].contains(f) {
                return Err(Error::invalid(
                    fields_setting,
                    format!("the label field {f:?} is named twice"),
                ));
            }
        }
        if self.max_open_batches == 0 {
            return Err(Error::invalid(
                name("max_open_batches", "LTS_MAX_OPEN_BATCHES"),
                "expected at least 1",
            ));
        }
        let routes_setting = name("route", "LTS_ROUTES");
        for (i, r) in self.routes.iter().enumerate() {
            check_route(routes_setting, i, r, &labels, &self.label_fields)?;
        }
        Ok(Config {
            endpoint,
            project_id,
            log_group_id,
            log_stream_id,
            credentials,
            labels,
            api: self.api,
            compression: self.compression,
            gzip_level: self.gzip_level,
            format: self.format,
            batch_max_events: self.batch_max_events.min(MAX_BATCH_EVENTS),
            batch_max_bytes,
            linger: self.linger,
            queue_bytes: self.queue_bytes,
            overflow: self.overflow,
            request_timeout: self.request_timeout,
            max_in_flight: self.max_in_flight,
            concurrency: self.concurrency,
            retry: self.retry,
            tls: self.tls,
            proxy: self.proxy,
            max_line_bytes: self.max_line_bytes,
            time_window: self.time_window,
            spool_dir: self.spool_dir,
            spool_max_bytes: self.spool_max_bytes,
            shutdown_timeout: self.shutdown_timeout,
            clock: self.clock,
            error_hook: self.error_hook,
            from_env,
            rate_limit: self.rate_limit,
            routes: self.routes,
            label_fields: self.label_fields,
            tenant_project_id: self.tenant_project_id,
            max_open_batches: self.max_open_batches,
        })
    }
}

/// Checks route `i`: its ids, its prefix and its labels (with the common
/// ones and the label fields, at most [`MAX_LABELS`]). The error names the
/// route as `LTS_ROUTES` writes it.
fn check_route(
    setting: &str,
    i: usize,
    r: &Route,
    common: &BTreeMap<String, String>,
    label_fields: &[String],
) -> Result<(), Error> {
    let entry = r.describe();
    let fail = |why: String| Error::invalid(setting, format!("route {} ({entry:?}): {why}", i + 1));
    if r.target_prefix().is_empty() {
        return Err(fail("the target prefix is empty (`*` matches every target)".into()));
    }
    if let Some(g) = r.log_group_id() {
        check_id("log group id", g, IdShape::Uuid).map_err(|e| fail(e.to_string()))?;
    }
    check_id("log stream id", r.log_stream_id(), IdShape::Uuid).map_err(|e| fail(e.to_string()))?;
    if let Some(t) = r.tenant_project_id() {
        check_id("tenant_project_id", t, IdShape::Project).map_err(|e| fail(e.to_string()))?;
    }
    let mut keys: std::collections::BTreeSet<&str> = common.keys().map(String::as_str).collect();
    for (k, _) in r.labels() {
        if k.is_empty() {
            return Err(fail("a label key is empty".into()));
        }
        keys.insert(k);
    }
    keys.extend(label_fields.iter().map(String::as_str));
    if keys.len() > MAX_LABELS {
        return Err(fail(format!(
            "{} labels with the common ones and the label fields; LTS accepts at most {MAX_LABELS}",
            keys.len()
        )));
    }
    Ok(())
}

fn required<T>(value: Option<T>, setting: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::new(ErrorKind::MissingConfig, Some(setting), "required, not set"))
}

/// Checks and normalizes an endpoint: scheme http or https, a host, an
/// optional port, no path, query or credentials; trailing slashes removed.
fn normalize_endpoint(setting: &str, url: &str) -> Result<String, Error> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            Error::invalid(
                setting,
                format!("expected a URL starting with https:// or http://, got {url:?}"),
            )
        })?;
    let trimmed = rest.trim_end_matches('/');
    let (authority, path) = match trimmed.find(['/', '?', '#']) {
        Some(i) => trimmed.split_at(i),
        None => (trimmed, ""),
    };
    if !path.is_empty() {
        return Err(Error::invalid(
            setting,
            format!("expected only scheme://host[:port], without a path or query; remove {path:?}"),
        ));
    }
    if authority.contains('@') {
        return Err(Error::invalid(
            setting,
            "credentials in the URL are not supported; use the token setting",
        ));
    }
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 literal: [::1]:8102
        Some(v6) => match v6.split_once(']') {
            Some((host, rest)) => (host, rest.strip_prefix(':')),
            None => return Err(Error::invalid(setting, format!("unclosed '[' in {url:?}"))),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if let Some(port) = port {
        if port.parse::<u16>().is_err() {
            return Err(Error::invalid(
                setting,
                format!("the port {port:?} is not a number from 0 to 65535"),
            ));
        }
    }
    if host.is_empty() {
        return Err(Error::invalid(setting, format!("no host in {url:?}")));
    }
    Ok(format!("{}{}", &url[..url.len() - rest.len()], authority))
}

fn check_region(setting: &str, region: &str) -> Result<(), Error> {
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::invalid(
            setting,
            format!("expected a region name such as cn-north-4 (lower-case letters, digits and '-'), got {region:?}"),
        ));
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum IdShape {
    Project,
    Uuid,
}

fn check_id(setting: &str, id: &str, shape: IdShape) -> Result<(), Error> {
    let ok = match shape {
        IdShape::Project => id.len() == 32 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        IdShape::Uuid => {
            id.len() == 36
                && id.bytes().enumerate().all(|(i, b)| match i {
                    8 | 13 | 18 | 23 => b == b'-',
                    _ => b.is_ascii_hexdigit(),
                })
        }
    };
    if ok {
        return Ok(());
    }
    let expected = match shape {
        IdShape::Project => "32 letters and digits",
        IdShape::Uuid => "36 characters in UUID form (8-4-4-4-12 hex digits)",
    };
    Err(Error::invalid(
        setting,
        format!("expected {expected}, got {} characters: {id:?}", id.chars().count()),
    ))
}

/// A value sent in a header must be non-empty visible ASCII; the error says
/// where without showing the value (it may be a secret).
fn check_header_value(setting: &str, what: &str, v: &str) -> Result<(), Error> {
    if v.is_empty() {
        return Err(Error::invalid(setting, format!("the {what} is empty")));
    }
    if let Some(i) = v.bytes().position(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(Error::invalid(
            setting,
            format!("the {what} has a character that cannot go in an HTTP header at position {i}"),
        ));
    }
    Ok(())
}

pub(crate) mod parse {
    //! Value parsers shared by the environment reader.
    use super::*;

    pub(crate) fn u64_var(var: &str, v: &str) -> Result<u64, Error> {
        v.trim()
            .parse()
            .map_err(|_| Error::invalid(var, format!("expected a whole number, got {v:?}")))
    }

    pub(crate) fn bool_var(var: &str, v: &str) -> Result<bool, Error> {
        match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            _ => Err(Error::invalid(var, format!("expected true or false, got {v:?}"))),
        }
    }

    pub(crate) fn labels_var(var: &str, v: &str) -> Result<Vec<(String, String)>, Error> {
        v.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
                _ => Err(Error::invalid(
                    var,
                    format!("expected key=value pairs separated by commas, got {pair:?}"),
                )),
            })
            .collect()
    }

    pub(crate) fn overflow_var(var: &str, v: &str) -> Result<Overflow, Error> {
        let v = v.trim();
        match v {
            "drop" => Ok(Overflow::DropNewest),
            "block" => Ok(Overflow::Block {
                max: Duration::from_secs(1),
            }),
            _ => match v.strip_prefix("block:").map(|ms| ms.parse::<u64>()) {
                Some(Ok(ms)) => Ok(Overflow::Block {
                    max: Duration::from_millis(ms),
                }),
                _ => Err(Error::invalid(
                    var,
                    format!("expected drop, block or block:<ms>, got {v:?}"),
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ConfigBuilder {
        Config::builder()
            .endpoint("http://127.0.0.1:8102")
            .project_id("0123456789abcdef0123456789abcdef")
            .log_group_id("0a1b2c3d-0000-4000-8000-000000000001")
            .log_stream_id("0a1b2c3d-0000-4000-8000-000000000002")
            .token("tok")
    }

    #[cfg(not(feature = "gzip"))]
    #[test]
    fn gzip_without_its_feature_is_refused_naming_the_setting_and_the_feature() {
        for (from_env, setting) in [(false, "compression"), (true, "LTS_COMPRESSION")] {
            let e = valid()
                .compression(Compression::Gzip)
                .build_checked(from_env)
                .unwrap_err();
            assert_eq!((e.kind(), e.setting()), (ErrorKind::InvalidConfig, Some(setting)));
            assert_eq!(
                e.to_string(),
                format!("{setting}: gzip needs lts-core's `gzip` Cargo feature (lts-log's and lts-tracing's `gzip`), which this build leaves out: turn it on, or choose another compression")
            );
        }
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let c = valid().build().unwrap();
        assert_eq!(c.api, Api::HighAccuracy);
        // gzip, or the best one compiled in (payload.rs tests which).
        assert_eq!(c.compression, Compression::default());
        assert_eq!((c.batch_max_events, c.batch_max_bytes), (8192, 1024 * 1024));
        assert_eq!(c.linger, Duration::from_secs(1));
        assert_eq!(c.overflow, Overflow::DropNewest);
        assert!(!c.tls.danger_accept_invalid_certs);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(5));
        assert_eq!(
            c.report_url(),
            "http://127.0.0.1:8102/v2/0123456789abcdef0123456789abcdef/lts/groups/0a1b2c3d-0000-4000-8000-000000000001/streams/0a1b2c3d-0000-4000-8000-000000000002/tenant/contents/high-accuracy"
        );
    }

    #[test]
    fn a_region_gives_the_public_endpoint() {
        let c = valid().endpoint("").region("eu-de");
        let c = ConfigBuilder { endpoint: None, ..c }.build().unwrap();
        assert_eq!(c.endpoint(), "https://lts-access.eu-de.myhuaweicloud.com:8102");
    }

    #[test]
    fn endpoints_lose_trailing_slashes_and_refuse_paths() {
        let c = valid().endpoint("https://lts.example:8102//").build().unwrap();
        assert_eq!(c.endpoint(), "https://lts.example:8102");
        let e = valid().endpoint("https://lts.example:8102/v2/x").build().unwrap_err();
        assert_eq!(e.setting(), Some("endpoint"));
        assert!(e.to_string().contains("\"/v2/x\""), "{e}");
        let e = valid().endpoint("lts.example:8102").build().unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        let e = valid().endpoint("http://host:99999").build().unwrap_err();
        assert!(e.to_string().contains("99999"), "{e}");
    }

    #[test]
    fn ids_of_the_wrong_shape_are_named() {
        let e = valid().project_id("short").build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert_eq!(
            e.to_string(),
            "project_id: expected 32 letters and digits, got 5 characters: \"short\""
        );
        let e = valid()
            .log_stream_id("0a1b2c3d_0000-4000-8000-000000000002")
            .build()
            .unwrap_err();
        assert_eq!(e.setting(), Some("log_stream_id"));
    }

    #[test]
    fn more_than_one_hundred_labels_is_a_config_error() {
        let labels = (0..101).map(|i| (format!("k{i}"), "v"));
        let e = valid().labels(labels).build().unwrap_err();
        assert_eq!(e.to_string(), "label: 101 labels given; LTS accepts at most 100");
        assert!(valid().labels((0..100).map(|i| (format!("k{i}"), "v"))).build().is_ok());
    }

    #[test]
    fn caps_above_the_maximum_are_clamped() {
        let c = valid()
            .batch_max_events(1_000_000)
            .batch_max_bytes(100 << 20)
            .queue_bytes(200 << 20)
            .build()
            .unwrap();
        assert_eq!(
            (c.batch_max_events, c.batch_max_bytes),
            (MAX_BATCH_EVENTS, MAX_BATCH_BYTES)
        );
    }

    #[test]
    fn setting_names_are_the_variables_only_for_a_config_from_the_environment() {
        let built = valid().build().unwrap();
        let env = Config::from_lookup(|var| {
            let value = match var {
                "LTS_ENDPOINT" => "http://127.0.0.1:8102",
                "LTS_PROJECT_ID" => "0123456789abcdef0123456789abcdef",
                "LTS_LOG_GROUP_ID" => "0a1b2c3d-0000-4000-8000-000000000001",
                "LTS_LOG_STREAM_ID" => "0a1b2c3d-0000-4000-8000-000000000002",
                "LTS_TOKEN" => "tok",
                _ => return None,
            };
            Some(value.to_owned())
        })
        .unwrap();
        assert_eq!(built.setting_name("spool_dir"), "spool_dir");
        assert_eq!(env.setting_name("spool_dir"), "LTS_SPOOL_DIR");
        assert_eq!(env.setting_name("ca_file"), "LTS_CA_FILE");
        // Every variable named is one the environment reader reads.
        let reader = include_str!("env.rs");
        for (builder, var) in SETTING_VARS {
            assert!(reader.contains(&format!("\"{var}\"")), "{var}");
            assert_eq!(env.setting_name(builder), *var);
            assert_eq!(built.setting_name(builder), *builder);
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = valid().token("very-secret-token").build().unwrap();
        let shown = format!("{c:?} {:?} {:?}", c.credentials, valid().token("very-secret-token"));
        assert!(!shown.contains("very-secret"), "{shown}");
        let e = valid().token("bad token\n").build().unwrap_err();
        assert!(!e.to_string().contains("bad token"), "{e}");
    }
}
