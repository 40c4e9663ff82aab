//! What the stack records about traced traffic: per-layer decisions of a
//! forwarded frame with the header fields that decided, frames stamped
//! with the work's trace, and nothing at all for untraced traffic.

mod common;

use common::*;
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, StackConfig, Transmit};
use vnet_wire::trace::{Direction, TraceContext, TraceEvent};

/// A transmitter for traced work: records frames with their trace, and events.
#[derive(Default)]
struct Recorder {
    trace: Option<TraceContext>,
    frames: Vec<(usize, Option<TraceContext>)>,
    events: Vec<TraceEvent>,
}

impl Transmit for Recorder {
    fn transmit(&mut self, port: usize, frame: &[u8]) {
        let trace = self.trace;
        self.transmit_traced(port, frame, trace);
    }
    fn transmit_traced(&mut self, port: usize, _frame: &[u8], trace: Option<TraceContext>) {
        self.frames.push((port, trace));
    }
    fn trace(&self) -> Option<TraceContext> {
        self.trace
    }
    fn record(&mut self, event: TraceEvent) {
        self.events.push(event);
    }
}

fn router() -> NetStack {
    let mut r = NetStack::new(
        StackConfig::router(),
        vec![
            iface(2, 0, "10.0.1.1/24", 1500),
            iface(2, 1, "10.0.2.1/24", 576),
        ],
    );
    r.add_static_neighbor(1, B_IP, mac(3, 0));
    r
}

fn frame(len: usize, ttl: u8) -> Vec<u8> {
    ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        B_IP,
        17,
        7,
        false,
        0,
        ttl,
        &vec![0u8; len],
    )
}

const CTX: TraceContext = TraceContext {
    trace_id: [7; 16],
    span_id: [9; 8],
    flags: 1,
};

#[test]
fn a_traced_forwarded_frame_explains_each_layer() {
    let mut r = router();
    let mut tx = Recorder {
        trace: Some(CTX),
        ..Recorder::default()
    };
    r.receive(Instant::from_secs(1), 0, &mut frame(100, 64), &mut tx);
    // Forwarded, and the frame continues the trace.
    assert_eq!(tx.frames, [(1, Some(CTX))]);
    let names: Vec<&str> = tx.events.iter().map(|e| e.name).collect();
    assert_eq!(names, ["eth.in", "ip.in", "ip.forward", "eth.out"]);
    assert!(
        tx.events
            .iter()
            .all(|e| e.ctx == CTX && e.at_micros == 1_000_000)
    );
    let forward = &tx.events[2];
    assert_eq!(forward.dir, Some(Direction::Out));
    assert_eq!(forward.layer, "L3");
    let attr = |k: &str| {
        forward
            .attrs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.to_string())
    };
    assert_eq!(attr("ip.ttl_before").as_deref(), Some("64"));
    assert_eq!(attr("ip.ttl_after").as_deref(), Some("63"));
    assert_eq!(attr("ip.next_hop").as_deref(), Some("10.0.2.2"));
    assert_eq!(attr("ip.out_iface").as_deref(), Some("eth1"));
    assert!(forward.summary.contains("TTL 64→63"), "{}", forward.summary);
}

#[test]
fn fragmentation_and_ttl_expiry_are_recorded() {
    let mut r = router();
    let mut tx = Recorder {
        trace: Some(CTX),
        ..Recorder::default()
    };
    r.receive(Instant::from_secs(1), 0, &mut frame(1400, 64), &mut tx);
    let fragment = tx
        .events
        .iter()
        .find(|e| e.name == "ip.fragment")
        .expect("fragmentation recorded");
    assert!(fragment.summary.contains("MTU 576"), "{}", fragment.summary);
    assert_eq!(tx.frames.len(), 3, "1420 bytes over MTU 576: 3 fragments");
    assert!(tx.frames.iter().all(|(_, t)| *t == Some(CTX)));

    let mut tx = Recorder {
        trace: Some(CTX),
        ..Recorder::default()
    };
    r.add_static_neighbor(0, A_IP, mac(1, 0));
    r.receive(Instant::from_secs(2), 0, &mut frame(100, 1), &mut tx);
    let expired = tx
        .events
        .iter()
        .find(|e| e.name == "ip.forward")
        .expect("decision recorded");
    assert!(
        expired.summary.contains("Time Exceeded"),
        "{}",
        expired.summary
    );
    // The ICMP error goes back to the sender, in the same trace.
    assert_eq!(tx.frames, [(0, Some(CTX))]);
}

#[test]
fn untraced_traffic_records_nothing() {
    let mut r = router();
    let mut tx = Recorder::default();
    r.receive(Instant::from_secs(1), 0, &mut frame(1400, 64), &mut tx);
    r.receive(Instant::from_secs(1), 0, &mut frame(100, 1), &mut tx);
    assert!(tx.events.is_empty(), "{:?}", tx.events);
    assert!(!tx.frames.is_empty());
    assert!(tx.frames.iter().all(|(_, t)| t.is_none()));
}
