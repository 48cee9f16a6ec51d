//! Request bodies: JSON escaping, the two reporting APIs' body shapes, and
//! compression. Lines are escaped once and written straight into the body.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

use crate::config::{Api, Compression};

/// Which bytes JSON escapes: `"`, `\\`, and the control characters
/// (and DEL, escaped as `\u007f` to keep lines printable).
static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[0x7f] = true;
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` JSON-escaped (no quotes); `twice` escapes the result once
/// more, for a JSON text that is itself the content of a JSON string.
fn escape_into(out: &mut String, s: &str, twice: bool) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !NEEDS_ESCAPE[b as usize] {
            continue;
        }
        // Every byte escaped is ASCII, so `i` is a char boundary.
        out.push_str(&s[start..i]);
        let fixed = match (b, twice) {
            (b'"', false) => "\\\"",
            (b'"', true) => "\\\\\\\"",
            (b'\\', false) => "\\\\",
            (b'\\', true) => "\\\\\\\\",
            (b'\n', false) => "\\n",
            (b'\n', true) => "\\\\n",
            (b'\r', false) => "\\r",
            (b'\r', true) => "\\\\r",
            (b'\t', false) => "\\t",
            (b'\t', true) => "\\\\t",
            _ => "",
        };
        if fixed.is_empty() {
            out.push_str(if twice { "\\\\u00" } else { "\\u00" });
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(fixed);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Appends `s` to `out` as a JSON string literal (quotes included).
pub(crate) fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s, false);
    out.push('"');
}

/// Where a JSON text is written: as is, or already escaped as the content
/// of a JSON string, so that the worker writes a JSON log line straight
/// into the request body's `"log":"..."` in one pass.
pub(crate) struct JsonOut<'a> {
    pub(crate) buf: &'a mut String,
    embedded: bool,
}

impl<'a> JsonOut<'a> {
    pub(crate) fn plain(buf: &'a mut String) -> Self {
        JsonOut { buf, embedded: false }
    }

    pub(crate) fn embedded(buf: &'a mut String) -> Self {
        JsonOut { buf, embedded: true }
    }

    /// Text with no character JSON escapes (structure, numbers, keys).
    pub(crate) fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    pub(crate) fn quote(&mut self) {
        self.buf.push_str(if self.embedded { "\\\"" } else { "\"" });
    }

    /// A string value or key, quoted and escaped.
    pub(crate) fn string(&mut self, s: &str) {
        self.quote();
        escape_into(self.buf, s, self.embedded);
        self.quote();
    }
}

/// The `labels` object, encoded once when the worker starts.
pub(crate) fn labels_json(labels: &BTreeMap<String, String>) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(&mut out, k);
        out.push(':');
        write_json_str(&mut out, v);
    }
    out.push('}');
    out
}

/// A request body being written, one escaped line at a time.
///
/// High-accuracy: `{"contents":[{"log_time_ns":N,"log":"..."},...],"labels":{...}}`.
/// Standard: `{"log_time_ns":N,"contents":["...",...],"labels":{...}}`, where
/// `N` is the first event's time (the service gives event `i` the time
/// `N + i`, so the per-event times are lost).
#[derive(Debug)]
pub(crate) struct Body {
    api: Api,
    buf: String,
    events: usize,
    suffix_len: usize,
}

/// The most bytes `log_time_ns` can take as a number.
const TIME_DIGITS_MAX: usize = 20;

impl Body {
    pub(crate) fn new(api: Api, labels_json: &str) -> Body {
        Body {
            api,
            buf: String::new(),
            events: 0,
            suffix_len: "],\"labels\":}".len() + labels_json.len(),
        }
    }

    pub(crate) fn events(&self) -> usize {
        self.events
    }

    /// The body's length if an entry with an escaped line of `escaped_len`
    /// bytes were added and the body closed (an upper bound).
    pub(crate) fn len_with(&self, escaped_len: usize) -> usize {
        let entry = match self.api {
            Api::HighAccuracy => "{\"log_time_ns\":,\"log\":},".len() + TIME_DIGITS_MAX,
            Api::Standard => 1,
        };
        let prefix = match (self.api, self.events) {
            (Api::HighAccuracy, 0) => "{\"contents\":[".len(),
            (Api::Standard, 0) => "{\"log_time_ns\":,\"contents\":[".len() + TIME_DIGITS_MAX,
            _ => 0,
        };
        self.buf.len() + prefix + entry + escaped_len + self.suffix_len
    }

    /// Adds one event whose line is already a JSON string literal.
    pub(crate) fn push(&mut self, time_ns: u64, escaped_line: &str) {
        let first = self.events == 0;
        match self.api {
            Api::HighAccuracy => {
                self.buf.push_str(if first { "{\"contents\":[" } else { "," });
                let _ = write!(self.buf, "{{\"log_time_ns\":{time_ns},\"log\":");
                self.buf.push_str(escaped_line);
                self.buf.push('}');
            }
            Api::Standard => {
                if first {
                    let _ = write!(self.buf, "{{\"log_time_ns\":{time_ns},\"contents\":[");
                } else {
                    self.buf.push(',');
                }
                self.buf.push_str(escaped_line);
            }
        }
        self.events += 1;
    }

    /// Closes the body and returns it, leaving this one empty for reuse.
    pub(crate) fn finish(&mut self, labels_json: &str) -> String {
        self.buf.push_str("],\"labels\":");
        self.buf.push_str(labels_json);
        self.buf.push('}');
        self.events = 0;
        std::mem::take(&mut self.buf)
    }
}

/// Compresses a finished body for the wire. Returns the bytes to send and
/// the `Content-Encoding` to send with them.
pub(crate) fn compress(
    compression: Compression,
    gzip_level: u32,
    raw: String,
) -> std::io::Result<(Vec<u8>, Option<&'static str>)> {
    match compression {
        Compression::None => Ok((raw.into_bytes(), None)),
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(raw.len() / 4 + 64),
                flate2::Compression::new(gzip_level),
            );
            enc.write_all(raw.as_bytes())?;
            Ok((enc.finish()?, Some("gzip")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut out = String::new();
        write_json_str(&mut out, s);
        out
    }

    #[test]
    fn escaping_matches_serde_json_for_every_ascii_byte_and_some_unicode() {
        let mut s: String = (0u8..128).map(char::from).collect();
        s.push_str("é€😀\u{2028}");
        let ours = esc(&s);
        let back: String = serde_json::from_str(&ours).unwrap();
        assert_eq!(back, s);
        assert_eq!(esc("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn embedded_output_is_the_plain_output_escaped_once_more() {
        let samples = [
            "",
            "plain",
            "q\"uote",
            "back\\slash",
            "nl\ncr\rtab\t",
            "\u{1}\u{7f}é€😀",
            "\\\"\n",
        ];
        for s in samples {
            let mut plain = String::new();
            JsonOut::plain(&mut plain).string(s);
            let mut embedded = String::new();
            JsonOut::embedded(&mut embedded).string(s);
            assert_eq!(embedded, {
                let mut e = String::new();
                escape_into(&mut e, &plain, false);
                e
            });
        }
    }

    #[test]
    fn high_accuracy_body_has_the_documented_shape() {
        let labels = labels_json(&BTreeMap::from([("app".into(), "web \"1\"".into())]));
        let mut body = Body::new(Api::HighAccuracy, &labels);
        body.push(1586850540000000000, &esc("first line"));
        body.push(1586850540000000008, &esc("second line"));
        let predicted = body.len();
        let out = body.finish(&labels);
        assert_eq!(
            out,
            r#"{"contents":[{"log_time_ns":1586850540000000000,"log":"first line"},{"log_time_ns":1586850540000000008,"log":"second line"}],"labels":{"app":"web \"1\""}}"#
        );
        assert!(out.len() <= predicted + 64);
        assert_eq!(body.events(), 0);
    }

    #[test]
    fn standard_body_carries_the_first_time_only() {
        let mut body = Body::new(Api::Standard, "{}");
        body.push(7, &esc("a"));
        body.push(9, &esc("b"));
        assert_eq!(
            body.finish("{}"),
            r#"{"log_time_ns":7,"contents":["a","b"],"labels":{}}"#
        );
    }

    #[test]
    fn len_with_is_an_upper_bound_on_the_closed_body() {
        for api in [Api::HighAccuracy, Api::Standard] {
            let mut body = Body::new(api, r#"{"k":"v"}"#);
            for i in 0..5u64 {
                let line = esc(&"x".repeat(i as usize * 10));
                let bound = body.len_with(line.len());
                body.push(u64::MAX - i, &line);
                let mut copy = Body {
                    buf: body.buf.clone(),
                    ..Body::new(api, r#"{"k":"v"}"#)
                };
                copy.events = body.events;
                assert!(copy.finish(r#"{"k":"v"}"#).len() <= bound);
            }
        }
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read as _;
        let raw = "{\"contents\":[]}".repeat(100);
        let (wire, enc) = compress(Compression::Gzip, 1, raw.clone()).unwrap();
        assert_eq!(enc, Some("gzip"));
        assert!(wire.len() < raw.len());
        let mut back = String::new();
        flate2::read::GzDecoder::new(&wire[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, raw);
    }

    impl Body {
        fn len(&self) -> usize {
            self.buf.len() + self.suffix_len
        }
    }
}
