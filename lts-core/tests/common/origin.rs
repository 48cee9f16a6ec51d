//! Small HTTP(S) servers on 127.0.0.1 for the tests that need an origin
//! other than lts-mock: one that answers every request with a fixed status
//! and headers, and records what it was sent.
//! Shared by several test binaries, each using part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Header names, lower case, with their values.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A server answering every request with `status` and `headers`.
pub struct Origin {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Origin {
    /// Plain HTTP.
    pub fn http(status: u16, headers: Vec<(String, String)>) -> Origin {
        Origin::start(status, headers, None)
    }

    /// HTTPS with the certificate in `tests/data/localhost.crt` (a leaf for
    /// 127.0.0.1, not marked as a CA: trust it with `ca_file`).
    pub fn https(status: u16, headers: Vec<(String, String)>) -> Origin {
        Origin::start(status, headers, Some(tls_config()))
    }

    fn start(status: u16, headers: Vec<(String, String)>, tls: Option<Arc<rustls::ServerConfig>>) -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (s, headers, tls) = (s.clone(), headers.clone(), tls.clone());
                std::thread::spawn(move || {
                    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    match tls {
                        None => serve(conn, status, &headers, &s),
                        Some(cfg) => {
                            let Ok(server) = rustls::ServerConnection::new(cfg) else {
                                return;
                            };
                            serve(rustls::StreamOwned::new(server, conn), status, &headers, &s)
                        }
                    }
                });
            }
        });
        Origin { port, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves requests on one connection until the peer closes it.
fn serve<S: Read + Write>(stream: S, status: u16, headers: &[(String, String)], seen: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut got = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                got.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let len: usize = got
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        seen.lock().unwrap().push(Seen {
            method,
            path,
            headers: got,
            body,
        });
        let mut answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n");
        for (n, v) in headers {
            answer.push_str(&format!("{n}: {v}\r\n"));
        }
        answer.push_str("\r\n");
        let stream = reader.get_mut();
        if stream
            .write_all(answer.as_bytes())
            .and_then(|_| stream.flush())
            .is_err()
        {
            return;
        }
    }
}

fn tls_config() -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = vec![CertificateDer::from_pem_file(cert_path()).unwrap()];
    let key = PrivateKeyDer::from_pem_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/localhost.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    Arc::new(cfg)
}

/// The test certificate, for `ca_file`.
pub fn cert_path() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/localhost.crt")
}
