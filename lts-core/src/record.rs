//! [`Record`]: the owned form of one event, built on the caller's thread and
//! handed to the worker, which formats and ships it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;

/// A string that is usually `'static` (targets, file names and field names
/// from macro call sites) and owned only when it has to be.
pub type Str = Cow<'static, str>;

/// The severity of a record, ordered from [`Level::Trace`] (lowest) to
/// [`Level::Error`] (highest).
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

/// A typed field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (also used for `Debug`-formatted values and for integers that
    /// fit neither `i64` nor `u64`).
    Str(String),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float. Non-finite values are written as strings in JSON
    /// (`"NaN"`, `"inf"`, `"-inf"`), since JSON has no literal for them.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// An `i128` as `I64` when it fits, as `U64` when it is positive and fits,
    /// else as its decimal string.
    pub fn from_i128(v: i128) -> Value {
        if let Ok(v) = i64::try_from(v) {
            Value::I64(v)
        } else if let Ok(v) = u64::try_from(v) {
            Value::U64(v)
        } else {
            Value::Str(v.to_string())
        }
    }

    /// A `u128` as `U64` when it fits, else as its decimal string.
    pub fn from_u128(v: u128) -> Value {
        match u64::try_from(v) {
            Ok(v) => Value::U64(v),
            Err(_) => Value::Str(v.to_string()),
        }
    }

    fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.capacity(),
            _ => 0,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::I64(v) => fmt::Display::fmt(v, f),
            Value::U64(v) => fmt::Display::fmt(v, f),
            Value::F64(v) => fmt::Display::fmt(v, f),
            Value::Bool(v) => fmt::Display::fmt(v, f),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::$variant(<$as>::from(v)) }
        })*
    };
}
value_from!(
    i8 => I64 as i64, i16 => I64 as i64, i32 => I64 as i64, i64 => I64 as i64,
    u8 => U64 as u64, u16 => U64 as u64, u32 => U64 as u64, u64 => U64 as u64,
    f32 => F64 as f64, f64 => F64 as f64, bool => Bool as bool,
    String => Str as String, &str => Str as String,
);

/// One structured field: a name and a typed value.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's name.
    pub name: Str,
    /// The field's value.
    pub value: Value,
}

impl Field {
    /// A field from a name and anything that converts to a [`Value`].
    pub fn new(name: impl Into<Str>, value: impl Into<Value>) -> Field {
        Field {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// One span of the context an event happened in (the tracing layer fills
/// these; the `log` backend leaves them empty).
///
/// Spans are shared (`Arc`) between all the events that happen inside them,
/// so their fields are captured once per span, not once per event.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanInfo {
    /// The span's id, unique among the spans open at one time.
    pub id: u64,
    /// The span's name.
    pub name: Str,
    /// The span's fields, in the order they were recorded.
    pub fields: Vec<Field>,
}

/// The owned form of one event.
///
/// Built on the caller's thread (the time first, see [`crate::clock`]) and
/// sent with [`crate::Shipper::send`]; the worker formats it into the log
/// line ([`crate::Format`]) and ships it.
#[derive(Debug, Clone, PartialEq)]
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
    /// Structured fields, in the order they were recorded.
    pub fields: Vec<Field>,
    /// The spans the event happened in, root first.
    pub spans: Vec<Arc<SpanInfo>>,
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
            fields: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// Adds a field (builder style).
    pub fn with_field(mut self, name: impl Into<Str>, value: impl Into<Value>) -> Record {
        self.fields.push(Field::new(name, value));
        self
    }

    /// The memory this record holds, in bytes: what it counts against the
    /// queue budget while it waits for the worker. Heap blocks are counted
    /// as the allocator holds them (a header and rounding to 16 bytes, 32 at
    /// least), and the record's slot in the channel with its bookkeeping.
    /// Spans are shared and are counted at the size of their pointers.
    pub fn memory_size(&self) -> usize {
        fn owned(s: &Str) -> usize {
            match s {
                Cow::Borrowed(_) => 0,
                Cow::Owned(s) => heap_block(s.capacity()),
            }
        }
        CHANNEL_SLOT
            + owned(&self.target)
            + self.module_path.as_ref().map_or(0, owned)
            + self.file.as_ref().map_or(0, owned)
            + self.thread.as_ref().map_or(0, owned)
            + heap_block(self.message.capacity())
            + heap_block(self.fields.capacity() * std::mem::size_of::<Field>())
            + self
                .fields
                .iter()
                .map(|f| owned(&f.name) + heap_block(f.value.heap_size()))
                .sum::<usize>()
            + heap_block(self.spans.capacity() * std::mem::size_of::<Arc<SpanInfo>>())
    }
}

/// A record's slot in the channel: the record, its size, the slot's state,
/// and its share of the channel's block header.
const CHANNEL_SLOT: usize = std::mem::size_of::<Record>() + 3 * std::mem::size_of::<usize>();

/// What a heap block of `n` bytes costs with a typical allocator (glibc's:
/// an 8-byte header, 16-byte rounding, 32 bytes at least); 0 for no block.
fn heap_block(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + 8 + 15) & !15).max(32)
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
    fn wide_integers_keep_their_type_where_they_fit() {
        assert_eq!(Value::from_i128(-5), Value::I64(-5));
        assert_eq!(Value::from_i128(u64::MAX as i128), Value::U64(u64::MAX));
        assert_eq!(Value::from_i128(i128::MIN), Value::Str(i128::MIN.to_string()));
        assert_eq!(Value::from_u128(7), Value::U64(7));
        assert_eq!(Value::from_u128(u128::MAX), Value::Str(u128::MAX.to_string()));
    }

    #[test]
    fn memory_size_counts_owned_strings_but_not_static_ones() {
        let base = Record::new(1, Level::Info, "t", String::new()).memory_size();
        assert_eq!(base, std::mem::size_of::<Record>() + 24);
        let owned = Record::new(1, Level::Info, String::from("target"), String::with_capacity(100));
        // "target": 6 bytes in a 32-byte block; 100 bytes in a 112-byte block.
        assert_eq!(owned.memory_size(), base + 32 + 112);
    }

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
