//! The step-mode model (`vnet sim --step`) through its public API: moving,
//! filtering, "run to the next event of a protocol", and the In / Out
//! layers of the selected frame, on hand-made events and spans; and once
//! on a real simulation of configs/lab.toml.

use std::collections::BTreeMap;
use std::path::Path;
use vnet_sim::events::WireEvent;
use vnet_sim::step::{Filter, LayersSource, StepModel};
use vnet_sim::{Outcome, SimCommand, SimOptions};
use vnet_timeline::model::{EventRecord, SpanRecord, TraceData};
use vnet_topology::lab::Lab;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// An event `from` → `to` at `at_ms` of protocol `proto`, untraced, no bytes.
fn ev(at_ms: u64, from: &str, to: &str, proto: &str) -> WireEvent {
    WireEvent {
        index: 0,
        at_micros: at_ms * 1000,
        from: from.into(),
        from_iface: "eth0".into(),
        to: to.into(),
        to_iface: "eth1".into(),
        layer: "L7".into(),
        proto: proto.into(),
        summary: format!("{proto} from {from} to {to}"),
        len: 64,
        head: Vec::new(),
        trace: None,
    }
}

/// `events` numbered in order.
fn numbered(mut events: Vec<WireEvent>) -> Vec<WireEvent> {
    for (i, e) in events.iter_mut().enumerate() {
        e.index = i;
    }
    events
}

/// A small log: client → sw1 → r1 → r2 and back, with ARP and DNS.
///
/// | # | ms | from   | to     | proto |
/// |---|----|--------|--------|-------|
/// | 0 | 0  | client | sw1    | arp   |
/// | 1 | 1  | sw1    | r1     | arp   |
/// | 2 | 2  | client | sw1    | dns   |
/// | 3 | 3  | sw1    | r1     | dns   |
/// | 4 | 4  | r1     | r2     | arp   |
/// | 5 | 5  | r1     | r2     | dns   |
/// | 6 | 6  | r2     | r1     | dns   |
/// | 7 | 7  | r1     | sw1    | tcp   |
fn log() -> Vec<WireEvent> {
    numbered(vec![
        ev(0, "client", "sw1", "arp"),
        ev(1, "sw1", "r1", "arp"),
        ev(2, "client", "sw1", "dns"),
        ev(3, "sw1", "r1", "dns"),
        ev(4, "r1", "r2", "arp"),
        ev(5, "r1", "r2", "dns"),
        ev(6, "r2", "r1", "dns"),
        ev(7, "r1", "sw1", "tcp"),
    ])
}

fn model() -> StepModel {
    StepModel::new(log(), &[])
}

/// Indices (in the whole log) of the visible rows.
fn visible(m: &StepModel) -> Vec<usize> {
    m.rows().iter().map(|r| r.index).collect()
}

fn selected_index(m: &StepModel) -> Option<usize> {
    m.selected_event().map(|e| e.index)
}

#[test]
fn next_and_prev_stop_at_the_ends() {
    let mut m = model();
    assert_eq!(m.selected(), Some(0));
    assert!(!m.prev(), "nothing before the first event");
    assert_eq!(m.selected(), Some(0));
    for i in 1..8 {
        assert!(m.next());
        assert_eq!(m.selected(), Some(i));
    }
    assert!(!m.next(), "nothing after the last event");
    assert_eq!(m.selected(), Some(7));
    assert!(m.prev());
    assert_eq!(m.selected(), Some(6));
}

#[test]
fn first_last_and_move_by_clamp() {
    let mut m = model();
    assert!(m.last());
    assert_eq!(m.selected(), Some(7));
    assert!(!m.last());
    assert!(m.first());
    assert_eq!(m.selected(), Some(0));
    assert!(m.move_by(100));
    assert_eq!(m.selected(), Some(7));
    assert!(m.move_by(-3));
    assert_eq!(m.selected(), Some(4));
    assert!(m.move_by(-100));
    assert_eq!(m.selected(), Some(0));
    assert!(!m.move_by(-1));
}

#[test]
fn rows_show_time_in_ms_from_to_proto_and_summary() {
    let mut events = log();
    events[3].at_micros = 15_250;
    let m = StepModel::new(events, &[]);
    let row = m.row(3).expect("row 3");
    assert_eq!(row.index, 3);
    assert_eq!(row.time, "15.250");
    assert_eq!((row.from.as_str(), row.to.as_str()), ("sw1", "r1"));
    assert_eq!(row.proto, "dns");
    assert_eq!(row.summary, "dns from sw1 to r1");
    let text = row.text();
    for part in ["15.250 ms", "sw1", "r1", "dns", "dns from sw1 to r1"] {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
    assert_eq!(m.row(8), None);
    assert_eq!(m.len(), 8);
}

#[test]
fn filter_by_proto_keeps_the_cursor_on_the_nearest_match() {
    let mut m = model();
    m.move_by(4); // event 4: arp r1 -> r2
    assert_eq!(m.set_filter(Some("DNS".into()), None), 4);
    assert_eq!(visible(&m), [2, 3, 5, 6]);
    // 3 and 5 are equally near 4: the later one.
    assert_eq!(selected_index(&m), Some(5));
    assert_eq!(m.selected(), Some(2));
    // Moves stay within the filter.
    assert!(m.next());
    assert_eq!(selected_index(&m), Some(6));
    assert!(!m.next());
    assert!(m.first());
    assert_eq!(selected_index(&m), Some(2));
    assert!(!m.prev());

    m.last(); // event 6
    assert_eq!(m.set_filter(Some("arp".into()), None), 3);
    assert_eq!(visible(&m), [0, 1, 4]);
    assert_eq!(selected_index(&m), Some(4), "nearest arp before 6");
    assert_eq!(m.filter().proto.as_deref(), Some("arp"));
}

#[test]
fn filter_by_device_matches_sender_or_receiver() {
    let mut m = model();
    assert_eq!(m.set_filter(None, Some("r2".into())), 3);
    assert_eq!(visible(&m), [4, 5, 6]);
    assert_eq!(selected_index(&m), Some(4), "nearest to event 0");
    assert_eq!(m.set_filter(None, Some("client".into())), 2);
    assert_eq!(visible(&m), [0, 2]);
    assert_eq!(selected_index(&m), Some(2), "nearest to event 4");
}

#[test]
fn filter_by_proto_and_device_and_clearing() {
    let mut m = model();
    assert_eq!(m.set_filter(Some("dns".into()), Some("sw1".into())), 2);
    assert_eq!(visible(&m), [2, 3]);
    m.last();
    assert_eq!(selected_index(&m), Some(3));
    // Empty strings mean "any"; the selected event stays selected.
    assert_eq!(m.set_filter(Some(" ".into()), Some(String::new())), 8);
    assert!(m.filter().is_empty());
    assert_eq!(selected_index(&m), Some(3));
    assert_eq!(m.selected(), Some(3));
}

#[test]
fn a_filter_matching_nothing_remembers_the_cursor() {
    let mut m = model();
    m.move_by(5);
    assert_eq!(m.set_filter(Some("ospf".into()), None), 0);
    assert!(m.is_empty());
    assert_eq!(m.selected(), None);
    assert_eq!(m.selected_event(), None);
    assert!(!m.next() && !m.prev() && !m.first() && !m.last());
    assert!(!m.next_of_proto("dns"));
    let view = m.layers();
    assert_eq!(view.source, LayersSource::Nothing);
    assert_eq!(view.note.as_deref(), Some("no event matches the filter"));
    assert_eq!(m.set_filter(None, None), 8);
    assert_eq!(selected_index(&m), Some(5));
}

#[test]
fn next_of_proto_runs_to_the_next_event_of_that_protocol() {
    let mut m = model();
    assert!(m.next_of_proto("dns"));
    assert_eq!(selected_index(&m), Some(2));
    assert!(m.next_of_proto("DNS"), "case-insensitive");
    assert_eq!(selected_index(&m), Some(3));
    assert!(m.next_of_proto("dns"));
    assert_eq!(selected_index(&m), Some(5));
    assert!(m.next_of_proto("tcp"));
    assert_eq!(selected_index(&m), Some(7));
    assert!(!m.next_of_proto("dns"), "no dns after the last event");
    assert_eq!(selected_index(&m), Some(7), "the cursor stays");

    // Within the filter only.
    m.first();
    m.set_filter(None, Some("r2".into()));
    assert_eq!(selected_index(&m), Some(4));
    assert!(m.next_of_proto("dns"));
    assert_eq!(selected_index(&m), Some(5));
    assert!(m.next_of_proto("dns"));
    assert_eq!(selected_index(&m), Some(6));
    assert!(!m.next_of_proto("tcp"), "event 7 is not r2's");
}

#[test]
fn parse_filter_reads_protocols_and_devices() {
    let m = model();
    let f = |text: &str| m.parse_filter(text).expect("parses");
    let filter = |p: Option<&str>, d: Option<&str>| Filter {
        proto: p.map(String::from),
        device: d.map(String::from),
    };
    assert_eq!(f(""), filter(None, None));
    assert_eq!(f("dns"), filter(Some("dns"), None));
    assert_eq!(f("device r2"), filter(None, Some("r2")));
    assert_eq!(f("r2"), filter(None, Some("r2")), "a device of the log");
    assert_eq!(f("dns r2"), filter(Some("dns"), Some("r2")));
    assert_eq!(f("proto arp dev sw1"), filter(Some("arp"), Some("sw1")));
    assert!(m.parse_filter("device").is_err());
    assert_eq!(filter(Some("dns"), Some("r2")).describe(), "dns device r2");
    assert_eq!(filter(None, None).describe(), "none");
    assert_eq!(
        m.devices(),
        ["client", "r1", "r2", "sw1"].map(String::from).to_vec()
    );
}

// ---------------------------------------------------------------- layers

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn layer_event(
    at_micros: u64,
    dir: Option<&str>,
    layer: &str,
    proto: &str,
    text: &str,
) -> EventRecord {
    let mut a = attrs(&[
        ("vnet.layer", layer),
        ("vnet.proto", proto),
        ("vnet.summary", text),
    ]);
    if let Some(dir) = dir {
        a.insert("vnet.dir".into(), dir.into());
    }
    EventRecord {
        name: "layer".into(),
        time_unix_nanos: Outcome::unix_nanos(at_micros),
        attributes: a,
    }
}

/// The frame span of `device` for a frame arriving on `iface` at
/// `at_micros`, sent under span `parent`.
fn frame_span(
    span_id: &str,
    parent: &str,
    device: &str,
    iface: &str,
    at_micros: u64,
    proto: &str,
    events: Vec<EventRecord>,
) -> SpanRecord {
    SpanRecord {
        trace_id: TRACE.into(),
        span_id: span_id.into(),
        parent_span_id: Some(parent.into()),
        name: format!("{device} {iface} ◂ {proto}"),
        service: device.into(),
        start_unix_nanos: Outcome::unix_nanos(at_micros),
        end_unix_nanos: Outcome::unix_nanos(at_micros),
        attributes: attrs(&[
            ("vnet.kind", "frame"),
            ("vnet.iface", iface),
            ("vnet.proto", proto),
            ("vnet.layer", "L7"),
            ("vnet.summary", &format!("{iface} ◂ {proto} at {at_micros}")),
        ]),
        events,
    }
}

/// The r1 span of a DNS query forwarded: two In lines, two Out lines and
/// one event without a direction.
fn r1_forwarding(span_id: &str, parent: &str, at_micros: u64) -> SpanRecord {
    frame_span(
        span_id,
        parent,
        "r1",
        "eth1",
        at_micros,
        "dns",
        vec![
            layer_event(
                at_micros,
                Some("in"),
                "L2",
                "eth",
                "accepted on eth1 (our MAC)",
            ),
            layer_event(
                at_micros,
                Some("in"),
                "L3",
                "ip",
                "10.0.1.100 → 10.0.2.53 ttl=64: to forward",
            ),
            layer_event(
                at_micros,
                Some("out"),
                "L3",
                "ip",
                "route 10.0.2.0/24 → next hop 10.0.2.53 out eth2",
            ),
            layer_event(at_micros, Some("out"), "L2", "arp", "ARP cache hit"),
            layer_event(at_micros, None, "L4", "tcp", "state change"),
        ],
    )
}

/// Event 3 of [`log`] (sw1 → r1 dns, sent at 3 ms) carrying span `parent`.
fn traced_log(parent: &str) -> Vec<WireEvent> {
    let mut events = log();
    events[3].trace = Some((TRACE.into(), parent.into()));
    events
}

fn trace(spans: Vec<SpanRecord>) -> Vec<TraceData> {
    vec![TraceData {
        trace_id: TRACE.into(),
        spans,
    }]
}

fn texts(lines: &[vnet_sim::step::LayerLine]) -> Vec<String> {
    lines.iter().map(|l| l.text()).collect()
}

#[test]
fn layers_of_a_traced_event_are_split_in_and_out() {
    let parent = "00000000000000a1";
    let traces = trace(vec![r1_forwarding("00000000000000b1", parent, 4000)]);
    let mut m = StepModel::new(traced_log(parent), &traces);
    m.move_by(3);
    let view = m.layers();
    assert_eq!(view.source, LayersSource::Span);
    assert_eq!(view.note, None);
    assert_eq!(view.title, "r1 eth1 ◂ dns at 4000");
    assert_eq!(view.arrived_micros, Some(4000));
    assert_eq!(
        texts(&view.in_layers),
        [
            "L2  eth   accepted on eth1 (our MAC)",
            "L3  ip    10.0.1.100 → 10.0.2.53 ttl=64: to forward",
        ]
    );
    assert_eq!(
        texts(&view.out_layers),
        [
            "L3  ip    route 10.0.2.0/24 → next hop 10.0.2.53 out eth2",
            "L2  arp   ARP cache hit",
        ]
    );
    assert_eq!(texts(&view.other), ["L4  tcp   state change"]);
}

#[test]
fn layers_pick_the_receivers_span_at_arrival() {
    let parent = "00000000000000a1";
    let traces = trace(vec![
        // Later frame of the same sender span to the same interface.
        r1_forwarding("00000000000000b3", parent, 9000),
        // The frame arrived at r1, but on another interface.
        frame_span(
            "00000000000000b4",
            parent,
            "r1",
            "eth0",
            4000,
            "dns",
            vec![],
        ),
        // The same frame flooded to another device.
        frame_span(
            "00000000000000b5",
            parent,
            "r2",
            "eth1",
            4000,
            "dns",
            vec![],
        ),
        // Started before the frame was sent.
        frame_span(
            "00000000000000b6",
            parent,
            "r1",
            "eth1",
            2000,
            "dns",
            vec![],
        ),
        // The right one.
        r1_forwarding("00000000000000b2", parent, 4000),
        // Another parent.
        r1_forwarding("00000000000000b7", "00000000000000ff", 4000),
    ]);
    let mut m = StepModel::new(traced_log(parent), &traces);
    m.move_by(3);
    let view = m.layers();
    assert_eq!(view.source, LayersSource::Span);
    assert_eq!(view.arrived_micros, Some(4000));
    assert_eq!(view.in_layers.len(), 2);
}

/// An Ethernet + IPv4 + UDP frame 10.0.1.100:49152 → 10.0.2.53:53 with a
/// DNS query for `www.example.com` A.
fn dns_query_frame() -> Vec<u8> {
    let mut dns = vec![0x1a, 0x2b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["www", "example", "com"] {
        dns.push(label.len() as u8);
        dns.extend_from_slice(label.as_bytes());
    }
    dns.extend_from_slice(&[0, 0, 1, 0, 1]);
    let udp_len = (8 + dns.len()) as u16;
    let ip_len = 20 + udp_len;
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 1, 100, 10, 0, 2, 53,
    ];
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    let sum = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&49152u16.to_be_bytes());
    f.extend_from_slice(&53u16.to_be_bytes());
    f.extend_from_slice(&udp_len.to_be_bytes());
    f.extend_from_slice(&[0, 0]); // no checksum
    f.extend_from_slice(&dns);
    f
}

#[test]
fn layers_of_an_untraced_event_decode_the_headers() {
    let mut events = log();
    let frame = dns_query_frame();
    events[3].len = frame.len() + 4;
    events[3].head = frame;
    let mut m = StepModel::new(
        events,
        &trace(vec![r1_forwarding(
            "00000000000000b1",
            "00000000000000a1",
            4000,
        )]),
    );
    m.move_by(3);
    let view = m.layers();
    assert_eq!(view.source, LayersSource::Headers);
    assert_eq!(view.note.as_deref(), Some("not traced: headers only"));
    assert!(view.out_layers.is_empty() && view.other.is_empty());
    assert_eq!(view.arrived_micros, None);
    assert_eq!(
        texts(&view.in_layers),
        [
            "L2  eth   Ethernet 02:00:00:00:00:01 → 02:00:00:00:00:02 type 0x0800 (IPv4)",
            "L3  ip    IPv4 10.0.1.100 → 10.0.2.53 ttl=64 proto=UDP len=61",
            "L4  udp   UDP 10.0.1.100:49152 → 10.0.2.53:53",
            "L7  dns   DNS query A www.example.com (id 0x1a2b)",
        ]
    );
    assert_eq!(view.title, "r1 eth1 ◂ dns from sw1 to r1");
}

#[test]
fn layers_of_a_truncated_or_empty_head_fall_back_to_the_summary() {
    let mut events = log();
    // The log keeps 128 bytes of a longer frame: the top line is the
    // summary recorded for the whole frame.
    let frame = dns_query_frame();
    events[3].len = 600;
    events[3].head = frame[..40].to_vec();
    events[4].head = vec![1, 2, 3];
    let mut m = StepModel::new(events, &[]);
    m.move_by(3);
    let lines = texts(&m.layers().in_layers);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[3], "L7  dns   dns from sw1 to r1");
    m.next();
    assert_eq!(
        texts(&m.layers().in_layers),
        ["L7  arp   arp from r1 to r2"]
    );
}

#[test]
fn layers_of_a_traced_frame_without_a_span_say_so() {
    let mut m = StepModel::new(traced_log("00000000000000a1"), &[]);
    m.move_by(3);
    let view = m.layers();
    assert_eq!(view.source, LayersSource::Headers);
    let note = view.note.unwrap_or_default();
    assert!(
        note.contains("no span of r1") && note.ends_with("headers only"),
        "{note}"
    );
}

#[test]
fn layers_of_a_scripted_change_and_of_an_empty_log() {
    let mut events = log();
    events.push(WireEvent {
        index: 8,
        at_micros: 8000,
        from: "script".into(),
        from_iface: "-".into(),
        to: "r2".into(),
        to_iface: "eth1".into(),
        layer: "--".into(),
        proto: "script".into(),
        summary: "link down".into(),
        len: 0,
        head: Vec::new(),
        trace: None,
    });
    let mut m = StepModel::new(events, &[]);
    m.last();
    let view = m.layers();
    assert_eq!(view.source, LayersSource::Script);
    assert_eq!(view.title, "r2 eth1: link down");
    assert!(!m.devices().contains(&"script".to_string()));
    assert_eq!(
        m.set_filter(None, Some("r2".into())),
        4,
        "a change of r2 is r2's"
    );

    let empty = StepModel::new(Vec::new(), &[]);
    assert!(empty.is_empty());
    assert_eq!(empty.selected(), None);
    assert_eq!(
        empty.layers().note.as_deref(),
        Some("no events in this run")
    );
}

// ---------------------------------------------------------------- a real run

#[test]
fn lab_dns_query_at_r1_shows_in_l3_and_out_l3_route() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/lab.toml");
    let lab = Lab::load(&path).expect("configs/lab.toml loads");
    let command = SimCommand {
        device: "client".into(),
        args: vec!["browse".into(), "http://www.example.com/".into()],
    };
    let outcome = vnet_sim::simulate(&lab, &SimOptions::default(), Some(&command), &mut |_| {})
        .expect("simulation runs");
    let traces = vnet_sim::spans::traces(&outcome.spans);
    let mut m = StepModel::new(outcome.events.clone(), &traces);
    assert!(m.set_filter(None, Some("r1".into())) > 0);
    m.first();
    let found = loop {
        let e = m.selected_event().expect("an event");
        if e.to == "r1" && e.proto == "dns" && e.summary.starts_with("DNS query") {
            break true;
        }
        if !m.next_of_proto("dns") {
            break false;
        }
    };
    assert!(found, "a DNS query arrives at r1");
    let view = m.layers();
    assert_eq!(view.source, LayersSource::Span, "{view:#?}");
    let event = m.selected_event().expect("selected");
    assert!(
        view.arrived_micros.is_some_and(|t| t > event.at_micros),
        "arrives after it is sent: {view:#?}"
    );
    assert!(
        view.in_layers.iter().any(|l| l.layer == "L3"),
        "an In L3 line: {view:#?}"
    );
    assert!(
        view.out_layers
            .iter()
            .any(|l| l.layer == "L3" && l.summary.starts_with("route")),
        "an Out L3 route line: {view:#?}"
    );
}
