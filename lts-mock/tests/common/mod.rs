//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lts_mock::{Api, MockLts, CONTENT_TYPE};
use serde_json::{json, Value};

pub fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

/// An answer: status and body parsed as JSON (Null when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub json: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["errorCode"].as_str().unwrap_or("")
    }
}

/// Sends `body` to `url` with the given headers (name, value).
pub fn send(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut req = agent.post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.send(body).expect("transport");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    Answer { status, body, json }
}

/// Sends with the right token and content type, plus `extra` headers.
pub fn post(mock: &MockLts, api: Api, body: &[u8], extra: &[(&str, &str)]) -> Answer {
    let token = mock.token();
    let mut headers = vec![("X-Auth-Token", token.as_str()), ("Content-Type", CONTENT_TYPE)];
    headers.extend_from_slice(extra);
    send(&agent(), &mock.url(api), &headers, body)
}

pub fn post_json(mock: &MockLts, api: Api, body: &Value) -> Answer {
    post(mock, api, body.to_string().as_bytes(), &[])
}

/// A high-accuracy body with `lines` at `t0`, `t0 + 1`, ...
pub fn ha_body(t0: u64, lines: &[&str]) -> Value {
    let contents: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| json!({"log_time_ns": t0 + i as u64, "log": l}))
        .collect();
    json!({"contents": contents, "labels": {"app": "test"}})
}

/// A standard body with `lines` at base `t0`.
pub fn std_body(t0: u64, lines: &[&str]) -> Value {
    json!({"log_time_ns": t0, "contents": lines, "labels": {"app": "test"}})
}

/// A raw HTTP/1.1 request (keep-alive) as bytes.
pub fn raw_request(mock: &MockLts, api: Api, body: &[u8]) -> Vec<u8> {
    let url = mock.url(api);
    let path = &url[mock.endpoint().len()..];
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nX-Auth-Token: {}\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\n\r\n",
        mock.addr(),
        mock.token(),
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// Connects, with a read timeout as a guard against a test hanging forever
/// (never used to decide an outcome: a timeout fails the test).
pub fn connect(mock: &MockLts) -> TcpStream {
    let s = TcpStream::connect(mock.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads until EOF; panics on a read error (including the guard timeout).
pub fn read_to_eof(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("EOF expected");
    out
}

/// Writes `req` and reads exactly one response with a Content-Length body.
pub fn raw_roundtrip(s: &mut TcpStream, req: &[u8]) -> String {
    s.write_all(req).unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).unwrap();
        assert_eq!(
            n,
            1,
            "EOF inside the response head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .expect("content-length");
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    head + &String::from_utf8(body).unwrap()
}
