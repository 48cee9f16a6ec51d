//! Nothing logged on the shipper's own thread enters the pipeline, even with
//! every level enabled: not the transport's own `log` records (ureq logs on
//! every connection), and not what the error hook logs. The global logger is
//! an `LtsLogger` wrapped in a logger that counts the calls made on the
//! shipper's thread, to show that there were some.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{config_for, events, FLUSH};
use log::{LevelFilter, Log, Metadata, Record};
use lts_core::{is_shipper_thread, FlushError};
use lts_log::LtsLogger;
use lts_mock::MockLts;

/// Calls made on the shipper's thread: (log calls, log calls whose metadata
/// our logger said was enabled).
static FROM_SHIPPER: AtomicUsize = AtomicUsize::new(0);
static ENABLED_ON_SHIPPER: AtomicUsize = AtomicUsize::new(0);
/// Error-hook calls.
static HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);

struct Counting(LtsLogger);

impl Log for Counting {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if is_shipper_thread() {
            FROM_SHIPPER.fetch_add(1, Ordering::SeqCst);
            if self.0.enabled(record.metadata()) {
                ENABLED_ON_SHIPPER.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.0.log(record);
    }

    fn flush(&self) {
        self.0.flush();
    }
}

#[test]
fn nothing_logged_on_the_shipper_thread_enters() {
    let mock = MockLts::start().unwrap();
    let config = config_for(&mock)
        .error_hook(|d| {
            HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
            // Runs on the shipper's thread.
            log::error!(target: "my_app", kind:? = d.kind; "the shipper said: {}", d.message);
        })
        .build()
        .unwrap();
    // Everything enabled, but the mock's HTTP server (in this process) logs
    // on its own threads: keep it out.
    let (logger, guard) = LtsLogger::builder(config)
        .filter("trace,tiny_http=off")
        .build()
        .unwrap();
    let max = logger.max_level();
    assert_eq!(max, LevelFilter::Trace);
    log::set_boxed_logger(Box::new(Counting(logger))).unwrap();
    log::set_max_level(max);
    let shipper = guard.shipper().clone();

    // The first batch is refused: the error hook runs and logs.
    mock.faults().fail_next(1, 400);
    log::info!("refused");
    assert_eq!(shipper.flush(FLUSH), Err(FlushError::Lost { lost: 1 }));
    assert_eq!(HOOK_CALLS.load(Ordering::SeqCst), 1);

    log::info!("delivered");
    // The transport's debug records from a normal thread are dropped too.
    log::debug!(target: "ureq::unversioned::transport::tcp", "dropped: transport noise");
    log::trace!(target: "rustls::client", "dropped: transport noise");
    shipper.flush(FLUSH).unwrap();

    // ureq logged on the shipper's thread, and so did the error hook...
    let from_shipper = FROM_SHIPPER.load(Ordering::SeqCst);
    assert!(from_shipper >= 2, "{from_shipper}");
    // ...and none of it entered.
    assert_eq!(ENABLED_ON_SHIPPER.load(Ordering::SeqCst), 0);
    let stats = shipper.stats();
    assert_eq!((stats.enqueued, stats.delivered, stats.dropped_rejected), (2, 1, 1));
    let got = events(&mock);
    let messages: Vec<(&str, &str)> = got
        .iter()
        .map(|e| (e.json["target"].as_str().unwrap(), e.message()))
        .filter(|(target, _)| *target != "lts")
        .collect();
    assert_eq!(messages, [("shipper_thread", "delivered")]);
    // Besides, the pipeline reported the refused record in-band (target "lts").
    let reports: Vec<_> = got.iter().filter(|e| e.json["target"] == "lts").collect();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].json["fields"]["dropped_rejected"], 1);
    drop(guard);
}
