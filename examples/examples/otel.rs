//! Log lines joined with their traces: with tracing-opentelemetry's layer
//! in the subscriber, every event inside a span carries the OpenTelemetry
//! `trace_id`, `span_id` and `trace_flags` of that span, so LTS can jump
//! from a line to its trace in your tracing backend and back.
//!
//! The OpenTelemetry SDK here exports to memory (swap in your exporter:
//! OTLP, Jaeger, ...); the example prints the spans it exported next to the
//! lines LTS received, so you can see the ids match.
//!
//!     cargo run -p examples --features otel --example otel
#![allow(clippy::print_stdout)]

use examples::{config_or_mock, print_received};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (config, mock) = config_or_mock("otel")?;
    let (lts, guard) = lts_tracing::layer(config)?;
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("otel-example")))
        .with(lts)
        .init();

    tracing::info!("started: outside any span, so no trace ids");
    {
        let request = tracing::info_span!("request", method = "GET", path = "/api/v1/items");
        let _entered = request.enter();
        tracing::info!("request received");
        let query = tracing::info_span!("query", table = "items");
        query.in_scope(|| tracing::warn!(elapsed_ms = 812, "slow query"));
    }

    guard.shutdown()?; // deliver everything before printing
    provider.force_flush()?;
    println!("OpenTelemetry exported:");
    for span in exporter.get_finished_spans()? {
        println!(
            "  {:<8} trace_id={:032x} span_id={:016x}",
            span.name,
            span.span_context.trace_id(),
            span.span_context.span_id()
        );
    }
    if let Some(mock) = mock {
        print_received(&mock);
    }
    Ok(())
}
