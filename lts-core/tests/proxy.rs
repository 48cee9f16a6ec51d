//! Proxies: a small CONNECT proxy on 127.0.0.1 counts the tunnels it opens
//! and the requests that pass through them.
//!
//! This binary sets the standard proxy variables for its whole process (to
//! show they are honoured by default and ignored with `LTS_PROXY=none`), so
//! it holds one test that runs its cases in turn: nothing else shares its
//! environment.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use lts_core::{Config, Level, Proxy, Record, Shipper};
use lts_mock::MockLts;

/// What passed through a [`CountingProxy`].
#[derive(Default)]
struct Counts {
    /// CONNECT tunnels opened.
    tunnels: AtomicUsize,
    /// `POST /v2/...` request lines seen going from the client to the service.
    posts: AtomicUsize,
    /// Requests that were not CONNECT (answered 405).
    other: AtomicUsize,
}

/// An HTTP CONNECT proxy on 127.0.0.1, port 0, for as long as the test runs.
struct CountingProxy {
    url: String,
    counts: Arc<Counts>,
}

impl CountingProxy {
    fn start() -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let c = c.clone();
                thread::spawn(move || tunnel(client, &c));
            }
        });
        CountingProxy { url, counts }
    }

    fn tunnels(&self) -> usize {
        self.counts.tunnels.load(Ordering::SeqCst)
    }

    fn posts(&self) -> usize {
        self.counts.posts.load(Ordering::SeqCst)
    }
}

/// Reads a CONNECT request, connects to its target and copies bytes both
/// ways until either side closes, counting request lines on the way out.
fn tunnel(client: TcpStream, counts: &Counts) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(n) if n > 0 && header != "\r\n" => {}
            _ => break,
        }
    }
    let mut parts = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        counts.other.fetch_add(1, Ordering::SeqCst);
        let _ = (&client).write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = (&client).write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    counts.tunnels.fetch_add(1, Ordering::SeqCst);
    (&client)
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let mut back = upstream.try_clone().unwrap();
    let mut to_client = client.try_clone().unwrap();
    let down = thread::spawn(move || {
        let _ = std::io::copy(&mut back, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    // Client to service: the bytes already buffered, then the rest, each
    // request line to the reporting API counted (the tunnel carries plain
    // HTTP to the mock; a request line may straddle two reads).
    const REQUEST_LINE: &[u8] = b"POST /v2/";
    let mut up = upstream;
    let mut buf = reader.buffer().to_vec();
    let mut stream = reader.into_inner();
    let mut tail: Vec<u8> = Vec::new();
    loop {
        tail.extend_from_slice(&buf);
        let found = tail.windows(REQUEST_LINE.len()).filter(|w| *w == REQUEST_LINE).count();
        counts.posts.fetch_add(found, Ordering::SeqCst);
        let keep = tail.len().min(REQUEST_LINE.len() - 1);
        tail.drain(..tail.len() - keep);
        if up.write_all(&buf).is_err() {
            break;
        }
        buf.resize(16 * 1024, 0);
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.truncate(n),
        }
    }
    let _ = up.shutdown(Shutdown::Write);
    let _ = down.join();
}

/// Ships `n` records with `config` (one request each: flushed one by one)
/// and returns the shipper's request count.
fn ship(config: Config, n: usize) -> u64 {
    let (shipper, guard) = Shipper::start(config).unwrap();
    for i in 0..n {
        shipper
            .send(Record::new(
                shipper.now_ns(),
                Level::Info,
                "proxy",
                format!("record {i}"),
            ))
            .unwrap();
        shipper.flush(Duration::from_secs(5)).unwrap();
    }
    let requests = shipper.stats().requests;
    guard.shutdown().unwrap();
    requests
}

#[test]
fn proxies_from_the_environment_from_lts_proxy_and_none() {
    let from_env = CountingProxy::start();
    // The standard variables, as a corporate machine sets them; nothing
    // else runs in this process (see the module's doc).
    for var in [
        "NO_PROXY",
        "no_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        std::env::remove_var(var);
    }
    std::env::set_var("ALL_PROXY", &from_env.url);
    std::env::set_var("HTTPS_PROXY", &from_env.url);

    // 1. Default: the standard variables are honoured; every request
    //    passes through the proxy they name.
    let mock = MockLts::start().unwrap();
    let requests = ship(common::config(&mock).build().unwrap(), 3);
    assert_eq!(requests, 3);
    assert_eq!(mock.request_count(), 3);
    assert_eq!(from_env.posts(), 3, "every request passes through the proxy");
    assert!(from_env.tunnels() >= 1);
    assert_eq!(from_env.counts.other.load(Ordering::SeqCst), 0);

    // 2. LTS_PROXY=<url>: every request through that proxy, none through
    //    the one the standard variables name.
    let chosen = CountingProxy::start();
    let (env_tunnels, env_posts) = (from_env.tunnels(), from_env.posts());
    let mock = MockLts::start().unwrap();
    let vars = lookup(&mock, Some(&chosen.url));
    let config = Config::from_lookup(&vars).unwrap();
    assert_eq!(config.proxy(), &Proxy::url(chosen.url.clone()));
    assert_eq!(ship(config, 4), 4);
    assert_eq!(mock.request_count(), 4);
    assert_eq!(chosen.posts(), 4);
    assert_eq!((from_env.tunnels(), from_env.posts()), (env_tunnels, env_posts));

    // 3. LTS_PROXY=none: the standard variables are ignored; nothing
    //    passes through any proxy.
    let mock = MockLts::start().unwrap();
    let config = Config::from_lookup(lookup(&mock, Some("none"))).unwrap();
    assert_eq!(config.proxy(), &Proxy::None);
    assert_eq!(ship(config, 2), 2);
    assert_eq!(mock.request_count(), 2);
    assert_eq!((from_env.tunnels(), from_env.posts()), (env_tunnels, env_posts));
    assert_eq!(chosen.posts(), 4);
}

/// The `LTS_*` variables for `mock`, with `LTS_PROXY` when given.
fn lookup(mock: &MockLts, proxy: Option<&str>) -> impl Fn(&str) -> Option<String> {
    let (endpoint, token, proxy) = (mock.endpoint(), mock.token(), proxy.map(str::to_owned));
    move |name| match name {
        "LTS_ENDPOINT" => Some(endpoint.clone()),
        "LTS_PROJECT_ID" => Some(lts_mock::PROJECT_ID.into()),
        "LTS_LOG_GROUP_ID" => Some(lts_mock::LOG_GROUP_ID.into()),
        "LTS_LOG_STREAM_ID" => Some(lts_mock::LOG_STREAM_ID.into()),
        "LTS_TOKEN" => Some(token.clone()),
        "LTS_LINGER_MS" => Some("5".into()),
        "LTS_PROXY" => proxy.clone(),
        _ => None,
    }
}
