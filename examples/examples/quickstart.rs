//! Ship a few records through lts-core, `log` (lts-log) and `tracing`
//! (lts-tracing), and see what the receiver got.
//!
//! With no `LTS_*` variables set, this starts an embedded lts-mock (a strict
//! local stand-in for LTS) and ships to it. With `LTS_ENDPOINT` or
//! `LTS_REGION` set (and the ids and token: see the README), it ships to
//! the real service instead.
//!
//!     cargo run -p examples --example quickstart
#![allow(clippy::print_stdout)]

use std::time::Duration;

use examples::{config_or_mock, print_received};
use lts_core::{Level, Record, Shipper};
use tracing_subscriber::layer::SubscriberExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (config, mock) = config_or_mock("quickstart")?;
    println!("shipping to {}", config.endpoint());

    // Through `log`: the global logger.
    let log_guard = lts_log::init(config.clone())?;
    log::info!(user_id = 42, path = "/api/v1/items"; "hello from lts-log");

    // Through `tracing`: a layer on a registry.
    let (layer, tracing_guard) = lts_tracing::layer(config.clone())?;
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("request", method = "GET");
        let _entered = span.enter();
        tracing::info!(user_id = 42u64, "hello from lts-tracing");
    });

    // Directly through lts-core.
    let (shipper, guard) = Shipper::start(config)?;
    for (i, level) in [Level::Info, Level::Warn, Level::Error].into_iter().enumerate() {
        // The time is read first, on this thread, in nanoseconds.
        let record = Record::new(
            shipper.now_ns(),
            level,
            "quickstart",
            format!("hello from lts-core #{i}"),
        )
        .with_field("attempt", i as u64)
        .with_field("ok", level != Level::Error);
        shipper.send(record)?;
    }
    // Dropping a guard delivers what its pipeline holds, then stops it.
    drop((log_guard, tracing_guard));
    match shipper.flush(Duration::from_secs(10)) {
        Ok(()) => println!("flushed: every record was delivered"),
        Err(e) => println!("flush: {e}"),
    }
    println!("{:?}", shipper.stats());

    if let Some(mock) = &mock {
        print_received(mock);
    }
    drop(guard); // delivers what is left and stops the background thread
    Ok(())
}
