//! A strict local stand-in for the log-reporting API of Huawei Cloud / Open
//! Telekom Cloud Log Tank Service (LTS).
//!
//! ```toml
//! [dependencies]
//! lts-mock = "0.1"
//! ```
//!
//! [`MockLts`] runs an HTTP server on a loopback port that accepts what the real
//! service accepts, rejects what it rejects with the same status codes and body
//! shapes, records every accepted event and every request, and injects
//! deterministic faults ([`Faults`]). It is an independent implementation of the
//! service written from the API digest: it shares no code with the client, so it
//! catches the client's mistakes.
//!
//! ```no_run
//! use std::time::Duration;
//! let mock = lts_mock::MockLts::start()?;
//! // point a client at mock.endpoint() with lts_mock::PROJECT_ID,
//! // lts_mock::LOG_GROUP_ID, lts_mock::LOG_STREAM_ID and mock.token() ...
//! mock.faults().fail_next(2, 503);
//! assert!(mock.wait_for_events(1, Duration::from_secs(5)));
//! for e in mock.events() {
//!     eprintln!("{} {}", lts_mock::rfc3339_nanos(e.time_ns), e.line);
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # What is validated, in this order
//!
//! Error codes are in [`error_codes`]; most are invented (documented there).
//!
//! 1. Method and path: `POST /v2/{project_id}/lts/groups/{group}/streams/{stream}/tenant/contents`
//!    (standard) or `.../tenant/contents/high-accuracy`; anything else is 404. A
//!    query string is ignored. A trailing slash is a different path (404).
//! 2. Ids: a project id that is not 32 letters/digits, or a group/stream id that
//!    is not a 36-character UUID, is 400; a well-formed id other than the mock's is 404.
//! 3. Credentials, either (not both: 401 `SVCSTG.ALS.401.200`):
//!    - `X-Auth-Token`: the static token ([`MockLts::token`]) or a token the
//!      mock's IAM issued and that has neither expired nor been revoked. Missing,
//!      repeated, unknown, expired or revoked: 401 `SVCSTG.ALS.403.105`.
//!    - `Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=..., Signature=...`
//!      with a registered key pair ([`MockBuilder::access_key`]), verified over
//!      the body as received (before decompression) by the mock's own
//!      implementation of the scheme; `x-sdk-date` must be signed and within 15
//!      minutes of now. Refusals are 401 with the invented codes
//!      `SVCSTG.ALS.401.201` to `.205` ([`error_codes`]).
//! 4. `Content-Type`: exactly `application/json;charset=UTF-8`, ignoring ASCII case
//!    only (so `application/json; charset=utf-8`, with a space, is 400).
//! 5. `Content-Encoding`: absent, `gzip`, `GZIP`, `snappy` or `SNAPPY` (block
//!    format, or the framed format when the body starts with the snappy stream
//!    identifier); anything else 400; a body that does not decompress 400.
//! 6. Size: a decoded body over `max_body_bytes` (default 12 MiB) is **413**.
//! 7. JSON: not JSON or not an object 400; a field the API does not define 400
//!    (stricter than the service may be: it catches misspelt keys); `labels`
//!    required, an object of strings, at most 100; `tenant_project_id` optional, a
//!    string; `contents` a non-empty array of `{"log_time_ns":N,"log":"..."}`
//!    (high-accuracy) or of strings (standard, with a top-level `log_time_ns`;
//!    event `i` gets `log_time_ns + i`); `log_time_ns` a JSON integer or a string of
//!    digits in `0..=i64::MAX`; each line at most `max_line_bytes` bytes (default
//!    1 MiB).
//! 8. Accepted: 200 `{"errorCode":"SVCSTG.ALS.200.200","error_msg":"Report success.","result":null}`
//!    (`errorMessage` on the standard endpoint). Events more than two days from
//!    "now" are answered 200 but not recorded (see [`MockLts::discarded_out_of_window`]).
//!
//! Every request is recorded as a [`RequestLog`] before it is answered, so by the
//! time a client has its answer (or its EOF) the log and the events are visible.
//!
//! # IAM and AK/SK
//!
//! The same server is also an IAM stand-in: `POST /v3/auth/tokens?nocatalog=true`
//! with a password identity of a user registered with [`MockBuilder::iam_user`]
//! gets a token (see [`MockLts::iam_endpoint`] for what is checked). Tokens end
//! after [`MockLts::set_token_lifetime`] (24 hours by default) or when
//! [`MockLts::revoke_tokens`] is called; [`MockLts::iam_requests`] counts token
//! requests and [`RequestLog::auth`] says which credential each request used.
//! Faults apply to token requests too ([`Faults::fail_iam_next`] to them only).
//!
//! # The console
//!
//! With [`MockBuilder::console`] (`lts-mock --ui`) the same port serves a web
//! page at `/` ([`MockLts::console_url`]): a live tail of the events kept,
//! sorted by their nanosecond time, filters, one event in full with the
//! request that carried it, a timeline with one lane per thread, and the
//! faults switchable. Its assets are compiled into the crate. Its JSON API:
//!
//! - `GET /api/poll?events=E&requests=R&limit=L`: the kept events with
//!   sequence number `E` or later and the kept requests from `R` on (at most
//!   `L` of each, default 2,000), with the counters and the faults;
//!   `next_events`/`next_requests` are the numbers to ask for next. Sequence
//!   numbers count every event (request) ever kept, so the evicted ones show
//!   as a gap (`evicted_events`).
//! - `GET /api/faults`: the faults set now; `POST /api/faults` with
//!   `Content-Type: application/json` and one of `{"action":"fail_next","n":2,"status":503}`,
//!   `{"action":"fail_fraction","p":0.3,"status":503,"seed":1}`,
//!   `{"action":"delay_next","n":1,"ms":2000}`, `{"action":"drop_next","n":1}`,
//!   `{"action":"clear"}`; a bad one is 400 naming what was wrong.
//!
//! Console requests are neither recorded nor faulted. A console keeps the
//! last [`DEFAULT_KEEP_LAST`] events unless [`MockBuilder::keep_last`] says otherwise.
//!
//! # Drop and hang
//!
//! The mock accepts connections itself and relays their bytes to tiny_http, so it
//! can close a connection without writing a byte ([`Faults::drop_next`]), hold one
//! open with no answer ([`Faults::hang_next`]), and close every client connection,
//! idle or not, when it shuts down.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

mod buffers;
mod console;
pub mod error_codes;
mod faults;
mod iam;
mod relay;
mod ring;
mod server;
mod sign;
mod validate;

pub use faults::{Failure, Faults, RateLimit};
pub use server::{MockBuilder, MockLts};

/// The project id the mock serves by default (32 characters).
pub const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
/// The log group id the mock serves by default (36 characters, UUID form).
pub const LOG_GROUP_ID: &str = "0a1b2c3d-0000-4000-8000-000000000001";
/// The log stream id the mock serves by default (36 characters, UUID form).
pub const LOG_STREAM_ID: &str = "0a1b2c3d-0000-4000-8000-000000000002";

/// How many events (and requests) a mock serving the console keeps when
/// [`MockBuilder::keep_last`] is not set; `lts-mock --ring N` changes it.
pub const DEFAULT_KEEP_LAST: usize = 10_000;

/// The `Content-Type` the service requires, byte for byte (case aside).
pub const CONTENT_TYPE: &str = validate::CONTENT_TYPE;

/// The most labels one report may carry.
pub const MAX_LABELS: usize = validate::MAX_LABELS;

/// How far from "now" an event's time may be before the service deletes it:
/// two days, in nanoseconds. An event exactly this far away is kept.
pub const WINDOW_NS: u64 = validate::WINDOW_NS;

/// The token the mock accepts by default: deterministic, 1,200 characters of
/// `[A-Za-z0-9-_]`, like a real IAM token (1,000 to 2,000 characters) in length.
pub fn default_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut token = String::with_capacity(1200);
    token.push_str("MIIlts-mock-");
    let mut x: u64 = 0x6c74_735f_6d6f_636b; // "lts_mock"
    while token.len() < 1200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        token.push(ALPHABET[(x % 64) as usize] as char);
    }
    token
}

/// Formats nanoseconds since the Unix epoch as RFC 3339 in UTC with nine
/// fractional digits, e.g. `2020-04-14T07:49:00.000000008Z`.
pub fn rfc3339_nanos(time_ns: u64) -> String {
    let secs = time_ns / 1_000_000_000;
    let nanos = time_ns % 1_000_000_000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Which reporting endpoint a request used.
///
/// # Example
///
/// ```
/// let mock = lts_mock::MockLts::start()?;
/// # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
/// # let body = format!(r#"{{"labels":{{"app":"demo"}},"contents":[{{"log_time_ns":{now},"log":"hello"}}]}}"#);
/// # ureq::post(mock.url(lts_mock::Api::HighAccuracy))
/// #     .header("X-Auth-Token", mock.token())
/// #     .header("Content-Type", lts_mock::CONTENT_TYPE)
/// #     .send(body)
/// #     .map_err(std::io::Error::other)?;
/// // ... a client ships one event ...
/// assert_eq!(mock.events()[0].api, lts_mock::Api::HighAccuracy);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// `.../tenant/contents/high-accuracy`: every event carries its own time.
    HighAccuracy,
    /// `.../tenant/contents`: one base time, event `i` gets base + `i` ns.
    Standard,
}

/// One event the mock accepted and kept.
///
/// # Example
///
/// ```
/// let mock = lts_mock::MockLts::start()?;
/// # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
/// # let body = format!(r#"{{"labels":{{"app":"demo"}},"contents":[{{"log_time_ns":{now},"log":"hello"}}]}}"#);
/// # ureq::post(mock.url(lts_mock::Api::HighAccuracy))
/// #     .header("X-Auth-Token", mock.token())
/// #     .header("Content-Type", lts_mock::CONTENT_TYPE)
/// #     .send(body)
/// #     .map_err(std::io::Error::other)?;
/// // ... a client ships one event ...
/// let event = &mock.events()[0];
/// assert_eq!((event.time_ns as u128, event.line.as_str()), (now, "hello"));
/// assert_eq!(event.labels["app"], "demo");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedEvent {
    /// The event's time, nanoseconds since the Unix epoch (for the standard
    /// endpoint, the batch's `log_time_ns` plus the event's position).
    pub time_ns: u64,
    /// The log line, exactly as sent.
    pub line: String,
    /// The labels of the report that carried it.
    pub labels: BTreeMap<String, String>,
    /// The endpoint it came through.
    pub api: Api,
    /// The index of its request in [`MockLts::requests`].
    pub request: usize,
    /// The log group it was reported to.
    pub log_group_id: String,
    /// The log stream it was reported to.
    pub log_stream_id: String,
    /// The `tenant_project_id` of the report that carried it, if it had one.
    pub tenant_project_id: Option<String>,
}

/// What the mock saw of one request, and how it answered.
///
/// # Example
///
/// ```
/// let mock = lts_mock::MockLts::start()?;
/// # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
/// # let body = format!(r#"{{"labels":{{"app":"demo"}},"contents":[{{"log_time_ns":{now},"log":"hello"}}]}}"#);
/// # ureq::post(mock.url(lts_mock::Api::HighAccuracy))
/// #     .header("X-Auth-Token", mock.token())
/// #     .header("Content-Type", lts_mock::CONTENT_TYPE)
/// #     .send(body)
/// #     .map_err(std::io::Error::other)?;
/// // ... a client ships one event ...
/// let request = &mock.requests()[0];
/// assert_eq!((request.status, request.events), (200, 1));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestLog {
    /// 0-based, in arrival order; the index faults refer to.
    pub index: usize,
    /// The HTTP method.
    pub method: String,
    /// The request target as sent (path and any query).
    pub path: String,
    /// The log group its path names, when it had the shape of a reporting
    /// endpoint.
    pub log_group_id: Option<String>,
    /// The log stream its path names, when it had the shape of a reporting
    /// endpoint.
    pub log_stream_id: Option<String>,
    /// The body's `tenant_project_id`, when the body was parsed and had one.
    pub tenant_project_id: Option<String>,
    /// The HTTP status answered; 0 when the request was dropped or hung (no answer).
    pub status: u16,
    /// The `errorCode` of the answer when it was not 200; `None` for 200 and for no answer.
    /// For a token request, IAM's `error.code` (the status, e.g. `"401"`) when it
    /// was not 201.
    pub error_code: Option<String>,
    /// The message of the answer when it was not 200 (or why there was no answer).
    pub error_msg: Option<String>,
    /// The `Content-Encoding` header as sent (occurrences joined with ", ").
    pub content_encoding: Option<String>,
    /// The `Content-Type` header as sent (occurrences joined with ", ").
    pub content_type: Option<String>,
    /// Size of the body as received.
    pub wire_bytes: usize,
    /// Size of the body after decompression; 0 when it could not be decoded.
    pub decoded_bytes: usize,
    /// Number of entries in the body; 0 when it could not be parsed (or the path
    /// named no endpoint, so its shape is unknown).
    pub events: usize,
    /// The endpoint the path named, when it had the shape of one.
    pub api: Option<Api>,
    /// The injected fault that answered it, if any: `"fail_next"`,
    /// `"fail_request"`, `"fail_fraction"`, `"fail_fraction_drop"`,
    /// `"rate_limit"` (a 429 from [`Faults::rate_limit`]), `"drop"`, `"hang"`, `"token_expired"`
    /// (a 401 because of [`Faults::expire_token_after`]), or `"delay"` for a
    /// request only delayed ([`Faults::delay_next`], [`Faults::delay_all`]); a delayed request answered by a fault reads e.g.
    /// `"delay+fail_next"`.
    pub fault: Option<String>,
    /// FNV-1a 64-bit hash of the decoded body (of the body as received when it
    /// could not be decoded): equal hashes mean a retry sent the same bytes.
    /// 0 in counting-only mode, which does not hash, and for token requests,
    /// whose body holds a password.
    pub body_sha256_or_hash: u64,
    /// Which time these exact bytes arrived: 1 for the first request whose
    /// body had this [`body_sha256_or_hash`](Self::body_sha256_or_hash), 2 for
    /// the next (a retry), and so on, counting the requests still kept
    /// ([`MockBuilder::keep_last`]). 0 when not hashed (counting-only mode,
    /// token requests) and when the path named no reporting endpoint.
    pub attempt: u32,
    /// Whether it was a token request to the IAM stand-in (`/v3/auth/tokens`).
    pub iam: bool,
    /// The credential it presented, never in full: `"token:<first 8 characters>"`
    /// for an `X-Auth-Token`, `"aksk:<access key>"` for an `Authorization`
    /// signature (`"aksk"` when the header does not parse), both joined by `+`
    /// when several were sent, `"password:<user name>"` for a token request;
    /// `None` when it presented none.
    pub auth: Option<String>,
    /// The `Host` header as the client sent it (the mock relays the client's
    /// bytes unchanged, so this is what a signature over `host` covers).
    pub host: Option<String>,
}

/// Counters over the life of a mock; also kept in counting-only mode.
///
/// # Example
///
/// ```
/// let mock = lts_mock::MockLts::start()?;
/// # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
/// # let body = format!(r#"{{"labels":{{"app":"demo"}},"contents":[{{"log_time_ns":{now},"log":"hello"}}]}}"#);
/// # ureq::post(mock.url(lts_mock::Api::HighAccuracy))
/// #     .header("X-Auth-Token", mock.token())
/// #     .header("Content-Type", lts_mock::CONTENT_TYPE)
/// #     .send(body)
/// #     .map_err(std::io::Error::other)?;
/// // ... a client ships one event ...
/// let stats = mock.stats();
/// assert_eq!((stats.requests, stats.accepted_requests, stats.events), (1, 1, 1));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received, answered or not (token requests to the IAM stand-in
    /// included).
    pub requests: usize,
    /// Requests answered 200 after validation (injected answers not counted).
    pub accepted_requests: usize,
    /// Events accepted and kept: [`MockLts::event_count`].
    pub events: usize,
    /// Events accepted but deleted for being more than two days from now.
    pub discarded_out_of_window: usize,
    /// Body bytes received, all requests.
    pub wire_bytes: u64,
    /// Body bytes after decompression, all requests that decoded.
    pub decoded_bytes: u64,
    /// Body bytes received, accepted requests only.
    pub accepted_wire_bytes: u64,
    /// Body bytes after decompression, accepted requests only.
    pub accepted_decoded_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shape() {
        let t = default_token();
        assert_eq!(t.len(), 1200);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(t, default_token());
    }

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_nanos(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339_nanos(1_586_850_540_000_000_008),
            "2020-04-14T07:49:00.000000008Z"
        );
        // 2000-02-29 (leap day of a century leap year) 23:59:59.999999999
        assert_eq!(rfc3339_nanos(951_868_799_999_999_999), "2000-02-29T23:59:59.999999999Z");
        assert_eq!(rfc3339_nanos(u64::MAX), "2554-07-21T23:34:33.709551615Z");
    }
}
