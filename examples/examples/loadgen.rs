//! Load generator: floods the pipeline from several threads and prints one
//! line of JSON with what got through, how fast, on how many bytes, and the
//! peak memory.
//!
//! ```sh
//! cargo run --release -p examples --example loadgen -- \
//!     [--events N] [--threads T] [--rate R|0] [--via core|log|tracing] \
//!     [--receiver full|counting|env] [--service-down] [--down-mode refused|503] \
//!     [--queue-bytes B] [--block] [--block-ms MS] [--shutdown-ms MS] \
//!     [--end flush|shutdown] [--delay-ms MS] [--fail-rate P] [--rate-limit N] \
//!     [--max-in-flight N] [--check-rss]
//! ```
//!
//! Defaults: 1,000,000 events from 2 threads, unpaced, through lts-core,
//! to an embedded counting-only lts-mock, with the default configuration
//! (gzip, linger, 100 MiB queue budget, drop when full). Other `LTS_*`
//! variables (`LTS_GZIP_LEVEL`, `LTS_BATCH_MAX_EVENTS`, ...) apply; with
//! `--receiver env` the endpoint and credentials come from them too.
//!
//! `seconds` runs from the first send until the flush returned (every
//! event delivered or given up on). With `--service-down` nothing can be
//! delivered (a closed port on 127.0.0.1, or with `--down-mode 503` a mock
//! answering 503 to everything): the burst is emitted, then the pipeline
//! is shut down with a short timeout (`--shutdown-ms`, 1 s), and
//! `rss_within_budget` says whether the peak RSS stayed within the queue
//! budget plus 10 %.
//!
//! A service over a network: `--delay-ms` makes the embedded receiver
//! answer every request that late (a round trip; concurrent requests wait
//! side by side), `--fail-rate P` answers that fraction of requests with
//! 500, 503, 429 or a dropped connection (a fixed seed, so runs compare),
//! `--rate-limit N` answers 429 to requests above N in any second, and
//! `--max-in-flight N` sets `LTS_MAX_IN_FLIGHT` for the shipper. With
//! `--end shutdown` the pipeline is shut down right after the burst, as an
//! application that ends would, within the guard's deadline
//! (`LTS_SHUTDOWN_TIMEOUT_MS`, 5 s by default, or `--shutdown-ms`):
//! `delivered_share` is then what got through by that deadline, and
//! `all_delivered_seconds` is null unless everything did.
//!
//! Memory against the budget (issue 13's target): `rss_limit_bytes` is the
//! queue budget × 1.1 + 8 MiB, `rss_ratio` the peak RSS over the budget,
//! `rss_within_limit` whether the peak stayed under the limit; with
//! `--check-rss` the program exits with status 3 when it did not (after
//! printing its line). `budget_bytes_per_event` is what one queued record
//! of this run costs the budget (`Record::memory_size`, `--via core`
//! only), `budget_per_raw_byte` that over the bytes the event takes in
//! the uncompressed body (its escaped line and envelope). `queue_spills`
//! counts the records too large for a queue chunk (the one case where
//! queueing allocates).
#![allow(clippy::print_stdout)]
// The one-line JSON report has more fields than `json!` expands by default.
#![recursion_limit = "256"]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use lts_core::{Config, Level, Record, Shipper, Stats};
use lts_log::LtsLogger;
use lts_mock::{Failure, MockLts, RateLimit};
use serde_json::json;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

type BoxError = Box<dyn std::error::Error>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Core,
    Log,
    Tracing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Receiver {
    Full,
    Counting,
    Env,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DownMode {
    Refused,
    Status503,
}

/// How the run ends once every event is emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Flush, waiting up to 600 s for every event.
    Flush,
    /// Shut down within the guard's deadline.
    Shutdown,
}

/// The seed of `--fail-rate`'s failures: the same pattern on every run.
const FAIL_SEED: u64 = 11;

#[derive(Debug)]
struct Args {
    events: u64,
    threads: usize,
    rate: f64,
    via: Via,
    receiver: Receiver,
    service_down: bool,
    down_mode: DownMode,
    queue_bytes: Option<usize>,
    block_ms: Option<u64>,
    shutdown_ms: Option<u64>,
    end: End,
    delay_ms: u64,
    fail_rate: f64,
    rate_limit: Option<usize>,
    max_in_flight: Option<usize>,
    check_rss: bool,
}

fn usage() -> &'static str {
    "usage: loadgen [--events N] [--threads T] [--rate R (events/s, all threads; 0 = unpaced)] \
     [--via core|log|tracing] [--receiver full|counting|env] [--service-down] [--down-mode refused|503] \
     [--queue-bytes B] [--block] [--block-ms MS] [--shutdown-ms MS] [--end flush|shutdown] \
     [--delay-ms MS] [--fail-rate P (0..1)] [--rate-limit N (requests/s)] [--max-in-flight N] [--check-rss]"
}

impl Args {
    fn parse() -> Result<Args, BoxError> {
        let mut a = Args {
            events: 1_000_000,
            threads: 2,
            rate: 0.0,
            via: Via::Core,
            receiver: Receiver::Counting,
            service_down: false,
            down_mode: DownMode::Refused,
            queue_bytes: None,
            block_ms: None,
            shutdown_ms: None,
            end: End::Flush,
            delay_ms: 0,
            fail_rate: 0.0,
            rate_limit: None,
            max_in_flight: None,
            check_rss: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let (flag, inline) = match flag.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (flag, None),
            };
            let mut val = || {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .ok_or_else(|| format!("{flag} needs a value\n{}", usage()))
            };
            match flag.as_str() {
                "--events" => a.events = val()?.replace('_', "").parse()?,
                "--threads" => a.threads = val()?.parse()?,
                "--rate" => a.rate = val()?.trim_end_matches("/s").replace('_', "").parse()?,
                "--via" => {
                    a.via = match val()?.as_str() {
                        "core" => Via::Core,
                        "log" => Via::Log,
                        "tracing" => Via::Tracing,
                        v => return Err(format!("--via {v}: expected core, log or tracing").into()),
                    }
                }
                "--receiver" => {
                    a.receiver = match val()?.as_str() {
                        "full" => Receiver::Full,
                        "counting" => Receiver::Counting,
                        "env" => Receiver::Env,
                        v => return Err(format!("--receiver {v}: expected full, counting or env").into()),
                    }
                }
                "--service-down" => a.service_down = true,
                "--down-mode" => {
                    a.down_mode = match val()?.as_str() {
                        "refused" => DownMode::Refused,
                        "503" => DownMode::Status503,
                        v => return Err(format!("--down-mode {v}: expected refused or 503").into()),
                    }
                }
                "--queue-bytes" => a.queue_bytes = Some(val()?.replace('_', "").parse()?),
                "--block" => a.block_ms = Some(a.block_ms.unwrap_or(1000)),
                "--block-ms" => a.block_ms = Some(val()?.parse()?),
                "--shutdown-ms" => a.shutdown_ms = Some(val()?.parse()?),
                "--end" => {
                    a.end = match val()?.as_str() {
                        "flush" => End::Flush,
                        "shutdown" => End::Shutdown,
                        v => return Err(format!("--end {v}: expected flush or shutdown").into()),
                    }
                }
                "--delay-ms" => a.delay_ms = val()?.parse()?,
                "--fail-rate" => a.fail_rate = val()?.parse()?,
                "--rate-limit" => a.rate_limit = Some(val()?.replace('_', "").parse()?),
                "--max-in-flight" => a.max_in_flight = Some(val()?.parse()?),
                "--check-rss" => a.check_rss = true,
                "-h" | "--help" => {
                    println!("{}", usage());
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other}\n{}", usage()).into()),
            }
        }
        if a.threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&a.fail_rate) {
            return Err(format!("--fail-rate {}: expected a fraction from 0 to 1", a.fail_rate).into());
        }
        let shaped = a.delay_ms > 0 || a.fail_rate > 0.0 || a.rate_limit.is_some();
        if shaped && (a.service_down || a.receiver == Receiver::Env) {
            return Err("--delay-ms, --fail-rate and --rate-limit shape the embedded receiver: \
                        not with --service-down or --receiver env"
                .into());
        }
        Ok(a)
    }
}

/// A field of `/proc/self/status` in bytes (`VmHWM`, `VmRSS`), 0 if unknown.
fn proc_status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The configuration: `LTS_*` variables, with the receiver's endpoint and
/// credentials and the command line's options on top.
fn config(args: &Args, mock: Option<&MockLts>) -> Result<(Config, usize, String), BoxError> {
    let mut vars: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("LTS_")).collect();
    let target = if args.service_down && args.down_mode == DownMode::Refused {
        // A port nothing listens on: bind one, then let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        Some((format!("http://127.0.0.1:{port}"), lts_mock::default_token()))
    } else {
        mock.map(|m| (m.endpoint(), m.token()))
    };
    if let Some((endpoint, token)) = target {
        for k in [
            "LTS_REGION",
            "LTS_IAM_USER",
            "LTS_IAM_PASSWORD",
            "LTS_IAM_DOMAIN",
            "LTS_IAM_ENDPOINT",
            "LTS_ACCESS_KEY",
            "LTS_SECRET_KEY",
            "LTS_CA_FILE",
            "LTS_SPOOL_DIR",
        ] {
            vars.remove(k);
        }
        vars.insert("LTS_ENDPOINT".into(), endpoint);
        vars.insert("LTS_TOKEN".into(), token);
        vars.insert("LTS_PROJECT_ID".into(), lts_mock::PROJECT_ID.into());
        vars.insert("LTS_LOG_GROUP_ID".into(), lts_mock::LOG_GROUP_ID.into());
        vars.insert("LTS_LOG_STREAM_ID".into(), lts_mock::LOG_STREAM_ID.into());
    }
    if let Some(b) = args.queue_bytes {
        vars.insert("LTS_QUEUE_BYTES".into(), b.to_string());
    }
    if let Some(ms) = args.block_ms {
        vars.insert("LTS_OVERFLOW".into(), format!("block:{ms}"));
    }
    if let Some(n) = args.max_in_flight {
        vars.insert("LTS_MAX_IN_FLIGHT".into(), n.to_string());
    }
    let shutdown_ms = match (args.shutdown_ms, args.service_down) {
        (Some(ms), _) => Some(ms),
        (None, true) => Some(1000),
        (None, false) => None,
    };
    if let Some(ms) = shutdown_ms {
        vars.insert("LTS_SHUTDOWN_TIMEOUT_MS".into(), ms.to_string());
    }
    let overflow = vars.get("LTS_OVERFLOW").cloned().unwrap_or_else(|| "drop".into());
    let config = Config::from_lookup(|name| vars.get(name).cloned())?;
    // The budget the pipeline runs with (its default when none is given).
    let queue_bytes = config.queue_bytes();
    Ok((config, queue_bytes, overflow))
}

/// Emits `n` events on this thread through `emit`, at `rate` events/s
/// (0: as fast as it can).
fn emit_paced(n: u64, rate: f64, emit: &(dyn Fn(u64) + Sync)) {
    let start = Instant::now();
    for i in 0..n {
        if rate > 0.0 && i % 64 == 0 {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        emit(i);
    }
}

/// What running the flood produced.
struct Run {
    emit: Duration,
    total: Duration,
    outcome: String,
    stats: Stats,
}

/// Emits from `threads` threads (each holding `per_thread()` while it
/// emits), then flushes (or, with the service down, shuts down).
fn flood<G>(
    args: &Args,
    shipper: &Shipper,
    guard: lts_core::Guard,
    per_thread: &(dyn Fn() -> G + Sync),
    emit: &(dyn Fn(u64) + Sync),
) -> Run {
    let threads = args.threads;
    let barrier = Barrier::new(threads + 1);
    let per = args.events / threads as u64;
    let extra = args.events % threads as u64;
    let rate = args.rate / threads as f64;
    let (t0, emit_done) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let n = per + u64::from((t as u64) < extra);
                let barrier = &barrier;
                std::thread::Builder::new()
                    .name(format!("loadgen-{t}"))
                    .spawn_scoped(s, move || {
                        let _g = per_thread();
                        barrier.wait();
                        emit_paced(n, rate, emit);
                    })
                    .expect("spawn an emitting thread")
            })
            .collect();
        barrier.wait();
        let t0 = Instant::now();
        for h in handles {
            h.join().expect("emitting thread");
        }
        (t0, Instant::now())
    });
    let outcome = if args.service_down || args.end == End::Shutdown {
        match guard.shutdown() {
            Ok(()) => "shutdown ok".to_string(),
            Err(e) => format!("shutdown: {e}"),
        }
    } else {
        let r = shipper.flush(Duration::from_secs(600));
        drop(guard);
        match r {
            Ok(()) => "flush ok".to_string(),
            Err(e) => format!("flush: {e}"),
        }
    };
    let total = t0.elapsed();
    Run {
        emit: emit_done - t0,
        total,
        outcome,
        stats: shipper.stats(),
    }
}

/// What the embedded receiver answered, by kind.
#[derive(Default)]
struct Answers {
    status_429: AtomicU64,
    status_5xx: AtomicU64,
    no_answer: AtomicU64,
}

impl Answers {
    fn count(&self, status: u16) {
        let counter = match status {
            429 => &self.status_429,
            500..=599 => &self.status_5xx,
            0 => &self.no_answer,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The embedded receiver, shaped by the command line.
fn receiver(args: &Args, answers: &Arc<Answers>) -> Result<Option<MockLts>, BoxError> {
    let counted = Arc::clone(answers);
    let builder = MockLts::builder().on_request(move |r| counted.count(r.status));
    let mock = match (args.service_down, args.down_mode, args.receiver) {
        (true, DownMode::Refused, _) | (false, _, Receiver::Env) => return Ok(None),
        (true, DownMode::Status503, _) => {
            let m = builder.counting_only(true).build()?;
            m.faults().fail_fraction(1.0, 503, 1);
            return Ok(Some(m));
        }
        (false, _, Receiver::Counting) => builder.counting_only(true).build()?,
        (false, _, Receiver::Full) => builder.build()?,
    };
    let faults = mock.faults();
    faults.delay_all(Duration::from_millis(args.delay_ms));
    faults.fail_fraction_mix(
        args.fail_rate,
        &[
            Failure::Status(500),
            Failure::Status(503),
            Failure::Status(429),
            Failure::Drop,
        ],
        FAIL_SEED,
    );
    faults.rate_limit(args.rate_limit.map(RateLimit::per_second));
    Ok(Some(mock))
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse()?;
    let answers = Arc::new(Answers::default());
    let mock = receiver(&args, &answers)?;
    let (config, queue_bytes, overflow) = config(&args, mock.as_ref())?;
    let endpoint = config.endpoint().to_string();
    let shutdown_timeout = config.shutdown_timeout();
    let rss_baseline = proc_status_bytes("VmRSS");

    let mut budget_per_event = None;
    let run = match args.via {
        Via::Core => {
            let (shipper, guard) = Shipper::start(config)?;
            let record = |i: u64| {
                Record::new(
                    shipper.now_ns(),
                    Level::Info,
                    "loadgen",
                    format!("request handled in {} ms", i % 1000),
                )
                .with_field("user_id", 42u64)
                .with_field("path", "/api/v1/items")
            };
            budget_per_event = Some(record(500).memory_size());
            let emit = |i: u64| {
                let _ = shipper.send(record(i));
            };
            flood(&args, &shipper.clone(), guard, &|| (), &emit)
        }
        Via::Log => {
            let (logger, guard) = LtsLogger::builder(config).filter("info").build()?;
            log::set_max_level(logger.max_level());
            let emit = |i: u64| {
                log::info!(logger: &logger, user_id = 42u64, path = "/api/v1/items"; "request handled in {} ms", i % 1000);
            };
            flood(&args, &logger.shipper().clone(), guard, &|| (), &emit)
        }
        Via::Tracing => {
            let (layer, guard) = lts_tracing::layer(config)?;
            let shipper = layer.shipper().clone();
            let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
            let emit = |i: u64| {
                tracing::info!(
                    user_id = 42u64,
                    path = "/api/v1/items",
                    "request handled in {} ms",
                    i % 1000
                );
            };
            flood(
                &args,
                &shipper,
                guard,
                &|| tracing::dispatcher::set_default(&dispatch),
                &emit,
            )
        }
    };

    let st = run.stats;
    let peak_rss = proc_status_bytes("VmHWM");
    let dropped = st.dropped_queue_full + st.dropped_rejected + st.dropped_retries_exhausted + st.dropped_shutdown;
    let secs = run.total.as_secs_f64();
    let per_event = |bytes: u64| {
        if st.requests > 0 && st.enqueued > 0 {
            // Bytes sent per event sent (requests include retries, so with
            // the service down this is per attempt).
            json!((bytes as f64 / (st.delivered.max(1)) as f64 * 100.0).round() / 100.0)
        } else {
            json!(null)
        }
    };
    let limit = queue_bytes as f64 * 1.1;
    let rss_limit = queue_bytes as u64 * 11 / 10 + (8 << 20);
    let rss_within_limit = peak_rss <= rss_limit;
    let raw_per_event = (st.delivered > 0).then(|| st.bytes_raw as f64 / st.delivered as f64);
    let all_delivered = st.delivered == args.events;
    let delivered_share = st.delivered as f64 / args.events.max(1) as f64;
    let deadline_ms = (args.service_down || args.end == End::Shutdown).then_some(shutdown_timeout.as_millis() as u64);
    let out = json!({
        "in_flight_max": st.in_flight_max,
        "concurrency_limit": st.concurrency_limit,
        "pace_per_second": st.pace_per_second,
        "rtt_median_ms": st.rtt_median_us as f64 / 1000.0,
        "rtt_max_ms": st.rtt_max_us as f64 / 1000.0,
        "events": args.events,
        "threads": args.threads,
        "via": format!("{:?}", args.via).to_lowercase(),
        "receiver": if args.service_down {
            match args.down_mode {
                DownMode::Refused => "down:refused".to_string(),
                DownMode::Status503 => "down:503".to_string(),
            }
        } else {
            format!("{:?}", args.receiver).to_lowercase()
        },
        "endpoint": endpoint,
        "rate": args.rate,
        "overflow": overflow,
        "seconds": (secs * 1e4).round() / 1e4,
        "emit_seconds": (run.emit.as_secs_f64() * 1e4).round() / 1e4,
        "caller_ns_per_event": (run.emit.as_nanos() as f64 * args.threads as f64 / args.events.max(1) as f64 * 10.0).round() / 10.0,
        "delivered_per_s": (st.delivered as f64 / secs).round(),
        "delivered": st.delivered,
        "dropped": dropped,
        "dropped_queue_full": st.dropped_queue_full,
        "queue_spills": st.queue_spills,
        "dropped_rejected": st.dropped_rejected,
        "dropped_retries_exhausted": st.dropped_retries_exhausted,
        "dropped_shutdown": st.dropped_shutdown,
        "enqueued": st.enqueued,
        "outcome": run.outcome,
        "requests": st.requests,
        "retries": st.retries,
        "bytes_raw": st.bytes_raw,
        "bytes_sent": st.bytes_sent,
        "bytes_per_event_wire": if args.service_down { json!(null) } else { per_event(st.bytes_sent) },
        "bytes_per_event_raw": if args.service_down { json!(null) } else { per_event(st.bytes_raw) },
        "mock_events": mock.as_ref().map(|m| m.event_count()),
        "peak_rss_bytes": peak_rss,
        "rss_before_start_bytes": rss_baseline,
        "queue_bytes": queue_bytes,
        "rss_within_budget": (peak_rss as f64) <= limit,
        "rss_limit_bytes": rss_limit,
        "rss_ratio": (peak_rss as f64 / queue_bytes.max(1) as f64 * 1000.0).round() / 1000.0,
        "rss_within_limit": rss_within_limit,
        "budget_bytes_per_event": budget_per_event,
        "budget_per_raw_byte": match (budget_per_event, raw_per_event) {
            (Some(b), Some(r)) if !args.service_down => json!((b as f64 / r * 100.0).round() / 100.0),
            _ => json!(null),
        },
        "rss_growth_within_budget": (peak_rss.saturating_sub(rss_baseline) as f64) <= limit,
        "end": format!("{:?}", args.end).to_lowercase(),
        "deadline_ms": deadline_ms,
        "all_delivered_seconds": if all_delivered { json!((secs * 1e4).round() / 1e4) } else { json!(null) },
        "delivered_share": (delivered_share * 1e4).round() / 1e4,
        "delay_ms": args.delay_ms,
        "fail_rate": args.fail_rate,
        "rate_limit": args.rate_limit,
        "max_in_flight": args.max_in_flight,
        "mock_requests": mock.as_ref().map(|m| m.request_count()),
        "answered_429": mock.as_ref().map(|_| answers.status_429.load(Ordering::Relaxed)),
        "answered_5xx": mock.as_ref().map(|_| answers.status_5xx.load(Ordering::Relaxed)),
        "answered_none": mock.as_ref().map(|_| answers.no_answer.load(Ordering::Relaxed)),
    });
    println!("{out}");
    if let Some(m) = mock {
        m.shutdown();
    }
    if args.check_rss && !rss_within_limit {
        eprintln!(
            "loadgen: peak RSS {peak_rss} bytes is over the limit {rss_limit} (queue budget {queue_bytes} × 1.1 + 8 MiB)"
        );
        std::process::exit(3);
    }
    Ok(())
}
