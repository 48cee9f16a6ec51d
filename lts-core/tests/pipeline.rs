//! The pipeline against lts-mock: delivery, order, time, batching caps,
//! compression, truncation, and what each kind of failure does.

use std::time::{Duration, Instant};

use lts_core::{clock, Api, Compression, DiagnosticKind, FlushError, Level, Overflow, Record, Shipper, Stats};
use lts_mock::MockLts;

mod common;
use common::{config, drop_reports, hook, message_of};

const WAIT: Duration = Duration::from_secs(10);

fn record(shipper: &Shipper, message: impl Into<String>) -> Record {
    Record::new(shipper.now_ns(), Level::Info, "pipeline", message)
}

#[test]
fn every_record_sent_and_flushed_arrives_in_order_with_its_capture_time() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).label("app", "test").build().unwrap()).unwrap();
    let mut sent = Vec::new();
    for i in 0..500 {
        let before = clock::wall_ns();
        let r = record(&shipper, format!("event {i}")).with_field("i", i as u64);
        let after = clock::wall_ns();
        assert!(r.time_ns >= before && r.time_ns <= after + 1_000);
        sent.push(r.time_ns);
        shipper.send(r).unwrap();
    }
    shipper.flush(WAIT).unwrap();

    let events = mock.events();
    assert_eq!(events.len(), 500);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.time_ns, sent[i], "event {i} arrived with another time");
        assert_eq!(message_of(&e.line), format!("event {i}"));
        assert_eq!(e.labels.get("app").map(String::as_str), Some("test"));
        assert_eq!(e.api, lts_mock::Api::HighAccuracy);
    }
    let stats = shipper.stats();
    assert_eq!((stats.enqueued, stats.delivered, stats.pending()), (500, 500, 0));
}

#[test]
fn times_are_strictly_increasing_across_two_threads() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).build().unwrap()).unwrap();
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let shipper = shipper.clone();
            std::thread::spawn(move || {
                for i in 0..2_000 {
                    shipper.send(record(&shipper, format!("{t}-{i}"))).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    shipper.flush(WAIT).unwrap();
    let mut times: Vec<u64> = mock.events().iter().map(|e| e.time_ns).collect();
    assert_eq!(times.len(), 4_000);
    times.sort_unstable();
    times.dedup();
    assert_eq!(times.len(), 4_000, "two events share a time");
}

#[test]
fn gzip_and_snappy_bodies_decode_to_the_same_events_as_an_uncompressed_one() {
    let mut lines = Vec::new();
    for &compression in common::COMPRESSIONS {
        let mock = MockLts::start().unwrap();
        let (shipper, _guard) = Shipper::start(config(&mock).compression(compression).build().unwrap()).unwrap();
        for i in 0..100 {
            let mut r = Record::new(
                1_700_000_000_000_000_000 + i,
                Level::Warn,
                "gz",
                format!("line {i} é \"q\""),
            );
            r.time_ns = clock::wall_ns() - 1_000_000_000 + i;
            shipper.send(r).unwrap();
        }
        shipper.flush(WAIT).unwrap();
        let requests = mock.requests();
        let encoding = requests[0].content_encoding.clone();
        match compression {
            Compression::Gzip | Compression::Snappy => {
                let name = if compression == Compression::Gzip {
                    "gzip"
                } else {
                    "snappy"
                };
                assert_eq!(encoding.as_deref(), Some(name));
                let (wire, decoded) = (requests[0].wire_bytes, requests[0].decoded_bytes);
                assert!(wire * 3 < decoded, "{name} saved too little: {wire} of {decoded}");
                let stats = shipper.stats();
                assert_eq!(
                    stats.bytes_sent as usize,
                    requests.iter().map(|r| r.wire_bytes).sum::<usize>()
                );
                assert_eq!(
                    stats.bytes_raw as usize,
                    requests.iter().map(|r| r.decoded_bytes).sum::<usize>()
                );
            }
            _ => assert_eq!(encoding, None),
        }
        lines.push(
            mock.events()
                .into_iter()
                .map(|e| message_of(&e.line))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(lines[0].len(), 100);
    for other in &lines[1..] {
        assert_eq!(&lines[0], other);
    }
}

#[test]
fn batches_respect_the_event_cap() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .batch_max_events(10)
            .linger(Duration::from_secs(60))
            .build()
            .unwrap(),
    )
    .unwrap();
    for i in 0..95 {
        shipper.send(record(&shipper, format!("{i}"))).unwrap();
    }
    shipper.flush(WAIT).unwrap();
    // Batches may arrive in any order (several requests are out at once).
    let mut sizes: Vec<usize> = mock.requests().iter().map(|r| r.events).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(sizes, [vec![10; 9], vec![5]].concat());
}

#[test]
fn batches_respect_the_byte_cap() {
    let mock = MockLts::start().unwrap();
    let cap = 8 * 1024;
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .batch_max_bytes(cap)
            .linger(Duration::from_secs(60))
            .build()
            .unwrap(),
    )
    .unwrap();
    for i in 0..200 {
        shipper
            .send(record(&shipper, format!("{i:05} {}", "x".repeat(300))))
            .unwrap();
    }
    shipper.flush(WAIT).unwrap();
    let requests = mock.requests();
    assert_eq!(requests.iter().map(|r| r.events).sum::<usize>(), 200);
    assert!(requests.len() > 200 * 300 / cap, "{} requests", requests.len());
    for r in &requests {
        assert!(r.decoded_bytes <= cap, "a body of {} bytes", r.decoded_bytes);
    }
    // Full batches are nearly full: the cap is a cap, not a target missed by
    // far. Only the last batch sealed (by the flush) may be short; it may
    // arrive before others.
    let short = requests.iter().filter(|r| r.decoded_bytes <= cap - 1024).count();
    assert!(short <= 1, "{short} short batches");
}

#[test]
fn a_batch_is_sent_when_its_linger_time_passes_without_a_flush() {
    let mock = MockLts::start().unwrap();
    let linger = Duration::from_millis(150);
    let (shipper, _guard) = Shipper::start(config(&mock).linger(linger).build().unwrap()).unwrap();
    let sent = Instant::now();
    shipper.send(record(&shipper, "lingering")).unwrap();
    shipper.send(record(&shipper, "lingering too")).unwrap();
    assert!(mock.wait_for_events(2, WAIT));
    assert!(
        sent.elapsed() >= linger,
        "sent before the linger time: {:?}",
        sent.elapsed()
    );
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn an_oversize_line_is_truncated_with_a_marker_and_counted() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) =
        Shipper::start(config(&mock).max_line_bytes(4096).error_hook(hook).build().unwrap()).unwrap();
    shipper.send(record(&shipper, "a".repeat(10_000))).unwrap();
    shipper.send(record(&shipper, "small")).unwrap();
    shipper.flush(WAIT).unwrap();
    let events = mock.events();
    assert_eq!(events.len(), 2);
    let line = &events[0].line;
    assert!(line.len() <= 4096, "{}", line.len());
    let message = message_of(line); // still valid JSON: the message was cut, not the line
    assert!(
        message.ends_with(" bytes]") && message.contains("…[truncated "),
        "{message}"
    );
    let cut: usize = message
        .rsplit("truncated ")
        .next()
        .unwrap()
        .trim_end_matches(" bytes]")
        .parse()
        .unwrap();
    assert_eq!(
        message.len() - "…[truncated  bytes]".len() - cut.to_string().len() + cut,
        10_000
    );
    assert_eq!(message_of(&events[1].line), "small");
    assert_eq!(shipper.stats().truncated, 1);
    assert_eq!(seen.lock().unwrap()[0].kind, DiagnosticKind::Truncated);
}

#[test]
fn a_400_is_not_retried_and_is_counted() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(config(&mock).error_hook(hook).build().unwrap()).unwrap();
    mock.faults().fail_next(1, 400);
    for i in 0..7 {
        shipper.send(record(&shipper, format!("{i}"))).unwrap();
    }
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 7 }));
    for i in 0..3 {
        shipper.send(record(&shipper, format!("after {i}"))).unwrap();
    }
    shipper.flush(WAIT).unwrap();
    let stats = shipper.stats();
    assert_eq!(
        (stats.dropped_rejected, stats.delivered, stats.retries, stats.requests),
        (7, 3, 0, 2)
    );
    // The three records, then the report of the loss, in the same request.
    assert_eq!(mock.event_count(), 4);
    let reports = drop_reports(&mock);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["level"], "WARN");
    assert_eq!(reports[0]["fields"]["dropped"], 7);
    assert_eq!(reports[0]["fields"]["dropped_rejected"], 7);
    assert!(reports[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("7 records dropped since "));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind, DiagnosticKind::Rejected);
    assert!(seen[0].message.contains("HTTP 400"), "{}", seen[0].message);
}

#[test]
fn a_503_twice_then_200_delivers_everything_exactly_once_with_the_same_bytes() {
    let mock = MockLts::start().unwrap();
    // The faults aim at one batch: one request out at a time.
    let (shipper, _guard) = Shipper::start(config(&mock).max_in_flight(1).build().unwrap()).unwrap();
    mock.faults().fail_next(2, 503);
    let mut times = Vec::new();
    for i in 0..50 {
        let r = record(&shipper, format!("{i}"));
        times.push(r.time_ns);
        shipper.send(r).unwrap();
    }
    shipper.flush(WAIT).unwrap();
    let requests = mock.requests();
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![503, 503, 200]
    );
    // The retried batch is the same batch: same bytes, same times.
    assert!(requests
        .iter()
        .all(|r| r.body_sha256_or_hash == requests[0].body_sha256_or_hash));
    let got: Vec<u64> = mock.events().iter().map(|e| e.time_ns).collect();
    assert_eq!(got, times);
    let stats = shipper.stats();
    assert_eq!(
        (stats.delivered, stats.retries, stats.requests, stats.pending()),
        (50, 2, 3, 0)
    );
}

#[test]
fn retries_end_after_the_configured_tries_and_the_batch_is_counted() {
    let mock = MockLts::start().unwrap();
    // The faults aim at one batch: one request out at a time.
    let (shipper, _guard) = Shipper::start(config(&mock).max_in_flight(1).build().unwrap()).unwrap();
    mock.faults().fail_next(4, 500);
    for i in 0..5 {
        shipper.send(record(&shipper, format!("{i}"))).unwrap();
    }
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 5 }));
    let stats = shipper.stats();
    assert_eq!(
        (stats.dropped_retries_exhausted, stats.requests, stats.retries),
        (5, 4, 3)
    );
    assert_eq!(mock.event_count(), 0);
}

#[test]
fn a_401_with_a_static_token_is_retried_a_bounded_number_of_times() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).token("wrong-token").build().unwrap()).unwrap();
    shipper.send(record(&shipper, "x")).unwrap();
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 1 }));
    let requests = mock.requests();
    assert_eq!(requests.iter().map(|r| r.status).collect::<Vec<_>>(), vec![401; 4]);
    assert_eq!(shipper.stats().dropped_retries_exhausted, 1);
}

#[test]
fn a_full_queue_in_drop_newest_mode_drops_and_counts_exactly() {
    let mock = MockLts::start().unwrap();
    let budget = 64 * 1024;
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .queue_bytes(budget)
            .batch_max_bytes(16 * 1024)
            .overflow(Overflow::DropNewest)
            .build()
            .unwrap(),
    )
    .unwrap();
    // The worker is stuck in a slow request while the flood arrives.
    mock.faults().delay_next(1, Duration::from_millis(300));
    shipper.send(record(&shipper, "first")).unwrap();
    shipper.flush(Duration::from_millis(1)).unwrap_err();
    let mut refused = 0;
    for i in 0..5_000 {
        if shipper
            .send(record(&shipper, format!("flood {i} {}", "y".repeat(100))))
            .is_err()
        {
            refused += 1;
        }
        assert!(shipper.queued_bytes() <= budget);
    }
    shipper.flush(WAIT).unwrap();
    let stats = shipper.stats();
    assert!(refused > 0, "the budget never filled");
    assert_eq!(stats.dropped_queue_full, refused);
    assert_eq!(stats.delivered + stats.dropped_queue_full, 5_001);
    // What was delivered, plus the in-band reports of the drops: one, or
    // more if the worker got going again while the flood was still
    // arriving (a loaded machine). Together they tell every drop once.
    let reports = drop_reports(&mock);
    assert!(!reports.is_empty());
    assert_eq!(mock.event_count() as u64, stats.delivered + reports.len() as u64);
    let told: u64 = reports
        .iter()
        .map(|r| r["fields"]["dropped_queue_full"].as_u64().unwrap())
        .sum();
    assert_eq!(told, refused);
    assert_eq!(shipper.queued_bytes(), 0);
}

#[test]
fn block_mode_waits_for_room_and_loses_nothing() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .queue_bytes(32 * 1024)
            .batch_max_bytes(8 * 1024)
            .overflow(Overflow::Block { max: WAIT })
            .build()
            .unwrap(),
    )
    .unwrap();
    mock.faults().fail_next(3, 503);
    for i in 0..3_000 {
        shipper
            .send(record(&shipper, format!("blocking {i} {}", "z".repeat(50))))
            .unwrap();
    }
    shipper.flush(WAIT).unwrap();
    let stats = shipper.stats();
    assert_eq!((stats.delivered, stats.dropped_queue_full), (3_000, 0));
    // Batches arrive in any order (several requests are out at once); LTS
    // sorts by time: sorted so, every record is there once.
    let mut times: Vec<u64> = mock.events().iter().map(|e| e.time_ns).collect();
    times.sort_unstable();
    assert_eq!(times.len(), 3_000);
    assert!(times.windows(2).all(|w| w[0] < w[1]), "a record twice");
}

#[test]
fn flush_returns_within_its_timeout_when_the_service_hangs() {
    let mock = MockLts::start().unwrap();
    let (shipper, guard) =
        Shipper::start(config(&mock).request_timeout(Duration::from_secs(30)).build().unwrap()).unwrap();
    mock.faults().hang_next(1);
    shipper.send(record(&shipper, "stuck")).unwrap();
    let started = Instant::now();
    let result = shipper.flush(Duration::from_millis(200));
    let took = started.elapsed();
    assert_eq!(result, Err(FlushError::Timeout { pending: 1 }));
    assert!(took < Duration::from_millis(1_000), "flush took {took:?}");
    // The guard's drop is bounded too, and reports what it could not deliver.
    let mut guard = guard;
    guard.set_timeout(Duration::from_millis(200));
    let started = Instant::now();
    drop(guard);
    assert!(
        started.elapsed() < Duration::from_millis(1_000),
        "shutdown took {:?}",
        started.elapsed()
    );
}

#[test]
fn shutdown_delivers_what_is_queued_and_a_second_shutdown_is_harmless() {
    let mock = MockLts::start().unwrap();
    let (shipper, guard) = Shipper::start(config(&mock).linger(Duration::from_secs(60)).build().unwrap()).unwrap();
    for i in 0..10 {
        shipper.send(record(&shipper, format!("{i}"))).unwrap();
    }
    assert_eq!(guard.shutdown(), Ok(()));
    assert_eq!(mock.event_count(), 10);
    assert_eq!(shipper.shutdown(Duration::from_secs(1)), Ok(()));
    assert_eq!(shipper.flush(Duration::from_secs(1)), Err(FlushError::ShutDown));
    assert!(shipper.send(record(&shipper, "late")).is_err());
    let stats: Stats = shipper.stats();
    assert_eq!((stats.enqueued, stats.delivered, stats.dropped_queue_full), (10, 10, 1));
}

#[test]
fn records_outside_the_two_day_window_are_dropped_before_sending() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(config(&mock).error_hook(hook).build().unwrap()).unwrap();
    let day = 24 * 3600 * 1_000_000_000u64;
    let now = clock::wall_ns();
    for t in [now - 3 * day, now + 3 * day, now - day, now] {
        shipper.send(Record::new(t, Level::Info, "w", "m")).unwrap();
    }
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 2 }));
    assert_eq!(mock.event_count(), 3);
    assert_eq!(drop_reports(&mock)[0]["fields"]["dropped_rejected"], 2);
    assert_eq!(mock.discarded_out_of_window(), 0);
    assert_eq!(shipper.stats().dropped_rejected, 2);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.iter()
            .filter(|d| d.kind == DiagnosticKind::OutsideTimeWindow)
            .count(),
        1
    );
}

#[test]
fn the_standard_api_carries_the_first_events_time() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).api(Api::Standard).build().unwrap()).unwrap();
    let first = record(&shipper, "a");
    let t0 = first.time_ns;
    shipper.send(first).unwrap();
    shipper.send(record(&shipper, "b")).unwrap();
    shipper.flush(WAIT).unwrap();
    let events = mock.events();
    assert_eq!(events.iter().map(|e| e.time_ns).collect::<Vec<_>>(), vec![t0, t0 + 1]);
    assert_eq!(events[0].api, lts_mock::Api::Standard);
}

#[test]
fn flush_with_nothing_sent_returns_at_once() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).build().unwrap()).unwrap();
    shipper.flush(WAIT).unwrap();
    assert!(mock.requests().is_empty());
}

#[test]
fn stats_count_a_record_the_moment_send_returns() {
    // The worker drains the channel while this loop sends; whenever it takes
    // a record, `stats` must still show it as enqueued (CI once read 0 here).
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).build().unwrap()).unwrap();
    for i in 1..=20_000u64 {
        shipper.send(record(&shipper, "counted")).unwrap();
        let stats = shipper.stats();
        assert_eq!(stats.enqueued, i, "send {i} returned but stats missed it");
        assert!(stats.delivered <= i);
    }
    shipper.flush(WAIT).unwrap();
    let stats = shipper.stats();
    assert_eq!((stats.enqueued, stats.delivered, stats.pending()), (20_000, 20_000, 0));
    assert_eq!(mock.event_count(), 20_000);
}

#[test]
fn a_drop_report_that_finds_its_batch_full_is_sent_in_a_batch_of_its_own() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .batch_max_events(5)
            .linger(Duration::from_secs(60))
            .build()
            .unwrap(),
    )
    .unwrap();
    // One record the worker drops (outside the service's window), then
    // exactly one full batch: no room left in it for the report.
    let day = 24 * 3600 * 1_000_000_000u64;
    shipper
        .send(Record::new(
            clock::wall_ns() - 3 * day,
            Level::Info,
            "pipeline",
            "too old",
        ))
        .unwrap();
    for i in 0..5 {
        shipper.send(record(&shipper, format!("event {i}"))).unwrap();
    }
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 1 }));

    // The flush does not end with the loss unreported in LTS. (The two
    // batches may be out at once and arrive in either order.)
    let mut sizes: Vec<usize> = mock.requests().iter().map(|r| r.events).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 5]);
    let mut events = mock.events();
    events.sort_by_key(|e| e.time_ns);
    let messages: Vec<String> = events.iter().map(|e| message_of(&e.line)).collect();
    assert_eq!(messages[..5], ["event 0", "event 1", "event 2", "event 3", "event 4"]);
    let reports = drop_reports(&mock);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["fields"]["dropped_rejected"], 1);
    assert_eq!(reports[0]["fields"]["dropped"], 1);
    let stats = shipper.stats();
    assert_eq!((stats.delivered, stats.dropped_rejected, stats.requests), (5, 1, 2));
}

#[test]
fn a_lost_report_only_batch_is_reported_again() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).batch_max_events(5).build().unwrap()).unwrap();
    let day = 24 * 3600 * 1_000_000_000u64;
    shipper
        .send(Record::new(
            clock::wall_ns() + 3 * day,
            Level::Info,
            "pipeline",
            "too new",
        ))
        .unwrap();
    // The report-only batch the flush sends is refused: its drops are owed
    // again, and the next batch carries them.
    mock.faults().fail_next(1, 400);
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 1 }));
    assert_eq!(mock.event_count(), 0);
    shipper.send(record(&shipper, "next")).unwrap();
    shipper.flush(WAIT).unwrap();
    let reports = drop_reports(&mock);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["fields"]["dropped_rejected"], 1);
    assert_eq!(mock.event_count(), 2);
}
