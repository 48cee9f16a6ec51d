use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::record::Level;

// 2026-11-24T13:00:00.123456789Z
const T: u64 = 1_795_525_200_123_456_789;

/// Encodes `r` and checks what every line must be: `escaped` is the line as
/// a JSON string literal, both within their limits. Returns the line.
fn encode(format: Format, r: &Record, max_line: usize, max_escaped: usize) -> (String, Cut) {
    let mut enc = LineEncoder::new(format, max_line, max_escaped);
    let mut escaped = String::new();
    let cut = enc.encode(r, &mut escaped);
    let line: String = serde_json::from_str(&escaped).expect("the escaped line is a JSON string");
    assert!(line.len() <= max_line, "{} > {max_line}", line.len());
    assert!(escaped.len() <= max_escaped, "{} > {max_escaped}", escaped.len());
    (line, cut)
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// Whether `out` is `orig` (`Some(false)`), or `orig` cut: a prefix of it
/// followed by the marker naming exactly the bytes missing (`Some(true)`).
fn whole_or_cut(out: &str, orig: &str) -> Option<bool> {
    if out == orig {
        return Some(false);
    }
    let at = out.rfind("…[truncated ")?;
    let n: usize = out[at + "…[truncated ".len()..].strip_suffix(" bytes]")?.parse().ok()?;
    let kept = &out[..at];
    (orig.starts_with(kept) && kept.len() + n == orig.len() && out.len() < orig.len()).then_some(true)
}

/// Checks that `out` is `orig` or `orig` cut with an exact marker; returns
/// whether it was cut.
fn is_whole_or_cut_from(out: &str, orig: &str) -> bool {
    whole_or_cut(out, orig).unwrap_or_else(|| panic!("{out:?} is neither {orig:?} nor cut from it"))
}

/// Checks every field of `out` (a parsed `fields` object) against the
/// original fields: each is one of them, its name and string value whole or
/// cut with an exact marker, any other value as the uncut line has it.
fn check_fields(out: &serde_json::Value, orig: &[Field], full: &serde_json::Value) {
    for (name, value) in out.as_object().expect("fields is an object") {
        let matches = |f: &&Field| {
            whole_or_cut(name, &f.name).is_some()
                && match (&f.value, value) {
                    (Value::Str(s), serde_json::Value::String(v)) => whole_or_cut(v, s).is_some(),
                    (Value::Str(_), _) => false,
                    _ => value == &full[&*f.name],
                }
        };
        assert!(
            orig.iter().any(|f| matches(&f)),
            "a field {name:?}: {value} that is not one sent, whole or cut"
        );
    }
}

/// The message: whole or cut, then the dropped marker when parts were dropped.
fn check_message(out: &str, orig: &str, cut: Cut) {
    let out = if cut.dropped > 0 {
        let at = out.rfind("…[dropped ").expect("a dropped marker");
        assert!(out.ends_with(']'));
        &out[..at]
    } else {
        out
    };
    is_whole_or_cut_from(out, orig);
}

#[test]
fn truncation_cuts_at_a_char_boundary_and_says_how_much() {
    let mut s = "é".repeat(100); // 200 bytes
    let cut = truncate_with_marker(&mut s, 100);
    assert!(s.len() <= 100, "{}", s.len());
    assert!(s.ends_with(&truncation_marker(cut)));
    assert_eq!(s.len() - truncation_marker(cut).len() + cut, 200);
    let mut short = String::from("fits");
    assert_eq!(truncate_with_marker(&mut short, 100), 0);
    assert_eq!(short, "fits");
}

#[test]
fn a_long_field_value_is_cut_in_the_value_no_more_than_needed() {
    let big = "v".repeat(20_000);
    let r = Record::new(T, Level::Info, "t", "short")
        .with_field("before", 1u64)
        .with_field("big", big.as_str())
        .with_field("after", "kept");
    let (line, cut) = encode(Format::Json, &r, 4096, usize::MAX);
    let v = json(&line);
    assert_eq!(
        (v["message"].as_str(), v["fields"]["after"].as_str()),
        (Some("short"), Some("kept"))
    );
    assert_eq!(v["fields"]["before"], 1);
    let value = v["fields"]["big"].as_str().unwrap();
    assert!(is_whole_or_cut_from(value, &big));
    assert_eq!(
        cut,
        Cut {
            bytes: 20_000 - (value.len() - truncation_marker(cut.bytes).len()),
            dropped: 0
        }
    );
    // One byte more kept would not fit: nothing was cut that could stay.
    assert_eq!(line.len(), 4096);
}

#[test]
fn long_strings_everywhere_are_each_cut_and_short_ones_kept() {
    let long = |c: char| c.to_string().repeat(3000);
    let mut r = Record::new(T, Level::Warn, long('t'), long('m'))
        .with_field(long('n'), "short")
        .with_field("short", long('\n'));
    r.thread = Some(long('h').into());
    r.file = Some("src/x.rs".into());
    r.spans = vec![Arc::new(SpanInfo {
        id: 7,
        name: long('s').into(),
        fields: vec![Field::new("method", long('"'))].into(),
    })];
    let (line, cut) = encode(Format::Json, &r, 2048, usize::MAX);
    let v = json(&line);
    assert_eq!(cut.dropped, 0);
    assert!(line.len() > 2048 - 64, "cut too much: {}", line.len());
    for key in ["target", "message", "thread"] {
        assert!(v[key].as_str().unwrap().contains("…[truncated "), "{key}");
    }
    assert_eq!(v["file"], "src/x.rs");
    assert_eq!(v["spans"][0]["id"], 7);
    assert!(v["spans"][0]["name"].as_str().unwrap().contains("…[truncated "));
    assert!(v["spans"][0]["fields"]["method"].as_str().unwrap().starts_with('"'));
    let fields = v["fields"].as_object().unwrap();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields.iter().find(|(k, _)| k.starts_with('n')).unwrap().1, "short");
}

#[test]
fn too_many_fields_are_dropped_from_the_end_and_the_message_says_how_many() {
    let mut r = Record::new(T, Level::Info, "t", "many");
    for i in 0..1000 {
        r = r.with_field(format!("f{i:04}"), "v".repeat(20));
    }
    let (line, cut) = encode(Format::Json, &r, 4096, usize::MAX);
    let v = json(&line);
    let fields = v["fields"].as_object().unwrap();
    assert_eq!(cut.bytes, 0);
    assert_eq!(fields.len() + cut.dropped, 1000);
    assert_eq!(v["message"], format!("many…[dropped {} fields]", cut.dropped));
    // The first ones are kept, whole, and one more would not fit.
    assert!(fields.contains_key("f0000") && fields.contains_key(&format!("f{:04}", fields.len() - 1)));
    assert!(line.len() > 4096 - 40, "{}", line.len());
}

#[test]
fn a_text_line_is_cut_in_its_parts_and_stays_one_line() {
    let r = Record::new(T, Level::Info, "t", "a\nb".repeat(2000)).with_field("k", "v\r".repeat(2000));
    let (line, cut) = encode(Format::Text, &r, 1000, usize::MAX);
    assert!(cut.is_cut());
    assert!(!line.contains(['\n', '\r']));
    assert!(line.starts_with("2026-11-24T13:00:00.123456789Z  INFO t: a\\nb"));
    assert!(line.ends_with(" bytes]"));
    assert!(line.contains(" bytes] k=v\\r"));
}

#[test]
fn a_custom_line_is_cut_as_text() {
    struct Raw;
    impl crate::format::FormatRecord for Raw {
        fn format(&self, record: &Record, out: &mut String) {
            out.push_str(&record.message);
        }
    }
    let r = Record::new(T, Level::Info, "t", "x".repeat(5000));
    let (line, cut) = encode(Format::Custom(Arc::new(Raw)), &r, 1000, usize::MAX);
    let marker = truncation_marker(cut.bytes);
    assert_eq!(
        (cut.bytes, &marker[..]),
        (5000 - 1000 + marker.len(), "…[truncated 4025 bytes]")
    );
    assert_eq!(line, format!("{}{marker}", "x".repeat(1000 - marker.len())));
}

#[test]
fn a_line_that_fits_is_the_formatted_line() {
    let r = Record::new(T, Level::Info, "t", "m").with_field("k", "v");
    let mut full = String::new();
    Format::Json.format(&r, &mut full);
    assert_eq!(encode(Format::Json, &r, full.len(), usize::MAX), (full, Cut::default()));
}

// ---- properties ----

/// Any text: all of Unicode (control characters included), bytes that are
/// not UTF-8 made lossy, and long runs of one character.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => vec(any::<char>(), 0..24).prop_map(String::from_iter),
        2 => vec(any::<u8>(), 0..48).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => (any::<char>(), 0..3000usize).prop_map(|(c, n)| c.to_string().repeat(n)),
        1 => vec(any::<char>(), 0..1500).prop_map(String::from_iter),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => text().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::I64),
        1 => any::<u64>().prop_map(Value::U64),
        1 => any::<f64>().prop_map(Value::F64),
        1 => any::<bool>().prop_map(Value::Bool),
    ]
}

/// Fields with names unique by a prefix, so none hides another in a JSON object.
fn fields(max: usize) -> impl Strategy<Value = Fields> {
    vec((text(), value()), 0..max).prop_map(|fs| {
        let mut out = Fields::new();
        for (i, (name, value)) in fs.into_iter().enumerate() {
            out.push(Field::new(format!("{i}_{name}"), value));
        }
        out
    })
}

fn record() -> impl Strategy<Value = Record> {
    (
        (
            text(),
            text(),
            proptest::option::of(text()),
            proptest::option::of(text()),
        ),
        (
            proptest::option::of(text()),
            proptest::option::of(any::<u32>()),
            fields(16),
        ),
        vec((text(), fields(4)), 0..4),
    )
        .prop_map(|((target, message, module, file), (thread, line, fields), spans)| {
            let mut r = Record::new(T, Level::Debug, target, message);
            (r.module_path, r.file, r.thread, r.line) = (
                module.map(Into::into),
                file.map(Into::into),
                thread.map(Into::into),
                line,
            );
            r.fields = fields;
            r.spans = spans
                .into_iter()
                .enumerate()
                .map(|(i, (name, fields))| {
                    Arc::new(SpanInfo {
                        id: i as u64 + 1,
                        name: name.into(),
                        fields,
                    })
                })
                .collect();
            r
        })
}

/// Cases per property: 256 run in CI (`cargo test`), in about a second;
/// `PROPTEST_CASES` overrides it.
fn cases() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn every_json_line_is_json_fits_and_keeps_what_was_not_cut(
        r in record(),
        max_line in 256usize..8192,
        max_escaped in 512usize..20_000,
    ) {
        let mut full = String::new();
        Format::Json.format(&r, &mut full);
        let full_v = json(&full);
        let (line, cut) = encode(Format::Json, &r, max_line, max_escaped);
        let v = json(&line);
        let fits = full.len() <= max_line && escaped_len(&full) <= max_escaped;
        prop_assert_eq!(fits, !cut.is_cut());
        if fits {
            prop_assert_eq!(&line, &full);
        }
        prop_assert_eq!(&v["time"], &full_v["time"]);
        prop_assert_eq!(&v["level"], &full_v["level"]);
        prop_assert_eq!(&v["line"], &full_v["line"]);
        check_message(v["message"].as_str().unwrap(), &r.message, cut);
        is_whole_or_cut_from(v["target"].as_str().unwrap(), &r.target);
        for (key, orig) in [("module", &r.module_path), ("file", &r.file), ("thread", &r.thread)] {
            if let Some(out) = v.get(key) {
                is_whole_or_cut_from(out.as_str().unwrap(), orig.as_deref().unwrap());
            }
        }
        check_fields(&v["fields"], &r.fields, &full_v["fields"]);
        let spans = v.get("spans").and_then(|s| s.as_array()).cloned().unwrap_or_default();
        prop_assert!(spans.len() <= r.spans.len());
        for (i, s) in spans.iter().enumerate() {
            prop_assert_eq!(&s["id"], &full_v["spans"][i]["id"]);
            is_whole_or_cut_from(s["name"].as_str().unwrap(), &r.spans[i].name);
            check_fields(&s["fields"], &r.spans[i].fields, &full_v["spans"][i]["fields"]);
        }
    }

    #[test]
    fn every_text_line_is_one_line_and_fits(
        r in record(),
        max_line in 256usize..8192,
        max_escaped in 512usize..20_000,
    ) {
        let mut full = String::new();
        Format::Text.format(&r, &mut full);
        let (line, cut) = encode(Format::Text, &r, max_line, max_escaped);
        prop_assert!(!line.contains(['\n', '\r']));
        let fits = full.len() <= max_line && escaped_len(&full) <= max_escaped;
        prop_assert_eq!(fits, !cut.is_cut());
        if fits {
            prop_assert_eq!(line, full);
        }
    }
}
