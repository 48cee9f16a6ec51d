//! Caller-side cost per event, side by side: a floor built here (clock +
//! `format!` + channel `try_send`), lts-core directly, lts-log, lts-tracing,
//! and the peer (tracing-subscriber's JSON `fmt` layer writing through
//! tracing-appender's `non_blocking`), for 1 and 2 emitting threads.
//!
//! Also: lts-log and lts-tracing with a per-call-site rate limit on (high
//! enough to admit every event, so the row is the check's cost on top of
//! the plain row, which has it off), and the live filters' check before
//! and after a reload (lts-log: a `debug!` the filter refuses, so the row
//! is the macro plus the filter check; lts-tracing: the plain row's event
//! through a `LiveFilter`).
//!
//! ```sh
//! cargo bench -p examples --bench caller
//! cargo bench -p examples --bench caller -- --only lts-log --threads 1 --samples 5000   # e.g. under perf
//! ```
//!
//! Method: per configuration a fresh pipeline (and a fresh counting-only
//! lts-mock for the lts-* rows); each emitting thread warms up, then takes
//! `--samples` samples of `--k` events, each timed with `Instant`, and the
//! figure is the median ns/event over all samples of all threads. Before
//! each sample a thread waits until the pipeline's backlog (emitted but not
//! yet consumed; for lts-*: accepted but not yet delivered) is at most
//! `--gate` events, so every row is measured at a load its consumer
//! sustains rather than while a queue overflows. After the samples the
//! pipeline is flushed and the share of events delivered is printed next to
//! each figure: a figure bought with drops does not count.
//!
//! The message argument is a runtime value (`black_box(17)`): with the
//! literal `17` rustc folds it into the format string, `Arguments::as_str()`
//! returns the whole message and nothing is formatted at all.
#![allow(clippy::print_stdout)]

use std::borrow::Cow;
use std::hint::black_box;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use lts_core::clock::{self, ClockMode};
use lts_core::{Config, Field, Level, RateLimit, Record, Shipper, Stats};
use lts_log::LtsLogger;
use lts_mock::MockLts;
use tracing::Dispatch;
use tracing_appender::non_blocking::NonBlockingBuilder;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer as _;

type BoxError = Box<dyn std::error::Error>;

const FLOOR: &str = "floor (clock+format!+try_send)";
const PEER_LOSSY: &str = "peer fmt().json() non_blocking lossy";
const PEER_LOSSLESS: &str = "peer fmt().json() non_blocking lossless";

#[derive(Debug, Clone)]
struct Opts {
    samples: usize,
    k: usize,
    warmup_samples: usize,
    gate: u64,
    only: Option<Vec<String>>,
    threads: Vec<usize>,
    burst: bool,
    burst_events: u64,
    rounds: usize,
}

impl Opts {
    fn parse() -> Result<Opts, BoxError> {
        let mut o = Opts {
            samples: 300,
            k: 1000,
            warmup_samples: 20,
            gate: 20_000,
            only: None,
            threads: vec![1, 2],
            burst: true,
            burst_events: 200_000,
            rounds: 3,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
            match a.as_str() {
                "--samples" => o.samples = val()?.parse()?,
                "--k" => o.k = val()?.parse()?,
                "--warmup" => o.warmup_samples = val()?.parse()?,
                "--gate" => o.gate = val()?.parse()?,
                "--only" => o.only = Some(val()?.split(',').map(str::to_owned).collect()),
                "--threads" => o.threads = val()?.split(',').map(str::parse).collect::<Result<_, _>>()?,
                "--no-burst" => o.burst = false,
                "--burst-events" => o.burst_events = val()?.parse()?,
                "--rounds" => o.rounds = val()?.parse()?,
                // What cargo bench passes to every bench target, and filters.
                "--bench" | "--nocapture" => {}
                other if other.starts_with("--") => return Err(format!("unknown option {other}").into()),
                _ => {}
            }
        }
        Ok(o)
    }

    fn wants(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.iter().any(|x| x == name))
    }
}

/// One measured configuration.
struct Row {
    name: &'static str,
    threads: usize,
    /// ns/event of every sample of every thread.
    samples: Vec<f64>,
    emitted: u64,
    delivered: u64,
    dropped: u64,
    note: String,
    gate_wait: Duration,
    /// The median of each round, in the order run.
    round_medians: Vec<f64>,
}

impl Row {
    fn merge(&mut self, other: Row) {
        self.round_medians.push(median(&other.samples));
        self.samples.extend(other.samples);
        self.emitted += other.emitted;
        self.delivered += other.delivered;
        self.dropped += other.dropped;
        self.gate_wait += other.gate_wait;
        if !self.note.split(" | ").any(|n| n == other.note) {
            self.note = format!("{} | {}", self.note, other.note);
        }
    }
}

/// What the emitting threads produce.
struct Measured {
    samples: Vec<f64>,
    emitted: u64,
    gate_wait: Duration,
}

/// Runs `threads` emitting threads. Each calls `per_thread` (a guard held
/// while it emits), waits at the barrier, then emits warm-up and timed
/// samples; before each sample it waits until `backlog(emitted so far)` is
/// at most `opts.gate` (2 s at most).
fn measure<G, S, E, B>(opts: &Opts, threads: usize, per_thread: S, emit: E, backlog: B) -> Measured
where
    S: Fn() -> G + Sync,
    E: Fn(u64) + Sync,
    B: Fn(u64) -> u64 + Sync,
{
    let barrier = Barrier::new(threads);
    let emitted = AtomicU64::new(0);
    let results: Vec<(Vec<f64>, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, emitted, per_thread, emit, backlog) = (&barrier, &emitted, &per_thread, &emit, &backlog);
                std::thread::Builder::new()
                    .name(format!("emitter-{t}"))
                    .spawn_scoped(s, move || {
                        let _guard = per_thread();
                        let ms = black_box(17u64);
                        let k = opts.k;
                        let mut waited = Duration::ZERO;
                        let mut gate = || {
                            let start = Instant::now();
                            let deadline = start + Duration::from_secs(2);
                            while backlog(emitted.load(Ordering::Relaxed)) > opts.gate && Instant::now() < deadline {
                                std::thread::sleep(Duration::from_micros(200));
                            }
                            waited += start.elapsed();
                        };
                        barrier.wait();
                        for _ in 0..opts.warmup_samples {
                            gate();
                            for _ in 0..k {
                                emit(ms);
                            }
                            emitted.fetch_add(k as u64, Ordering::Relaxed);
                        }
                        let mut out = Vec::with_capacity(opts.samples);
                        for _ in 0..opts.samples {
                            gate();
                            let t0 = Instant::now();
                            for _ in 0..k {
                                emit(ms);
                            }
                            let dt = t0.elapsed();
                            emitted.fetch_add(k as u64, Ordering::Relaxed);
                            out.push(dt.as_nanos() as f64 / k as f64);
                        }
                        (out, waited)
                    })
                    .expect("spawn an emitting thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("emitting thread"))
            .collect()
    });
    let gate_wait = results.iter().map(|r| r.1).max().unwrap_or_default();
    Measured {
        samples: results.into_iter().flat_map(|r| r.0).collect(),
        emitted: emitted.load(Ordering::Relaxed),
        gate_wait,
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The arithmetic mean (0 for no samples).
fn mean(samples: &[f64]) -> f64 {
    samples.iter().sum::<f64>() / samples.len().max(1) as f64
}

fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    quantile(&s, 0.5)
}

// ---------------------------------------------------------------- receivers

fn counting_mock() -> Result<MockLts, BoxError> {
    Ok(MockLts::builder().counting_only(true).build()?)
}

/// The default configuration (gzip, linger, 100 MiB queue budget, strict
/// clock), pointed at the mock.
fn mock_config(mock: &MockLts) -> Result<Config, BoxError> {
    Ok(examples::mock_config(mock).build()?)
}

/// Flushes an lts pipeline and turns its counters into a row.
fn lts_row(name: &'static str, threads: usize, m: Measured, shipper: &Shipper, mock: &MockLts) -> Row {
    let flush = shipper.flush(Duration::from_secs(60));
    let st: Stats = shipper.stats();
    let dropped = st.dropped_queue_full + st.dropped_rejected + st.dropped_retries_exhausted + st.dropped_shutdown;
    let flush = match flush {
        Ok(()) => "flush ok".to_string(),
        Err(e) => format!("flush: {e}"),
    };
    Row {
        name,
        threads,
        samples: m.samples,
        emitted: m.emitted,
        delivered: st.delivered,
        dropped,
        note: format!(
            "{flush}; enqueued {}, queue_full {}, queue spills {}, mock got {}, {} requests",
            st.enqueued,
            st.dropped_queue_full,
            st.queue_spills,
            mock.event_count(),
            st.requests
        ),
        gate_wait: m.gate_wait,
        round_medians: Vec::new(),
    }
}

// ---------------------------------------------------------------- the rows

fn floor(opts: &Opts, threads: usize) -> Row {
    let (tx, rx) = crossbeam_channel::bounded::<(u64, String)>(128_000);
    let drained = Arc::new(AtomicU64::new(0));
    let drainer = {
        let drained = drained.clone();
        // Polls like the lts worker does (it never blocks in `recv`), so a
        // send never pays for waking it: the floor is the caller's own work.
        std::thread::spawn(move || loop {
            let mut n = 0;
            loop {
                match rx.try_recv() {
                    Ok(m) => {
                        black_box(&m);
                        n += 1;
                    }
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => {
                        drained.fetch_add(n, Ordering::Relaxed);
                        return;
                    }
                }
            }
            drained.fetch_add(n, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(1));
        })
    };
    let full = AtomicU64::new(0);
    let m = measure(
        opts,
        threads,
        || (),
        |ms| {
            let t = clock::now_ns(ClockMode::Wall);
            let msg = format!("request handled in {} ms", ms);
            if tx.try_send((t, msg)).is_err() {
                full.fetch_add(1, Ordering::Relaxed);
            }
        },
        |_| tx.len() as u64,
    );
    drop(tx);
    drainer.join().expect("drainer");
    let dropped = full.load(Ordering::Relaxed);
    Row {
        name: FLOOR,
        threads,
        samples: m.samples,
        emitted: m.emitted,
        delivered: drained.load(Ordering::Relaxed),
        dropped,
        note: "crossbeam bounded(128k), drained by a thread polling every 1 ms; wall clock".into(),
        gate_wait: m.gate_wait,
        round_medians: Vec::new(),
    }
}

/// The record lts-log and lts-tracing build for the event, built by hand.
#[inline(always)]
fn core_record(time_ns: u64, ms: u64) -> Record {
    let mut r = Record::new(
        time_ns,
        Level::Info,
        module_path!(),
        format!("request handled in {} ms", ms),
    );
    r.module_path = Some(Cow::Borrowed(module_path!()));
    r.file = Some(Cow::Borrowed(file!()));
    r.line = Some(line!());
    r.thread = lts_core::current_thread_name();
    r.fields.push(Field::new("user_id", 42u64));
    r.fields.push(Field::new("path", "/api/v1/items"));
    r
}

fn lts_core_direct(opts: &Opts, threads: usize) -> Result<Row, BoxError> {
    let mock = counting_mock()?;
    let (shipper, guard) = Shipper::start(mock_config(&mock)?)?;
    let m = measure(
        opts,
        threads,
        || (),
        |ms| {
            let _ = shipper.send(core_record(shipper.now_ns(), ms));
        },
        |_| shipper.stats().pending(),
    );
    let row = lts_row("lts-core (Record + send)", threads, m, &shipper, &mock);
    drop(guard);
    mock.shutdown();
    Ok(row)
}

fn lts_log(opts: &Opts, threads: usize) -> Result<Row, BoxError> {
    lts_log_with(opts, threads, "lts-log", None)
}

fn lts_log_rate_limited(opts: &Opts, threads: usize) -> Result<Row, BoxError> {
    lts_log_with(opts, threads, "lts-log +rate_limit (admits all)", Some(admit_all()))
}

/// The default configuration pointed at `mock`, with `rate_limit` if any.
fn config_with(mock: &MockLts, rate_limit: Option<RateLimit>) -> Result<Config, BoxError> {
    let mut builder = examples::mock_config(mock);
    if let Some(limit) = rate_limit {
        builder = builder.rate_limit(limit);
    }
    Ok(builder.build()?)
}

fn lts_log_with(
    opts: &Opts,
    threads: usize,
    name: &'static str,
    rate_limit: Option<RateLimit>,
) -> Result<Row, BoxError> {
    let mock = counting_mock()?;
    let (logger, guard) = LtsLogger::builder(config_with(&mock, rate_limit)?)
        .filter("info")
        .build()?;
    log::set_max_level(logger.max_level());
    let m = measure(
        opts,
        threads,
        || (),
        |ms| log::info!(logger: &logger, user_id = 42u64, path = "/api/v1/items"; "request handled in {} ms", ms),
        |_| logger.shipper().stats().pending(),
    );
    let row = lts_row(name, threads, m, logger.shipper(), &mock);
    drop(guard);
    mock.shutdown();
    Ok(row)
}

#[inline(always)]
fn tracing_event(ms: u64) {
    tracing::info!(user_id = 42u64, path = "/api/v1/items", "request handled in {} ms", ms);
}

fn lts_tracing(opts: &Opts, threads: usize) -> Result<Row, BoxError> {
    lts_tracing_with(opts, threads, "lts-tracing", None)
}

fn lts_tracing_rate_limited(opts: &Opts, threads: usize) -> Result<Row, BoxError> {
    lts_tracing_with(opts, threads, "lts-tracing +rate_limit (admits all)", Some(admit_all()))
}

fn lts_tracing_with(
    opts: &Opts,
    threads: usize,
    name: &'static str,
    rate_limit: Option<RateLimit>,
) -> Result<Row, BoxError> {
    let mock = counting_mock()?;
    let (layer, guard) = lts_tracing::layer(config_with(&mock, rate_limit)?)?;
    let shipper = layer.shipper().clone();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let m = measure(
        opts,
        threads,
        || tracing::dispatcher::set_default(&dispatch),
        tracing_event,
        |_| shipper.stats().pending(),
    );
    let row = lts_row(name, threads, m, &shipper, &mock);
    drop(dispatch);
    drop(guard);
    mock.shutdown();
    Ok(row)
}

/// `io::sink()` that counts the lines written through it.
struct CountingSink(Arc<AtomicU64>);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.iter().filter(|&&b| b == b'\n').count() as u64;
        self.0.fetch_add(n, Ordering::Relaxed);
        io::sink().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn peer(opts: &Opts, threads: usize, lossy: bool) -> Row {
    let lines = Arc::new(AtomicU64::new(0));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(lossy)
        .finish(CountingSink(lines.clone()));
    let errors = writer.error_counter();
    let dispatch =
        Dispatch::new(tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().json().with_writer(writer)));
    let m = measure(
        opts,
        threads,
        || tracing::dispatcher::set_default(&dispatch),
        tracing_event,
        |emitted| emitted.saturating_sub(lines.load(Ordering::Relaxed) + errors.dropped_lines() as u64),
    );
    drop(dispatch);
    drop(guard); // the worker writes what is queued, then stops
    let dropped = errors.dropped_lines() as u64;
    Row {
        name: if lossy { PEER_LOSSY } else { PEER_LOSSLESS },
        threads,
        samples: m.samples,
        emitted: m.emitted,
        delivered: lines.load(Ordering::Relaxed),
        dropped,
        note: format!("dropped_lines {dropped}; buffered_lines_limit 128000"),
        gate_wait: m.gate_wait,
        round_medians: Vec::new(),
    }
}

/// A rate limit that admits every event of the bench (4.29 G/s per call
/// site): the row pays the check, never a refusal.
fn admit_all() -> RateLimit {
    RateLimit::new(u32::MAX, Duration::from_secs(1)).expect("a valid rate")
}

/// A `debug!` that lts-log's filter (`info`) refuses, with `log`'s own
/// maximum level open: the macro and the filter check, nothing shipped.
/// `reload` changes the directives (to the same ones) before measuring,
/// so every thread reads them through a refreshed cache.
fn lts_log_filter(opts: &Opts, threads: usize, reload: bool) -> Result<Row, BoxError> {
    let mock = counting_mock()?;
    let (logger, guard) = LtsLogger::builder(mock_config(&mock)?).filter("info").build()?;
    log::set_max_level(log::LevelFilter::Trace);
    if reload {
        logger.filter_handle().set("debug")?;
        logger.filter_handle().set("info")?;
    }
    let m = measure(
        opts,
        threads,
        || (),
        |ms| log::debug!(logger: &logger, user_id = 42u64, path = "/api/v1/items"; "request handled in {} ms", ms),
        |_| 0,
    );
    let name = if reload {
        "lts-log filter refuses debug, reloaded"
    } else {
        "lts-log filter refuses debug"
    };
    let row = lts_row(name, threads, m, logger.shipper(), &mock);
    drop(guard);
    mock.shutdown();
    Ok(row)
}

/// The plain lts-tracing row's event through a `LiveFilter` (`info`);
/// `reload` changes its directives (to the same ones) before measuring.
fn lts_tracing_live_filter(opts: &Opts, threads: usize, reload: bool) -> Result<Row, BoxError> {
    let mock = counting_mock()?;
    let (layer, guard) = lts_tracing::layer(mock_config(&mock)?)?;
    let shipper = layer.shipper().clone();
    let (filter, handle) = lts_tracing::LiveFilter::new("info")?;
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer.with_filter(filter)));
    if reload {
        tracing::dispatcher::with_default(&dispatch, || -> Result<(), BoxError> {
            handle.set("debug")?;
            handle.set("info")?;
            Ok(())
        })?;
    }
    let m = measure(
        opts,
        threads,
        || tracing::dispatcher::set_default(&dispatch),
        tracing_event,
        |_| shipper.stats().pending(),
    );
    let name = if reload {
        "lts-tracing +LiveFilter, reloaded"
    } else {
        "lts-tracing +LiveFilter"
    };
    let row = lts_row(name, threads, m, &shipper, &mock);
    drop(dispatch);
    drop(guard);
    mock.shutdown();
    Ok(row)
}

// ---------------------------------------------------------------- burst

/// Emits `n` events from one thread as fast as it can (no gate), then
/// flushes: the default queue budget must take a burst without dropping.
fn burst(name: &str, n: u64) -> Result<String, BoxError> {
    let mock = counting_mock()?;
    let config = mock_config(&mock)?;
    let run = |shipper: &Shipper,
               emit: &(dyn Fn(u64) + Sync),
               per_thread: &(dyn Fn() -> Option<tracing::dispatcher::DefaultGuard> + Sync)| {
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("burst".into())
                .spawn_scoped(s, || {
                    let _g = per_thread();
                    let ms = black_box(17u64);
                    let mut peak = 0usize;
                    let t0 = Instant::now();
                    for i in 0..n {
                        emit(ms);
                        if i % 1024 == 0 {
                            peak = peak.max(shipper.queued_bytes());
                        }
                    }
                    (t0.elapsed(), peak)
                })
                .expect("spawn")
                .join()
                .expect("burst thread")
        })
    };
    let report = |shipper: &Shipper, (took, peak): (Duration, usize)| {
        let flush = shipper.flush(Duration::from_secs(60));
        let st = shipper.stats();
        let ok = st.dropped_queue_full == 0 && st.delivered == n && flush.is_ok();
        format!(
            "{name:<12} {n} events in {:>7.1} ms ({:>6.1} ns/event, {:.2} M/s offered), peak queued {:>5.1} MiB of 100 MiB, dropped_queue_full {}, delivered {} of {n}, mock got {}: {}",
            took.as_secs_f64() * 1e3,
            took.as_nanos() as f64 / n as f64,
            n as f64 / took.as_secs_f64() / 1e6,
            peak as f64 / (1 << 20) as f64,
            st.dropped_queue_full,
            st.delivered,
            mock.event_count(),
            if ok { "PASS (zero drops)" } else { "FAIL" }
        )
    };
    let line = match name {
        "lts-log" => {
            let (logger, guard) = LtsLogger::builder(config).filter("info").build()?;
            log::set_max_level(logger.max_level());
            let r = run(
                logger.shipper(),
                &|ms| log::info!(logger: &logger, user_id = 42u64, path = "/api/v1/items"; "request handled in {} ms", ms),
                &|| None,
            );
            let line = report(logger.shipper(), r);
            drop(guard);
            line
        }
        _ => {
            let (layer, guard) = lts_tracing::layer(config)?;
            let shipper = layer.shipper().clone();
            let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
            let r = run(&shipper, &tracing_event, &|| {
                Some(tracing::dispatcher::set_default(&dispatch))
            });
            let line = report(&shipper, r);
            drop(dispatch);
            drop(guard);
            line
        }
    };
    mock.shutdown();
    Ok(line)
}

// ---------------------------------------------------------------- machine

/// Core-to-core round trip (ns): two threads bouncing one cache line. On a
/// VM this moves with where the host puts the vCPUs, and everything that
/// crosses threads (channel sends, frees on another thread) moves with it.
fn core_to_core_round_trip_ns() -> f64 {
    let flag = AtomicU64::new(0);
    let n = 200_000u64;
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..n {
                while flag.load(Ordering::Acquire) != 2 * i + 1 {
                    std::hint::spin_loop();
                }
                flag.store(2 * i + 2, Ordering::Release);
            }
        });
        let t0 = Instant::now();
        for i in 0..n {
            flag.store(2 * i + 1, Ordering::Release);
            while flag.load(Ordering::Acquire) != 2 * i + 2 {
                std::hint::spin_loop();
            }
        }
        t0.elapsed().as_nanos() as f64 / n as f64
    })
}

// ---------------------------------------------------------------- main

fn main() -> Result<(), BoxError> {
    let opts = Opts::parse()?;
    let started = Instant::now();
    eprintln!(
        "caller bench: {} round(s) of {} samples x {} events per thread (+{} warm-up samples), gate {} events, threads {:?}",
        opts.rounds, opts.samples, opts.k, opts.warmup_samples, opts.gate, opts.threads
    );
    type Runner = fn(&Opts, usize) -> Result<Row, BoxError>;
    let runners: [(&str, Runner); 12] = [
        ("floor", |o, t| Ok(floor(o, t))),
        ("lts-core", lts_core_direct),
        ("lts-log", lts_log),
        ("lts-tracing", lts_tracing),
        ("lts-log-rl", lts_log_rate_limited),
        ("lts-tracing-rl", lts_tracing_rate_limited),
        ("log-filter", |o, t| lts_log_filter(o, t, false)),
        ("log-filter-reloaded", |o, t| lts_log_filter(o, t, true)),
        ("tracing-live", |o, t| lts_tracing_live_filter(o, t, false)),
        ("tracing-live-reloaded", |o, t| lts_tracing_live_filter(o, t, true)),
        ("peer-lossy", |o, t| Ok(peer(o, t, true))),
        ("peer", |o, t| Ok(peer(o, t, false))),
    ];
    let rtt_before = core_to_core_round_trip_ns();
    let mut rows: Vec<Row> = Vec::new();
    for round in 0..opts.rounds {
        for &threads in &opts.threads {
            for (key, run) in runners {
                if !opts.wants(key) {
                    continue;
                }
                let t0 = Instant::now();
                let mut row = run(&opts, threads)?;
                eprintln!(
                    "  round {round}: {:<40} {} thr: median {:>7.1} ns ({:.1} s, gate waits {:.2} s)",
                    row.name,
                    threads,
                    median(&row.samples),
                    t0.elapsed().as_secs_f64(),
                    row.gate_wait.as_secs_f64()
                );
                match rows.iter_mut().find(|r| r.name == row.name && r.threads == threads) {
                    Some(r) => r.merge(row),
                    None => {
                        row.round_medians.push(median(&row.samples));
                        rows.push(row);
                    }
                }
            }
        }
    }

    let rtt_after = core_to_core_round_trip_ns();
    println!();
    println!(
        "machine: {} CPUs; core-to-core round trip {rtt_before:.0} ns before, {rtt_after:.0} ns after the rows",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "caller-side cost per event (ns): median over all samples ({} rounds x {} samples x {} events, per thread), p10 / p90 alongside",
        opts.rounds, opts.samples, opts.k
    );
    println!("event: info!(user_id = 42u64, path = \"/api/v1/items\", \"request handled in {{}} ms\", ms)  [ms = black_box(17)]");
    println!("x floor / x peer: this row's median over the floor's / the lossless peer's, same thread count");
    println!("mean: the mean of all samples (what a caller pays on average, periodic costs included: channel blocks, wake-ups, frees on another core); x floor (mean): over the floor's mean");
    println!();
    println!(
        "{:<41} {:>3} {:>9} {:>8} {:>8} {:>8}  {:>23} {:>9} {:>8} {:>8} {:>8}  round medians",
        "configuration",
        "thr",
        "median",
        "p10",
        "p90",
        "mean",
        "delivered/emitted",
        "dropped",
        "x floor",
        "x peer",
        "x fl mean",
    );
    for &threads in &opts.threads {
        let of = |name: &str| {
            rows.iter()
                .find(|r| r.threads == threads && r.name == name)
                .map(|r| median(&r.samples))
        };
        let floor_ns = of(FLOOR);
        let peer_ns = of(PEER_LOSSLESS);
        let floor_mean = rows
            .iter()
            .find(|r| r.threads == threads && r.name == FLOOR)
            .map(|r| mean(&r.samples));
        for r in rows.iter().filter(|r| r.threads == threads) {
            let mut s = r.samples.clone();
            s.sort_by(f64::total_cmp);
            let med = quantile(&s, 0.5);
            let avg = mean(&s);
            let ratio = |base: Option<f64>| base.map_or("-".to_string(), |b| format!("{:.2}", med / b));
            let mean_ratio = floor_mean.map_or("-".to_string(), |b| format!("{:.2}", avg / b));
            let rounds: Vec<String> = r.round_medians.iter().map(|m| format!("{m:.0}")).collect();
            println!(
                "{:<41} {:>3} {:>9.1} {:>8.1} {:>8.1} {:>8.1}  {:>11}/{:<11} {:>9} {:>8} {:>8} {:>8}  {}",
                r.name,
                r.threads,
                med,
                quantile(&s, 0.1),
                quantile(&s, 0.9),
                avg,
                r.delivered,
                r.emitted,
                r.dropped,
                ratio(floor_ns),
                ratio(peer_ns),
                mean_ratio,
                rounds.join(" ")
            );
        }
        println!();
    }
    println!("delivered share and counters (each distinct per-round note once):");
    for r in &rows {
        println!(
            "  {:<41} {} thr: {:>7.3} % delivered; {}",
            r.name,
            r.threads,
            100.0 * r.delivered as f64 / r.emitted.max(1) as f64,
            r.note
        );
    }

    if opts.burst {
        println!();
        println!(
            "burst check: {} events from one thread, unpaced, default queue budget (100 MiB), then flush:",
            opts.burst_events
        );
        let size = core_record(0, 17).memory_size();
        println!(
            "  one such record counts {size} B against the budget (size_of::<Record>() = {} B): 100 MiB holds {} records",
            std::mem::size_of::<Record>(),
            (100usize << 20) / size
        );
        for name in ["lts-log", "lts-tracing"] {
            if opts.wants(name) || opts.only.is_none() {
                println!("  {}", burst(name, opts.burst_events)?);
            }
        }
    }
    println!();
    println!("whole run: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
