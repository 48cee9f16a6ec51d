//! Bad input, from callers and from configuration: huge messages, bytes that
//! are not UTF-8, control characters and quotes everywhere, thousands of
//! fields, empty messages, too many labels, malformed ids and endpoints,
//! and clocks far from now.

use std::time::Duration;

use lts_core::{
    clock, Config, ConfigBuilder, Diagnostic, DiagnosticKind, ErrorKind, FlushError, Format, Level, Record,
    RetryPolicy, Shipper,
};
use lts_mock::MockLts;

mod common;
use common::{hook, json};

const WAIT: Duration = Duration::from_secs(10);
const MIB: usize = 1024 * 1024;

/// The shared config, but batches wait for a flush (the linger is 60 s) and
/// the default retry policy.
fn config(mock: &MockLts) -> ConfigBuilder {
    common::config(mock)
        .linger(Duration::from_secs(60))
        .retry(RetryPolicy::default())
}

/// A config with every required setting, for the checks that never ship.
fn offline() -> ConfigBuilder {
    common::ids("http://127.0.0.1:8102").token("token")
}

/// The environment `offline()` stands for, with one variable replaced.
fn env_with(name: &'static str, value: String) -> impl Fn(&str) -> Option<String> {
    move |var: &str| {
        if var == name {
            return Some(value.clone());
        }
        match var {
            "LTS_ENDPOINT" => Some("http://127.0.0.1:8102".into()),
            "LTS_PROJECT_ID" => Some(lts_mock::PROJECT_ID.into()),
            "LTS_LOG_GROUP_ID" => Some(lts_mock::LOG_GROUP_ID.into()),
            "LTS_LOG_STREAM_ID" => Some(lts_mock::LOG_STREAM_ID.into()),
            "LTS_TOKEN" => Some("token".into()),
            _ => None,
        }
    }
}

fn record(shipper: &Shipper, message: impl Into<String>) -> Record {
    Record::new(shipper.now_ns(), Level::Info, "bad_input", message)
}

/// The number in a `…[truncated N bytes]` marker at the end of `s`.
fn marker_count(s: &str) -> usize {
    let rest = s.rsplit("…[truncated ").next().unwrap();
    rest.strip_suffix(" bytes]")
        .unwrap_or_else(|| panic!("no marker at the end of {:?}", &s[s.len().saturating_sub(60)..]))
        .parse()
        .unwrap()
}

/// A message of about 5 MB repeating `unit`, ending in a tail of its own.
fn five_mb_of(unit: &str) -> String {
    let mut m = unit.repeat(5_000_000 / unit.len());
    m.push_str("END");
    m
}

/// Checks that `message` is `original` cut, followed by a marker naming the
/// number of bytes cut.
fn assert_cut_from(message: &str, original: &str) {
    let cut = marker_count(message);
    let marker = format!("…[truncated {cut} bytes]");
    let kept = message.strip_suffix(&marker).unwrap();
    assert!(
        original.starts_with(kept),
        "the kept part is not the start of the original"
    );
    assert_eq!(kept.len() + cut, original.len(), "the marker says {cut} bytes were cut");
}

/// Ships "before", `huge`, "after" in one flush and checks that the huge
/// message arrives cut with an exact marker, in a line that is still JSON,
/// under the line limit and no shorter than `at_least`, and that the records
/// around it are untouched. Returns the diagnostics.
fn ship_huge_message(config: ConfigBuilder, mock: &MockLts, huge: &str, at_least: usize) -> Vec<Diagnostic> {
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(config.error_hook(hook).build().unwrap()).unwrap();
    shipper.send(record(&shipper, "before")).unwrap();
    shipper.send(record(&shipper, huge)).unwrap();
    shipper.send(record(&shipper, "after")).unwrap();
    shipper.flush(WAIT).unwrap();

    // Several requests may be out at once: the batches arrive in any
    // order; LTS sorts by time.
    let mut events = mock.events();
    events.sort_by_key(|e| e.time_ns);
    assert_eq!(events.len(), 3);
    let line = &events[1].line;
    assert!(line.len() <= MIB, "a line of {} bytes", line.len());
    // Still one JSON object with every key: the message was cut, not the line.
    let v = json(line);
    assert_eq!((&v["level"], &v["target"]), (&"INFO".into(), &"bad_input".into()));
    assert_eq!(v["fields"], serde_json::json!({}));
    assert_cut_from(v["message"].as_str().unwrap(), huge);
    // Nothing that could be kept was cut.
    assert!(
        line.len() >= at_least,
        "cut to {} bytes, could keep {at_least}",
        line.len()
    );
    assert_eq!(json(&events[0].line)["message"], "before");
    assert_eq!(json(&events[2].line)["message"], "after");
    let s = shipper.stats();
    assert_eq!((s.truncated, s.delivered), (1, 3));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind, DiagnosticKind::Truncated);
    seen
}

#[test]
fn a_5_mb_message_is_cut_to_the_line_limit_with_a_marker_and_counted() {
    let mock = MockLts::start().unwrap();
    // The batch cap above the line limit, so the line limit is what binds.
    let config = config(&mock).batch_max_bytes(3 * MIB).queue_bytes(64 * MIB);
    ship_huge_message(config, &mock, &five_mb_of("ab€x"), MIB - 256);
}

#[test]
fn a_5_mb_message_with_characters_json_escapes_is_cut_no_more_than_the_line_limit_needs() {
    let mock = MockLts::start().unwrap();
    let config = config(&mock).batch_max_bytes(3 * MIB).queue_bytes(64 * MIB);
    // One byte in four is a quote, written as two bytes in the line.
    ship_huge_message(config, &mock, &five_mb_of("ab\"x"), MIB - 256);
}

#[test]
fn a_message_of_control_characters_over_the_line_limit_is_cut_in_the_message_and_stays_json() {
    let mock = MockLts::start().unwrap();
    let config = config(&mock).batch_max_bytes(3 * MIB).queue_bytes(64 * MIB);
    // 300 KB of bytes that JSON writes as six (\u0001): a 1.8 MB line.
    let mut huge = "\u{1}".repeat(300_000);
    huge.push_str("END");
    ship_huge_message(config, &mock, &huge, MIB - 256);
}

#[test]
fn a_5_mb_message_with_the_default_caps_arrives_as_valid_json_with_an_exact_marker() {
    let mock = MockLts::start().unwrap();
    // Default line limit (1 MiB) over the default batch cap (512 KiB): the
    // line limit binds, and the line travels in a batch of its own.
    ship_huge_message(config(&mock), &mock, &five_mb_of("ab€x"), MIB - 256);
    // Three requests, one for each record (in whatever order they arrived).
    let mut requests: Vec<usize> = mock.events().iter().map(|e| e.request).collect();
    requests.sort_unstable();
    requests.dedup();
    assert_eq!(requests.len(), 3, "{requests:?}");
}

#[test]
fn a_2_mb_field_value_arrives_cut_in_the_value_in_a_valid_json_line() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).build().unwrap()).unwrap();
    let value = format!("{}END", "v".repeat(2_000_000));
    let r = record(&shipper, "short")
        .with_field("big", value.as_str())
        .with_field("next", 7u64);
    shipper.send(r).unwrap();
    shipper.send(record(&shipper, "after")).unwrap();
    shipper.flush(WAIT).unwrap();

    // The long line travels in a batch of its own, and may arrive second.
    let mut events = mock.events();
    events.sort_by_key(|e| e.time_ns);
    assert_eq!(events.len(), 2);
    let line = &events[0].line;
    assert!(line.len() <= MIB, "a line of {} bytes", line.len());
    assert!(line.len() >= MIB - 64, "cut more than needed: {} bytes", line.len());
    let v = json(line);
    assert_eq!((&v["message"], &v["fields"]["next"]), (&"short".into(), &7.into()));
    assert_cut_from(v["fields"]["big"].as_str().unwrap(), &value);
    assert_eq!(json(&events[1].line)["message"], "after");
    assert_eq!(shipper.stats().truncated, 1);
}

#[test]
fn bytes_that_are_not_utf8_shown_with_debug_or_lossily_arrive_as_that_text() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).build().unwrap()).unwrap();
    let bytes: &[u8] = b"ok \xff\xfe \xc3\x28 end";
    let messages = [
        format!("{:?}", b"\xff\xfe"),
        format!("{bytes:?}"),
        String::from_utf8_lossy(bytes).into_owned(),
        bytes.escape_ascii().to_string(),
    ];
    assert_eq!(messages[0], "[255, 254]");
    for m in &messages {
        shipper
            .send(record(&shipper, m.clone()).with_field("raw", format!("{:?}", b"\xff")))
            .unwrap();
    }
    shipper.flush(WAIT).unwrap();
    let got: Vec<serde_json::Value> = mock.events().iter().map(|e| json(&e.line)).collect();
    assert_eq!(got.len(), messages.len());
    for (v, m) in got.iter().zip(&messages) {
        assert_eq!(v["message"], m.as_str());
        assert_eq!(v["fields"]["raw"], "[255]");
    }
    assert_eq!(got[2]["message"], "ok \u{fffd}\u{fffd} \u{fffd}( end");
    assert_eq!(got[3]["message"], "ok \\xff\\xfe \\xc3( end");
}

/// Every control character, quotes, backslashes, and the characters JSON
/// and JavaScript disagree on.
fn nasty(tag: &str) -> String {
    let mut s = format!("{tag} \"quoted\" 'single' back\\slash \\\" \\u0000 ");
    s.extend((0u8..0x20).map(char::from));
    s.push('\u{7f}');
    s.push_str("\u{85}\u{2028}\u{2029}\u{feff}</script> end");
    s
}

#[test]
fn control_characters_and_quotes_arrive_intact_in_messages_fields_targets_and_labels() {
    let mock = MockLts::start().unwrap();
    let (label_key, label_value) = (nasty("key"), nasty("value"));
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .label(label_key.clone(), label_value.clone())
            .label("plain", "v")
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut r = Record::new(shipper.now_ns(), Level::Warn, nasty("target"), nasty("message"))
        .with_field(nasty("field"), nasty("field value"))
        .with_field("n", 1u64);
    r.file = Some(nasty("file").into());
    r.thread = Some(nasty("thread").into());
    shipper.send(r).unwrap();
    shipper.flush(WAIT).unwrap();

    let events = mock.events();
    assert_eq!(events.len(), 1);
    assert!(!events[0].line.contains('\n'), "one event, one line");
    let v = json(&events[0].line);
    assert_eq!(v["message"], nasty("message"));
    assert_eq!(v["target"], nasty("target"));
    assert_eq!(v["fields"][nasty("field")], nasty("field value"));
    assert_eq!(v["fields"]["n"], 1);
    assert_eq!(v["file"], nasty("file"));
    assert_eq!(v["thread"], nasty("thread"));
    assert_eq!(events[0].labels.len(), 2);
    assert_eq!(events[0].labels.get(&label_key), Some(&label_value));
    assert_eq!(events[0].labels.get("plain").map(String::as_str), Some("v"));
}

#[test]
fn control_characters_in_the_text_format_are_escaped_so_one_event_is_one_line() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).format(Format::Text).build().unwrap()).unwrap();
    shipper
        .send(record(&shipper, "a\nb\r\n\"q\"\u{1}").with_field("k\n", "v\tw"))
        .unwrap();
    shipper.flush(WAIT).unwrap();
    let line = mock.events()[0].line.clone();
    assert!(
        line.ends_with(" INFO bad_input: a\\nb\\r\\n\"q\"\\u{1} k\\n=v\\tw"),
        "{line}"
    );
    assert!(!line.chars().any(char::is_control), "{line:?}");
}

#[test]
fn ten_thousand_fields_on_one_event_arrive_intact() {
    // README: only lines over the line limit (1 MiB) are cut. 10,000 fields
    // of about 30 bytes are well under it, and under the batch cap.
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).build().unwrap()).unwrap();
    let mut r = record(&shipper, "many fields");
    for i in 0..10_000u64 {
        r = r.with_field(format!("field_{i:05}"), format!("value {i}"));
    }
    shipper.send(r).unwrap();
    shipper.send(record(&shipper, "next")).unwrap();
    shipper.flush(WAIT).unwrap();
    // About 300 KB in the queue: more than a chunk, so it traveled alone.
    assert_eq!(shipper.stats().queue_spills, 1);

    let events = mock.events();
    assert_eq!(events.len(), 2);
    let v = json(&events[0].line);
    let fields = v["fields"].as_object().unwrap();
    assert_eq!(fields.len(), 10_000);
    for i in [0u64, 1, 4_999, 9_999] {
        assert_eq!(fields[&format!("field_{i:05}")], format!("value {i}"));
    }
    // In the order they were recorded.
    let pos = |k: &str| events[0].line.find(&format!("\"{k}\"")).unwrap();
    assert!(pos("field_00000") < pos("field_00001") && pos("field_09998") < pos("field_09999"));
    assert_eq!(shipper.stats().truncated, 0);
    assert_eq!(json(&events[1].line)["message"], "next");
}

#[test]
fn ten_thousand_fields_over_the_line_limit_are_dropped_from_the_end_visibly_and_counted() {
    // Fields alone over the limit, none long enough to cut: the last ones
    // are dropped, the message says how many, and the line stays JSON.
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .max_line_bytes(64 * 1024)
            .batch_max_bytes(256 * 1024)
            .error_hook(hook)
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut r = record(&shipper, "many fields");
    for i in 0..10_000u64 {
        r = r.with_field(format!("field_{i:05}"), "v".repeat(20));
    }
    shipper.send(r).unwrap();
    shipper.send(record(&shipper, "next")).unwrap();
    shipper.flush(WAIT).unwrap();

    // The long line travels in a batch of its own, and may arrive second.
    let mut events = mock.events();
    events.sort_by_key(|e| e.time_ns);
    assert_eq!(events.len(), 2);
    let line = &events[0].line;
    assert!(line.len() <= 64 * 1024, "{}", line.len());
    // Each field is `"field_NNNNN":"vvvvvvvvvvvvvvvvvvvv",`: 37 bytes.
    assert!(line.len() > 64 * 1024 - 37, "dropped more than needed: {}", line.len());
    let v = json(line);
    let fields = v["fields"].as_object().unwrap();
    let kept = fields.len();
    assert!((1_000..10_000).contains(&kept), "{kept}");
    assert!(fields.contains_key("field_00000") && fields.contains_key(&format!("field_{:05}", kept - 1)));
    assert_eq!(v["message"], format!("many fields…[dropped {} fields]", 10_000 - kept));
    assert_eq!(shipper.stats().truncated, 1);
    assert_eq!(seen.lock().unwrap()[0].kind, DiagnosticKind::Truncated);
    assert_eq!(json(&events[1].line)["message"], "next");
}

#[test]
fn a_spool_dir_under_a_regular_file_is_an_error_naming_the_variable_or_the_method() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under = file.join("spool");
    let start = |config: Config| Shipper::start(config).map(|_| ()).unwrap_err();

    let e = start(Config::from_lookup(env_with("LTS_SPOOL_DIR", under.display().to_string())).unwrap());
    assert_eq!((e.kind(), e.setting()), (ErrorKind::Io, Some("LTS_SPOOL_DIR")));
    let expected = format!("LTS_SPOOL_DIR: cannot open the spool in {}:", under.display());
    assert!(e.to_string().starts_with(&expected), "{e}");

    let e = start(offline().spool_dir(&under).build().unwrap());
    assert_eq!((e.kind(), e.setting()), (ErrorKind::Io, Some("spool_dir")));
}

#[test]
fn an_empty_message_arrives_as_an_empty_message() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).build().unwrap()).unwrap();
    shipper.send(record(&shipper, "")).unwrap();
    shipper
        .send(Record::new(shipper.now_ns(), Level::Error, "", ""))
        .unwrap();
    shipper.flush(WAIT).unwrap();
    let events = mock.events();
    assert_eq!(events.len(), 2);
    let (a, b) = (json(&events[0].line), json(&events[1].line));
    assert_eq!((&a["message"], &a["target"]), (&"".into(), &"bad_input".into()));
    assert_eq!(
        (&b["message"], &b["target"], &b["level"]),
        (&"".into(), &"".into(), &"ERROR".into())
    );
    assert_eq!(shipper.stats().delivered, 2);
}

#[test]
fn a_label_map_of_101_entries_is_a_config_error_naming_labels() {
    let e = offline()
        .labels((0..101).map(|i| (format!("k{i}"), "v")))
        .build()
        .unwrap_err();
    assert_eq!((e.kind(), e.setting()), (ErrorKind::InvalidConfig, Some("label")));
    assert!(e.to_string().contains("101") && e.to_string().contains("100"), "{e}");
    // One at a time is the same map.
    let mut b = offline();
    for i in 0..101 {
        b = b.label(format!("k{i}"), "v");
    }
    assert_eq!(b.build().unwrap_err().setting(), Some("label"));
    // From the environment, the variable is named.
    let pairs: Vec<String> = (0..101).map(|i| format!("k{i}=v")).collect();
    let e = Config::from_lookup(env_with("LTS_LABELS", pairs.join(","))).unwrap_err();
    assert_eq!(e.setting(), Some("LTS_LABELS"), "{e}");
    // 100 is the documented limit, and a repeated key counts once.
    assert!(offline()
        .labels((0..100).map(|i| (format!("k{i}"), "v")))
        .build()
        .is_ok());
    assert!(offline()
        .labels((0..100).map(|i| (format!("k{i}"), "v")))
        .label("k0", "again")
        .build()
        .is_ok());
}

#[test]
fn ids_of_the_wrong_shape_are_config_errors_naming_the_setting() {
    let uuid = lts_mock::LOG_GROUP_ID;
    let bad_project = [
        "short".to_owned(),
        "0123456789abcdef0123456789abcde".to_owned(),   // 31
        "0123456789abcdef0123456789abcdef0".to_owned(), // 33
        "0123456789abcdef-123456789abcdef".to_owned(),
        "0123456789abcdef0123456789abcdé".to_owned(), // 32 bytes, not ASCII
        uuid.to_owned(),
        String::new(),
    ];
    for id in &bad_project {
        let e = offline().project_id(id.clone()).build().unwrap_err();
        assert_eq!(
            (e.kind(), e.setting()),
            (ErrorKind::InvalidConfig, Some("project_id")),
            "{id:?}: {e}"
        );
        let e = Config::from_lookup(env_with("LTS_PROJECT_ID", id.clone())).unwrap_err();
        assert_eq!(e.setting(), Some("LTS_PROJECT_ID"), "{id:?}: {e}");
    }
    let bad_uuid = [
        "0a1b2c3d-0000-4000-8000-00000000000".to_owned(),   // 35
        "0a1b2c3d-0000-4000-8000-0000000000011".to_owned(), // 37
        "0a1b2c3d_0000-4000-8000-000000000001".to_owned(),
        "0a1b2c3d-0000-4000-8000-00000000000g".to_owned(),
        "0a1b2c3d00000-4000-8000-000000000001".to_owned(),
        lts_mock::PROJECT_ID.to_owned(),
        format!(" {}", &uuid[1..]),
    ];
    for id in &bad_uuid {
        let e = offline().log_group_id(id.clone()).build().unwrap_err();
        assert_eq!(
            (e.kind(), e.setting()),
            (ErrorKind::InvalidConfig, Some("log_group_id")),
            "{id:?}: {e}"
        );
        let e = offline().log_stream_id(id.clone()).build().unwrap_err();
        assert_eq!(
            (e.kind(), e.setting()),
            (ErrorKind::InvalidConfig, Some("log_stream_id")),
            "{id:?}: {e}"
        );
        let e = Config::from_lookup(env_with("LTS_LOG_GROUP_ID", id.clone())).unwrap_err();
        assert_eq!(e.setting(), Some("LTS_LOG_GROUP_ID"), "{id:?}: {e}");
        let e = Config::from_lookup(env_with("LTS_LOG_STREAM_ID", id.clone())).unwrap_err();
        assert_eq!(e.setting(), Some("LTS_LOG_STREAM_ID"), "{id:?}: {e}");
    }
    // Upper-case hex is still a UUID.
    assert!(offline()
        .log_stream_id("0A1B2C3D-0000-4000-8000-00000000000F")
        .build()
        .is_ok());
}

#[test]
fn an_endpoint_with_a_path_or_query_is_a_config_error_naming_the_endpoint() {
    for url in [
        "http://127.0.0.1:8102/v2",
        "https://lts.example:8102/path/",
        "https://lts.example:8102?x=1",
        "https://lts.example:8102/#frag",
    ] {
        let e = offline().endpoint(url).build().unwrap_err();
        assert_eq!(
            (e.kind(), e.setting()),
            (ErrorKind::InvalidConfig, Some("endpoint")),
            "{url}: {e}"
        );
        let e = Config::from_lookup(env_with("LTS_ENDPOINT", url.into())).unwrap_err();
        assert_eq!(e.setting(), Some("LTS_ENDPOINT"), "{url}: {e}");
    }
}

#[test]
fn an_endpoint_with_a_trailing_slash_is_trimmed_and_ships() {
    let mock = MockLts::start().unwrap();
    let c = config(&mock).endpoint(format!("{}/", mock.endpoint())).build().unwrap();
    assert_eq!(c.endpoint(), mock.endpoint());
    assert!(c.report_url().starts_with(&format!("{}/v2/", mock.endpoint())));
    let e = Config::from_lookup(env_with("LTS_ENDPOINT", "https://lts.example:8102/".into())).unwrap();
    assert_eq!(e.endpoint(), "https://lts.example:8102");
    // The mock answers 404 to `//v2/...`: delivery proves the slash is gone.
    let (shipper, _guard) = Shipper::start(c).unwrap();
    shipper.send(record(&shipper, "through a slash")).unwrap();
    shipper.flush(WAIT).unwrap();
    assert_eq!(mock.event_count(), 1);
    assert!(
        mock.requests()[0].path.starts_with("/v2/"),
        "{}",
        mock.requests()[0].path
    );
}

#[test]
fn records_stamped_far_from_now_are_dropped_before_sending_and_counted_once() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(config(&mock).error_hook(hook).build().unwrap()).unwrap();
    let day = 24 * 3600 * 1_000_000_000u64;
    let now = clock::wall_ns();
    for t in [now - 3 * day, now + 3 * day, 0, u64::MAX] {
        shipper.send(Record::new(t, Level::Info, "clock", "far")).unwrap();
    }
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 4 }));
    // None of them was sent: the flush sent only the in-band report of the
    // loss, in a batch of its own (there was no batch to carry it).
    assert_eq!(mock.request_count(), 1);
    let lines: Vec<serde_json::Value> = mock.events().iter().map(|e| json(&e.line)).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["target"], "lts");
    assert_eq!(lines[0]["fields"]["dropped_rejected"], 4);
    assert_eq!(lines[0]["fields"]["dropped"], 4);
    let s = shipper.stats();
    assert_eq!(
        (s.enqueued, s.dropped_rejected, s.delivered, s.requests, s.pending()),
        (4, 4, 0, 1, 0)
    );
    let window: Vec<Diagnostic> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|d| d.kind == DiagnosticKind::OutsideTimeWindow)
        .cloned()
        .collect();
    assert_eq!(window.len(), 1, "{window:?}");

    // The next batch carries no second report; the service deletes nothing.
    shipper.send(record(&shipper, "on time")).unwrap();
    shipper.flush(WAIT).unwrap();
    assert_eq!(mock.request_count(), 2);
    let lines: Vec<serde_json::Value> = mock.events().iter().map(|e| json(&e.line)).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["message"], "on time");
    assert_eq!(mock.discarded_out_of_window(), 0);
    assert_eq!(seen.lock().unwrap().len(), 1, "no other diagnostic");
}
