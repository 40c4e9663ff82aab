//! Spans in vnet terms: converting between the cable's [`TraceContext`]
//! and OpenTelemetry contexts, frame spans built by the device runtime,
//! and the stack's [`TraceEvent`]s as span events.

use crate::export::tracer;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState,
    Tracer as _,
};
use opentelemetry::{Context, KeyValue, Value};
use std::time::SystemTime;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use vnet_wire::trace::{TraceContext, TraceEvent, TraceValue};

/// The OpenTelemetry context whose remote parent is `ctx`.
fn to_otel(ctx: &TraceContext) -> Context {
    let sc = SpanContext::new(
        TraceId::from_bytes(ctx.trace_id),
        SpanId::from_bytes(ctx.span_id),
        TraceFlags::new(ctx.flags),
        true,
        TraceState::default(),
    );
    Context::new().with_remote_span_context(sc)
}

/// The cable form of a span context, if it is valid.
fn from_otel(sc: &SpanContext) -> Option<TraceContext> {
    sc.is_valid().then(|| TraceContext {
        trace_id: sc.trace_id().to_bytes(),
        span_id: sc.span_id().to_bytes(),
        flags: sc.trace_flags().to_u8(),
    })
}

fn value(v: &TraceValue) -> Value {
    match v {
        TraceValue::Int(i) => Value::I64(*i),
        TraceValue::Text(s) => Value::String(s.clone().into()),
    }
}

/// The attributes of an event: the `vnet.*` conventions the timeline
/// reads, then the header fields.
fn event_attributes(ev: &TraceEvent) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(ev.attrs.len() + 4);
    attrs.push(KeyValue::new("vnet.layer", ev.layer));
    attrs.push(KeyValue::new("vnet.proto", ev.proto));
    attrs.push(KeyValue::new("vnet.summary", ev.summary.clone()));
    if let Some(dir) = ev.dir {
        attrs.push(KeyValue::new("vnet.dir", dir.as_str()));
    }
    attrs.extend(ev.attrs.iter().map(|(k, v)| KeyValue::new(*k, value(v))));
    attrs
}

/// The context of `span` (a `tracing` span with target
/// [`crate::TRACE_TARGET`]), if it is exported.
pub fn context_of(span: &tracing::Span) -> Option<TraceContext> {
    if !crate::exporting() || span.is_none() {
        return None;
    }
    from_otel(span.context().span().span_context())
}

/// The context of the current `tracing` span, if it is exported: frames an
/// application sends now continue its trace.
pub fn current_context() -> Option<TraceContext> {
    if !crate::exporting() {
        return None;
    }
    context_of(&tracing::Span::current())
}

/// A server's span for work that arrived with trace context `parent`:
/// `make()` as a child of it, or, when the work carries no context (or
/// nothing is exported), no span at all. Servers never start a trace of
/// their own: a flood of untraced queries costs no spans, no export and no
/// room in the collector (docs/design.md "What is traced").
pub fn continue_remote(
    parent: Option<TraceContext>,
    make: impl FnOnce() -> tracing::Span,
) -> tracing::Span {
    match parent.filter(|p| crate::exporting() && p.is_valid()) {
        Some(parent) => {
            let span = make();
            set_remote_parent(&span, parent);
            span
        }
        None => tracing::Span::none(),
    }
}

/// A span for work done on behalf of the current span (a resolver's
/// upstream query for a client's query): `make()` when the current span is
/// exported, else no span at all, so untraced work never starts a root
/// trace of its own (docs/design.md "What is traced").
pub fn continue_current(make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    match current_context() {
        Some(_) => make(),
        None => tracing::Span::none(),
    }
}

/// Makes the not-yet-entered `span` a child of `parent` (a span in another
/// process, e.g. the client span whose frame carried a request). Returns
/// whether it worked (false when not exporting or already entered).
pub fn set_remote_parent(span: &tracing::Span, parent: TraceContext) -> bool {
    crate::exporting() && parent.is_valid() && span.set_parent(to_otel(&parent)).is_ok()
}

/// Adds `ev` as an event of the current `tracing` span when `ev` belongs
/// to it; returns false otherwise.
pub fn add_event_to_current(ev: &TraceEvent, at: SystemTime) -> bool {
    let span = tracing::Span::current();
    if context_of(&span).is_none_or(|c| c.span_id != ev.ctx.span_id) {
        return false;
    }
    span.add_event_with_timestamp(ev.name, at, event_attributes(ev));
    true
}

/// Exports `ev` as a zero-length span of its own, child of `ev.ctx`: for
/// events that happen outside any span this process holds (a
/// retransmission timer, a state change on a timer).
pub fn event_span(ev: &TraceEvent, at: SystemTime) {
    let Some(tracer) = tracer() else { return };
    let mut attrs = event_attributes(ev);
    attrs.push(KeyValue::new("vnet.kind", "event"));
    let builder = tracer
        .span_builder(ev.name)
        .with_kind(SpanKind::Internal)
        .with_start_time(at)
        .with_attributes(attrs);
    let mut span = tracer.build_with_context(builder, &to_otel(&ev.ctx));
    span.end_with_timestamp(at);
}

/// The span of one device handling one traced frame ("In Layers / Out
/// Layers"): started when the frame arrives, child of the span that sent
/// it, with the stack's decisions as events.
pub struct FrameSpan {
    span: opentelemetry_sdk::trace::Span,
    ctx: TraceContext,
}

impl FrameSpan {
    /// Starts a frame span under `parent`, or `None` when not exporting.
    pub fn start(parent: &TraceContext, name: String, start: SystemTime) -> Option<Self> {
        let tracer = tracer()?;
        let builder = tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .with_start_time(start)
            .with_attributes([KeyValue::new("vnet.kind", "frame")]);
        let span = tracer.build_with_context(builder, &to_otel(parent));
        let ctx = from_otel(span.span_context())?;
        Some(FrameSpan { span, ctx })
    }

    /// This span's context: frames sent while handling the frame carry it.
    pub fn context(&self) -> TraceContext {
        self.ctx
    }

    /// Sets an attribute.
    pub fn set_attribute(&mut self, key: &'static str, value: impl Into<TraceValue>) {
        let v = value.into();
        self.span.set_attribute(KeyValue::new(key, self::value(&v)));
    }

    /// Adds one of the stack's decisions as an event.
    pub fn add_event(&mut self, ev: &TraceEvent, at: SystemTime) {
        self.span
            .add_event_with_timestamp(ev.name, at, event_attributes(ev));
    }

    /// Ends the span.
    pub fn end(mut self, at: SystemTime) {
        self.span.end_with_timestamp(at);
    }
}
