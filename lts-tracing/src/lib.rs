//! A [`tracing_subscriber::Layer`] that ships every `tracing` event, with
//! its span context and its nanosecond capture time, to Huawei Cloud / Open
//! Telekom Cloud Log Tank Service (LTS) through [`lts_core`].
//!
//! ```toml
//! [dependencies]
//! lts-tracing = "0.1"
//! tracing-subscriber = "0.3"
//! ```
//!
//! On each event the layer reads the capture time first, then takes the
//! level, target, module, file, line, thread name, the message, every other
//! field *typed* (strings, integers, floats, booleans; `?debug` and
//! `%display` values and errors as text, errors with their `source()`
//! chain), and the spans the event happened in, root first, each with its
//! id, name and fields. It hands the record to the shipper's background
//! thread, which formats, batches, compresses and delivers it.
//!
//! # Composition
//!
//! The layer composes like any other. Give it a *per-layer* filter with
//! [`with_filter`](tracing_subscriber::Layer::with_filter) so that what goes
//! to LTS and what goes to the terminal are chosen independently:
//!
//! ```no_run
//! use lts_core::Config;
//! use tracing_subscriber::{fmt, prelude::*, EnvFilter};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (lts, _guard) = lts_tracing::layer(Config::from_env()?)?;
//! tracing_subscriber::registry()
//!     // LTS gets what RUST_LOG asks for (ERROR only when it is unset) ...
//!     .with(lts.with_filter(EnvFilter::from_default_env()))
//!     // ... and the terminal gets INFO and above.
//!     .with(fmt::layer().with_writer(std::io::stderr).with_filter(EnvFilter::new("info")))
//!     .init();
//!
//! let span = tracing::info_span!("request", method = "GET", user_id = tracing::field::Empty);
//! let _entered = span.enter();
//! span.record("user_id", 42);
//! tracing::info!(path = "/api/v1/items", elapsed_ms = 17, "request handled");
//!
//! // Keep `_guard` until the program ends: dropping it delivers what is
//! // still queued (waiting up to the configured shutdown timeout).
//! # Ok(()) }
//! ```
//!
//! Any [`Filter`](tracing_subscriber::layer::Filter) works:
//! [`EnvFilter`](https://docs.rs/tracing-subscriber/latest/tracing_subscriber/filter/struct.EnvFilter.html),
//! [`Targets`](tracing_subscriber::filter::Targets),
//! [`LevelFilter`](tracing_subscriber::filter::LevelFilter),
//! [`filter_fn`](tracing_subscriber::filter::filter_fn). A filter added to
//! the registry itself (`registry().with(filter)`) applies to every layer.
//! Spans a per-layer filter disables are left out of the span context of
//! the events it lets through.
//!
//! The line LTS stores (with the default [`Format::Json`]):
//!
//! ```text
//! {"time":"2026-11-24T13:00:00.123456789Z","level":"INFO","target":"my_app::http","message":"request handled","fields":{"path":"/api/v1/items","elapsed_ms":17},"spans":[{"name":"request","id":1,"fields":{"method":"GET","user_id":42}}],"file":"src/http.rs","line":42,"thread":"main"}
//! ```
//!
//! To change what LTS gets while the program runs, give the layer a
//! [`LiveFilter`] (`RUST_LOG` syntax, the same as `lts-log`'s) and keep
//! its [`FilterHandle`]: `handle.set("info,my_app::db=debug")` holds for
//! the next event on every thread. It is a filter of its own, not
//! tracing-subscriber's `reload` layer, so the other layers' filters are
//! untouched (tokio-rs/tracing #1629, #1812).
//!
//! # OpenTelemetry (feature `opentelemetry`)
//!
//! With tracing-opentelemetry's layer in the same subscriber, every event
//! inside a span carries that span's OpenTelemetry `trace_id` (32
//! lower-case hex digits), `span_id` (16) and `trace_flags` (`01` sampled,
//! `00` not) as top-level keys of the JSON line (and at the end of the text
//! line), so a line in LTS leads to its trace and back. Events outside any
//! span carry none. The feature pins tracing-opentelemetry 0.34 and
//! opentelemetry 0.33, which go together: use the same versions.
//!
//! As in `examples/examples/otel.rs` (run with `--features otel`):
//!
//! ```text
//! tracing_subscriber::registry()
//!     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("my_app")))
//!     .with(lts)
//!     .init();
//! ```
//!
//! # Storm control
//!
//! With a rate limit ([`lts_core::ConfigBuilder::rate_limit`],
//! `LTS_RATE_LIMIT=200/s`), each callsite passes at most that many events
//! per interval, in bursts of up to that many; the rest are counted
//! ([`lts_core::Stats::suppressed`]) and reported in-band as one `WARN`
//! record (target `lts`) per callsite and interval. Other callsites are
//! unaffected, and so are other layers.
//!
//! # Options
//!
//! [`LtsLayer::builder`] sets whether the span context is sent, which span
//! fields are copied into the event's own fields, and fields added to every
//! event, and the line format ([`Builder::format`], or in the [`Config`]:
//! `Config::builder().format(Format::Text)`, `LTS_FORMAT=text`).
//!
//! # `log` records
//!
//! Records of the `log` crate reach the layer through `tracing-log`
//! (`tracing_log::LogTracer::init()`, or `.init()` with tracing-subscriber's
//! `tracing-log` feature). They arrive with their real target, module,
//! file and line, without tracing-log's `log.*` fields.
//!
//! # What is never shipped
//!
//! - Anything on the shipper's own background thread
//!   ([`lts_core::is_shipper_thread`]), so the HTTP client's logging cannot
//!   loop back into the pipeline.
//! - `DEBUG` and `TRACE` events of `ureq`, `ureq_proto` and `rustls` on any
//!   thread (the HTTP client's helper threads are not the shipper's).
//! - Events whose target is one of the shipper's own crates (`lts_core`,
//!   `lts_tracing`, `lts_log`, `lts_mock`).
//!
//! These exclusions are the layer's own: it never disables an event or a
//! span for the other layers, so a `fmt` layer beside it can still show
//! `ureq=debug` output when you ask it to.
//!
//! # Async
//!
//! Spans attached to a future with `tracing::Instrument` are the context
//! of the events inside it, on whichever thread the runtime polls it. With a
//! global subscriber (`.init()`) that is all; with a thread-local one
//! (`tracing::subscriber::with_default` / `set_default`, as in tests), also
//! give spawned futures `.with_current_subscriber()`
//! (`tracing::instrument::WithSubscriber`), since the runtime's threads do
//! not share the spawning thread's default.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use lts_core::{
    current_thread_name, is_shipper_thread, set_owned, CallSite, CallSiteKey, Field, Fields, Level, Record, SpanInfo,
    Str, Value,
};
use tracing_core::span::{Attributes, Id, Record as SpanRecord};
use tracing_core::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

mod filter;
#[cfg(feature = "opentelemetry")]
mod otel;
mod visit;

use visit::{merge_fields, FieldVisitor};

pub use filter::{FilterError, FilterHandle, LiveFilter};
pub use lts_core::{Config, Error, Format, Guard, Shipper};

/// Starts a shipper with `config` and returns the layer that feeds it, with
/// the [`Guard`] that flushes and stops the shipper when dropped.
///
/// Same as `LtsLayer::builder(config).build()`. Keep the guard alive until
/// the program ends.
///
/// # Example
///
/// ```
/// # let mock = lts_mock::MockLts::start()?;
/// # let config = lts_core::Config::builder()
/// #     .endpoint(mock.endpoint())
/// #     .project_id(lts_mock::PROJECT_ID)
/// #     .log_group_id(lts_mock::LOG_GROUP_ID)
/// #     .log_stream_id(lts_mock::LOG_STREAM_ID)
/// #     .token(mock.token())
/// #     .build()?;
/// use tracing_subscriber::prelude::*;
///
/// let (lts, guard) = lts_tracing::layer(config)?;
/// let subscriber = tracing_subscriber::registry().with(lts);
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(user_id = 42, "request handled");
/// });
/// guard.shutdown()?; // delivers what is queued
/// # assert_eq!(mock.event_count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn layer(config: Config) -> Result<(LtsLayer, Guard), Error> {
    LtsLayer::builder(config).build()
}

/// The layer: turns each event it sees into an [`lts_core::Record`] and
/// sends it to its [`Shipper`].
///
/// Made by [`layer`] or [`LtsLayer::builder`].
///
/// # Example
///
/// ```
/// # let mock = lts_mock::MockLts::start()?;
/// # let config = lts_core::Config::builder()
/// #     .endpoint(mock.endpoint())
/// #     .project_id(lts_mock::PROJECT_ID)
/// #     .log_group_id(lts_mock::LOG_GROUP_ID)
/// #     .log_stream_id(lts_mock::LOG_STREAM_ID)
/// #     .token(mock.token())
/// #     .build()?;
/// use std::time::Duration;
/// use tracing_subscriber::{filter::LevelFilter, prelude::*};
///
/// let (lts, _guard) = lts_tracing::layer(config)?;
/// let shipper = lts.shipper().clone(); // for flush and stats
/// let subscriber = tracing_subscriber::registry().with(lts.with_filter(LevelFilter::WARN));
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!("not shipped");
///     tracing::warn!("shipped");
/// });
/// shipper.flush(Duration::from_secs(5))?;
/// assert_eq!(shipper.stats().delivered, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LtsLayer {
    shipper: Shipper,
    /// Send the span context with each event.
    span_context: bool,
    /// Capture span fields at all (for the context or for flattening).
    capture_spans: bool,
    /// Span fields copied into the event's fields.
    flatten: Box<[Str]>,
    /// Fields added to every event.
    static_fields: Box<[Field]>,
    /// Where tracing-opentelemetry keeps the spans' contexts.
    #[cfg(feature = "opentelemetry")]
    otel: otel::OtelLookup,
}

impl fmt::Debug for LtsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LtsLayer")
            .field("shipper", &self.shipper)
            .field("span_context", &self.span_context)
            .field("flatten", &self.flatten)
            .field("static_fields", &self.static_fields)
            .finish()
    }
}

impl LtsLayer {
    /// A builder for a layer with options; `build` starts the shipper.
    pub fn builder(config: Config) -> Builder {
        Builder {
            config,
            span_context: true,
            flatten: Vec::new(),
            static_fields: Vec::new(),
        }
    }

    /// The shipper this layer sends to (for [`Shipper::flush`] and
    /// [`Shipper::stats`]).
    pub fn shipper(&self) -> &Shipper {
        &self.shipper
    }
}

/// Options of an [`LtsLayer`]. Made by [`LtsLayer::builder`].
///
/// ```no_run
/// use lts_core::{Config, Format};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // The line format is a setting of the config.
/// let config = Config::builder()
///     .region("eu-de")
///     .project_id("0123456789abcdef0123456789abcdef")
///     .log_group_id("0a1b2c3d-0000-4000-8000-000000000001")
///     .log_stream_id("0a1b2c3d-0000-4000-8000-000000000002")
///     .token(std::env::var("LTS_TOKEN")?)
///     .format(Format::Json)
///     .build()?;
/// let (layer, guard) = lts_tracing::LtsLayer::builder(config)
///     .flatten_span_field("request_id")
///     .static_field("service", "checkout")
///     .build()?;
/// # drop((layer, guard)); Ok(()) }
/// ```
///
/// # Example
///
/// ```
/// # let mock = lts_mock::MockLts::start()?;
/// # let config = lts_core::Config::builder()
/// #     .endpoint(mock.endpoint())
/// #     .project_id(lts_mock::PROJECT_ID)
/// #     .log_group_id(lts_mock::LOG_GROUP_ID)
/// #     .log_stream_id(lts_mock::LOG_STREAM_ID)
/// #     .token(mock.token())
/// #     .build()?;
/// let (layer, _guard) = lts_tracing::LtsLayer::builder(config)
///     .flatten_span_fields(["request_id"])
///     .static_field("service", "checkout")
///     .format(lts_core::Format::Text)
///     .build()?;
/// # drop(layer);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    config: Config,
    span_context: bool,
    flatten: Vec<Str>,
    static_fields: Vec<Field>,
}

impl Builder {
    /// Whether each event carries its span context, the spans it happened
    /// in with their ids and fields (default: yes). Turning it off saves
    /// capturing span fields, unless some are flattened.
    pub fn span_context(mut self, include: bool) -> Self {
        self.span_context = include;
        self
    }

    /// Copies the span field `name` into the fields of each event that
    /// happens inside a span that has it (default: none). The innermost
    /// span's value wins; a field of the event itself wins over all.
    pub fn flatten_span_field(mut self, name: impl Into<Str>) -> Self {
        let name = name.into();
        if !self.flatten.contains(&name) {
            self.flatten.push(name);
        }
        self
    }

    /// Copies each of these span fields into the events' fields, as
    /// [`flatten_span_field`](Self::flatten_span_field) does.
    pub fn flatten_span_fields<N: Into<Str>>(mut self, names: impl IntoIterator<Item = N>) -> Self {
        for name in names {
            self = self.flatten_span_field(name);
        }
        self
    }

    /// Adds a field to every event (after its own fields; a field of the
    /// event with the same name wins). For values that describe the whole
    /// program, LTS labels ([`lts_core::ConfigBuilder::label`]) are cheaper:
    /// they are sent once per batch.
    pub fn static_field(mut self, name: impl Into<Str>, value: impl Into<Value>) -> Self {
        let field = Field::new(name, value);
        match self.static_fields.iter_mut().find(|f| f.name == field.name) {
            Some(existing) => existing.value = field.value,
            None => self.static_fields.push(field),
        }
        self
    }

    /// The log line format (replaces the one in the config).
    pub fn format(mut self, format: lts_core::Format) -> Self {
        self.config.set_format(format);
        self
    }

    /// Starts the shipper and returns the layer and the [`Guard`] that
    /// flushes and stops the shipper when dropped.
    ///
    /// Fails only if the shipper cannot start (see [`Shipper::start`]).
    pub fn build(self) -> Result<(LtsLayer, Guard), Error> {
        let (shipper, guard) = Shipper::start(self.config)?;
        let capture_spans = self.span_context || !self.flatten.is_empty();
        let layer = LtsLayer {
            shipper,
            span_context: self.span_context,
            capture_spans,
            flatten: self.flatten.into_boxed_slice(),
            static_fields: self.static_fields.into_boxed_slice(),
            #[cfg(feature = "opentelemetry")]
            otel: otel::OtelLookup::default(),
        };
        Ok((layer, guard))
    }
}

/// The captured form of a span, kept in its extensions and shared by every
/// event inside it. Private, so nothing else can clash with it; two
/// `LtsLayer`s in one subscriber share it (capturing is the same for both).
struct SpanData(Arc<SpanInfo>);

/// Whether an event of this target and level is one the layer never ships:
/// the shipper's own crates, the transport's `DEBUG`/`TRACE` noise
/// (lts-core's one list, shared with lts-log).
#[inline]
fn is_excluded(target: &str, level: &tracing_core::Level) -> bool {
    lts_core::is_left_out(target, level_of(level), false)
}

/// The call site of an event as the rate limit's reports name it;
/// `text` makes its strings (borrowed for static metadata, copied for the
/// log bridge's).
fn call_site<'a>(meta: &tracing_core::Metadata<'a>, text: impl Fn(&'a str) -> Str) -> CallSite {
    CallSite::new(text(meta.target()), meta.file().map(&text), meta.line())
}

#[inline]
fn level_of(level: &tracing_core::Level) -> Level {
    match *level {
        tracing_core::Level::ERROR => Level::Error,
        tracing_core::Level::WARN => Level::Warn,
        tracing_core::Level::INFO => Level::Info,
        tracing_core::Level::DEBUG => Level::Debug,
        _ => Level::Trace,
    }
}

impl LtsLayer {
    /// Adds the flattened span fields (innermost span first, so its value
    /// wins) that the event does not have itself.
    fn flatten_from(&self, span: &SpanInfo, fields: &mut Fields) {
        for f in &span.fields {
            if self.flatten.contains(&f.name) && !fields.iter().any(|e| e.name == f.name) {
                fields.push(f.clone());
            }
        }
    }
}

impl<S> Layer<S> for LtsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    #[cfg(feature = "opentelemetry")]
    fn on_register_dispatch(&self, subscriber: &tracing_core::Dispatch) {
        self.otel.register(subscriber);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !self.capture_spans || is_shipper_thread() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        if span.extensions().get::<SpanData>().is_some() {
            return; // another LtsLayer captured it already
        }
        // Format the values before taking the extensions' lock.
        let mut fields = Fields::with_capacity(attrs.metadata().fields().len());
        attrs.record(&mut FieldVisitor {
            message: None,
            fields: &mut fields,
            skip_log_fields: false,
        });
        let info = SpanInfo {
            id: id.into_u64(),
            name: Cow::Borrowed(attrs.metadata().name()),
            fields,
        };
        let mut extensions = span.extensions_mut();
        if extensions.get_mut::<SpanData>().is_none() {
            extensions.insert(SpanData(Arc::new(info)));
        }
    }

    fn on_record(&self, id: &Id, values: &SpanRecord<'_>, ctx: Context<'_, S>) {
        if !self.capture_spans {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut updates = Fields::new();
        values.record(&mut FieldVisitor {
            message: None,
            fields: &mut updates,
            skip_log_fields: false,
        });
        if updates.is_empty() {
            return;
        }
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions.get_mut::<SpanData>() {
            // Copy on write: events already sent keep the values they saw.
            merge_fields(&mut Arc::make_mut(&mut data.0).fields, updates);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if is_shipper_thread() {
            return;
        }
        let meta = event.metadata();
        let is_log = event.is_log();
        if !is_log && is_excluded(meta.target(), meta.level()) {
            return;
        }
        let time_ns = self.shipper.now_ns();

        // The thread's own record is written over for each event (its
        // message, field and span buffers reused), unless it is in use: an
        // event whose formatting emits one comes here again.
        let done = SCRATCH.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut record) => {
                self.emit(event, &ctx, time_ns, &mut record);
                true
            }
            Err(_) => false,
        });
        if done != Ok(true) {
            self.emit(event, &ctx, time_ns, &mut empty_record());
        }
    }
}

impl LtsLayer {
    /// Writes the event over `record` and queues it. Every part of the
    /// record is set (or cleared) here.
    fn emit<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, time_ns: u64, record: &mut Record)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = event.metadata();
        let is_log = event.is_log();
        record.time_ns = time_ns;
        if is_log {
            // A `log` record bridged by tracing-log: its real target and
            // location are in fields; the metadata is tracing-log's.
            let Some(normalized) = event.normalized_metadata() else {
                return;
            };
            if is_excluded(normalized.target(), normalized.level()) {
                return;
            }
            if !self.shipper.admit(
                time_ns,
                || CallSiteKey::of_location(normalized.target(), normalized.file(), normalized.line()),
                || call_site(&normalized, |s| Cow::Owned(s.to_owned())),
            ) {
                return;
            }
            record.level = level_of(normalized.level());
            // Copied, into the buffers the record already owns.
            set_owned(&mut record.target, normalized.target());
            set_owned_option(&mut record.module_path, normalized.module_path());
            set_owned_option(&mut record.file, normalized.file());
            record.line = normalized.line();
        } else {
            if !self.shipper.admit(
                time_ns,
                || CallSiteKey::of_static(meta),
                || call_site(meta, Cow::Borrowed),
            ) {
                return;
            }
            record.level = level_of(meta.level());
            record.target = Cow::Borrowed(meta.target());
            record.module_path = meta.module_path().map(Cow::Borrowed);
            record.file = meta.file().map(Cow::Borrowed);
            record.line = meta.line();
        }
        record.thread = current_thread_name();
        record.message.clear();
        record.fields.clear();
        record.spans.clear();
        record.trace = None;
        let fields = &mut record.fields;
        event.record(&mut FieldVisitor {
            message: Some(&mut record.message),
            fields,
            skip_log_fields: is_log,
        });

        #[cfg(feature = "opentelemetry")]
        {
            record.trace = self.otel.trace_context(event, ctx);
        }
        if self.capture_spans {
            if let Some(scope) = ctx.event_scope(event) {
                // Leaf first, so the innermost value of a flattened field wins.
                for span in scope {
                    let extensions = span.extensions();
                    let info = match extensions.get::<SpanData>() {
                        Some(data) => data.0.clone(),
                        // Made before this layer was added, or on the shipper's thread.
                        None => Arc::new(SpanInfo {
                            id: span.id().into_u64(),
                            name: Cow::Borrowed(span.name()),
                            fields: Fields::new(),
                        }),
                    };
                    if !self.flatten.is_empty() {
                        self.flatten_from(&info, &mut record.fields);
                    }
                    if self.span_context {
                        record.spans.push(info);
                    }
                }
                record.spans.reverse();
            }
        }
        for f in self.static_fields.iter() {
            if !record.fields.iter().any(|e| e.name == f.name) {
                record.fields.push(f.clone());
            }
        }
        // A full queue is counted by the shipper (Stats::dropped_queue_full).
        // The shipper copies the record into its queue.
        let _ = self.shipper.send_ref(record);
        // Let go of what the record holds now rather than at the next event:
        // the spans' references, owned texts, a long message's buffer.
        record.spans.clear();
        record.fields.clear();
        if record.message.capacity() > MAX_KEPT_MESSAGE {
            record.message = String::new();
        }
    }
}

thread_local! {
    /// Each thread's record, written over for each of its events.
    static SCRATCH: std::cell::RefCell<Record> = std::cell::RefCell::new(empty_record());
}

/// A message buffer grown past this by one long message is let go rather
/// than kept by the thread.
const MAX_KEPT_MESSAGE: usize = 4096;

/// [`set_owned`] for an optional part: `None` clears it.
fn set_owned_option(slot: &mut Option<Str>, s: Option<&str>) {
    match s {
        Some(s) => set_owned(slot.get_or_insert(Cow::Borrowed("")), s),
        None => *slot = None,
    }
}

/// A record with nothing in it (no allocation), to be written over.
fn empty_record() -> Record {
    Record::new(0, lts_core::Level::Trace, "", String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_core::Level as L;

    #[test]
    fn own_crates_are_excluded_at_every_level() {
        for krate in ["lts_core", "lts_tracing", "lts_log", "lts_mock"] {
            assert!(is_excluded(krate, &L::ERROR));
            assert!(is_excluded(&format!("{krate}::worker"), &L::INFO));
        }
        assert!(!is_excluded("lts_core_user", &L::INFO));
        assert!(!is_excluded("lts", &L::TRACE));
        assert!(!is_excluded("log", &L::TRACE));
    }

    #[test]
    fn http_client_noise_is_excluded_at_debug_and_below_only() {
        for krate in ["ureq", "ureq_proto", "rustls"] {
            assert!(is_excluded(krate, &L::DEBUG));
            assert!(is_excluded(&format!("{krate}::conn"), &L::TRACE));
            assert!(!is_excluded(&format!("{krate}::conn"), &L::INFO));
            assert!(!is_excluded(krate, &L::WARN));
        }
        assert!(!is_excluded("ureqx", &L::TRACE));
        assert!(!is_excluded("rustls_pemfile_user", &L::DEBUG));
        assert!(!is_excluded("my_app", &L::TRACE));
    }

    #[test]
    fn levels_map_one_to_one() {
        assert_eq!(level_of(&L::ERROR), Level::Error);
        assert_eq!(level_of(&L::WARN), Level::Warn);
        assert_eq!(level_of(&L::INFO), Level::Info);
        assert_eq!(level_of(&L::DEBUG), Level::Debug);
        assert_eq!(level_of(&L::TRACE), Level::Trace);
    }
}
