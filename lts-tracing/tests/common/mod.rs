//! Shared by the integration tests: a mock LTS, a config pointing at it,
//! and the lines it received, parsed.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lts_core::{Config, ConfigBuilder, Shipper};
use lts_mock::MockLts;
use serde_json::Value;
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::{Context, Layer};

/// A config builder for `mock`, with a short linger so tests are fast.
pub fn config(mock: &MockLts) -> ConfigBuilder {
    Config::builder()
        .endpoint(mock.endpoint())
        .project_id(lts_mock::PROJECT_ID)
        .log_group_id(lts_mock::LOG_GROUP_ID)
        .log_stream_id(lts_mock::LOG_STREAM_ID)
        .token(mock.token())
        .linger(Duration::from_millis(10))
}

/// One event as the mock received it.
#[derive(Debug)]
pub struct Got {
    pub time_ns: u64,
    pub line: String,
    pub json: Value,
}

/// Flushes `shipper` (everything sent so far is delivered once it returns)
/// and returns what the mock received, in time order (as LTS sorts a
/// stream: several requests are out at once, so batches arrive in any order).
pub fn delivered(shipper: &Shipper, mock: &MockLts) -> Vec<Got> {
    shipper
        .flush(Duration::from_secs(10))
        .expect("every record is delivered");
    let mut got = mock.events();
    got.sort_by_key(|e| e.time_ns);
    got.into_iter()
        .map(|e| Got {
            time_ns: e.time_ns,
            json: serde_json::from_str(&e.line).unwrap_or(Value::Null),
            line: e.line,
        })
        .collect()
}

/// The names of the spans of an event, root first.
pub fn span_names(json: &Value) -> Vec<String> {
    json["spans"]
        .as_array()
        .map(|spans| spans.iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// A layer that records the (normalized) target of every event it sees.
#[derive(Clone, Default)]
pub struct Seen(pub Arc<Mutex<Vec<String>>>);

impl Seen {
    pub fn targets(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl<S: Subscriber> Layer<S> for Seen {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let target = match event.normalized_metadata() {
            Some(m) => m.target().to_owned(),
            None => event.metadata().target().to_owned(),
        };
        self.0.lock().unwrap().push(target);
    }
}
