//! Verifying AK/SK-signed requests: the APIG `SDK-HMAC-SHA256` scheme.
//!
//! Written from the API digest, independently of any client's signer:
//!
//! ```text
//! canonical request = METHOD \n
//!                     URI path, each segment percent-encoded (RFC 3986 unreserved kept), with a trailing '/' \n
//!                     query pairs, encoded, sorted by key then value, joined by '&' \n
//!                     for each signed header, sorted: lowercase-name ':' trimmed value \n
//!                     \n
//!                     signed header names joined by ';' \n
//!                     hex(sha256(body bytes as received, before any decompression))
//! string to sign    = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(canonical request))
//! signature         = hex(hmac_sha256(secret key, string to sign))
//! ```
//!
//! `Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=HEX`;
//! `x-sdk-date` must be among the signed headers and within
//! [`MAX_SKEW_SECS`] of the mock's clock.

use std::fmt::Write as _;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error_codes as codes;
use crate::validate::Reject;

/// How far `X-Sdk-Date` may be from now: 15 minutes.
pub(crate) const MAX_SKEW_SECS: u64 = 15 * 60;

/// The scheme name that opens the `Authorization` header.
pub(crate) const SCHEME: &str = "SDK-HMAC-SHA256";

/// The parts of a request the signature covers. Header names may be in any
/// case; every occurrence of a header is given.
pub(crate) struct Signed<'a> {
    pub(crate) method: &'a str,
    /// The request target as received: path and optional `?query`.
    pub(crate) target: &'a str,
    pub(crate) headers: &'a [(String, String)],
    pub(crate) body: &'a [u8],
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Percent-encodes everything but the RFC 3986 unreserved characters, with
/// upper-case hex.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus`); a `%` not followed
/// by two hex digits is kept as is.
fn decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => match (
                b.get(i + 1).copied().and_then(hex_val),
                b.get(i + 2).copied().and_then(hex_val),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical URI: the decoded path, each segment encoded, ending in `/`.
fn canonical_uri(path: &str) -> String {
    let segments: Vec<String> = path.split('/').map(|seg| encode(&decode(seg, false))).collect();
    let mut uri = segments.join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The canonical query: pairs decoded (form style), sorted by key then value,
/// encoded, joined by `&`.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect();
    pairs.sort();
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    encoded.join("&")
}

/// The canonical request for these signed header names (lower case, sorted).
/// `Err(name)` when a signed header is not in the request.
pub(crate) fn canonical_request(req: &Signed<'_>, signed: &[String]) -> Result<String, String> {
    let (path, query) = req.target.split_once('?').unwrap_or((req.target, ""));
    let mut out = format!("{}\n{}\n{}\n", req.method, canonical_uri(path), canonical_query(query));
    for name in signed {
        let mut values: Vec<&str> = req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect();
        if values.is_empty() {
            return Err(name.clone());
        }
        values.sort_unstable();
        for v in values {
            let _ = writeln!(out, "{name}:{v}");
        }
    }
    let _ = write!(out, "\n{}\n{}", signed.join(";"), hex(&Sha256::digest(req.body)));
    Ok(out)
}

/// hex(HMAC-SHA256(secret key, string to sign)).
pub(crate) fn signature(secret_key: &str, sdk_date: &str, canonical: &str) -> String {
    let string_to_sign = format!("{SCHEME}\n{sdk_date}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(string_to_sign.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// The fields of an `Authorization: SDK-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    pub(crate) access: String,
    /// Lower-cased and sorted.
    pub(crate) signed_headers: Vec<String>,
    pub(crate) signature: String,
}

/// Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=HEX`
/// (spaces after the commas optional).
pub(crate) fn parse_authorization(value: &str) -> Option<Authorization> {
    let rest = value.trim().strip_prefix(SCHEME)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let slot = match k {
            "Access" => &mut access,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(v.trim().to_string()).is_some() {
            return None;
        }
    }
    let access = access.filter(|a| !a.is_empty())?;
    let signature = signature.filter(|s| !s.is_empty())?;
    let mut signed_headers: Vec<String> = signed?.split(';').map(|h| h.trim().to_ascii_lowercase()).collect();
    if signed_headers.iter().any(String::is_empty) {
        return None;
    }
    signed_headers.sort();
    signed_headers.dedup();
    Some(Authorization {
        access,
        signed_headers,
        signature,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the Unix epoch of an `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`).
pub(crate) fn parse_sdk_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (h, mi, se) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    let month_days = [
        31,
        if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) {
            29
        } else {
            28
        },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d == 0 || d > month_days[mo as usize - 1] || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    u64::try_from(days * 86_400 + i64::from(h * 3600 + mi * 60 + se)).ok()
}

fn refuse(code: &'static str, msg: impl Into<String>) -> Reject {
    Reject::new(401, code, msg)
}

/// Verifies a signed request. `secret_of` looks up the secret key of an
/// access key; `now_secs` is the mock's clock. `Ok` holds the access key.
pub(crate) fn verify(
    req: &Signed<'_>,
    authorization: &str,
    secret_of: impl Fn(&str) -> Option<String>,
    now_secs: u64,
) -> Result<String, Reject> {
    let auth = parse_authorization(authorization).ok_or_else(|| {
        refuse(
            codes::AKSK_MALFORMED,
            "Malformed Authorization header: expected SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...",
        )
    })?;
    let secret = secret_of(&auth.access).ok_or_else(|| {
        refuse(
            codes::AKSK_UNKNOWN_KEY,
            "Incorrect IAM authentication information: the access key does not exist.",
        )
    })?;
    if !auth.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(refuse(
            codes::AKSK_BAD_DATE,
            "x-sdk-date must be among the signed headers.",
        ));
    }
    let dates: Vec<&str> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-sdk-date"))
        .map(|(_, v)| v.trim())
        .collect();
    let date = match dates.as_slice() {
        [d] => *d,
        _ => {
            return Err(refuse(
                codes::AKSK_BAD_DATE,
                "Missing X-Sdk-Date header (or more than one).",
            ))
        }
    };
    let at = parse_sdk_date(date).ok_or_else(|| {
        refuse(
            codes::AKSK_BAD_DATE,
            format!("Invalid X-Sdk-Date {date:?}: expected YYYYMMDDTHHMMSSZ."),
        )
    })?;
    if at.abs_diff(now_secs) > MAX_SKEW_SECS {
        return Err(refuse(
            codes::AKSK_BAD_DATE,
            format!(
                "X-Sdk-Date {date} is more than {} minutes from the service's time.",
                MAX_SKEW_SECS / 60
            ),
        ));
    }
    let canonical = canonical_request(req, &auth.signed_headers).map_err(|name| {
        refuse(
            codes::AKSK_MISSING_HEADER,
            format!("The signed header {name} is not in the request."),
        )
    })?;
    let expected = signature(&secret, date, &canonical);
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(refuse(
            codes::AKSK_BAD_SIGNATURE,
            "Incorrect IAM authentication information: verify AK/SK signature failed.",
        ));
    }
    Ok(auth.access)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "20060102T150405Z";
    /// 2006-01-02T15:04:05Z.
    const DATE_SECS: u64 = 1_136_214_245;

    fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn keys(ak: &str) -> Option<String> {
        (ak == "AccessKey").then(|| "SecretKey".to_string())
    }

    fn auth(sig: &str) -> String {
        format!("SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature={sig}")
    }

    /// The vendor Go SDK signer's published vectors (see LTS_API.md).
    #[test]
    fn published_vector_get_with_a_query() {
        let h = headers(&[("X-Sdk-Date", DATE), ("Host", "example.com")]);
        let req = Signed {
            method: "GET",
            target: "/path?limit=1",
            headers: &h,
            body: b"",
        };
        let canonical = canonical_request(&req, &["x-sdk-date".to_string()]).unwrap();
        assert!(canonical.starts_with("GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n"));
        let sig = "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624";
        assert_eq!(signature("SecretKey", DATE, &canonical), sig);
        assert_eq!(verify(&req, &auth(sig), keys, DATE_SECS), Ok("AccessKey".to_string()));
    }

    #[test]
    fn published_vector_post_with_a_body() {
        let h = headers(&[("x-sdk-date", DATE)]);
        let req = Signed {
            method: "POST",
            target: "/path?key=value",
            headers: &h,
            body: b"{\"Name\":\"test\",\"Id\":1}\n",
        };
        let sig = "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59";
        assert_eq!(
            verify(&req, &auth(sig), keys, DATE_SECS + MAX_SKEW_SECS),
            Ok("AccessKey".into())
        );
        // One byte less of body, another key, a stale date: refused.
        let short = Signed {
            body: b"{\"Name\":\"test\",\"Id\":1}",
            ..req
        };
        assert_eq!(
            verify(&short, &auth(sig), keys, DATE_SECS).unwrap_err().code,
            codes::AKSK_BAD_SIGNATURE
        );
        assert_eq!(
            verify(&req, &auth(sig), |_| Some("SecretKey2".into()), DATE_SECS)
                .unwrap_err()
                .code,
            codes::AKSK_BAD_SIGNATURE
        );
        assert_eq!(
            verify(&req, &auth(sig), keys, DATE_SECS + MAX_SKEW_SECS + 1)
                .unwrap_err()
                .code,
            codes::AKSK_BAD_DATE
        );
        assert_eq!(
            verify(&req, &auth(sig).replace("AccessKey", "Other"), keys, DATE_SECS)
                .unwrap_err()
                .code,
            codes::AKSK_UNKNOWN_KEY
        );
    }

    /// Each stream's reports are signed over their own path: a signature
    /// made for one stream does not verify on another.
    #[test]
    fn a_signature_covers_the_streams_path() {
        let h = headers(&[("x-sdk-date", DATE)]);
        let path = |stream: &str| {
            format!("/v2/0123456789abcdef0123456789abcdef/lts/groups/0a1b2c3d-0000-4000-8000-000000000001/streams/{stream}/tenant/contents/high-accuracy")
        };
        let (a, b) = (
            path("0a1b2c3d-0000-4000-8000-0000000000a1"),
            path("0a1b2c3d-0000-4000-8000-0000000000b1"),
        );
        fn req<'a>(target: &'a str, h: &'a [(String, String)]) -> Signed<'a> {
            Signed {
                method: "POST",
                target,
                headers: h,
                body: b"{}",
            }
        }
        let sign = |target: &str| {
            let canonical = canonical_request(&req(target, &h), &["x-sdk-date".to_string()]).unwrap();
            signature("SecretKey", DATE, &canonical)
        };
        let (sig_a, sig_b) = (sign(&a), sign(&b));
        assert_ne!(sig_a, sig_b);
        assert_eq!(
            verify(&req(&a, &h), &auth(&sig_a), keys, DATE_SECS),
            Ok("AccessKey".into())
        );
        assert_eq!(
            verify(&req(&b, &h), &auth(&sig_b), keys, DATE_SECS),
            Ok("AccessKey".into())
        );
        assert_eq!(
            verify(&req(&b, &h), &auth(&sig_a), keys, DATE_SECS).unwrap_err().code,
            codes::AKSK_BAD_SIGNATURE
        );
    }

    #[test]
    fn authorization_headers_are_parsed_strictly() {
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 Access=a,SignedHeaders=X-Sdk-Date;host, Signature=ff"),
            Some(Authorization {
                access: "a".into(),
                signed_headers: vec!["host".into(), "x-sdk-date".into()],
                signature: "ff".into()
            })
        );
        for bad in [
            "",
            "SDK-HMAC-SHA256",
            "SDK-HMAC-SHA1 Access=a, SignedHeaders=x-sdk-date, Signature=ff",
            "SDK-HMAC-SHA256Access=a, SignedHeaders=x-sdk-date, Signature=ff",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=x-sdk-date",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=x-sdk-date, Signature=ff, Extra=1",
            "SDK-HMAC-SHA256 Access=a, Access=b, SignedHeaders=x-sdk-date, Signature=ff",
            "SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=ff",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=x-sdk-date;;host, Signature=ff",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }

    #[test]
    fn sdk_dates() {
        assert_eq!(parse_sdk_date(DATE), Some(DATE_SECS));
        assert_eq!(parse_sdk_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_sdk_date("20000229T235959Z"), Some(951_868_799));
        for bad in [
            "20060102T150405",
            "2006-01-02T15:04:05Z",
            "20060230T150405Z",
            "20060102T250405Z",
            "2006010xT150405Z",
            "20060102 150405Z",
        ] {
            assert_eq!(parse_sdk_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn paths_and_queries_are_canonicalized() {
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a b/c%2Fd"), "/a%20b/c%2Fd/");
        assert_eq!(canonical_uri("/a%20b/"), "/a%20b/");
        assert_eq!(canonical_query("z=1&a=x+y&a=b&m"), "a=b&a=x%20y&m=&z=1");
        assert_eq!(canonical_query(""), "");
        assert_eq!(decode("100%", false), "100%");
        assert_eq!(decode("%4", false), "%4");
        assert_eq!(decode("%41%zz", false), "A%zz");
    }
}
