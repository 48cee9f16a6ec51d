//! Field visitors: typed values straight into [`Field`]s, the `message`
//! field into the record's message, with no formatting for primitives.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use lts_core::{Field, Fields, Text, Value};
use tracing_core::field::{Field as TracingField, Visit};

/// The name tracing gives the formatted message of `info!("...")`.
const MESSAGE: &str = "message";

/// Collects fields into `fields`. With `message` set, the `message` field
/// goes there (as text) instead of into `fields`; with `skip_log_fields`,
/// the `log.*` fields tracing-log adds to bridged records are dropped.
pub(crate) struct FieldVisitor<'a> {
    pub(crate) message: Option<&'a mut String>,
    pub(crate) fields: &'a mut Fields,
    pub(crate) skip_log_fields: bool,
}

enum Dest<'m> {
    Message(&'m mut String),
    Field,
    Skip,
}

impl FieldVisitor<'_> {
    #[inline]
    fn dest(&mut self, field: &TracingField) -> Dest<'_> {
        let name = field.name();
        if name == MESSAGE {
            if let Some(message) = self.message.as_deref_mut() {
                return Dest::Message(message);
            }
        }
        if self.skip_log_fields && name.starts_with("log.") {
            return Dest::Skip;
        }
        Dest::Field
    }

    #[inline]
    fn push(&mut self, field: &TracingField, value: Value) {
        self.fields.push(Field {
            name: Cow::Borrowed(field.name()),
            value,
        });
    }

    /// A primitive: typed as a field, as text when it is the message.
    #[inline]
    fn primitive(&mut self, field: &TracingField, value: Value) {
        match self.dest(field) {
            Dest::Field => self.push(field, value),
            Dest::Message(message) => {
                let _ = write!(message, "{value}");
            }
            Dest::Skip => {}
        }
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_f64(&mut self, field: &TracingField, value: f64) {
        self.primitive(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &TracingField, value: i64) {
        self.primitive(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &TracingField, value: u64) {
        self.primitive(field, Value::U64(value));
    }

    fn record_i128(&mut self, field: &TracingField, value: i128) {
        self.primitive(field, Value::from_i128(value));
    }

    fn record_u128(&mut self, field: &TracingField, value: u128) {
        self.primitive(field, Value::from_u128(value));
    }

    fn record_bool(&mut self, field: &TracingField, value: bool) {
        self.primitive(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &TracingField, value: &str) {
        match self.dest(field) {
            Dest::Field => self.push(field, Value::Str(Text::from(value))),
            Dest::Message(message) => message.push_str(value),
            Dest::Skip => {}
        }
    }

    fn record_error(&mut self, field: &TracingField, value: &(dyn std::error::Error + 'static)) {
        match self.dest(field) {
            Dest::Field => {
                let mut text = Text::new();
                write_error_chain(&mut text, value);
                self.push(field, Value::Str(text));
            }
            Dest::Message(message) => write_error_chain(message, value),
            Dest::Skip => {}
        }
    }

    fn record_debug(&mut self, field: &TracingField, value: &dyn fmt::Debug) {
        match self.dest(field) {
            Dest::Field => {
                let mut text = Text::new();
                let _ = write!(text, "{value:?}");
                self.push(field, Value::Str(text));
            }
            // `info!("a {}", b)` arrives here as `fmt::Arguments`, whose
            // `Debug` is its `Display`: formatted once, into the message.
            Dest::Message(message) => {
                // Sized once: growing from empty would reallocate twice
                // for a typical message.
                message.reserve(48);
                let _ = write!(message, "{value:?}");
            }
            Dest::Skip => {}
        }
    }
}

/// Writes an error and its `source()` chain: `outer: middle: inner`.
fn write_error_chain(out: &mut impl fmt::Write, error: &(dyn std::error::Error + 'static)) {
    let _ = write!(out, "{error}");
    let mut source = error.source();
    while let Some(e) = source {
        let _ = write!(out, ": {e}");
        source = e.source();
    }
}

/// Applies fields recorded later (`Span::record`) to a span's fields: a
/// field already there gets the new value, a new one is appended. Applying
/// the same values twice changes nothing.
pub(crate) fn merge_fields(fields: &mut Fields, updates: Fields) {
    for update in updates {
        match fields.iter_mut().find(|f| f.name == update.name) {
            Some(existing) => existing.value = update.value,
            None => fields.push(update),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("inner")
        }
    }
    impl std::error::Error for Inner {}
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn error_chains_are_joined_with_colons() {
        let mut out = String::new();
        write_error_chain(&mut out, &Outer(Inner));
        assert_eq!(out, "outer: inner");
    }

    #[test]
    fn merging_replaces_by_name_and_appends_new_names() {
        let mut fields = Fields::from(vec![Field::new("a", 1i64), Field::new("b", "x")]);
        let updates = Fields::from(vec![Field::new("b", "y"), Field::new("c", true)]);
        merge_fields(&mut fields, updates.clone());
        merge_fields(&mut fields, updates);
        assert_eq!(
            fields,
            [Field::new("a", 1i64), Field::new("b", "y"), Field::new("c", true)]
        );
    }
}
