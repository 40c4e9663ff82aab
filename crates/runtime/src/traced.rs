//! Traced traffic: a span per traced frame a device handles, the stack's
//! decisions as its events, and a per-trace budget so a bulk transfer does
//! not emit a span per frame forever.

use crate::clock::Clock;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use vnet_telemetry::FrameSpan;
use vnet_wire::describe::describe;
use vnet_wire::trace::{TraceContext, TraceEvent};

/// Default number of frame spans one device emits per trace.
pub const DEFAULT_FRAME_BUDGET: u32 = 200;
/// Environment variable overriding [`DEFAULT_FRAME_BUDGET`].
pub const FRAME_BUDGET_ENV: &str = "VNET_TRACE_FRAME_BUDGET";
/// Per-layer detail events (outside frame spans) one device emits per
/// trace, per frame of budget.
const EVENTS_PER_FRAME_BUDGET: u32 = 5;
/// Events that matter on their own (state changes, retransmissions, SYN
/// and FIN) one device emits per trace: a separate, larger allowance, so a
/// bulk transfer's data segments cannot crowd out its retransmissions.
const KEY_EVENTS_PER_TRACE: u32 = 1000;
/// Traces whose budget is tracked at once; the table is reset beyond.
const MAX_TRACKED_TRACES: usize = 4096;
/// Events one call into the device may record, at most.
pub(crate) const MAX_EVENTS_PER_CALL: usize = 256;

#[derive(Debug, Default, Clone, Copy)]
struct Use {
    frames: u32,
    events: u32,
    key_events: u32,
}

/// Per-trace budgets and the counters `vnet status` shows.
#[derive(Debug)]
pub(crate) struct Tracing {
    budget: u32,
    uses: Mutex<HashMap<[u8; 16], Use>>,
    /// Frame spans emitted.
    pub(crate) frames_traced: AtomicU64,
    /// Traced frames handled without a span (budget spent).
    pub(crate) frames_over_budget: AtomicU64,
    /// Events dropped (budget spent or too many in one call).
    pub(crate) events_dropped: AtomicU64,
}

impl Tracing {
    pub(crate) fn new() -> Self {
        let budget = std::env::var(FRAME_BUDGET_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_FRAME_BUDGET);
        Tracing {
            budget,
            uses: Mutex::new(HashMap::new()),
            frames_traced: AtomicU64::new(0),
            frames_over_budget: AtomicU64::new(0),
            events_dropped: AtomicU64::new(0),
        }
    }

    fn charge(&self, trace_id: [u8; 16], f: impl FnOnce(&mut Use, u32) -> bool) -> bool {
        let mut uses = self.uses.lock().unwrap_or_else(|p| p.into_inner());
        if uses.len() >= MAX_TRACKED_TRACES && !uses.contains_key(&trace_id) {
            uses.clear();
        }
        let entry = uses.entry(trace_id).or_default();
        f(entry, self.budget)
    }

    /// Whether a frame of `trace_id` gets a span of its own.
    fn admit_frame(&self, trace_id: [u8; 16]) -> bool {
        let admitted = self.charge(trace_id, |u, budget| {
            u.frames = u.frames.saturating_add(1);
            u.frames <= budget
        });
        let counter = if admitted {
            &self.frames_traced
        } else {
            &self.frames_over_budget
        };
        counter.fetch_add(1, Ordering::Relaxed);
        admitted
    }

    /// Whether another event may be exported.
    fn admit_event(&self, ev: &TraceEvent) -> bool {
        let key = ev.dir.is_none();
        let admitted = self.charge(ev.ctx.trace_id, |u, budget| {
            if key {
                u.key_events = u.key_events.saturating_add(1);
                u.key_events <= KEY_EVENTS_PER_TRACE
            } else {
                u.events = u.events.saturating_add(1);
                u.events <= budget.saturating_mul(EVENTS_PER_FRAME_BUDGET)
            }
        });
        if !admitted {
            self.events_dropped.fetch_add(1, Ordering::Relaxed);
        }
        admitted
    }

    /// Counters as JSON for `/status`.
    pub(crate) fn counters(&self) -> serde_json::Value {
        serde_json::json!({
            "exporting": vnet_telemetry::exporting(),
            "frame_budget": self.budget,
            "frames_traced": self.frames_traced.load(Ordering::Relaxed),
            "frames_over_budget": self.frames_over_budget.load(Ordering::Relaxed),
            "events_dropped": self.events_dropped.load(Ordering::Relaxed),
        })
    }

    /// Starts the span of a traced frame arriving on `iface`, if exporting
    /// and within budget. Describes the frame first: handling may rewrite
    /// it in place.
    pub(crate) fn start_frame(
        &self,
        clock: &Clock,
        device: &str,
        iface: &str,
        parent: &TraceContext,
        frame: &[u8],
    ) -> Option<FrameSpan> {
        if !vnet_telemetry::exporting() || !parent.is_valid() {
            return None;
        }
        if !self.admit_frame(parent.trace_id) {
            return None;
        }
        let summary = describe(frame);
        let start = clock.system_time(clock.now());
        let mut span = FrameSpan::start(
            parent,
            format!("{device} {iface} ◂ {}", summary.proto),
            start,
        )?;
        span.set_attribute("vnet.iface", iface);
        span.set_attribute("vnet.proto", summary.proto);
        span.set_attribute("vnet.layer", summary.layer);
        span.set_attribute("vnet.summary", format!("{iface} ◂ {}", summary.text));
        span.set_attribute("frame.len", frame.len());
        Some(span)
    }

    /// Ends a frame span: events of this span become its events, others
    /// are exported on their own.
    pub(crate) fn finish_frame(&self, clock: &Clock, mut span: FrameSpan, events: Vec<TraceEvent>) {
        let ctx = span.context();
        for ev in events {
            let at = clock.system_time_micros(ev.at_micros);
            if ev.ctx == ctx {
                span.add_event(&ev, at);
            } else if self.admit_event(&ev) {
                vnet_telemetry::event_span(&ev, at);
            }
        }
        span.end(clock.system_time(clock.now()));
    }

    /// Exports events recorded outside a frame span (application calls,
    /// timers): on the current application span when they belong to it,
    /// otherwise as small spans under their own context.
    pub(crate) fn emit_events(&self, clock: &Clock, events: Vec<TraceEvent>) {
        for ev in events {
            if !self.admit_event(&ev) {
                continue;
            }
            let at = clock.system_time_micros(ev.at_micros);
            if !vnet_telemetry::add_event_to_current(&ev, at) {
                vnet_telemetry::event_span(&ev, at);
            }
        }
    }
}
