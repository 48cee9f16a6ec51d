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

use crate::encode::write_json_str;
use crate::record::{Field, Record, Value};

/// A formatter of records into log lines, for [`Format::Custom`].
///
/// `out` is empty when called and reused between records; write exactly one
/// line into it. A line longer than the configured line limit is cut by the
/// pipeline with a visible marker.
pub trait FormatRecord: Send + Sync + 'static {
    /// Writes the log line for `record` into `out`.
    fn format(&self, record: &Record, out: &mut String);
}

/// How records become log lines.
#[derive(Clone, Default)]
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
            Format::Json => json_line(record, out),
            Format::Text => text_line(record, out),
            Format::Custom(f) => f.format(record, out),
        }
    }
}

/// Writes `time_ns` as RFC 3339 UTC with nine fractional digits.
pub fn write_rfc3339_nanos(out: &mut String, time_ns: u64) {
    let t = UNIX_EPOCH + Duration::from_nanos(time_ns);
    let _ = write!(out, "{}", humantime::format_rfc3339_nanos(t));
}

fn json_line(r: &Record, out: &mut String) {
    out.push_str("{\"time\":\"");
    write_rfc3339_nanos(out, r.time_ns);
    out.push_str("\",\"level\":\"");
    out.push_str(r.level.as_str());
    out.push_str("\",\"target\":");
    write_json_str(out, &r.target);
    out.push_str(",\"message\":");
    write_json_str(out, &r.message);
    out.push_str(",\"fields\":");
    json_fields(out, &r.fields);
    if !r.spans.is_empty() {
        out.push_str(",\"spans\":[");
        for (i, s) in r.spans.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            write_json_str(out, &s.name);
            let _ = write!(out, ",\"id\":{},\"fields\":", s.id);
            json_fields(out, &s.fields);
            out.push('}');
        }
        out.push(']');
    }
    if let Some(m) = r.module_path.as_deref().filter(|m| *m != r.target) {
        out.push_str(",\"module\":");
        write_json_str(out, m);
    }
    if let Some(file) = &r.file {
        out.push_str(",\"file\":");
        write_json_str(out, file);
    }
    if let Some(line) = r.line {
        let _ = write!(out, ",\"line\":{line}");
    }
    if let Some(thread) = &r.thread {
        out.push_str(",\"thread\":");
        write_json_str(out, thread);
    }
    out.push('}');
}

/// Writes fields as a JSON object. A name that repeats keeps every value:
/// JSON readers keep the last one, as tracing's JSON formatter does.
fn json_fields(out: &mut String, fields: &[Field]) {
    out.push('{');
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, &f.name);
        out.push(':');
        json_value(out, &f.value);
    }
    out.push('}');
}

fn json_value(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) => write_json_str(out, s),
        Value::I64(v) => {
            let _ = write!(out, "{v}");
        }
        Value::U64(v) => {
            let _ = write!(out, "{v}");
        }
        // A whole float keeps its ".0", so it still reads as a float.
        Value::F64(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e16 => {
            let _ = write!(out, "{v:.1}");
        }
        Value::F64(v) if v.is_finite() => {
            let _ = write!(out, "{v}");
        }
        Value::F64(v) => {
            let _ = write!(out, "\"{v}\"");
        }
        Value::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
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
            fields: vec![Field::new("method", "GET")],
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
