//! What the stack records about traced traffic: per-layer decisions of a
//! forwarded frame with the header fields that decided, frames stamped
//! with the work's trace, nothing at all for untraced traffic, and a
//! connection's events handed over by the call that made them and ending
//! with its work (not with TIME-WAIT).

mod common;

use common::*;
use core::time::Duration;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, StackConfig, TcpState, Transmit};
use vnet_wire::trace::{Direction, TraceContext, TraceEvent};

/// A transmitter for traced work: records frames with their trace, and events.
#[derive(Default)]
struct Recorder {
    trace: Option<TraceContext>,
    frames: Vec<(usize, Option<TraceContext>)>,
    /// The bytes of each frame in `frames`.
    bytes: Vec<Vec<u8>>,
    events: Vec<TraceEvent>,
}

impl Transmit for Recorder {
    fn transmit(&mut self, port: usize, frame: &[u8]) {
        let trace = self.trace;
        self.transmit_traced(port, frame, trace);
    }
    fn transmit_traced(&mut self, port: usize, frame: &[u8], trace: Option<TraceContext>) {
        self.frames.push((port, trace));
        self.bytes.push(frame.to_vec());
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

/// Two hosts on one wire, client C (10.0.0.1, node 0) and server S
/// (10.0.0.2, node 1), frames delivered at once with the trace they carry
/// (as a device hands a traced frame's context to its stack), timers run
/// untraced; `log` keeps every event in the order the stacks handed it
/// over, with the node.
struct Wire {
    nodes: [NetStack; 2],
    now: Instant,
    log: Vec<(usize, TraceEvent)>,
}

const C: usize = 0;
const S: usize = 1;
const S_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

impl Wire {
    fn new() -> Wire {
        let mut c = NetStack::new(
            StackConfig::default(),
            vec![iface(1, 0, "10.0.0.1/24", 1500)],
        );
        let mut s = NetStack::new(
            StackConfig::default(),
            vec![iface(2, 0, "10.0.0.2/24", 1500)],
        );
        c.add_static_neighbor(0, S_IP, mac(2, 0));
        s.add_static_neighbor(0, Ipv4Addr::new(10, 0, 0, 1), mac(1, 0));
        Wire {
            nodes: [c, s],
            now: Instant::from_secs(1),
            log: Vec::new(),
        }
    }

    /// Runs `f` on node `n` for work traced as `trace`, then delivers
    /// frames until the wire is quiet.
    fn call<R>(
        &mut self,
        n: usize,
        trace: Option<TraceContext>,
        f: impl FnOnce(&mut NetStack, Instant, &mut Recorder) -> R,
    ) -> R {
        let mut tx = Recorder {
            trace,
            ..Recorder::default()
        };
        let r = f(&mut self.nodes[n], self.now, &mut tx);
        let mut queue = VecDeque::new();
        self.take(n, tx, &mut queue);
        while let Some((to, mut frame, trace)) = queue.pop_front() {
            let mut rx = Recorder {
                trace,
                ..Recorder::default()
            };
            self.nodes[to].receive(self.now, 0, &mut frame, &mut rx);
            self.take(to, rx, &mut queue);
        }
        r
    }

    fn take(
        &mut self,
        n: usize,
        tx: Recorder,
        queue: &mut VecDeque<(usize, Vec<u8>, Option<TraceContext>)>,
    ) {
        self.log.extend(tx.events.into_iter().map(|e| (n, e)));
        for ((_, trace), bytes) in tx.frames.into_iter().zip(tx.bytes) {
            queue.push_back((1 - n, bytes, trace));
        }
    }

    /// Runs every timer due until `t`, untraced, as a device's event loop.
    fn run_until(&mut self, t: Instant) {
        while let Some(at) = self
            .nodes
            .iter()
            .filter_map(NetStack::poll_at)
            .min()
            .filter(|&at| at <= t)
        {
            self.now = self.now.max(at);
            for n in [C, S] {
                if self.nodes[n].poll_at().is_some_and(|at| at <= self.now) {
                    self.call(n, None, |s, now, tx| s.poll(now, tx));
                }
            }
        }
        self.now = t;
    }

    /// The state changes node `n` handed over so far, as `Old → New`.
    fn states(&self, n: usize) -> Vec<String> {
        self.log
            .iter()
            .filter(|(node, e)| *node == n && e.name == "tcp.state")
            .map(|(_, e)| e.summary.rsplit(": ").next().unwrap_or("").to_string())
            .collect()
    }
}

/// A browse's connection as the lab runs it: the client opens and closes
/// it inside its traced work, the server's application closes its end
/// untraced (its request spans are over), the client is left in TIME-WAIT.
#[test]
fn a_connection_leaves_the_trace_when_both_sides_have_closed() {
    let mut w = Wire::new();
    let listener = w.nodes[S].tcp_listen(80, 4).expect("listen");
    let dst = SocketAddrV4::new(S_IP, 80);
    let conn = w
        .call(C, Some(CTX), |s, now, tx| s.tcp_connect(now, dst, tx))
        .expect("connect");
    assert_eq!(w.nodes[C].tcp_state(conn), Some(TcpState::Established));
    let served = w.nodes[S].tcp_accept(listener).expect("accepted");
    w.now += Duration::from_millis(5);
    w.call(C, Some(CTX), |s, now, tx| s.tcp_close(now, conn, tx));
    w.now += Duration::from_millis(5);
    w.call(S, None, |s, now, tx| s.tcp_close(now, served, tx));
    let closed_at = w.now;

    // The server's final state change sends nothing; the call that
    // delivered the last ACK hands it over all the same, in the trace.
    assert_eq!(
        w.states(S),
        [
            "Listen → SynReceived",
            "SynReceived → Established",
            "Established → CloseWait",
            "CloseWait → LastAck",
            "LastAck → Closed"
        ]
    );
    assert_eq!(
        w.states(C).last().map(String::as_str),
        Some("FinWait2 → TimeWait")
    );
    assert!(w.log.iter().all(|(_, e)| e.ctx.trace_id == CTX.trace_id));
    let before = w.log.len();

    // 2·MSL later the client forgets the connection, outside the trace:
    // the browse's work ended when both sides closed.
    w.run_until(closed_at + Duration::from_secs(61));
    assert_eq!(w.nodes[C].tcp_socket_count(), 0, "TIME-WAIT is over");
    // Nor does a later traced call of the client hand the change over.
    let other = TraceContext {
        trace_id: [8; 16],
        ..CTX
    };
    w.call(C, Some(other), |s, now, tx| s.tcp_connect(now, dst, tx))
        .expect("connect again");
    let late: Vec<&TraceEvent> = w.log[before..]
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e.ctx.trace_id == CTX.trace_id)
        .collect();
    assert!(
        late.is_empty(),
        "the first connection's trace grew: {late:?}"
    );
    assert!(
        !w.states(C).iter().any(|s| s.starts_with("TimeWait")),
        "{:?}",
        w.states(C)
    );
}

/// The orphaned FIN-WAIT-2 timeout is the same kind of clean-up: the
/// client closed, the server never does; a minute later the client drops
/// the connection without adding to the trace.
#[test]
fn the_orphaned_fin_wait_2_timeout_is_not_traced() {
    let mut w = Wire::new();
    let listener = w.nodes[S].tcp_listen(80, 4).expect("listen");
    let dst = SocketAddrV4::new(S_IP, 80);
    let conn = w
        .call(C, Some(CTX), |s, now, tx| s.tcp_connect(now, dst, tx))
        .expect("connect");
    let _served = w.nodes[S].tcp_accept(listener).expect("accepted");
    w.call(C, Some(CTX), |s, now, tx| s.tcp_close(now, conn, tx));
    assert_eq!(
        w.states(C).last().map(String::as_str),
        Some("FinWait1 → FinWait2")
    );
    let before = w.log.len();
    w.run_until(w.now + Duration::from_secs(120));
    assert_eq!(w.nodes[C].tcp_socket_count(), 0, "FIN-WAIT-2 timed out");
    let late: Vec<&(usize, TraceEvent)> = w.log[before..].iter().filter(|(n, _)| *n == C).collect();
    assert!(late.is_empty(), "{late:?}");
}
