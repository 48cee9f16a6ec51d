//! Storm control: one call site logs an error in a hot loop, another logs
//! the request that explains it. With `LTS_RATE_LIMIT=20/s` (set here
//! through the builder) the storm is cut to 20 records per second in
//! bursts of 20, the other call site is untouched, and LTS gets one `WARN`
//! record (target `lts`) per call site and second naming the call site and
//! how many of its records were suppressed; `Stats::suppressed` says the
//! same number.
//!
//!     cargo run -p examples --example storm
#![allow(clippy::print_stdout)]

use examples::{mock_config, print_received};
use lts_core::RateLimit;
use lts_mock::MockLts;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockLts::start()?;
    let config = mock_config(&mock)
        .rate_limit(RateLimit::per_second(20).ok_or("a rate of at least 1")?)
        .build()?;
    let (logger, guard) = lts_log::LtsLogger::builder(config).filter("info").build()?;
    log::set_max_level(logger.max_level());

    for i in 0..10_000 {
        log::error!(logger: &logger, attempt = i; "upstream connection refused");
        if i % 1000 == 0 {
            log::info!(logger: &logger, request = i / 1000; "request handled");
        }
    }

    let shipper = logger.shipper().clone();
    guard.shutdown()?; // the outstanding report goes out with the flush
    let stats = shipper.stats();
    println!("Stats: enqueued {}, suppressed {}", stats.enqueued, stats.suppressed);
    for site in shipper.suppressed_call_sites() {
        let c = &site.call_site;
        println!(
            "  {} suppressed from {} at {}:{}",
            site.suppressed,
            c.target,
            c.file.as_deref().unwrap_or("?"),
            c.line.unwrap_or(0)
        );
    }
    println!("The reports as LTS got them:");
    for e in mock.events().iter().filter(|e| e.line.contains("\"target\":\"lts\"")) {
        println!("  {}", e.line);
    }
    if std::env::args().any(|a| a == "--all") {
        print_received(&mock);
    }
    Ok(())
}
