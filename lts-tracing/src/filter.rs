//! [`LiveFilter`]: a per-layer filter whose directives can be changed
//! while the program runs, and its [`FilterHandle`].

use std::fmt;
use std::sync::Arc;

use lts_core::Live;
use tracing_core::subscriber::Interest;
use tracing_core::{LevelFilter, Metadata};
use tracing_subscriber::layer::{Context, Filter};

/// The parsed directives in force.
#[derive(Debug)]
struct Directives {
    filter: env_filter::Filter,
    spec: String,
}

impl Directives {
    fn parse(spec: &str) -> Result<Directives, FilterError> {
        if spec.contains('/') {
            return Err(FilterError(format!(
                "message filters (\"/text\") are not supported by lts-tracing's filter: {spec:?}"
            )));
        }
        let mut builder = env_filter::Builder::new();
        builder.filter_level(log::LevelFilter::Info);
        builder.try_parse(spec).map_err(|e| FilterError(e.to_string()))?;
        Ok(Directives {
            filter: builder.build(),
            spec: spec.to_owned(),
        })
    }

    #[inline]
    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        let level = match *meta.level() {
            tracing_core::Level::ERROR => log::Level::Error,
            tracing_core::Level::WARN => log::Level::Warn,
            tracing_core::Level::INFO => log::Level::Info,
            tracing_core::Level::DEBUG => log::Level::Debug,
            _ => log::Level::Trace,
        };
        self.filter
            .enabled(&log::Metadata::builder().level(level).target(meta.target()).build())
    }

    fn max_level(&self) -> LevelFilter {
        match self.filter.filter() {
            log::LevelFilter::Off => LevelFilter::OFF,
            log::LevelFilter::Error => LevelFilter::ERROR,
            log::LevelFilter::Warn => LevelFilter::WARN,
            log::LevelFilter::Info => LevelFilter::INFO,
            log::LevelFilter::Debug => LevelFilter::DEBUG,
            log::LevelFilter::Trace => LevelFilter::TRACE,
        }
    }
}

/// Malformed filter directives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter directives: {}", self.0)
    }
}

impl std::error::Error for FilterError {}

/// A per-layer filter (`layer.with_filter(filter)`) with `RUST_LOG`-style
/// directives (`warn,my_app=debug,my_app::db=trace`, the syntax of
/// `lts-log` and `env_logger`: target prefixes and levels, on top of the
/// default level `info`) that its [`FilterHandle`] changes while the
/// program runs.
///
/// Unlike an `EnvFilter` inside tracing-subscriber's `reload::Layer`, it
/// is never replaced, only its directives are: nothing about the layer
/// stack changes, so the filters of other layers are untouched and the
/// per-layer filter bookkeeping stays valid (tokio-rs/tracing #1629,
/// #1812). After a change the callsites' cached interest and the global
/// maximum level are recomputed (`tracing_core::callsite::rebuild_interest_cache`).
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (layer, _guard) = lts_tracing::layer(lts_core::Config::from_env()?)?;
/// let (filter, handle) = lts_tracing::LiveFilter::new("info")?;
/// tracing_subscriber::registry().with(layer.with_filter(filter)).init();
/// // ... later, from an admin endpoint or a signal handler:
/// handle.set("info,my_app::db=debug")?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LiveFilter {
    live: Arc<Live<Directives>>,
}

impl LiveFilter {
    /// A filter with `directives` in force, and the handle that changes them.
    pub fn new(directives: &str) -> Result<(LiveFilter, FilterHandle), FilterError> {
        let live = Arc::new(Live::new(Directives::parse(directives)?));
        Ok((LiveFilter { live: live.clone() }, FilterHandle { live }))
    }

    #[inline]
    fn allows(&self, meta: &Metadata<'_>) -> bool {
        self.live.with(|d| d.enabled(meta))
    }
}

impl<S> Filter<S> for LiveFilter {
    #[inline]
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        self.allows(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        // Exact for the directives in force: a change rebuilds the cache.
        if self.allows(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.live.with(Directives::max_level))
    }
}

/// Changes the directives of a [`LiveFilter`], from any thread. Cheap to
/// clone.
///
/// A change is seen by every event after [`set`](Self::set) returns, on
/// every thread; an event emitted while it runs is filtered by either the
/// old directives or the new ones, never both, never neither.
#[derive(Debug, Clone)]
pub struct FilterHandle {
    live: Arc<Live<Directives>>,
}

impl FilterHandle {
    /// Replaces the directives, then recomputes the callsites' interest and
    /// the maximum level. Malformed directives are an error, and the ones in
    /// force stay.
    ///
    /// With a global subscriber (`.init()`) call it from any thread. With
    /// a single scoped one (`tracing::subscriber::with_default`, as in
    /// tests), call it inside that scope: tracing-core then recomputes the
    /// interest through the calling thread's default subscriber.
    pub fn set(&self, directives: &str) -> Result<(), FilterError> {
        self.live.set(Directives::parse(directives)?);
        // Outside the lock: the rebuild asks this filter again.
        tracing_core::callsite::rebuild_interest_cache();
        Ok(())
    }

    /// The directives in force.
    pub fn directives(&self) -> String {
        self.live.with(|d| d.spec.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_directives_are_refused_and_the_old_ones_stay() {
        let (_filter, handle) = LiveFilter::new("warn").unwrap();
        let e = handle.set("a=b=c").unwrap_err();
        assert!(e.to_string().contains("a=b=c"), "{e}");
        let e = handle.set("info/needle").unwrap_err();
        assert!(e.to_string().contains("message filters"), "{e}");
        assert_eq!(handle.directives(), "warn");
        assert!(LiveFilter::new("app=loud").is_err());
    }
}
