//! The running mock: threads, recording, answering.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::buffers::Buffers;
use crate::console;
use crate::error_codes as codes;
use crate::faults::{Action, Auth, Decision, Faults};
use crate::iam::{self, Iam, TokenState, User};
use crate::relay::Relay;
use crate::ring::Ring;
use crate::sign;
use crate::validate::{self, Ids, Reject, Report};
use crate::{Api, ReceivedEvent, RequestLog, Stats};

type NowFn = Arc<dyn Fn() -> u64 + Send + Sync>;
type EventFn = Arc<dyn Fn(&ReceivedEvent) + Send + Sync>;
type RequestFn = Arc<dyn Fn(&RequestLog) + Send + Sync>;

fn system_now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(u128::from(u64::MAX)) as u64)
}

/// Configures a [`MockLts`] before it starts. Get one from [`MockLts::builder`].
///
/// # Example
///
/// ```
/// let mock = lts_mock::MockLts::builder()
///     .token("test-token")
///     .access_key("AK0123", "secret-key")
///     .iam_user("svc-logger", "password", "my-account")
///     .max_line_bytes(4096)
///     .build()?;
/// assert_eq!(mock.token(), "test-token");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct MockBuilder {
    bind: SocketAddr,
    token: String,
    ids: Ids,
    /// Streams served besides the default one.
    streams: Vec<(String, String)>,
    on_event: Option<EventFn>,
    on_request: Option<RequestFn>,
    counting_only: bool,
    max_line_bytes: usize,
    max_body_bytes: usize,
    now_ns: Option<NowFn>,
    users: Vec<User>,
    keys: HashMap<String, String>,
    keep_last: Option<usize>,
    console: bool,
}

impl Default for MockBuilder {
    fn default() -> Self {
        MockBuilder {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            token: crate::default_token(),
            ids: Ids {
                project_id: crate::PROJECT_ID.to_string(),
                log_group_id: crate::LOG_GROUP_ID.to_string(),
                log_stream_id: crate::LOG_STREAM_ID.to_string(),
            },
            streams: Vec::new(),
            on_event: None,
            on_request: None,
            counting_only: false,
            max_line_bytes: 1_048_576,
            max_body_bytes: 12 * 1024 * 1024,
            now_ns: None,
            users: Vec::new(),
            keys: HashMap::new(),
            keep_last: None,
            console: false,
        }
    }
}

impl std::fmt::Debug for MockBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockBuilder")
            .field("bind", &self.bind)
            .field("ids", &self.ids)
            .field("streams", &self.streams)
            .field("counting_only", &self.counting_only)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field(
                "iam_users",
                &self.users.iter().map(|u| (&u.name, &u.domain)).collect::<Vec<_>>(),
            )
            .field("access_keys", &self.keys.keys().collect::<Vec<_>>())
            .field("keep_last", &self.keep_last)
            .field("console", &self.console)
            .finish_non_exhaustive()
    }
}

impl MockBuilder {
    /// The address to listen on; default `127.0.0.1:0` (a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The port to listen on (0: a free one), keeping the bind IP.
    pub fn port(mut self, port: u16) -> Self {
        self.bind.set_port(port);
        self
    }

    /// The token to accept in `X-Auth-Token`; default [`default_token`](crate::default_token).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// The project id to serve: 32 ASCII letters or digits (checked by [`build`](Self::build)).
    pub fn project_id(mut self, id: impl Into<String>) -> Self {
        self.ids.project_id = id.into();
        self
    }

    /// The log group id to serve: a 36-character UUID (checked by [`build`](Self::build)).
    pub fn log_group_id(mut self, id: impl Into<String>) -> Self {
        self.ids.log_group_id = id.into();
        self
    }

    /// The log stream id to serve: a 36-character UUID (checked by [`build`](Self::build)).
    pub fn log_stream_id(mut self, id: impl Into<String>) -> Self {
        self.ids.log_stream_id = id.into();
        self
    }

    /// Serves one more log stream, `stream_id` in log group `group_id`
    /// (the default stream is always served): reports to it are accepted,
    /// and [`MockLts::events_in`] reads them. A report to a stream not
    /// served is refused as the service refuses an unknown stream (404,
    /// `SVCSTG.ALS.404.103`, or `.404.102` for an unknown group).
    ///
    /// ```
    /// const AUDIT: &str = "0a1b2c3d-0000-4000-8000-0000000000a1";
    /// let mock = lts_mock::MockLts::builder().stream(lts_mock::LOG_GROUP_ID, AUDIT).build()?;
    /// assert!(mock.streams().contains(&(lts_mock::LOG_GROUP_ID.to_owned(), AUDIT.to_owned())));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stream(mut self, group_id: impl Into<String>, stream_id: impl Into<String>) -> Self {
        self.streams.push((group_id.into(), stream_id.into()));
        self
    }

    /// Called on a request thread for each event kept, after it is recorded and
    /// before the request is answered. Not called in counting-only mode.
    pub fn on_event(mut self, f: impl Fn(&ReceivedEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(f));
        self
    }

    /// Called on a request thread for each request, after it is recorded and
    /// before it is answered (also in counting-only mode, where nothing is stored).
    pub fn on_request(mut self, f: impl Fn(&RequestLog) + Send + Sync + 'static) -> Self {
        self.on_request = Some(Arc::new(f));
        self
    }

    /// Store nothing, only count: requests, events and bytes go to
    /// [`MockLts::stats`] and [`MockLts::event_count`]; [`MockLts::events`] and
    /// [`MockLts::requests`] stay empty. Route, ids, token, headers, encoding and
    /// size are validated as usual, and the decoded body must be a JSON object
    /// with `labels` and a non-empty `contents` array, whose entries are counted
    /// but not examined (no type, line-length or two-day-window checks).
    pub fn counting_only(mut self, yes: bool) -> Self {
        self.counting_only = yes;
        self
    }

    /// The longest log line accepted, in bytes; default 1,048,576 (1 MB).
    pub fn max_line_bytes(mut self, n: usize) -> Self {
        self.max_line_bytes = n;
        self
    }

    /// The largest decoded body accepted, in bytes; default 12 MiB. Larger is 413.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Overrides "now" (nanoseconds since the Unix epoch) for the two-day window.
    pub fn now_ns(mut self, f: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.now_ns = Some(Arc::new(f));
        self
    }

    /// Registers an IAM user: the mock's IAM stand-in
    /// (`POST {endpoint}/v3/auth/tokens?nocatalog=true`, see [`MockLts::iam_endpoint`])
    /// then issues tokens for a password identity with this user name, password and
    /// domain (account) name, scoped to the served project. May be called several
    /// times; with no user registered every token request is refused (401).
    pub fn iam_user(mut self, user: impl Into<String>, password: impl Into<String>, domain: impl Into<String>) -> Self {
        self.users.push(User {
            name: user.into(),
            password: password.into(),
            domain: domain.into(),
        });
        self
    }

    /// Registers an access key pair: reporting requests signed with it
    /// (`Authorization: SDK-HMAC-SHA256 ...`, `X-Sdk-Date`) are then accepted.
    /// May be called several times; a second pair with the same access key
    /// replaces the first.
    pub fn access_key(mut self, access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        self.keys.insert(access_key.into(), secret_key.into());
        self
    }

    /// Keep only the last `n` events and the last `n` requests, so that a long
    /// run does not grow without limit: older ones are evicted and counted
    /// ([`MockLts::evicted_events`], [`MockLts::evicted_requests`]); the
    /// counters in [`MockLts::stats`] still cover everything. By default every
    /// one is kept, unless the console is on ([`console`](Self::console)),
    /// which keeps [`DEFAULT_KEEP_LAST`](crate::DEFAULT_KEEP_LAST).
    pub fn keep_last(mut self, n: usize) -> Self {
        self.keep_last = Some(n);
        self
    }

    /// Serve the local console, a web page of the events received, at
    /// [`MockLts::console_url`] (`/`, beside the reporting endpoints), with its
    /// JSON API under `/api/` (see the `console` section of the crate docs).
    /// Console requests are not recorded and do not meet the [`Faults`].
    pub fn console(mut self, on: bool) -> Self {
        self.console = on;
        self
    }

    /// Starts the server. Fails if an id is malformed (`InvalidInput`) or the
    /// address cannot be bound.
    pub fn build(self) -> io::Result<MockLts> {
        let invalid = |what: &str, v: &str| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("lts-mock: invalid {what} {v:?}"))
        };
        if !validate::is_project_id(&self.ids.project_id) {
            return Err(invalid("project id (want 32 letters or digits)", &self.ids.project_id));
        }
        if !validate::is_uuid(&self.ids.log_group_id) {
            return Err(invalid(
                "log group id (want a 36-character UUID)",
                &self.ids.log_group_id,
            ));
        }
        if !validate::is_uuid(&self.ids.log_stream_id) {
            return Err(invalid(
                "log stream id (want a 36-character UUID)",
                &self.ids.log_stream_id,
            ));
        }

        for (group, stream) in &self.streams {
            check_stream(group, stream)?;
        }
        let mut streams = vec![(self.ids.log_group_id.clone(), self.ids.log_stream_id.clone())];
        streams.extend(self.streams);

        let listener = TcpListener::bind(self.bind)?;
        let local = listener.local_addr()?;
        let server = tiny_http::Server::http((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| io::Error::other(format!("lts-mock: internal server: {e}")))?;
        let internal = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("lts-mock: internal server has no IP address"))?;
        let server = Arc::new(server);

        let keep_last = match (self.keep_last, self.console) {
            (Some(n), _) => Some(n),
            (None, true) => Some(crate::DEFAULT_KEEP_LAST),
            (None, false) => None,
        };
        let shared = Arc::new(Shared {
            console: self.console,
            ids: self.ids,
            streams: Mutex::new(streams),
            counting_only: self.counting_only,
            max_line_bytes: self.max_line_bytes,
            max_body_bytes: self.max_body_bytes,
            now_ns: self.now_ns.unwrap_or_else(|| Arc::new(system_now_ns)),
            on_event: self.on_event,
            on_request: self.on_request,
            faults: Faults::new(self.token),
            iam: Iam::new(self.users, self.keys, token_seed(local)),
            store: Mutex::new(Store {
                events: Ring::new(keep_last),
                requests: Ring::new(keep_last),
                attempts: HashMap::new(),
                stats: Stats::default(),
            }),
            store_cv: Condvar::new(),
            life: Mutex::new(Life::default()),
            life_cv: Condvar::new(),
            relay: Relay::new(),
            buffers: Buffers::per_core(),
        });

        let stopping = Arc::new(AtomicBool::new(false));
        let accept = {
            let relay = Arc::clone(&shared.relay);
            let stopping = Arc::clone(&stopping);
            thread::Builder::new()
                .name("lts-mock-accept".into())
                .spawn(move || relay.accept_loop(listener, internal, stopping))?
        };
        let dispatch = {
            let shared = Arc::clone(&shared);
            let server = Arc::clone(&server);
            thread::Builder::new()
                .name("lts-mock-dispatch".into())
                .spawn(move || dispatch_loop(&shared, &server))
        };
        let dispatch = match dispatch {
            Ok(h) => h,
            Err(e) => {
                stop_accept(&stopping, local, accept);
                return Err(e);
            }
        };

        let connect_addr = match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port()),
            IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), local.port()),
            _ => local,
        };
        Ok(MockLts {
            shared,
            addr: connect_addr,
            server,
            stopping,
            accept: Some(accept),
            dispatch: Some(dispatch),
            stopped: false,
        })
    }
}

/// A seed for issued tokens that differs between mocks and runs.
fn token_seed(local: SocketAddr) -> u64 {
    static MOCKS: AtomicU64 = AtomicU64::new(0);
    let n = MOCKS.fetch_add(1, Ordering::Relaxed);
    system_now_ns() ^ (u64::from(local.port()) << 48) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn stop_accept(stopping: &AtomicBool, addr: SocketAddr, accept: JoinHandle<()>) {
    stopping.store(true, Ordering::SeqCst);
    let addr = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()),
        _ => addr,
    };
    // Wake the blocked accept(). If even that fails, leave the thread detached
    // rather than block forever: it exits at its next accept.
    if TcpStream::connect_timeout(&addr, Duration::from_secs(5)).is_ok() {
        let _ = accept.join();
    }
}

pub(crate) struct Shared {
    console: bool,
    pub(crate) ids: Ids,
    /// Every stream served, the default one first.
    streams: Mutex<Vec<(String, String)>>,
    counting_only: bool,
    max_line_bytes: usize,
    max_body_bytes: usize,
    now_ns: NowFn,
    on_event: Option<EventFn>,
    on_request: Option<RequestFn>,
    pub(crate) faults: Faults,
    iam: Iam,
    store: Mutex<Store>,
    store_cv: Condvar,
    life: Mutex<Life>,
    life_cv: Condvar,
    relay: Arc<Relay>,
    /// The buffers bodies are decoded into, one for each core.
    buffers: Buffers,
}

pub(crate) struct Store {
    pub(crate) events: Ring<ReceivedEvent>,
    pub(crate) requests: Ring<RequestLog>,
    /// Body hash -> how many kept requests carried it, for [`RequestLog::attempt`].
    attempts: HashMap<u64, u32>,
    pub(crate) stats: Stats,
}

impl Store {
    /// Keeps a request, numbering its attempt and forgetting an evicted one's.
    fn push_request(&mut self, mut log: RequestLog) {
        if log.body_sha256_or_hash != 0 && log.api.is_some() {
            let n = self.attempts.entry(log.body_sha256_or_hash).or_insert(0);
            *n += 1;
            log.attempt = *n;
        }
        // Only a numbered request counted towards its hash.
        if let Some(old) = self.requests.push(log).filter(|old| old.attempt > 0) {
            if let Some(n) = self.attempts.get_mut(&old.body_sha256_or_hash) {
                *n -= 1;
                if *n == 0 {
                    self.attempts.remove(&old.body_sha256_or_hash);
                }
            }
        }
    }
}

#[derive(Default)]
struct Life {
    shutting_down: bool,
    workers: usize,
}

impl Shared {
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn life(&self) -> MutexGuard<'_, Life> {
        self.life.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits `d`, or less if the mock shuts down.
    fn sleep(&self, d: Duration) {
        let deadline = Instant::now() + d;
        let mut life = self.life();
        while !life.shutting_down {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            life = self
                .life_cv
                .wait_timeout(life, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until the mock shuts down.
    fn wait_shutdown(&self) {
        let mut life = self.life();
        while !life.shutting_down {
            life = self.life_cv.wait(life).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn worker_done(&self) {
        let mut life = self.life();
        life.workers -= 1;
        self.life_cv.notify_all();
    }

    /// Records one request (and its kept events), then runs the callbacks.
    fn record(
        &self,
        log: RequestLog,
        accepted: bool,
        events: Vec<ReceivedEvent>,
        discarded: usize,
        event_count: usize,
    ) {
        {
            let mut st = self.store();
            let s = &mut st.stats;
            s.requests += 1;
            s.wire_bytes += log.wire_bytes as u64;
            s.decoded_bytes += log.decoded_bytes as u64;
            if accepted {
                s.accepted_requests += 1;
                s.accepted_wire_bytes += log.wire_bytes as u64;
                s.accepted_decoded_bytes += log.decoded_bytes as u64;
                s.events += event_count;
                s.discarded_out_of_window += discarded;
            }
            if !self.counting_only {
                st.push_request(log.clone());
                if let Some(f) = &self.on_event {
                    // Clone only when a callback needs them after the lock.
                    for e in &events {
                        st.events.push(e.clone());
                    }
                    drop(st);
                    self.store_cv.notify_all();
                    for e in &events {
                        f(e);
                    }
                } else {
                    for e in events {
                        st.events.push(e);
                    }
                    drop(st);
                    self.store_cv.notify_all();
                }
            } else {
                drop(st);
                self.store_cv.notify_all();
            }
        }
        if let Some(f) = &self.on_request {
            f(&log);
        }
    }
}

fn dispatch_loop(shared: &Arc<Shared>, server: &tiny_http::Server) {
    let mut index = 0usize;
    loop {
        let request = match server.recv() {
            Ok(r) => r,
            Err(_) if shared.life().shutting_down => break,
            Err(_) => continue,
        };
        // The console's page and API: not indexed, recorded or faulted.
        if shared.console && console::is_console_target(request.url()) {
            spawn_worker(shared, "lts-mock-console".into(), request, console::serve);
            continue;
        }
        let decision = shared.faults.decide(index, iam::is_iam_target(request.url()));
        spawn_worker(
            shared,
            format!("lts-mock-req-{index}"),
            (request, index, decision),
            |shared, (request, index, decision)| handle(shared, request, index, decision),
        );
        index += 1;
    }
}

/// Runs `work(shared, job)` on a new thread counted as a worker (on this one
/// when no thread can be had).
fn spawn_worker<J: Send + 'static>(shared: &Arc<Shared>, name: String, job: J, work: fn(&Shared, J)) {
    shared.life().workers += 1;
    let worker_shared = Arc::clone(shared);
    let (tx, rx) = std::sync::mpsc::channel::<J>();
    let spawned = thread::Builder::new().name(name).spawn(move || {
        if let Ok(job) = rx.recv() {
            work(&worker_shared, job);
        }
        worker_shared.worker_done();
    });
    match spawned {
        Ok(_) => {
            let _ = tx.send(job);
        }
        Err(_) => {
            work(shared, job);
            shared.worker_done();
        }
    }
}

fn header_values(request: &tiny_http::Request, name: &'static str) -> Vec<String> {
    request
        .headers()
        .iter()
        .filter(|h| h.field.equiv(name))
        .map(|h| h.value.as_str().to_string())
        .collect()
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn joined(values: &[String]) -> Option<String> {
    (!values.is_empty()).then(|| values.join(", "))
}

/// The answer body: `errorCode`, the message (`errorMessage` on the standard
/// endpoint, `error_msg` elsewhere), `result: null`.
fn answer_body(api: Option<Api>, code: &str, msg: &str) -> String {
    let key = if api == Some(Api::Standard) {
        "errorMessage"
    } else {
        "error_msg"
    };
    format!(
        "{{\"errorCode\":{},\"{key}\":{},\"result\":null}}",
        serde_json::Value::from(code),
        serde_json::Value::from(msg)
    )
}

fn respond(request: tiny_http::Request, status: u16, body: String) {
    respond_with(request, status, body, crate::CONTENT_TYPE, &[]);
}

/// Answers with this content type and these further headers (for IAM, an
/// `X-Subject-Token`; for a rate limit, a `Retry-After`).
fn respond_with(request: tiny_http::Request, status: u16, body: String, content_type: &str, headers: &[(&str, &str)]) {
    let header =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes()).expect("static header is valid");
    let mut response = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(header);
    for (name, value) in headers {
        response = response
            .with_header(tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header"));
    }
    let _ = request.respond(response);
}

/// What the mock learnt from a body, whatever the answer.
enum Parsed {
    Full(Report),
    Count(usize),
}

/// At most the first eight characters of a token: enough to tell tokens
/// apart in a log, not enough to use one.
fn token_prefix(t: &str) -> String {
    t.chars().take(8).collect()
}

/// What a request presented to authenticate, for [`RequestLog::auth`].
fn describe_auth(tokens: &[String], authorizations: &[String]) -> Option<String> {
    let mut parts = Vec::new();
    for t in tokens {
        parts.push(format!("token:{}", token_prefix(t)));
    }
    for a in authorizations {
        parts.push(match sign::parse_authorization(a) {
            Some(p) => format!("aksk:{}", p.access),
            None => "aksk".to_string(),
        });
    }
    (!parts.is_empty()).then(|| parts.join("+"))
}

/// The credential a reporting request was accepted with (so far).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cred {
    /// The static token ([`Faults::set_token`]).
    Static,
    /// A token the mock's IAM issued.
    Issued,
    /// An AK/SK signature.
    Signed,
}

type AuthReject = (Reject, Option<&'static str>);

fn static_token_reject(auth: Auth) -> Option<AuthReject> {
    let msg = match auth {
        Auth::Ok => return None,
        Auth::Missing => "Missing X-Auth-Token header (or more than one).",
        Auth::Wrong => "Incorrect IAM authentication information: invalid token.",
        Auth::Expired => "Incorrect IAM authentication information: the token has expired.",
    };
    let fault = (auth == Auth::Expired).then_some("token_expired");
    Some((Reject::new(401, codes::TOKEN, msg), fault))
}

/// Checks an `X-Auth-Token` (`None`: missing or repeated): a token the mock's
/// IAM issued, or else the static token.
fn check_token(shared: &Shared, token: Option<&str>) -> Result<Cred, AuthReject> {
    if let Some(t) = token {
        let msg = match shared.iam.token_state(t, system_now_ns()) {
            TokenState::Valid => return Ok(Cred::Issued),
            TokenState::Expired => "Incorrect IAM authentication information: the token has expired.",
            TokenState::Revoked => "Incorrect IAM authentication information: the token has been revoked.",
            TokenState::Unknown => "",
        };
        if !msg.is_empty() {
            return Err((Reject::new(401, codes::TOKEN, msg), None));
        }
    }
    match static_token_reject(shared.faults.check_token(token)) {
        Some(r) => Err(r),
        None => Ok(Cred::Static),
    }
}

/// Authenticates a reporting request: `X-Auth-Token` or an AK/SK signature over
/// the body as received, not both.
fn authenticate(
    shared: &Shared,
    request: &tiny_http::Request,
    tokens: &[String],
    authorizations: &[String],
    body: &[u8],
) -> Result<Cred, AuthReject> {
    if !authorizations.is_empty() && !tokens.is_empty() {
        return Err((
            Reject::new(
                401,
                codes::TWO_CREDENTIALS,
                "Both X-Auth-Token and an Authorization signature were sent: use one.",
            ),
            None,
        ));
    }
    match authorizations {
        [] => {}
        [a] => {
            let headers: Vec<(String, String)> = request
                .headers()
                .iter()
                .map(|h| (h.field.as_str().as_str().to_string(), h.value.as_str().to_string()))
                .collect();
            let signed = sign::Signed {
                method: request.method().as_str(),
                target: request.url(),
                headers: &headers,
                body,
            };
            let now_secs = system_now_ns() / 1_000_000_000;
            return sign::verify(&signed, a, |ak| shared.iam.secret_key(ak), now_secs)
                .map(|_| Cred::Signed)
                .map_err(|r| (r, None));
        }
        _ => {
            return Err((
                Reject::new(401, codes::AKSK_MALFORMED, "More than one Authorization header."),
                None,
            ))
        }
    }
    let token = match tokens {
        [t] => Some(t.as_str()),
        _ => None,
    };
    check_token(shared, token)
}

/// Answers the request if a fault decided on it; otherwise gives it back (with
/// the log noting a mere delay). For an injected error, `fail(status, code, msg)`
/// gives the error code the log records and the body of the answer.
fn answer_fault(
    shared: &Shared,
    request: tiny_http::Request,
    mut log: RequestLog,
    decision: &Decision,
    remote: Option<SocketAddr>,
    fail: impl Fn(u16, &str, &str) -> (String, String),
    content_type: &str,
) -> Option<(tiny_http::Request, RequestLog)> {
    let delay_tag = if decision.delay.is_some() { "delay+" } else { "" };
    let finish_delay = || {
        if let Some(d) = decision.delay {
            shared.sleep(d);
        }
    };
    match decision.action {
        Action::Drop { .. } | Action::Hang => {
            let (hang, name) = match decision.action {
                Action::Drop { fault } => (false, fault),
                _ => (true, "hang"),
            };
            log.fault = Some(format!("{delay_tag}{name}"));
            log.error_msg = Some(if hang {
                "hung: no answer until the mock shuts down".into()
            } else {
                "dropped: connection closed with no answer".into()
            });
            shared.record(log, false, Vec::new(), 0, 0);
            finish_delay();
            if hang {
                shared.wait_shutdown();
            }
            // Close the client's connection before tiny_http (on dropping the
            // request) writes its 500 into the relay, which then goes nowhere.
            shared.relay.kill(remote);
            drop(request);
            None
        }
        Action::Fail {
            status,
            fault,
            retry_after,
        } => {
            let (code, msg) = codes::for_injected_status(status);
            log.status = status;
            log.fault = Some(format!("{delay_tag}{fault}"));
            let (logged_code, body) = fail(status, &code, msg);
            if status != 200 {
                log.error_code = Some(logged_code);
                log.error_msg = Some(msg.to_string());
            }
            shared.record(log, false, Vec::new(), 0, 0);
            finish_delay();
            // Whole seconds, rounded up: a sub-second wait must not read as 0.
            let retry_after = retry_after.map(|d| (d.as_secs() + u64::from(d.subsec_nanos() > 0)).to_string());
            let headers: Vec<(&str, &str)> = retry_after.iter().map(|v| ("Retry-After", v.as_str())).collect();
            respond_with(request, status, body, content_type, &headers);
            None
        }
        Action::None => {
            if decision.delay.is_some() {
                log.fault = Some("delay".into());
            }
            Some((request, log))
        }
    }
}

/// The content type of IAM's answers.
const IAM_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// Answers a token request (`/v3/auth/tokens`). Its body holds a password: it
/// is neither hashed nor kept.
fn handle_iam(
    shared: &Shared,
    request: tiny_http::Request,
    mut log: RequestLog,
    body: Vec<u8>,
    decision: &Decision,
    remote: Option<SocketAddr>,
    content_type: &[String],
) {
    log.auth = serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| {
        v["auth"]["identity"]["password"]["user"]["name"]
            .as_str()
            .map(|u| format!("password:{u}"))
    });
    let iam_fail = |status: u16, _code: &str, msg: &str| {
        let msg = match status {
            401 => "The request you have made requires authentication.",
            200 => "Injected error.",
            _ => msg,
        };
        (status.to_string(), iam::error_body(status, msg))
    };
    let Some((request, mut log)) = answer_fault(shared, request, log, decision, remote, iam_fail, IAM_CONTENT_TYPE)
    else {
        return;
    };
    let finish_delay = || {
        if let Some(d) = decision.delay {
            shared.sleep(d);
        }
    };
    let query = log.path.split_once('?').map_or("", |(_, q)| q);
    let answer = if log.method != "POST" {
        Err((
            405,
            format!("The method {} is not allowed for {}.", log.method, iam::TOKENS_PATH),
        ))
    } else if !query.split('&').any(|p| p == "nocatalog=true") {
        // Stricter than the service, which would answer with the whole
        // service catalog: a client that forgets it is caught here.
        Err((
            400,
            format!(
                "This mock serves {}?nocatalog=true only (the service catalog is not implemented).",
                iam::TOKENS_PATH
            ),
        ))
    } else {
        Ok(shared
            .iam
            .token_request(&as_strs(content_type), &body, &shared.ids.project_id, system_now_ns()))
    };
    let answer = answer.unwrap_or_else(|(status, msg)| iam::Answer {
        status,
        body: iam::error_body(status, &msg),
        token: None,
        error: Some(msg),
    });
    drop(body);
    log.status = answer.status;
    if let Some(msg) = answer.error {
        log.error_code = Some(answer.status.to_string());
        log.error_msg = Some(msg);
    }
    shared.record(log, false, Vec::new(), 0, 0);
    finish_delay();
    let headers: Vec<(&str, &str)> = answer.token.iter().map(|t| ("X-Subject-Token", t.as_str())).collect();
    respond_with(request, answer.status, answer.body, IAM_CONTENT_TYPE, &headers);
}

fn handle(shared: &Shared, mut request: tiny_http::Request, index: usize, mut decision: Decision) {
    let method = request.method().as_str().to_string();
    let path = request.url().to_string();
    let is_iam = iam::is_iam_target(&path);
    let content_type = header_values(&request, "Content-Type");
    let content_encoding = header_values(&request, "Content-Encoding");
    let tokens = header_values(&request, "X-Auth-Token");
    let authorizations = header_values(&request, "Authorization");
    let (log_group_id, log_stream_id) = validate::path_ids(&path).unzip();
    let mut log = RequestLog {
        index,
        method: method.clone(),
        path: path.clone(),
        log_group_id,
        log_stream_id,
        tenant_project_id: None,
        status: 0,
        error_code: None,
        error_msg: None,
        content_encoding: joined(&content_encoding),
        content_type: joined(&content_type),
        wire_bytes: 0,
        decoded_bytes: 0,
        events: 0,
        api: None,
        fault: None,
        body_sha256_or_hash: 0,
        attempt: 0,
        iam: is_iam,
        auth: if is_iam {
            None
        } else {
            describe_auth(&tokens, &authorizations)
        },
        host: joined(&header_values(&request, "Host")),
    };
    let remote = request.remote_addr().copied();
    if is_iam {
        shared.iam.count_request();
    }

    let mut body = Vec::new();
    if let Err(e) = request.as_reader().read_to_end(&mut body) {
        log.wire_bytes = body.len();
        log.error_msg = Some(format!("reading the body failed: {e}"));
        shared.record(log, false, Vec::new(), 0, 0);
        shared.relay.kill(remote);
        return;
    }
    log.wire_bytes = body.len();
    if is_iam {
        return handle_iam(shared, request, log, body, &decision, remote, &content_type);
    }

    let ct_check = validate::check_content_type(&as_strs(&content_type));
    let enc_check = validate::check_content_encoding(&as_strs(&content_encoding));
    let route = {
        let streams = shared.streams.lock().unwrap_or_else(|e| e.into_inner());
        validate::route(&method, &path, &shared.ids, &streams)
    };
    let api = match &route {
        Ok(t) => Some(t.api),
        Err((a, _)) => *a,
    };
    if let (Ok(t), Action::None) = (&route, decision.action) {
        if let Some(status) = shared.faults.take_stream_failure(&t.log_stream_id) {
            decision.action = Action::Fail {
                status,
                fault: "fail_stream",
                retry_after: None,
            };
        }
    }
    log.api = api;
    // The signature covers the body as received, before decompression.
    let auth_check = authenticate(shared, &request, &tokens, &authorizations, &body);

    // Learn what the body holds, whatever the answer will be, so that tests can
    // compare a rejected batch with its retry.
    let mut scratch = shared.buffers.lend();
    let decoded = enc_check
        .clone()
        .and_then(|enc| validate::decode(enc, &body, shared.max_body_bytes, &mut scratch));
    let parsed: Option<Result<Parsed, Reject>> = match (&decoded, api) {
        (Ok(d), Some(api)) => Some(if shared.counting_only {
            validate::count_report(d).map(Parsed::Count)
        } else {
            validate::parse_report(api, d, shared.max_line_bytes).map(Parsed::Full)
        }),
        _ => None,
    };
    match &decoded {
        Ok(d) => {
            log.decoded_bytes = d.len();
            if !shared.counting_only {
                log.body_sha256_or_hash = validate::fnv1a64(d);
            }
        }
        Err(_) => {
            if !shared.counting_only {
                log.body_sha256_or_hash = validate::fnv1a64(&body);
            }
        }
    }
    if let Some(Ok(Parsed::Full(r))) = &parsed {
        log.tenant_project_id.clone_from(&r.tenant_project_id);
    }
    log.events = match &parsed {
        Some(Ok(Parsed::Full(r))) => r.events.len(),
        Some(Ok(Parsed::Count(n))) => *n,
        _ => 0,
    };
    let decoded_err = decoded.err();
    drop(scratch);
    drop(body);

    let lts_fail = |_status: u16, code: &str, msg: &str| (code.to_string(), answer_body(api, code, msg));
    let Some((request, log)) = answer_fault(shared, request, log, &decision, remote, lts_fail, crate::CONTENT_TYPE)
    else {
        return;
    };
    let delay_tag = if decision.delay.is_some() { "delay+" } else { "" };
    let finish_delay = || {
        if let Some(d) = decision.delay {
            shared.sleep(d);
        }
    };

    let reject = |mut log: RequestLog, r: Reject, fault: Option<&str>| {
        log.status = r.status;
        log.error_code = Some(r.code.to_string());
        log.error_msg = Some(r.msg.clone());
        if let Some(f) = fault {
            log.fault = Some(format!("{delay_tag}{f}"));
        }
        shared.record(log, false, Vec::new(), 0, 0);
        finish_delay();
        (r.status, answer_body(api, r.code, &r.msg))
    };

    // Everything up to the final credential re-check, in the documented order.
    let pre: Result<Cred, AuthReject> = (|| {
        route.as_ref().map_err(|(_, r)| (r.clone(), None))?;
        let cred = auth_check?;
        ct_check.map_err(|r| (r, None))?;
        enc_check.map_err(|r| (r, None))?;
        if let Some(r) = decoded_err {
            return Err((r, None));
        }
        Ok(cred)
    })();
    let (cred, parsed) = match (pre, parsed) {
        (Err((r, fault)), _) => {
            let (status, body) = reject(log, r, fault);
            respond(request, status, body);
            return;
        }
        (Ok(_), Some(Err(r))) => {
            let (status, body) = reject(log, r, None);
            respond(request, status, body);
            return;
        }
        (Ok(cred), Some(Ok(p))) => (cred, p),
        (Ok(_), None) => unreachable!("a routed, decoded body is always parsed"),
    };
    // Atomic re-check of a token: the static one counts towards a pending
    // expiry and is refused if it expired meanwhile; an issued one may have
    // been revoked or have run out meanwhile.
    let token = match tokens.as_slice() {
        [t] => Some(t.as_str()),
        _ => None,
    };
    let recheck = match cred {
        Cred::Static => static_token_reject(shared.faults.accept(token)).map_or(Ok(Cred::Static), Err),
        Cred::Issued => check_token(shared, token),
        Cred::Signed => Ok(Cred::Signed),
    };
    if let Err((r, fault)) = recheck {
        let (status, body) = reject(log, r, fault);
        respond(request, status, body);
        return;
    }

    let Ok(target) = route else {
        unreachable!("refused above when not routed")
    };
    let api = target.api;
    let mut log = log;
    log.status = 200;
    let (kept, discarded, count) = match parsed {
        Parsed::Count(n) => (Vec::new(), 0, n),
        Parsed::Full(report) => {
            let now = (shared.now_ns)();
            let mut kept = Vec::with_capacity(report.events.len());
            let mut discarded = 0;
            let n = report.events.len();
            let mut labels = report.labels;
            for (i, (time_ns, line)) in report.events.into_iter().enumerate() {
                if now.abs_diff(time_ns) > validate::WINDOW_NS {
                    discarded += 1;
                    continue;
                }
                // The last event takes the labels instead of a clone.
                let labels = if i + 1 == n {
                    std::mem::take(&mut labels)
                } else {
                    labels.clone()
                };
                kept.push(ReceivedEvent {
                    time_ns,
                    line,
                    labels,
                    api,
                    request: index,
                    log_group_id: target.log_group_id.clone(),
                    log_stream_id: target.log_stream_id.clone(),
                    tenant_project_id: report.tenant_project_id.clone(),
                });
            }
            let count = kept.len();
            (kept, discarded, count)
        }
    };
    shared.record(log, true, kept, discarded, count);
    finish_delay();
    respond(request, 200, answer_body(Some(api), codes::SUCCESS, "Report success."));
}

/// A running mock LTS. Dropping it shuts it down (see [`MockLts::shutdown`]).
///
/// # Example
///
/// ```
/// use lts_mock::{Api, MockLts};
///
/// let mock = MockLts::start()?;
/// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
/// let body = format!(r#"{{"labels":{{}},"contents":[{{"log_time_ns":{now},"log":"hello"}}]}}"#);
/// let answer = ureq::post(mock.url(Api::HighAccuracy))
///     .header("X-Auth-Token", mock.token())
///     .header("Content-Type", lts_mock::CONTENT_TYPE)
///     .send(body)
///     .map_err(std::io::Error::other)?;
/// assert_eq!(answer.status(), 200);
/// # let _ = answer;
/// assert_eq!(mock.events()[0].line, "hello");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct MockLts {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    dispatch: Option<JoinHandle<()>>,
    stopped: bool,
}

impl std::fmt::Debug for MockLts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockLts")
            .field("endpoint", &self.endpoint())
            .finish_non_exhaustive()
    }
}

impl MockLts {
    /// Starts a mock on `127.0.0.1`, a free port, with the default ids and token.
    pub fn start() -> io::Result<MockLts> {
        MockLts::builder().build()
    }

    /// A builder for a mock with other settings.
    pub fn builder() -> MockBuilder {
        MockBuilder::default()
    }

    /// `http://IP:PORT`, for the client's endpoint setting. When bound to an
    /// unspecified address (`0.0.0.0`, `::`), the loopback address of that family.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address clients connect to (see [`endpoint`](Self::endpoint)).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The static token currently accepted (see [`Faults::set_token`]).
    pub fn token(&self) -> String {
        self.shared.faults.token()
    }

    /// The base URL of the mock's IAM stand-in: the same as
    /// [`endpoint`](Self::endpoint), which also serves
    /// `POST /v3/auth/tokens?nocatalog=true`.
    ///
    /// A token request must carry `Content-Type: application/json` (optionally
    /// `;charset=UTF-8`) and exactly the documented body:
    /// `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":..,"password":..,"domain":{"name":..}}}},"scope":{"project":{"id":PROJECT}}}}`
    /// with the served project id; anything else (another field, a missing one,
    /// another method or project, no `nocatalog=true`) is 400 with IAM's error
    /// body `{"error":{"code":400,"message":..,"title":"Bad Request"}}`. A user,
    /// domain or password that is not registered ([`MockBuilder::iam_user`]) is
    /// 401 `{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}`.
    /// Success is 201 with a new, unique 1,200-character token in `X-Subject-Token`
    /// and `{"token":{"expires_at":"...Z","issued_at":"...Z",...}}` (RFC 3339,
    /// UTC, six fractional digits). The reporting endpoints accept an issued
    /// token in `X-Auth-Token` until it expires ([`set_token_lifetime`](Self::set_token_lifetime))
    /// or is revoked ([`revoke_tokens`](Self::revoke_tokens)); then they answer
    /// 401 `SVCSTG.ALS.403.105`. Token requests are logged in [`requests`](Self::requests)
    /// (with [`RequestLog::iam`] set, their body neither kept nor hashed) and meet
    /// the [`Faults`] like any request.
    pub fn iam_endpoint(&self) -> String {
        self.endpoint()
    }

    /// The life of the tokens IAM issues from now on (default 24 hours);
    /// tokens issued before keep theirs.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.iam.set_lifetime(lifetime);
    }

    /// Every token IAM issued so far is refused from now on (401
    /// `SVCSTG.ALS.403.105`), as after a password change. Tokens issued later
    /// are accepted. The static token is not affected.
    pub fn revoke_tokens(&self) {
        self.shared.iam.revoke_all();
    }

    /// Token requests received (`/v3/auth/tokens`), answered or not, whatever
    /// the answer.
    pub fn iam_requests(&self) -> usize {
        self.shared.iam.requests()
    }

    /// Tokens issued so far (token requests answered 201).
    pub fn iam_tokens_issued(&self) -> u64 {
        self.shared.iam.issued()
    }

    /// The project id served.
    pub fn project_id(&self) -> &str {
        &self.shared.ids.project_id
    }

    /// The log group id served.
    pub fn log_group_id(&self) -> &str {
        &self.shared.ids.log_group_id
    }

    /// The log stream id served.
    pub fn log_stream_id(&self) -> &str {
        &self.shared.ids.log_stream_id
    }

    /// Serves one more stream from now on (see [`MockBuilder::stream`]).
    /// Fails with `InvalidInput` for an id of the wrong shape.
    pub fn add_stream(&self, group_id: &str, stream_id: &str) -> io::Result<()> {
        check_stream(group_id, stream_id)?;
        let mut streams = self.shared.streams.lock().unwrap_or_else(|e| e.into_inner());
        let pair = (group_id.to_owned(), stream_id.to_owned());
        if !streams.contains(&pair) {
            streams.push(pair);
        }
        Ok(())
    }

    /// Every stream served, as (group id, stream id), the default one first.
    pub fn streams(&self) -> Vec<(String, String)> {
        self.shared.streams.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The events kept (see [`MockLts::events`]) that went to stream
    /// `stream_id` of group `group_id`, in the order they were recorded.
    pub fn events_in(&self, group_id: &str, stream_id: &str) -> Vec<ReceivedEvent> {
        self.shared
            .store()
            .events
            .iter()
            .filter(|e| e.log_group_id == group_id && e.log_stream_id == stream_id)
            .cloned()
            .collect()
    }

    /// How many events kept went to that stream (see [`MockLts::events_in`]).
    pub fn event_count_in(&self, group_id: &str, stream_id: &str) -> usize {
        self.shared
            .store()
            .events
            .iter()
            .filter(|e| e.log_group_id == group_id && e.log_stream_id == stream_id)
            .count()
    }

    /// The full URL of an endpoint of the served stream.
    pub fn url(&self, api: Api) -> String {
        let suffix = match api {
            Api::HighAccuracy => "/high-accuracy",
            Api::Standard => "",
        };
        format!(
            "{}/v2/{}/lts/groups/{}/streams/{}/tenant/contents{suffix}",
            self.endpoint(),
            self.shared.ids.project_id,
            self.shared.ids.log_group_id,
            self.shared.ids.log_stream_id
        )
    }

    /// Events accepted and kept, in the order they were recorded (the order of
    /// arrival for one client sending one request at a time); only the last
    /// [`MockBuilder::keep_last`] when that is set. Empty in counting-only mode.
    pub fn events(&self) -> Vec<ReceivedEvent> {
        self.shared.store().events.iter().cloned().collect()
    }

    /// Events evicted to keep only the last [`MockBuilder::keep_last`]; 0 when
    /// every event is kept.
    pub fn evicted_events(&self) -> u64 {
        self.shared.store().events.evicted()
    }

    /// Requests evicted to keep only the last [`MockBuilder::keep_last`]; 0
    /// when every request is kept.
    pub fn evicted_requests(&self) -> u64 {
        self.shared.store().requests.evicted()
    }

    /// The console's address (`http://IP:PORT/`) when it is served
    /// ([`MockBuilder::console`]).
    pub fn console_url(&self) -> Option<String> {
        self.shared.console.then(|| format!("{}/", self.endpoint()))
    }

    /// Number of events accepted and kept (also in counting-only mode, where it
    /// counts every entry of accepted requests).
    pub fn event_count(&self) -> usize {
        self.shared.store().stats.events
    }

    /// Every request, accepted or not, in arrival (index) order; only the last
    /// [`MockBuilder::keep_last`] when that is set. Empty in counting-only mode.
    pub fn requests(&self) -> Vec<RequestLog> {
        let mut v: Vec<RequestLog> = self.shared.store().requests.iter().cloned().collect();
        v.sort_by_key(|r| r.index);
        v
    }

    /// The requests answered with this status (0: dropped or hung), in index order.
    pub fn requests_with_status(&self, status: u16) -> Vec<RequestLog> {
        let mut v: Vec<RequestLog> = self
            .shared
            .store()
            .requests
            .iter()
            .filter(|r| r.status == status)
            .cloned()
            .collect();
        v.sort_by_key(|r| r.index);
        v
    }

    /// Number of requests received so far (also in counting-only mode).
    pub fn request_count(&self) -> usize {
        self.shared.store().stats.requests
    }

    /// Events answered 200 but deleted because their time is more than two days
    /// from now, as the real service does. Always 0 in counting-only mode.
    pub fn discarded_out_of_window(&self) -> usize {
        self.shared.store().stats.discarded_out_of_window
    }

    /// All counters.
    pub fn stats(&self) -> Stats {
        self.shared.store().stats.clone()
    }

    /// Fault injection and the accepted token.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Blocks until at least `n` events have been kept ([`event_count`](Self::event_count)),
    /// or `timeout` passes; returns whether they were. Wakes on each recorded
    /// request, never polls.
    pub fn wait_for_events(&self, n: usize, timeout: Duration) -> bool {
        self.wait_store(timeout, |s| s.events >= n)
    }

    /// Blocks until at least `n` requests have been recorded (answered, or
    /// decided to be dropped or hung), or `timeout` passes; returns whether they were.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        self.wait_store(timeout, |s| s.requests >= n)
    }

    fn wait_store(&self, timeout: Duration, done: impl Fn(&Stats) -> bool) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut st = self.shared.store();
        loop {
            if done(&st.stats) {
                return true;
            }
            let wait = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    d - now
                }
                None => Duration::from_secs(3600),
            };
            st = self
                .shared
                .store_cv
                .wait_timeout(st, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Stops the server and joins every thread it started. In order: every client
    /// connection is closed, idle or not, with no further byte (so a request still
    /// being delayed or hung gets no answer, only EOF) and new ones are refused;
    /// the listener closes; waiting requests are released and their threads end.
    /// Dropping the mock does the same.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.shared.relay.close_all();
        if let Some(accept) = self.accept.take() {
            stop_accept(&self.stopping, self.addr, accept);
        }
        {
            let mut life = self.shared.life();
            life.shutting_down = true;
            self.shared.life_cv.notify_all();
        }
        self.server.unblock();
        if let Some(d) = self.dispatch.take() {
            let _ = d.join();
        }
        let mut life = self.shared.life();
        while life.workers > 0 {
            life = self.shared.life_cv.wait(life).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for MockLts {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Checks the shape of a served stream's ids.
fn check_stream(group: &str, stream: &str) -> io::Result<()> {
    let invalid =
        |what: &str, v: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("lts-mock: invalid {what} {v:?}"));
    if !validate::is_uuid(group) {
        return Err(invalid("log group id (want a 36-character UUID)", group));
    }
    if !validate::is_uuid(stream) {
        return Err(invalid("log stream id (want a 36-character UUID)", stream));
    }
    Ok(())
}
