//! Structured fields: [`Field`], its typed [`Value`], the [`Text`] of a
//! string value, and a record's [`Fields`].
//!
//! These are built on the caller's thread for every event, so they are made
//! to need no heap allocation in the usual case: a record keeps its first
//! [`Fields::INLINE`] fields inline, and a string value of up to
//! [`Text::INLINE`] bytes is stored inline too.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::{Deref, DerefMut};

use smallvec::SmallVec;

/// A string that is usually `'static` (targets, file names and field names
/// from macro call sites) and owned only when it has to be.
///
/// # Example
///
/// ```
/// use lts_core::Str;
///
/// let borrowed: Str = "my_app".into(); // no copy for static strings
/// let owned: Str = format!("worker-{}", 3).into();
/// assert_eq!(owned, "worker-3");
/// # let _ = borrowed;
/// ```
pub type Str = Cow<'static, str>;

/// Writes `s` into `slot` as an owned string, reusing the buffer `slot`
/// already owns: a record reused event after event copies a non-`'static`
/// target or field name without allocating once its buffer is large enough.
///
/// # Example
///
/// ```
/// use lts_core::{set_owned, Str};
///
/// let mut target: Str = String::with_capacity(32).into();
/// set_owned(&mut target, "audit");
/// assert_eq!(target, "audit");
/// ```
pub fn set_owned(slot: &mut Str, s: &str) {
    match slot {
        Cow::Owned(buf) => {
            buf.clear();
            buf.push_str(s);
        }
        Cow::Borrowed(_) => *slot = Cow::Owned(s.to_owned()),
    }
}

/// The text of a string field value: up to [`Text::INLINE`] bytes are kept
/// inline, longer text on the heap. Derefs to `str`; writable with
/// `write!` ([`fmt::Write`]), so a `Debug` or `Display` value can be
/// formatted straight into it.
///
/// # Example
///
/// ```
/// use lts_core::Text;
///
/// let mut t = Text::new();
/// t.push_str("short strings stay inline");
/// assert_eq!(t.as_str(), "short strings stay inline");
/// ```
#[derive(Clone, Default)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; Text::INLINE] },
    Heap(String),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::Inline {
            len: 0,
            bytes: [0; Text::INLINE],
        }
    }
}

impl Text {
    /// The longest text kept without a heap allocation, in bytes.
    pub const INLINE: usize = 30;

    /// Empty text.
    pub fn new() -> Text {
        Text::default()
    }

    /// The text as a `str`.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only whole `str`s are ever copied in, so this never fails.
            Repr::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default(),
            Repr::Heap(s) => s,
        }
    }

    /// The text's bytes (without checking them again: only whole `str`s
    /// are ever copied in).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Heap(s) => s.as_bytes(),
        }
    }

    /// The length in bytes (without reading the text).
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Inline { len, .. } => usize::from(*len),
            Repr::Heap(s) => s.len(),
        }
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `s`, moving the text to the heap when it outgrows the inline
    /// space.
    pub fn push_str(&mut self, s: &str) {
        match &mut self.0 {
            Repr::Inline { len, bytes } => {
                let at = usize::from(*len);
                let end = at + s.len();
                if end <= Text::INLINE {
                    bytes[at..end].copy_from_slice(s.as_bytes());
                    // `end` fits: INLINE < 256.
                    *len = end as u8;
                } else {
                    let mut heap = String::with_capacity(end.max(2 * Text::INLINE));
                    heap.push_str(self.as_str());
                    heap.push_str(s);
                    self.0 = Repr::Heap(heap);
                }
            }
            Repr::Heap(heap) => heap.push_str(s),
        }
    }

    /// Heap bytes held (0 while inline).
    #[cfg(test)]
    pub(crate) fn heap_capacity(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(s) => s.capacity(),
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        let mut t = Text::new();
        t.push_str(s);
        t
    }
}

impl From<String> for Text {
    /// Short text is copied inline (and the `String` freed); longer text
    /// keeps the `String`'s allocation.
    fn from(s: String) -> Text {
        if s.len() <= Text::INLINE {
            Text::from(s.as_str())
        } else {
            Text(Repr::Heap(s))
        }
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        match t.0 {
            Repr::Heap(s) => s,
            Repr::Inline { .. } => t.as_str().to_owned(),
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed field value.
///
/// # Example
///
/// ```
/// use lts_core::Value;
///
/// assert_eq!(Value::from(42_u32), Value::U64(42));
/// assert_eq!(Value::from(-1_i8), Value::I64(-1));
/// assert_eq!(Value::from_u128(u128::MAX).to_string(), u128::MAX.to_string());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (also used for `Debug`-formatted values and for integers that
    /// fit neither `i64` nor `u64`).
    Str(Text),
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
            Value::Str(display(v))
        }
    }

    /// A `u128` as `U64` when it fits, else as its decimal string.
    pub fn from_u128(v: u128) -> Value {
        match u64::try_from(v) {
            Ok(v) => Value::U64(v),
            Err(_) => Value::Str(display(v)),
        }
    }
}

/// A value's `Display` text, formatted straight into a [`Text`].
fn display(v: impl fmt::Display) -> Text {
    let mut t = Text::new();
    let _ = fmt::Write::write_fmt(&mut t, format_args!("{v}"));
    t
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
    String => Str as Text, &str => Str as Text, Text => Str as Text,
);

/// One structured field: a name and a typed value.
///
/// # Example
///
/// ```
/// let field = lts_core::Field::new("user_id", 42_u64);
/// assert_eq!(field.name, "user_id");
/// ```
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

/// A record's fields, in the order they were recorded: the first
/// [`Fields::INLINE`] inline, more on the heap. Derefs to `[Field]`.
///
/// # Example
///
/// ```
/// use lts_core::{Field, Fields};
///
/// let mut fields = Fields::new();
/// fields.push(Field::new("path", "/api/v1/items"));
/// fields.push(Field::new("ok", true));
/// assert_eq!(fields.iter().map(|f| f.name.as_ref()).collect::<Vec<_>>(), ["path", "ok"]);
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Fields(SmallVec<[Field; Fields::INLINE]>);

impl Fields {
    /// How many fields are kept without a heap allocation.
    pub const INLINE: usize = 4;

    /// No fields.
    pub fn new() -> Fields {
        Fields(SmallVec::new())
    }

    /// Room for `n` fields (on the heap only when `n` is over
    /// [`Fields::INLINE`]).
    pub fn with_capacity(n: usize) -> Fields {
        Fields(SmallVec::with_capacity(n))
    }

    /// Appends a field.
    pub fn push(&mut self, field: Field) {
        self.0.push(field);
    }

    /// Heap bytes held by the list itself (0 while inline).
    /// Removes every field, keeping the memory for the next ones.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    #[cfg(test)]
    pub(crate) fn heap_capacity(&self) -> usize {
        if self.0.spilled() {
            self.0.capacity() * std::mem::size_of::<Field>()
        } else {
            0
        }
    }
}

impl Deref for Fields {
    type Target = [Field];
    fn deref(&self) -> &[Field] {
        &self.0
    }
}

impl DerefMut for Fields {
    fn deref_mut(&mut self) -> &mut [Field] {
        &mut self.0
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl From<Vec<Field>> for Fields {
    fn from(v: Vec<Field>) -> Fields {
        Fields(SmallVec::from_vec(v))
    }
}

impl FromIterator<Field> for Fields {
    fn from_iter<I: IntoIterator<Item = Field>>(iter: I) -> Fields {
        Fields(iter.into_iter().collect())
    }
}

impl Extend<Field> for Fields {
    fn extend<I: IntoIterator<Item = Field>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for Fields {
    type Item = Field;
    type IntoIter = smallvec::IntoIter<[Field; Fields::INLINE]>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = &'a Field;
    type IntoIter = std::slice::Iter<'a, Field>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl PartialEq<[Field]> for Fields {
    fn eq(&self, other: &[Field]) -> bool {
        self[..] == *other
    }
}

impl PartialEq<Vec<Field>> for Fields {
    fn eq(&self, other: &Vec<Field>) -> bool {
        self[..] == other[..]
    }
}

impl<const N: usize> PartialEq<[Field; N]> for Fields {
    fn eq(&self, other: &[Field; N]) -> bool {
        self[..] == other[..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn wide_integers_keep_their_type_where_they_fit() {
        assert_eq!(Value::from_i128(-5), Value::I64(-5));
        assert_eq!(Value::from_i128(u64::MAX as i128), Value::U64(u64::MAX));
        assert_eq!(Value::from_i128(i128::MIN), Value::Str(i128::MIN.to_string().into()));
        assert_eq!(Value::from_u128(7), Value::U64(7));
        assert_eq!(Value::from_u128(u128::MAX), Value::Str(u128::MAX.to_string().into()));
    }

    #[test]
    fn short_text_stays_inline_and_long_text_moves_to_the_heap() {
        let exact = "x".repeat(Text::INLINE);
        let t = Text::from(exact.as_str());
        assert_eq!(
            (t.as_str(), t.heap_capacity(), t.len()),
            (exact.as_str(), 0, Text::INLINE)
        );
        assert!(Text::new().is_empty());
        assert_eq!(Text::from("é".repeat(40)).len(), 80);

        let mut grown = Text::from("abc");
        grown.push_str(&"y".repeat(Text::INLINE - 3));
        assert_eq!(grown.heap_capacity(), 0, "exactly full is still inline");
        grown.push_str("é");
        assert!(grown.heap_capacity() >= Text::INLINE + 2);
        assert_eq!(grown, format!("abc{}é", "y".repeat(Text::INLINE - 3)).as_str());

        // Formatting writes into it without an intermediate String.
        let mut f = Text::new();
        write!(f, "{:?}", vec![1, 2]).unwrap();
        assert_eq!((f.as_str(), f.heap_capacity()), ("[1, 2]", 0));
        let long = "z".repeat(100);
        assert_eq!(String::from(Text::from(long.clone())), long);
        assert_eq!(format!("{:?}", Text::from("a\"b")), r#""a\"b""#);
    }

    #[test]
    fn fields_spill_to_the_heap_past_the_inline_count() {
        let mut f = Fields::new();
        for i in 0..Fields::INLINE {
            f.push(Field::new("n", i as u64));
        }
        assert_eq!(f.heap_capacity(), 0);
        f.push(Field::new("more", true));
        assert_eq!(f.len(), Fields::INLINE + 1);
        assert!(f.heap_capacity() >= (Fields::INLINE + 1) * std::mem::size_of::<Field>());
        assert_eq!(f[Fields::INLINE], Field::new("more", true));
        assert_eq!(
            f,
            (0..Fields::INLINE)
                .map(|i| Field::new("n", i as u64))
                .chain([Field::new("more", true)])
                .collect::<Vec<_>>()
        );
    }
}
