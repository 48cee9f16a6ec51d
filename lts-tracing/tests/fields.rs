//! Event fields arrive typed; the message, the metadata and the options
//! that add fields (static fields, the text format) do what they say.

mod common;

use std::fmt;

use common::{config, delivered};
use lts_core::Format;
use lts_mock::MockLts;
use serde_json::json;
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct Inner;
impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection reset")
    }
}
impl std::error::Error for Inner {}

#[derive(Debug)]
struct Outer(Inner);
impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("query failed")
    }
}
impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[derive(Debug)]
#[allow(dead_code)]
struct Point {
    x: i32,
    y: i32,
}

#[test]
fn fields_arrive_typed() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let event_line = line!() + 6;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let err = Outer(Inner);
        let name = String::from("ada");
        let point = Point { x: 1, y: -2 };
        let addr = std::net::Ipv4Addr::new(10, 0, 0, 1);
        tracing::warn!(
            target: "my_app::db",
            text = "a \"quoted\"\nline",
            owned = name.as_str(),
            negative = -42i64,
            big = u64::MAX,
            small_i128 = -7i128,
            huge_i128 = i128::MIN,
            wide_u128 = 5u128,
            huge_u128 = u128::MAX,
            ratio = 0.25f64,
            nan = f64::NAN,
            yes = true,
            point = ?point,
            addr = %addr,
            error = &err as &(dyn std::error::Error + 'static),
            trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
            span_id = "00f067aa0ba902b7",
            "row {} of {}", 3, 7
        );
    });
    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 1);
    let j = &got[0].json;
    assert_eq!(j["level"], "WARN");
    assert_eq!(j["target"], "my_app::db");
    assert_eq!(j["message"], "row 3 of 7");
    assert_eq!(
        j["fields"],
        json!({
            "text": "a \"quoted\"\nline",
            "owned": "ada",
            "negative": -42,
            "big": u64::MAX,
            "small_i128": -7,
            "huge_i128": i128::MIN.to_string(),
            "wide_u128": 5,
            "huge_u128": u128::MAX.to_string(),
            "ratio": 0.25,
            "nan": "NaN",
            "yes": true,
            "point": "Point { x: 1, y: -2 }",
            "addr": "10.0.0.1",
            "error": "query failed: connection reset",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "span_id": "00f067aa0ba902b7",
        })
    );
    // Typed, not stringly: the numbers are JSON numbers.
    assert!(j["fields"]["negative"].is_i64());
    assert!(j["fields"]["big"].is_u64());
    assert!(j["fields"]["ratio"].is_f64());
    // Where it came from: this file, this line, this thread; no "spans".
    assert_eq!(j["file"], file!());
    assert_eq!(j["line"], event_line);
    assert_eq!(j["module"], module_path!());
    assert_eq!(j["thread"], std::thread::current().name().unwrap());
    assert!(j.get("spans").is_none());
    assert!(!got[0].line.contains('\n'));
}

#[test]
fn every_level_maps_and_events_without_a_message_have_an_empty_one() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(n = 1);
        tracing::warn!(n = 2);
        tracing::info!(n = 3);
        tracing::debug!(n = 4);
        tracing::trace!(n = 5);
        tracing::info!(message = "explicit", n = 6);
    });
    let got = delivered(&shipper, &mock);
    let seen: Vec<_> = got
        .iter()
        .map(|g| {
            (
                g.json["level"].as_str().unwrap(),
                g.json["message"].as_str().unwrap(),
                g.json["fields"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("ERROR", "", json!({"n": 1})),
            ("WARN", "", json!({"n": 2})),
            ("INFO", "", json!({"n": 3})),
            ("DEBUG", "", json!({"n": 4})),
            ("TRACE", "", json!({"n": 5})),
            ("INFO", "explicit", json!({"n": 6})),
        ]
    );
}

#[test]
fn static_fields_are_added_to_every_event_and_the_event_own_field_wins() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::LtsLayer::builder(config(&mock).build().unwrap())
        .static_field("service", "checkout")
        .static_field("build", 17u64)
        .build()
        .unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(order = 1, "placed");
        tracing::info!(service = "override", "mine");
    });
    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].json["fields"],
        json!({"order": 1, "service": "checkout", "build": 17})
    );
    assert_eq!(got[1].json["fields"], json!({"service": "override", "build": 17}));
    assert!(got[1].line.matches("\"service\"").count() == 1);
}

#[test]
fn the_config_format_is_used_text_lines_read_like_fmt() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).format(Format::Text).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("request", method = "GET");
        let _entered = span.enter();
        tracing::info!(target: "my_app::http", user_id = 42, "handled");
    });
    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 1);
    let time = lts_mock::rfc3339_nanos(got[0].time_ns);
    assert_eq!(
        got[0].line,
        format!("{time}  INFO request{{method=GET}}: my_app::http: handled user_id=42")
    );
}
