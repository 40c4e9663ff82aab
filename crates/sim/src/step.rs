//! The model behind `vnet sim --step` (Packet Tracer's simulation mode):
//! the event log of a run with a cursor, an optional filter, and the
//! per-layer decisions of the device that received the selected frame.
//! No terminal code here ([`crate::tui`] draws it), so every operation is
//! unit-testable.
//!
//! * Moving: [`StepModel::next`], [`StepModel::prev`], [`StepModel::first`],
//!   [`StepModel::last`], [`StepModel::next_of_proto`] ("run to the next
//!   event of a protocol"). Moves never leave the filtered rows.
//! * Filtering: [`StepModel::set_filter`] by protocol and/or device (an
//!   event matches a device when it is sent or received by it); the cursor
//!   stays on the nearest matching event. [`StepModel::parse_filter`] reads
//!   the one-line filter the terminal view prompts for (`dns`,
//!   `device r2`, `dns r2`; empty clears).
//! * Layers: [`StepModel::layers`] finds the receiving device's frame span
//!   for the selected frame (service = the receiver, `vnet.kind` = `frame`,
//!   `vnet.iface` = the receiving interface, parent = the span id the frame
//!   carried, earliest start at or after the send time: the frame arrives
//!   one cable latency later) and splits its events into In Layers and Out
//!   Layers by `vnet.dir`. A frame without such a span (not traced, over the
//!   trace budget, lost on the cable) is decoded from its first bytes
//!   instead: headers only.

use crate::Outcome;
use crate::events::WireEvent;
use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use vnet_timeline::model::{EventRecord, SpanRecord, TraceData};
use vnet_timeline::timeline::{
    ATTR_DIR, ATTR_IFACE, ATTR_KIND, ATTR_LAYER, ATTR_PROTO, ATTR_SUMMARY,
};
use vnet_wire::ethernet::EthernetAddress;

/// `micros` as milliseconds with three decimals (`15.000`).
pub fn format_ms(micros: u64) -> String {
    format!("{}.{:03}", micros / 1000, micros % 1000)
}

/// A filter line that does not read: a keyword without its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// `proto`, `device`, `dev` or `at` at the end of the line.
    #[error("`{word}` needs a value, e.g. `{word} {example}`")]
    MissingValue {
        /// The keyword as typed.
        word: String,
        /// A value that would fit.
        example: &'static str,
    },
}

/// Which events are shown: those of a protocol and/or of a device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Keep events whose protocol is this one (case-insensitive).
    pub proto: Option<String>,
    /// Keep events sent or received by this device (case-insensitive).
    pub device: Option<String>,
}

impl Filter {
    /// Whether `event` passes the filter.
    pub fn matches(&self, event: &WireEvent) -> bool {
        let proto_ok = self
            .proto
            .as_deref()
            .is_none_or(|p| event.proto.eq_ignore_ascii_case(p));
        let device_ok = self
            .device
            .as_deref()
            .is_none_or(|d| event.from.eq_ignore_ascii_case(d) || event.to.eq_ignore_ascii_case(d));
        proto_ok && device_ok
    }

    /// True when the filter keeps every event.
    pub fn is_empty(&self) -> bool {
        self.proto.is_none() && self.device.is_none()
    }

    /// `dns device r2`, `dns`, `device r2`, or `none`.
    pub fn describe(&self) -> String {
        match (&self.proto, &self.device) {
            (None, None) => "none".into(),
            (Some(p), None) => p.clone(),
            (None, Some(d)) => format!("device {d}"),
            (Some(p), Some(d)) => format!("{p} device {d}"),
        }
    }
}

/// One row of the event list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Position of the event in the whole log.
    pub index: usize,
    /// Send time in milliseconds with three decimals.
    pub time: String,
    /// The sending device.
    pub from: String,
    /// The receiving device.
    pub to: String,
    /// The highest protocol recognised.
    pub proto: String,
    /// One-line summary.
    pub summary: String,
}

impl Row {
    fn of(event: &WireEvent) -> Row {
        Row {
            index: event.index,
            time: format_ms(event.at_micros),
            from: event.from.clone(),
            to: event.to.clone(),
            proto: event.proto.clone(),
            summary: event.summary.clone(),
        }
    }

    /// The row as one line of text: time, from, to, protocol, summary.
    pub fn text(&self) -> String {
        format!(
            "{:>10} ms  {:<12} -> {:<12} {:<6} {}",
            self.time, self.from, self.to, self.proto, self.summary
        )
    }
}

/// One layer decision (or one decoded header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerLine {
    /// `L2`, `L3`, `L4` or `L7`.
    pub layer: String,
    /// The protocol (`eth`, `arp`, `ip`, `udp`, `dns`, …).
    pub proto: String,
    /// What the layer saw or decided.
    pub summary: String,
}

impl LayerLine {
    fn new(layer: &str, proto: &str, summary: impl Into<String>) -> LayerLine {
        LayerLine {
            layer: layer.into(),
            proto: proto.into(),
            summary: summary.into(),
        }
    }

    /// `L3 ip    route 10.0.2.0/24 → …`.
    pub fn text(&self) -> String {
        format!("{:<3} {:<5} {}", self.layer, self.proto, self.summary)
    }
}

/// Where a [`LayersView`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayersSource {
    /// The receiving device's frame span: its In and Out layers.
    Span,
    /// No span: the headers decoded from the frame's first bytes.
    Headers,
    /// A scripted change (`--at`), not a frame.
    Script,
    /// No event is selected.
    Nothing,
}

/// The selected event as the receiving device handled it: Packet Tracer's
/// "In Layers / Out Layers".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayersView {
    /// Where the lines come from.
    pub source: LayersSource,
    /// One line naming the device and the frame (`r1 eth0 ◂ DNS query …`).
    pub title: String,
    /// Why there are no layer decisions (`not traced: headers only`), if so.
    pub note: Option<String>,
    /// Arrival at the receiver in microseconds of virtual time (the span's
    /// start), when a span was found.
    pub arrived_micros: Option<u64>,
    /// The decisions taken on the way in (`vnet.dir` = `in`), in order; for
    /// [`LayersSource::Headers`], the headers decoded, lowest layer first.
    pub in_layers: Vec<LayerLine>,
    /// The decisions taken on the way out (`vnet.dir` = `out`), in order.
    pub out_layers: Vec<LayerLine>,
    /// Other events of the span (no `vnet.dir`), in order.
    pub other: Vec<LayerLine>,
}

impl LayersView {
    fn empty(source: LayersSource, title: String, note: Option<String>) -> LayersView {
        LayersView {
            source,
            title,
            note,
            arrived_micros: None,
            in_layers: Vec::new(),
            out_layers: Vec::new(),
            other: Vec::new(),
        }
    }
}

/// A frame span, indexed by the span id of its parent (the sender's span,
/// which the frame carried).
#[derive(Debug, Clone)]
struct FrameSpan {
    trace_id: String,
    device: String,
    iface: String,
    proto: String,
    layer: String,
    summary: String,
    start_nanos: u64,
    events: Vec<EventRecord>,
}

impl FrameSpan {
    fn of(span: &SpanRecord) -> Option<(String, FrameSpan)> {
        if span.attributes.get(ATTR_KIND).map(String::as_str) != Some("frame") {
            return None;
        }
        let parent = span.parent_span_id.clone()?;
        let attr = |key: &str| span.attributes.get(key).cloned().unwrap_or_default();
        Some((
            parent,
            FrameSpan {
                trace_id: span.trace_id.clone(),
                device: span.service.clone(),
                iface: attr(ATTR_IFACE),
                proto: attr(ATTR_PROTO),
                layer: attr(ATTR_LAYER),
                summary: attr(ATTR_SUMMARY),
                start_nanos: span.start_unix_nanos,
                events: span.events.clone(),
            },
        ))
    }

    fn view(&self) -> LayersView {
        let mut view = LayersView::empty(
            LayersSource::Span,
            format!("{} {}", self.device, self.summary),
            None,
        );
        view.arrived_micros = Some(self.start_nanos.saturating_sub(Outcome::unix_nanos(0)) / 1000);
        for ev in &self.events {
            let get = |key: &str, inherited: &str| {
                ev.attributes
                    .get(key)
                    .cloned()
                    .unwrap_or_else(|| inherited.to_string())
            };
            let line = LayerLine {
                layer: get(ATTR_LAYER, &self.layer),
                proto: get(ATTR_PROTO, &self.proto),
                summary: get(ATTR_SUMMARY, &ev.name),
            };
            match ev.attributes.get(ATTR_DIR).map(String::as_str) {
                Some("in") => view.in_layers.push(line),
                Some("out") => view.out_layers.push(line),
                _ => view.other.push(line),
            }
        }
        if view.in_layers.is_empty() && view.out_layers.is_empty() && view.other.is_empty() {
            view.note = Some("traced, but the device recorded no layer decisions".into());
        }
        view
    }
}

/// The event list of a run with a cursor and a filter (see the module docs).
#[derive(Debug, Clone)]
pub struct StepModel {
    events: Vec<WireEvent>,
    /// Frame spans by parent span id.
    frames: HashMap<String, Vec<FrameSpan>>,
    filter: Filter,
    /// Indices (into `events`) of the events the filter keeps, ascending.
    visible: Vec<usize>,
    /// Position of the cursor in `visible` (meaningless when it is empty).
    pos: usize,
    /// The event last selected: kept while the filter shows nothing, so
    /// the next filter lands near it.
    anchor: usize,
}

impl StepModel {
    /// A model of `events` (a run's event log, in order) with the frame
    /// spans of `traces`; the cursor on the first event, no filter.
    pub fn new(events: Vec<WireEvent>, traces: &[TraceData]) -> StepModel {
        let mut frames: HashMap<String, Vec<FrameSpan>> = HashMap::new();
        for (parent, frame) in traces
            .iter()
            .flat_map(|t| t.spans.iter())
            .filter_map(FrameSpan::of)
        {
            frames.entry(parent).or_default().push(frame);
        }
        let visible = (0..events.len()).collect();
        StepModel {
            events,
            frames,
            filter: Filter::default(),
            visible,
            pos: 0,
            anchor: 0,
        }
    }

    /// The whole event log.
    pub fn events(&self) -> &[WireEvent] {
        &self.events
    }

    /// The filter in force.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Number of rows the filter keeps.
    pub fn len(&self) -> usize {
        self.visible.len()
    }

    /// True when the filter keeps no row (or the log is empty).
    pub fn is_empty(&self) -> bool {
        self.visible.is_empty()
    }

    /// Position of the selected row among the visible rows.
    pub fn selected(&self) -> Option<usize> {
        (!self.visible.is_empty()).then_some(self.pos)
    }

    /// The selected event.
    pub fn selected_event(&self) -> Option<&WireEvent> {
        self.visible.get(self.pos).and_then(|&i| self.events.get(i))
    }

    /// The visible row at position `pos`.
    pub fn row(&self, pos: usize) -> Option<Row> {
        let i = *self.visible.get(pos)?;
        self.events.get(i).map(Row::of)
    }

    /// Every visible row, in order.
    pub fn rows(&self) -> Vec<Row> {
        self.visible
            .iter()
            .filter_map(|&i| self.events.get(i))
            .map(Row::of)
            .collect()
    }

    fn select(&mut self, pos: usize) -> bool {
        match self.visible.get(pos) {
            Some(&i) => {
                let moved = pos != self.pos;
                self.pos = pos;
                self.anchor = i;
                moved
            }
            None => false,
        }
    }

    /// Moves to the next visible row; false at the last one.
    // A cursor move, not an iterator: the name is the step mode's "next".
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> bool {
        self.select(self.pos.saturating_add(1))
    }

    /// Moves to the previous visible row; false at the first one.
    pub fn prev(&mut self) -> bool {
        match self.pos.checked_sub(1) {
            Some(pos) => self.select(pos),
            None => false,
        }
    }

    /// Moves `delta` rows (negative: back), stopping at either end; false
    /// if the cursor did not move.
    pub fn move_by(&mut self, delta: isize) -> bool {
        let Some(last) = self.visible.len().checked_sub(1) else {
            return false;
        };
        let pos = self.pos.saturating_add_signed(delta).min(last);
        self.select(pos)
    }

    /// Moves to the first visible row.
    pub fn first(&mut self) -> bool {
        self.select(0)
    }

    /// Moves to the last visible row.
    pub fn last(&mut self) -> bool {
        match self.visible.len().checked_sub(1) {
            Some(pos) => self.select(pos),
            None => false,
        }
    }

    /// Runs to the next visible event (after the selected one) of protocol
    /// `proto` (case-insensitive); false, not moving, when there is none.
    pub fn next_of_proto(&mut self, proto: &str) -> bool {
        let start = self.pos.saturating_add(1);
        let found = self.visible.iter().skip(start).position(|&i| {
            self.events
                .get(i)
                .is_some_and(|e| e.proto.eq_ignore_ascii_case(proto))
        });
        match found {
            Some(offset) => self.select(start + offset),
            None => false,
        }
    }

    /// Shows only events of protocol `proto` and/or of `device` (None or
    /// empty: any). The cursor goes to the matching event nearest the one
    /// selected before (the later of two equally near). Returns the number
    /// of rows kept; with none, the cursor is remembered for the next
    /// filter.
    pub fn set_filter(&mut self, proto: Option<String>, device: Option<String>) -> usize {
        let clean = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        self.filter = Filter {
            proto: clean(proto),
            device: clean(device),
        };
        self.visible = self
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| self.filter.matches(e))
            .map(|(i, _)| i)
            .collect();
        let pos = match self.visible.binary_search(&self.anchor) {
            Ok(pos) => pos,
            Err(after) => match (after.checked_sub(1), self.visible.get(after)) {
                (None, _) => 0,
                (Some(before), None) => before,
                (Some(before), Some(&later)) => {
                    let d_later = later - self.anchor;
                    let d_before = self.anchor - self.visible[before];
                    if d_later <= d_before { after } else { before }
                }
            },
        };
        self.pos = 0;
        self.select(pos);
        self.visible.len()
    }

    /// The devices of the log (senders and receivers, not `script`), sorted.
    pub fn devices(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .events
            .iter()
            .flat_map(|e| [e.from.as_str(), e.to.as_str()])
            .filter(|d| *d != "script")
            .collect();
        set.into_iter().map(String::from).collect()
    }

    /// Reads a one-line filter: words `proto P` and `device D` (also
    /// `dev D`, `at D`); a bare word is a device when the log has a device
    /// of that name, else a protocol. Empty: no filter. Apply the result
    /// with [`StepModel::set_filter`].
    pub fn parse_filter(&self, text: &str) -> Result<Filter, FilterError> {
        let devices = self.devices();
        let mut filter = Filter::default();
        let mut words = text.split_whitespace();
        while let Some(word) = words.next() {
            let key = word.to_ascii_lowercase();
            match key.as_str() {
                "proto" | "protocol" | "device" | "dev" | "at" => {
                    let example = if key.starts_with("proto") {
                        "dns"
                    } else {
                        "r2"
                    };
                    let value = words.next().ok_or_else(|| FilterError::MissingValue {
                        word: word.to_string(),
                        example,
                    })?;
                    if key.starts_with("proto") {
                        filter.proto = Some(value.to_string());
                    } else {
                        filter.device = Some(value.to_string());
                    }
                }
                _ if devices.iter().any(|d| d.eq_ignore_ascii_case(word)) => {
                    filter.device = Some(word.to_string());
                }
                _ => filter.proto = Some(word.to_string()),
            }
        }
        Ok(filter)
    }

    /// The selected event as its receiver handled it (see the module docs).
    pub fn layers(&self) -> LayersView {
        let Some(event) = self.selected_event() else {
            let why = if self.events.is_empty() {
                "no events in this run"
            } else {
                "no event matches the filter"
            };
            return LayersView::empty(LayersSource::Nothing, String::new(), Some(why.into()));
        };
        if event.from == "script" && event.proto == "script" {
            return LayersView::empty(
                LayersSource::Script,
                format!("{} {}: {}", event.to, event.to_iface, event.summary),
                Some("a scripted change (--at), not a frame".into()),
            );
        }
        if let Some(frame) = self.frame_span(event) {
            return frame.view();
        }
        let note = if event.trace.is_some() {
            format!(
                "no span of {} for this frame (over the trace budget, lost or not handled): headers only",
                event.to
            )
        } else {
            "not traced: headers only".to_string()
        };
        let mut view = LayersView::empty(
            LayersSource::Headers,
            format!("{} {} ◂ {}", event.to, event.to_iface, event.summary),
            Some(note),
        );
        view.in_layers = headers(event);
        view
    }

    /// The receiver's span for `event`: the earliest one at or after the
    /// send time, one of the same protocol preferred.
    fn frame_span(&self, event: &WireEvent) -> Option<&FrameSpan> {
        let (trace_id, span_id) = event.trace.as_ref()?;
        let sent = Outcome::unix_nanos(event.at_micros);
        self.frames
            .get(span_id)?
            .iter()
            .filter(|f| {
                f.trace_id == *trace_id
                    && f.device == event.to
                    && f.iface == event.to_iface
                    && f.start_nanos >= sent
            })
            .min_by_key(|f| (f.proto != event.proto, f.start_nanos))
    }
}

/// The IPv4 protocol number as a name.
fn ip_proto_name(n: u8) -> String {
    match n {
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        n => n.to_string(),
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn ipv4_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(Ipv4Addr::from(a))
}

/// The headers of `event`'s frame, lowest layer first, decoded from its
/// first bytes; the highest layer's line is [`vnet_wire::describe`]'s
/// summary (of the whole frame when the head holds it all, else the one
/// the log recorded for the whole frame).
fn headers(event: &WireEvent) -> Vec<LayerLine> {
    let head = event.head.as_slice();
    let whole = event.len.saturating_sub(vnet_wire::ethernet::FCS_LEN) <= head.len();
    let (top_layer, top_proto, top_text) = if whole && !head.is_empty() {
        let s = vnet_wire::describe::describe(head);
        (s.layer.to_string(), s.proto.to_string(), s.text)
    } else {
        (
            event.layer.clone(),
            event.proto.clone(),
            event.summary.clone(),
        )
    };
    let mut lines = Vec::new();
    let (Some(dst), Some(src), Some(ethertype)) = (
        EthernetAddress::from_bytes(head),
        head.get(6..).and_then(EthernetAddress::from_bytes),
        u16_at(head, 12),
    ) else {
        lines.push(LayerLine::new(&top_layer, &top_proto, top_text));
        return lines;
    };
    if top_proto == "eth" {
        lines.push(LayerLine::new(&top_layer, &top_proto, top_text));
        return lines;
    }
    let kind = match ethertype {
        0x0800 => " (IPv4)",
        0x0806 => " (ARP)",
        0x86dd => " (IPv6)",
        _ => "",
    };
    lines.push(LayerLine::new(
        "L2",
        "eth",
        format!("Ethernet {src} → {dst} type {ethertype:#06x}{kind}"),
    ));
    if let Some(ip) = ipv4_header(head).filter(|_| top_proto != "ip") {
        lines.push(LayerLine::new("L3", "ip", ip.text()));
        let l4 = 14 + ip.header_len;
        if top_layer == "L7" {
            let ports = (u16_at(head, l4), u16_at(head, l4 + 2));
            if let (Some(sp), Some(dp)) = ports {
                let (src, dst) = (ip.src, ip.dst);
                let name = ip_proto_name(ip.proto);
                lines.push(LayerLine::new(
                    "L4",
                    &name.to_ascii_lowercase(),
                    format!("{name} {src}:{sp} → {dst}:{dp}"),
                ));
            }
        }
    }
    lines.push(LayerLine::new(&top_layer, &top_proto, top_text));
    lines
}

/// The IPv4 header fields the fallback shows.
struct Ipv4Header {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    proto: u8,
    total_len: u16,
    header_len: usize,
}

impl Ipv4Header {
    fn text(&self) -> String {
        format!(
            "IPv4 {} → {} ttl={} proto={} len={}",
            self.src,
            self.dst,
            self.ttl,
            ip_proto_name(self.proto),
            self.total_len
        )
    }
}

fn ipv4_header(head: &[u8]) -> Option<Ipv4Header> {
    if u16_at(head, 12)? != 0x0800 {
        return None;
    }
    let ver_ihl = *head.get(14)?;
    let header_len = usize::from(ver_ihl & 0x0f) * 4;
    if ver_ihl >> 4 != 4 || header_len < 20 {
        return None;
    }
    Some(Ipv4Header {
        total_len: u16_at(head, 16)?,
        ttl: *head.get(22)?,
        proto: *head.get(23)?,
        src: ipv4_at(head, 26)?,
        dst: ipv4_at(head, 30)?,
        header_len,
    })
}
