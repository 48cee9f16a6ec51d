//! [`Record`]: the owned form of one event, built on the caller's thread and
//! handed to the worker, which formats and ships it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;

use crate::trace_context::TraceContext;
use crate::value::{Field, Fields, Str, Value};

/// The severity of a record, ordered from [`Level::Trace`] (lowest) to
/// [`Level::Error`] (highest).
///
/// # Example
///
/// ```
/// use lts_core::Level;
///
/// assert!(Level::Warn > Level::Info);
/// assert_eq!(Level::Warn.as_str(), "WARN");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very fine detail.
    Trace,
    /// Information for debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that was handled.
    Warn,
    /// A failure.
    Error,
}

impl Level {
    /// The upper-case name: `"TRACE"`, `"DEBUG"`, `"INFO"`, `"WARN"`, `"ERROR"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One span of the context an event happened in (the tracing layer fills
/// these; the `log` backend leaves them empty).
///
/// Spans are shared (`Arc`) between all the events that happen inside them,
/// so their fields are captured once per span, not once per event.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use lts_core::{Field, Fields, Level, Record, SpanInfo};
///
/// let mut fields = Fields::new();
/// fields.push(Field::new("method", "GET"));
/// let request = Arc::new(SpanInfo { id: 1, name: "request".into(), fields });
/// let mut record = Record::new(1_700_000_000_000_000_000, Level::Info, "my_app", "handled");
/// record.spans.push(request);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SpanInfo {
    /// The span's id, unique among the spans open at one time.
    pub id: u64,
    /// The span's name.
    pub name: Str,
    /// The span's fields, in the order they were recorded.
    pub fields: Fields,
}

/// The owned form of one event.
///
/// Built on the caller's thread (the time first, see [`crate::ClockMode`]) and
/// sent with [`crate::Shipper::send`]; the worker formats it into the log
/// line ([`crate::Format`]) and ships it.
///
/// # Example
///
/// ```
/// use lts_core::{Level, Record};
///
/// let mut record = Record::new(1_700_000_000_123_456_789, Level::Info, "my_app", "started")
///     .with_field("version", "1.2.3")
///     .with_field("workers", 8_u64);
/// record.file = Some("src/main.rs".into());
/// record.line = Some(12);
/// assert_eq!(record.fields.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// When the event happened: UTC nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// Severity.
    pub level: Level,
    /// The target (by convention the module path, or a name the caller chose).
    pub target: Str,
    /// The module the event came from, when known.
    pub module_path: Option<Str>,
    /// The source file, when known.
    pub file: Option<Str>,
    /// The source line, when known.
    pub line: Option<u32>,
    /// The name of the thread the event happened on, when it has one
    /// (see [`current_thread_name`]).
    pub thread: Option<Str>,
    /// The formatted message.
    pub message: String,
    /// Structured fields, in the order they were recorded (the first
    /// [`Fields::INLINE`] without a heap allocation).
    pub fields: Fields,
    /// The spans the event happened in, root first.
    pub spans: Vec<Arc<SpanInfo>>,
    /// The distributed trace the event belongs to, when known.
    pub trace: Option<TraceContext>,
}

impl Record {
    /// A record with the given time, level, target and message, and nothing
    /// else (set the other public fields directly).
    pub fn new(time_ns: u64, level: Level, target: impl Into<Str>, message: impl Into<String>) -> Record {
        Record {
            time_ns,
            level,
            target: target.into(),
            module_path: None,
            file: None,
            line: None,
            thread: None,
            message: message.into(),
            fields: Fields::new(),
            spans: Vec::new(),
            trace: None,
        }
    }

    /// Adds a field (builder style).
    pub fn with_field(mut self, name: impl Into<Str>, value: impl Into<Value>) -> Record {
        self.fields.push(Field::new(name, value));
        self
    }
}

/// Thread names are interned: each distinct name is stored once for the
/// life of the process, so capturing it costs no allocation and no shared
/// reference count (which would bounce between the caller's core and the
/// worker's on every event). Past this many distinct names (programs that
/// give every new thread a new name), names are copied instead.
const MAX_INTERNED_THREAD_NAMES: usize = 4096;

static THREAD_NAMES: once_cell::sync::Lazy<Mutex<HashSet<&'static str>>> =
    once_cell::sync::Lazy::new(|| Mutex::new(HashSet::new()));

fn intern(name: &str) -> Str {
    let mut names = THREAD_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&known) = names.get(name) {
        return Cow::Borrowed(known);
    }
    if names.len() >= MAX_INTERNED_THREAD_NAMES {
        return Cow::Owned(name.to_owned());
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    Cow::Borrowed(leaked)
}

thread_local! {
    static THREAD_NAME: RefCell<Option<Option<Str>>> = const { RefCell::new(None) };
}

/// The current thread's name, read once per thread. Usually a `'static`
/// borrow of an interned copy, so capturing it per event is a copy of a
/// pointer.
///
/// # Example
///
/// ```
/// let name = std::thread::Builder::new()
///     .name("ingest".into())
///     .spawn(lts_core::current_thread_name)
///     .unwrap()
///     .join()
///     .unwrap();
/// assert_eq!(name.as_deref(), Some("ingest"));
/// ```
pub fn current_thread_name() -> Option<Str> {
    THREAD_NAME
        .try_with(|cell| {
            cell.borrow_mut()
                .get_or_insert_with(|| std::thread::current().name().map(intern))
                .clone()
        })
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_name_is_read_from_the_thread() {
        let name = std::thread::Builder::new()
            .name("worker-7".into())
            .spawn(current_thread_name)
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(name.as_deref(), Some("worker-7"));
        // Interned: a second thread of the same name borrows the same copy.
        let again = std::thread::Builder::new()
            .name("worker-7".into())
            .spawn(current_thread_name)
            .unwrap()
            .join()
            .unwrap();
        match (name, again) {
            (Some(Cow::Borrowed(a)), Some(Cow::Borrowed(b))) => assert!(std::ptr::eq(a, b)),
            other => panic!("not interned: {other:?}"),
        }
    }
}
