//! The OpenTelemetry trace context of an event, from tracing-opentelemetry's
//! layer (feature `opentelemetry`).

use std::sync::OnceLock;

use lts_core::TraceContext;
use tracing_core::dispatcher::{Dispatch, WeakDispatch};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The subscriber the layer is part of, where tracing-opentelemetry's layer
/// keeps each span's context. Set when the subscriber becomes a dispatcher
/// (inside an event, `dispatcher::get_default` gives none: it guards
/// against re-entry).
#[derive(Default)]
pub(crate) struct OtelLookup(OnceLock<WeakDispatch>);

impl OtelLookup {
    pub(crate) fn register(&self, dispatch: &Dispatch) {
        let _ = self.0.set(dispatch.downgrade());
    }

    /// The trace and span ids tracing-opentelemetry keeps for the span the
    /// event happened in; `None` outside any span, or without that layer
    /// in the subscriber.
    pub(crate) fn trace_context<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>) -> Option<TraceContext>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        // The id only: the look-up below locks the span's extensions.
        let id = ctx.event_span(event)?.id();
        let dispatch = self.0.get()?.upgrade()?;
        TraceContext::from_context(&tracing_opentelemetry::get_otel_context(&id, &dispatch)?)
    }
}
