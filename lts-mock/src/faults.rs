//! Injected faults and the token the mock accepts.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

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
/// 1. A delay from [`delay_next`](Faults::delay_next) is taken first and combines
///    with whatever answer follows (the answer, or the drop, comes after the delay).
/// 2. Then the first matching one of: [`fail_request`](Faults::fail_request) for
///    this index, [`fail_iam_next`](Faults::fail_iam_next) (token requests only),
///    [`drop_next`](Faults::drop_next), [`hang_next`](Faults::hang_next),
///    [`fail_next`](Faults::fail_next), [`fail_fraction`](Faults::fail_fraction).
///    Only the fault that answers a request consumes one of its count, except
///    `fail_fraction`, whose generator draws one number for every request while it
///    is set, so its pattern depends only on the seed and the request index.
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
    drop_next: usize,
    hang_next: usize,
    token: String,
    token_expired: bool,
    expire_after: Option<usize>,
}

struct Fraction {
    p: f64,
    status: u16,
    rng: XorShift,
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
    Fail { status: u16, fault: &'static str },
    Drop,
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
                drop_next: 0,
                hang_next: 0,
                token,
                token_expired: false,
                expire_after: None,
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
        let mut s = self.lock();
        s.fraction = if p > 0.0 {
            Some(Fraction {
                p: p.min(1.0),
                status,
                rng: XorShift::new(seed),
            })
        } else {
            None
        };
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
        s.drop_next = 0;
        s.hang_next = 0;
        s.token_expired = false;
        s.expire_after = None;
    }

    /// The faults set now, for the console (no token, no seed state).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let s = self.lock();
        serde_json::json!({
            "fail_next": s.fail_next,
            "fail_next_status": s.fail_next_status,
            "fail_fraction": s.fraction.as_ref().map(|f| f.p),
            "fail_fraction_status": s.fraction.as_ref().map(|f| f.status),
            "delay_next": s.delay_next,
            "delay_ms": s.delay.as_millis() as u64,
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
        let mut s = self.lock();
        let delay = if s.delay_next > 0 {
            s.delay_next -= 1;
            Some(s.delay)
        } else {
            None
        };
        // Draw for every request while a fraction is set, so the pattern depends
        // only on the seed and the index, not on which other faults fired.
        let fraction_hit = match s.fraction.as_mut() {
            Some(f) => {
                let u = f.rng.next_f64();
                (u < f.p).then_some(f.status)
            }
            None => None,
        };
        let action = if let Some(status) = s.fail_requests.remove(&index) {
            Action::Fail {
                status,
                fault: "fail_request",
            }
        } else if iam && s.fail_iam_next > 0 {
            s.fail_iam_next -= 1;
            Action::Fail {
                status: s.fail_iam_status,
                fault: "fail_iam_next",
            }
        } else if s.drop_next > 0 {
            s.drop_next -= 1;
            Action::Drop
        } else if s.hang_next > 0 {
            s.hang_next -= 1;
            Action::Hang
        } else if s.fail_next > 0 {
            s.fail_next -= 1;
            Action::Fail {
                status: s.fail_next_status,
                fault: "fail_next",
            }
        } else if let Some(status) = fraction_hit {
            Action::Fail {
                status,
                fault: "fail_fraction",
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
                fault: "fail_next"
            }
        );
        assert_eq!(f.decide(1, false).action, Action::None);
        assert_eq!(
            f.decide(2, true).action,
            Action::Fail {
                status: 503,
                fault: "fail_iam_next"
            }
        );
        // fail_request wins over fail_iam_next; the count is left for later.
        f.fail_iam_next(1, 502);
        assert_eq!(
            f.decide(3, true).action,
            Action::Fail {
                status: 429,
                fault: "fail_request"
            }
        );
        assert_eq!(
            f.decide(4, true).action,
            Action::Fail {
                status: 502,
                fault: "fail_iam_next"
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
                action: Action::Drop
            }
        );
        assert_eq!(
            f.decide(1, false).action,
            Action::Fail {
                status: 503,
                fault: "fail_next"
            }
        );
        assert_eq!(f.decide(2, false).action, Action::None);
        assert_eq!(
            f.decide(5, false),
            Decision {
                delay: None,
                action: Action::Fail {
                    status: 429,
                    fault: "fail_request"
                }
            }
        );
    }
}
