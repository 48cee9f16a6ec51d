//! lts-log routes by the record's target and level, and a key-value can
//! name the batch's label.

mod common;

use common::{config_for, FLUSH};
use log::LevelFilter;
use lts_core::{Level, Route};
use lts_log::LtsLogger;
use lts_mock::{MockLts, LOG_GROUP_ID, LOG_STREAM_ID};

const AUDIT: &str = "0a1b2c3d-0000-4000-8000-0000000000a1";
const ERRORS: &str = "0a1b2c3d-0000-4000-8000-0000000000e1";

fn messages_in(mock: &MockLts, stream: &str) -> Vec<(String, Option<String>)> {
    mock.events_in(LOG_GROUP_ID, stream)
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.line).unwrap();
            (
                v["message"].as_str().unwrap().to_owned(),
                e.labels.get("tenant").cloned(),
            )
        })
        .collect()
}

#[test]
fn records_go_to_their_routes_stream_by_target_and_level_with_labels_from_key_values() {
    let mock = MockLts::builder()
        .stream(LOG_GROUP_ID, AUDIT)
        .stream(LOG_GROUP_ID, ERRORS)
        .build()
        .unwrap();
    log::set_max_level(LevelFilter::Trace);
    let config = config_for(&mock)
        .route(Route::new("audit", AUDIT))
        .route(Route::new("*", ERRORS).with_min_level(Level::Error))
        .label_field("tenant")
        .linger(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    let (l, guard) = LtsLogger::builder(config).filter("trace").build().unwrap();
    log::info!(logger: &l, target: "audit::login", tenant = "acme"; "alice logged in");
    log::error!(logger: &l, target: "my_app", tenant = "globex"; "disk full");
    log::warn!(logger: &l, target: "my_app", "slow");
    l.shipper().flush(FLUSH).unwrap();
    assert_eq!(
        messages_in(&mock, AUDIT),
        [("alice logged in".to_owned(), Some("acme".to_owned()))]
    );
    assert_eq!(
        messages_in(&mock, ERRORS),
        [("disk full".to_owned(), Some("globex".to_owned()))]
    );
    assert_eq!(messages_in(&mock, LOG_STREAM_ID), [("slow".to_owned(), None)]);
    assert_eq!(mock.event_count(), 3);
    let routed: Vec<u64> = l.shipper().route_stats().iter().map(|r| r.delivered).collect();
    assert_eq!(routed, [1, 1, 1]);
    drop(guard);
}
