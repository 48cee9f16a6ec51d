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

use log::{debug, error, info, warn};
use lts_core::Config;
use lts_mock::MockLts;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let use_real_service = std::env::var_os("LTS_ENDPOINT").is_some() || std::env::var_os("LTS_REGION").is_some();
    let mock = if use_real_service {
        None
    } else {
        Some(MockLts::start()?)
    };
    let guard = match &mock {
        None => lts_log::try_init_from_env()?,
        Some(mock) => lts_log::init(
            Config::builder()
                .endpoint(mock.endpoint())
                .project_id(lts_mock::PROJECT_ID)
                .log_group_id(lts_mock::LOG_GROUP_ID)
                .log_stream_id(lts_mock::LOG_STREAM_ID)
                .token(mock.token())
                .label("example", "log_app")
                .build()?,
        )?,
    };
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
        println!("lts-mock received {} events:", mock.event_count());
        for e in mock.events() {
            println!("  {}  {}", lts_mock::rfc3339_nanos(e.time_ns), e.line);
        }
    }
    Ok(())
}
