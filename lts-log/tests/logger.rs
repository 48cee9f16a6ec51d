//! An in-process `LtsLogger` from the builder, called through the `log`
//! macros' `logger:` argument (no global logger is installed in this
//! binary, so the tests run in parallel, each with its own mock).

mod common;

use std::sync::Arc;

use common::{config_for, events};
use log::{Level, LevelFilter, Log, Metadata};
use lts_log::{InitError, LtsLogger};
use lts_mock::MockLts;
use serde_json::json;

/// The `log` macros check the global maximum level before calling the
/// logger they are given: let everything through to ours.
fn open_macros() {
    log::set_max_level(LevelFilter::Trace);
}

fn logger(mock: &MockLts, filter: &str) -> (LtsLogger, lts_core::Guard) {
    open_macros();
    LtsLogger::builder(config_for(mock).build().unwrap())
        .filter(filter)
        .build()
        .unwrap()
}

fn enqueued(logger: &LtsLogger) -> u64 {
    logger.shipper().stats().enqueued
}

#[test]
fn key_values_arrive_as_typed_fields() {
    let mock = MockLts::start().unwrap();
    let (l, guard) = logger(&mock, "info");
    let addr: std::net::Ipv4Addr = "10.1.2.3".parse().unwrap();
    let line = line!() + 1;
    log::info!(logger: &l, user_id = 42, ratio = 0.5, ok = true, name = "alice", big = u64::MAX, neg = -3, huge = i128::MAX, addr:% = addr, list:? = vec![1, 2]; "user {} logged in", "alice");
    drop(guard);

    let got = events(&mock);
    assert_eq!(got.len(), 1);
    let e = &got[0].json;
    assert_eq!(
        e["fields"],
        json!({
            "user_id": 42,
            "ratio": 0.5,
            "ok": true,
            "name": "alice",
            "big": u64::MAX,
            "neg": -3,
            "huge": i128::MAX.to_string(),
            "addr": "10.1.2.3",
            "list": "[1, 2]",
        })
    );
    assert_eq!(e["fields"]["user_id"].as_i64(), Some(42), "a number, not a string");
    // The field order is the call's.
    let names: Vec<&String> = e["fields"].as_object().unwrap().keys().collect();
    assert_eq!(names.len(), 9);
    assert_eq!(e["level"], "INFO");
    assert_eq!(e["message"], "user alice logged in");
    assert_eq!(e["target"], module_path!());
    assert_eq!(e["file"], file!());
    assert_eq!(e["line"], line);
    assert_eq!(e["thread"], std::thread::current().name().unwrap());
    assert_eq!(e.get("module"), None, "the module equals the target, so it is left out");
}

#[test]
fn target_module_and_literal_messages() {
    let mock = MockLts::start().unwrap();
    let (l, guard) = logger(&mock, "trace");
    log::warn!(logger: &l, target: "audit", "a plain literal");
    log::error!(logger: &l, "with {} argument", 1);
    log::trace!(logger: &l, "trace passes a trace filter");
    drop(guard);

    let got = events(&mock);
    let lines: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|e| {
            (
                e.json["level"].as_str().unwrap(),
                e.json["target"].as_str().unwrap(),
                e.message(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("WARN", "audit", "a plain literal"),
            ("ERROR", module_path!(), "with 1 argument"),
            ("TRACE", module_path!(), "trace passes a trace filter"),
        ]
    );
    assert_eq!(
        got[0].json["module"],
        module_path!(),
        "a target of its own keeps the module"
    );
    assert_eq!(got[0].json["fields"], json!({}));
}

#[test]
fn a_disabled_level_is_not_captured() {
    let mock = MockLts::start().unwrap();
    let (l, guard) = logger(&mock, "info");
    let meta = |level| Metadata::builder().level(level).target(module_path!()).build();
    assert!(!l.enabled(&meta(Level::Debug)));
    assert!(l.enabled(&meta(Level::Info)));

    log::debug!(logger: &l, n = 1; "not captured");
    log::trace!(logger: &l, "not captured either");
    assert_eq!(enqueued(&l), 0);
    log::info!(logger: &l, "captured");
    assert_eq!(enqueued(&l), 1);
    drop(guard);
    assert_eq!(mock.event_count(), 1);
}

#[test]
fn filter_directives_behave_like_rust_log() {
    use Level::*;
    let mock = MockLts::start().unwrap();
    // (directives, target, level, enabled)
    let cases: &[(&str, &str, Level, bool)] = &[
        // No directive: info for everything.
        ("", "my_app", Info, true),
        ("", "my_app", Debug, false),
        ("", "other::module", Warn, true),
        // A bare level replaces the default.
        ("warn", "my_app", Warn, true),
        ("warn", "my_app", Info, false),
        ("ERROR", "my_app", Error, true),
        ("ERROR", "my_app", Warn, false),
        ("trace", "my_app::deep::module", Trace, true),
        ("off", "my_app", Error, false),
        // Per-target directives: the longest matching prefix wins.
        ("warn,my_app=debug,my_app::db=trace", "other", Warn, true),
        ("warn,my_app=debug,my_app::db=trace", "other", Info, false),
        ("warn,my_app=debug,my_app::db=trace", "my_app", Debug, true),
        ("warn,my_app=debug,my_app::db=trace", "my_app", Trace, false),
        ("warn,my_app=debug,my_app::db=trace", "my_app::http", Debug, true),
        ("warn,my_app=debug,my_app::db=trace", "my_app::http", Trace, false),
        ("warn,my_app=debug,my_app::db=trace", "my_app::db", Trace, true),
        ("warn,my_app=debug,my_app::db=trace", "my_app::db::pool", Trace, true),
        // As in RUST_LOG, a directive is a plain prefix of the target.
        ("warn,my_app=debug,my_app::db=trace", "my_app_extra", Debug, true),
        // A module name alone enables all its levels; the default stays info.
        ("my_app", "my_app::x", Trace, true),
        ("my_app", "other", Info, true),
        ("my_app", "other", Debug, false),
        // A module can be turned down or off below the default.
        ("info,my_app::db=warn", "my_app::db", Info, false),
        ("info,my_app::db=warn", "my_app::dbx", Info, false),
        ("info,my_app::db=warn", "my_app::http", Info, true),
        ("debug,my_app=off", "my_app", Error, false),
        ("debug,my_app=off", "your_app", Debug, true),
        // Whitespace around directives is ignored.
        (" warn , my_app=trace ", "my_app", Trace, true),
        (" warn , my_app=trace ", "other", Info, false),
    ];
    let mut failures = Vec::new();
    let mut spec_loggers = std::collections::HashMap::new();
    for &(spec, target, level, expected) in cases {
        let (l, _guard) = spec_loggers.entry(spec).or_insert_with(|| logger(&mock, spec));
        let got = l.enabled(&Metadata::builder().level(level).target(target).build());
        if got != expected {
            failures.push(format!("{spec:?} {target} {level}: expected {expected}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    let max = |spec: &str| spec_loggers[spec].0.max_level();
    assert_eq!(max(""), LevelFilter::Info);
    assert_eq!(max("warn"), LevelFilter::Warn);
    assert_eq!(max("warn,my_app=debug,my_app::db=trace"), LevelFilter::Trace);
    assert_eq!(max("off"), LevelFilter::Off);
    assert_eq!(mock.request_count(), 0, "nothing was logged");
}

#[test]
fn a_message_filter_keeps_matching_messages_only() {
    let mock = MockLts::start().unwrap();
    let (l, guard) = logger(&mock, "info/needle");
    log::info!(logger: &l, "hay");
    log::info!(logger: &l, "a {} in the hay", "needle");
    log::debug!(logger: &l, "a needle below the level");
    assert_eq!(enqueued(&l), 1);
    drop(guard);
    let got = events(&mock);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message(), "a needle in the hay");
}

#[test]
fn malformed_directives_are_an_error_not_a_panic() {
    let mock = MockLts::start().unwrap();
    let config = config_for(&mock).build().unwrap();
    match LtsLogger::builder(config).filter("my_app=loud").build() {
        Err(InitError::Filter { origin, message }) => {
            assert_eq!(origin, "filter");
            assert!(message.contains("loud"), "{message}");
        }
        other => panic!("expected a filter error, got {other:?}"),
    }
}

#[test]
fn the_shippers_own_crates_never_enter() {
    let mock = MockLts::start().unwrap();
    // Even when a directive asks for them.
    let (l, guard) = logger(&mock, "trace,lts_core=trace,lts_log=trace");
    for target in [
        "lts_core",
        "lts_core::worker",
        "lts_log",
        "lts_tracing::layer",
        "lts_mock",
    ] {
        let meta = Metadata::builder().level(Level::Error).target(target).build();
        assert!(!l.enabled(&meta), "{target}");
        log::error!(logger: &l, target: target, "from {target}");
    }
    assert_eq!(enqueued(&l), 0);
    // A crate whose name only starts with one of them is not one of them.
    log::info!(logger: &l, target: "lts_core_ext", "kept");
    assert_eq!(enqueued(&l), 1);
    drop(guard);
    assert_eq!(mock.event_count(), 1);
}

#[test]
fn transport_debug_is_filtered_by_default() {
    let mock = MockLts::start().unwrap();
    let (l, guard) = logger(&mock, "trace");
    log::debug!(logger: &l, target: "ureq", "dropped");
    log::trace!(logger: &l, target: "ureq::unversioned::transport", "dropped");
    log::debug!(logger: &l, target: "ureq_proto::client", "dropped");
    log::debug!(logger: &l, target: "rustls::conn", "dropped");
    assert_eq!(enqueued(&l), 0);
    log::info!(logger: &l, target: "ureq", "kept: info is above the noise");
    log::warn!(logger: &l, target: "rustls::conn", "kept: a warning");
    log::debug!(logger: &l, target: "ureqx", "kept: another crate");
    assert_eq!(enqueued(&l), 3);
    drop(guard);
    assert_eq!(mock.event_count(), 3);

    // Asked for, they are kept.
    let mock = MockLts::start().unwrap();
    let (l, guard) = LtsLogger::builder(config_for(&mock).build().unwrap())
        .filter("trace")
        .transport_debug(true)
        .build()
        .unwrap();
    log::debug!(logger: &l, target: "ureq", "kept");
    log::trace!(logger: &l, target: "rustls::conn", "kept");
    assert_eq!(enqueued(&l), 2);
    drop(guard);
    assert_eq!(mock.event_count(), 2);
}

#[test]
fn log_flush_delivers_everything_logged_before_it() {
    let mock = MockLts::start().unwrap();
    let (l, _guard) = logger(&mock, "info");
    let l = Arc::new(l);
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let l = l.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    log::info!(logger: &*l, t, i; "record {i} of thread {t}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    l.flush();
    // The mock records each request before answering it: no waiting needed.
    assert_eq!(mock.event_count(), 200);
    let stats = l.shipper().stats();
    assert_eq!((stats.enqueued, stats.delivered, stats.pending()), (200, 200, 0));
    let mut seen: Vec<(i64, i64)> = events(&mock)
        .iter()
        .map(|e| {
            (
                e.json["fields"]["t"].as_i64().unwrap(),
                e.json["fields"]["i"].as_i64().unwrap(),
            )
        })
        .collect();
    seen.sort_unstable();
    let expected: Vec<(i64, i64)> = (0..2).flat_map(|t| (0..100).map(move |i| (t, i))).collect();
    assert_eq!(seen, expected);
}
