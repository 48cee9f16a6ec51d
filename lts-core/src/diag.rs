//! The worker's own diagnostics. They never go through `log` or `tracing`
//! (that would feed the pipeline from inside itself): they go to the error
//! hook, by default one line on standard error.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a [`Diagnostic`] is about.
///
/// # Example
///
/// ```
/// use lts_core::{Config, DiagnosticKind};
///
/// // Send only drops to your own monitoring; ignore the rest.
/// let builder = Config::builder().error_hook(|d| {
///     if matches!(d.kind, DiagnosticKind::RetriesExhausted | DiagnosticKind::QueueFull) {
///         eprintln!("{d}");
///     }
/// });
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// The service refused a batch (400 or another non-retryable status);
    /// the batch was dropped. The message has the service's answer.
    Rejected,
    /// The credentials were refused (401); the batch will be retried.
    Unauthorized,
    /// No credential could be had (IAM refused the password or could not be
    /// reached, or the token provider failed). Reported once per distinct
    /// failure; batches wait and retry.
    Credentials,
    /// A request failed in a retryable way (429, 5xx, timeout, connection).
    Retrying,
    /// A batch ran out of retries and was dropped.
    RetriesExhausted,
    /// Records were dropped because the queue budget was used up.
    QueueFull,
    /// Records were dropped because their time is outside the service's window.
    OutsideTimeWindow,
    /// A line was too long and was cut.
    Truncated,
    /// Shutdown ended with records undelivered.
    Shutdown,
    /// The disk spool: batches kept there, or damaged batches skipped.
    Spool,
    /// Records whose label values would have opened more batches than
    /// `max_open_batches` allows travelled in their route's overflow batch
    /// (labels `"(overflow)"`); nothing was dropped.
    LabelOverflow,
}

/// One diagnostic from the worker.
///
/// # Example
///
/// ```
/// let diagnostic = lts_core::Diagnostic {
///     kind: lts_core::DiagnosticKind::Rejected,
///     message: "HTTP 400: SVCSTG.ALS.400.304 invalid contents".into(),
/// };
/// assert_eq!(
///     diagnostic.to_string(),
///     "lts: Rejected: HTTP 400: SVCSTG.ALS.400.304 invalid contents"
/// );
/// ```
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// What it is about.
    pub kind: DiagnosticKind,
    /// A one-line description. Never contains a secret.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lts: {:?}: {}", self.kind, self.message)
    }
}

type HookFn = dyn Fn(&Diagnostic) + Send + Sync;

/// The configured hook; `None` is the default (standard error).
#[derive(Clone, Default)]
pub(crate) struct ErrorHook(Option<Arc<HookFn>>);

impl ErrorHook {
    pub(crate) fn new(f: Arc<HookFn>) -> ErrorHook {
        ErrorHook(Some(f))
    }

    pub(crate) fn call(&self, d: &Diagnostic) {
        match &self.0 {
            Some(f) => f(d),
            None => eprintln!("{d}"),
        }
    }
}

/// How often one kind of diagnostic may be reported.
const INTERVAL: Duration = Duration::from_secs(10);

/// Reports diagnostics through the hook, at most one per kind per
/// [`INTERVAL`]; the next one that gets through says how many were held back.
pub(crate) struct Reporter {
    hook: ErrorHook,
    last: HashMap<DiagnosticKind, (Instant, u64)>,
}

impl Reporter {
    pub(crate) fn new(hook: ErrorHook) -> Reporter {
        Reporter {
            hook,
            last: HashMap::new(),
        }
    }

    /// Reports at once, past the rate limit, for diagnostics the caller
    /// already de-duplicates.
    pub(crate) fn report_now(&mut self, kind: DiagnosticKind, message: String) {
        self.hook.call(&Diagnostic { kind, message });
    }

    pub(crate) fn report(&mut self, kind: DiagnosticKind, message: impl FnOnce() -> String) {
        let now = Instant::now();
        let mut held_back = 0;
        if let Some((at, suppressed)) = self.last.get_mut(&kind) {
            if now.duration_since(*at) < INTERVAL {
                *suppressed += 1;
                return;
            }
            held_back = *suppressed;
        }
        self.last.insert(kind, (now, 0));
        let mut message = message();
        if held_back > 0 {
            message.push_str(&format!(
                " ({held_back} more like this in the last {}s)",
                INTERVAL.as_secs()
            ));
        }
        self.hook.call(&Diagnostic { kind, message });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn one_kind_is_reported_once_per_interval_and_other_kinds_still_get_through() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let mut r = Reporter::new(ErrorHook::new(Arc::new(move |d: &Diagnostic| {
            s.lock().unwrap().push((d.kind, d.message.clone()))
        })));
        for i in 0..5 {
            r.report(DiagnosticKind::Retrying, || format!("try {i}"));
        }
        r.report(DiagnosticKind::Rejected, || "bad".into());
        let seen = seen.lock().unwrap();
        assert_eq!(
            *seen,
            vec![
                (DiagnosticKind::Retrying, "try 0".into()),
                (DiagnosticKind::Rejected, "bad".into())
            ]
        );
    }
}
