//! A program that logs with the plain `log` macros, key-values included,
//! from two threads, and ships every record to LTS through `lts-log`.
//!
//! With no `LTS_*` variables set, this starts an embedded lts-mock (a strict
//! local stand-in for LTS), ships to it and prints what it received. With
//! `LTS_ENDPOINT` or `LTS_REGION` set (and the ids and token: see the
//! README), it ships to the real service instead. The filter comes from
//! `LTS_LOG`, else `RUST_LOG`, else `info`.
//!
//!     cargo run -p examples --example log_app
//!     LTS_LOG=debug cargo run -p examples --example log_app
#![allow(clippy::print_stdout)]

use examples::{config_or_mock, print_received};
use log::{debug, error, info, warn};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (config, mock) = config_or_mock("log_app")?;
    let guard = lts_log::init(config)?;
    // Optional: a panic is logged at error level (target "panic") and flushed.
    lts_log::install_panic_hook();

    info!(version = env!("CARGO_PKG_VERSION"); "log_app started");

    let worker = std::thread::Builder::new().name("worker".into()).spawn(|| {
        for job in 0..3u32 {
            info!(job, duration_ms = 12.5 * f64::from(job + 1), ok = true; "job {job} done");
        }
        warn!(queue_depth = 17, retry = true; "the queue is backing up");
    })?;

    for user_id in [42, 43] {
        info!(user_id, path = "/api/v1/items"; "request handled");
    }
    debug!(cache_hits = 3; "only shipped with LTS_LOG=debug (or RUST_LOG=debug)");
    if worker.join().is_err() {
        error!("the worker thread panicked");
    }

    let stats = guard.shipper().stats();
    // Dropping the guard delivers what is queued (waiting up to the shutdown
    // timeout, 5 s by default) and stops the background thread.
    drop(guard);
    println!("logged {} records", stats.enqueued);

    if let Some(mock) = &mock {
        print_received(mock);
    }
    Ok(())
}
