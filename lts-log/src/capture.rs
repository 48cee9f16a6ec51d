//! Turning a `log::Record` into an owned [`lts_core::Record`] on the
//! caller's thread.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use log::kv::{self, VisitSource};
use lts_core::{set_owned, CallSite, CallSiteKey, Field, Fields, Level, Record, Str, Text, Value};

use crate::panic::PANIC_TARGET;

/// The `lts_core` level of a `log` level.
#[inline]
pub(crate) fn level(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

/// Builds the owned record. `time_ns` is read by the caller before anything
/// else.
pub(crate) fn record(time_ns: u64, record: &log::Record<'_>) -> Record {
    let mut r = Record::new(time_ns, level(record.level()), "", String::new());
    fill(time_ns, record, &mut r);
    r
}

/// Writes `record` over `into`, reusing its message buffer (what the
/// logger's per-thread record is for: no allocation for a message that
/// fits what an earlier one left).
pub(crate) fn fill(time_ns: u64, record: &log::Record<'_>, into: &mut Record) {
    into.time_ns = time_ns;
    into.level = level(record.level());
    set_target(&mut into.target, record.target(), record.module_path_static());
    into.module_path = match record.module_path_static() {
        Some(m) => Some(Cow::Borrowed(m)),
        None => record.module_path().map(|m| Cow::Owned(m.to_owned())),
    };
    into.message.clear();
    write_message(record.args(), &mut into.message);
    into.file = file(record);
    into.line = record.line();
    into.thread = lts_core::current_thread_name();
    fields_into(record.key_values(), &mut into.fields);
    #[cfg(feature = "opentelemetry")]
    {
        into.trace = lts_core::TraceContext::current();
    }
}

/// The identity of the record's call site for the rate limit: its file
/// and line (`log` records carry no callsite of their own).
#[inline]
pub(crate) fn call_site_key(record: &log::Record<'_>) -> CallSiteKey {
    CallSiteKey::of_location(record.target(), record.file(), record.line())
}

/// The record's call site as the rate limit's reports name it.
pub(crate) fn call_site(record: &log::Record<'_>) -> CallSite {
    CallSite::new(
        target(record.target(), record.module_path_static()),
        file(record),
        record.line(),
    )
}

/// The source file, borrowed when static.
#[inline]
fn file(record: &log::Record<'_>) -> Option<Str> {
    match record.file_static() {
        Some(f) => Some(Cow::Borrowed(f)),
        None => record.file().map(|f| Cow::Owned(f.to_owned())),
    }
}

/// The target, borrowed when it is the (static) module path, as it is for
/// every `log` macro call without `target:`, or the panic hook's target.
#[inline]
fn target(target: &str, module_path: Option<&'static str>) -> Str {
    let mut slot = Cow::Borrowed("");
    set_target(&mut slot, target, module_path);
    slot
}

/// [`target`] written into `slot`, reusing its buffer for a copied target.
#[inline]
fn set_target(slot: &mut Str, target: &str, module_path: Option<&'static str>) {
    match module_path {
        Some(m) if m == target => *slot = Cow::Borrowed(m),
        _ if target == PANIC_TARGET => *slot = Cow::Borrowed(PANIC_TARGET),
        _ => set_owned(slot, target),
    }
}

/// The formatted message, appended to `out`; a plain literal is copied
/// without formatting.
#[inline]
fn write_message(args: &fmt::Arguments<'_>, out: &mut String) {
    match args.as_str() {
        Some(s) => out.push_str(s),
        None => {
            // Writing into a String cannot fail; a Display impl that does
            // leaves what it wrote.
            let _ = out.write_fmt(*args);
        }
    }
}

/// The record's key-values as typed fields, in the order they were given,
/// written over `into` (its inline room reused, nothing moved).
fn fields_into(source: &dyn kv::Source, into: &mut Fields) {
    into.clear();
    if source.count() == 0 {
        return;
    }
    // The visitor never fails, and a source that stops early keeps what it gave.
    let _ = source.visit(&mut Collect(into));
}

struct Collect<'a>(&'a mut Fields);

impl<'kvs> VisitSource<'kvs> for Collect<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let name: Str = match key.to_static_str() {
            Some(k) => Cow::Borrowed(k),
            None => Cow::Owned(key.as_str().to_owned()),
        };
        self.0.push(Field {
            name,
            value: typed(&value),
        });
        Ok(())
    }
}

/// The typed value: booleans and numbers keep their type (integers as `i64`
/// when they fit, else `u64`, else their decimal string), strings are
/// copied, anything else is its `Display` text (formatted straight into the
/// value: short ones need no allocation).
pub(crate) fn typed(value: &kv::Value<'_>) -> Value {
    if let Some(b) = value.to_bool() {
        Value::Bool(b)
    } else if let Some(i) = value.to_i64() {
        Value::I64(i)
    } else if let Some(u) = value.to_u64() {
        Value::U64(u)
    } else if let Some(i) = value.to_i128() {
        Value::from_i128(i)
    } else if let Some(u) = value.to_u128() {
        Value::from_u128(u)
    } else if let Some(f) = value.to_f64() {
        Value::F64(f)
    } else if let Some(s) = value.to_borrowed_str() {
        Value::Str(Text::from(s))
    } else {
        let mut text = Text::new();
        let _ = write!(text, "{value}");
        Value::Str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_types() {
        let v = |x: kv::Value<'_>| typed(&x);
        assert_eq!(v(kv::Value::from(42i32)), Value::I64(42));
        assert_eq!(v(kv::Value::from(-7i64)), Value::I64(-7));
        assert_eq!(v(kv::Value::from(u64::MAX)), Value::U64(u64::MAX));
        assert_eq!(v(kv::Value::from(i128::MIN)), Value::Str(i128::MIN.to_string().into()));
        assert_eq!(v(kv::Value::from(-5i128)), Value::I64(-5));
        assert_eq!(v(kv::Value::from(u128::MAX)), Value::Str(u128::MAX.to_string().into()));
        assert_eq!(v(kv::Value::from(1.5f64)), Value::F64(1.5));
        assert_eq!(v(kv::Value::from(true)), Value::Bool(true));
        assert_eq!(v(kv::Value::from("text")), Value::Str("text".into()));
        assert_eq!(v(kv::Value::from('c')), Value::Str("c".into()));
        let debug = vec![1, 2];
        assert_eq!(v(kv::Value::from_debug(&debug)), Value::Str("[1, 2]".into()));
        let addr: std::net::Ipv4Addr = "10.0.0.1".parse().unwrap();
        assert_eq!(v(kv::Value::from_display(&addr)), Value::Str("10.0.0.1".into()));
    }

    #[test]
    fn static_strings_are_borrowed() {
        let kvs: &[(&str, i32)] = &[("n", 1)];
        let r = log::Record::builder()
            .args(format_args!("plain"))
            .level(log::Level::Info)
            .target("my_app::db")
            .module_path_static(Some("my_app::db"))
            .file_static(Some("src/db.rs"))
            .line(Some(7))
            .key_values(&kvs)
            .build();
        let got = record(1, &r);
        assert!(matches!(got.target, Cow::Borrowed("my_app::db")));
        assert!(matches!(got.module_path, Some(Cow::Borrowed("my_app::db"))));
        assert!(matches!(got.file, Some(Cow::Borrowed("src/db.rs"))));
        assert_eq!(got.line, Some(7));
        assert_eq!(got.message, "plain");
        assert_eq!(got.fields, vec![Field::new("n", 1i64)]);
        // Another target than the module path is copied.
        let n = std::hint::black_box(1);
        let got = record(
            2,
            &log::Record::builder()
                .args(format_args!("x={n}"))
                .target("audit")
                .module_path_static(Some("my_app"))
                .build(),
        );
        assert!(matches!(got.target, Cow::Owned(ref t) if t == "audit"));
        assert_eq!(got.message, "x=1");
    }
}
