//! The switch device driven directly through the `Device` trait: frames in,
//! a recording `Transmit` out, virtual time. No sockets, no sleeps.

use std::time::Duration;
use vnet_runtime::{Device, DeviceConfig};
use vnet_stack::Transmit;
use vnet_stack::time::Instant;
use vnet_switch::Switch;
use vnet_wire::ethernet::EthernetAddress;
use vnet_wire::trace::{Direction, TraceContext, TraceEvent, TraceValue};

/// What the switch sent and recorded.
#[derive(Default)]
struct Recorder {
    sent: Vec<(usize, Vec<u8>)>,
    trace: Option<TraceContext>,
    events: Vec<TraceEvent>,
}

impl Transmit for Recorder {
    fn transmit(&mut self, port: usize, frame: &[u8]) {
        self.sent.push((port, frame.to_vec()));
    }
    fn trace(&self) -> Option<TraceContext> {
        self.trace
    }
    fn record(&mut self, event: TraceEvent) {
        self.events.push(event);
    }
}

fn mac(n: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0, 0, 0, 0, n])
}

const MULTICAST: EthernetAddress = EthernetAddress([0x01, 0x00, 0x5e, 0, 0, 1]);

/// A switch with `ports` ports (`eth0`…) and the given table settings.
fn switch(ports: usize, capacity: usize, aging_secs: u64) -> Switch {
    let interfaces: Vec<serde_json::Value> = (0..ports)
        .map(|p| serde_json::json!({ "name": format!("eth{p}"), "mac": format!("02:53:00:00:00:{p:02x}") }))
        .collect();
    let config: DeviceConfig = serde_json::from_value(serde_json::json!({
        "name": "sw1",
        "kind": "switch",
        "interfaces": interfaces,
        "switch": { "mac_table_capacity": capacity, "mac_aging_secs": aging_secs },
    }))
    .expect("switch config");
    Switch::new(&config)
}

/// An Ethernet II frame with a small payload that identifies it.
fn frame(dst: EthernetAddress, src: EthernetAddress) -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x88, 0xb5]); // local experimental EtherType
    f.extend_from_slice(&[0xab; 46]);
    f
}

/// Sends one frame into `port` at `now`; returns the ports it went out of,
/// in order, after checking each copy is the frame unchanged.
fn send(
    sw: &mut Switch,
    now: Instant,
    port: usize,
    dst: EthernetAddress,
    src: EthernetAddress,
) -> Vec<usize> {
    let mut tx = Recorder::default();
    let original = frame(dst, src);
    let mut buf = original.clone();
    sw.on_frame(now, port, &mut buf, &mut tx);
    for (_, sent) in &tx.sent {
        assert_eq!(sent, &original, "the switch forwards frames unchanged");
    }
    tx.sent.into_iter().map(|(p, _)| p).collect()
}

/// The `mac` table as (MAC, PORT, AGE) rows.
fn mac_rows(sw: &Switch, now: Instant) -> Vec<Vec<String>> {
    sw.table(now, "mac").expect("mac table").rows
}

fn row(mac: EthernetAddress, port: &str, age: &str) -> Vec<String> {
    vec![mac.to_string(), port.to_string(), age.to_string()]
}

#[test]
fn learns_then_sends_unicast_out_of_exactly_one_port() {
    let mut sw = switch(4, 1024, 300);
    let t0 = Instant::ZERO;
    // A (eth0) does not know B yet: flooded, and A is learned.
    assert_eq!(send(&mut sw, t0, 0, mac(2), mac(1)), vec![1, 2, 3]);
    // B (eth2) answers A: A is known, one port only; B is learned.
    assert_eq!(send(&mut sw, t0, 2, mac(1), mac(2)), vec![0]);
    assert_eq!(send(&mut sw, t0, 0, mac(2), mac(1)), vec![2]);
    let c = sw.counters();
    assert_eq!(
        (c.bridge.learned, c.bridge.forwarded, c.bridge.flooded),
        (2, 2, 1)
    );
    assert_eq!(c.mac_entries, 2);
    let later = Instant::from_secs(7);
    assert_eq!(
        mac_rows(&sw, later),
        vec![row(mac(1), "eth0", "7s"), row(mac(2), "eth2", "7s")]
    );
    assert_eq!(
        sw.table(later, "mac").expect("mac").columns,
        vec!["MAC", "PORT", "AGE"]
    );
    assert!(sw.table(later, "routes").is_none());
    assert_eq!(sw.tables(), vec!["mac"]);
}

#[test]
fn broadcast_multicast_and_unknown_unicast_flood_to_every_port_but_ingress() {
    let mut sw = switch(4, 1024, 300);
    let t0 = Instant::ZERO;
    assert_eq!(
        send(&mut sw, t0, 1, EthernetAddress::BROADCAST, mac(1)),
        vec![0, 2, 3]
    );
    assert_eq!(send(&mut sw, t0, 3, MULTICAST, mac(3)), vec![0, 1, 2]);
    assert_eq!(send(&mut sw, t0, 2, mac(9), mac(2)), vec![0, 1, 3]);
    // A group source address is never learned, and frames to it still flood.
    assert_eq!(send(&mut sw, t0, 0, MULTICAST, MULTICAST), vec![1, 2, 3]);
    let c = sw.counters();
    assert_eq!((c.bridge.flooded, c.bridge.forwarded), (4, 0));
    assert_eq!(c.mac_entries, 3);
}

#[test]
fn frame_to_a_station_on_the_ingress_port_is_filtered() {
    let mut sw = switch(3, 1024, 300);
    let t0 = Instant::ZERO;
    // A and B hang off the same port (behind another switch or a hub).
    send(&mut sw, t0, 1, EthernetAddress::BROADCAST, mac(1));
    send(&mut sw, t0, 1, EthernetAddress::BROADCAST, mac(2));
    assert!(send(&mut sw, t0, 1, mac(1), mac(2)).is_empty());
    assert_eq!(sw.counters().bridge.filtered, 1);
}

#[test]
fn entries_age_out_after_the_configured_time() {
    let mut sw = switch(3, 1024, 10);
    let t0 = Instant::from_secs(100);
    send(&mut sw, t0, 0, EthernetAddress::BROADCAST, mac(1));
    assert_eq!(sw.poll_at(), Some(t0 + Duration::from_secs(10)));
    let just_before = t0 + Duration::from_millis(9_999);
    let mut tx = Recorder::default();
    sw.poll(just_before, &mut tx);
    assert_eq!(sw.counters().bridge.aged_out, 0);
    assert_eq!(send(&mut sw, just_before, 2, mac(1), mac(2)), vec![0]);
    // B was refreshed at `just_before`; A was not.
    let expiry = t0 + Duration::from_secs(10);
    assert_eq!(sw.poll_at(), Some(expiry));
    sw.poll(expiry, &mut tx);
    assert!(tx.sent.is_empty(), "ageing sends nothing");
    let c = sw.counters();
    assert_eq!((c.bridge.aged_out, c.mac_entries), (1, 1));
    assert_eq!(mac_rows(&sw, expiry), vec![row(mac(2), "eth2", "0s")]);
    // A is unknown again: flooded.
    assert_eq!(send(&mut sw, expiry, 2, mac(1), mac(2)), vec![0, 1]);
}

#[test]
fn aged_entry_is_ignored_before_poll_removes_it() {
    let mut sw = switch(3, 1024, 10);
    send(
        &mut sw,
        Instant::ZERO,
        0,
        EthernetAddress::BROADCAST,
        mac(1),
    );
    let later = Instant::from_secs(10);
    assert!(mac_rows(&sw, later).is_empty());
    assert_eq!(send(&mut sw, later, 2, mac(1), mac(2)), vec![0, 1]);
}

#[test]
fn full_table_floods_and_does_not_learn() {
    let mut sw = switch(4, 2, 300);
    let t0 = Instant::ZERO;
    send(&mut sw, t0, 0, EthernetAddress::BROADCAST, mac(1));
    send(&mut sw, t0, 1, EthernetAddress::BROADCAST, mac(2));
    // C on eth2 does not fit.
    send(&mut sw, t0, 2, EthernetAddress::BROADCAST, mac(3));
    let c = sw.counters();
    assert_eq!((c.bridge.learned, c.bridge.table_full), (2, 1));
    assert_eq!(c.mac_entries, 2);
    // Frames to C are flooded; the stations already known still get one port.
    assert_eq!(send(&mut sw, t0, 0, mac(3), mac(1)), vec![1, 2, 3]);
    assert_eq!(send(&mut sw, t0, 2, mac(1), mac(3)), vec![0]);
    assert_eq!(sw.counters().bridge.table_full, 2);
    assert_eq!(
        mac_rows(&sw, t0),
        vec![row(mac(1), "eth0", "0s"), row(mac(2), "eth1", "0s")]
    );
}

#[test]
fn link_down_flushes_the_port_and_nothing_goes_out_of_it() {
    let mut sw = switch(3, 1024, 300);
    let t0 = Instant::ZERO;
    send(&mut sw, t0, 0, EthernetAddress::BROADCAST, mac(1));
    send(&mut sw, t0, 1, EthernetAddress::BROADCAST, mac(2));
    send(&mut sw, t0, 1, EthernetAddress::BROADCAST, mac(4));
    send(&mut sw, t0, 2, EthernetAddress::BROADCAST, mac(3));
    assert_eq!(send(&mut sw, t0, 0, mac(2), mac(1)), vec![1]);

    sw.link_changed(t0, 1, false);
    let c = sw.counters();
    assert_eq!((c.bridge.macs_flushed, c.mac_entries), (2, 2));
    assert_eq!(
        mac_rows(&sw, t0),
        vec![row(mac(1), "eth0", "0s"), row(mac(3), "eth2", "0s")]
    );
    // B is unknown now: flooded, but not out of the down port.
    assert_eq!(send(&mut sw, t0, 0, mac(2), mac(1)), vec![2]);
    assert_eq!(
        send(&mut sw, t0, 2, EthernetAddress::BROADCAST, mac(3)),
        vec![0]
    );
    assert_eq!(send(&mut sw, t0, 2, mac(1), mac(3)), vec![0]);
    // With only its send side down, the port still receives and learns; a
    // frame to a station learned there is flooded, never sent into the link.
    assert_eq!(
        send(&mut sw, t0, 1, EthernetAddress::BROADCAST, mac(2)),
        vec![0, 2]
    );
    assert_eq!(send(&mut sw, t0, 0, mac(2), mac(1)), vec![2]);
    // A second "down" flushes what was learned since; "up" flushes nothing.
    sw.link_changed(t0, 1, false);
    assert_eq!(sw.counters().bridge.macs_flushed, 3);
    sw.link_changed(t0, 1, true);
    assert_eq!(sw.counters().bridge.macs_flushed, 3);
    assert_eq!(
        send(&mut sw, t0, 0, EthernetAddress::BROADCAST, mac(1)),
        vec![1, 2]
    );
    // A port the switch does not have is ignored.
    sw.link_changed(t0, 7, false);
    assert_eq!(sw.counters().bridge.macs_flushed, 3);
}

#[test]
fn station_moving_ports_is_relearned() {
    let mut sw = switch(3, 1024, 300);
    let t0 = Instant::ZERO;
    send(&mut sw, t0, 0, EthernetAddress::BROADCAST, mac(1));
    assert_eq!(send(&mut sw, t0, 1, mac(1), mac(2)), vec![0]);
    let t1 = Instant::from_secs(5);
    send(&mut sw, t1, 2, EthernetAddress::BROADCAST, mac(1));
    let c = sw.counters();
    assert_eq!((c.bridge.learned, c.bridge.moved), (2, 1));
    assert_eq!(send(&mut sw, t1, 1, mac(1), mac(2)), vec![2]);
    assert_eq!(
        mac_rows(&sw, t1),
        vec![row(mac(2), "eth1", "0s"), row(mac(1), "eth2", "0s")]
    );
}

#[test]
fn malformed_frames_are_counted_and_dropped() {
    let mut sw = switch(2, 1024, 300);
    let mut tx = Recorder::default();
    let mut runt = [0xffu8; 13];
    sw.on_frame(Instant::ZERO, 0, &mut runt, &mut tx);
    assert!(tx.sent.is_empty());
    let c = sw.counters();
    assert_eq!((c.malformed, c.mac_entries, c.bridge.flooded), (1, 0, 0));
}

#[test]
fn counters_keep_their_json_names() {
    let mut sw = switch(2, 1024, 300);
    send(
        &mut sw,
        Instant::ZERO,
        0,
        EthernetAddress::BROADCAST,
        mac(1),
    );
    let json = Device::counters(&sw);
    let mut names: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        vec![
            "aged_out",
            "filtered",
            "flooded",
            "forwarded",
            "learned",
            "mac_entries",
            "macs_flushed",
            "malformed",
            "moved",
            "table_full",
        ]
    );
    assert_eq!(json["flooded"], 1);
    assert_eq!(json["learned"], 1);
    assert_eq!(json["mac_entries"], 1);
}

fn text(event: &TraceEvent, key: &str) -> Option<String> {
    event.attrs.iter().find_map(|(k, v)| match v {
        TraceValue::Text(t) if *k == key => Some(t.clone()),
        _ => None,
    })
}

#[test]
fn traced_frames_explain_each_decision() {
    let mut sw = switch(3, 1024, 300);
    let t0 = Instant::from_micros(42);
    let ctx = TraceContext {
        trace_id: [1; 16],
        span_id: [2; 8],
        flags: 1,
    };
    let traced = |sw: &mut Switch, port: usize, dst: EthernetAddress, src: EthernetAddress| {
        let mut tx = Recorder {
            trace: Some(ctx),
            ..Recorder::default()
        };
        sw.on_frame(t0, port, &mut frame(dst, src), &mut tx);
        tx.events
    };
    let a = "02:00:00:00:00:01";
    let b = "02:00:00:00:00:02";

    let ev = traced(&mut sw, 0, EthernetAddress::BROADCAST, mac(1));
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(|e| e.name == "switch"
        && e.layer == "L2"
        && e.proto == "eth"
        && e.ctx == ctx
        && e.at_micros == 42));
    assert_eq!(ev[0].dir, Some(Direction::In));
    assert_eq!(ev[0].summary, format!("in eth0: source {a} learned (new)"));
    assert_eq!(text(&ev[0], "switch.in_port").as_deref(), Some("eth0"));
    assert_eq!(text(&ev[0], "eth.src").as_deref(), Some(a));
    assert_eq!(
        text(&ev[0], "eth.dst").as_deref(),
        Some("ff:ff:ff:ff:ff:ff")
    );
    assert_eq!(ev[1].dir, Some(Direction::Out));
    assert_eq!(
        ev[1].summary,
        "destination ff:ff:ff:ff:ff:ff is broadcast: flooded out eth1, eth2"
    );
    assert_eq!(
        text(&ev[1], "switch.out_ports").as_deref(),
        Some("eth1, eth2")
    );
    assert!(
        ev[1]
            .attrs
            .contains(&("switch.flooded", TraceValue::Int(1)))
    );

    let ev = traced(&mut sw, 1, mac(1), mac(2));
    assert_eq!(
        ev[1].summary,
        format!("destination {a} known on eth0: forwarded")
    );
    assert_eq!(text(&ev[1], "switch.out_ports").as_deref(), Some("eth0"));

    let ev = traced(&mut sw, 2, mac(1), mac(2));
    assert_eq!(
        ev[0].summary,
        format!("in eth2: source {b} moved from eth1")
    );

    let ev = traced(&mut sw, 2, mac(1), mac(2));
    assert_eq!(
        text(&ev[0], "switch.source").as_deref(),
        Some("already known (refreshed)")
    );

    let ev = traced(&mut sw, 0, mac(2), mac(1));
    assert_eq!(
        ev[1].summary,
        format!("destination {b} known on eth2: forwarded")
    );

    sw.link_changed(t0, 2, false);
    let ev = traced(&mut sw, 0, mac(2), mac(1));
    assert_eq!(
        ev[1].summary,
        format!("destination {b} unknown: flooded out eth1")
    );

    let ev = traced(&mut sw, 0, mac(1), mac(1));
    assert_eq!(
        ev[1].summary,
        format!("destination {a} is on the ingress port: filtered")
    );
    assert!(
        ev[1]
            .attrs
            .contains(&("switch.filtered", TraceValue::Int(1)))
    );

    let ev = traced(&mut sw, 1, EthernetAddress::BROADCAST, MULTICAST);
    assert_eq!(
        text(&ev[0], "switch.source").as_deref(),
        Some("not learned (not unicast)")
    );
}

#[test]
fn untraced_frames_record_nothing() {
    let mut sw = switch(2, 1024, 300);
    let mut tx = Recorder::default();
    sw.on_frame(
        Instant::ZERO,
        0,
        &mut frame(EthernetAddress::BROADCAST, mac(1)),
        &mut tx,
    );
    assert_eq!(tx.sent.len(), 1);
    assert!(tx.events.is_empty());
}
