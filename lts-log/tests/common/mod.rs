//! Shared by the test binaries: a config pointing at an lts-mock, and the
//! received lines parsed as JSON.
#![allow(dead_code)]

use std::time::Duration;

use lts_core::{Config, ConfigBuilder};
use lts_mock::MockLts;
use serde_json::Value;

/// A config for `mock`, with a short linger so tests are fast.
pub fn config_for(mock: &MockLts) -> ConfigBuilder {
    Config::builder()
        .endpoint(mock.endpoint())
        .project_id(lts_mock::PROJECT_ID)
        .log_group_id(lts_mock::LOG_GROUP_ID)
        .log_stream_id(lts_mock::LOG_STREAM_ID)
        .token(mock.token())
        .linger(Duration::from_millis(10))
}

/// One event the mock received: its time and its line, parsed.
#[derive(Debug, Clone)]
pub struct Event {
    pub time_ns: u64,
    pub json: Value,
}

impl Event {
    pub fn message(&self) -> &str {
        self.json["message"].as_str().expect("a message")
    }
}

/// Every event the mock received, in time order (as LTS sorts a stream:
/// several requests are out at once, so batches arrive in any order), each
/// line parsed as JSON.
pub fn events(mock: &MockLts) -> Vec<Event> {
    let mut got = mock.events();
    got.sort_by_key(|e| e.time_ns);
    got.into_iter()
        .map(|e| Event {
            time_ns: e.time_ns,
            json: serde_json::from_str(&e.line).unwrap_or_else(|err| panic!("not JSON ({err}): {}", e.line)),
        })
        .collect()
}

/// The longest any flush in the tests may take; they take milliseconds.
pub const FLUSH: Duration = Duration::from_secs(10);
