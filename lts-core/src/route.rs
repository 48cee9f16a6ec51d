//! Routes: which log stream a record goes to, by its target and level.
//!
//! A record goes to the first [`Route`] that matches it, else to the
//! default stream (`log_group_id`/`log_stream_id`). The worker asks the
//! [`Router`] once a record, after its line is written; the caller's
//! thread pays nothing for routing.

use crate::error::Error;
use crate::record::Level;

/// A route: records whose target starts with a prefix (and, optionally,
/// whose level is at least a minimum) go to another log stream, with
/// labels of their own added to the common ones.
///
/// The prefix is matched as `RUST_LOG` matches a target: `audit` matches
/// `audit`, `audit::login` (and `auditor`); `*` matches every target.
/// Routes are tried in the order given; the first that matches wins.
///
/// From the environment: `LTS_ROUTES`, entries separated by commas, each
/// `MATCH=DEST`, `MATCH` being `prefix` or `prefix@level` and `DEST`
/// being `stream_id` (in the default group) or `group_id/stream_id`.
///
/// # Example
///
/// ```
/// use lts_core::{Config, Level, Route};
///
/// let config = Config::builder()
///     .endpoint("https://lts-access.eu-de.myhuaweicloud.com:8102")
///     .project_id("0123456789abcdef0123456789abcdef")
///     .log_group_id("0a1b2c3d-0000-4000-8000-000000000001")
///     .log_stream_id("0a1b2c3d-0000-4000-8000-000000000002")
///     .token("token")
///     // Audit records to their own stream, with a label of their own.
///     .route(Route::new("audit", "0a1b2c3d-0000-4000-8000-000000000003").with_label("kind", "audit"))
///     // Every error to a stream in another group.
///     .route(
///         Route::new("*", "0a1b2c3d-0000-4000-8000-000000000005")
///             .with_min_level(Level::Error)
///             .with_log_group_id("0a1b2c3d-0000-4000-8000-000000000004"),
///     )
///     .build()?;
/// assert_eq!(config.routes().len(), 2);
/// # Ok::<(), lts_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    target_prefix: String,
    min_level: Option<Level>,
    log_group_id: Option<String>,
    log_stream_id: String,
    labels: Vec<(String, String)>,
    tenant_project_id: Option<String>,
}

impl Route {
    /// Records whose target starts with `target_prefix` (`*`: every
    /// record) go to the stream `log_stream_id` of the default log group.
    pub fn new(target_prefix: impl Into<String>, log_stream_id: impl Into<String>) -> Route {
        Route {
            target_prefix: target_prefix.into(),
            min_level: None,
            log_group_id: None,
            log_stream_id: log_stream_id.into(),
            labels: Vec::new(),
            tenant_project_id: None,
        }
    }

    /// Matches only records at `level` or above (`Level::Warn`: warnings
    /// and errors).
    pub fn with_min_level(mut self, level: Level) -> Route {
        self.min_level = Some(level);
        self
    }

    /// The stream is in this log group rather than the default one.
    pub fn with_log_group_id(mut self, id: impl Into<String>) -> Route {
        self.log_group_id = Some(id.into());
        self
    }

    /// A label of this route's batches, added to the common ones (and
    /// replacing a common one of the same key).
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Route {
        self.labels.push((key.into(), value.into()));
        self
    }

    /// The `tenant_project_id` sent in this route's bodies, in place of
    /// the common one ([`ConfigBuilder::tenant_project_id`](crate::ConfigBuilder::tenant_project_id)).
    pub fn with_tenant_project_id(mut self, id: impl Into<String>) -> Route {
        self.tenant_project_id = Some(id.into());
        self
    }

    /// The target prefix it matches (`*`: every target).
    pub fn target_prefix(&self) -> &str {
        &self.target_prefix
    }

    /// The lowest level it matches, if it has one.
    pub fn min_level(&self) -> Option<Level> {
        self.min_level
    }

    /// Its log group, when not the default one.
    pub fn log_group_id(&self) -> Option<&str> {
        self.log_group_id.as_deref()
    }

    /// Its log stream.
    pub fn log_stream_id(&self) -> &str {
        &self.log_stream_id
    }

    /// Its own labels, in the order given.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Its own `tenant_project_id`, if it has one.
    pub fn tenant_project_id(&self) -> Option<&str> {
        self.tenant_project_id.as_deref()
    }

    /// Whether a record of this target and level goes this way.
    pub fn matches(&self, target: &str, level: Level) -> bool {
        (self.target_prefix == "*" || target.starts_with(&self.target_prefix))
            && self.min_level.is_none_or(|min| level >= min)
    }

    /// How the route is named in errors and in [`RouteStats`](crate::RouteStats):
    /// `MATCH=DEST` as in `LTS_ROUTES`.
    pub(crate) fn describe(&self) -> String {
        let mut s = self.target_prefix.clone();
        if let Some(level) = self.min_level {
            s.push('@');
            s.push_str(&level.as_str().to_ascii_lowercase());
        }
        s.push('=');
        if let Some(g) = &self.log_group_id {
            s.push_str(g);
            s.push('/');
        }
        s.push_str(&self.log_stream_id);
        s
    }
}

/// Picks a record's route: the index of the first route that matches,
/// counting the default stream as 0 and the routes from 1.
#[derive(Debug, Clone, Default)]
pub(crate) struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub(crate) fn new(routes: &[Route]) -> Router {
        Router {
            routes: routes.to_vec(),
        }
    }

    /// The destination of a record: 0 for the default stream, `i + 1` for
    /// route `i`.
    pub(crate) fn route(&self, target: &str, level: Level) -> usize {
        self.routes
            .iter()
            .position(|r| r.matches(target, level))
            .map_or(0, |i| i + 1)
    }
}

/// Parses `LTS_ROUTES`: `MATCH=DEST` entries separated by commas. An entry
/// that does not parse is an error naming the variable and the entry; the
/// ids are checked with the rest of the configuration.
pub(crate) fn parse_routes(var: &str, value: &str) -> Result<Vec<Route>, Error> {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|entry| parse_entry(entry).map_err(|why| Error::invalid(var, format!("entry {entry:?}: {why}"))))
        .collect()
}

fn parse_entry(entry: &str) -> Result<Route, String> {
    let (matcher, dest) = entry
        .split_once('=')
        .ok_or("expected MATCH=DEST (prefix=stream_id, prefix@level=group_id/stream_id)")?;
    let (prefix, level) = match matcher.trim().split_once('@') {
        Some((p, l)) => (p.trim(), Some(parse_level(l.trim())?)),
        None => (matcher.trim(), None),
    };
    if prefix.is_empty() {
        return Err("the target prefix is empty (`*` matches every target)".into());
    }
    let dest = dest.trim();
    let (group, stream) = match dest.split_once('/') {
        Some((g, s)) => (Some(g.trim()), s.trim()),
        None => (None, dest),
    };
    let mut route = Route::new(prefix, stream);
    route.min_level = level;
    route.log_group_id = group.map(str::to_owned);
    Ok(route)
}

fn parse_level(s: &str) -> Result<Level, String> {
    let levels = [
        ("trace", Level::Trace),
        ("debug", Level::Debug),
        ("info", Level::Info),
        ("warn", Level::Warn),
        ("warning", Level::Warn),
        ("error", Level::Error),
    ];
    levels
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|(_, l)| *l)
        .ok_or_else(|| format!("unknown level {s:?} (expected trace, debug, info, warn or error)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S1: &str = "0a1b2c3d-0000-4000-8000-000000000003";
    const G2: &str = "0a1b2c3d-0000-4000-8000-000000000004";
    const S2: &str = "0a1b2c3d-0000-4000-8000-000000000005";

    #[test]
    fn the_first_matching_route_wins_and_the_rest_go_to_the_default() {
        let router = Router::new(&[
            Route::new("audit", S1),
            Route::new("*", S2).with_min_level(Level::Error),
            Route::new("my_app::payments", S1).with_min_level(Level::Warn),
        ]);
        let cases = [
            ("audit", Level::Trace, 1),
            ("audit::login", Level::Error, 1),
            ("my_app", Level::Error, 2),
            ("my_app::payments", Level::Error, 2),
            ("my_app::payments::card", Level::Warn, 3),
            ("my_app::payments", Level::Info, 0),
            ("other", Level::Warn, 0),
            ("", Level::Info, 0),
        ];
        for (target, level, want) in cases {
            assert_eq!(router.route(target, level), want, "{target} {level}");
        }
        assert_eq!(Router::default().route("audit", Level::Error), 0);
    }

    #[test]
    fn routes_parse_from_the_environment_form() {
        let routes = parse_routes("LTS_ROUTES", &format!(" audit={S1} , *@error={G2}/{S2},x@WARNING={S2}")).unwrap();
        assert_eq!(
            routes,
            vec![
                Route::new("audit", S1),
                Route::new("*", S2).with_min_level(Level::Error).with_log_group_id(G2),
                Route::new("x", S2).with_min_level(Level::Warn),
            ]
        );
        assert_eq!(routes[1].describe(), format!("*@error={G2}/{S2}"));
        assert!(parse_routes("LTS_ROUTES", " , ").unwrap().is_empty());
    }

    #[test]
    fn a_malformed_entry_is_an_error_naming_the_variable_and_the_entry() {
        for (value, says) in [
            ("audit", "entry \"audit\": expected MATCH=DEST"),
            (&format!("@error={S1}") as &str, "the target prefix is empty"),
            (
                &format!("a@loud={S1}"),
                "entry \"a@loud=0a1b2c3d-0000-4000-8000-000000000003\": unknown level \"loud\"",
            ),
        ] {
            let e = parse_routes("LTS_ROUTES", &format!("ok={S1},{value}")).unwrap_err();
            assert_eq!(e.setting(), Some("LTS_ROUTES"), "{value}");
            assert!(e.to_string().contains(says), "{value}: {e}");
        }
    }
}
