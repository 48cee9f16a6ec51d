//! Destinations: the log streams batches go to, each with its reporting
//! URL and the path AK/SK signs. Index 0 is the default stream, index
//! `i + 1` route `i`'s stream; a batch carries its destination from the
//! open batch to the wire and into the spool.

use std::sync::Arc;

/// One log stream a batch is sent to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Destination {
    /// The route it belongs to (0: the default stream), for the per-route
    /// counts.
    pub(crate) route: usize,
    pub(crate) log_group_id: String,
    pub(crate) log_stream_id: String,
    /// The full reporting URL.
    pub(crate) url: String,
    /// The URL's path (signed with AK/SK).
    pub(crate) path: String,
}

/// Every configured destination, by route index, and how to make one for
/// a stream found in the spool that no route names any more.
#[derive(Debug, Clone)]
pub(crate) struct Destinations {
    list: Vec<Arc<Destination>>,
    endpoint: String,
    project_id: String,
    /// The end of every reporting path, after the stream id (the API's).
    suffix: &'static str,
}

impl Destinations {
    /// The destinations of one project: `default` (group, stream) at
    /// index 0, then each route's.
    pub(crate) fn new<'a>(
        endpoint: &str,
        project_id: &str,
        suffix: &'static str,
        default: (&'a str, &'a str),
        routes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Destinations {
        let mut d = Destinations {
            list: Vec::new(),
            endpoint: endpoint.to_owned(),
            project_id: project_id.to_owned(),
            suffix,
        };
        for (route, (group, stream)) in std::iter::once(default).chain(routes).enumerate() {
            let dest = d.make(route, group, stream);
            d.list.push(Arc::new(dest));
        }
        d
    }

    fn make(&self, route: usize, group: &str, stream: &str) -> Destination {
        let path = report_path(&self.project_id, group, stream, self.suffix);
        Destination {
            route,
            log_group_id: group.to_owned(),
            log_stream_id: stream.to_owned(),
            url: format!("{}{path}", self.endpoint),
            path,
        }
    }

    /// One destination, the default one, with empty ids (for the unit
    /// tests of the stages after it).
    #[cfg(test)]
    pub(crate) fn single() -> Destinations {
        Destinations {
            list: vec![Arc::default()],
            endpoint: String::new(),
            project_id: String::new(),
            suffix: "",
        }
    }

    /// The destination of route index `route` (0: the default stream).
    pub(crate) fn get(&self, route: usize) -> &Arc<Destination> {
        self.list.get(route).unwrap_or(&self.list[0])
    }

    /// The destination of a spooled batch: the configured one for its
    /// stream, or, for a stream no route names any more, that stream
    /// still (counted with the default route).
    pub(crate) fn find(&self, group: &str, stream: &str) -> Arc<Destination> {
        match self
            .list
            .iter()
            .find(|d| d.log_group_id == group && d.log_stream_id == stream)
        {
            Some(d) => d.clone(),
            None => Arc::new(self.make(0, group, stream)),
        }
    }
}

/// `/v2/{project}/lts/groups/{group}/streams/{stream}` and the API's
/// `suffix` (`/tenant/contents/high-accuracy`).
pub(crate) fn report_path(project_id: &str, group: &str, stream: &str, suffix: &str) -> String {
    format!("/v2/{project_id}/lts/groups/{group}/streams/{stream}{suffix}")
}
