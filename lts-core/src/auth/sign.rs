//! AK/SK request signing: the APIG `SDK-HMAC-SHA256` scheme.
//!
//! ```text
//! canonical request = METHOD \n canonical URI (with a trailing slash) \n sorted query \n
//!                     lower-cased "name:value\n" per signed header, sorted \n
//!                     signed header names joined by ';' \n hex(sha256(body))
//! string to sign    = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(canonical request))
//! signature         = hex(hmac_sha256(secret key, string to sign))
//! Authorization     = SDK-HMAC-SHA256 Access=AK, SignedHeaders=..., Signature=...
//! ```
//!
//! The body hashed is the exact bytes sent (after compression).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// One request to sign. Header names are lower case; every header given is
/// signed.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) body: &'a [u8],
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Percent-encodes all but RFC 3986 unreserved characters (and `/` when
/// `keep_slash`), upper-case hex, as the scheme asks.
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (encode(k, false), encode(v, false))
        })
        .collect();
    pairs.sort();
    let joined: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    joined.join("&")
}

/// The signed header names, sorted and joined by `;`.
pub(crate) fn signed_headers(req: &Request<'_>) -> String {
    let mut names: Vec<&str> = req.headers.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names.join(";")
}

pub(crate) fn canonical_request(req: &Request<'_>) -> String {
    let mut uri = encode(req.path, true);
    if !uri.ends_with('/') {
        uri.push('/');
    }
    let mut headers: Vec<&(&str, &str)> = req.headers.iter().collect();
    headers.sort_unstable_by_key(|(n, _)| *n);
    let mut canonical_headers = String::new();
    for (n, v) in headers {
        let _ = writeln!(canonical_headers, "{n}:{}", v.trim());
    }
    format!(
        "{}\n{uri}\n{}\n{canonical_headers}\n{}\n{}",
        req.method,
        canonical_query(req.query),
        signed_headers(req),
        hex(&Sha256::digest(req.body))
    )
}

/// The signature of a request at `sdk_date` (`YYYYMMDDTHHMMSSZ`).
pub(crate) fn signature(secret_key: &str, sdk_date: &str, req: &Request<'_>) -> String {
    let string_to_sign = format!(
        "SDK-HMAC-SHA256\n{sdk_date}\n{}",
        hex(&Sha256::digest(canonical_request(req).as_bytes()))
    );
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(string_to_sign.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// The `Authorization` header value.
pub(crate) fn authorization(access_key: &str, secret_key: &str, sdk_date: &str, req: &Request<'_>) -> String {
    format!(
        "SDK-HMAC-SHA256 Access={access_key}, SignedHeaders={}, Signature={}",
        signed_headers(req),
        signature(secret_key, sdk_date, req)
    )
}

/// `X-Sdk-Date` for a time: `YYYYMMDDTHHMMSSZ`.
pub(crate) fn sdk_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let iso = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string();
    iso.chars().filter(|c| *c != '-' && *c != ':').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "20060102T150405Z";

    /// The vendor Go SDK signer's published vectors (see LTS_API.md).
    #[test]
    fn published_vector_get_with_a_query() {
        let req = Request {
            method: "GET",
            path: "/path",
            query: "limit=1",
            headers: &[("x-sdk-date", DATE)],
            body: b"",
        };
        assert_eq!(
            signature("SecretKey", DATE, &req),
            "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
        assert_eq!(
            authorization("AccessKey", "SecretKey", DATE, &req),
            "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
    }

    #[test]
    fn published_vector_post_with_a_body() {
        let req = Request {
            method: "POST",
            path: "/path",
            query: "key=value",
            headers: &[("x-sdk-date", DATE)],
            body: b"{\"Name\":\"test\",\"Id\":1}\n",
        };
        assert_eq!(
            signature("SecretKey", DATE, &req),
            "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"
        );
    }

    #[test]
    fn any_change_to_body_key_or_header_changes_the_signature() {
        let base = Request {
            method: "POST",
            path: "/v2/p/lts",
            query: "",
            headers: &[("content-type", "application/json;charset=UTF-8"), ("x-sdk-date", DATE)],
            body: b"abc",
        };
        let sig = signature("sk", DATE, &base);
        assert_ne!(sig, signature("sk2", DATE, &base));
        assert_ne!(sig, signature("sk", DATE, &Request { body: b"abd", ..base }));
        assert_ne!(sig, signature("sk", "20060102T150406Z", &base));
        assert_eq!(signed_headers(&base), "content-type;x-sdk-date");
    }

    #[test]
    fn query_is_sorted_and_encoded_and_the_uri_gets_a_trailing_slash() {
        let req = Request {
            method: "GET",
            path: "/a b",
            query: "z=1&a=x y",
            headers: &[("x-sdk-date", DATE)],
            body: b"",
        };
        let c = canonical_request(&req);
        assert!(
            c.starts_with("GET\n/a%20b/\na=x%20y&z=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n"),
            "{c}"
        );
    }

    #[test]
    fn sdk_date_has_the_compact_form() {
        let t = UNIX_EPOCH + Duration::from_secs(1_136_214_245); // 2006-01-02T15:04:05Z
        assert_eq!(sdk_date(t), DATE);
    }
}
