//! Nothing the shipper does comes back into the pipeline: with the layer
//! global, `log` bridged and every target enabled at TRACE (ureq and
//! rustls included), exactly the application's events are shipped.
//!
//! One test in its own binary: it installs the global subscriber and logger,
//! which the shipper's thread sees (a thread-local default would not reach
//! it, and the test would prove nothing).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{config, Seen};
use lts_core::{Format, FormatRecord, Record};
use lts_mock::MockLts;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// Formats as JSON, and logs that it did: formatting runs on the shipper's
/// thread, so if that thread's events were shipped, every line would make
/// another one, without end.
struct LoggingFormat;

impl FormatRecord for LoggingFormat {
    fn format(&self, record: &Record, out: &mut String) {
        Format::Json.format(record, out);
        tracing::info!(target: "app::formatter", bytes = out.len(), "formatted a line");
    }
}

#[test]
fn the_shipper_own_logging_never_reaches_lts() {
    tracing_log::LogTracer::init().unwrap();
    let mock = MockLts::start().unwrap();
    let config = config(&mock)
        .format(Format::Custom(Arc::new(LoggingFormat)))
        .build()
        .unwrap();
    let (layer, guard) = lts_tracing::layer(config).unwrap();
    let shipper = layer.shipper().clone();
    let seen = Seen::default();
    tracing_subscriber::registry()
        // Everything at TRACE, the HTTP client's crates named to be sure. The
        // mock's HTTP server (tiny_http) is the test's, not the shipper's: it
        // logs its start-up on its own thread whenever that thread gets to it.
        .with(layer.with_filter(EnvFilter::new(
            "trace,ureq=trace,ureq_proto=trace,rustls=trace,tiny_http=off",
        )))
        .with(seen.clone())
        .init();

    let batches = 5;
    let per_batch = 10;
    for b in 0..batches {
        for i in 0..per_batch {
            tracing::info!(target: "app", b, i, "event");
        }
        // A flush per batch: several HTTP requests, each logged by ureq on
        // the shipper's thread while LTS events are flowing.
        shipper.flush(Duration::from_secs(10)).unwrap();
    }
    guard.shutdown().unwrap();

    let shipped: Vec<String> = mock
        .events()
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.line).unwrap()["target"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(shipped.len(), batches * per_batch, "{shipped:?}");
    assert!(shipped.iter().all(|t| t == "app"), "{shipped:?}");
    assert_eq!(shipper.stats().enqueued, (batches * per_batch) as u64);
    assert!(mock.request_count() >= batches);

    // The exclusions were exercised, and they are LTS's own: the other layer
    // saw the HTTP client's debug output and the formatter's events.
    let seen = seen.targets();
    let formatter_events = seen.iter().filter(|t| *t == "app::formatter").count();
    assert_eq!(formatter_events, batches * per_batch);
    let client_events = seen
        .iter()
        .filter(|t| t.starts_with("ureq") || t.starts_with("rustls"))
        .count();
    assert!(client_events > 0, "ureq logged nothing; the test proves nothing");
}
