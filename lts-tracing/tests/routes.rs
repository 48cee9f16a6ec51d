//! lts-tracing routes by the event's target and level; a label field can
//! come from the event or from a span it is in.

mod common;

use std::time::Duration;

use common::config;
use lts_core::{Level, Route};
use lts_mock::{MockLts, LOG_GROUP_ID, LOG_STREAM_ID};
use tracing_subscriber::prelude::*;

const AUDIT: &str = "0a1b2c3d-0000-4000-8000-0000000000a1";
const ERRORS: &str = "0a1b2c3d-0000-4000-8000-0000000000e1";

fn messages_in(mock: &MockLts, stream: &str) -> Vec<(String, Option<String>)> {
    let mut got: Vec<_> = mock
        .events_in(LOG_GROUP_ID, stream)
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.line).unwrap();
            (
                v["message"].as_str().unwrap().to_owned(),
                e.labels.get("tenant").cloned(),
            )
        })
        .collect();
    got.sort();
    got
}

#[test]
fn events_go_to_their_routes_stream_with_labels_from_event_or_span_fields() {
    let mock = MockLts::builder()
        .stream(LOG_GROUP_ID, AUDIT)
        .stream(LOG_GROUP_ID, ERRORS)
        .build()
        .unwrap();
    let config = config(&mock)
        .route(Route::new("audit", AUDIT))
        .route(Route::new("*", ERRORS).with_min_level(Level::Error))
        .label_field("tenant")
        .linger(Duration::from_secs(60))
        .build()
        .unwrap();
    let (layer, guard) = lts_tracing::layer(config).unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let request = tracing::info_span!("request", tenant = "acme");
        let _in = request.enter();
        tracing::info!(target: "audit::login", "alice logged in");
        tracing::error!(target: "my_app", tenant = "globex", "disk full");
        tracing::warn!(target: "my_app", "slow");
    });
    shipper.flush(Duration::from_secs(10)).unwrap();
    let acme = Some("acme".to_owned());
    assert_eq!(
        messages_in(&mock, AUDIT),
        [("alice logged in".to_owned(), acme.clone())]
    );
    // The event's own field wins over its span's.
    assert_eq!(
        messages_in(&mock, ERRORS),
        [("disk full".to_owned(), Some("globex".to_owned()))]
    );
    assert_eq!(messages_in(&mock, LOG_STREAM_ID), [("slow".to_owned(), acme)]);
    assert_eq!(mock.event_count(), 3);
    drop(guard);
}
