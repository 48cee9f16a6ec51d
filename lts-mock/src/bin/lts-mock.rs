//! `lts-mock`: run the mock LTS and watch what a program logs to it.
//!
//! ```text
//! cargo run -p lts-mock -- --port 8102 [--ui] [--ring N] [--bind 127.0.0.1] [--token T]
//!     [--iam-user USER:PASSWORD:DOMAIN] [--access-key AK:SK] [--delay-ms MS] [--rate-limit N]
//! ```

// Printing is this binary's job.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use lts_mock::{rfc3339_nanos, MockLts, RateLimit, DEFAULT_KEEP_LAST};

const USAGE: &str = "\
lts-mock: a strict local stand-in for Log Tank Service (LTS) log reporting.

Usage: lts-mock [--port PORT] [--ui] [--ring N] [--bind IP] [--token TOKEN]
                [--project-id ID] [--log-group-id ID] [--log-stream-id ID]
                [--iam-user USER:PASSWORD:DOMAIN]... [--access-key AK:SK]...
                [--delay-ms MS] [--rate-limit N]

  --port PORT         port to listen on (default 8102; 0 picks a free one)
  --ui                serve the console, a web page of the events received,
                      at http://IP:PORT/ (its address is printed on start)
  --ring N            keep the last N events and requests in memory
                      (default 10000); older ones are evicted and counted
  --bind IP           address to listen on (default 127.0.0.1)
  --token TOKEN       the X-Auth-Token to accept (default: a fixed 1,200-character token)
  --project-id ID     project id to serve (32 letters/digits)
  --log-group-id ID   log group id to serve (UUID)
  --log-stream-id ID  log stream id to serve (UUID)
  --iam-user U:P:D    register an IAM user: the same port then serves
                      POST /v3/auth/tokens?nocatalog=true (LTS_IAM_ENDPOINT);
                      the password is what lies between the first and last ':'
  --access-key AK:SK  register an access key pair for SDK-HMAC-SHA256 signing
  --delay-ms MS       answer every request MS milliseconds late, as a service
                      one round trip away would (concurrent requests wait
                      side by side)
  --rate-limit N      answer 429 to reporting requests above N in any second,
                      as a stream written too often (no Retry-After: the
                      service documents none)
  -h, --help          this text

On start it prints the endpoint and an `export ...` line to paste into the
shell of the program under test, then one line per event received:
its time (RFC 3339, UTC, nanoseconds) and the log line. Rejected requests are
reported on stderr. Stop it with Ctrl-C.";

struct Args {
    port: u16,
    ui: bool,
    ring: usize,
    bind: IpAddr,
    token: Option<String>,
    project_id: Option<String>,
    log_group_id: Option<String>,
    log_stream_id: Option<String>,
    iam_users: Vec<(String, String, String)>,
    access_keys: Vec<(String, String)>,
    delay: Duration,
    rate_limit: Option<usize>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        port: 8102,
        ui: false,
        ring: DEFAULT_KEEP_LAST,
        bind: IpAddr::from([127, 0, 0, 1]),
        token: None,
        project_id: None,
        log_group_id: None,
        log_stream_id: None,
        iam_users: Vec::new(),
        access_keys: Vec::new(),
        delay: Duration::ZERO,
        rate_limit: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--ui" if inline.is_none() => args.ui = true,
            "--ring" => {
                let v = value()?;
                args.ring = v
                    .parse()
                    .map_err(|_| format!("bad --ring {v:?} (want a whole number of events)"))?;
            }
            "--port" => {
                let v = value()?;
                args.port = v.parse().map_err(|_| format!("bad port {v:?}"))?;
            }
            "--bind" => {
                let v = value()?;
                args.bind = v.parse().map_err(|_| format!("bad IP address {v:?}"))?;
            }
            "--delay-ms" => {
                let v = value()?;
                let ms: u64 = v
                    .parse()
                    .map_err(|_| format!("bad --delay-ms {v:?} (want a whole number of milliseconds)"))?;
                args.delay = Duration::from_millis(ms);
            }
            "--rate-limit" => {
                let v = value()?;
                args.rate_limit = Some(
                    v.parse()
                        .map_err(|_| format!("bad --rate-limit {v:?} (want a whole number of requests per second)"))?,
                );
            }
            "--token" => args.token = Some(value()?),
            "--project-id" => args.project_id = Some(value()?),
            "--log-group-id" => args.log_group_id = Some(value()?),
            "--log-stream-id" => args.log_stream_id = Some(value()?),
            "--iam-user" => {
                let v = value()?;
                let user = v.split_once(':').and_then(|(user, rest)| {
                    let (password, domain) = rest.rsplit_once(':')?;
                    Some((user.to_string(), password.to_string(), domain.to_string()))
                });
                match user {
                    Some(u) if !u.0.is_empty() && !u.1.is_empty() && !u.2.is_empty() => args.iam_users.push(u),
                    _ => return Err("--iam-user needs USER:PASSWORD:DOMAIN".into()),
                }
            }
            "--access-key" => {
                let v = value()?;
                match v.split_once(':') {
                    Some((ak, sk)) if !ak.is_empty() && !sk.is_empty() => {
                        args.access_keys.push((ak.to_string(), sk.to_string()))
                    }
                    _ => return Err("--access-key needs AK:SK".into()),
                }
            }
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(Some(args))
}

/// Quotes a value for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("lts-mock: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = MockLts::builder()
        .bind(SocketAddr::new(args.bind, args.port))
        .console(args.ui)
        .keep_last(args.ring)
        .on_event(|e| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{} {}", rfc3339_nanos(e.time_ns), e.line);
            let _ = out.flush();
        })
        .on_request(|r| {
            if r.status != 200 && !(r.iam && r.status == 201) {
                eprintln!(
                    "lts-mock: request {} {} {} -> {} {} {}",
                    r.index,
                    r.method,
                    r.path,
                    r.status,
                    r.error_code.as_deref().unwrap_or("-"),
                    r.error_msg.as_deref().unwrap_or("")
                );
            }
        });
    if let Some(t) = args.token {
        builder = builder.token(t);
    }
    if let Some(v) = args.project_id {
        builder = builder.project_id(v);
    }
    if let Some(v) = args.log_group_id {
        builder = builder.log_group_id(v);
    }
    if let Some(v) = args.log_stream_id {
        builder = builder.log_stream_id(v);
    }
    let with_iam = !args.iam_users.is_empty();
    for (user, password, domain) in args.iam_users {
        builder = builder.iam_user(user, password, domain);
    }
    for (ak, sk) in args.access_keys {
        builder = builder.access_key(ak, sk);
    }
    let mock = match builder.build() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("lts-mock: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    mock.faults().delay_all(args.delay);
    mock.faults().rate_limit(args.rate_limit.map(RateLimit::per_second));
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "lts-mock listening on {}", mock.endpoint());
        if !args.delay.is_zero() {
            let _ = writeln!(out, "answering every request {} ms late", args.delay.as_millis());
        }
        if let Some(n) = args.rate_limit {
            let _ = writeln!(out, "answering 429 to reporting requests above {n} per second");
        }
        if let Some(url) = mock.console_url() {
            let _ = writeln!(out, "console: {url} (keeps the last {} events)", args.ring);
        }
        if with_iam {
            let _ = writeln!(
                out,
                "IAM users may use LTS_IAM_ENDPOINT={} (with LTS_IAM_USER, LTS_IAM_PASSWORD, LTS_IAM_DOMAIN instead of LTS_TOKEN)",
                shell_quote(&mock.iam_endpoint())
            );
        }
        let _ = writeln!(out, "Paste this into the shell that runs your program:");
        let _ = writeln!(
            out,
            "export LTS_ENDPOINT={} LTS_PROJECT_ID={} LTS_LOG_GROUP_ID={} LTS_LOG_STREAM_ID={} LTS_TOKEN={}",
            shell_quote(&mock.endpoint()),
            shell_quote(mock.project_id()),
            shell_quote(mock.log_group_id()),
            shell_quote(mock.log_stream_id()),
            shell_quote(&mock.token())
        );
        let _ = out.flush();
    }
    loop {
        std::thread::park();
    }
}
