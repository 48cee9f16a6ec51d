//! Counts per route ([`RouteStats`]): what each destination stream got.

use std::sync::atomic::{AtomicU64, Ordering};

/// What one route's stream got since the start: one entry of
/// [`Shipper::route_stats`](crate::Shipper::route_stats), the default
/// stream first, then the routes in the order they are tried.
///
/// Records are counted in `routed` when the worker seals the batch they
/// travel in (or gives them up before they reach one), so right after a
/// flush returned `Ok`, `routed == delivered + dropped` for each route.
///
/// # Example
///
/// ```
/// # let mock = lts_mock::MockLts::builder().stream(lts_mock::LOG_GROUP_ID, "0a1b2c3d-0000-4000-8000-00000000000a").build()?;
/// # let config = lts_core::Config::builder()
/// #     .endpoint(mock.endpoint())
/// #     .project_id(lts_mock::PROJECT_ID)
/// #     .log_group_id(lts_mock::LOG_GROUP_ID)
/// #     .log_stream_id(lts_mock::LOG_STREAM_ID)
/// #     .token(mock.token())
/// #     .route(lts_core::Route::new("audit", "0a1b2c3d-0000-4000-8000-00000000000a"))
/// #     .build()?;
/// use std::time::Duration;
/// use lts_core::{Level, Record, Shipper};
///
/// let (shipper, _guard) = Shipper::start(config)?;
/// shipper.send(Record::new(shipper.now_ns(), Level::Info, "audit::login", "alice logged in"))?;
/// shipper.send(Record::new(shipper.now_ns(), Level::Info, "my_app", "hello"))?;
/// shipper.flush(Duration::from_secs(5))?;
/// let routes = shipper.route_stats();
/// assert_eq!(routes[0].route, "default");
/// assert_eq!(routes[1].route, "audit=0a1b2c3d-0000-4000-8000-00000000000a");
/// assert_eq!((routes[0].delivered, routes[1].delivered), (1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RouteStats {
    /// `default`, or the route as `LTS_ROUTES` writes it (`audit=STREAM`,
    /// `*@error=GROUP/STREAM`).
    pub route: String,
    /// The log group its batches go to.
    pub log_group_id: String,
    /// The log stream its batches go to.
    pub log_stream_id: String,
    /// Records that took this route (counted as their batch is sealed).
    pub routed: u64,
    /// Records the service acknowledged.
    pub delivered: u64,
    /// Records given up on: refused, out of tries, outside the time
    /// window, or undelivered at the shutdown.
    pub dropped: u64,
    /// Batches delivered.
    pub batches: u64,
    /// Requests that were retries of an earlier attempt.
    pub retries: u64,
    /// Records that travelled in the route's overflow batch because
    /// [`max_open_batches`](crate::ConfigBuilder::max_open_batches) batches
    /// were open.
    pub label_overflow: u64,
}

/// The counters behind one [`RouteStats`].
#[derive(Debug, Default)]
pub(crate) struct RouteCounters {
    pub(crate) route: String,
    pub(crate) log_group_id: String,
    pub(crate) log_stream_id: String,
    pub(crate) routed: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) label_overflow: AtomicU64,
}

impl RouteCounters {
    pub(crate) fn new(route: String, log_group_id: &str, log_stream_id: &str) -> RouteCounters {
        RouteCounters {
            route,
            log_group_id: log_group_id.to_owned(),
            log_stream_id: log_stream_id.to_owned(),
            ..RouteCounters::default()
        }
    }

    pub(crate) fn snapshot(&self) -> RouteStats {
        let get = |c: &AtomicU64| c.load(Ordering::Acquire);
        RouteStats {
            route: self.route.clone(),
            log_group_id: self.log_group_id.clone(),
            log_stream_id: self.log_stream_id.clone(),
            routed: get(&self.routed),
            delivered: get(&self.delivered),
            dropped: get(&self.dropped),
            batches: get(&self.batches),
            retries: get(&self.retries),
            label_overflow: get(&self.label_overflow),
        }
    }
}
