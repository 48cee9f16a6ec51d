//! Several streams from one shipper: routes by target and level, labels
//! from fields, tenants, per-route counts, and one stream's trouble kept to
//! that stream.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{config, hook, json, kinds, retry};
use lts_core::{Config, Diagnostic, DiagnosticKind, FlushError, Level, Record, Route, Shipper};
use lts_mock::{MockLts, LOG_GROUP_ID, LOG_STREAM_ID};

const AUDIT: &str = "0a1b2c3d-0000-4000-8000-0000000000a1";
const ERRORS_GROUP: &str = "0a1b2c3d-0000-4000-8000-0000000000e0";
const ERRORS: &str = "0a1b2c3d-0000-4000-8000-0000000000e1";
const TENANT: &str = "fedcba9876543210fedcba9876543210";
const ACCESS_KEY: &str = "AK-ROUTES";
const SECRET_KEY: &str = "sk-routes-secret";

fn mock() -> MockLts {
    MockLts::builder()
        .stream(LOG_GROUP_ID, AUDIT)
        .stream(ERRORS_GROUP, ERRORS)
        .build()
        .unwrap()
}

/// An audit route with its own label and tenant, and an error route to
/// another group.
fn routes() -> [Route; 2] {
    [
        Route::new("audit", AUDIT)
            .with_label("kind", "audit")
            .with_tenant_project_id(TENANT),
        Route::new("*", ERRORS)
            .with_min_level(Level::Error)
            .with_log_group_id(ERRORS_GROUP),
    ]
}

fn send(shipper: &Shipper, level: Level, target: &str, message: &str) {
    shipper
        .send(Record::new(shipper.now_ns(), level, target.to_owned(), message))
        .unwrap();
}

/// The messages a stream received, in arrival order.
fn messages_in(mock: &MockLts, group: &str, stream: &str) -> Vec<String> {
    mock.events_in(group, stream)
        .iter()
        .map(|e| json(&e.line))
        .filter(|v| v["target"] != "lts")
        .map(|v| v["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_record_lands_in_exactly_the_stream_its_route_names() {
    let mock = mock();
    let (shipper, guard) =
        Shipper::start(config(&mock).label("app", "shop").routes(routes()).build().unwrap()).unwrap();
    send(&shipper, Level::Info, "audit::login", "audit info");
    send(&shipper, Level::Info, "my_app", "app info");
    send(&shipper, Level::Error, "my_app::db", "app error");
    // The first route that matches wins: audit, though it is an error.
    send(&shipper, Level::Error, "audit", "audit error");
    send(&shipper, Level::Warn, "my_app", "app warn");
    // A prefix is a prefix of the target's text.
    send(&shipper, Level::Info, "auditor", "auditor info");
    shipper.flush(Duration::from_secs(10)).unwrap();

    assert_eq!(
        messages_in(&mock, LOG_GROUP_ID, AUDIT),
        ["audit info", "audit error", "auditor info"]
    );
    assert_eq!(messages_in(&mock, ERRORS_GROUP, ERRORS), ["app error"]);
    assert_eq!(
        messages_in(&mock, LOG_GROUP_ID, LOG_STREAM_ID),
        ["app info", "app warn"]
    );
    assert_eq!(mock.event_count(), 6, "every record once, nowhere else");

    // Each stream's batches carry its labels and tenant.
    for e in mock.events() {
        let expected: &[(&str, &str)] = match e.log_stream_id.as_str() {
            AUDIT => &[("app", "shop"), ("kind", "audit")],
            _ => &[("app", "shop")],
        };
        let expected: BTreeMap<String, String> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(e.labels, expected, "labels of an event in {}", e.log_stream_id);
        let tenant = (e.log_stream_id == AUDIT).then(|| TENANT.to_owned());
        assert_eq!(e.tenant_project_id, tenant, "tenant of an event in {}", e.log_stream_id);
    }

    let by_route: Vec<(String, String, u64, u64, u64)> = shipper
        .route_stats()
        .into_iter()
        .map(|r| (r.route, r.log_stream_id, r.routed, r.delivered, r.dropped))
        .collect();
    assert_eq!(
        by_route,
        [
            ("default".to_owned(), LOG_STREAM_ID.to_owned(), 2, 2, 0),
            (format!("audit={AUDIT}"), AUDIT.to_owned(), 3, 3, 0),
            (format!("*@error={ERRORS_GROUP}/{ERRORS}"), ERRORS.to_owned(), 1, 1, 0),
        ]
    );
    assert_eq!(shipper.stats().delivered, 6);
    guard.shutdown().unwrap();
}

#[test]
fn routes_from_the_environment_send_to_the_same_streams() {
    let mock = mock();
    let env = [
        ("LTS_ENDPOINT", mock.endpoint()),
        ("LTS_PROJECT_ID", lts_mock::PROJECT_ID.to_owned()),
        ("LTS_LOG_GROUP_ID", LOG_GROUP_ID.to_owned()),
        ("LTS_LOG_STREAM_ID", LOG_STREAM_ID.to_owned()),
        ("LTS_TOKEN", mock.token()),
        ("LTS_ROUTES", format!("audit={AUDIT},*@error={ERRORS_GROUP}/{ERRORS}")),
    ];
    let config = Config::from_lookup(|name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())).unwrap();
    let (shipper, guard) = Shipper::start(config).unwrap();
    send(&shipper, Level::Info, "audit", "to audit");
    send(&shipper, Level::Error, "app", "to errors");
    send(&shipper, Level::Info, "app", "to default");
    shipper.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(messages_in(&mock, LOG_GROUP_ID, AUDIT), ["to audit"]);
    assert_eq!(messages_in(&mock, ERRORS_GROUP, ERRORS), ["to errors"]);
    assert_eq!(messages_in(&mock, LOG_GROUP_ID, LOG_STREAM_ID), ["to default"]);
    guard.shutdown().unwrap();
}

#[test]
fn label_fields_split_batches_and_past_the_bound_new_values_share_the_overflow_batch() {
    let mock = MockLts::start().unwrap();
    let (seen, on_error) = hook();
    // One batch for everything until the flush: which batch a record takes
    // depends only on the records before it.
    let config = config(&mock)
        .label_field("tenant")
        .max_open_batches(2)
        .linger(Duration::from_secs(60))
        .error_hook(on_error)
        .build()
        .unwrap();
    let (shipper, guard) = Shipper::start(config).unwrap();
    for i in 0..20 {
        let tenant = format!("t{}", i % 5);
        let r = Record::new(shipper.now_ns(), Level::Info, "app", format!("{i}")).with_field("tenant", tenant.as_str());
        shipper.send(r).unwrap();
    }
    shipper
        .send(Record::new(shipper.now_ns(), Level::Info, "app", "no tenant"))
        .unwrap();
    shipper.flush(Duration::from_secs(10)).unwrap();

    // t0 and t1 opened the two batches the bound allows; t2, t3 and t4 (12
    // records) travel in the overflow batch; the record without the field
    // in the batch without the label.
    let mut by_label: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    for e in mock.events() {
        let v = json(&e.line);
        if v["target"] == "lts" {
            continue;
        }
        let msg = v["message"].as_str().unwrap().to_owned();
        by_label.entry(e.labels.get("tenant").cloned()).or_default().push(msg);
    }
    let nums = |r: std::ops::Range<usize>, m: &[usize]| -> Vec<String> {
        r.filter(|i| m.contains(&(i % 5))).map(|i| i.to_string()).collect()
    };
    let expected: BTreeMap<Option<String>, Vec<String>> = [
        (Some("t0".to_owned()), nums(0..20, &[0])),
        (Some("t1".to_owned()), nums(0..20, &[1])),
        (Some("(overflow)".to_owned()), nums(0..20, &[2, 3, 4])),
        (None, vec!["no tenant".to_owned()]),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_label, expected);
    // Each request carries one label set.
    assert_eq!(mock.request_count(), 4);
    let stats = shipper.stats();
    assert_eq!((stats.label_overflow, stats.delivered), (12, 21));
    assert_eq!(shipper.route_stats()[0].label_overflow, 12);
    // Told once, naming the setting.
    let told = kinds(&seen, DiagnosticKind::LabelOverflow);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("max_open_batches"), "{}", told[0]);
    guard.shutdown().unwrap();
}

#[test]
fn a_label_can_come_from_a_span_and_each_route_keeps_its_own_batches() {
    let mock = mock();
    let config = config(&mock)
        .label_field("tenant")
        .routes(routes())
        .linger(Duration::from_secs(60))
        .build()
        .unwrap();
    let (shipper, guard) = Shipper::start(config).unwrap();
    let mut in_span = Record::new(shipper.now_ns(), Level::Info, "audit", "in a span");
    in_span.spans.push(std::sync::Arc::new(lts_core::SpanInfo {
        id: 1,
        name: "request".into(),
        fields: vec![lts_core::Field::new("tenant", "acme")].into(),
    }));
    shipper.send(in_span).unwrap();
    shipper
        .send(Record::new(shipper.now_ns(), Level::Info, "app", "own field").with_field("tenant", "acme"))
        .unwrap();
    shipper.flush(Duration::from_secs(10)).unwrap();
    let got: BTreeSet<(String, Option<String>)> = mock
        .events()
        .iter()
        .map(|e| (e.log_stream_id.clone(), e.labels.get("tenant").cloned()))
        .collect();
    let acme = Some("acme".to_owned());
    assert_eq!(
        got,
        [(AUDIT.to_owned(), acme.clone()), (LOG_STREAM_ID.to_owned(), acme)]
            .into_iter()
            .collect()
    );
    assert_eq!(mock.request_count(), 2, "one batch per stream");
    guard.shutdown().unwrap();
}

#[test]
fn flush_and_shutdown_cover_every_route() {
    let mock = mock();
    let config = config(&mock)
        .routes(routes())
        .linger(Duration::from_secs(60))
        .build()
        .unwrap();
    let (shipper, guard) = Shipper::start(config).unwrap();
    let each = |tag: &str| {
        send(&shipper, Level::Info, "audit", &format!("audit {tag}"));
        send(&shipper, Level::Error, "app", &format!("error {tag}"));
        send(&shipper, Level::Info, "app", &format!("default {tag}"));
    };
    each("before flush");
    // The linger is a minute: only the flush sends.
    shipper.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(messages_in(&mock, LOG_GROUP_ID, AUDIT), ["audit before flush"]);
    assert_eq!(messages_in(&mock, ERRORS_GROUP, ERRORS), ["error before flush"]);
    assert_eq!(
        messages_in(&mock, LOG_GROUP_ID, LOG_STREAM_ID),
        ["default before flush"]
    );
    each("before shutdown");
    guard.shutdown().unwrap();
    assert_eq!(
        messages_in(&mock, LOG_GROUP_ID, AUDIT),
        ["audit before flush", "audit before shutdown"]
    );
    assert_eq!(
        messages_in(&mock, ERRORS_GROUP, ERRORS),
        ["error before flush", "error before shutdown"]
    );
    assert_eq!(
        messages_in(&mock, LOG_GROUP_ID, LOG_STREAM_ID),
        ["default before flush", "default before shutdown"]
    );
    assert_eq!(shipper.stats().delivered, 6);
}

#[test]
fn a_stream_being_retried_does_not_hold_back_the_others() {
    let mock = mock();
    mock.faults().fail_stream(AUDIT, 503, usize::MAX);
    let config = config(&mock)
        .routes(routes())
        .retry(lts_core::RetryPolicy {
            max_tries: 100_000,
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    let (shipper, guard) = Shipper::start(config).unwrap();
    send(&shipper, Level::Info, "audit", "audit 1");
    send(&shipper, Level::Info, "app", "default 1");
    assert!(mock.wait_for_events(1, Duration::from_secs(10)));
    send(&shipper, Level::Error, "app", "error 1");
    send(&shipper, Level::Info, "app", "default 2");
    // The audit batch is refused again and again; the rest goes on.
    assert!(mock.wait_for_events(3, Duration::from_secs(10)));
    assert_eq!(
        messages_in(&mock, LOG_GROUP_ID, LOG_STREAM_ID),
        ["default 1", "default 2"]
    );
    assert_eq!(messages_in(&mock, ERRORS_GROUP, ERRORS), ["error 1"]);
    assert!(mock.events_in(LOG_GROUP_ID, AUDIT).is_empty());
    assert!(shipper.route_stats()[1].retries >= 1);
    // The stream recovers: its batch goes out, once.
    mock.faults().clear();
    shipper.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(messages_in(&mock, LOG_GROUP_ID, AUDIT), ["audit 1"]);
    let audit = &shipper.route_stats()[1];
    assert_eq!(
        (audit.routed, audit.delivered, audit.dropped, audit.batches),
        (1, 1, 0, 1)
    );
    let refused = mock
        .requests()
        .iter()
        .filter(|r| r.log_stream_id.as_deref() == Some(AUDIT) && r.status == 503)
        .count() as u64;
    assert_eq!(audit.retries, refused);
    guard.shutdown().unwrap();
}

#[test]
fn a_stream_that_refuses_loses_only_its_own_records_counted_on_its_route() {
    let mock = mock();
    mock.faults().fail_stream(AUDIT, 400, usize::MAX);
    let config = config(&mock).routes(routes()).retry(retry(3)).build().unwrap();
    let (shipper, guard) = Shipper::start(config).unwrap();
    send(&shipper, Level::Info, "audit", "audit 1");
    send(&shipper, Level::Info, "audit", "audit 2");
    send(&shipper, Level::Info, "app", "default 1");
    // The flush says what was lost: the audit stream's two records.
    let flushed = shipper.flush(Duration::from_secs(10));
    assert!(matches!(flushed, Err(FlushError::Lost { lost: 2 })), "{flushed:?}");
    let stats: Vec<(u64, u64, u64)> = shipper
        .route_stats()
        .iter()
        .map(|r| (r.routed, r.delivered, r.dropped))
        .collect();
    assert_eq!(stats, [(1, 1, 0), (2, 0, 2), (0, 0, 0)]);
    assert_eq!(messages_in(&mock, LOG_GROUP_ID, LOG_STREAM_ID), ["default 1"]);
    assert_eq!(shipper.stats().dropped_rejected, 2);
    guard.shutdown().unwrap();
}

#[test]
fn aksk_signatures_verify_over_each_streams_own_path() {
    let mock = MockLts::builder()
        .stream(LOG_GROUP_ID, AUDIT)
        .stream(ERRORS_GROUP, ERRORS)
        .access_key(ACCESS_KEY, SECRET_KEY)
        .build()
        .unwrap();
    let (seen, on_error) = hook();
    let config = common::base(&mock)
        .access_key(ACCESS_KEY, SECRET_KEY)
        .routes(routes())
        .error_hook(on_error)
        .build()
        .unwrap();
    let (shipper, guard) = Shipper::start(config).unwrap();
    send(&shipper, Level::Info, "audit", "audit");
    send(&shipper, Level::Error, "app", "error");
    send(&shipper, Level::Info, "app", "default");
    shipper.flush(Duration::from_secs(10)).unwrap();
    let requests = mock.requests();
    let paths: BTreeSet<(&str, u16)> = requests
        .iter()
        .map(|r| (r.log_stream_id.as_deref().unwrap_or(""), r.status))
        .collect();
    assert_eq!(
        paths,
        [(AUDIT, 200), (ERRORS, 200), (LOG_STREAM_ID, 200)]
            .into_iter()
            .collect(),
        "{requests:?}"
    );
    assert!(requests
        .iter()
        .all(|r| r.auth.as_deref() == Some(&*format!("aksk:{ACCESS_KEY}"))));
    assert_eq!(shipper.stats().delivered, 3);
    let diags: Vec<Diagnostic> = seen.lock().unwrap().clone();
    assert!(diags.is_empty(), "{diags:?}");
    guard.shutdown().unwrap();
}
