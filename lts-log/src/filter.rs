//! Which records enter: the `RUST_LOG`-style directives, plus the fixed
//! exclusions of the shipper's own crates and the transport's debug noise.

use log::{LevelFilter, Metadata};

use crate::error::InitError;

/// The level when no directive is given.
const DEFAULT_DIRECTIVES: &str = "info";

/// The directives in force, from the first of these that is set: the
/// builder's, `LTS_LOG`, `RUST_LOG`; else `info`. Returns where they came
/// from and the text. An empty (or blank) variable counts as unset.
pub(crate) fn directives(
    explicit: Option<&str>,
    lookup: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<(&'static str, String), InitError> {
    if let Some(d) = explicit {
        return Ok(("filter", d.to_owned()));
    }
    for var in ["LTS_LOG", "RUST_LOG"] {
        if let Some(v) = lookup(var) {
            let Some(s) = v.to_str() else {
                return Err(InitError::Filter {
                    origin: var,
                    message: "the value is not valid UTF-8".to_owned(),
                });
            };
            if !s.trim().is_empty() {
                return Ok((var, s.to_owned()));
            }
        }
    }
    Ok(("default", DEFAULT_DIRECTIVES.to_owned()))
}

/// The filter of one logger.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    directives: env_filter::Filter,
    /// The directives end in `/text`: the message must be checked too.
    message_filter: bool,
    /// Keep `debug`/`trace` records of the transport's crates.
    transport_debug: bool,
    /// The directives as given.
    spec: String,
}

impl Filter {
    /// Parses `spec` on top of the default level (`info`): a bare level in
    /// `spec` replaces the default.
    pub(crate) fn parse(origin: &'static str, spec: &str, transport_debug: bool) -> Result<Filter, InitError> {
        let mut builder = env_filter::Builder::new();
        builder.filter_level(LevelFilter::Info);
        builder.try_parse(spec).map_err(|e| InitError::Filter {
            origin,
            message: e.to_string(),
        })?;
        Ok(Filter {
            directives: builder.build(),
            message_filter: spec.contains('/'),
            transport_debug,
            spec: spec.to_owned(),
        })
    }

    /// The directives as given.
    pub(crate) fn spec(&self) -> &str {
        &self.spec
    }

    /// Whether the transport's debug records are kept.
    pub(crate) fn transport_debug(&self) -> bool {
        self.transport_debug
    }

    /// The most verbose level any directive allows.
    pub(crate) fn max_level(&self) -> LevelFilter {
        self.directives.filter()
    }

    /// Whether a record with this metadata enters (the shipper-thread check
    /// is the caller's, done before this).
    #[inline]
    pub(crate) fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // The shipper's own crates and the transport's noise: lts-core's
        // one list, shared with lts-tracing.
        if lts_core::is_left_out(
            metadata.target(),
            crate::capture::level(metadata.level()),
            self.transport_debug,
        ) {
            return false;
        }
        self.directives.enabled(metadata)
    }

    /// Whether a record enters, its message included. Formats the message
    /// only when the directives have a message filter.
    #[inline]
    pub(crate) fn matches(&self, record: &log::Record<'_>) -> bool {
        self.enabled(record.metadata()) && (!self.message_filter || self.directives.matches(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn directives_come_from_the_builder_then_lts_log_then_rust_log_then_info() {
        let both = [("LTS_LOG", "debug"), ("RUST_LOG", "trace")];
        assert_eq!(
            directives(Some("warn"), env(&both)).unwrap(),
            ("filter", "warn".to_owned())
        );
        assert_eq!(directives(None, env(&both)).unwrap(), ("LTS_LOG", "debug".to_owned()));
        assert_eq!(
            directives(None, env(&[("LTS_LOG", " "), ("RUST_LOG", "trace")])).unwrap(),
            ("RUST_LOG", "trace".to_owned())
        );
        assert_eq!(directives(None, env(&[])).unwrap(), ("default", "info".to_owned()));
    }

    #[test]
    fn malformed_directives_name_their_origin() {
        let e = Filter::parse("LTS_LOG", "a=b=c", false).unwrap_err();
        match e {
            InitError::Filter { origin, message } => {
                assert_eq!(origin, "LTS_LOG");
                assert!(message.contains("a=b=c"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
