//! A process killed with SIGKILL in the middle of a flood, while the service
//! is down, loses nothing that reached its spool: the next start delivers
//! every spooled batch exactly once.
//!
//! The test runs this same test binary as the child (`child_floods_until_killed`
//! does nothing unless the parent set `LTS_SPOOL_KILL_DIR`).

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lts_core::{Config, Level, Overflow, Record, RetryPolicy, Shipper};
use lts_mock::MockLts;

mod common;
use common::message_of;

fn config(endpoint: &str, token: &str, dir: &str) -> Config {
    common::ids(endpoint)
        .token(token)
        .linger(Duration::from_millis(2))
        .batch_max_events(50)
        .batch_max_bytes(64 * 1024)
        .queue_bytes(512 * 1024)
        .overflow(Overflow::Block {
            max: Duration::from_secs(5),
        })
        .retry(RetryPolicy {
            max_tries: 1,
            base: Duration::from_millis(1),
            max: Duration::from_millis(1),
        })
        .spool_dir(dir)
        .build()
        .unwrap()
}

#[test]
fn child_floods_until_killed() {
    let (Ok(dir), Ok(endpoint), Ok(token)) = (
        std::env::var("LTS_SPOOL_KILL_DIR"),
        std::env::var("LTS_SPOOL_KILL_ENDPOINT"),
        std::env::var("LTS_SPOOL_KILL_TOKEN"),
    ) else {
        return; // not the child
    };
    let (shipper, _guard) = Shipper::start(config(&endpoint, &token, &dir)).unwrap();
    let started = Instant::now();
    let mut said = 0;
    let mut i = 0u64;
    // Ends by itself should the parent never kill it.
    while started.elapsed() < Duration::from_secs(20) {
        let r = Record::new(shipper.now_ns(), Level::Info, "kill", format!("k{i:08}"));
        let _ = shipper.send(r);
        i += 1;
        let spooled = shipper.stats().spooled;
        if spooled >= said + 100 {
            said = spooled;
            // The parent reads this to know when to kill.
            #[allow(clippy::print_stdout)]
            {
                println!("spooled {spooled}");
            }
        }
    }
}

#[test]
fn every_batch_that_reached_the_spool_is_delivered_once_after_kill_9() {
    let mock = MockLts::start().unwrap();
    mock.faults().fail_next(usize::MAX / 2, 503);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_floods_until_killed",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LTS_SPOOL_KILL_DIR", dir.path())
        .env("LTS_SPOOL_KILL_ENDPOINT", mock.endpoint())
        .env("LTS_SPOOL_KILL_TOKEN", mock.token())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut said = 0u64;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("spooled ") {
            said = n.parse().unwrap();
            if said >= 1_000 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no flush, no shutdown
    child.wait().unwrap();
    assert!(said >= 1_000, "the child never spooled enough: {said}");

    mock.faults().clear();
    let (shipper, _guard) =
        Shipper::start(config(&mock.endpoint(), &mock.token(), dir.path().to_str().unwrap())).unwrap();
    let restored = shipper.stats().restored;
    // Everything the child saw reach the spool is there (it was synced before
    // being counted); at most the batch being written when it died is cut short.
    assert!(restored >= said, "restored {restored} < spooled {said}");
    assert!(shipper.stats().spool_corrupt <= 1);
    shipper.flush(Duration::from_secs(30)).unwrap();

    // In time order, as LTS sorts them: batches ran out of tries, and so
    // reached the spool, in the order their requests failed.
    let mut events = mock.events();
    events.sort_by_key(|e| e.time_ns);
    let messages: Vec<String> = events.iter().map(|e| message_of(&e.line)).collect();
    let distinct: HashSet<&String> = messages.iter().collect();
    assert_eq!(distinct.len(), messages.len(), "a batch was delivered twice");
    assert_eq!(messages.len() as u64, restored);
    assert_eq!(shipper.stats().delivered, restored);
    // The child numbered its records in time order.
    let mut sorted = messages.clone();
    sorted.sort();
    assert_eq!(sorted, messages);
}
