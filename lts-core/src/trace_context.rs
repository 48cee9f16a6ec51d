//! [`TraceContext`]: the distributed trace an event belongs to, so a log
//! line can be joined with its trace (OpenTelemetry, W3C Trace Context).

/// The trace and span an event happened in, as OpenTelemetry and the W3C
/// Trace Context name them. Written into the line as `trace_id` (32
/// lower-case hex digits), `span_id` (16) and, when known, `trace_flags`
/// (2: `01` sampled, `00` not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TraceContext {
    /// The 16-byte trace id (bytes, not a `u128`: the record stays 8-byte
    /// aligned and small).
    pub trace_id: [u8; 16],
    /// The 8-byte span id.
    pub span_id: [u8; 8],
    /// Whether the trace is sampled, when known.
    pub sampled: Option<bool>,
}

impl TraceContext {
    /// A context from the ids' bytes (as OpenTelemetry's `TraceId::to_bytes`
    /// and `SpanId::to_bytes` give them); `None` if either is all zeros,
    /// which the W3C format defines as invalid.
    pub fn from_bytes(trace_id: [u8; 16], span_id: [u8; 8], sampled: Option<bool>) -> Option<TraceContext> {
        let valid = trace_id.iter().any(|&b| b != 0) && span_id.iter().any(|&b| b != 0);
        valid.then_some(TraceContext {
            trace_id,
            span_id,
            sampled,
        })
    }

    /// The context of an OpenTelemetry span; `None` if it is not valid.
    #[cfg(feature = "opentelemetry")]
    pub fn from_span_context(cx: &opentelemetry::trace::SpanContext) -> Option<TraceContext> {
        if !cx.is_valid() {
            return None;
        }
        TraceContext::from_bytes(cx.trace_id().to_bytes(), cx.span_id().to_bytes(), Some(cx.is_sampled()))
    }

    /// The context of the span of an OpenTelemetry context, if it has a
    /// valid one.
    #[cfg(feature = "opentelemetry")]
    pub fn from_context(cx: &opentelemetry::Context) -> Option<TraceContext> {
        use opentelemetry::trace::TraceContextExt as _;
        if cx.has_active_span() {
            TraceContext::from_span_context(cx.span().span_context())
        } else {
            None
        }
    }

    /// The context of the OpenTelemetry span current on this thread
    /// (`opentelemetry::Context::current()`), if there is a valid one.
    #[cfg(feature = "opentelemetry")]
    pub fn current() -> Option<TraceContext> {
        opentelemetry::Context::map_current(TraceContext::from_context)
    }

    /// Appends the bytes as lower-case hex, two digits each.
    fn push_hex(out: &mut String, bytes: &[u8]) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for &b in bytes {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0xf)]));
        }
    }

    /// The trace id's 32 hex digits.
    pub(crate) fn push_trace_id(&self, out: &mut String) {
        TraceContext::push_hex(out, &self.trace_id);
    }

    /// The span id's 16 hex digits.
    pub(crate) fn push_span_id(&self, out: &mut String) {
        TraceContext::push_hex(out, &self.span_id);
    }

    /// The W3C trace flags (`01` sampled, `00` not), when known.
    pub(crate) fn flags(&self) -> Option<&'static str> {
        self.sampled.map(|s| if s { "01" } else { "00" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fixed_width_lower_case_hex_and_zero_ids_are_refused() {
        let mut trace_id = [0u8; 16];
        trace_id[15] = 0xab;
        trace_id[0] = 0x0f;
        let cx = TraceContext::from_bytes(trace_id, [0, 0, 0, 0, 0, 0, 0x12, 0xcd], Some(true)).unwrap();
        let mut out = String::new();
        cx.push_trace_id(&mut out);
        out.push(' ');
        cx.push_span_id(&mut out);
        assert_eq!(out, "0f0000000000000000000000000000ab 00000000000012cd");
        assert_eq!(cx.flags(), Some("01"));
        assert_eq!(TraceContext::from_bytes([0; 16], [1; 8], None), None);
        assert_eq!(TraceContext::from_bytes([1; 16], [0; 8], None), None);
    }
}
