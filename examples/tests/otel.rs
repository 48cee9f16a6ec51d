//! The `opentelemetry` features of lts-tracing and lts-log with the real
//! crates: the ids in the line lts-mock received are the ids of the span
//! the SDK exported (in memory), and there are none outside spans.
//!
//!     cargo test -p examples --features otel --test otel

use std::time::Duration;

use examples::mock_config;
use log::LevelFilter;
use lts_mock::MockLts;
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::Value;
use tracing_subscriber::prelude::*;

fn provider() -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    (provider, exporter)
}

fn lines(mock: &MockLts) -> Vec<Value> {
    mock.events()
        .iter()
        .map(|e| serde_json::from_str(&e.line).unwrap())
        .collect()
}

fn by_message<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["message"] == message)
        .unwrap_or_else(|| panic!("no {message:?} in {lines:?}"))
}

fn exported<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name}"))
}

fn assert_ids(line: &Value, span: &SpanData) {
    let trace_id = line["trace_id"].as_str().unwrap();
    let span_id = line["span_id"].as_str().unwrap();
    assert_eq!(trace_id, format!("{:032x}", span.span_context.trace_id()));
    assert_eq!(span_id, format!("{:016x}", span.span_context.span_id()));
    assert_eq!((trace_id.len(), span_id.len()), (32, 16));
    assert!(trace_id
        .bytes()
        .chain(span_id.bytes())
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(line["trace_flags"], "01");
}

fn assert_no_ids(line: &Value) {
    for key in ["trace_id", "span_id", "trace_flags"] {
        assert!(line.get(key).is_none(), "{key} in {line}");
    }
}

#[test]
fn tracing_events_carry_the_exported_span_ids_and_none_outside_spans() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(mock_config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let (provider, exporter) = provider();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("lts-test")))
        .with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("before");
        let outer = tracing::info_span!("outer");
        let _o = outer.enter();
        tracing::info!("in outer");
        {
            let inner = tracing::info_span!("inner", job = 7);
            let _i = inner.enter();
            tracing::info!("in inner");
        }
        drop(_o);
        drop(outer);
        tracing::info!("after");
    });
    shipper.flush(Duration::from_secs(10)).unwrap();
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let got = lines(&mock);
    assert_eq!(got.len(), 4);
    let (outer, inner) = (exported(&spans, "outer"), exported(&spans, "inner"));
    assert_ids(by_message(&got, "in outer"), outer);
    assert_ids(by_message(&got, "in inner"), inner);
    assert_eq!(inner.span_context.trace_id(), outer.span_context.trace_id());
    assert_no_ids(by_message(&got, "before"));
    assert_no_ids(by_message(&got, "after"));
}

#[test]
fn log_records_carry_the_current_otel_span_ids_and_none_outside() {
    log::set_max_level(LevelFilter::Trace);
    let mock = MockLts::start().unwrap();
    let (logger, _guard) = lts_log::LtsLogger::builder(mock_config(&mock).build().unwrap())
        .build()
        .unwrap();
    let (provider, exporter) = provider();
    let tracer = provider.tracer("lts-test");
    log::info!(logger: &logger, "before");
    tracer.in_span("request", |_cx| {
        log::info!(logger: &logger, "in request");
    });
    log::info!(logger: &logger, "after");
    logger.shipper().flush(Duration::from_secs(10)).unwrap();
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let got = lines(&mock);
    assert_eq!(got.len(), 3);
    assert_ids(by_message(&got, "in request"), exported(&spans, "request"));
    assert_no_ids(by_message(&got, "before"));
    assert_no_ids(by_message(&got, "after"));
}
