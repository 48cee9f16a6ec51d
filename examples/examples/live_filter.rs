//! Changing what is shipped while the program runs: in the middle of an
//! incident, turn on `debug` for one module from an admin endpoint (here:
//! the first argument), then turn it off again, without a restart.
//!
//! lts-tracing's `LiveFilter` is a per-layer filter: the stderr layer
//! beside it keeps its own filter. (lts-log has the same: `FilterHandle`
//! from `LtsLoggerBuilder::init_with_handle`.)
//!
//!     cargo run -p examples --example live_filter
//!     cargo run -p examples --example live_filter -- "warn,live_filter::db=debug"
#![allow(clippy::print_stdout)]

use examples::{config_or_mock, print_received};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

mod db {
    pub fn query(n: u32) {
        tracing::debug!(n, "query plan: index scan on items");
        tracing::info!(n, "query done");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (config, mock) = config_or_mock("live_filter")?;
    let (lts, guard) = lts_tracing::layer(config)?;
    let (filter, handle) = lts_tracing::LiveFilter::new("info")?;
    tracing_subscriber::registry()
        .with(lts.with_filter(filter))
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(EnvFilter::new("warn")),
        )
        .init();

    db::query(1); // info only

    // What an admin endpoint would receive; by default, debug for the db module.
    let directives = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "info,live_filter::db=debug".to_owned());
    handle.set(&directives)?;
    println!("directives now: {}", handle.directives());
    db::query(2); // debug too

    handle.set("info")?;
    db::query(3); // info only again

    guard.shutdown()?;
    if let Some(mock) = mock {
        print_received(&mock);
    }
    Ok(())
}
