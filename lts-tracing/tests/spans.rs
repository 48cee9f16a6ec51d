//! The span context: every entered span, root first, with its id, name and
//! fields, including values recorded later.

mod common;

use common::{config, delivered, span_names};
use lts_mock::MockLts;
use serde_json::json;
use tracing::field::Empty;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

#[test]
fn events_carry_all_their_spans_root_first_with_ids_and_fields() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let mut ids = Vec::new();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let request = tracing::info_span!("request", method = "GET", path = "/items", user = Empty);
        let _r = request.enter();
        tracing::info!("in request");
        let db = tracing::debug_span!("db", table = "items", rows = Empty, attempt = 1u64);
        let _d = db.enter();
        request.record("user", 42);
        db.record("rows", 3i64);
        db.record("attempt", 2u64);
        let query = tracing::trace_span!("query", sql = ?"SELECT 1");
        let _q = query.enter();
        tracing::info!("in query");
        ids = [&request, &db, &query]
            .iter()
            .map(|s| s.id().unwrap().into_u64())
            .collect();
    });
    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].json["spans"],
        json!([{"name": "request", "id": ids[0], "fields": {"method": "GET", "path": "/items"}}])
    );
    assert_eq!(
        got[1].json["spans"],
        json!([
            {"name": "request", "id": ids[0], "fields": {"method": "GET", "path": "/items", "user": 42}},
            {"name": "db", "id": ids[1], "fields": {"table": "items", "attempt": 2, "rows": 3}},
            {"name": "query", "id": ids[2], "fields": {"sql": "\"SELECT 1\""}},
        ])
    );
    // Span fields are not copied into the event's fields by default.
    assert_eq!(got[1].json["fields"], json!({}));
}

#[test]
fn a_value_recorded_later_does_not_change_events_already_sent() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("job", state = "queued");
        let _e = span.enter();
        tracing::info!("first");
        span.record("state", "running");
        tracing::info!("second");
        span.record("state", "done");
        tracing::info!("third");
    });
    let got = delivered(&shipper, &mock);
    let states: Vec<_> = got
        .iter()
        .map(|g| g.json["spans"][0]["fields"]["state"].clone())
        .collect();
    assert_eq!(states, vec![json!("queued"), json!("running"), json!("done")]);
}

#[test]
fn the_context_is_the_current_span_or_the_explicit_parent() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let outer = tracing::info_span!("outer");
        let inner = tracing::info_span!(parent: &outer, "inner", k = 1);
        // Not entered: no context.
        tracing::info!("none");
        // An explicit parent, without entering anything.
        tracing::info!(parent: &inner, "explicit");
        // Entered, then exited: no context again.
        inner.in_scope(|| tracing::info!("entered"));
        tracing::info!("after");
        // An explicit root ignores the current span.
        inner.in_scope(|| tracing::info!(parent: None, "root"));
    });
    let got = delivered(&shipper, &mock);
    let seen: Vec<_> = got
        .iter()
        .map(|g| (g.json["message"].as_str().unwrap().to_owned(), span_names(&g.json)))
        .collect();
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        seen,
        vec![
            ("none".to_owned(), names(&[])),
            ("explicit".to_owned(), names(&["outer", "inner"])),
            ("entered".to_owned(), names(&["outer", "inner"])),
            ("after".to_owned(), names(&[])),
            ("root".to_owned(), names(&[])),
        ]
    );
}

#[test]
fn span_context_can_be_left_out() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::LtsLayer::builder(config(&mock).build().unwrap())
        .span_context(false)
        .build()
        .unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info_span!("request", id = 7).in_scope(|| tracing::info!(n = 1, "inside"));
    });
    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 1);
    assert!(got[0].json.get("spans").is_none(), "{}", got[0].line);
    assert_eq!(got[0].json["fields"], json!({"n": 1}));
}

#[test]
fn flattened_span_fields_join_the_event_fields_innermost_first_event_wins() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::LtsLayer::builder(config(&mock).build().unwrap())
        .flatten_span_fields(["request_id", "tenant"])
        .span_context(false)
        .build()
        .unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let outer = tracing::info_span!("outer", request_id = "r-outer", tenant = "acme", other = 1);
        let _o = outer.enter();
        tracing::info!("outer only");
        let inner = tracing::info_span!("inner", request_id = "r-inner", tenant = Empty);
        let _i = inner.enter();
        tracing::info!("inner wins");
        inner.record("tenant", "globex");
        tracing::info!(request_id = "r-event", "event wins");
    });
    let got = delivered(&shipper, &mock);
    let fields: Vec<_> = got.iter().map(|g| g.json["fields"].clone()).collect();
    assert_eq!(
        fields,
        vec![
            json!({"request_id": "r-outer", "tenant": "acme"}),
            json!({"request_id": "r-inner", "tenant": "acme"}),
            json!({"request_id": "r-event", "tenant": "globex"}),
        ]
    );
    assert!(got.iter().all(|g| g.json.get("spans").is_none()));
}

#[test]
fn spans_a_per_layer_filter_disables_are_left_out_of_the_context() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO));
    tracing::subscriber::with_default(subscriber, || {
        let a = tracing::info_span!("a");
        let _a = a.enter();
        let b = tracing::debug_span!("b");
        let _b = b.enter();
        let c = tracing::warn_span!("c");
        let _c = c.enter();
        tracing::info!("kept");
        tracing::debug!("dropped");
    });
    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 1);
    assert_eq!(span_names(&got[0].json), vec!["a", "c"]);
}

#[test]
fn two_layers_share_captured_spans_without_conflict() {
    let mock_a = MockLts::start().unwrap();
    let mock_b = MockLts::start().unwrap();
    let (a, _guard_a) = lts_tracing::layer(config(&mock_a).build().unwrap()).unwrap();
    let (b, _guard_b) = lts_tracing::layer(config(&mock_b).build().unwrap()).unwrap();
    let (shipper_a, shipper_b) = (a.shipper().clone(), b.shipper().clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(a).with(b), || {
        let span = tracing::info_span!("s", v = 1);
        let _e = span.enter();
        span.record("v", 2);
        tracing::info!("hi");
    });
    for (shipper, mock) in [(&shipper_a, &mock_a), (&shipper_b, &mock_b)] {
        let got = delivered(shipper, mock);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].json["spans"][0]["fields"], json!({"v": 2}));
    }
}
