//! A record as bytes in a queue chunk, and back.
//!
//! The caller writes its record into the chunk (and drops the record on its
//! own thread); the worker reads it back into one `Record` it reuses, so
//! neither side allocates per record in steady state, and nothing is freed
//! on another thread than the one that allocated it.
//!
//! Layout of one record (integers little-endian):
//!
//! ```text
//! u32 length of what follows the header   u32 bytes it holds of the budget
//! u64 time_ns   u8 level   u8 which optional parts follow (PRESENT_*)
//! str target   [str module] [str file] [u32 line] [str thread]
//! u32 + bytes message
//! u32 field count, each: str name, value
//! u32 span count (the spans themselves are in the chunk's span list)
//! [16 trace id, 8 span id, u8 sampled: 0 unknown, 1 no, 2 yes]
//! str:   u8 0 = the next of the chunk's static strings, or u8 1 + u32 + bytes
//! value: u8 tag (0 str, 1 i64, 2 u64, 3 f64, 4 bool) + u32 + bytes | 8 bytes | 1 byte
//! ```
//!
//! A `'static` string (most targets, module paths, files and field names)
//! is not copied: the chunk keeps the reference, as it keeps the `Arc` of
//! each span.

use std::borrow::Cow;
use std::sync::Arc;

use crate::record::{Level, Record, SpanInfo};
use crate::trace_context::TraceContext;
use crate::value::{set_owned, Field, Str, Text, Value};

const PRESENT_MODULE: u8 = 1;
const PRESENT_FILE: u8 = 2;
const PRESENT_LINE: u8 = 4;
const PRESENT_THREAD: u8 = 8;
const PRESENT_TRACE: u8 = 16;

const HEADER: usize = 8;
const TRACE: usize = 16 + 8 + 1;

/// What a record kept as a `'static` reference costs: the reference.
const STATIC_COST: usize = std::mem::size_of::<&'static str>();
/// What a span costs: its `Arc` in the chunk's list.
const SPAN_COST: usize = std::mem::size_of::<Arc<SpanInfo>>();

/// A line's keys, punctuation and time (escaped once more for the body)
/// beyond the texts the record holds: `{\"time\":\"2026-…Z\",\"level\":…}`.
const LINE_BASE: usize = 128;
/// Beyond its texts, what a field adds to the line (its key's quotes, a
/// number's digits).
const LINE_PER_FIELD: usize = 24;
/// Beyond its fields, what a span adds to the line.
const LINE_PER_SPAN: usize = 64;

/// The bytes, static references and spans one record takes in a chunk,
/// and the length of the `'static` texts it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Footprint {
    pub(crate) bytes: usize,
    pub(crate) statics: usize,
    pub(crate) spans: usize,
    pub(crate) fields: usize,
    pub(crate) static_text: usize,
}

impl Footprint {
    /// What it holds in the queue: its bytes, and the chunk's references.
    pub(crate) fn in_queue(&self) -> usize {
        self.bytes + self.statics * STATIC_COST + self.spans * SPAN_COST
    }

    /// An estimate of its line as the batch body holds it, which the worker
    /// corrects to the exact length when it writes the line.
    pub(crate) fn line_estimate(&self) -> usize {
        self.bytes + self.static_text + LINE_BASE + self.fields * LINE_PER_FIELD + self.spans * LINE_PER_SPAN
    }

    /// What it holds of the budget from the caller's send until its line is
    /// written: the larger of the two, so that the line seldom needs more.
    pub(crate) fn reserved(&self) -> usize {
        self.in_queue().max(self.line_estimate())
    }
}

/// What `record` takes in a chunk, without writing it.
pub(crate) fn footprint(record: &Record) -> Footprint {
    let mut f = Footprint {
        bytes: HEADER + 8 + 1 + 1,
        statics: 0,
        spans: record.spans.len(),
        fields: record.fields.len(),
        static_text: 0,
    };
    let mut str_len = |s: &Str| match s {
        Cow::Borrowed(s) => {
            f.bytes += 1;
            f.statics += 1;
            f.static_text += s.len();
        }
        Cow::Owned(s) => f.bytes += 1 + 4 + s.len(),
    };
    str_len(&record.target);
    for s in [&record.module_path, &record.file, &record.thread]
        .into_iter()
        .flatten()
    {
        str_len(s);
    }
    for field in record.fields.iter() {
        str_len(&field.name);
    }
    f.bytes += record.line.map_or(0, |_| 4);
    f.bytes += 4 + record.message.len();
    f.bytes += 4 + 4;
    for field in record.fields.iter() {
        f.bytes += 1 + match &field.value {
            Value::Str(s) => 4 + s.len(),
            Value::I64(_) | Value::U64(_) | Value::F64(_) => 8,
            Value::Bool(_) => 1,
        };
    }
    f.bytes += record.trace.map_or(0, |_| TRACE);
    f
}

/// Where a chunk's records go: its bytes, static strings and spans.
pub(crate) struct Sink<'a> {
    pub(crate) bytes: &'a mut Vec<u8>,
    pub(crate) statics: &'a mut Vec<&'static str>,
    pub(crate) spans: &'a mut Vec<Arc<SpanInfo>>,
}

impl Sink<'_> {
    /// Appends `record`, whose footprint is `f` (from [`footprint`]).
    pub(crate) fn write(&mut self, record: &Record, f: Footprint) {
        let start = self.bytes.len();
        let len = u32::try_from(f.bytes - HEADER).unwrap_or(u32::MAX);
        let reserved = u32::try_from(f.reserved()).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&reserved.to_le_bytes());
        self.bytes.extend_from_slice(&record.time_ns.to_le_bytes());
        self.bytes.push(level_byte(record.level));
        let mut present = 0;
        for (bit, on) in [
            (PRESENT_MODULE, record.module_path.is_some()),
            (PRESENT_FILE, record.file.is_some()),
            (PRESENT_LINE, record.line.is_some()),
            (PRESENT_THREAD, record.thread.is_some()),
            (PRESENT_TRACE, record.trace.is_some()),
        ] {
            if on {
                present |= bit;
            }
        }
        self.bytes.push(present);
        self.str(&record.target);
        if let Some(s) = &record.module_path {
            self.str(s);
        }
        if let Some(s) = &record.file {
            self.str(s);
        }
        if let Some(line) = record.line {
            self.bytes.extend_from_slice(&line.to_le_bytes());
        }
        if let Some(s) = &record.thread {
            self.str(s);
        }
        self.text(record.message.as_bytes());
        self.count(record.fields.len());
        for field in record.fields.iter() {
            self.str(&field.name);
            match &field.value {
                Value::Str(s) => {
                    self.bytes.push(0);
                    self.text(s.as_bytes());
                }
                Value::I64(v) => {
                    self.bytes.push(1);
                    self.bytes.extend_from_slice(&v.to_le_bytes());
                }
                Value::U64(v) => {
                    self.bytes.push(2);
                    self.bytes.extend_from_slice(&v.to_le_bytes());
                }
                Value::F64(v) => {
                    self.bytes.push(3);
                    self.bytes.extend_from_slice(&v.to_bits().to_le_bytes());
                }
                Value::Bool(v) => {
                    self.bytes.push(4);
                    self.bytes.push(u8::from(*v));
                }
            }
        }
        self.count(record.spans.len());
        self.spans.extend(record.spans.iter().cloned());
        if let Some(t) = &record.trace {
            self.bytes.extend_from_slice(&t.trace_id);
            self.bytes.extend_from_slice(&t.span_id);
            self.bytes.push(match t.sampled {
                None => 0,
                Some(false) => 1,
                Some(true) => 2,
            });
        }
        debug_assert_eq!(
            self.bytes.len() - start,
            f.bytes,
            "footprint and written bytes disagree"
        );
    }

    fn str(&mut self, s: &Str) {
        match s {
            Cow::Borrowed(s) => {
                self.bytes.push(0);
                self.statics.push(s);
            }
            Cow::Owned(s) => {
                self.bytes.push(1);
                self.text(s.as_bytes());
            }
        }
    }

    fn text(&mut self, s: &[u8]) {
        self.count(s.len());
        self.bytes.extend_from_slice(s);
    }

    fn count(&mut self, n: usize) {
        self.bytes
            .extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }
}

fn level_byte(level: Level) -> u8 {
    match level {
        Level::Trace => 0,
        Level::Debug => 1,
        Level::Info => 2,
        Level::Warn => 3,
        Level::Error => 4,
    }
}

fn byte_level(b: u8) -> Option<Level> {
    Some(match b {
        0 => Level::Trace,
        1 => Level::Debug,
        2 => Level::Info,
        3 => Level::Warn,
        4 => Level::Error,
        _ => return None,
    })
}

/// Reads a chunk's records back, in order.
pub(crate) struct Source<'a> {
    bytes: &'a [u8],
    statics: std::slice::Iter<'a, &'static str>,
    spans: std::vec::Drain<'a, Arc<SpanInfo>>,
}

impl<'a> Source<'a> {
    pub(crate) fn new(bytes: &'a [u8], statics: &'a [&'static str], spans: &'a mut Vec<Arc<SpanInfo>>) -> Source<'a> {
        Source {
            bytes,
            statics: statics.iter(),
            spans: spans.drain(..),
        }
    }

    /// Reads the next record into `into` (its buffers reused), returning the
    /// bytes it holds of the budget; `None` at the end. The bytes are the
    /// queue's own (written by [`Sink::write`]): a record that does not read
    /// back ends the chunk rather than panic.
    pub(crate) fn next_into(&mut self, into: &mut Record) -> Option<usize> {
        if self.bytes.is_empty() {
            return None;
        }
        let read = self.read(into);
        if read.is_none() {
            self.bytes = &[];
        }
        read
    }

    fn read(&mut self, r: &mut Record) -> Option<usize> {
        let len = self.u32()? as usize;
        let reserved = self.u32()? as usize;
        if self.bytes.len() < len {
            return None;
        }
        r.time_ns = u64::from_le_bytes(self.take(8)?.try_into().ok()?);
        r.level = byte_level(self.take(1)?[0])?;
        let present = self.take(1)?[0];
        self.str_into(&mut r.target)?;
        r.module_path = self.optional_str(present & PRESENT_MODULE != 0, r.module_path.take())?;
        r.file = self.optional_str(present & PRESENT_FILE != 0, r.file.take())?;
        r.line = if present & PRESENT_LINE != 0 {
            Some(self.u32()?)
        } else {
            None
        };
        r.thread = self.optional_str(present & PRESENT_THREAD != 0, r.thread.take())?;
        r.message.clear();
        r.message.push_str(self.text()?);
        let fields = self.u32()? as usize;
        r.fields.clear();
        for _ in 0..fields {
            let mut name = Cow::Borrowed("");
            self.str_into(&mut name)?;
            let value = match self.take(1)?[0] {
                0 => Value::Str(Text::from(self.text()?)),
                1 => Value::I64(i64::from_le_bytes(self.take(8)?.try_into().ok()?)),
                2 => Value::U64(u64::from_le_bytes(self.take(8)?.try_into().ok()?)),
                3 => Value::F64(f64::from_bits(u64::from_le_bytes(self.take(8)?.try_into().ok()?))),
                4 => Value::Bool(self.take(1)?[0] != 0),
                _ => return None,
            };
            r.fields.push(Field { name, value });
        }
        let spans = self.u32()? as usize;
        r.spans.clear();
        for _ in 0..spans {
            r.spans.push(self.spans.next()?);
        }
        r.trace = if present & PRESENT_TRACE != 0 {
            let b = self.take(TRACE)?;
            Some(TraceContext {
                trace_id: b[..16].try_into().ok()?,
                span_id: b[16..24].try_into().ok()?,
                sampled: match b[24] {
                    0 => None,
                    1 => Some(false),
                    _ => Some(true),
                },
            })
        } else {
            None
        };
        Some(reserved)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn text(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }

    /// Reads a string into `slot`, reusing its buffer when it owns one.
    fn str_into(&mut self, slot: &mut Str) -> Option<()> {
        match self.take(1)?[0] {
            0 => *slot = Cow::Borrowed(self.statics.next()?),
            _ => set_owned(slot, self.text()?),
        }
        Some(())
    }

    fn optional_str(&mut self, present: bool, old: Option<Str>) -> Option<Option<Str>> {
        if !present {
            return Some(None);
        }
        let mut slot = old.unwrap_or(Cow::Borrowed(""));
        self.str_into(&mut slot)?;
        Some(Some(slot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Fields;

    fn round_trip(records: &[Record]) -> Vec<(Record, usize)> {
        let (mut bytes, mut statics, mut spans) = (Vec::new(), Vec::new(), Vec::new());
        let mut sink = Sink {
            bytes: &mut bytes,
            statics: &mut statics,
            spans: &mut spans,
        };
        let mut expected_len = 0;
        for r in records {
            let f = footprint(r);
            sink.write(r, f);
            expected_len += f.bytes;
        }
        assert_eq!(bytes.len(), expected_len);
        let mut source = Source::new(&bytes, &statics, &mut spans);
        let mut out = Vec::new();
        // One record reused for all, as the worker does.
        let mut scratch = Record::new(0, Level::Trace, "", String::new());
        while let Some(size) = source.next_into(&mut scratch) {
            out.push((scratch.clone(), size));
        }
        out
    }

    fn full_record() -> Record {
        let mut fields = Fields::new();
        fields.push(Field::new("static_name", "short"));
        fields.push(Field::new(
            String::from("owned_name"),
            "a value longer than thirty bytes, on the heap",
        ));
        fields.push(Field::new("i", -5_i64));
        fields.push(Field::new("u", u64::MAX));
        fields.push(Field::new("f", 1.5_f64));
        fields.push(Field::new("b", true));
        let span = Arc::new(SpanInfo {
            id: 7,
            name: "request".into(),
            fields: Fields::new(),
        });
        let mut r = Record::new(
            1_700_000_000_123_456_789,
            Level::Warn,
            String::from("owned::target"),
            "hé llo",
        );
        r.module_path = Some("my_app::db".into());
        r.file = Some(String::from("src/db.rs").into());
        r.line = Some(42);
        r.thread = Some("main".into());
        r.fields = fields;
        r.spans = vec![span.clone(), span];
        r.trace = Some(TraceContext {
            trace_id: [1; 16],
            span_id: [2; 8],
            sampled: Some(true),
        });
        r
    }

    #[test]
    fn records_read_back_as_written_with_their_reservation() {
        let plain = Record::new(5, Level::Info, "t", "m");
        let records = [full_record(), plain.clone(), full_record(), plain.clone()];
        let back = round_trip(&records);
        assert_eq!(back.len(), 4);
        for ((got, size), want) in back.iter().zip(&records) {
            assert_eq!(got, want);
            assert_eq!(*size, footprint(want).reserved());
        }
        // "t": one static reference; header 8 + time 8 + level 1 + present 1
        // + target tag 1 + message 4 + 1 + two counts 8.
        let f = footprint(&plain);
        assert_eq!(
            f,
            Footprint {
                bytes: 32,
                statics: 1,
                spans: 0,
                fields: 0,
                static_text: 1
            }
        );
        assert_eq!(f.in_queue(), 32 + 16);
        assert_eq!(f.line_estimate(), 32 + 1 + LINE_BASE);
        assert_eq!(f.reserved(), f.line_estimate());
    }

    #[test]
    fn the_spans_travel_by_reference() {
        let r = full_record();
        let span = r.spans[0].clone();
        let back = round_trip(std::slice::from_ref(&r));
        assert!(Arc::ptr_eq(&back[0].0.spans[0], &span));
        assert_eq!(footprint(&r).spans, 2);
    }

    #[test]
    fn cut_bytes_end_the_chunk_without_a_panic() {
        let r = full_record();
        let (mut bytes, mut statics, mut spans) = (Vec::new(), Vec::new(), Vec::new());
        Sink {
            bytes: &mut bytes,
            statics: &mut statics,
            spans: &mut spans,
        }
        .write(&r, footprint(&r));
        for cut in 0..bytes.len() {
            let mut spans = spans.clone();
            let mut source = Source::new(&bytes[..cut], &statics, &mut spans);
            let mut scratch = Record::new(0, Level::Trace, "", String::new());
            assert_eq!(source.next_into(&mut scratch), None, "cut at {cut}");
        }
    }
}
