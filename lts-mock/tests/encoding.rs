//! Content-Encoding: gzip and snappy (block and framed), and the rejections.

mod common;

use std::io::Write;

use common::*;
use lts_mock::{error_codes as codes, Api, MockLts};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn snappy_block(data: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(data).unwrap()
}

fn snappy_framed(data: &[u8]) -> Vec<u8> {
    let mut w = snap::write::FrameEncoder::new(Vec::new());
    w.write_all(data).unwrap();
    w.into_inner().unwrap()
}

fn check_accepted(encoding: &str, compress: fn(&[u8]) -> Vec<u8>) {
    let mock = MockLts::start().unwrap();
    let t = now_ns();
    let plain = ha_body(t, &["one", "two", "three"]).to_string();
    let wire = compress(plain.as_bytes());
    let a = post(&mock, Api::HighAccuracy, &wire, &[("Content-Encoding", encoding)]);
    assert_eq!(a.status, 200, "{encoding}: {}", a.body);
    let lines: Vec<String> = mock.events().into_iter().map(|e| e.line).collect();
    assert_eq!(lines, ["one", "two", "three"]);
    let r = &mock.requests()[0];
    assert_eq!(r.content_encoding.as_deref(), Some(encoding));
    assert_eq!(r.wire_bytes, wire.len());
    assert_eq!(r.decoded_bytes, plain.len());
    assert_eq!(r.events, 3);

    // The hash is of the decoded body: the same as the uncompressed send.
    let a = post(&mock, Api::HighAccuracy, plain.as_bytes(), &[]);
    assert_eq!(a.status, 200);
    let reqs = mock.requests();
    assert_eq!(reqs[0].body_sha256_or_hash, reqs[1].body_sha256_or_hash);
}

#[test]
fn gzip_lower_case_accepted() {
    check_accepted("gzip", gzip);
}

#[test]
fn gzip_upper_case_accepted() {
    check_accepted("GZIP", gzip);
}

#[test]
fn snappy_block_format_accepted() {
    check_accepted("snappy", snappy_block);
}

#[test]
fn snappy_upper_case_accepted() {
    check_accepted("SNAPPY", snappy_block);
}

#[test]
fn snappy_framed_format_accepted() {
    check_accepted("snappy", snappy_framed);
}

#[test]
fn standard_endpoint_with_gzip() {
    let mock = MockLts::start().unwrap();
    let t = now_ns();
    let wire = gzip(std_body(t, &["a", "b"]).to_string().as_bytes());
    let a = post(&mock, Api::Standard, &wire, &[("Content-Encoding", "GZIP")]);
    assert_eq!(a.status, 200);
    let times: Vec<u64> = mock.events().iter().map(|e| e.time_ns).collect();
    assert_eq!(times, [t, t + 1]);
}

#[test]
fn unsupported_encodings_are_400() {
    let mock = MockLts::start().unwrap();
    let plain = ha_body(now_ns(), &["x"]).to_string();
    for enc in [
        "deflate",
        "br",
        "identity",
        "Gzip",
        "x-gzip",
        "gzip, snappy",
        "zstd",
        "",
    ] {
        let a = post(&mock, Api::HighAccuracy, plain.as_bytes(), &[("Content-Encoding", enc)]);
        assert_eq!((a.status, a.code()), (400, codes::BAD_CONTENT_ENCODING), "{enc:?}");
    }
    assert_eq!(mock.event_count(), 0);
}

#[test]
fn body_that_does_not_gunzip_is_400() {
    let mock = MockLts::start().unwrap();
    let plain = ha_body(now_ns(), &["x"]).to_string();
    let mut truncated = gzip(plain.as_bytes());
    truncated.truncate(truncated.len() - 6);
    for body in [plain.as_bytes().to_vec(), truncated, Vec::new()] {
        let a = post(&mock, Api::HighAccuracy, &body, &[("Content-Encoding", "gzip")]);
        assert_eq!((a.status, a.code()), (400, codes::BAD_COMPRESSED_BODY), "{}", a.body);
    }
    let r = &mock.requests()[0];
    assert_eq!((r.decoded_bytes, r.events), (0, 0));
}

#[test]
fn body_that_does_not_unsnappy_is_400() {
    let mock = MockLts::start().unwrap();
    let plain = ha_body(now_ns(), &["x"]).to_string();
    // gzip bytes sent as snappy, a truncated snappy block, a corrupted frame.
    let mut truncated = snappy_block(plain.as_bytes());
    truncated.truncate(truncated.len() / 2);
    let mut framed = snappy_framed(plain.as_bytes());
    let last = framed.len() - 1;
    framed[last] ^= 0xff;
    for body in [gzip(plain.as_bytes()), truncated, framed] {
        let a = post(&mock, Api::HighAccuracy, &body, &[("Content-Encoding", "snappy")]);
        assert_eq!((a.status, a.code()), (400, codes::BAD_COMPRESSED_BODY), "{}", a.body);
    }
}

#[test]
fn decoded_size_limit_applies_to_compressed_bodies() {
    let t = now_ns();
    let plain = ha_body(t, &[&"z".repeat(10_000)]).to_string();
    let mock = MockLts::builder().max_body_bytes(plain.len() - 1).build().unwrap();
    for (enc, wire) in [
        ("gzip", gzip(plain.as_bytes())),
        ("snappy", snappy_block(plain.as_bytes())),
        ("snappy", snappy_framed(plain.as_bytes())),
    ] {
        assert!(wire.len() < plain.len() - 1);
        let a = post(&mock, Api::HighAccuracy, &wire, &[("Content-Encoding", enc)]);
        assert_eq!((a.status, a.code()), (413, codes::BODY_TOO_LARGE), "{enc}");
    }
    assert_eq!(mock.event_count(), 0);
}

#[test]
fn multi_member_gzip_is_decoded_whole() {
    let mock = MockLts::start().unwrap();
    let plain = ha_body(now_ns(), &["x", "y"]).to_string();
    let (a, b) = plain.as_bytes().split_at(plain.len() / 2);
    let mut wire = gzip(a);
    wire.extend(gzip(b));
    let ans = post(&mock, Api::HighAccuracy, &wire, &[("Content-Encoding", "gzip")]);
    assert_eq!(ans.status, 200, "{}", ans.body);
    assert_eq!(mock.event_count(), 2);
}
