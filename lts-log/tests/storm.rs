//! Storm control through the logger: one `log` call site in a hot loop is
//! cut to the rate, another call site's records all arrive, and the in-band
//! report, `Stats` and the records refused agree exactly.

mod common;

use common::{config_for, events, FLUSH};
use log::LevelFilter;
use lts_core::RateLimit;
use lts_log::LtsLogger;
use lts_mock::MockLts;

#[test]
fn a_storm_is_cut_to_the_rate_and_reported_once_with_the_exact_count() {
    log::set_max_level(LevelFilter::Trace);
    let mock = MockLts::start().unwrap();
    // 50 per hour: no token comes back while the test runs.
    let limit = RateLimit::new(50, std::time::Duration::from_secs(3600)).unwrap();
    let (l, _guard) = LtsLogger::builder(config_for(&mock).rate_limit(limit).build().unwrap())
        .build()
        .unwrap();
    let storm_line = line!() + 5;
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for i in 0..1000 {
                    log::error!(logger: &l, target: "app::db", i; "connection refused");
                    if i % 50 == 0 {
                        log::info!(logger: &l, target: "app::http", "request handled");
                    }
                }
            });
        }
    });
    l.shipper().flush(FLUSH).unwrap();
    let got = events(&mock);
    let count = |target: &str| got.iter().filter(|g| g.json["target"] == target).count();
    assert_eq!(count("app::db"), 50);
    assert_eq!(count("app::http"), 40, "the other call site is unaffected");
    let reports: Vec<_> = got.iter().filter(|g| g.json["target"] == "lts").collect();
    assert_eq!(reports.len(), 1);
    let f = &reports[0].json["fields"];
    assert_eq!(f["suppressed"], 1950);
    assert_eq!(f["site_target"], "app::db");
    assert_eq!(f["site_file"], file!());
    assert_eq!(f["site_line"], storm_line);
    assert_eq!(l.shipper().stats().suppressed, 1950);
}
