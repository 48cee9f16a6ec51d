//! Reading a [`ConfigBuilder`] from `LTS_*` environment variables.
//!
//! Each variable is checked as it is read, so an error names the variable;
//! [`ConfigBuilder::build`] then checks how the values fit together.

use std::time::Duration;

use crate::clock::ClockMode;
use crate::config::parse::{bool_var, labels_var, overflow_var, u64_var};
use crate::config::{Concurrency, Config, ConfigBuilder, RetryPolicy};
use crate::encode::Api;
use crate::error::Error;
use crate::format::Format;
use crate::payload::Compression;
use crate::proxy::Proxy;
use crate::tls::TlsRoots;

impl Config {
    /// Reads the configuration from `LTS_*` environment variables (see the
    /// table on [`Config`]).
    ///
    /// A missing required variable or a malformed value is an error naming
    /// the variable and what was expected.
    pub fn from_env() -> Result<Config, Error> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], reading variables through `lookup`
    /// (for tests and for configuration kept elsewhere).
    ///
    /// # Example
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use lts_core::Config;
    ///
    /// let vars = HashMap::from([
    ///     ("LTS_REGION", "eu-de"),
    ///     ("LTS_PROJECT_ID", "0123456789abcdef0123456789abcdef"),
    ///     ("LTS_LOG_GROUP_ID", "0a1b2c3d-0000-4000-8000-000000000001"),
    ///     ("LTS_LOG_STREAM_ID", "0a1b2c3d-0000-4000-8000-000000000002"),
    ///     ("LTS_TOKEN", "my-iam-token"),
    ///     ("LTS_LINGER_MS", "soon"),
    /// ]);
    /// let err = Config::from_lookup(|name| vars.get(name).map(|v| v.to_string())).unwrap_err();
    /// assert_eq!(err.setting(), Some("LTS_LINGER_MS"));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        read(&lookup)?.build_checked(true)
    }
}

fn usize_var(var: &str, v: &str) -> Result<usize, Error> {
    usize::try_from(u64_var(var, v)?).map_err(|_| Error::invalid(var, format!("{v:?} is too large")))
}

fn ms_var(var: &str, v: &str) -> Result<Duration, Error> {
    Ok(Duration::from_millis(u64_var(var, v)?))
}

fn choice<T: Copy>(var: &str, v: &str, options: &[(&str, T)]) -> Result<T, Error> {
    let v = v.trim();
    options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(v))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<_> = options.iter().map(|(n, _)| *n).collect();
            Error::invalid(var, format!("expected one of {}, got {v:?}", names.join(", ")))
        })
}

/// Reads every `LTS_*` variable that is set into a builder.
pub(crate) fn read(lookup: &dyn Fn(&str) -> Option<String>) -> Result<ConfigBuilder, Error> {
    // An empty variable counts as unset, as shells make that easy by mistake.
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let mut b = ConfigBuilder::default();
    if let Some(v) = get("LTS_ENDPOINT") {
        b = b.endpoint(v);
    }
    if let Some(v) = get("LTS_REGION") {
        b = b.region(v.trim());
    }
    if let Some(v) = get("LTS_PROJECT_ID") {
        b = b.project_id(v.trim());
    }
    if let Some(v) = get("LTS_LOG_GROUP_ID") {
        b = b.log_group_id(v.trim());
    }
    if let Some(v) = get("LTS_LOG_STREAM_ID") {
        b = b.log_stream_id(v.trim());
    }
    if let Some(v) = get("LTS_TOKEN") {
        b = b.token(v.trim());
    }
    let (user, password, domain) = (get("LTS_IAM_USER"), get("LTS_IAM_PASSWORD"), get("LTS_IAM_DOMAIN"));
    if user.is_some() || password.is_some() || domain.is_some() {
        let need = |v: Option<String>, var: &str| {
            v.ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::MissingConfig,
                    Some(var),
                    "required with IAM credentials (LTS_IAM_USER, LTS_IAM_PASSWORD, LTS_IAM_DOMAIN)",
                )
            })
        };
        let user = need(user, "LTS_IAM_USER")?;
        let password = need(password, "LTS_IAM_PASSWORD")?;
        let domain = need(domain, "LTS_IAM_DOMAIN")?;
        b = b.iam(user.trim(), password, domain.trim());
    }
    if let Some(v) = get("LTS_IAM_ENDPOINT") {
        b = b.iam_endpoint(v.trim());
    }
    match (get("LTS_ACCESS_KEY"), get("LTS_SECRET_KEY")) {
        (Some(ak), Some(sk)) => b = b.access_key(ak.trim(), sk),
        (None, None) => {}
        (ak, _) => {
            let missing = if ak.is_none() {
                "LTS_ACCESS_KEY"
            } else {
                "LTS_SECRET_KEY"
            };
            return Err(Error::new(
                crate::ErrorKind::MissingConfig,
                Some(missing),
                "LTS_ACCESS_KEY and LTS_SECRET_KEY go together",
            ));
        }
    }
    if let Some(v) = get("LTS_LABELS") {
        b = b.labels(labels_var("LTS_LABELS", &v)?);
    }
    if let Some(v) = get("LTS_ROUTES") {
        b = b.routes(crate::route::parse_routes("LTS_ROUTES", &v)?);
    }
    if let Some(v) = get("LTS_LABEL_FIELDS") {
        for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            b = b.label_field(name);
        }
    }
    if let Some(v) = get("LTS_TENANT_PROJECT_ID") {
        b = b.tenant_project_id(v.trim());
    }
    if let Some(v) = get("LTS_MAX_OPEN_BATCHES") {
        b = b.max_open_batches(usize_var("LTS_MAX_OPEN_BATCHES", &v)?);
    }
    if let Some(v) = get("LTS_API") {
        b = b.api(choice(
            "LTS_API",
            &v,
            &[("high-accuracy", Api::HighAccuracy), ("standard", Api::Standard)],
        )?);
    }
    if let Some(v) = get("LTS_COMPRESSION") {
        b = b.compression(choice(
            "LTS_COMPRESSION",
            &v,
            &[
                ("gzip", Compression::Gzip),
                ("snappy", Compression::Snappy),
                ("none", Compression::None),
            ],
        )?);
    }
    if let Some(v) = get("LTS_GZIP_LEVEL") {
        b = b.gzip_level(u32::try_from(u64_var("LTS_GZIP_LEVEL", &v)?).unwrap_or(u32::MAX));
    }
    if let Some(v) = get("LTS_FORMAT") {
        b = b.format(match choice("LTS_FORMAT", &v, &[("json", true), ("text", false)])? {
            true => Format::Json,
            false => Format::Text,
        });
    }
    if let Some(v) = get("LTS_CLOCK") {
        b = b.clock(choice(
            "LTS_CLOCK",
            &v,
            &[("strict", ClockMode::StrictlyIncreasing), ("wall", ClockMode::Wall)],
        )?);
    }
    if let Some(v) = get("LTS_CA_FILE") {
        b = b.ca_file(v.trim());
    }
    if let Some(v) = get("LTS_INSECURE_SKIP_VERIFY") {
        b = b.danger_accept_invalid_certs(bool_var("LTS_INSECURE_SKIP_VERIFY", &v)?);
    }
    if let Some(v) = get("LTS_TLS_ROOTS") {
        b = b.tls_roots(choice(
            "LTS_TLS_ROOTS",
            &v,
            &[("bundled", TlsRoots::Bundled), ("system", TlsRoots::System)],
        )?);
    }
    match (get("LTS_CLIENT_CERT_FILE"), get("LTS_CLIENT_KEY_FILE")) {
        (Some(cert), Some(key)) => b = b.client_cert(cert.trim(), key.trim()),
        (None, None) => {}
        (cert, _) => {
            let (missing, set) = if cert.is_none() {
                ("LTS_CLIENT_CERT_FILE", "LTS_CLIENT_KEY_FILE")
            } else {
                ("LTS_CLIENT_KEY_FILE", "LTS_CLIENT_CERT_FILE")
            };
            return Err(Error::new(
                crate::ErrorKind::MissingConfig,
                Some(missing),
                format!("required with {set}: a client certificate needs both files"),
            ));
        }
    }
    if let Some(v) = get("LTS_PROXY") {
        b = b.proxy(match v.trim() {
            none if none.eq_ignore_ascii_case("none") => Proxy::None,
            url => Proxy::url(url),
        });
    }
    if let Some(v) = get("LTS_OVERFLOW") {
        b = b.overflow(overflow_var("LTS_OVERFLOW", &v)?);
    }
    if let Some(v) = get("LTS_QUEUE_BYTES") {
        b = b.queue_bytes(usize_var("LTS_QUEUE_BYTES", &v)?);
    }
    if let Some(v) = get("LTS_BATCH_MAX_EVENTS") {
        b = b.batch_max_events(usize_var("LTS_BATCH_MAX_EVENTS", &v)?);
    }
    if let Some(v) = get("LTS_BATCH_MAX_BYTES") {
        b = b.batch_max_bytes(usize_var("LTS_BATCH_MAX_BYTES", &v)?);
    }
    if let Some(v) = get("LTS_MAX_LINE_BYTES") {
        b = b.max_line_bytes(usize_var("LTS_MAX_LINE_BYTES", &v)?);
    }
    if let Some(v) = get("LTS_LINGER_MS") {
        b = b.linger(ms_var("LTS_LINGER_MS", &v)?);
    }
    if let Some(v) = get("LTS_TIMEOUT_MS") {
        b = b.request_timeout(ms_var("LTS_TIMEOUT_MS", &v)?);
    }
    if let Some(v) = get("LTS_MAX_IN_FLIGHT") {
        b = b.max_in_flight(usize_var("LTS_MAX_IN_FLIGHT", &v)?);
    }
    if let Some(v) = get("LTS_CONCURRENCY") {
        b = b.concurrency(choice(
            "LTS_CONCURRENCY",
            &v,
            &[("adaptive", Concurrency::Adaptive), ("fixed", Concurrency::Fixed)],
        )?);
    }
    if let Some(v) = get("LTS_SHUTDOWN_TIMEOUT_MS") {
        b = b.shutdown_timeout(ms_var("LTS_SHUTDOWN_TIMEOUT_MS", &v)?);
    }
    if let Some(v) = get("LTS_SPOOL_DIR") {
        b = b.spool_dir(v.trim());
    }
    if let Some(v) = get("LTS_SPOOL_MAX_BYTES") {
        b = b.spool_max_bytes(u64_var("LTS_SPOOL_MAX_BYTES", &v)?);
    }
    if let Some(v) = get(crate::storm::RATE_LIMIT_VAR) {
        b = b.rate_limit(crate::storm::rate_limit_var(crate::storm::RATE_LIMIT_VAR, &v)?);
    }
    let mut retry = RetryPolicy::default();
    if let Some(v) = get("LTS_RETRY_TRIES") {
        retry.max_tries = u32::try_from(u64_var("LTS_RETRY_TRIES", &v)?).unwrap_or(u32::MAX);
    }
    if let Some(v) = get("LTS_RETRY_BASE_MS") {
        retry.base = ms_var("LTS_RETRY_BASE_MS", &v)?;
    }
    if let Some(v) = get("LTS_RETRY_MAX_MS") {
        retry.max = ms_var("LTS_RETRY_MAX_MS", &v)?;
    }
    Ok(b.retry(retry))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::{Config, Overflow};
    use crate::error::ErrorKind;

    fn env(pairs: &[(&str, &str)]) -> Result<Config, crate::Error> {
        let mut vars: HashMap<String, String> = [
            ("LTS_ENDPOINT", "http://127.0.0.1:8102/"),
            ("LTS_PROJECT_ID", "0123456789abcdef0123456789abcdef"),
            ("LTS_LOG_GROUP_ID", "0a1b2c3d-0000-4000-8000-000000000001"),
            ("LTS_LOG_STREAM_ID", "0a1b2c3d-0000-4000-8000-000000000002"),
            ("LTS_TOKEN", "tok"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            if v.is_empty() {
                vars.remove(*k);
            } else {
                vars.insert(k.to_string(), v.to_string());
            }
        }
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn every_variable_is_read() {
        let c = env(&[
            ("LTS_LABELS", "app=web, env=prod"),
            ("LTS_API", "standard"),
            ("LTS_COMPRESSION", "none"),
            ("LTS_OVERFLOW", "block:250"),
            ("LTS_QUEUE_BYTES", "10485760"),
            ("LTS_BATCH_MAX_EVENTS", "100"),
            ("LTS_BATCH_MAX_BYTES", "65536"),
            ("LTS_LINGER_MS", "20"),
            ("LTS_TIMEOUT_MS", "3000"),
            ("LTS_INSECURE_SKIP_VERIFY", "true"),
            ("LTS_RETRY_TRIES", "3"),
            ("LTS_RETRY_BASE_MS", "5"),
            ("LTS_RETRY_MAX_MS", "50"),
            ("LTS_FORMAT", "text"),
            ("LTS_CLOCK", "wall"),
            ("LTS_SHUTDOWN_TIMEOUT_MS", "1500"),
            ("LTS_GZIP_LEVEL", "6"),
            ("LTS_MAX_LINE_BYTES", "4096"),
            ("LTS_RATE_LIMIT", "200/s"),
            ("LTS_ROUTES", "audit=0a1b2c3d-0000-4000-8000-000000000003, *@warn=0a1b2c3d-0000-4000-8000-000000000004/0a1b2c3d-0000-4000-8000-000000000005"),
            ("LTS_LABEL_FIELDS", "tenant, region"),
            ("LTS_TENANT_PROJECT_ID", "fedcba9876543210fedcba9876543210"),
            ("LTS_MAX_OPEN_BATCHES", "50"),
        ])
        .unwrap();
        assert_eq!(
            c.routes,
            vec![
                crate::Route::new("audit", "0a1b2c3d-0000-4000-8000-000000000003"),
                crate::Route::new("*", "0a1b2c3d-0000-4000-8000-000000000005")
                    .with_min_level(crate::Level::Warn)
                    .with_log_group_id("0a1b2c3d-0000-4000-8000-000000000004"),
            ]
        );
        assert_eq!(c.label_fields, ["tenant", "region"]);
        assert_eq!(c.tenant_project_id.as_deref(), Some("fedcba9876543210fedcba9876543210"));
        assert_eq!(c.max_open_batches, 50);
        assert_eq!(c.rate_limit, crate::RateLimit::per_second(200));
        assert_eq!(c.endpoint, "http://127.0.0.1:8102");
        assert_eq!(c.labels.len(), 2);
        assert_eq!(c.labels["env"], "prod");
        assert_eq!(c.api, crate::Api::Standard);
        assert_eq!(c.compression, crate::Compression::None);
        assert_eq!(
            c.overflow,
            Overflow::Block {
                max: std::time::Duration::from_millis(250)
            }
        );
        assert_eq!(
            (c.queue_bytes, c.batch_max_events, c.batch_max_bytes),
            (10485760, 100, 65536)
        );
        assert_eq!(c.linger.as_millis(), 20);
        assert_eq!(c.request_timeout.as_millis(), 3000);
        assert!(c.tls.danger_accept_invalid_certs);
        assert_eq!(
            (c.retry.max_tries, c.retry.base.as_millis(), c.retry.max.as_millis()),
            (3, 5, 50)
        );
        assert!(matches!(c.format, crate::Format::Text));
        assert_eq!(c.clock, crate::ClockMode::Wall);
        assert_eq!(c.shutdown_timeout.as_millis(), 1500);
        assert_eq!((c.gzip_level, c.max_line_bytes), (6, 4096));
    }

    #[test]
    fn a_missing_variable_is_named() {
        let e = env(&[("LTS_TOKEN", "")]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingConfig);
        assert_eq!(
            e.to_string(),
            "LTS_TOKEN: required, not set (or set LTS_IAM_USER, LTS_IAM_PASSWORD and LTS_IAM_DOMAIN, or LTS_ACCESS_KEY and LTS_SECRET_KEY)"
        );
        let e = env(&[("LTS_ENDPOINT", "")]).unwrap_err();
        assert!(e.to_string().contains("LTS_REGION"), "{e}");
    }

    #[test]
    fn each_compression_is_named_by_its_content_encoding() {
        for (name, want, compiled) in [
            ("gzip", crate::Compression::Gzip, cfg!(feature = "gzip")),
            ("snappy", crate::Compression::Snappy, cfg!(feature = "snappy")),
            ("none", crate::Compression::None, true),
        ] {
            match env(&[("LTS_COMPRESSION", name)]) {
                Ok(c) if compiled => assert_eq!(c.compression, want),
                // Without its Cargo feature: refused, naming the variable.
                Err(e) if !compiled => assert_eq!(e.setting(), Some("LTS_COMPRESSION"), "{e}"),
                other => panic!("{name}: {:?}", other.map(|c| c.compression)),
            }
        }
    }

    #[test]
    fn a_malformed_variable_is_named_with_what_was_expected() {
        let cases = [
            ("LTS_QUEUE_BYTES", "lots", "LTS_QUEUE_BYTES: expected a whole number, got \"lots\""),
            ("LTS_API", "fast", "LTS_API: expected one of high-accuracy, standard, got \"fast\""),
            ("LTS_COMPRESSION", "zstd", "LTS_COMPRESSION: expected one of gzip, snappy, none, got \"zstd\""),
            ("LTS_OVERFLOW", "block:x", "LTS_OVERFLOW: expected drop, block or block:<ms>, got \"block:x\""),
            ("LTS_LABELS", "a=1,b", "LTS_LABELS: expected key=value pairs separated by commas, got \"b\""),
            ("LTS_INSECURE_SKIP_VERIFY", "maybe", "LTS_INSECURE_SKIP_VERIFY: expected true or false, got \"maybe\""),
            ("LTS_LOG_GROUP_ID", "abc", "LTS_LOG_GROUP_ID: expected 36 characters in UUID form (8-4-4-4-12 hex digits), got 3 characters: \"abc\""),
            ("LTS_ENDPOINT", "https://h/x", "LTS_ENDPOINT: expected only scheme://host[:port], without a path or query; remove \"/x\""),
            ("LTS_BATCH_MAX_EVENTS", "0", "LTS_BATCH_MAX_EVENTS: expected at least 1"),
            ("LTS_RATE_LIMIT", "200/d", "LTS_RATE_LIMIT: expected N/s, N/m or N/h with N at least 1 (like 200/s), got \"200/d\""),
            ("LTS_CA_FILE", "/nonexistent/ca.pem", "LTS_CA_FILE: cannot use CA file /nonexistent/ca.pem"),
            ("LTS_ROUTES", "audit", "LTS_ROUTES: entry \"audit\": expected MATCH=DEST"),
            ("LTS_ROUTES", "audit=0a1b2c3d-0000-4000-8000-00000000000", "LTS_ROUTES: route 1 (\"audit=0a1b2c3d-0000-4000-8000-00000000000\"): log stream id: expected 36 characters"),
            ("LTS_ROUTES", "*@error=nogroup/0a1b2c3d-0000-4000-8000-000000000003", "LTS_ROUTES: route 1 (\"*@error=nogroup/0a1b2c3d-0000-4000-8000-000000000003\"): log group id: expected 36"),
            ("LTS_LABEL_FIELDS", "tenant,tenant", "LTS_LABEL_FIELDS: the label field \"tenant\" is named twice"),
            ("LTS_TENANT_PROJECT_ID", "abc", "LTS_TENANT_PROJECT_ID: expected 32 letters and digits"),
            ("LTS_MAX_OPEN_BATCHES", "0", "LTS_MAX_OPEN_BATCHES: expected at least 1"),
        ];
        for (var, value, expected) in cases {
            let e = env(&[(var, value)]).unwrap_err();
            assert_eq!(e.setting(), Some(var));
            assert!(e.to_string().starts_with(expected), "{var}: {e}");
        }
    }

    #[test]
    fn iam_credentials_are_read_and_their_endpoint_derived_from_the_region() {
        let c = env(&[
            ("LTS_TOKEN", ""),
            ("LTS_REGION", "eu-de"),
            ("LTS_IAM_USER", "svc"),
            ("LTS_IAM_PASSWORD", "pw-secret"),
            ("LTS_IAM_DOMAIN", "acct"),
        ])
        .unwrap();
        match &c.credentials {
            crate::Credentials::Iam {
                endpoint, user, domain, ..
            } => {
                assert_eq!(endpoint.as_deref(), Some("https://iam.eu-de.myhuaweicloud.com"));
                assert_eq!((user.as_str(), domain.as_str()), ("svc", "acct"));
            }
            other => panic!("{other:?}"),
        }
        let c = env(&[
            ("LTS_TOKEN", ""),
            ("LTS_IAM_USER", "svc"),
            ("LTS_IAM_PASSWORD", "pw"),
            ("LTS_IAM_DOMAIN", "acct"),
            ("LTS_IAM_ENDPOINT", "https://iam.eu-de.otc.t-systems.com/"),
        ])
        .unwrap();
        assert!(format!("{:?}", c.credentials).contains("https://iam.eu-de.otc.t-systems.com\""));
        let e = env(&[
            ("LTS_TOKEN", ""),
            ("LTS_IAM_USER", "svc"),
            ("LTS_IAM_PASSWORD", "pw"),
            ("LTS_IAM_DOMAIN", "a"),
        ])
        .unwrap_err();
        assert_eq!(e.setting(), Some("LTS_IAM_ENDPOINT"));
        let e = env(&[("LTS_TOKEN", ""), ("LTS_IAM_USER", "svc")]).unwrap_err();
        assert_eq!(e.setting(), Some("LTS_IAM_PASSWORD"));
    }

    #[test]
    fn two_kinds_of_credentials_clash_and_the_error_names_both() {
        let e = env(&[("LTS_ACCESS_KEY", "AK"), ("LTS_SECRET_KEY", "SK-secret")]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConflictingConfig);
        assert!(e.to_string().contains("got token and access key"), "{e}");
        assert!(!e.to_string().contains("SK-secret"));
        let e = env(&[("LTS_TOKEN", ""), ("LTS_ACCESS_KEY", "AK")]).unwrap_err();
        assert_eq!(e.setting(), Some("LTS_SECRET_KEY"));
        let c = env(&[("LTS_TOKEN", ""), ("LTS_ACCESS_KEY", "AK"), ("LTS_SECRET_KEY", "SK")]).unwrap();
        assert!(matches!(c.credentials, crate::Credentials::AkSk { .. }));
    }

    #[test]
    fn a_region_is_used_when_no_endpoint_is_set() {
        let c = env(&[("LTS_ENDPOINT", ""), ("LTS_REGION", "cn-north-4")]).unwrap();
        assert_eq!(c.endpoint, "https://lts-access.cn-north-4.myhuaweicloud.com:8102");
    }
}
