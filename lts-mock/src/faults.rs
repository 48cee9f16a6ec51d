//! Injected faults and the token the mock accepts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Deterministic fault injection, usable while the server runs.
///
/// Every method takes `&self`: get it with [`MockLts::faults`](crate::MockLts::faults)
/// and call it from the test thread while a client is talking to the mock.
///
/// # How a request meets the faults
///
/// Faults apply to **every** request that reaches the mock, whatever its method
/// or path, in arrival order (the order of [`RequestLog::index`](crate::RequestLog::index)):
/// IAM token requests (`POST /v3/auth/tokens`) are indexed and meet the faults
/// like reporting requests do (a fault answers them with IAM's error body,
/// `{"error":{"code":N,"message":..,"title":..}}`). To fail only token requests,
/// use [`fail_iam_next`](Faults::fail_iam_next).
/// The decision for a request is taken once, when it arrives, before its body is
/// validated, so the counts below are exact even with concurrent clients:
///
/// 1. A delay from [`delay_next`](Faults::delay_next) (or, when none is pending,
///    from [`delay_all`](Faults::delay_all)) is taken first and combines with
///    whatever answer follows (the answer, or the drop, comes after the delay).
/// 2. Then the first matching one of: [`fail_request`](Faults::fail_request) for
///    this index, [`rate_limit`](Faults::rate_limit) (reporting requests only),
///    [`fail_iam_next`](Faults::fail_iam_next) (token requests only),
///    [`drop_next`](Faults::drop_next), [`hang_next`](Faults::hang_next),
///    [`fail_next`](Faults::fail_next), [`fail_fraction`](Faults::fail_fraction)
///    (or [`fail_fraction_mix`](Faults::fail_fraction_mix)).
///    Only the fault that answers a request consumes one of its count, except
///    `fail_fraction`, whose generator draws for every request while it
///    is set, so its pattern depends only on the seed and the request index,
///    and the rate limit, which counts every reporting request it lets through
///    (whatever answers it next).
/// 3. A request that no fault answers is validated normally.
///
/// A request answered by a fault records no event, whatever its body.
/// Token expiry ([`expire_token_after`](Faults::expire_token_after)) is not decided
/// on arrival: it counts requests the mock *accepts* (answers 200 to) with the
/// static token.
///
/// The static token ([`set_token`](Faults::set_token), [`MockLts::token`](crate::MockLts::token))
/// is one credential among others: tokens issued by the mock's IAM and AK/SK
/// signatures are accepted alongside it and are not affected by `set_token`
/// or `expire_token_after` (see [`MockLts::revoke_tokens`](crate::MockLts::revoke_tokens)
/// and [`MockLts::set_token_lifetime`](crate::MockLts::set_token_lifetime)).
///
/// # Example
///
/// ```
/// use lts_mock::{Api, MockLts};
///
/// let mock = MockLts::start()?;
/// mock.faults().fail_next(1, 503);
/// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
/// let body = format!(r#"{{"labels":{{}},"contents":[{{"log_time_ns":{now},"log":"x"}}]}}"#);
/// let send = || {
///     ureq::post(mock.url(Api::HighAccuracy))
///         .config().http_status_as_error(false).build()
///         .header("X-Auth-Token", mock.token())
///         .header("Content-Type", lts_mock::CONTENT_TYPE)
///         .send(&body)
///         .map(|r| r.status().as_u16())
///         .map_err(std::io::Error::other)
/// };
/// assert_eq!(send()?, 503);
/// assert_eq!(send()?, 200);
/// assert!(mock.requests()[0].fault.is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Faults {
    state: Mutex<State>,
}

struct State {
    fail_next: usize,
    fail_next_status: u16,
    fail_iam_next: usize,
    fail_iam_status: u16,
    fail_requests: HashMap<usize, u16>,
    fraction: Option<Fraction>,
    delay_next: usize,
    delay: Duration,
    delay_all: Duration,
    rate: Option<Limiter>,
    drop_next: usize,
    hang_next: usize,
    token: String,
    token_expired: bool,
    expire_after: Option<usize>,
    /// Per stream id: the status its reports are answered with, and how
    /// many more (`usize::MAX`: all).
    fail_streams: HashMap<String, (u16, usize)>,
}

struct Fraction {
    p: f64,
    /// Never empty.
    answers: Vec<Failure>,
    rng: XorShift,
}

/// How a request hit by [`Faults::fail_fraction_mix`] is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// This HTTP status, with the service's error body for it (as
    /// [`Faults::fail_next`]).
    Status(u16),
    /// The connection is closed with no answer (as [`Faults::drop_next`]).
    Drop,
}

/// A limit on the rate of reporting requests, for [`Faults::rate_limit`]: at
/// most `max` requests let through in any `window` (one second unless
/// [`window`](RateLimit::window) says otherwise); the others are answered 429
/// `SVCSTG.ALS.429.101`, as the service answers a stream written too often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    max: usize,
    window: Duration,
    retry_after: Option<Duration>,
}

impl RateLimit {
    /// At most `n` requests in any second (`0`: every reporting request is refused).
    pub fn per_second(n: usize) -> RateLimit {
        RateLimit {
            max: n,
            window: Duration::from_secs(1),
            retry_after: None,
        }
    }

    /// Counts over this sliding window instead of one second.
    pub fn window(mut self, window: Duration) -> RateLimit {
        self.window = window;
        self
    }

    /// A refused request's answer carries `Retry-After` with this many seconds
    /// (rounded up to whole seconds, as the header wants); none by default.
    pub fn retry_after(mut self, d: Duration) -> RateLimit {
        self.retry_after = Some(d);
        self
    }

    /// The most requests let through in any [`window`](Self::get_window).
    pub fn max(&self) -> usize {
        self.max
    }

    /// The sliding window the limit counts over.
    pub fn get_window(&self) -> Duration {
        self.window
    }

    /// The `Retry-After` sent with a refusal, if any.
    pub fn get_retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

/// A sliding-window limiter: the arrival times of the requests let through
/// within the last window.
struct Limiter {
    limit: RateLimit,
    passed: VecDeque<Instant>,
}

impl Limiter {
    /// Lets a request arriving at `now` through (and counts it), or refuses it.
    fn admit(&mut self, now: Instant) -> bool {
        while let Some(&first) = self.passed.front() {
            if now.saturating_duration_since(first) >= self.limit.window {
                self.passed.pop_front();
            } else {
                break;
            }
        }
        if self.passed.len() < self.limit.max {
            self.passed.push_back(now);
            true
        } else {
            false
        }
    }
}

/// xorshift64*: tiny, deterministic, good enough to spread failures.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        // A zero state would stay zero forever; mix the seed so that 0 is usable.
        let mixed = seed ^ 0x9E37_79B9_7F4A_7C15;
        XorShift(if mixed == 0 { 0x2545_F491_4F6C_DD1D } else { mixed })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What the fault machinery decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub(crate) delay: Option<Duration>,
    pub(crate) action: Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    None,
    Fail {
        status: u16,
        fault: &'static str,
        retry_after: Option<Duration>,
    },
    Drop {
        fault: &'static str,
    },
    Hang,
}

/// The outcome of checking a presented token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    Ok,
    Missing,
    Wrong,
    Expired,
}

impl Faults {
    pub(crate) fn new(token: String) -> Faults {
        Faults {
            state: Mutex::new(State {
                fail_next: 0,
                fail_next_status: 500,
                fail_iam_next: 0,
                fail_iam_status: 500,
                fail_requests: HashMap::new(),
                fraction: None,
                delay_next: 0,
                delay: Duration::ZERO,
                delay_all: Duration::ZERO,
                rate: None,
                drop_next: 0,
                hang_next: 0,
                token,
                token_expired: false,
                expire_after: None,
                fail_streams: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in a user callback must not make the mock unusable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next `n` requests are answered with `status` and the service's error
    /// body for it (see [`error_codes::for_injected_status`](crate::error_codes::for_injected_status)).
    /// Replaces any earlier `fail_next`.
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut s = self.lock();
        s.fail_next = n;
        s.fail_next_status = status;
    }

    /// The next `n` IAM token requests (`POST /v3/auth/tokens`, whatever their
    /// body) are answered with `status` and IAM's error body; reporting requests
    /// are not affected and do not consume the count. Replaces any earlier
    /// `fail_iam_next`. The request is still counted by
    /// [`MockLts::iam_requests`](crate::MockLts::iam_requests).
    pub fn fail_iam_next(&self, n: usize, status: u16) {
        let mut s = self.lock();
        s.fail_iam_next = n;
        s.fail_iam_status = status;
    }

    /// The next `n` reports to log stream `stream_id` (in any group) are
    /// answered with `status` and the service's error body for it, as
    /// [`Faults::fail_next`]; other streams are not affected and do not
    /// consume the count. `usize::MAX`: every report to it, until
    /// [`Faults::clear`]. Replaces an earlier `fail_stream` of that stream.
    /// A fault aimed at every request (`fail_next` and the rest) answers
    /// first; the request is logged with fault `"fail_stream"`.
    pub fn fail_stream(&self, stream_id: impl Into<String>, status: u16, n: usize) {
        self.lock().fail_streams.insert(stream_id.into(), (status, n));
    }

    /// Takes one of the stream's scripted failures, if any.
    pub(crate) fn take_stream_failure(&self, stream_id: &str) -> Option<u16> {
        let mut s = self.lock();
        let (status, left) = s.fail_streams.get_mut(stream_id)?;
        if *left == 0 {
            return None;
        }
        if *left != usize::MAX {
            *left -= 1;
        }
        Some(*status)
    }

    /// The request with this 0-based index (as in [`RequestLog::index`](crate::RequestLog::index))
    /// is answered with `status`. Takes precedence over every other fault except a delay.
    pub fn fail_request(&self, index: usize, status: u16) {
        self.lock().fail_requests.insert(index, status);
    }

    /// Each request fails with `status` with probability `p` (clamped to 0..=1),
    /// drawn from a xorshift generator seeded with `seed`: the same seed gives the
    /// same pattern of failures over the same sequence of requests. `p <= 0` turns
    /// it off.
    pub fn fail_fraction(&self, p: f64, status: u16, seed: u64) {
        self.fail_fraction_mix(p, &[Failure::Status(status)], seed);
    }

    /// As [`fail_fraction`](Self::fail_fraction), each hit answered with one of
    /// `answers` picked by the same generator (uniformly); a hit answered with
    /// [`Failure::Drop`] is logged with the fault `"fail_fraction_drop"`. An
    /// empty `answers`, like `p <= 0`, turns it off.
    pub fn fail_fraction_mix(&self, p: f64, answers: &[Failure], seed: u64) {
        let mut s = self.lock();
        s.fraction = if p > 0.0 && !answers.is_empty() {
            Some(Fraction {
                p: p.min(1.0),
                answers: answers.to_vec(),
                rng: XorShift::new(seed),
            })
        } else {
            None
        };
    }

    /// Limits the rate of reporting requests (token requests are not limited
    /// and not counted): a request arriving when `limit.max()` requests were
    /// already let through within the last window is answered 429
    /// `SVCSTG.ALS.429.101` (fault `"rate_limit"`), with `Retry-After` when the
    /// limit sets one. Refused requests do not count. `None` removes the limit.
    pub fn rate_limit(&self, limit: Option<RateLimit>) {
        self.lock().rate = limit.map(|limit| Limiter {
            limit,
            passed: VecDeque::new(),
        });
    }

    /// The next `n` requests are answered after `d` (their events, if accepted,
    /// are recorded before the wait: a client that times out and retries produces
    /// a duplicate, as with the real service). Other connections are not stalled.
    /// Shutting the mock down ends the wait.
    pub fn delay_next(&self, n: usize, d: Duration) {
        let mut s = self.lock();
        s.delay_next = n;
        s.delay = d;
    }

    /// Every request from now on is answered after `d` (`Duration::ZERO`: no
    /// delay), as a service one round trip of `d` away would be, except those
    /// that [`delay_next`](Self::delay_next) delays instead. Requests on
    /// different connections wait at the same time, each on its own thread:
    /// the delay adds to each answer's latency, it does not serialize them.
    pub fn delay_all(&self, d: Duration) {
        self.lock().delay_all = d;
    }

    /// The next `n` requests are read in full, then their connection is closed
    /// with no answer at all (the client reads EOF, no status line). Nothing is
    /// recorded from them; [`RequestLog::status`](crate::RequestLog::status) is 0.
    pub fn drop_next(&self, n: usize) {
        self.lock().drop_next = n;
    }

    /// The next `n` requests are read in full and never answered: the connection
    /// stays open until the mock shuts down, which then closes it with no answer.
    /// Nothing is recorded from them; [`RequestLog::status`](crate::RequestLog::status) is 0.
    pub fn hang_next(&self, n: usize) {
        self.lock().hang_next = n;
    }

    /// After `n` more accepted requests (answered 200), the current token expires:
    /// every request is then answered 401 `SVCSTG.ALS.403.105` until
    /// [`set_token`](Faults::set_token) (or [`clear`](Faults::clear)) is called.
    /// `n == 0` expires it now.
    pub fn expire_token_after(&self, n: usize) {
        let mut s = self.lock();
        if n == 0 {
            s.token_expired = true;
            s.expire_after = None;
        } else {
            s.expire_after = Some(n);
        }
    }

    /// Accept this static token from now on (and no other static token); ends
    /// an expiry. Tokens issued by the mock's IAM are not affected.
    pub fn set_token(&self, token: impl Into<String>) {
        let mut s = self.lock();
        s.token = token.into();
        s.token_expired = false;
        s.expire_after = None;
    }

    /// Removes every injected fault, pending expiry and expired state (the current
    /// token is accepted again). Requests already hanging stay hung until shutdown.
    pub fn clear(&self) {
        let mut s = self.lock();
        s.fail_next = 0;
        s.fail_iam_next = 0;
        s.fail_requests.clear();
        s.fraction = None;
        s.delay_next = 0;
        s.delay_all = Duration::ZERO;
        s.rate = None;
        s.drop_next = 0;
        s.hang_next = 0;
        s.token_expired = false;
        s.expire_after = None;
        s.fail_streams.clear();
    }

    /// The faults set now, for the console (no token, no seed state).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let s = self.lock();
        serde_json::json!({
            "fail_next": s.fail_next,
            "fail_next_status": s.fail_next_status,
            "fail_fraction": s.fraction.as_ref().map(|f| f.p),
            "fail_fraction_status": s.fraction.as_ref().map(|f| match f.answers.as_slice() {
                [Failure::Status(status)] => serde_json::json!(status),
                answers => serde_json::json!(answers
                    .iter()
                    .map(|a| match a {
                        Failure::Status(status) => status.to_string(),
                        Failure::Drop => "drop".to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("/")),
            }),
            "delay_next": s.delay_next,
            "delay_ms": s.delay.as_millis() as u64,
            "delay_all_ms": s.delay_all.as_millis() as u64,
            "rate_limit": s.rate.as_ref().map(|r| r.limit.max),
            "rate_limit_window_ms": s.rate.as_ref().map(|r| r.limit.window.as_millis() as u64),
            "drop_next": s.drop_next,
            "hang_next": s.hang_next,
            "fail_requests": s.fail_requests.len(),
            "token_expired": s.token_expired,
        })
    }

    /// The static token currently accepted.
    pub(crate) fn token(&self) -> String {
        self.lock().token.clone()
    }

    /// Takes the fault decision for the request with this index (`iam`: a token
    /// request). Called once per request, in index order, by the dispatcher.
    pub(crate) fn decide(&self, index: usize, iam: bool) -> Decision {
        self.decide_at(index, iam, Instant::now())
    }

    /// [`decide`](Self::decide) for a request arriving at `now`.
    fn decide_at(&self, index: usize, iam: bool, now: Instant) -> Decision {
        let mut s = self.lock();
        let delay = if s.delay_next > 0 {
            s.delay_next -= 1;
            Some(s.delay)
        } else if !s.delay_all.is_zero() {
            Some(s.delay_all)
        } else {
            None
        };
        // Draw for every request while a fraction is set, so the pattern depends
        // only on the seed and the index, not on which other faults fired.
        let fraction_hit = match s.fraction.as_mut() {
            Some(f) => {
                let u = f.rng.next_f64();
                let pick = match f.answers.len() {
                    1 => 0,
                    n => (f.rng.next_u64() % n as u64) as usize,
                };
                (u < f.p).then_some(f.answers[pick])
            }
            None => None,
        };
        let action = if let Some(status) = s.fail_requests.remove(&index) {
            Action::Fail {
                status,
                fault: "fail_request",
                retry_after: None,
            }
        } else if !iam && s.rate.as_mut().is_some_and(|l| !l.admit(now)) {
            Action::Fail {
                status: 429,
                fault: "rate_limit",
                retry_after: s.rate.as_ref().and_then(|l| l.limit.retry_after),
            }
        } else if iam && s.fail_iam_next > 0 {
            s.fail_iam_next -= 1;
            Action::Fail {
                status: s.fail_iam_status,
                fault: "fail_iam_next",
                retry_after: None,
            }
        } else if s.drop_next > 0 {
            s.drop_next -= 1;
            Action::Drop { fault: "drop" }
        } else if s.hang_next > 0 {
            s.hang_next -= 1;
            Action::Hang
        } else if s.fail_next > 0 {
            s.fail_next -= 1;
            Action::Fail {
                status: s.fail_next_status,
                fault: "fail_next",
                retry_after: None,
            }
        } else if let Some(answer) = fraction_hit {
            match answer {
                Failure::Status(status) => Action::Fail {
                    status,
                    fault: "fail_fraction",
                    retry_after: None,
                },
                Failure::Drop => Action::Drop {
                    fault: "fail_fraction_drop",
                },
            }
        } else {
            Action::None
        };
        Decision { delay, action }
    }

    /// Checks a presented token without consuming anything.
    pub(crate) fn check_token(&self, presented: Option<&str>) -> Auth {
        let s = self.lock();
        Self::auth_of(&s, presented)
    }

    fn auth_of(s: &State, presented: Option<&str>) -> Auth {
        match presented {
            None => Auth::Missing,
            Some(t) if t != s.token => Auth::Wrong,
            Some(_) if s.token_expired => Auth::Expired,
            Some(_) => Auth::Ok,
        }
    }

    /// Re-checks the token and, if it is still good, counts one accepted request
    /// towards a pending expiry. Atomic, so no request is accepted after expiry.
    pub(crate) fn accept(&self, presented: Option<&str>) -> Auth {
        let mut s = self.lock();
        let auth = Self::auth_of(&s, presented);
        if auth == Auth::Ok {
            if let Some(left) = s.expire_after {
                let left = left.saturating_sub(1);
                if left == 0 {
                    s.token_expired = true;
                    s.expire_after = None;
                } else {
                    s.expire_after = Some(left);
                }
            }
        }
        auth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_is_deterministic_and_in_range() {
        let mut a = XorShift::new(7);
        let mut b = XorShift::new(7);
        for _ in 0..1000 {
            let x = a.next_f64();
            assert_eq!(x, b.next_f64());
            assert!((0.0..1.0).contains(&x));
        }
        let mut z = XorShift::new(0);
        assert_ne!(z.next_u64(), 0);
    }

    #[test]
    fn fail_iam_next_is_for_token_requests_only() {
        let f = Faults::new("t".into());
        f.fail_iam_next(1, 503);
        f.fail_next(1, 500);
        f.fail_request(3, 429);
        // A reporting request skips it and takes the general fail_next.
        assert_eq!(
            f.decide(0, false).action,
            Action::Fail {
                status: 500,
                fault: "fail_next",
                retry_after: None
            }
        );
        assert_eq!(f.decide(1, false).action, Action::None);
        assert_eq!(
            f.decide(2, true).action,
            Action::Fail {
                status: 503,
                fault: "fail_iam_next",
                retry_after: None
            }
        );
        // fail_request wins over fail_iam_next; the count is left for later.
        f.fail_iam_next(1, 502);
        assert_eq!(
            f.decide(3, true).action,
            Action::Fail {
                status: 429,
                fault: "fail_request",
                retry_after: None
            }
        );
        assert_eq!(
            f.decide(4, true).action,
            Action::Fail {
                status: 502,
                fault: "fail_iam_next",
                retry_after: None
            }
        );
        f.fail_iam_next(5, 503);
        f.clear();
        assert_eq!(f.decide(5, true).action, Action::None);
    }

    #[test]
    fn priorities() {
        let f = Faults::new("t".into());
        f.fail_next(1, 503);
        f.drop_next(1);
        f.fail_request(5, 429);
        f.delay_next(1, Duration::from_millis(3));
        assert_eq!(
            f.decide(0, false),
            Decision {
                delay: Some(Duration::from_millis(3)),
                action: Action::Drop { fault: "drop" }
            }
        );
        assert_eq!(
            f.decide(1, false).action,
            Action::Fail {
                status: 503,
                fault: "fail_next",
                retry_after: None
            }
        );
        assert_eq!(f.decide(2, false).action, Action::None);
        assert_eq!(
            f.decide(5, false),
            Decision {
                delay: None,
                action: Action::Fail {
                    status: 429,
                    fault: "fail_request",
                    retry_after: None
                }
            }
        );
    }

    fn rate_limited(d: &Decision) -> bool {
        matches!(
            d.action,
            Action::Fail {
                fault: "rate_limit",
                ..
            }
        )
    }

    #[test]
    fn rate_limit_lets_n_through_in_any_second() {
        let f = Faults::new("t".into());
        f.rate_limit(Some(RateLimit::per_second(3)));
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let at = |i: usize, t: Instant| rate_limited(&f.decide_at(i, false, t));
        // Three through at 0, 100, 200 ms; the fourth and fifth refused.
        assert_eq!(
            [
                at(0, ms(0)),
                at(1, ms(100)),
                at(2, ms(200)),
                at(3, ms(300)),
                at(4, ms(999))
            ],
            [false, false, false, true, true]
        );
        // At 1,000 ms the first slot is free again (refusals took none), one only.
        assert_eq!([at(5, ms(1000)), at(6, ms(1000))], [false, true]);
        // A sliding window: at 1,150 ms the one from 100 ms has left.
        assert_eq!([at(7, ms(1150)), at(8, ms(1199))], [false, true]);
        // Token requests are neither limited (the window is full) nor counted
        // (at 1,200 ms one slot frees, and a reporting request still gets it).
        assert!(!rate_limited(&f.decide_at(9, true, ms(1199))));
        assert!(!rate_limited(&f.decide_at(9, true, ms(1200))));
        assert_eq!([at(9, ms(1200)), at(9, ms(1200))], [false, true]);
        // A refusal carries the configured Retry-After, and clear() ends it.
        f.rate_limit(Some(RateLimit::per_second(0).retry_after(Duration::from_secs(2))));
        assert_eq!(
            f.decide_at(10, false, ms(2000)).action,
            Action::Fail {
                status: 429,
                fault: "rate_limit",
                retry_after: Some(Duration::from_secs(2))
            }
        );
        f.clear();
        assert_eq!(f.decide_at(11, false, ms(2000)).action, Action::None);
    }

    #[test]
    fn fail_request_wins_over_the_rate_limit_and_takes_no_slot() {
        let f = Faults::new("t".into());
        f.rate_limit(Some(RateLimit::per_second(1)));
        f.fail_request(0, 503);
        let now = Instant::now();
        assert!(matches!(
            f.decide_at(0, false, now).action,
            Action::Fail {
                fault: "fail_request",
                ..
            }
        ));
        assert_eq!(f.decide_at(1, false, now).action, Action::None);
        assert!(rate_limited(&f.decide_at(2, false, now)));
    }

    #[test]
    fn delay_all_applies_to_every_request_after_delay_next() {
        let f = Faults::new("t".into());
        f.delay_all(Duration::from_millis(50));
        f.delay_next(1, Duration::from_millis(7));
        let delays: Vec<_> = (0..3).map(|i| f.decide(i, i == 2).delay).collect();
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(delays, [ms(7), ms(50), ms(50)]);
        f.delay_all(Duration::ZERO);
        assert_eq!(f.decide(3, false).delay, None);
    }
}
