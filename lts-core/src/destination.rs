//! Destinations: the log streams batches go to, each with its reporting
//! URL and the path AK/SK signs. Index 0 is the default stream, index
//! `i + 1` route `i`'s stream; a batch carries its destination from the
//! open batch to the wire and into the spool.

use std::sync::Arc;

use crate::config::Config;
use crate::encode::Api;

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
    api: Api,
}

impl Destinations {
    pub(crate) fn new(config: &Config) -> Destinations {
        let mut d = Destinations {
            list: Vec::new(),
            endpoint: config.endpoint.clone(),
            project_id: config.project_id.clone(),
            api: config.api,
        };
        let default = d.make(0, &config.log_group_id, &config.log_stream_id);
        d.list.push(Arc::new(default));
        for (i, r) in config.routes.iter().enumerate() {
            let group = r.log_group_id().unwrap_or(&config.log_group_id);
            let dest = d.make(i + 1, group, r.log_stream_id());
            d.list.push(Arc::new(dest));
        }
        d
    }

    fn make(&self, route: usize, group: &str, stream: &str) -> Destination {
        let path = report_path(&self.project_id, group, stream, self.api);
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
            api: Api::default(),
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

/// `/v2/{project}/lts/groups/{group}/streams/{stream}/tenant/contents[/high-accuracy]`.
pub(crate) fn report_path(project_id: &str, group: &str, stream: &str, api: Api) -> String {
    let suffix = match api {
        Api::HighAccuracy => "/high-accuracy",
        Api::Standard => "",
    };
    format!("/v2/{project_id}/lts/groups/{group}/streams/{stream}/tenant/contents{suffix}")
}
