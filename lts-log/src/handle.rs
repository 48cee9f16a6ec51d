//! [`FilterHandle`]: changes the logger's directives while the program runs.

use std::sync::Arc;

use log::LevelFilter;
use lts_core::Live;

use crate::error::InitError;
use crate::filter::Filter;

/// Changes the directives of an [`LtsLogger`](crate::LtsLogger) while the
/// program runs, from any thread: lower the level in the middle of an
/// incident, raise it again afterwards, without a restart.
///
/// Got from [`LtsLoggerBuilder::init_with_handle`](crate::LtsLoggerBuilder::init_with_handle)
/// (which also keeps [`log::set_max_level`] in step) or
/// [`LtsLogger::filter_handle`](crate::LtsLogger::filter_handle). Cheap to
/// clone.
///
/// A change is seen by every record logged after [`set`](Self::set)
/// returns, on every thread; a record logged while it runs is filtered by
/// either the old directives or the new ones, never both, never neither.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = lts_core::Config::from_env()?;
/// let (_guard, filter) = lts_log::LtsLogger::builder(config).filter("info").init_with_handle()?;
/// // ... later, from an admin endpoint or a signal handler:
/// filter.set("info,my_app::db=debug")?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct FilterHandle {
    live: Arc<Live<Filter>>,
    /// The logger is the global one: keep `log::set_max_level` in step.
    global: bool,
}

impl FilterHandle {
    pub(crate) fn new(live: Arc<Live<Filter>>, global: bool) -> FilterHandle {
        FilterHandle { live, global }
    }

    /// Replaces the directives (`RUST_LOG` syntax, on top of the default
    /// level `info`, as [`LtsLoggerBuilder::filter`](crate::LtsLoggerBuilder::filter)).
    /// For the global logger, also sets [`log::set_max_level`] to the most
    /// verbose level they allow. Malformed directives are an
    /// [`InitError::Filter`] with origin `"FilterHandle::set"`, and the
    /// directives in force stay.
    pub fn set(&self, directives: &str) -> Result<(), InitError> {
        let transport_debug = self.live.with(Filter::transport_debug);
        let filter = Filter::parse("FilterHandle::set", directives, transport_debug)?;
        let global = self.global;
        self.live.set_then(filter, |f| {
            if global {
                log::set_max_level(f.max_level());
            }
        });
        Ok(())
    }

    /// The directives in force.
    pub fn directives(&self) -> String {
        self.live.with(|f| f.spec().to_owned())
    }

    /// The most verbose level the directives in force allow.
    pub fn max_level(&self) -> LevelFilter {
        self.live.with(Filter::max_level)
    }
}
