//! The line stage: a record becomes one log line that fits the line limit,
//! written as a JSON string literal ready for the request body.
//!
//! A line that fits is written as is. A JSON or text line that does not fit
//! is made to fit by cutting the record's strings, never the line itself,
//! so a JSON line stays valid JSON and a text line stays one line:
//!
//! 1. Every string longer than a cap (the message, the target, module, file
//!    and thread, field names and string values, span names and their
//!    fields) keeps its first `cap` bytes (at a char boundary) followed by
//!    `…[truncated N bytes]`. The cap is the largest that fits (a binary
//!    search), so only what is long is cut, and no more than needed.
//! 2. When even cutting every string to its marker is not enough (many
//!    short fields), the fewest parts needed are dropped, from the last
//!    field backwards, then the innermost spans, then the thread, module and
//!    file keys; the message then ends with `…[dropped N fields, M spans, K
//!    keys]` (the parts that are zero left out). Step 1 then runs on what is
//!    left.
//!
//! A [`Format::Custom`] line can only be cut as text: its end is replaced
//! by the marker, which may leave a JSON line invalid.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::encode::write_json_str;
use crate::format::{json_line_bound, json_line_embedded, Format};
use crate::record::{Record, SpanInfo};
use crate::value::{Field, Fields, Str, Value};

/// What a cut string ends with: `…[truncated N bytes]`.
pub(crate) fn truncation_marker(cut: usize) -> String {
    format!("…[truncated {cut} bytes]")
}

/// The longest a marker can be.
pub(crate) const MARKER_MAX: usize = "…[truncated 18446744073709551615 bytes]".len();

/// Cuts `s` so that it, with the marker, is at most `limit` bytes, at a char
/// boundary. Returns the number of bytes cut, 0 if `s` already fits.
pub(crate) fn truncate_with_marker(s: &mut String, limit: usize) -> usize {
    if s.len() <= limit {
        return 0;
    }
    // Keep as much as the marker for what is cut leaves room for.
    let mut keep = floor_char_boundary(s, limit.saturating_sub(MARKER_MAX));
    loop {
        let more = floor_char_boundary(s, limit.saturating_sub(truncation_marker(s.len() - keep).len()));
        if more <= keep {
            break;
        }
        keep = more;
    }
    let cut = s.len() - keep;
    s.truncate(keep);
    s.push_str(&truncation_marker(cut));
    cut
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The length of `s` once written as a JSON string literal.
pub(crate) fn escaped_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' => 2,
            0x00..=0x1f | 0x7f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// What was cut from one line: bytes cut from strings, and parts (fields,
/// spans, keys) dropped whole.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cut {
    pub(crate) bytes: usize,
    pub(crate) dropped: usize,
}

impl Cut {
    /// Whether anything was cut (the line counts in `Stats::truncated`).
    pub(crate) fn is_cut(&self) -> bool {
        self.bytes > 0 || self.dropped > 0
    }
}

/// How a record is shrunk: strings longer than `cap` are cut, the last
/// `drop` parts are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    cap: usize,
    drop: usize,
}

/// Formats records into lines that fit: at most `max_line` bytes, and at
/// most `max_escaped` bytes once written as a JSON string literal (what one
/// batch can carry).
pub(crate) struct LineEncoder {
    format: Format,
    max_line: usize,
    max_escaped: usize,
    line: String,
}

impl LineEncoder {
    pub(crate) fn new(format: Format, max_line: usize, max_escaped: usize) -> LineEncoder {
        LineEncoder {
            format,
            max_line,
            max_escaped,
            line: String::new(),
        }
    }

    /// Writes the line of `record`, cut to fit when it is too long, into
    /// `escaped` (cleared first) as a JSON string literal. Returns what was cut.
    pub(crate) fn encode(&mut self, record: &Record, escaped: &mut String) -> Cut {
        escaped.clear();
        if matches!(self.format, Format::Json) && json_line_bound(record) <= self.max_line.min(self.max_escaped) {
            // The usual case: the line surely fits, so it is written once,
            // already escaped for the body.
            escaped.push('"');
            json_line_embedded(record, escaped);
            escaped.push('"');
            return Cut::default();
        }
        let cut = self.fit(record);
        write_json_str(escaped, &self.line);
        cut
    }

    fn fits(&self, line: &str) -> bool {
        line.len() <= self.max_line && escaped_len(line) <= self.max_escaped
    }

    /// Formats `record` into `self.line`, cut to fit.
    fn fit(&mut self, record: &Record) -> Cut {
        self.line.clear();
        self.format.format(record, &mut self.line);
        if self.fits(&self.line) {
            return Cut::default();
        }
        match self.format {
            Format::Json | Format::Text => self.fit_record(record),
            Format::Custom(_) => self.fit_text(),
        }
    }

    /// Cuts the formatted line itself (all a custom format allows).
    fn fit_text(&mut self) -> Cut {
        let original = std::mem::take(&mut self.line);
        let mut limit = self.max_line.min(self.max_escaped);
        loop {
            self.line.clear();
            self.line.push_str(&original);
            let bytes = truncate_with_marker(&mut self.line, limit);
            if self.fits(&self.line) || limit <= MARKER_MAX {
                return Cut { bytes, dropped: 0 };
            }
            limit = limit * 3 / 4;
        }
    }

    /// Whether the record shrunk by `plan` fits; leaves its line in `self.line`.
    fn try_plan(&mut self, record: &Record, plan: Plan) -> (bool, Cut) {
        let (shrunk, cut) = shrink(record, plan);
        self.line.clear();
        self.format.format(&shrunk, &mut self.line);
        (self.fits(&self.line), cut)
    }

    /// Shrinks the record as little as the limits allow (see the module
    /// documentation) and formats it into `self.line`.
    fn fit_record(&mut self, record: &Record) -> Cut {
        let mut drop = 0;
        if !self.try_plan(record, Plan { cap: 0, drop: 0 }).0 {
            let parts = droppable(record);
            if !self.try_plan(record, Plan { cap: 0, drop: parts }).0 {
                // Limits smaller than any line with a marker (the config
                // allows no such limit): cut the line as text.
                self.line.clear();
                self.format.format(record, &mut self.line);
                return self.fit_text();
            }
            // The fewest parts dropped that let the line fit.
            let (mut lo, mut hi) = (1, parts);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if self.try_plan(record, Plan { cap: 0, drop: mid }).0 {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            drop = lo;
        }
        // The largest cap that fits: strings no longer than it are kept whole.
        let (mut lo, mut hi) = (0, longest(record));
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.try_plan(record, Plan { cap: mid, drop }).0 {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let (fits, cut) = self.try_plan(record, Plan { cap: lo, drop });
        debug_assert!(fits);
        cut
    }
}

/// The parts that can be dropped whole: fields, spans, and the module,
/// file and thread keys.
fn droppable(r: &Record) -> usize {
    r.fields.len()
        + r.spans.len()
        + usize::from(r.thread.is_some())
        + usize::from(r.module_path.is_some())
        + usize::from(r.file.is_some())
}

/// The longest string of the record.
fn longest(r: &Record) -> usize {
    let fields = |fs: &[Field]| {
        fs.iter()
            .map(|f| {
                f.name.len().max(match &f.value {
                    Value::Str(s) => s.len(),
                    _ => 0,
                })
            })
            .max()
            .unwrap_or(0)
    };
    [
        r.message.len(),
        r.target.len(),
        r.module_path.as_ref().map_or(0, |s| s.len()),
        r.file.as_ref().map_or(0, |s| s.len()),
        r.thread.as_ref().map_or(0, |s| s.len()),
        fields(&r.fields),
        r.spans
            .iter()
            .map(|s| s.name.len().max(fields(&s.fields)))
            .max()
            .unwrap_or(0),
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
}

/// `s` cut to its first `cap` bytes (at a char boundary) and the marker,
/// or `None` when it is not longer than `cap` or cutting would not make it
/// shorter. Adds the bytes cut to `bytes`.
fn cut_to(s: &str, cap: usize, bytes: &mut usize) -> Option<String> {
    if s.len() <= cap {
        return None;
    }
    let keep = floor_char_boundary(s, cap);
    let marker = truncation_marker(s.len() - keep);
    if keep + marker.len() >= s.len() {
        return None;
    }
    *bytes += s.len() - keep;
    let mut out = String::with_capacity(keep + marker.len());
    out.push_str(&s[..keep]);
    out.push_str(&marker);
    Some(out)
}

fn cut_str(s: &Str, cap: usize, bytes: &mut usize) -> Str {
    cut_to(s, cap, bytes).map_or_else(|| s.clone(), Str::Owned)
}

fn cut_fields(fields: &[Field], cap: usize, bytes: &mut usize) -> Fields {
    let mut out = Fields::with_capacity(fields.len());
    for f in fields {
        let value = match &f.value {
            Value::Str(s) => cut_to(s, cap, bytes).map_or_else(|| f.value.clone(), Value::from),
            other => other.clone(),
        };
        out.push(Field {
            name: cut_str(&f.name, cap, bytes),
            value,
        });
    }
    out
}

/// The record shrunk by `plan`, and what that cut.
fn shrink(r: &Record, plan: Plan) -> (Record, Cut) {
    let Plan { cap, drop } = plan;
    let mut bytes = 0;
    let b = &mut bytes;
    // Dropped in this order: fields from the last, spans from the innermost,
    // then the thread, module and file keys.
    let drop_fields = drop.min(r.fields.len());
    let drop_spans = (drop - drop_fields).min(r.spans.len());
    let mut drop_keys = drop - drop_fields - drop_spans;
    let mut keep_key = |key: &Option<Str>| -> bool {
        if key.is_some() && drop_keys > 0 {
            drop_keys -= 1;
            return false;
        }
        true
    };
    let thread = keep_key(&r.thread);
    let module = keep_key(&r.module_path);
    let file = keep_key(&r.file);
    let dropped_keys = usize::from(!thread) + usize::from(!module) + usize::from(!file);

    let mut message = cut_to(&r.message, cap, b).unwrap_or_else(|| r.message.clone());
    if drop > 0 {
        message.push_str("…[dropped ");
        let parts = [(drop_fields, "fields"), (drop_spans, "spans"), (dropped_keys, "keys")];
        let mut first = true;
        for (n, what) in parts.into_iter().filter(|(n, _)| *n > 0) {
            let _ = write!(message, "{}{n} {what}", if first { "" } else { ", " });
            first = false;
        }
        message.push(']');
    }
    let spans = r.spans[..r.spans.len() - drop_spans]
        .iter()
        .map(|s| {
            Arc::new(SpanInfo {
                id: s.id,
                name: cut_str(&s.name, cap, b),
                fields: cut_fields(&s.fields, cap, b),
            })
        })
        .collect();
    let shrunk = Record {
        time_ns: r.time_ns,
        level: r.level,
        target: cut_str(&r.target, cap, b),
        module_path: r.module_path.as_ref().filter(|_| module).map(|s| cut_str(s, cap, b)),
        file: r.file.as_ref().filter(|_| file).map(|s| cut_str(s, cap, b)),
        line: r.line,
        thread: r.thread.as_ref().filter(|_| thread).map(|s| cut_str(s, cap, b)),
        message,
        fields: cut_fields(&r.fields[..r.fields.len() - drop_fields], cap, b),
        spans,
        trace: r.trace,
    };
    let dropped = drop_fields + drop_spans + dropped_keys;
    (shrunk, Cut { bytes, dropped })
}

#[cfg(test)]
mod tests;
