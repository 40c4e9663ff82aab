//! The output side of the sans-IO stack: frames, and the trace events that
//! explain them.

use vnet_wire::trace::{Direction, TraceContext, TraceEvent, TraceValue};

/// Where the stack puts the Ethernet frames it sends, and what it reports
/// about traced traffic.
///
/// The stack calls [`Transmit::transmit`] synchronously from
/// `receive`, `poll` and the socket send functions; the device runtime
/// implements it by handing the frame to the cable of `port`.
///
/// Tracing is optional: [`Transmit::trace`] names the trace span the work
/// at hand belongs to (the frame being received, or the application call
/// being served). Only when it, or a socket's remembered context, is set
/// does the stack build [`TraceEvent`]s, so untraced traffic costs nothing.
pub trait Transmit {
    /// Sends one Ethernet frame WITHOUT FCS out of `port` (the index of the
    /// interface in the stack's configuration).
    ///
    /// The frame may be shorter than the Ethernet minimum of 60 bytes: the
    /// cable pads it and appends the FCS (IEEE 802.3 §3.2.8, §3.2.9).
    fn transmit(&mut self, port: usize, frame: &[u8]);

    /// Sends a frame that belongs to trace span `trace` (for frames a
    /// socket sends on a timer, outside any traced work).
    fn transmit_traced(&mut self, port: usize, frame: &[u8], trace: Option<TraceContext>) {
        let _ = trace;
        self.transmit(port, frame);
    }

    /// The trace span of the work at hand, if it is traced.
    fn trace(&self) -> Option<TraceContext> {
        None
    }

    /// Records something the stack decided about traced traffic.
    fn record(&mut self, event: TraceEvent) {
        let _ = event;
    }
}

/// Collects frames as `(port, frame)` pairs; convenient for tests.
impl Transmit for Vec<(usize, Vec<u8>)> {
    fn transmit(&mut self, port: usize, frame: &[u8]) {
        self.push((port, frame.to_vec()));
    }
}

impl<T: Transmit + ?Sized> Transmit for &mut T {
    fn transmit(&mut self, port: usize, frame: &[u8]) {
        (**self).transmit(port, frame);
    }
    fn transmit_traced(&mut self, port: usize, frame: &[u8], trace: Option<TraceContext>) {
        (**self).transmit_traced(port, frame, trace);
    }
    fn trace(&self) -> Option<TraceContext> {
        (**self).trace()
    }
    fn record(&mut self, event: TraceEvent) {
        (**self).record(event);
    }
}

/// A transmitter whose work belongs to `ctx` when the underlying one has
/// no trace of its own: frames a socket sends from a timer carry the
/// socket's trace, and so do the ARP requests they trigger.
pub(crate) struct Scoped<'a> {
    /// Where frames and events really go.
    pub(crate) inner: &'a mut dyn Transmit,
    /// The effective trace span.
    pub(crate) ctx: Option<TraceContext>,
}

impl<'a> Scoped<'a> {
    /// `inner`'s own trace wins; `fallback` applies otherwise.
    pub(crate) fn new(inner: &'a mut dyn Transmit, fallback: Option<TraceContext>) -> Self {
        let ctx = inner.trace().or(fallback);
        Scoped { inner, ctx }
    }
}

impl Transmit for Scoped<'_> {
    fn transmit(&mut self, port: usize, frame: &[u8]) {
        self.inner.transmit_traced(port, frame, self.ctx);
    }
    fn transmit_traced(&mut self, port: usize, frame: &[u8], trace: Option<TraceContext>) {
        self.inner.transmit_traced(port, frame, trace.or(self.ctx));
    }
    fn trace(&self) -> Option<TraceContext> {
        self.ctx
    }
    fn record(&mut self, event: TraceEvent) {
        self.inner.record(event);
    }
}

/// Builds a [`TraceEvent`] for the span of the work at hand and records it,
/// only when that work is traced. The attribute list is evaluated only then.
///
/// `trace_event!(tx, now, "ip.forward", "L3", "ip", Some(Direction::Out),
/// format!(..), [("ip.ttl_before", ttl)])`
macro_rules! trace_event {
    ($tx:expr, $now:expr, $name:expr, $layer:expr, $proto:expr, $dir:expr, $summary:expr, [$(($k:expr, $v:expr)),* $(,)?]) => {
        if let Some(ctx) = $tx.trace() {
            $crate::transmit::record_event(
                &mut *$tx,
                ctx,
                $now,
                $name,
                $layer,
                $proto,
                $dir,
                $summary,
                vec![$(($k, ::vnet_wire::trace::TraceValue::from($v))),*],
            );
        }
    };
}
pub(crate) use trace_event;

/// Records one event for `ctx` (the body of [`trace_event!`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_event(
    tx: &mut dyn Transmit,
    ctx: TraceContext,
    now: crate::time::Instant,
    name: &'static str,
    layer: &'static str,
    proto: &'static str,
    dir: Option<Direction>,
    summary: String,
    attrs: Vec<(&'static str, TraceValue)>,
) {
    tx.record(TraceEvent {
        ctx,
        at_micros: now.total_micros(),
        name,
        layer,
        proto,
        dir,
        summary,
        attrs,
    });
}
