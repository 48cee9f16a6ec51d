//! Turning a [`Record`] into the log line LTS stores.
//!
//! - [`Format::Json`] (the default): one JSON object per line, for example
//!
//!   ```text
//!   {"time":"2026-11-24T13:00:00.123456789Z","level":"INFO","target":"my_app::http","message":"request handled","fields":{"user_id":42,"path":"/api/v1/items"},"spans":[{"name":"request","id":1,"fields":{"method":"GET"}}],"module":"my_app::http","file":"src/http.rs","line":42,"thread":"main"}
//!   ```
//!
//!   `fields` is always present (`{}` when there are none); `spans` (root
//!   first), `module` (only when it differs from `target`), `file`, `line`
//!   and `thread` appear when known.
//! - [`Format::Text`]: one line in the style of tracing's `fmt`,
//!   `2026-11-24T13:00:00.123456789Z  INFO request{method=GET}: my_app::http: request handled user_id=42 path=/api/v1/items`.
//!   Line breaks and other control characters are escaped so one event is one line.
//! - [`Format::Custom`]: your own [`FormatRecord`].
//!
//! Formatting runs on the worker thread, never on the caller's.

use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::encode::{key, push_decimal, push_signed, JsonOut};
use crate::record::Record;
use crate::value::{Field, Value};

/// A formatter of records into log lines, for [`Format::Custom`].
///
/// `out` is empty when called and reused between records; write exactly one
/// line into it. A line longer than the configured line limit is cut by the
/// pipeline as text: its end is replaced by `…[truncated N bytes]`, which
/// can leave a JSON line invalid (the built-in formats cut the record's
/// strings instead, see `Format`).
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use lts_core::{Config, Format, FormatRecord, Level, Record};
///
/// /// `LEVEL message`, nothing else.
/// struct Terse;
///
/// impl FormatRecord for Terse {
///     fn format(&self, record: &Record, out: &mut String) {
///         out.push_str(record.level.as_str());
///         out.push(' ');
///         out.push_str(&record.message);
///     }
/// }
///
/// let format = Format::Custom(Arc::new(Terse));
/// let mut line = String::new();
/// format.format(&Record::new(0, Level::Warn, "app", "disk 91% full"), &mut line);
/// assert_eq!(line, "WARN disk 91% full");
/// let builder = Config::builder().format(format);
/// # let _ = builder;
/// ```
pub trait FormatRecord: Send + Sync + 'static {
    /// Writes the log line for `record` into `out`.
    fn format(&self, record: &Record, out: &mut String);
}

/// How records become log lines.
///
/// # Example
///
/// ```
/// use lts_core::{Format, Level, Record};
///
/// let record = Record::new(1_700_000_000_123_456_789, Level::Info, "my_app", "started")
///     .with_field("version", "1.2.3");
/// let mut line = String::new();
/// Format::Json.format(&record, &mut line);
/// assert_eq!(
///     line,
///     r#"{"time":"2023-11-14T22:13:20.123456789Z","level":"INFO","target":"my_app","message":"started","fields":{"version":"1.2.3"}}"#
/// );
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Format {
    /// One JSON object per line (the default).
    #[default]
    Json,
    /// One human-readable line.
    Text,
    /// A formatter of your own.
    Custom(Arc<dyn FormatRecord>),
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::Json => f.write_str("Json"),
            Format::Text => f.write_str("Text"),
            Format::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl Format {
    /// Writes the log line for `record` into `out` (appending).
    pub fn format(&self, record: &Record, out: &mut String) {
        match self {
            Format::Json => json_line(record, &mut JsonOut::plain(out)),
            Format::Text => text_line(record, out),
            Format::Custom(f) => f.format(record, out),
        }
    }
}

/// Writes `time_ns` as RFC 3339 UTC with nine fractional digits.
///
/// The date and time of day are formatted once per second (per thread)
/// and reused; only the nanoseconds are written per call.
///
/// # Example
///
/// ```
/// let mut out = String::new();
/// lts_core::write_rfc3339_nanos(&mut out, 1_700_000_000_000_000_001);
/// assert_eq!(out, "2023-11-14T22:13:20.000000001Z");
/// ```
pub fn write_rfc3339_nanos(out: &mut String, time_ns: u64) {
    thread_local! {
        static LAST: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    let (secs, nanos) = (time_ns / 1_000_000_000, time_ns % 1_000_000_000);
    let cached = LAST.try_with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            // "YYYY-MM-DDTHH:MM:SSZ" without the "Z".
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            let mut prefix = humantime::format_rfc3339_seconds(t).to_string();
            prefix.pop();
            *last = (secs, prefix);
        }
        out.push_str(&last.1);
    });
    if cached.is_err() {
        let t = UNIX_EPOCH + Duration::from_secs(secs);
        let prefix = humantime::format_rfc3339_seconds(t).to_string();
        out.push_str(&prefix[..prefix.len() - 1]);
    }
    out.push('.');
    push_decimal(out, nanos, 9);
    out.push('Z');
}

fn json_line(r: &Record, o: &mut JsonOut<'_>) {
    o.raw("{");
    o.key(&key!("time"));
    o.quote();
    write_rfc3339_nanos(o.buf, r.time_ns);
    o.quote();
    o.key(&key!(, "level"));
    o.string(r.level.as_str());
    o.key(&key!(, "target"));
    o.string(&r.target);
    o.key(&key!(, "message"));
    o.string(&r.message);
    o.key(&key!(, "fields"));
    json_fields(o, &r.fields);
    if !r.spans.is_empty() {
        o.key(&key!(, "spans"));
        o.raw("[");
        for (i, s) in r.spans.iter().enumerate() {
            if i > 0 {
                o.raw(",");
            }
            o.raw("{");
            o.key(&key!("name"));
            o.string(&s.name);
            o.key(&key!(, "id"));
            push_decimal(o.buf, s.id, 1);
            o.key(&key!(, "fields"));
            json_fields(o, &s.fields);
            o.raw("}");
        }
        o.raw("]");
    }
    if let Some(cx) = &r.trace {
        o.key(&key!(, "trace_id"));
        o.quote();
        cx.push_trace_id(o.buf);
        o.quote();
        o.key(&key!(, "span_id"));
        o.quote();
        cx.push_span_id(o.buf);
        o.quote();
        if let Some(flags) = cx.flags() {
            o.key(&key!(, "trace_flags"));
            o.string(flags);
        }
    }
    if let Some(m) = r.module_path.as_deref().filter(|m| *m != r.target) {
        o.key(&key!(, "module"));
        o.string(m);
    }
    if let Some(file) = &r.file {
        o.key(&key!(, "file"));
        o.string(file);
    }
    if let Some(line) = r.line {
        o.key(&key!(, "line"));
        push_decimal(o.buf, u64::from(line), 1);
    }
    if let Some(thread) = &r.thread {
        o.key(&key!(, "thread"));
        o.string(thread);
    }
    o.raw("}");
}

/// Writes the JSON line of `record` already escaped as the content of a
/// JSON string (what `write_json_str` of the line would give, without the
/// quotes), in one pass.
pub(crate) fn json_line_embedded(record: &Record, out: &mut String) {
    json_line(record, &mut JsonOut::embedded(out));
}

/// An upper bound on the length of the JSON line of `r`, escaped once more
/// or not: every string byte can take at most 7 bytes (`\\u00XX`), and
/// every key, number and piece of structure is counted generously.
pub(crate) fn json_line_bound(r: &Record) -> usize {
    let fields = |fs: &[Field]| -> usize {
        fs.iter()
            .map(|f| {
                64 + 7
                    * (f.name.len()
                        + match &f.value {
                            Value::Str(s) => s.len(),
                            _ => 0,
                        })
            })
            .sum()
    };
    let strings = r.target.len()
        + r.message.len()
        + r.module_path.as_ref().map_or(0, |m| m.len())
        + r.file.as_ref().map_or(0, |f| f.len())
        + r.thread.as_ref().map_or(0, |t| t.len());
    512 + r.trace.map_or(0, |_| 128)
        + 7 * strings
        + fields(&r.fields)
        + r.spans
            .iter()
            .map(|s| 128 + 7 * s.name.len() + fields(&s.fields))
            .sum::<usize>()
}

/// Writes fields as a JSON object. A name that repeats keeps every value:
/// JSON readers keep the last one, as tracing's JSON formatter does.
fn json_fields(o: &mut JsonOut<'_>, fields: &[Field]) {
    o.raw("{");
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            o.raw(",");
        }
        o.string(&f.name);
        o.raw(":");
        json_value(o, &f.value);
    }
    o.raw("}");
}

fn json_value(o: &mut JsonOut<'_>, v: &Value) {
    match v {
        Value::Str(s) => o.string(s),
        Value::I64(v) => push_signed(o.buf, *v),
        Value::U64(v) => push_decimal(o.buf, *v, 1),
        // A whole float keeps its ".0", so it still reads as a float.
        Value::F64(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e16 => {
            let _ = write!(o.buf, "{v:.1}");
        }
        Value::F64(v) if v.is_finite() => {
            let _ = write!(o.buf, "{v}");
        }
        Value::F64(v) => {
            o.quote();
            let _ = write!(o.buf, "{v}");
            o.quote();
        }
        Value::Bool(v) => o.raw(if *v { "true" } else { "false" }),
    }
}

fn text_line(r: &Record, out: &mut String) {
    write_rfc3339_nanos(out, r.time_ns);
    let _ = write!(out, " {:>5} ", r.level);
    for s in &r.spans {
        push_escaped(out, &s.name);
        if !s.fields.is_empty() {
            out.push('{');
            for (i, f) in s.fields.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                text_field(out, f);
            }
            out.push('}');
        }
        out.push(':');
    }
    if !r.spans.is_empty() {
        out.push(' ');
    }
    push_escaped(out, &r.target);
    out.push_str(": ");
    push_escaped(out, &r.message);
    for f in &r.fields {
        out.push(' ');
        text_field(out, f);
    }
    if let Some(cx) = &r.trace {
        out.push_str(" trace_id=");
        cx.push_trace_id(out);
        out.push_str(" span_id=");
        cx.push_span_id(out);
        if let Some(flags) = cx.flags() {
            out.push_str(" trace_flags=");
            out.push_str(flags);
        }
    }
}

fn text_field(out: &mut String, f: &Field) {
    push_escaped(out, &f.name);
    out.push('=');
    match &f.value {
        Value::Str(s) => push_escaped(out, s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Appends `s` with control characters escaped (`\n`, `\r`, `\t`, `\u{..}`),
/// so a text line stays one line.
fn push_escaped(out: &mut String, s: &str) {
    if !s.chars().any(char::is_control) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Level, SpanInfo};

    // 2026-11-24T13:00:00.123456789Z
    const T: u64 = 1_795_525_200_123_456_789;

    fn sample() -> Record {
        let mut r = Record::new(T, Level::Info, "my_app::http", "request handled in 17 ms")
            .with_field("user_id", 42u64)
            .with_field("path", "/api/v1/items")
            .with_field("ratio", 0.5)
            .with_field("whole", 25.0)
            .with_field("ok", true)
            .with_field("delta", -3i64);
        r.module_path = Some("my_app::http".into());
        r.file = Some("src/http.rs".into());
        r.line = Some(42);
        r.thread = Some("main".into());
        r.spans = vec![Arc::new(SpanInfo {
            id: 1,
            name: "request".into(),
            fields: vec![Field::new("method", "GET")].into(),
        })];
        r
    }

    #[test]
    fn json_line_has_every_documented_key_in_order() {
        let mut out = String::new();
        Format::Json.format(&sample(), &mut out);
        assert_eq!(
            out,
            r#"{"time":"2026-11-24T13:00:00.123456789Z","level":"INFO","target":"my_app::http","message":"request handled in 17 ms","fields":{"user_id":42,"path":"/api/v1/items","ratio":0.5,"whole":25.0,"ok":true,"delta":-3},"spans":[{"name":"request","id":1,"fields":{"method":"GET"}}],"file":"src/http.rs","line":42,"thread":"main"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["fields"]["user_id"], 42);
    }

    #[test]
    fn json_line_escapes_quotes_and_control_characters_and_keeps_non_finite_floats_valid() {
        let r = Record::new(T, Level::Warn, "t\"x", "line1\nline2\t\"q\"\u{1}")
            .with_field("we\"ird\n", f64::NAN)
            .with_field("inf", f64::INFINITY);
        let mut out = String::new();
        Format::Json.format(&r, &mut out);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["message"], "line1\nline2\t\"q\"\u{1}");
        assert_eq!(parsed["target"], "t\"x");
        assert_eq!(parsed["fields"]["we\"ird\n"], "NaN");
        assert_eq!(parsed["fields"]["inf"], "inf");
        assert!(!out.contains('\n'));
    }

    #[test]
    fn the_embedded_json_line_is_the_line_escaped_and_within_its_bound() {
        let mut odd = Record::new(T, Level::Warn, "t\"x", "line1\nline2\t\"q\"\u{1}\\")
            .with_field("we\"ird\n", f64::NAN)
            .with_field("inf", f64::INFINITY)
            .with_field("s", "a\u{7f}b");
        odd.thread = Some("th\"read".into());
        for r in [sample(), odd, Record::new(0, Level::Trace, "", "")] {
            let mut line = String::new();
            Format::Json.format(&r, &mut line);
            let mut escaped = String::new();
            crate::encode::write_json_str(&mut escaped, &line);
            let mut embedded = String::from("\"");
            json_line_embedded(&r, &mut embedded);
            embedded.push('"');
            assert_eq!(embedded, escaped);
            assert!(
                embedded.len() <= json_line_bound(&r),
                "{} > {}",
                embedded.len(),
                json_line_bound(&r)
            );
        }
    }

    #[test]
    fn text_line_reads_like_tracing_fmt() {
        let mut out = String::new();
        Format::Text.format(&sample(), &mut out);
        assert_eq!(
            out,
            "2026-11-24T13:00:00.123456789Z  INFO request{method=GET}: my_app::http: request handled in 17 ms user_id=42 path=/api/v1/items ratio=0.5 whole=25 ok=true delta=-3"
        );
    }

    #[test]
    fn text_line_stays_on_one_line() {
        let r = Record::new(T, Level::Error, "t", "a\nb\r\n").with_field("k", "v\nw");
        let mut out = String::new();
        Format::Text.format(&r, &mut out);
        assert_eq!(out, "2026-11-24T13:00:00.123456789Z ERROR t: a\\nb\\r\\n k=v\\nw");
    }

    #[test]
    fn the_trace_context_is_top_level_keys_in_json_and_text_and_in_the_embedded_line() {
        let mut r = Record::new(T, Level::Info, "t", "m");
        let mut trace_id = [0u8; 16];
        trace_id[0] = 0x4b;
        trace_id[15] = 0xf1;
        r.trace = crate::TraceContext::from_bytes(trace_id, [0, 0, 0, 0, 0, 0, 0, 0x2a], Some(true));
        let mut out = String::new();
        Format::Json.format(&r, &mut out);
        assert_eq!(
            out,
            r#"{"time":"2026-11-24T13:00:00.123456789Z","level":"INFO","target":"t","message":"m","fields":{},"trace_id":"4b0000000000000000000000000000f1","span_id":"000000000000002a","trace_flags":"01"}"#
        );
        let mut embedded = String::new();
        json_line_embedded(&r, &mut embedded);
        assert_eq!(serde_json::from_str::<String>(&format!("\"{embedded}\"")).unwrap(), out);
        out.clear();
        r.trace = r.trace.map(|cx| crate::TraceContext { sampled: None, ..cx });
        Format::Text.format(&r, &mut out);
        assert_eq!(
            out,
            "2026-11-24T13:00:00.123456789Z  INFO t: m trace_id=4b0000000000000000000000000000f1 span_id=000000000000002a"
        );
    }

    #[test]
    fn rfc3339_nanos_matches_humantime_across_second_boundaries() {
        for t in [0, 999_999_999, 1_000_000_000, T, T + 876_543_211, u64::MAX / 2] {
            let mut ours = String::new();
            write_rfc3339_nanos(&mut ours, t);
            let theirs = humantime::format_rfc3339_nanos(UNIX_EPOCH + Duration::from_nanos(t)).to_string();
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn custom_formatters_are_used() {
        struct Bare;
        impl FormatRecord for Bare {
            fn format(&self, record: &Record, out: &mut String) {
                out.push_str(&record.message);
            }
        }
        let mut out = String::new();
        Format::Custom(Arc::new(Bare)).format(&sample(), &mut out);
        assert_eq!(out, "request handled in 17 ms");
    }
}
