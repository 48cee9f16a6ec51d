//! A program instrumented with `tracing`: nested spans with fields, an
//! `#[instrument]`ed function and a tokio task, shipped to LTS with their
//! span context through `lts-tracing`, and shown on stderr by `fmt`.
//!
//! With no `LTS_*` variables set, this starts an embedded lts-mock (a strict
//! local stand-in for LTS), ships to it and prints what it received, spans
//! included. With `LTS_ENDPOINT` or `LTS_REGION` set (and the ids and token:
//! see the README), it ships to the real service instead (`Config::from_env`).
//! What LTS gets is chosen by `RUST_LOG` (default `info`); stderr shows `info`.
//!
//!     cargo run -p examples --example tracing_app
//!     RUST_LOG=debug cargo run -p examples --example tracing_app
#![allow(clippy::print_stdout)]

use examples::{config_or_mock, print_received};
use tracing::field::Empty;
use tracing::{debug, info, info_span, instrument, warn, Instrument};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Runs inside a span named after it, with its arguments as fields; `rows`
/// is recorded once known.
#[instrument(fields(rows = Empty))]
fn load_items(table: &str, limit: u32) -> u64 {
    let rows = u64::from(limit.min(3));
    tracing::Span::current().record("rows", rows);
    debug!(table, "only shipped with RUST_LOG=debug");
    info!(elapsed_ms = 4.5, "query done");
    rows
}

/// A tokio task: its events carry the span it was instrumented with.
async fn settle(order_id: u64) {
    info!(order_id, "settling in a task");
    tokio::task::yield_now().await;
    let err = std::io::Error::other("gateway timed out");
    warn!(
        error = &err as &(dyn std::error::Error + 'static),
        retry = true,
        "payment slow"
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (config, mock) = config_or_mock("tracing_app")?;

    let (lts, guard) = lts_tracing::LtsLayer::builder(config)
        .static_field("service", "tracing_app")
        .build()?;
    let lts_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(lts.with_filter(lts_filter))
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(EnvFilter::new("info")),
        )
        .init();

    info!(version = env!("CARGO_PKG_VERSION"), "tracing_app started");

    let request = info_span!("request", method = "GET", path = "/api/v1/items", user_id = Empty);
    request.in_scope(|| {
        request.record("user_id", 42);
        let items = load_items("items", 10);
        info!(items, "request handled");
    });

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
    runtime.block_on(async {
        let order = info_span!("order", order_id = 7, customer = "ada");
        // The subscriber is global, so the task's thread sees it; the span
        // goes with the task wherever the runtime polls it.
        match tokio::spawn(settle(7).instrument(order)).await {
            Ok(()) => info!("task finished"),
            Err(e) => warn!(error = %e, "task failed"),
        }
    });

    let stats = guard.shipper().stats();
    // Dropping the guard delivers what is queued (waiting up to the shutdown
    // timeout, 5 s by default) and stops the background thread.
    drop(guard);
    println!("shipped {} events", stats.enqueued);

    if let Some(mock) = &mock {
        // JSON lines, each event's spans root first.
        print_received(mock);
    }
    Ok(())
}
