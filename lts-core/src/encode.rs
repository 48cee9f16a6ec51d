//! Request bodies: JSON escaping, the two reporting APIs' body shapes, and
//! compression. Lines are escaped once and written straight into the body.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::payload::Compression;

/// Which reporting API to use.
///
/// # Example
///
/// ```
/// let builder = lts_core::Config::builder().api(lts_core::Api::Standard);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Api {
    /// `.../tenant/contents/high-accuracy`: every event carries its own
    /// nanosecond time. The default.
    #[default]
    HighAccuracy,
    /// `.../tenant/contents`: one time per batch, the first event's; the
    /// service gives event `i` that time plus `i` ns, so per-event times are
    /// lost. Only for endpoints that lack the high-accuracy API.
    Standard,
}

impl Api {
    /// The end of its reporting path, after the stream id.
    pub(crate) fn path_suffix(self) -> &'static str {
        match self {
            Api::HighAccuracy => "/tenant/contents/high-accuracy",
            Api::Standard => "/tenant/contents",
        }
    }
}

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
    // Most text needs no escaping: skip it eight bytes at a time.
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        if any_needs_escape(u64::from_le_bytes(word)) {
            break;
        }
        i += 8;
    }
    for (i, &b) in bytes.iter().enumerate().skip(i) {
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

/// Whether any of the eight bytes of `w` is one [`NEEDS_ESCAPE`] marks: a
/// control character, `"`, `\\` or DEL. Exact (no false answers): a byte
/// under 0x20 shows as a borrow into its top bit only where its own top bit
/// was clear, and an equal byte is a zero byte after the XOR.
#[inline]
fn any_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS != 0;
    control
        || has_zero(w ^ (ONES * u64::from(b'"')))
        || has_zero(w ^ (ONES * u64::from(b'\\')))
        || has_zero(w ^ (ONES * 0x7f))
}

/// Appends the decimal digits of `v`, zero-padded to at least `width`
/// (at most 20) digits. What `write!(out, "{v:0width$}")` gives, without the
/// formatting machinery (the worker writes several numbers per event).
pub(crate) fn push_decimal(out: &mut String, mut v: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let start = i.min(digits.len() - width.min(digits.len()));
    // ASCII digits: always valid UTF-8.
    out.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
}

/// Appends `v` in decimal, with a `-` when negative.
pub(crate) fn push_signed(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_decimal(out, v.unsigned_abs(), 1);
}

/// Appends `s` to `out` as a JSON string literal (quotes included).
pub(crate) fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s, false);
    out.push('"');
}

/// An object key known when compiling, with the separator before it and
/// the colon after it, in both forms [`JsonOut`] writes: made by `key!`.
pub(crate) struct Key {
    pub(crate) plain: &'static str,
    pub(crate) embedded: &'static str,
}

/// `key!("name")` is the key `"name":`, `key!(, "name")` is `,"name":`;
/// the name must need no escaping.
macro_rules! key {
    ($name:literal) => {
        $crate::encode::Key {
            plain: concat!("\"", $name, "\":"),
            embedded: concat!("\\\"", $name, "\\\":"),
        }
    };
    (, $name:literal) => {
        $crate::encode::Key {
            plain: concat!(",\"", $name, "\":"),
            embedded: concat!(",\\\"", $name, "\\\":"),
        }
    };
}
pub(crate) use key;

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

    /// A key with its punctuation, written as one piece.
    pub(crate) fn key(&mut self, k: &Key) {
        self.buf.push_str(if self.embedded { k.embedded } else { k.plain });
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

/// What closes a batch's body after `"labels":`: the labels object, and
/// `,"tenant_project_id":"..."` when one is set.
pub(crate) fn batch_tail(labels: &BTreeMap<String, String>, tenant_project_id: Option<&str>) -> String {
    let mut out = labels_json(labels);
    if let Some(t) = tenant_project_id {
        out.push_str(",\"tenant_project_id\":");
        write_json_str(&mut out, t);
    }
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
                self.buf.push_str("{\"log_time_ns\":");
                push_decimal(&mut self.buf, time_ns, 1);
                self.buf.push_str(",\"log\":");
                self.buf.push_str(escaped_line);
                self.buf.push('}');
            }
            Api::Standard => {
                if first {
                    self.buf.push_str("{\"log_time_ns\":");
                    push_decimal(&mut self.buf, time_ns, 1);
                    self.buf.push_str(",\"contents\":[");
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

/// Compresses request bodies. Keeps one deflate state for the worker's
/// life: making a new one per batch zeroes a few hundred KiB of tables each
/// time (about a fifth of the compression time of a 1 MiB batch).
///
/// A compression whose Cargo feature is off never gets here (the
/// configuration refuses it); if it did, `compress` returns an error.
pub(crate) struct Compressor {
    compression: Compression,
    #[cfg(feature = "gzip")]
    deflate: flate2::Compress,
    #[cfg(feature = "snappy")]
    snappy: snap::raw::Encoder,
    /// Where bodies are compressed, kept between batches: a body leaves as
    /// an exact-size copy, so a waiting batch holds (and is charged) its
    /// wire bytes, not the worst case a compressor reserves.
    #[cfg(any(feature = "gzip", feature = "snappy"))]
    scratch: Vec<u8>,
}

/// The gzip member header (RFC 1952): deflate, no flags, no time, no extra
/// flags, OS unknown.
#[cfg(feature = "gzip")]
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

impl Compressor {
    pub(crate) fn new(compression: Compression, gzip_level: u32) -> Compressor {
        #[cfg(not(feature = "gzip"))]
        let _ = gzip_level;
        Compressor {
            compression,
            #[cfg(feature = "gzip")]
            deflate: flate2::Compress::new(flate2::Compression::new(gzip_level), false),
            #[cfg(feature = "snappy")]
            snappy: snap::raw::Encoder::new(),
            #[cfg(any(feature = "gzip", feature = "snappy"))]
            scratch: Vec::new(),
        }
    }

    /// The body as sent (an exact-size copy), compressed as configured.
    pub(crate) fn compress(&mut self, raw: String) -> std::io::Result<Arc<[u8]>> {
        match self.compression {
            Compression::None => Ok(Arc::from(raw.into_bytes())),
            #[cfg(feature = "gzip")]
            Compression::Gzip => {
                self.gzip(raw.as_bytes())?;
                Ok(Arc::from(self.scratch.as_slice()))
            }
            #[cfg(feature = "snappy")]
            Compression::Snappy => {
                self.scratch.clear();
                self.scratch.resize(snap::raw::max_compress_len(raw.len()), 0);
                let n = self
                    .snappy
                    .compress(raw.as_bytes(), &mut self.scratch)
                    .map_err(std::io::Error::other)?;
                Ok(Arc::from(&self.scratch[..n]))
            }
            #[allow(unreachable_patterns)]
            other => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                crate::payload::compiled_out(other).unwrap_or("an unknown compression"),
            )),
        }
    }

    /// One gzip member into `scratch`: the header, the deflate stream,
    /// CRC-32 and length.
    #[cfg(feature = "gzip")]
    fn gzip(&mut self, raw: &[u8]) -> std::io::Result<()> {
        let d = &mut self.deflate;
        d.reset();
        let out = &mut self.scratch;
        out.clear();
        out.reserve(raw.len() / 4 + 64);
        out.extend_from_slice(&GZIP_HEADER);
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity() / 2 + 64);
            }
            let consumed = usize::try_from(d.total_in()).unwrap_or(raw.len()).min(raw.len());
            let status = d
                .compress_vec(&raw[consumed..], out, flate2::FlushCompress::Finish)
                .map_err(std::io::Error::other)?;
            if status == flate2::Status::StreamEnd {
                break;
            }
        }
        out.extend_from_slice(&crc32fast::hash(raw).to_le_bytes());
        // ISIZE is the length modulo 2^32 (bodies are far smaller anyway).
        out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        Ok(())
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
    fn the_eight_byte_check_agrees_with_the_table_for_every_pair_of_bytes() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let want = NEEDS_ESCAPE[usize::from(a)] || NEEDS_ESCAPE[usize::from(b)];
                for at in 0..7 {
                    // Neighbours that are plain, and neighbours with the top bit set.
                    for filler in [b'a', 0xc3] {
                        let mut w = [filler; 8];
                        w[at] = a;
                        w[at + 1] = b;
                        assert_eq!(any_needs_escape(u64::from_le_bytes(w)), want, "{w:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn decimals_are_what_formatting_gives() {
        let mut values = vec![0, 1, 9, 10, 99, 100, 123_456_789, 999_999_999, u64::MAX, u64::MAX - 1];
        values.extend((0..64).map(|b| 1u64 << b));
        values.extend((1..20).map(|p| 10u64.pow(p) - 1));
        for v in values {
            for width in [0, 1, 9, 20, 25] {
                let mut out = String::from("x");
                push_decimal(&mut out, v, width);
                assert_eq!(out, format!("x{v:0width$}", width = width.min(20)));
            }
        }
        for v in [0, -1, 1, i64::MIN, i64::MAX, -1_000_000_007] {
            let mut out = String::new();
            push_signed(&mut out, v);
            assert_eq!(out, v.to_string());
        }
    }

    #[test]
    fn a_byte_to_escape_is_found_at_every_position() {
        for base in ["x", "é"] {
            for n in 0..24 {
                for at in 0..=n {
                    for special in ['"', '\\', '\n', '\u{1}', '\u{7f}'] {
                        let mut s = base.repeat(n);
                        s.insert(at * base.len(), special);
                        let back: String = serde_json::from_str(&esc(&s)).unwrap();
                        assert_eq!(back, s);
                        // Twice escaped: a JSON string whose content is a JSON string.
                        let mut twice = String::from('"');
                        escape_into(&mut twice, &s, true);
                        twice.push('"');
                        let once: String = serde_json::from_str(&twice).unwrap();
                        assert_eq!(serde_json::from_str::<String>(&format!("\"{once}\"")).unwrap(), s);
                    }
                }
            }
        }
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

    #[cfg(feature = "gzip")]
    #[test]
    fn gzip_round_trips() {
        use std::io::Read as _;
        let mut c = Compressor::new(Compression::Gzip, 1);
        // Reused: each body is a whole gzip member of its own. The last one
        // is bigger than the first output buffer guess (incompressible).
        let noise: String = (0..200_000u32)
            .map(|i| char::from(b'!' + (i.wrapping_mul(2_654_435_761) >> 25) as u8 % 90))
            .collect();
        for raw in ["{\"contents\":[]}".repeat(100), String::new(), "x".into(), noise] {
            let wire = c.compress(raw.clone()).unwrap();
            assert_eq!(&wire[..2], [0x1f, 0x8b]);
            let mut back = String::new();
            let mut d = flate2::read::GzDecoder::new(&wire[..]);
            d.read_to_string(&mut back).unwrap();
            assert_eq!(back, raw);
            // Nothing after the member: the decoder consumed it all.
            assert!(d.into_inner().is_empty());
        }
    }

    #[cfg(feature = "snappy")]
    #[test]
    fn snappy_round_trips() {
        let mut c = Compressor::new(Compression::Snappy, 1);
        for raw in ["{\"contents\":[]}".repeat(100), String::new(), "x".into()] {
            let wire = c.compress(raw.clone()).unwrap();
            let back = snap::raw::Decoder::new().decompress_vec(&wire).unwrap();
            assert_eq!(back, raw.as_bytes());
        }
    }

    #[test]
    fn no_compression_sends_the_body_as_it_is() {
        let plain = Compressor::new(Compression::None, 1).compress("{}".into()).unwrap();
        assert_eq!(&*plain, b"{}");
    }

    #[cfg(not(feature = "gzip"))]
    #[test]
    fn a_compiled_out_compression_is_an_error_not_a_panic() {
        let e = Compressor::new(Compression::Gzip, 1).compress("{}".into()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::Unsupported);
        assert!(e.to_string().contains("`gzip`"), "{e}");
    }

    impl Body {
        fn len(&self) -> usize {
            self.buf.len() + self.suffix_len
        }
    }
}
