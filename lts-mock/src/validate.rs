//! Request validation: route, headers, decoding and the JSON body.
//!
//! Independent of any client code on purpose: it is written from the API digest
//! so that it catches client bugs instead of sharing them.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error_codes as codes;
use crate::Api;

/// Two days in nanoseconds: events further than this from "now" are deleted.
pub(crate) const WINDOW_NS: u64 = 2 * 86_400 * 1_000_000_000;

/// The most labels a report may carry.
pub(crate) const MAX_LABELS: usize = 100;

/// A request the mock answers with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) msg: String,
}

impl Reject {
    pub(crate) fn new(status: u16, code: &'static str, msg: impl Into<String>) -> Reject {
        Reject {
            status,
            code,
            msg: msg.into(),
        }
    }

    fn bad(code: &'static str, msg: impl Into<String>) -> Reject {
        Reject::new(400, code, msg)
    }
}

/// The ids the mock serves.
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    pub(crate) project_id: String,
    pub(crate) log_group_id: String,
    pub(crate) log_stream_id: String,
}

/// `true` for a 32-character project id of ASCII letters and digits.
pub(crate) fn is_project_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `true` for a 36-character UUID: hex digits with hyphens at 8, 13, 18 and 23.
pub(crate) fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Matches the method and path. `Ok(api)` when they name one of the two
/// reporting endpoints of a registered stream (`streams`, the default one
/// among them); otherwise the rejection and,
/// when the path had the shape of a reporting endpoint, which one.
pub(crate) fn route(
    method: &str,
    url: &str,
    ids: &Ids,
    streams: &[(String, String)],
) -> Result<Target, (Option<Api>, Reject)> {
    let path = url.split_once('?').map_or(url, |(p, _)| p);
    let segs: Vec<&str> = path.split('/').collect();
    let api = match segs.as_slice() {
        ["", "v2", _, "lts", "groups", _, "streams", _, "tenant", "contents"] => Api::Standard,
        ["", "v2", _, "lts", "groups", _, "streams", _, "tenant", "contents", "high-accuracy"] => Api::HighAccuracy,
        _ => {
            return Err((
                None,
                Reject::new(404, codes::NOT_FOUND, format!("No such resource: {path}")),
            ))
        }
    };
    let fail = |r: Reject| Err((Some(api), r));
    if method != "POST" {
        return fail(Reject::new(
            404,
            codes::NOT_FOUND,
            format!("No such resource: {method} {path} (only POST is served)"),
        ));
    }
    let (project, group, stream) = (segs[2], segs[5], segs[7]);
    if !is_project_id(project) {
        return fail(Reject::bad(
            codes::BAD_PROJECT_ID,
            "Invalid project_id: expected 32 letters or digits.",
        ));
    }
    if !is_uuid(group) {
        return fail(Reject::bad(
            codes::BAD_LOG_GROUP_ID,
            "Invalid log_group_id: expected a 36-character UUID.",
        ));
    }
    if !is_uuid(stream) {
        return fail(Reject::bad(
            codes::BAD_LOG_STREAM_ID,
            "Invalid log_stream_id: expected a 36-character UUID.",
        ));
    }
    if project != ids.project_id {
        return fail(Reject::new(
            404,
            codes::UNKNOWN_PROJECT_ID,
            format!("The project {project} does not exist."),
        ));
    }
    if !streams.iter().any(|(g, _)| g == group) {
        return fail(Reject::new(
            404,
            codes::UNKNOWN_LOG_GROUP_ID,
            format!("The log group {group} does not exist."),
        ));
    }
    if !streams.iter().any(|(g, s)| g == group && s == stream) {
        return fail(Reject::new(
            404,
            codes::UNKNOWN_LOG_STREAM_ID,
            format!("The log stream {stream} does not exist."),
        ));
    }
    Ok(Target {
        api,
        log_group_id: group.to_owned(),
        log_stream_id: stream.to_owned(),
    })
}

/// A reporting endpoint of a registered stream, as [`route`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) api: Api,
    pub(crate) log_group_id: String,
    pub(crate) log_stream_id: String,
}

/// The group and stream ids in a reporting path, if it has the shape of one.
pub(crate) fn path_ids(url: &str) -> Option<(String, String)> {
    let path = url.split_once('?').map_or(url, |(p, _)| p);
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["", "v2", _, "lts", "groups", group, "streams", stream, "tenant", "contents", ..] => {
            Some(((*group).to_owned(), (*stream).to_owned()))
        }
        _ => None,
    }
}

/// The only `Content-Type` the service accepts (compared ignoring ASCII case,
/// byte for byte otherwise: no spaces, no other parameters).
pub(crate) const CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// Checks the `Content-Type` header values (all occurrences).
pub(crate) fn check_content_type(values: &[&str]) -> Result<(), Reject> {
    match values {
        [v] if v.eq_ignore_ascii_case(CONTENT_TYPE) => Ok(()),
        [] => Err(Reject::bad(
            codes::BAD_CONTENT_TYPE,
            format!("Missing Content-Type: must be {CONTENT_TYPE}."),
        )),
        _ => Err(Reject::bad(
            codes::BAD_CONTENT_TYPE,
            format!(
                "Invalid Content-Type {:?}: must be exactly {CONTENT_TYPE}.",
                values.join(", ")
            ),
        )),
    }
}

/// A body encoding the service accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
    Snappy,
}

/// Checks the `Content-Encoding` header values (all occurrences).
pub(crate) fn check_content_encoding(values: &[&str]) -> Result<Encoding, Reject> {
    match values {
        [] => Ok(Encoding::Identity),
        ["gzip"] | ["GZIP"] => Ok(Encoding::Gzip),
        ["snappy"] | ["SNAPPY"] => Ok(Encoding::Snappy),
        _ => Err(Reject::bad(
            codes::BAD_CONTENT_ENCODING,
            format!(
                "Unsupported Content-Encoding {:?}: use GZIP or SNAPPY (or lower case), or none.",
                values.join(", ")
            ),
        )),
    }
}

/// The stream identifier chunk that opens the snappy framing format.
const SNAPPY_STREAM_ID: &[u8] = b"\xff\x06\x00\x00sNaPpY";

fn too_large(max: usize) -> Reject {
    Reject::new(
        413,
        codes::BODY_TOO_LARGE,
        format!("The request body is larger than {max} bytes once decoded."),
    )
}

fn read_limited(r: impl Read, max: usize, what: &str, out: &mut Vec<u8>) -> Result<(), Reject> {
    out.clear();
    match r.take(max as u64 + 1).read_to_end(out) {
        Ok(_) if out.len() > max => Err(too_large(max)),
        Ok(_) => Ok(()),
        Err(e) => Err(Reject::bad(
            codes::BAD_COMPRESSED_BODY,
            format!("The body is not valid {what}: {e}"),
        )),
    }
}

/// Decodes the body as announced, refusing more than `max` decoded bytes: the
/// body itself when it is not compressed, else `scratch` (emptied first)
/// holding it decoded.
pub(crate) fn decode<'a>(
    enc: Encoding,
    body: &'a [u8],
    max: usize,
    scratch: &'a mut Vec<u8>,
) -> Result<&'a [u8], Reject> {
    match enc {
        Encoding::Identity if body.len() > max => return Err(too_large(max)),
        Encoding::Identity => return Ok(body),
        Encoding::Gzip => read_limited(flate2::read::MultiGzDecoder::new(body), max, "gzip", scratch)?,
        Encoding::Snappy if body.starts_with(SNAPPY_STREAM_ID) => {
            read_limited(snap::read::FrameDecoder::new(body), max, "framed snappy", scratch)?
        }
        Encoding::Snappy => {
            let bad = |e: snap::Error| {
                Reject::bad(
                    codes::BAD_COMPRESSED_BODY,
                    format!("The body is not valid snappy (block format): {e}"),
                )
            };
            let len = snap::raw::decompress_len(body).map_err(bad)?;
            if len > max {
                return Err(too_large(max));
            }
            scratch.clear();
            scratch.resize(len, 0);
            let n = snap::raw::Decoder::new().decompress(body, scratch).map_err(bad)?;
            scratch.truncate(n);
        }
    }
    Ok(scratch)
}

/// A report body that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    /// `(log_time_ns, line)` in body order.
    pub(crate) events: Vec<(u64, String)>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) tenant_project_id: Option<String>,
}

fn malformed(msg: impl Into<String>) -> Reject {
    Reject::bad(codes::MALFORMED_JSON, msg)
}

/// Parses a `log_time_ns`: a JSON integer or a string of ASCII digits, in 0..=i64::MAX.
fn parse_time(v: &Value, where_: &str) -> Result<u64, Reject> {
    let bad = || {
        Reject::bad(
            codes::INVALID_LOG_TIME,
            format!(
                "{where_}log_time_ns must be a non-negative integer of nanoseconds (a JSON number or a string of digits), got {v}."
            ),
        )
    };
    let n = match v {
        Value::Number(n) => n.as_u64().ok_or_else(bad)?,
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<u64>().map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    if n > i64::MAX as u64 {
        return Err(bad());
    }
    Ok(n)
}

fn check_line(line: &str, max_line: usize, i: usize) -> Result<(), Reject> {
    if line.len() > max_line {
        return Err(Reject::bad(
            codes::LOG_TOO_LONG,
            format!(
                "contents[{i}] is {} bytes long, more than the {max_line} bytes allowed for one log line.",
                line.len()
            ),
        ));
    }
    Ok(())
}

fn check_fields(obj: &Map<String, Value>, allowed: &[&str], where_: &str) -> Result<(), Reject> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Reject::bad(
            codes::UNKNOWN_FIELD,
            format!("Unknown field {k:?}{where_}: allowed are {allowed:?}."),
        )),
        None => Ok(()),
    }
}

/// Parses and validates a decoded report body for `api`, strictly.
pub(crate) fn parse_report(api: Api, body: &[u8], max_line: usize) -> Result<Report, Reject> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| malformed(format!("The body is not valid JSON: {e}")))?;
    let Value::Object(mut top) = value else {
        return Err(malformed("The body must be a JSON object."));
    };
    let allowed: &[&str] = match api {
        Api::HighAccuracy => &["contents", "labels", "tenant_project_id"],
        Api::Standard => &["log_time_ns", "contents", "labels", "tenant_project_id"],
    };
    check_fields(&top, allowed, "")?;

    let labels = match top.remove("labels") {
        None => {
            return Err(Reject::bad(
                codes::INVALID_LABELS,
                "labels is required (send {} when there are none).",
            ))
        }
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Reject::bad(
                codes::INVALID_LABELS,
                format!("labels must be an object of strings, got {other}."),
            ))
        }
    };
    if labels.len() > MAX_LABELS {
        return Err(Reject::bad(
            codes::TOO_MANY_LABELS,
            format!("{} labels: at most {MAX_LABELS} are allowed.", labels.len()),
        ));
    }
    let mut label_map = BTreeMap::new();
    for (k, v) in labels {
        match v {
            Value::String(s) => {
                label_map.insert(k, s);
            }
            other => {
                return Err(Reject::bad(
                    codes::INVALID_LABELS,
                    format!("labels.{k} must be a string, got {other}."),
                ))
            }
        }
    }

    let tenant_project_id = match top.get("tenant_project_id") {
        None => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(t) => {
            return Err(Reject::bad(
                codes::INVALID_TENANT_PROJECT_ID,
                format!("tenant_project_id must be a string, got {t}."),
            ))
        }
    };

    let base = match api {
        Api::Standard => match top.get("log_time_ns") {
            Some(v) => Some(parse_time(v, "")?),
            None => return Err(Reject::bad(codes::INVALID_LOG_TIME, "log_time_ns is required.")),
        },
        Api::HighAccuracy => None,
    };

    let contents = match top.remove("contents") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => return Err(Reject::bad(codes::INVALID_CONTENTS, "contents must not be empty.")),
        None => return Err(Reject::bad(codes::INVALID_CONTENTS, "contents is required.")),
        Some(other) => {
            return Err(Reject::bad(
                codes::INVALID_CONTENTS,
                format!("contents must be an array, got {other}."),
            ))
        }
    };

    let mut events = Vec::with_capacity(contents.len());
    for (i, item) in contents.into_iter().enumerate() {
        match (api, item) {
            (Api::HighAccuracy, Value::Object(mut entry)) => {
                check_fields(
                    &entry,
                    &["log_time_ns", "log"],
                    &format!(" in contents[{i}]"),
                )?;
                let time = match entry.get("log_time_ns") {
                    Some(v) => parse_time(v, &format!("contents[{i}]."))?,
                    None => {
                        return Err(Reject::bad(
                            codes::INVALID_LOG_TIME,
                            format!("contents[{i}].log_time_ns is required."),
                        ))
                    }
                };
                let line = match entry.remove("log") {
                    Some(Value::String(s)) => s,
                    None => {
                        return Err(Reject::bad(
                            codes::INVALID_LOG,
                            format!("contents[{i}].log is required."),
                        ))
                    }
                    Some(other) => {
                        return Err(Reject::bad(
                            codes::INVALID_LOG,
                            format!("contents[{i}].log must be a string, got {other}."),
                        ))
                    }
                };
                check_line(&line, max_line, i)?;
                events.push((time, line));
            }
            (Api::Standard, Value::String(line)) => {
                check_line(&line, max_line, i)?;
                let time = base.unwrap_or(0).checked_add(i as u64).filter(|t| *t <= i64::MAX as u64)
                    .ok_or_else(|| {
                        Reject::bad(
                            codes::INVALID_LOG_TIME,
                            "log_time_ns + index overflows a 64-bit Long.",
                        )
                    })?;
                events.push((time, line));
            }
            (Api::HighAccuracy, other) => {
                return Err(Reject::bad(
                    codes::INVALID_CONTENTS,
                    format!(
                        "contents[{i}] must be an object {{\"log_time_ns\":N,\"log\":\"...\"}} on the high-accuracy endpoint, got {other}."
                    ),
                ))
            }
            (Api::Standard, other) => {
                return Err(Reject::bad(
                    codes::INVALID_CONTENTS,
                    format!(
                        "contents[{i}] must be a string on the standard endpoint, got {other}."
                    ),
                ))
            }
        }
    }
    Ok(Report {
        events,
        labels: label_map,
        tenant_project_id,
    })
}

/// Counting-only parse: checks that the body is a JSON object with `labels` and a
/// non-empty `contents` array and returns the number of entries, without
/// allocating for them or checking their shape.
pub(crate) fn count_report(body: &[u8]) -> Result<usize, Reject> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let top = de
        .deserialize_map(TopVisitor)
        .and_then(|t| de.end().map(|_| t))
        .map_err(|e| malformed(format!("The body is not a valid JSON object: {e}")))?;
    if !top.labels {
        return Err(Reject::bad(
            codes::INVALID_LABELS,
            "labels is required (send {} when there are none).",
        ));
    }
    match top.contents {
        None => Err(Reject::bad(codes::INVALID_CONTENTS, "contents is required.")),
        Some(0) => Err(Reject::bad(codes::INVALID_CONTENTS, "contents must not be empty.")),
        Some(n) => Ok(n),
    }
}

struct Top {
    labels: bool,
    contents: Option<usize>,
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut top = Top {
            labels: false,
            contents: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "contents" => top.contents = Some(map.next_value::<CountSeq>()?.0),
                "labels" => {
                    top.labels = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(top)
    }
}

struct CountSeq(usize);

impl<'de> de::Deserialize<'de> for CountSeq {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<CountSeq, D::Error> {
        d.deserialize_seq(CountVisitor)
    }
}

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = CountSeq;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CountSeq, A::Error> {
        let mut n = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(CountSeq(n))
    }
}

/// FNV-1a, 64 bits: a stable hash of a decoded body (same bytes, same hash, on
/// every platform and Rust version).
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn decodes_into_a_used_buffer_exactly_the_body() {
        let body: Vec<u8> = (0..50_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).unwrap();
        let gzip = gz.finish().unwrap();
        let snappy = snap::raw::Encoder::new().compress_vec(&body).unwrap();
        let mut framed = snap::write::FrameEncoder::new(Vec::new());
        framed.write_all(&body).unwrap();
        let framed = framed.into_inner().unwrap();
        for (enc, wire) in [
            (Encoding::Gzip, &gzip),
            (Encoding::Snappy, &snappy),
            (Encoding::Snappy, &framed),
        ] {
            // A buffer an earlier, longer body left behind.
            let mut scratch = vec![7u8; body.len() * 2];
            assert_eq!(decode(enc, wire, body.len(), &mut scratch).unwrap(), &body[..]);
            let mut scratch = vec![7u8; 3];
            let too_large = decode(enc, wire, body.len() - 1, &mut scratch).unwrap_err();
            assert_eq!(too_large.status, 413);
        }
        let mut scratch = Vec::new();
        assert_eq!(
            decode(Encoding::Identity, &body, body.len(), &mut scratch).unwrap(),
            &body[..]
        );
        assert!(scratch.is_empty(), "a plain body is not copied");
    }

    #[test]
    fn ids() {
        assert!(is_uuid("0a1b2c3d-0000-4000-8000-000000000001"));
        assert!(!is_uuid("0a1b2c3d-0000-4000-8000-00000000000g"));
        assert!(!is_uuid("0a1b2c3d00000-4000-8000-000000000001"));
        assert!(is_project_id("0123456789abcdef0123456789abcdef"));
        assert!(!is_project_id("0123456789abcdef0123456789abcde"));
    }

    #[test]
    fn counting() {
        assert_eq!(count_report(br#"{"labels":{},"contents":[{"a":[1,2]},"x",3]}"#), Ok(3));
        assert_eq!(
            count_report(br#"{"contents":[1]}"#).unwrap_err().code,
            codes::INVALID_LABELS
        );
        assert_eq!(
            count_report(br#"{"labels":{},"contents":[]}"#).unwrap_err().code,
            codes::INVALID_CONTENTS
        );
        assert_eq!(
            count_report(br#"{"labels":{},"contents":[1]} x"#).unwrap_err().code,
            codes::MALFORMED_JSON
        );
        assert_eq!(count_report(b"[]").unwrap_err().code, codes::MALFORMED_JSON);
    }

    #[test]
    fn fnv_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
