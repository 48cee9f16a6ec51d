//! `log` records bridged through tracing-log arrive with their real target,
//! module, file and line, and without tracing-log's `log.*` fields.

mod common;

use std::sync::Once;

use common::{config, delivered};
use lts_mock::MockLts;
use serde_json::json;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

fn bridge_log() {
    static INIT: Once = Once::new();
    INIT.call_once(|| tracing_log::LogTracer::init().expect("no other logger in this test binary"));
}

#[test]
fn log_records_arrive_with_their_real_target_and_location() {
    bridge_log();
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let mut lines = Vec::new();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("legacy_call", id = 5);
        let _e = span.enter();
        lines.push(line!() + 1);
        log::warn!(target: "legacy::db", "pool exhausted after {} tries", 3);
        lines.push(line!() + 1);
        log::info!("plain");
    });
    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 2);
    let j = &got[0].json;
    assert_eq!(j["level"], "WARN");
    assert_eq!(j["target"], "legacy::db");
    assert_eq!(j["module"], module_path!());
    assert_eq!(j["message"], "pool exhausted after 3 tries");
    assert_eq!(j["fields"], json!({}));
    assert_eq!(j["file"], file!());
    assert_eq!(j["line"], lines[0]);
    // The span context applies to bridged records too.
    assert_eq!(j["spans"][0]["name"], "legacy_call");
    let j = &got[1].json;
    assert_eq!(j["target"], module_path!());
    assert!(j.get("module").is_none(), "module equals target");
    assert_eq!(j["line"], lines[1]);
    assert!(!got.iter().any(|g| g.line.contains("log.")), "{:?}", got);
}

#[test]
fn per_layer_filters_see_the_real_target_of_log_records() {
    bridge_log();
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(EnvFilter::new("legacy=info")));
    tracing::subscriber::with_default(subscriber, || {
        log::info!(target: "legacy::db", "kept");
        log::debug!(target: "legacy::db", "too verbose");
        log::error!(target: "other", "other target");
        log::warn!(target: "legacy", "kept too");
    });
    let got = delivered(&shipper, &mock);
    let messages: Vec<_> = got
        .iter()
        .map(|g| g.json["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(messages, vec!["kept", "kept too"]);
}
