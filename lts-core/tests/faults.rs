//! Fault injection against lts-mock, with exact counts: a 503 stretch, random
//! 500s, dropped connections, answers slower than the request timeout, 429
//! backoff, a 401 with a token that can be renewed, a 400 for one batch.
//!
//! Batches are sealed by count (10 events) or by a flush, never by the linger
//! clock, so the number of requests each scenario makes is known in advance,
//! and one request is out at a time (`max_in_flight(1)`), so their order is
//! too. The same faults with several requests out are in `concurrency.rs`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lts_core::{ConfigBuilder, DiagnosticKind, FlushError, Level, Record, RetryPolicy, Secret, Shipper, TokenProvider};
use lts_mock::{MockLts, RequestLog};

mod common;
use common::{attempt_runs, drop_reports, hook, kinds, received, retry};

const WAIT: Duration = Duration::from_secs(10);
const BATCH: usize = 10;

/// The shared config, but batches sealed by count or by a flush (the linger
/// is 60 s), one request out at a time, a 5 s request timeout and 6 tries 1
/// to 10 ms apart.
fn config(mock: &MockLts) -> ConfigBuilder {
    common::config(mock)
        .max_in_flight(1)
        .batch_max_events(BATCH)
        .linger(Duration::from_secs(60))
        .request_timeout(Duration::from_secs(5))
        .retry(retry(6))
}

/// Sends records `m{from}..m{to}` and returns their (time, message).
fn send_range(shipper: &Shipper, from: usize, to: usize) -> Vec<(u64, String)> {
    (from..to)
        .map(|i| {
            let r = Record::new(shipper.now_ns(), Level::Info, "faults", format!("m{i}"));
            let sent = (r.time_ns, r.message.clone());
            shipper.send(r).unwrap();
            sent
        })
        .collect()
}

fn statuses(requests: &[RequestLog]) -> Vec<u16> {
    requests.iter().map(|r| r.status).collect()
}

#[test]
fn a_503_stretch_within_the_retry_budget_delivers_everything_once_in_order() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(config(&mock).retry(retry(6)).error_hook(hook).build().unwrap()).unwrap();
    mock.faults().fail_next(5, 503);
    let sent = send_range(&shipper, 0, 100);
    shipper.flush(WAIT).unwrap();

    let requests = mock.requests();
    assert_eq!(statuses(&requests), [vec![503; 5], vec![200; 10]].concat());
    let runs = attempt_runs(&requests);
    assert_eq!(
        runs.iter().map(Vec::len).collect::<Vec<_>>(),
        [vec![6], vec![1; 9]].concat()
    );
    assert_eq!(received(&mock), sent);
    assert!(drop_reports(&mock).is_empty());
    let s = shipper.stats();
    assert_eq!(
        (s.enqueued, s.delivered, s.retries, s.requests, s.pending()),
        (100, 100, 5, 15, 0)
    );
    assert_eq!(s.requests as usize, mock.request_count());
    let retrying = kinds(&seen, DiagnosticKind::Retrying);
    assert_eq!(retrying.len(), 1, "one line per 10 s: {retrying:?}");
    assert!(retrying[0].contains("HTTP 503"), "{}", retrying[0]);
}

#[test]
fn a_503_stretch_longer_than_the_retry_budget_drops_only_the_first_batch_and_recovers() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(config(&mock).retry(retry(4)).error_hook(hook).build().unwrap()).unwrap();
    mock.faults().fail_next(6, 503);
    let sent = send_range(&shipper, 0, 100);
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 10 }));
    // One more record, so a batch sealed after the loss carries its report.
    let last = send_range(&shipper, 100, 101);
    shipper.flush(WAIT).unwrap();

    let requests = mock.requests();
    // Batch 0: four 503s, given up. Batch 1: two 503s, then 200. Then 8 + 1 batches.
    assert_eq!(statuses(&requests), [vec![503; 6], vec![200; 9], vec![200]].concat());
    let runs = attempt_runs(&requests);
    assert_eq!(runs[0].len(), 4);
    assert_eq!(runs[1].len(), 3);
    assert_eq!(received(&mock), [&sent[10..], &last[..]].concat());
    let s = shipper.stats();
    assert_eq!(
        (
            s.enqueued,
            s.delivered,
            s.dropped_retries_exhausted,
            s.retries,
            s.requests
        ),
        (101, 91, 10, 5, 16)
    );
    let reports = drop_reports(&mock);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["level"], "WARN");
    assert_eq!(reports[0]["fields"]["dropped"], 10);
    assert_eq!(reports[0]["fields"]["dropped_retries_exhausted"], 10);
    assert_eq!(reports[0]["fields"]["dropped_rejected"], 0);
    assert_eq!(reports[0]["fields"]["dropped_queue_full"], 0);
    let exhausted = kinds(&seen, DiagnosticKind::RetriesExhausted);
    assert_eq!(exhausted.len(), 1);
    assert!(
        exhausted[0].contains("10 records after 4 tries") && exhausted[0].contains("HTTP 503"),
        "{}",
        exhausted[0]
    );
}

#[test]
fn random_500s_on_a_fifth_of_requests_lose_nothing_when_the_tries_suffice() {
    // With p = 0.2 a batch needs more than 10 tries with probability
    // 0.2^10 ~ 1e-7; the seed fixes the pattern (it depends only on the
    // request index), and the longest run of 500s it produces over these
    // requests is checked below to be shorter than the tries.
    const TRIES: u32 = 10;
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) =
        Shipper::start(config(&mock).batch_max_events(20).retry(retry(TRIES)).build().unwrap()).unwrap();
    mock.faults().fail_fraction(0.2, 500, 0x5eed);
    let sent = send_range(&shipper, 0, 2_000);
    shipper.flush(WAIT).unwrap();

    let requests = mock.requests();
    let failed = requests.iter().filter(|r| r.status == 500).count();
    assert!(
        requests.iter().all(|r| r.status == 200 || r.status == 500),
        "{:?}",
        statuses(&requests)
    );
    assert!(requests
        .iter()
        .filter(|r| r.status == 500)
        .all(|r| r.fault.as_deref() == Some("fail_fraction")));
    // About a fifth failed: the fault was really on.
    assert!(
        (10..=50).contains(&failed),
        "{failed} of {} requests failed",
        requests.len()
    );
    let runs = attempt_runs(&requests);
    assert_eq!(runs.len(), 100);
    let longest = runs.iter().map(Vec::len).max().unwrap();
    assert!(longest <= TRIES as usize, "a batch needed {longest} tries");
    assert_eq!(received(&mock), sent, "every record exactly once, in order");
    let s = shipper.stats();
    assert_eq!(
        (
            s.delivered,
            s.retries as usize,
            s.requests as usize,
            s.dropped_retries_exhausted
        ),
        (2_000, failed, 100 + failed, 0)
    );
}

#[test]
fn connections_dropped_mid_request_are_retried_and_delivered_once() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(config(&mock).build().unwrap()).unwrap();
    mock.faults().drop_next(3);
    let sent = send_range(&shipper, 0, 30);
    shipper.flush(WAIT).unwrap();

    let requests = mock.requests();
    assert_eq!(statuses(&requests), [0, 0, 0, 200, 200, 200]);
    assert!(requests[..3].iter().all(|r| r.fault.as_deref() == Some("drop")));
    let runs = attempt_runs(&requests);
    assert_eq!(runs.iter().map(Vec::len).collect::<Vec<_>>(), [4, 1, 1]);
    assert_eq!(received(&mock), sent);
    let s = shipper.stats();
    assert_eq!((s.delivered, s.retries, s.requests), (30, 3, 6));
    // The HTTP client did not retry on its own behind the pipeline's back.
    assert_eq!(mock.request_count(), 6);
}

#[test]
fn a_hung_request_times_out_and_is_retried_without_a_duplicate() {
    let mock = MockLts::start().unwrap();
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .request_timeout(Duration::from_millis(600))
            .build()
            .unwrap(),
    )
    .unwrap();
    mock.faults().hang_next(1);
    let sent = send_range(&shipper, 0, 20);
    shipper.flush(WAIT).unwrap();

    let requests = mock.requests();
    assert_eq!(statuses(&requests), [0, 200, 200]);
    assert_eq!(requests[0].fault.as_deref(), Some("hang"));
    let runs = attempt_runs(&requests);
    assert_eq!(runs.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(received(&mock), sent);
    let s = shipper.stats();
    assert_eq!((s.delivered, s.retries, s.requests), (20, 1, 3));
}

#[test]
fn an_answer_slower_than_the_request_timeout_is_retried_and_the_duplicate_is_byte_identical() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(
        config(&mock)
            .request_timeout(Duration::from_millis(600))
            .error_hook(hook)
            .build()
            .unwrap(),
    )
    .unwrap();
    // The mock keeps the events of the slow request before it waits: as far
    // as the client can know the batch was not delivered, so it sends it
    // again, and the service has it twice.
    mock.faults().delay_next(1, Duration::from_secs(3));
    let sent = send_range(&shipper, 0, 30);
    shipper.flush(WAIT).unwrap();

    let requests = mock.requests();
    assert_eq!(statuses(&requests), [200, 200, 200, 200]);
    assert_eq!(requests[0].fault.as_deref(), Some("delay"));
    let runs = attempt_runs(&requests);
    assert_eq!(runs.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1, 1]);
    // The duplicate is the retry of the same bytes: same lines, same times.
    let events = mock.events();
    let of = |request: usize| {
        events
            .iter()
            .filter(|e| e.request == request)
            .map(|e| (e.time_ns, e.line.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(of(0).len(), BATCH);
    assert_eq!(of(0), of(1));
    let got = received(&mock);
    assert_eq!(got.len(), 40);
    assert_eq!([&got[..10], &got[20..]].concat(), sent);
    let s = shipper.stats();
    assert_eq!((s.delivered, s.retries, s.requests), (30, 1, 4));
    let retrying = kinds(&seen, DiagnosticKind::Retrying);
    assert!(retrying[0].contains("timed out"), "{retrying:?}");
}

#[test]
fn a_429_is_retried_with_backoff_that_grows_from_the_base_and_is_counted() {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let a = arrivals.clone();
    let mock = MockLts::builder()
        .on_request(move |r| a.lock().unwrap().push((r.index, Instant::now())))
        .build()
        .unwrap();
    let (seen, hook) = hook();
    let base = Duration::from_millis(20);
    let policy = RetryPolicy {
        max_tries: 5,
        base,
        max: Duration::from_millis(80),
    };
    let (shipper, _guard) = Shipper::start(config(&mock).retry(policy).error_hook(hook).build().unwrap()).unwrap();
    mock.faults().fail_next(3, 429);
    let sent = send_range(&shipper, 0, 5);
    shipper.flush(WAIT).unwrap();

    assert_eq!(statuses(&mock.requests()), [429, 429, 429, 200]);
    assert_eq!(received(&mock), sent);
    let s = shipper.stats();
    assert_eq!((s.delivered, s.retries, s.requests), (5, 3, 4));
    let mut arrivals = arrivals.lock().unwrap().clone();
    arrivals.sort_by_key(|(i, _)| *i);
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1].1 - w[0].1).collect();
    // The documented backoff after failure n is min(base * 2^(n-1), max),
    // jittered between half and all of it: at least 10, 20 and 40 ms here.
    // From the second retry on, every gap is at least the base.
    for (n, gap) in gaps.iter().enumerate() {
        let full = (base * 2u32.pow(n as u32)).min(policy.max);
        assert!(*gap >= full / 2, "gap {n} was {gap:?}, below half of {full:?}");
    }
    assert!(gaps[1..].iter().all(|g| *g >= base), "{gaps:?}");
    let retrying = kinds(&seen, DiagnosticKind::Retrying);
    assert!(retrying[0].contains("HTTP 429"), "{retrying:?}");
}

/// A token source that, asked again after a 401, rotates the token: the
/// service (the mock) accepts only the new one from then on.
struct RotatingProvider {
    mock: Arc<MockLts>,
    asked: Arc<Mutex<Vec<bool>>>,
}

impl TokenProvider for RotatingProvider {
    fn token(&self, refused: bool) -> Result<Secret, Box<dyn std::error::Error + Send + Sync>> {
        let mut asked = self.asked.lock().unwrap();
        asked.push(refused);
        if refused {
            let fresh = format!("rotated-token-{}", asked.len());
            self.mock.faults().set_token(fresh.clone());
            Ok(Secret::new(fresh))
        } else {
            Ok(Secret::new(self.mock.token()))
        }
    }
}

#[test]
fn a_401_mid_run_asks_the_token_provider_again_and_delivers_the_batch_once() {
    let mock = Arc::new(MockLts::start().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let (seen, hook) = hook();
    let provider = RotatingProvider {
        mock: mock.clone(),
        asked: asked.clone(),
    };
    let (shipper, guard) = Shipper::start(
        common::ids(mock.endpoint())
            .token_provider(provider)
            .max_in_flight(1)
            .batch_max_events(BATCH)
            .linger(Duration::from_secs(60))
            .retry(retry(4))
            .error_hook(hook)
            .build()
            .unwrap(),
    )
    .unwrap();
    // The first batch is accepted, then the token dies.
    mock.faults().expire_token_after(1);
    let sent = send_range(&shipper, 0, 30);
    shipper.flush(WAIT).unwrap();

    let requests = mock.requests();
    assert_eq!(statuses(&requests), [200, 401, 200, 200]);
    assert_eq!(requests[1].fault.as_deref(), Some("token_expired"));
    let runs = attempt_runs(&requests);
    assert_eq!(runs.iter().map(Vec::len).collect::<Vec<_>>(), [1, 2, 1]);
    assert_eq!(
        *asked.lock().unwrap(),
        [false, true],
        "asked again after the 401, with refused"
    );
    assert_eq!(received(&mock), sent);
    let s = shipper.stats();
    assert_eq!((s.delivered, s.retries, s.requests, s.pending()), (30, 1, 4, 0));
    assert_eq!(kinds(&seen, DiagnosticKind::Unauthorized).len(), 1);
    assert!(kinds(&seen, DiagnosticKind::Credentials).is_empty());
    // The worker (and the provider's handle on the mock) ends here.
    drop(guard);
}

#[test]
fn a_400_for_one_batch_among_good_ones_drops_and_counts_only_that_batch() {
    let mock = MockLts::start().unwrap();
    let (seen, hook) = hook();
    let (shipper, _guard) = Shipper::start(config(&mock).error_hook(hook).build().unwrap()).unwrap();
    mock.faults().fail_request(3, 400);
    let sent = send_range(&shipper, 0, 100);
    assert_eq!(shipper.flush(WAIT), Err(FlushError::Lost { lost: 10 }));
    let last = send_range(&shipper, 100, 101);
    shipper.flush(WAIT).unwrap();

    let requests = mock.requests();
    let mut expected = vec![200; 11];
    expected[3] = 400;
    assert_eq!(statuses(&requests), expected, "a 400 is never retried");
    assert_eq!(requests[3].fault.as_deref(), Some("fail_request"));
    assert_eq!(attempt_runs(&requests).len(), 11);
    assert_eq!(received(&mock), [&sent[..30], &sent[40..], &last[..]].concat());
    let s = shipper.stats();
    assert_eq!(
        (s.delivered, s.dropped_rejected, s.retries, s.requests, s.pending()),
        (91, 10, 0, 11, 0)
    );
    let reports = drop_reports(&mock);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["fields"]["dropped"], 10);
    assert_eq!(reports[0]["fields"]["dropped_rejected"], 10);
    let rejected = kinds(&seen, DiagnosticKind::Rejected);
    assert_eq!(rejected.len(), 1);
    assert!(
        rejected[0].contains("HTTP 400") && rejected[0].contains("Invalid request."),
        "{}",
        rejected[0]
    );
}
