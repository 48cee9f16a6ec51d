//! The worker driven through a scripted [`Deliver`]: no socket, and no
//! sleep in the tests (they wait on flushes and on the script's channels).
//! The harness ships snappy (a non-default compression, to see a batch keep
//! its own), so these need the `snappy` feature.
#![cfg(feature = "snappy")]

use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::config::{Config, RetryPolicy};
use crate::delivery::{Deliver, Outcome, RetryCause};
use crate::error::FlushError;
use crate::payload::Compression;
use crate::payload::Payload;
use crate::record::{Level, Record};
use crate::shipper::{Guard, Shipper};

/// One request as the script saw it.
#[derive(Debug, Clone)]
struct Seen {
    payload: Payload,
    timeout: Duration,
}

/// Answers each request with the next outcome fed to it, waiting for one
/// if none is there yet (a hung service, until the test feeds it).
struct Scripted {
    outcomes: Receiver<Outcome>,
    seen: Sender<Seen>,
    renewals: Sender<()>,
}

impl Deliver for Scripted {
    fn send(&self, payload: &Payload, timeout: Duration, _random: u64) -> Outcome {
        let _ = self.seen.send(Seen {
            payload: payload.clone(),
            timeout,
        });
        self.outcomes.recv().unwrap_or(Outcome::Retry {
            reason: "the script ended".into(),
            retry_after: None,
            cause: RetryCause::Connection,
        })
    }

    fn renew(&self) -> bool {
        let _ = self.renewals.send(());
        true
    }
}

struct Harness {
    shipper: Shipper,
    guard: Guard,
    feed: Sender<Outcome>,
    seen: Receiver<Seen>,
    renewals: Receiver<()>,
}

fn start(script: Vec<Outcome>) -> Harness {
    let config = Config::builder()
        .endpoint("http://127.0.0.1:9")
        .project_id("0123456789abcdef0123456789abcdef")
        .log_group_id("0a1b2c3d-0000-4000-8000-000000000001")
        .log_stream_id("0a1b2c3d-0000-4000-8000-000000000002")
        .token("not-sent-anywhere")
        .compression(Compression::Snappy)
        .linger(Duration::from_millis(1))
        .retry(RetryPolicy {
            max_tries: 4,
            base: Duration::from_millis(1),
            max: Duration::from_secs(1),
        })
        .shutdown_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let (feed, outcomes) = crossbeam_channel::unbounded();
    for o in script {
        feed.send(o).unwrap();
    }
    let (seen_tx, seen) = crossbeam_channel::unbounded();
    let (renewals_tx, renewals) = crossbeam_channel::unbounded();
    let scripted = Scripted {
        outcomes,
        seen: seen_tx,
        renewals: renewals_tx,
    };
    let (shipper, guard) = Shipper::start_with(config, scripted).unwrap();
    Harness {
        shipper,
        guard,
        feed,
        seen,
        renewals,
    }
}

impl Harness {
    fn send(&self, n: usize) {
        for i in 0..n {
            let r = Record::new(self.shipper.now_ns(), Level::Info, "t", format!("m{i}"));
            self.shipper.send(r).unwrap();
        }
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.try_iter().collect()
    }
}

fn retry_503() -> Outcome {
    Outcome::Retry {
        reason: "HTTP 503".into(),
        retry_after: None,
        cause: RetryCause::Throttled,
    }
}

#[test]
fn a_flush_waits_through_retries_and_every_attempt_sends_the_same_payload() {
    let h = start(vec![retry_503(), retry_503(), Outcome::Delivered]);
    h.send(3);
    assert_eq!(h.shipper.flush(Duration::from_secs(5)), Ok(()));
    let s = h.shipper.stats();
    assert_eq!((s.delivered, s.retries, s.requests), (3, 2, 3));
    let sent = h.requests();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|r| r.payload == sent[0].payload));
    assert_eq!(sent[0].payload.events, 3);
    assert_eq!(sent[0].payload.content_encoding(), Some("snappy"));
}

#[test]
fn a_401_renews_the_credential_then_the_batch_is_retried() {
    let h = start(vec![
        Outcome::Unauthorized {
            answer: "expired".into(),
            renewable: false,
        },
        Outcome::Delivered,
    ]);
    h.send(2);
    assert_eq!(h.shipper.flush(Duration::from_secs(5)), Ok(()));
    assert_eq!(h.renewals.try_iter().count(), 1);
    assert_eq!(h.requests().len(), 2);
    assert_eq!(h.shipper.stats().delivered, 2);
}

#[test]
fn a_refused_batch_makes_the_flush_say_how_many_were_lost() {
    let h = start(vec![Outcome::Rejected {
        status: 400,
        answer: "bad".into(),
    }]);
    h.send(4);
    assert_eq!(
        h.shipper.flush(Duration::from_secs(5)),
        Err(FlushError::Lost { lost: 4 })
    );
    let s = h.shipper.stats();
    assert_eq!((s.dropped_rejected, s.pending()), (4, 0));
}

#[test]
fn the_shutdown_does_not_wait_for_a_request_that_never_ends() {
    let h = start(vec![]);
    h.send(10);
    // The request is out, and the script will never answer it.
    let out = h.seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(out.payload.events, 10);
    assert_eq!(h.guard.shutdown(), Err(FlushError::Lost { lost: 10 }));
    let s = h.shipper.stats();
    assert_eq!((s.dropped_shutdown, s.delivered, s.pending()), (10, 0, 0));
    drop(h.feed);
}

#[test]
fn a_request_sent_during_the_shutdown_has_its_timeout_cut_to_the_deadline() {
    let h = start(vec![]);
    h.send(1);
    let first = h.seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first.timeout, Duration::from_secs(10), "the default request timeout");
    let (guard, seen) = (h.guard, h.seen);
    let shutdown = std::thread::spawn(move || guard.shutdown());
    // Answered while the shutdown (200 ms) begins: the retry goes out
    // 100 ms later, during the shutdown.
    h.feed
        .send(Outcome::Retry {
            reason: "HTTP 429".into(),
            retry_after: Some(Duration::from_millis(100)),
            cause: RetryCause::Throttled,
        })
        .unwrap();
    let retry = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(retry.timeout < Duration::from_millis(200), "{:?}", retry.timeout);
    assert_eq!(shutdown.join().unwrap(), Err(FlushError::Lost { lost: 1 }));
}
