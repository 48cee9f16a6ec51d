//! TLS end to end, with whichever TLS library the features chose: a rustls
//! server on 127.0.0.1 that trusts only the test CA's client certificates
//! (mutual TLS) stands in for an endpoint behind a corporate gateway.
//!
//! The certificates in `tests/tls/` were made with openssl (a P-256 CA with
//! `basicConstraints=critical,CA:TRUE`, and leaves it signed with
//! `basicConstraints=critical,CA:FALSE`: the server's with
//! `subjectAltName=IP:127.0.0.1,DNS:localhost` and `serverAuth`, the
//! client's with `clientAuth`), valid until 2126. The README's TLS section
//! shows the commands.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use lts_core::{Config, ErrorKind, FlushError, Level, Record, RetryPolicy, Shipper};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

const ANSWER: &str = r#"{"errorCode":"SVCSTG.ALS.200.200","error_msg":"Report success.","result":null}"#;

fn tls_dir(file: &str) -> String {
    format!("{}/tests/tls/{file}", env!("CARGO_MANIFEST_DIR"))
}

#[derive(Default)]
struct Seen {
    /// Requests answered 200 (only after a client certificate was verified).
    requests: AtomicUsize,
    /// Connections whose handshake failed.
    refused: AtomicUsize,
}

/// A mutual-TLS endpoint on 127.0.0.1, port 0: answers every request 200.
fn start_server() -> (String, Arc<Seen>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(tls_dir("ca.pem")).unwrap())
        .unwrap();
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots)).build().unwrap();
    let chain = CertificateDer::pem_file_iter(tls_dir("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_dir("server.key")).unwrap();
    let config = Arc::new(
        ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let (config, seen) = (config.clone(), s.clone());
            thread::spawn(move || {
                let mut tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
                while tls.conn.is_handshaking() {
                    if tls.conn.complete_io(&mut tls.sock).is_err() {
                        seen.refused.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                }
                serve(tls, &seen);
            });
        }
    });
    (endpoint, seen)
}

/// Answers HTTP/1.1 requests on one connection until the client closes it.
fn serve(stream: StreamOwned<ServerConnection, std::net::TcpStream>, seen: &Seen) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut content_length = 0;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        seen.requests.fetch_add(1, Ordering::SeqCst);
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{ANSWER}",
            ANSWER.len()
        );
        if reader.get_mut().write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

fn config(endpoint: &str) -> lts_core::ConfigBuilder {
    common::ids(endpoint)
        .token("tok")
        .linger(Duration::from_millis(5))
        .ca_file(tls_dir("ca.pem"))
        .retry(RetryPolicy {
            max_tries: 2,
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
        })
}

fn ship_one(config: Config) -> Result<(), FlushError> {
    let (shipper, _guard) = Shipper::start(config).unwrap();
    shipper
        .send(Record::new(shipper.now_ns(), Level::Info, "tls", "hello"))
        .unwrap();
    shipper.flush(Duration::from_secs(10))
}

#[test]
fn a_client_certificate_from_the_builder_opens_a_mutual_tls_endpoint() {
    let (endpoint, seen) = start_server();
    let config = config(&endpoint)
        .client_cert(tls_dir("client.pem"), tls_dir("client.key"))
        .build()
        .unwrap();
    assert_eq!(ship_one(config), Ok(()));
    assert_eq!(seen.requests.load(Ordering::SeqCst), 1);
    assert_eq!(seen.refused.load(Ordering::SeqCst), 0);
}

#[test]
fn without_the_client_certificate_the_endpoint_refuses_every_attempt() {
    let (endpoint, seen) = start_server();
    let (diagnostics, hook) = common::hook();
    let config = config(&endpoint).error_hook(hook).build().unwrap();
    assert_eq!(ship_one(config), Err(FlushError::Lost { lost: 1 }));
    assert_eq!(seen.requests.load(Ordering::SeqCst), 0);
    assert!(seen.refused.load(Ordering::SeqCst) >= 1);
    assert!(!diagnostics.lock().unwrap().is_empty());
}

#[test]
fn client_certificate_files_come_from_the_environment_in_pairs() {
    let (endpoint, seen) = start_server();
    let vars = |cert: Option<String>, key: Option<String>| {
        let endpoint = endpoint.clone();
        move |name: &str| match name {
            "LTS_ENDPOINT" => Some(endpoint.clone()),
            "LTS_PROJECT_ID" => Some(lts_mock::PROJECT_ID.into()),
            "LTS_LOG_GROUP_ID" => Some(lts_mock::LOG_GROUP_ID.into()),
            "LTS_LOG_STREAM_ID" => Some(lts_mock::LOG_STREAM_ID.into()),
            "LTS_TOKEN" => Some("tok".into()),
            "LTS_LINGER_MS" => Some("5".into()),
            "LTS_CA_FILE" => Some(tls_dir("ca.pem")),
            "LTS_CLIENT_CERT_FILE" => cert.clone(),
            "LTS_CLIENT_KEY_FILE" => key.clone(),
            _ => None,
        }
    };
    let e = Config::from_lookup(vars(Some(tls_dir("client.pem")), None)).unwrap_err();
    assert_eq!(
        (e.kind(), e.setting()),
        (ErrorKind::MissingConfig, Some("LTS_CLIENT_KEY_FILE"))
    );
    let e = Config::from_lookup(vars(Some(tls_dir("client.pem")), Some(tls_dir("nope.key")))).unwrap_err();
    assert_eq!((e.kind(), e.setting()), (ErrorKind::Io, Some("LTS_CLIENT_KEY_FILE")));
    assert!(e.to_string().contains("nope.key"), "{e}");

    let config = Config::from_lookup(vars(Some(tls_dir("client.pem")), Some(tls_dir("client.key")))).unwrap();
    assert_eq!(ship_one(config), Ok(()));
    assert_eq!(seen.requests.load(Ordering::SeqCst), 1);
}
