//! The simulation's event log: every frame put on a cable, and every
//! scripted change, stamped with virtual time. The same topology, command
//! and seed give a byte-identical log ([`EventLog::render`]).

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use vnet_cable::TraceContext;
use vnet_cable::memory::WireLog;
use vnet_wire::describe::describe;

/// Events a log keeps at most; later ones are counted, not kept.
pub const MAX_EVENTS: usize = 200_000;
/// Bytes of each frame kept for inspection (headers of every layer).
pub const HEAD_BYTES: usize = 128;

/// One frame on a cable, or a scripted change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireEvent {
    /// Position in the log (0-based).
    pub index: usize,
    /// Virtual time since the simulation started, in microseconds.
    pub at_micros: u64,
    /// The sending device (for a scripted change: `script`).
    pub from: String,
    /// Its interface.
    pub from_iface: String,
    /// The receiving device (for a scripted change: the device changed).
    pub to: String,
    /// Its interface.
    pub to_iface: String,
    /// Layer of the highest protocol recognised (`L2`…`L7`; `--` for a
    /// scripted change).
    pub layer: String,
    /// The highest protocol recognised (`script` for a scripted change).
    pub proto: String,
    /// One-line summary, as frame spans and `vnet capture` show it.
    pub summary: String,
    /// Frame length on the wire (with FCS).
    pub len: usize,
    /// The first [`HEAD_BYTES`] bytes of the frame (without FCS).
    pub head: Vec<u8>,
    /// Trace and span id (hex) the frame carried, if any.
    pub trace: Option<(String, String)>,
}

impl WireEvent {
    /// `device iface` of the sender.
    pub fn from_label(&self) -> String {
        format!("{} {}", self.from, self.from_iface)
    }

    /// `device iface` of the receiver.
    pub fn to_label(&self) -> String {
        format!("{} {}", self.to, self.to_iface)
    }

    /// The IPv4 TTL of the frame, if it carries IPv4.
    pub fn ipv4_ttl(&self) -> Option<u8> {
        let ethertype = u16::from_be_bytes([*self.head.get(12)?, *self.head.get(13)?]);
        (ethertype == 0x0800).then(|| self.head.get(14 + 8).copied())?
    }

    /// The event as one log line (see [`EventLog::render`]).
    pub fn line(&self) -> String {
        format!(
            "{:>6} {:>5}.{:06} s  {:<16} -> {:<16} {:<3} {:<6} {}",
            self.index,
            self.at_micros / 1_000_000,
            self.at_micros % 1_000_000,
            self.from_label(),
            self.to_label(),
            self.layer,
            self.proto,
            self.summary
        )
    }
}

/// Where the simulation's events are written; shared by every in-memory
/// cable of one world.
#[derive(Debug)]
pub struct EventLog {
    zero: tokio::time::Instant,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    events: Vec<WireEvent>,
    dropped: u64,
}

impl EventLog {
    /// A log whose time zero is tokio instant `zero`.
    pub fn new(zero: tokio::time::Instant) -> Arc<EventLog> {
        Arc::new(EventLog {
            zero,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// Virtual microseconds since the log's zero.
    pub fn now_micros(&self) -> u64 {
        tokio::time::Instant::now()
            .duration_since(self.zero)
            .as_micros() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, mut event: WireEvent) {
        let mut inner = self.lock();
        if inner.events.len() >= MAX_EVENTS {
            inner.dropped += 1;
            return;
        }
        event.index = inner.events.len();
        inner.events.push(event);
    }

    /// Records a scripted change (`link down`, `impair …`) of `device`.
    pub fn script(&self, device: &str, iface: &str, what: &str) {
        self.push(WireEvent {
            index: 0,
            at_micros: self.now_micros(),
            from: "script".into(),
            from_iface: "-".into(),
            to: device.into(),
            to_iface: iface.into(),
            layer: "--".into(),
            proto: "script".into(),
            summary: what.into(),
            len: 0,
            head: Vec::new(),
            trace: None,
        });
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<WireEvent> {
        self.lock().events.clone()
    }

    /// Events not kept (beyond [`MAX_EVENTS`]).
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// The whole log as text, one event per line.
    pub fn render(events: &[WireEvent], dropped: u64) -> String {
        let mut out = String::new();
        for e in events {
            let _ = writeln!(out, "{}", e.line());
        }
        if dropped > 0 {
            let _ = writeln!(out, "({dropped} more events not kept)");
        }
        out
    }
}

fn split_label(label: &str) -> (String, String) {
    match label.split_once(' ') {
        Some((device, iface)) => (device.to_string(), iface.to_string()),
        None => (label.to_string(), String::new()),
    }
}

impl WireLog for EventLog {
    fn sent(&self, from: &str, to: &str, wire: &[u8], trace: Option<&TraceContext>) {
        let frame = &wire[..wire.len().saturating_sub(4)];
        let summary = describe(frame);
        let (from, from_iface) = split_label(from);
        let (to, to_iface) = split_label(to);
        self.push(WireEvent {
            index: 0,
            at_micros: self.now_micros(),
            from,
            from_iface,
            to,
            to_iface,
            layer: summary.layer.to_string(),
            proto: summary.proto.to_string(),
            summary: summary.text,
            len: wire.len(),
            head: frame[..frame.len().min(HEAD_BYTES)].to_vec(),
            trace: trace.map(|t| (t.trace_id_hex(), t.span_id_hex())),
        });
    }
}
