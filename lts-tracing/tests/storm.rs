//! Storm control through the layer: one call site in a hot loop on two
//! threads is cut to the rate, another call site's records all arrive, and
//! the in-band report, `Stats` and the records refused agree exactly.

mod common;

use common::{config, delivered};
use lts_core::RateLimit;
use lts_mock::MockLts;
use tracing_subscriber::prelude::*;

/// 100 per hour: no token comes back while the test runs.
const LIMIT: u32 = 100;
const STORM_PER_THREAD: u64 = 2_000;

#[test]
fn a_storm_is_cut_to_the_rate_and_reported_once_with_the_exact_count() {
    let mock = MockLts::start().unwrap();
    let limit = RateLimit::new(LIMIT, std::time::Duration::from_secs(3600)).unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).rate_limit(limit).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));

    let storm_line = line!() + 6;
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..STORM_PER_THREAD {
                        tracing::error!(target: "app::db", i, "connection refused");
                        if i % 40 == 0 {
                            tracing::info!(target: "app::http", "request handled");
                        }
                    }
                });
            });
        }
    });
    let quiet = 2 * STORM_PER_THREAD / 40;
    assert!(quiet <= u64::from(LIMIT));

    let got = delivered(&shipper, &mock);
    let count = |target: &str| got.iter().filter(|g| g.json["target"] == target).count() as u64;
    assert_eq!(count("app::db"), u64::from(LIMIT));
    assert_eq!(count("app::http"), quiet, "the other call site is unaffected");

    let refused = 2 * STORM_PER_THREAD - u64::from(LIMIT);
    let reports: Vec<_> = got.iter().filter(|g| g.json["target"] == "lts").collect();
    assert_eq!(reports.len(), 1, "one report in the interval");
    let f = &reports[0].json["fields"];
    assert_eq!(reports[0].json["level"], "WARN");
    assert_eq!(f["suppressed"], refused);
    assert_eq!(f["site_target"], "app::db");
    assert_eq!(f["site_file"], file!());
    assert_eq!(f["site_line"], storm_line);
    assert_eq!(f["rate_limit"], "100/h");

    let stats = shipper.stats();
    assert_eq!(stats.suppressed, refused);
    assert_eq!(stats.rate_limit_untracked, 0);
    assert_eq!(stats.enqueued, u64::from(LIMIT) + quiet + 1);
    let sites = shipper.suppressed_call_sites();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].suppressed, refused);
    assert_eq!(sites[0].call_site.line, Some(storm_line));
}

#[test]
fn without_a_rate_limit_everything_arrives() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..500 {
            tracing::error!(target: "app::db", i, "connection refused");
        }
    });
    assert_eq!(delivered(&shipper, &mock).len(), 500);
    assert_eq!(shipper.stats().suppressed, 0);
}
