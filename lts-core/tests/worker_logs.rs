//! A record that ureq (or anything else) logs on the worker thread never
//! re-enters the pipeline. Its own test binary: it installs a global logger.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use lts_core::{is_shipper_thread, Level, Record, RetryPolicy, Shipper};
use lts_mock::MockLts;

mod common;
use common::json;

/// The smallest forwarding logger: what lts-log does, minus filtering, so
/// that the worker-thread check is the only thing standing in the way.
struct Forward;

static SHIPPER: OnceLock<Shipper> = OnceLock::new();
/// Records ureq logged on the worker thread: proof the check had work to do.
static UREQ_ON_WORKER: AtomicUsize = AtomicUsize::new(0);

impl log::Log for Forward {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        if is_shipper_thread() {
            if metadata.target().starts_with("ureq") {
                UREQ_ON_WORKER.fetch_add(1, Ordering::Relaxed);
            }
            return false;
        }
        // The in-process mock's HTTP server logs on its own threads.
        !metadata.target().starts_with("tiny_http")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if let Some(shipper) = SHIPPER.get() {
            let r = Record::new(
                shipper.now_ns(),
                Level::Info,
                record.target().to_owned(),
                record.args().to_string(),
            );
            let _ = shipper.send(r);
        }
    }

    fn flush(&self) {}
}

#[test]
fn a_record_emitted_by_ureq_on_the_worker_thread_never_re_enters() {
    let mock = MockLts::start().unwrap();
    let config = common::config(&mock).retry(RetryPolicy::default()).build().unwrap();
    let (shipper, _guard) = Shipper::start(config).unwrap();
    SHIPPER.set(shipper.clone()).unwrap();
    log::set_logger(&Forward).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    // Several rounds, each of which makes ureq log on the worker thread.
    for round in 0..5 {
        log::info!(target: "app", "round {round}");
        shipper.flush(Duration::from_secs(10)).unwrap();
    }
    let targets: Vec<String> = mock
        .events()
        .iter()
        .map(|e| json(&e.line)["target"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(targets, vec!["app"; 5]);
    assert!(
        UREQ_ON_WORKER.load(Ordering::Relaxed) > 0,
        "ureq logged nothing: the test proves nothing"
    );
    assert_eq!(shipper.stats().enqueued, 5);
    assert_eq!(mock.requests().len(), 5);
}
