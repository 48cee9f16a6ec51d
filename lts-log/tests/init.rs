//! `lts_log::init` installs the global logger: one scenario per binary, so
//! this binary has a single test.

mod common;

use std::collections::HashMap;

use common::{config_for, events};
use log::LevelFilter;
use lts_core::clock::wall_ns;
use lts_log::InitError;
use lts_mock::MockLts;

const THREADS: u64 = 2;
const PER_THREAD: u64 = 50;

#[test]
fn init_installs_the_logger_and_the_guard_delivers_every_record() {
    // The filter comes from LTS_LOG before RUST_LOG: pin it, whatever the
    // environment running the tests has. (The only test in this binary: no
    // other thread reads the environment.)
    std::env::set_var("LTS_LOG", "info");
    let mock = MockLts::start().unwrap();
    let guard = lts_log::init(config_for(&mock).build().unwrap()).unwrap();
    assert_eq!(log::max_level(), LevelFilter::Info);

    // A second init is an error, and leaves the first logger in place.
    let other = MockLts::start().unwrap();
    match lts_log::init(config_for(&other).build().unwrap()) {
        Err(InitError::AlreadySet) => {}
        r => panic!("expected AlreadySet, got {r:?}"),
    }

    // A disabled level is not captured: log's max level cuts it.
    log::debug!(user_id = 1; "not captured");
    assert_eq!(guard.shipper().stats().enqueued, 0);

    // Two threads log with key-values, each record's call timed.
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::Builder::new()
                .name(format!("app-{t}"))
                .spawn(move || {
                    (0..PER_THREAD)
                        .map(|i| {
                            let before = wall_ns();
                            log::info!(thread = t, seq = i, even = i % 2 == 0; "record {i} from thread {t}");
                            let after = wall_ns();
                            (format!("record {i} from thread {t}"), (before, after))
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap()
        })
        .collect();
    let windows: HashMap<String, (u64, u64)> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let total = THREADS * PER_THREAD;
    assert_eq!(guard.shipper().stats().enqueued, total);

    // Dropping the guard delivers everything: no waiting, no flush.
    drop(guard);
    let got = events(&mock);
    assert_eq!(got.len() as u64, total);
    assert_eq!(other.event_count(), 0);

    let mut seen = HashMap::new();
    for e in &got {
        let (before, after) = windows[e.message()];
        // The strictly increasing clock may add a nanosecond per event that
        // read the same wall time.
        assert!(
            before <= e.time_ns && e.time_ns <= after + total,
            "{} at {} outside [{before}, {after}]",
            e.message(),
            e.time_ns
        );
        assert_eq!(e.json["time"], lts_mock::rfc3339_nanos(e.time_ns));
        assert_eq!(e.json["level"], "INFO");
        assert_eq!(e.json["target"], module_path!());
        let t = e.json["fields"]["thread"].as_u64().unwrap();
        let i = e.json["fields"]["seq"].as_u64().unwrap();
        assert_eq!(e.json["fields"]["even"], i % 2 == 0);
        assert_eq!(e.json["thread"], format!("app-{t}"));
        assert_eq!(e.message(), format!("record {i} from thread {t}"));
        assert!(seen.insert((t, i), e.time_ns).is_none(), "{t}/{i} arrived twice");
    }
    // Each thread's records arrive in the order, and with the increasing
    // times, they were logged in.
    for t in 0..THREADS {
        let times: Vec<u64> = got
            .iter()
            .filter(|e| e.json["fields"]["thread"] == t)
            .map(|e| e.time_ns)
            .collect();
        assert_eq!(times.len() as u64, PER_THREAD);
        assert!(times.windows(2).all(|w| w[0] < w[1]), "thread {t}: {times:?}");
    }

    // After the guard is gone, logging and flushing are harmless.
    log::info!("after shutdown");
    log::logger().flush();
    assert_eq!(mock.event_count() as u64, total);
}
