//! How many requests may be out at once: additive increase, multiplicative
//! decrease (AIMD) on the service's signals, as Vector's adaptive request
//! concurrency and Netflix's concurrency-limits do.
//!
//! Time runs in windows about one round trip long. At the end of a window
//! the limit
//! - comes down by a tenth (at least 1, never below 1) when the window saw
//!   back-pressure (429, 503, a timeout) or a mean round trip above
//!   [`RTT_RISE`] times the recent mean;
//! - goes up (never above the configured most) when the window was clean
//!   and the limit was reached in it (there was demand for more): doubled
//!   until the first sign of trouble (slow start, as TCP's, so a long round
//!   trip does not take dozens of windows to fill), by 1 after that;
//! - stays otherwise. After a decrease the next [`HOLD_WINDOWS`] windows
//!   do not increase, so a service throttling at a fixed rate sees the
//!   limit settle just under it rather than saw across it.
//!
//! A concurrency limit cannot slow a client whose round trips are short
//! (a throttled answer comes back in a millisecond), so a service that
//! refuses with 429 (too many requests) a good part of what it is sent (a
//! fifth or more over the last second) while it accepts the rest also sets
//! a pace: requests per second, 90% of the rate it accepted over the last
//! second, raised by 10% a second while it stops refusing. Sporadic 429s
//! among successes, or 429s with nothing accepted, say nothing of a rate
//! (the batches' own backoff handles them). Without 429s there is no pace.
//!
//! With [`Concurrency::Fixed`] the limit is always the most, and there is no
//! pace. Time is a parameter; nothing here reads a clock.

use std::collections::VecDeque;

use std::time::{Duration, Instant};

use crate::config::Concurrency;

/// A window's mean round trip this many times the recent mean is "rising
/// latency".
pub(crate) const RTT_RISE: f64 = 2.0;
/// Clean windows after a decrease before the limit may rise again.
pub(crate) const HOLD_WINDOWS: u32 = 3;
/// The adaptive limit's start.
const START: usize = 2;
/// The shortest window (loopback round trips are far shorter).
const MIN_WINDOW: Duration = Duration::from_millis(20);
/// Weight of a window in the recent mean round trip.
const EWMA_WEIGHT: f64 = 0.3;
/// The pace after throttling: this share of the rate accepted.
const PACE_CUT: f64 = 0.9;
/// The pace's rise per second without throttling.
const PACE_RISE: f64 = 1.1;
/// Fewer accepted requests than this in the last second: no rate to pace by.
const PACE_MIN_EVIDENCE: usize = 2;
/// A pace is set when at least one in this many answers of the last second
/// were 429s.
const PACE_REFUSED_SHARE: usize = 5;
/// How often the pace may change.
const PACE_PERIOD: Duration = Duration::from_secs(1);

/// What an answer says to the limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Taken (delivered, or refused for its content).
    Accepted,
    /// 429: the service asks for fewer requests.
    Throttled,
    /// 503: the service is overloaded (or down).
    Overloaded,
    /// No answer in time.
    TimedOut,
    /// Failed otherwise (a 500, a dropped connection): says nothing of load.
    Failed,
}

/// The concurrency limit and what it is decided on.
#[derive(Debug)]
pub(crate) struct Limiter {
    mode: Concurrency,
    most: usize,
    limit: usize,
    /// The recent mean round trip (exponentially weighted), if any yet.
    recent_rtt: Option<Duration>,
    window: Window,
    hold: u32,
    /// No back-pressure or rising round trip seen yet: the limit doubles.
    slow_start: bool,
    pace: Pace,
}

/// Requests per second, once the service throttled.
#[derive(Debug)]
struct Pace {
    per_second: Option<f64>,
    /// The last change, up or down: the pace rises once a calm second.
    changed: Instant,
    /// The last cut: a second one waits for the throttled answers to what
    /// was sent before it to come back.
    cut: Option<Instant>,
    next_send: Instant,
    /// When requests were accepted, over the last [`PACE_PERIOD`].
    accepted: VecDeque<Instant>,
    /// When requests were refused with 429, over the last [`PACE_PERIOD`].
    refused: VecDeque<Instant>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    rtt_sum: Duration,
    answers: u32,
    backpressure: bool,
    limit_reached: bool,
}

impl Window {
    fn new(started: Instant) -> Window {
        Window {
            started,
            rtt_sum: Duration::ZERO,
            answers: 0,
            backpressure: false,
            limit_reached: false,
        }
    }
}

impl Limiter {
    pub(crate) fn new(mode: Concurrency, most: usize, now: Instant) -> Limiter {
        let most = most.max(1);
        Limiter {
            mode,
            most,
            limit: match mode {
                Concurrency::Fixed => most,
                _ => START.min(most),
            },
            recent_rtt: None,
            window: Window::new(now),
            hold: 0,
            slow_start: true,
            pace: Pace {
                per_second: None,
                changed: now,
                cut: None,
                next_send: now,
                accepted: VecDeque::new(),
                refused: VecDeque::new(),
            },
        }
    }

    /// Requests that may be out now.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The requests per second allowed, once the service throttled.
    pub(crate) fn pace(&self) -> Option<f64> {
        self.pace.per_second
    }

    /// When the next request may go out (now, without a pace).
    pub(crate) fn next_send(&self) -> Instant {
        self.pace.next_send
    }

    /// A request went out at `now`, making `in_flight` out.
    pub(crate) fn on_send(&mut self, now: Instant, in_flight: usize) {
        if in_flight >= self.limit {
            self.window.limit_reached = true;
        }
        if let Some(r) = self.pace.per_second {
            let from = self.pace.next_send.max(now);
            self.pace.next_send = from + Duration::from_secs_f64(1.0 / r);
        }
    }

    /// An answer came after `rtt`.
    pub(crate) fn on_answer(&mut self, now: Instant, rtt: Duration, signal: Signal) {
        if self.mode == Concurrency::Fixed {
            return;
        }
        self.pace_answer(now, signal);
        let backpressure = matches!(signal, Signal::Throttled | Signal::Overloaded | Signal::TimedOut);
        let w = &mut self.window;
        w.rtt_sum += rtt;
        w.answers += 1;
        w.backpressure |= backpressure;
        let length = self.recent_rtt.unwrap_or(rtt).max(MIN_WINDOW);
        if now.duration_since(w.started) >= length {
            self.end_window(now);
        }
    }

    fn pace_answer(&mut self, now: Instant, signal: Signal) {
        let p = &mut self.pace;
        for q in [&mut p.accepted, &mut p.refused] {
            while q.front().is_some_and(|&t| now.duration_since(t) > PACE_PERIOD) {
                q.pop_front();
            }
        }
        if signal == Signal::Throttled {
            p.refused.push_back(now);
        }
        let answers = p.accepted.len() + p.refused.len();
        match signal {
            Signal::Accepted => {
                p.accepted.push_back(now);
                let calm = now.duration_since(p.changed) >= PACE_PERIOD;
                if let (Some(r), true) = (p.per_second, calm) {
                    p.per_second = Some((r * PACE_RISE).max(r + 1.0));
                    p.changed = now;
                }
            }
            Signal::Throttled
                if p.accepted.len() >= PACE_MIN_EVIDENCE
                    && p.refused.len() * PACE_REFUSED_SHARE >= answers
                    && p.cut.is_none_or(|c| now.duration_since(c) >= PACE_PERIOD) =>
            {
                // What the service took over the last second.
                let accepted = p.accepted.len() as f64 / PACE_PERIOD.as_secs_f64();
                p.per_second = Some((accepted * PACE_CUT).max(1.0));
                p.changed = now;
                p.cut = Some(now);
            }
            _ => {}
        }
    }

    fn end_window(&mut self, now: Instant) {
        let w = std::mem::replace(&mut self.window, Window::new(now));
        let mean = w.rtt_sum / w.answers.max(1);
        let rising = self
            .recent_rtt
            .is_some_and(|recent| mean.as_secs_f64() > recent.as_secs_f64() * RTT_RISE);
        if w.backpressure || rising {
            let cut = (self.limit / 10).max(1);
            self.limit = self.limit.saturating_sub(cut).max(1);
            self.hold = HOLD_WINDOWS;
            self.slow_start = false;
        } else if self.hold > 0 {
            self.hold -= 1;
        } else if w.limit_reached {
            let step = if self.slow_start { self.limit } else { 1 };
            self.limit = (self.limit + step).min(self.most);
        }
        if !w.backpressure {
            // Throttled answers come fast and say nothing of the path.
            self.recent_rtt = Some(match self.recent_rtt {
                None => mean,
                Some(r) => r.mul_f64(1.0 - EWMA_WEIGHT) + mean.mul_f64(EWMA_WEIGHT),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Runs `windows` windows of 50 ms round trips, the limit reached in
    /// each, `backpressure` deciding each window's answers.
    fn run(l: &mut Limiter, t: &mut Instant, windows: u32, backpressure: impl Fn(usize) -> bool) -> Vec<usize> {
        let mut seen = Vec::new();
        for _ in 0..windows {
            let limit = l.limit();
            l.on_send(*t, limit);
            *t += ms(50);
            let bp = backpressure(limit);
            let signal = if bp { Signal::Throttled } else { Signal::Accepted };
            l.on_answer(*t, ms(50), signal);
            seen.push(l.limit());
        }
        seen
    }

    #[test]
    fn the_limit_doubles_per_clean_window_until_trouble_then_rises_by_one() {
        let mut t = Instant::now();
        let mut l = Limiter::new(Concurrency::Adaptive, 40, t);
        assert_eq!(l.limit(), 2);
        assert_eq!(run(&mut l, &mut t, 4, |_| false), vec![4, 8, 16, 32]);
        // Trouble once: a tenth less, a hold, then one at a time.
        assert_eq!(run(&mut l, &mut t, 1, |_| true), vec![29]);
        assert_eq!(run(&mut l, &mut t, 6, |_| false), vec![29, 29, 29, 30, 31, 32]);
        // Never above the most.
        let mut l = Limiter::new(Concurrency::Adaptive, 6, t);
        assert_eq!(run(&mut l, &mut t, 3, |_| false), vec![4, 6, 6]);
    }

    #[test]
    fn the_limit_stays_when_it_was_not_reached() {
        let mut t = Instant::now();
        let mut l = Limiter::new(Concurrency::Adaptive, 16, t);
        for _ in 0..5 {
            l.on_send(t, 1); // one request out of a limit of two: no demand for more
            t += ms(50);
            l.on_answer(t, ms(50), Signal::Accepted);
        }
        assert_eq!(l.limit(), 2);
    }

    #[test]
    fn backpressure_cuts_a_tenth_and_holds_before_rising_again() {
        let mut t = Instant::now();
        let mut l = Limiter::new(Concurrency::Adaptive, 64, t);
        run(&mut l, &mut t, 4, |_| false);
        assert_eq!(l.limit(), 32);
        assert_eq!(run(&mut l, &mut t, 1, |_| true), vec![29]);
        assert_eq!(run(&mut l, &mut t, 5, |_| false), vec![29, 29, 29, 30, 31]);
        // At the bottom it stays at one.
        let mut l = Limiter::new(Concurrency::Adaptive, 64, t);
        assert_eq!(run(&mut l, &mut t, 3, |_| true), vec![1, 1, 1]);
    }

    #[test]
    fn rising_round_trips_cut_the_limit() {
        let mut t = Instant::now();
        let mut l = Limiter::new(Concurrency::Adaptive, 64, t);
        run(&mut l, &mut t, 3, |_| false);
        assert_eq!(l.limit(), 16);
        l.on_send(t, 16);
        t += ms(150);
        l.on_answer(t, ms(150), Signal::Accepted); // three times the recent 50 ms
        assert_eq!(l.limit(), 15);
    }

    #[test]
    fn a_service_throttling_above_a_rate_makes_the_limit_settle_at_it() {
        // The service takes 10 requests per 50 ms round trip and answers
        // 429 to the rest: the limit must settle near 10, and once settled
        // at most a tenth of the requests may be refused.
        let mut t = Instant::now();
        let mut l = Limiter::new(Concurrency::Adaptive, 64, t);
        let mut limits = vec![l.limit()];
        limits.extend(run(&mut l, &mut t, 200, |limit| limit > 10));
        // Each window sends the limit in force at its start.
        let settled = &limits[50..200];
        assert!(settled.iter().all(|&n| (9..=11).contains(&n)), "{settled:?}");
        let sent: usize = settled.iter().sum();
        let refused: usize = settled.iter().map(|&n| n.saturating_sub(10)).sum();
        assert!(refused * 10 <= sent, "{refused} of {sent} requests refused");
    }

    #[test]
    fn a_service_throttling_short_round_trips_sets_a_pace_just_under_its_rate() {
        // 2 ms round trips and a service taking 20 requests in any second:
        // only a pace can keep the client under it. Simulated for 60 s in
        // steps of 1 ms, one request out at a time, always something to send.
        let t0 = Instant::now();
        let mut l = Limiter::new(Concurrency::Adaptive, 16, t0);
        let mut taken: VecDeque<Instant> = VecDeque::new();
        let (mut sent, mut refused) = (0u32, 0u32);
        let mut out: Option<Instant> = None;
        for step in 0..60_000u64 {
            let now = t0 + ms(step);
            if let Some(at) = out {
                if now >= at + ms(2) {
                    while taken
                        .front()
                        .is_some_and(|&t| now.duration_since(t) >= Duration::from_secs(1))
                    {
                        taken.pop_front();
                    }
                    let ok = taken.len() < 20;
                    if ok {
                        taken.push_back(now);
                    }
                    if step >= 20_000 {
                        sent += 1;
                        refused += u32::from(!ok);
                    }
                    let signal = if ok { Signal::Accepted } else { Signal::Throttled };
                    l.on_answer(now, ms(2), signal);
                    out = None;
                }
            }
            if out.is_none() && now >= l.next_send() {
                l.on_send(now, 1);
                out = Some(now);
            }
        }
        // Settled: about 20 a second go out, and at most a tenth are refused.
        assert!((15 * 40..=21 * 40).contains(&sent), "{sent} requests in 40 s");
        assert!(refused * 10 <= sent, "{refused} of {sent} refused");
        let pace = l.pace().unwrap();
        assert!((15.0..=22.0).contains(&pace), "{pace}");
    }

    #[test]
    fn sporadic_429s_a_429_with_nothing_accepted_and_503s_set_no_pace() {
        let t0 = Instant::now();
        let mut l = Limiter::new(Concurrency::Adaptive, 16, t0);
        l.on_answer(t0 + ms(1), ms(1), Signal::Throttled);
        assert_eq!(l.pace(), None, "no rate to pace by yet");
        // One 429 among twenty answers: a fault, not a rate.
        for i in 2..20 {
            l.on_answer(t0 + ms(i), ms(1), Signal::Accepted);
        }
        l.on_answer(t0 + ms(20), ms(1), Signal::Throttled);
        assert_eq!(l.pace(), None, "sporadic");
        for i in 21..30 {
            l.on_answer(t0 + ms(i), ms(1), Signal::Overloaded);
        }
        assert_eq!(l.pace(), None, "503 is not a rate");
        // Refusals pile up: 18 accepted in the last second, then a fifth refused.
        for i in 30..33 {
            l.on_answer(t0 + ms(i), ms(1), Signal::Throttled);
        }
        assert_eq!(l.pace(), Some(18.0 * 0.9));
    }

    #[test]
    fn a_fixed_limit_never_moves() {
        let mut t = Instant::now();
        let mut l = Limiter::new(Concurrency::Fixed, 8, t);
        assert_eq!(run(&mut l, &mut t, 5, |_| true), vec![8; 5]);
    }
}
