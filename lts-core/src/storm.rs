//! Storm control: a per-call-site rate limit ([`RateLimit`], `LTS_RATE_LIMIT`),
//! checked on the caller's thread before a record is built.
//!
//! Each call site (a `tracing` callsite, or a `log` macro's file and line)
//! gets a token bucket that holds `count` tokens and refills `count` per
//! `per`: a burst of up to `count` records passes, then one every
//! `per / count`. The bucket is the generic cell rate algorithm: one atomic
//! "theoretical arrival time" per call site, advanced by a compare-and-swap,
//! so the check takes no lock and allocates nothing.
//!
//! The bucket runs on the records' capture times (no second clock read).
//! With [`ClockMode::Wall`](crate::ClockMode::Wall), a backwards step of the
//! wall clock holds a call site back by the length of the step at most; the
//! default strictly increasing clock never steps back.
//!
//! Call sites live in a fixed table of 4096 slots, found by a hash of the
//! call site's identity and linear probing over 16 slots. A call site that
//! finds no free slot there (more than 4096 call sites logging, or an
//! unlucky cluster) is not
//! limited: its records pass and are counted in
//! [`Stats::rate_limit_untracked`](crate::Stats::rate_limit_untracked).
//!
//! Refused records are counted per call site and reported in-band: at most
//! once per `per` and call site, one `WARN` record with target `lts` names
//! the call site (`site_target`, `site_file`, `site_line`) and the number
//! refused since the last report (`suppressed`). A report falls due with the
//! next record from any call site once the interval has passed, and every
//! outstanding count is reported at [`Shipper::flush`](crate::Shipper::flush)
//! and at shutdown. The counts add up: the sum of `suppressed` over all
//! reports equals [`Stats::suppressed`](crate::Stats::suppressed), the
//! number of records refused.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::Error;
use crate::record::{Level, Record};
use crate::value::{Field, Str};

/// Call sites the rate limit keeps state for.
pub(crate) const TABLE_SLOTS: usize = 4096;
/// Slots probed for a call site before it is let through untracked.
pub(crate) const PROBE_SLOTS: usize = 16;

/// The environment variable of the rate limit (unset: no limit).
pub(crate) const RATE_LIMIT_VAR: &str = "LTS_RATE_LIMIT";

/// The target of the in-band reports of suppressed records.
pub const REPORT_TARGET: &str = "lts";

/// At most `count` records per `per` from one call site, in bursts of up to
/// `count`. Parsed from `N/s`, `N/m` or `N/h` (`LTS_RATE_LIMIT=200/s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    count: u32,
    per: Duration,
}

impl RateLimit {
    /// `count` records per `per`. `None` if `count` is 0 or `per` is zero
    /// or longer than a day.
    pub fn new(count: u32, per: Duration) -> Option<RateLimit> {
        (count > 0 && !per.is_zero() && per <= Duration::from_secs(86_400)).then_some(RateLimit { count, per })
    }

    /// `count` records per second (`None` if `count` is 0).
    pub fn per_second(count: u32) -> Option<RateLimit> {
        RateLimit::new(count, Duration::from_secs(1))
    }

    /// `count` records per minute (`None` if `count` is 0).
    pub fn per_minute(count: u32) -> Option<RateLimit> {
        RateLimit::new(count, Duration::from_secs(60))
    }

    /// The records allowed per interval, and the burst size.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The interval, which is also how often a call site's suppressed
    /// records are reported at most.
    pub fn per(&self) -> Duration {
        self.per
    }

    fn per_ns(&self) -> u64 {
        u64::try_from(self.per.as_nanos()).unwrap_or(u64::MAX)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.per.as_secs() {
            1 if self.per.subsec_nanos() == 0 => write!(f, "{}/s", self.count),
            60 if self.per.subsec_nanos() == 0 => write!(f, "{}/m", self.count),
            3600 if self.per.subsec_nanos() == 0 => write!(f, "{}/h", self.count),
            _ => write!(f, "{}/{:?}", self.count, self.per),
        }
    }
}

/// Why a rate limit could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseRateLimitError(String);

impl fmt::Display for ParseRateLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseRateLimitError {}

impl FromStr for RateLimit {
    type Err = ParseRateLimitError;

    /// `N/s`, `N/m` or `N/h` (also `N/sec`, `N/min`, `N/hour`), N at least 1.
    fn from_str(s: &str) -> Result<RateLimit, ParseRateLimitError> {
        let bad = || {
            ParseRateLimitError(format!(
                "expected N/s, N/m or N/h with N at least 1 (like 200/s), got {s:?}"
            ))
        };
        let (n, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        let secs = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            _ => return Err(bad()),
        };
        RateLimit::new(count, Duration::from_secs(secs)).ok_or_else(bad)
    }
}

/// Parses `LTS_RATE_LIMIT`; the error names the variable.
pub(crate) fn rate_limit_var(var: &str, v: &str) -> Result<RateLimit, Error> {
    v.parse().map_err(|e: ParseRateLimitError| Error::invalid(var, e.0))
}

/// The identity of a call site: equal for every record from it, different
/// (but for a 64-bit hash collision) between call sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallSiteKey(u64);

impl CallSiteKey {
    /// The address of a static that exists once per call site, such as a
    /// `tracing` callsite's `&'static Metadata`.
    #[inline]
    pub fn of_static<T>(site: &'static T) -> CallSiteKey {
        CallSiteKey((std::ptr::from_ref(site) as usize as u64).max(1))
    }

    /// A hash of the source location (for `log` records, which have no
    /// callsite identity): the file and line, or the target when the file
    /// is unknown.
    #[inline]
    pub fn of_location(target: &str, file: Option<&str>, line: Option<u32>) -> CallSiteKey {
        let text = file.unwrap_or(target);
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(line.unwrap_or(0));
        let mut chunks = text.as_bytes().chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h ^ u64::from_le_bytes(w))
                .wrapping_mul(0x0000_0100_0000_01b3)
                .rotate_left(29);
        }
        for &b in chunks.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h = (h ^ (text.len() as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        CallSiteKey(h.max(1))
    }
}

/// Where records came from, as the reports name it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallSite {
    /// The target of the call site's records.
    pub target: Str,
    /// The source file, when known.
    pub file: Option<Str>,
    /// The source line, when known.
    pub line: Option<u32>,
}

impl CallSite {
    /// A call site from its target, file and line.
    pub fn new(target: impl Into<Str>, file: Option<Str>, line: Option<u32>) -> CallSite {
        CallSite {
            target: target.into(),
            file,
            line,
        }
    }
}

/// One call site's suppressed records since the shipper started
/// ([`Shipper::suppressed_call_sites`](crate::Shipper::suppressed_call_sites)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SuppressedCallSite {
    /// The call site.
    pub call_site: CallSite,
    /// Records from it refused by the rate limit.
    pub suppressed: u64,
}

#[derive(Default)]
struct Slot {
    /// The call site's key; 0 while the slot is free.
    key: AtomicU64,
    /// The bucket: the time (ns) at which it is full again.
    tat: AtomicU64,
    /// Refused since the last report.
    pending: AtomicU64,
    /// Refused since the start.
    total: AtomicU64,
    /// When the unreported suppression began (or the last report was made).
    window: AtomicU64,
    /// What the reports say about the call site; set right after the claim.
    site: OnceLock<CallSite>,
}

/// The rate limiter of one shipper.
pub(crate) struct Storm {
    limit: RateLimit,
    /// Nanoseconds between two records at the sustained rate.
    interval_ns: u64,
    /// How far ahead of now the bucket may be and still admit (the burst).
    tolerance_ns: u64,
    per_ns: u64,
    slots: Box<[Slot]>,
    /// Refused since the start (`Stats::suppressed`).
    suppressed: AtomicU64,
    /// Refused and not yet in a report.
    unreported: AtomicU64,
    /// Admitted without a slot (`Stats::rate_limit_untracked`).
    untracked: AtomicU64,
    /// No sweep for due reports before this time.
    next_sweep: AtomicU64,
}

impl Storm {
    pub(crate) fn new(limit: RateLimit) -> Storm {
        let per_ns = limit.per_ns();
        let interval_ns = (per_ns / u64::from(limit.count)).max(1);
        Storm {
            limit,
            interval_ns,
            tolerance_ns: interval_ns * (u64::from(limit.count) - 1),
            per_ns,
            slots: (0..TABLE_SLOTS).map(|_| Slot::default()).collect(),
            suppressed: AtomicU64::new(0),
            unreported: AtomicU64::new(0),
            untracked: AtomicU64::new(0),
            next_sweep: AtomicU64::new(0),
        }
    }

    /// Records refused since the start.
    pub(crate) fn suppressed(&self) -> u64 {
        self.suppressed.load(Ordering::Acquire)
    }

    /// Records admitted without a slot since the start.
    pub(crate) fn untracked(&self) -> u64 {
        self.untracked.load(Ordering::Acquire)
    }

    /// The slot of `key`, claimed if the key is new; `None` if the probed
    /// slots all belong to other call sites.
    #[inline]
    fn slot(&self, key: CallSiteKey, describe: impl FnOnce() -> CallSite) -> Option<&Slot> {
        let start = (key.0.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize;
        for i in 0..PROBE_SLOTS {
            let slot = &self.slots[(start + i) % TABLE_SLOTS];
            let k = slot.key.load(Ordering::Acquire);
            if k == key.0 {
                return Some(slot);
            }
            if k == 0 {
                match slot.key.compare_exchange(0, key.0, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => {
                        let _ = slot.site.set(describe());
                        return Some(slot);
                    }
                    Err(now) if now == key.0 => return Some(slot),
                    Err(_) => {}
                }
            }
        }
        None
    }

    /// Whether a record from the call site `key` at `now_ns` is admitted.
    /// Reports that have fallen due go to `emit`.
    #[inline]
    pub(crate) fn admit(
        &self,
        key: CallSiteKey,
        now_ns: u64,
        describe: impl FnOnce() -> CallSite,
        emit: &dyn Fn(Record) -> bool,
    ) -> bool {
        if self.unreported.load(Ordering::Relaxed) != 0 {
            self.sweep_if_due(now_ns, emit);
        }
        let Some(slot) = self.slot(key, describe) else {
            self.untracked.fetch_add(1, Ordering::Relaxed);
            return true;
        };
        let mut tat = slot.tat.load(Ordering::Relaxed);
        loop {
            let from = tat.max(now_ns);
            if from - now_ns > self.tolerance_ns {
                break;
            }
            match slot
                .tat
                .compare_exchange_weak(tat, from + self.interval_ns, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(seen) => tat = seen,
            }
        }
        self.refuse(slot, now_ns, emit);
        false
    }

    #[cold]
    fn refuse(&self, slot: &Slot, now_ns: u64, emit: &dyn Fn(Record) -> bool) {
        slot.total.fetch_add(1, Ordering::Relaxed);
        self.suppressed.fetch_add(1, Ordering::Release);
        self.unreported.fetch_add(1, Ordering::Release);
        if slot.pending.fetch_add(1, Ordering::AcqRel) == 0 {
            // A new storm: its first report falls due one interval from now.
            slot.window.store(now_ns, Ordering::Release);
            return;
        }
        self.report_if_due(slot, now_ns, emit);
    }

    /// Reports the slot's suppressed count if its interval has passed; the
    /// compare-and-swap on the window makes one thread the reporter.
    fn report_if_due(&self, slot: &Slot, now_ns: u64, emit: &dyn Fn(Record) -> bool) {
        let window = slot.window.load(Ordering::Acquire);
        // 0: the thread that started the call site's first storm has not
        // stamped its window yet (another thread's refusal raced it): not
        // due, or the storm would be reported at once and again later.
        if window == 0 || now_ns.saturating_sub(window) < self.per_ns {
            return;
        }
        if slot
            .window
            .compare_exchange(window, now_ns, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            self.report(slot, now_ns, emit);
        }
    }

    /// Sends the slot's pending count as one report. A report the shipper
    /// refuses puts its count back, to be reported later.
    fn report(&self, slot: &Slot, now_ns: u64, emit: &dyn Fn(Record) -> bool) {
        let Some(site) = slot.site.get() else { return };
        let n = slot.pending.swap(0, Ordering::AcqRel);
        if n == 0 {
            return;
        }
        self.unreported.fetch_sub(n, Ordering::AcqRel);
        if !emit(report_record(self.limit, site, n, now_ns)) {
            slot.pending.fetch_add(n, Ordering::AcqRel);
            self.unreported.fetch_add(n, Ordering::AcqRel);
        }
    }

    /// At most once per interval, looks for call sites whose report is due
    /// (a storm that stopped has no record of its own to carry it).
    #[cold]
    fn sweep_if_due(&self, now_ns: u64, emit: &dyn Fn(Record) -> bool) {
        let next = self.next_sweep.load(Ordering::Acquire);
        if now_ns < next
            || self
                .next_sweep
                .compare_exchange(
                    next,
                    now_ns.saturating_add(self.per_ns),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        for slot in self.slots.iter() {
            if slot.pending.load(Ordering::Acquire) != 0 {
                self.report_if_due(slot, now_ns, emit);
            }
        }
    }

    /// Reports every outstanding count now (before a flush or a shutdown).
    pub(crate) fn report_all(&self, now_ns: u64, emit: &dyn Fn(Record) -> bool) {
        if self.unreported.load(Ordering::Acquire) == 0 {
            return;
        }
        for slot in self.slots.iter() {
            if slot.pending.load(Ordering::Acquire) != 0 {
                slot.window.store(now_ns, Ordering::Release);
                self.report(slot, now_ns, emit);
            }
        }
    }

    /// Every call site with suppressed records, most suppressed first.
    pub(crate) fn suppressed_call_sites(&self) -> Vec<SuppressedCallSite> {
        let mut out: Vec<SuppressedCallSite> = self
            .slots
            .iter()
            .filter_map(|slot| {
                let suppressed = slot.total.load(Ordering::Acquire);
                let site = slot.site.get()?;
                (suppressed > 0).then(|| SuppressedCallSite {
                    call_site: site.clone(),
                    suppressed,
                })
            })
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.suppressed));
        out
    }
}

/// The in-band report of `n` records suppressed at `site`.
fn report_record(limit: RateLimit, site: &CallSite, n: u64, now_ns: u64) -> Record {
    let location = match (&site.file, site.line) {
        (Some(file), Some(line)) => format!(" at {file}:{line}"),
        (Some(file), None) => format!(" at {file}"),
        _ => String::new(),
    };
    let mut record = Record::new(
        now_ns,
        Level::Warn,
        REPORT_TARGET,
        format!(
            "rate limit {limit}: suppressed {n} records from {}{location}",
            site.target
        ),
    );
    record.fields.push(Field::new("suppressed", n));
    record.fields.push(Field::new("site_target", &*site.target));
    if let Some(file) = &site.file {
        record.fields.push(Field::new("site_file", &**file));
    }
    if let Some(line) = site.line {
        record.fields.push(Field::new("site_line", line));
    }
    record.fields.push(Field::new("rate_limit", limit.to_string()));
    record
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::value::Value;

    const SEC: u64 = 1_000_000_000;

    fn site(line: u32) -> CallSite {
        CallSite::new("app", Some("src/main.rs".into()), Some(line))
    }

    fn key(line: u32) -> CallSiteKey {
        CallSiteKey::of_location("app", Some("src/main.rs"), Some(line))
    }

    fn suppressed_in(reports: &[Record]) -> u64 {
        reports
            .iter()
            .map(
                |r| match r.fields.iter().find(|f| f.name == "suppressed").map(|f| &f.value) {
                    Some(Value::U64(n)) => *n,
                    other => panic!("no count: {other:?}"),
                },
            )
            .sum()
    }

    /// An `emit` that keeps every report in `reports` and takes it.
    fn collect(reports: &RefCell<Vec<Record>>) -> impl Fn(Record) -> bool + '_ {
        move |r| {
            reports.borrow_mut().push(r);
            true
        }
    }
    #[test]
    fn rate_limits_parse_and_name_the_variable_when_malformed() {
        assert_eq!("200/s".parse(), Ok(RateLimit::per_second(200).unwrap()));
        assert_eq!(" 30 / min ".parse(), Ok(RateLimit::per_minute(30).unwrap()));
        assert_eq!("5/h".parse::<RateLimit>().unwrap().per(), Duration::from_secs(3600));
        assert_eq!(RateLimit::per_minute(30).unwrap().to_string(), "30/m");
        for bad in ["200", "0/s", "-1/s", "200/d", "x/s", "200/"] {
            let e = rate_limit_var("LTS_RATE_LIMIT", bad).unwrap_err();
            assert_eq!(e.setting(), Some("LTS_RATE_LIMIT"), "{bad}");
            assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn a_refusal_racing_the_first_one_of_a_storm_does_not_report_it_early() {
        let storm = Storm::new(RateLimit::per_second(10).unwrap());
        let reports = RefCell::new(Vec::new());
        let emit = collect(&reports);
        let t0 = 5 * SEC;
        let slot = storm.slot(key(1), || site(1)).unwrap();
        // Thread A counted the storm's first refusal but has not stamped
        // its window yet; thread B refuses the next record now.
        slot.pending.store(1, Ordering::Release);
        storm.unreported.store(1, Ordering::Release);
        storm.refuse(slot, t0, &emit);
        assert!(reports.borrow().is_empty(), "reported at once, and again later");
        assert_eq!(slot.pending.load(Ordering::Acquire), 2);
    }

    #[test]
    fn a_burst_of_count_passes_then_one_per_interval() {
        let storm = Storm::new(RateLimit::per_second(10).unwrap());
        let reports = RefCell::new(Vec::new());
        let emit = collect(&reports);
        let t0 = 5 * SEC;
        let admitted = (0..100).filter(|_| storm.admit(key(1), t0, || site(1), &emit)).count();
        assert_eq!(admitted, 10);
        // Another call site is not affected.
        let other = (0..10).filter(|_| storm.admit(key(2), t0, || site(2), &emit)).count();
        assert_eq!(other, 10);
        // 100 ms later one more token is there.
        assert!(storm.admit(key(1), t0 + SEC / 10, || site(1), &emit));
        assert!(!storm.admit(key(1), t0 + SEC / 10, || site(1), &emit));
        assert_eq!(storm.suppressed(), 91);
        assert!(reports.borrow().is_empty(), "no report before the interval");
        // One interval after the storm began, the next record reports it.
        assert!(storm.admit(key(1), t0 + 2 * SEC, || site(1), &emit)); // the bucket refilled
        for _ in 0..9 {
            assert!(storm.admit(key(1), t0 + 2 * SEC, || site(1), &emit));
        }
        assert!(!storm.admit(key(1), t0 + 2 * SEC, || site(1), &emit));
        assert_eq!(storm.suppressed(), 92);
        let got = reports.borrow();
        assert_eq!(got.len(), 1, "at most one report per interval");
        assert_eq!(suppressed_in(&got), 91);
        assert_eq!(got[0].level, Level::Warn);
        assert_eq!(got[0].target, REPORT_TARGET);
        assert_eq!(
            got[0].message,
            "rate limit 10/s: suppressed 91 records from app at src/main.rs:1"
        );
        assert!(got[0].fields.contains(&Field::new("site_line", 1u32)));
    }

    #[test]
    fn a_storm_that_stopped_is_reported_by_the_next_record_from_anywhere_or_at_flush() {
        let storm = Storm::new(RateLimit::per_second(1).unwrap());
        let reports = RefCell::new(Vec::new());
        let emit = collect(&reports);
        for _ in 0..5 {
            storm.admit(key(7), SEC, || site(7), &emit);
        }
        assert!(storm.admit(key(8), SEC + 1, || site(8), &emit));
        assert!(reports.borrow().is_empty());
        assert!(storm.admit(key(8), 3 * SEC, || site(8), &emit));
        assert_eq!(suppressed_in(&reports.borrow()), 4);
        // A flush reports what is outstanding, due or not.
        storm.admit(key(7), 3 * SEC, || site(7), &emit);
        storm.admit(key(7), 3 * SEC, || site(7), &emit);
        storm.report_all(3 * SEC, &emit);
        assert_eq!(suppressed_in(&reports.borrow()), 5);
        assert_eq!(storm.suppressed(), 5);
        let sites = storm.suppressed_call_sites();
        assert_eq!(sites.len(), 1);
        assert_eq!((sites[0].call_site.line, sites[0].suppressed), (Some(7), 5));
    }

    #[test]
    fn a_refused_report_keeps_its_count_for_the_next() {
        let storm = Storm::new(RateLimit::per_second(1).unwrap());
        for _ in 0..3 {
            storm.admit(key(1), SEC, || site(1), &|_| true);
        }
        storm.report_all(SEC, &|_| false);
        let reports = RefCell::new(Vec::new());
        storm.report_all(SEC, &collect(&reports));
        assert_eq!(suppressed_in(&reports.borrow()), 2);
    }

    #[test]
    fn call_sites_beyond_the_probe_window_pass_untracked() {
        let storm = Storm::new(RateLimit::per_second(1).unwrap());
        let mut passed = 0;
        for line in 0..(TABLE_SLOTS as u32 + 100) {
            passed += usize::from(storm.admit(key(line), SEC, || site(line), &|_| true));
        }
        assert_eq!(passed, TABLE_SLOTS + 100);
        let untracked = storm.untracked();
        assert!(untracked >= 100, "{untracked}");
        // Each untracked record is one that found no slot: tracked ones hold a slot.
        let claimed = storm
            .slots
            .iter()
            .filter(|s| s.key.load(Ordering::Relaxed) != 0)
            .count() as u64;
        assert_eq!(claimed + untracked, TABLE_SLOTS as u64 + 100);
    }
}
