//! An event-driven simulation for the TCP tests: stacks joined by links
//! that impair each direction on their own (loss, duplication,
//! reordering, corruption, delay with jitter, link down), each direction
//! with its own delay queue. Virtual time jumps from event to event, so a
//! 10-second outage or a 60-second RTO costs nothing. One thread, a seeded
//! xorshift generator: every run is identical.

use super::{iface, validate_frame};
use core::time::Duration;
use sha2::{Digest, Sha256};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{Ipv4Addr, SocketAddrV4};
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, StackConfig, StackCounters, StackError, TcpHandle, TcpState};

/// xorshift64* (Vigna, 2014): small, fast, good enough for impairments.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// What one direction of a link does to frames.
#[derive(Debug, Clone, Copy, Default)]
pub struct Impair {
    pub loss: f64,
    pub dup: f64,
    /// Probability that a frame is held back by `reorder_delay`, letting
    /// later frames overtake it.
    pub reorder: f64,
    pub reorder_delay: Duration,
    /// Probability of flipping one bit in the IPv4 payload of a frame (the
    /// cable's FCS would catch it; here the transport checksum must).
    pub corrupt: f64,
    pub delay: Duration,
    /// Uniform extra delay in [0, jitter); frames stay in order (FIFO).
    pub jitter: Duration,
    pub down: bool,
}

impl Impair {
    /// A plain link with a one-way delay.
    pub fn delay(d: Duration) -> Self {
        Impair {
            delay: d,
            ..Impair::default()
        }
    }
}

/// What a direction did.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkStats {
    pub sent: u64,
    pub lost: u64,
    pub down_dropped: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
}

#[derive(Debug, Clone, Default)]
struct Dir {
    imp: Impair,
    last_at: Instant,
    stats: LinkStats,
}

#[derive(Debug, Clone)]
struct Link {
    ends: [(usize, usize); 2],
    dirs: [Dir; 2],
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    at: Instant,
    seq: u64,
    node: usize,
    port: usize,
    frame: Vec<u8>,
}

pub const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const RA_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
pub const RB_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

/// Stacks, links, a delay queue and a clock.
pub struct Sim {
    pub nodes: Vec<NetStack>,
    links: Vec<Link>,
    pub now: Instant,
    queue: BinaryHeap<Reverse<Event>>,
    seq: u64,
    pub rng: Rng,
    /// Frames delivered so far.
    pub delivered: u64,
    /// When true, every frame a node emits is recorded here (before impairments).
    pub capture: bool,
    pub captured: Vec<Captured>,
    /// Drops chosen frames: called with the sending node and the frame
    /// before the link's impairments; true drops it (counted as lost).
    pub drop_if: Option<DropFn>,
}

/// See [`Sim::drop_if`].
pub type DropFn = Box<dyn FnMut(usize, &[u8]) -> bool>;

/// A frame a node emitted.
#[derive(Debug, Clone)]
pub struct Captured {
    pub at: Instant,
    pub node: usize,
    pub frame: Vec<u8>,
}

impl Captured {
    /// The TCP header of the frame, if it is an unfragmented IPv4/TCP frame.
    pub fn tcp(&self) -> Option<vnet_wire::tcp::TcpRepr> {
        use vnet_wire::ipv4::Ipv4Packet;
        use vnet_wire::tcp::{TcpPacket, TcpRepr};
        let ip = Ipv4Packet::new_checked(self.frame.get(14..)?).ok()?;
        if ip.next_header() != vnet_wire::ip::IpProtocol::Tcp {
            return None;
        }
        TcpRepr::parse(
            &TcpPacket::new_checked(ip.payload()).ok()?,
            ip.src_addr(),
            ip.dst_addr(),
        )
        .ok()
    }
}

/// A config with a fixed ISN secret (tests use fixed keys).
pub fn config(seed: u8) -> StackConfig {
    let mut c = StackConfig::default();
    c.tcp.isn_secret = [seed; 16];
    c
}

impl Sim {
    pub fn new(nodes: Vec<NetStack>, seed: u64) -> Self {
        Sim {
            nodes,
            links: Vec::new(),
            now: Instant::ZERO,
            queue: BinaryHeap::new(),
            seq: 0,
            rng: Rng::new(seed),
            delivered: 0,
            capture: false,
            captured: Vec::new(),
            drop_if: None,
        }
    }

    /// Host A (10.0.0.1/24, node 0) and host B (10.0.0.2/24, node 1) on one
    /// link (link 0), MTU 1500, 1 ms each way.
    pub fn direct(a: StackConfig, b: StackConfig, seed: u64) -> Self {
        let na = NetStack::new(a, vec![iface(1, 0, "10.0.0.1/24", 1500)]);
        let nb = NetStack::new(b, vec![iface(2, 0, "10.0.0.2/24", 1500)]);
        let mut s = Sim::new(vec![na, nb], seed);
        s.link((0, 0), (1, 0), Impair::delay(Duration::from_millis(1)));
        s
    }

    /// Host A (10.0.1.2, node 0) — router R (node 1) — host B (10.0.2.2,
    /// node 2), MTU 1500 everywhere, 1 ms per link each way. Link 0 is
    /// A–R, link 1 is R–B.
    pub fn via_router(a: StackConfig, b: StackConfig, seed: u64) -> Self {
        let mut na = NetStack::new(a, vec![iface(1, 0, "10.0.1.2/24", 1500)]);
        na.add_route("0.0.0.0/0".parse().unwrap(), Ipv4Addr::new(10, 0, 1, 1))
            .unwrap();
        let r = NetStack::new(
            StackConfig::router(),
            vec![
                iface(3, 0, "10.0.1.1/24", 1500),
                iface(3, 1, "10.0.2.1/24", 1500),
            ],
        );
        let mut nb = NetStack::new(b, vec![iface(2, 0, "10.0.2.2/24", 1500)]);
        nb.add_route("0.0.0.0/0".parse().unwrap(), Ipv4Addr::new(10, 0, 2, 1))
            .unwrap();
        let mut s = Sim::new(vec![na, r, nb], seed);
        let d = Impair::delay(Duration::from_millis(1));
        s.link((0, 0), (1, 0), d);
        s.link((1, 1), (2, 0), d);
        s
    }

    pub fn link(&mut self, a: (usize, usize), b: (usize, usize), imp: Impair) {
        let dir = Dir {
            imp,
            ..Dir::default()
        };
        self.links.push(Link {
            ends: [a, b],
            dirs: [dir.clone(), dir],
        });
    }

    /// Sets the impairments of both directions of `link`.
    pub fn impair(&mut self, link: usize, imp: Impair) {
        for d in &mut self.links[link].dirs {
            d.imp = imp;
        }
    }

    /// Takes both directions of `link` down or up.
    pub fn set_down(&mut self, link: usize, down: bool) {
        for d in &mut self.links[link].dirs {
            d.imp.down = down;
        }
    }

    /// TCP segments node `n` emitted, with their time.
    pub fn segments_from(&self, n: usize) -> Vec<(Instant, vnet_wire::tcp::TcpRepr)> {
        self.captured
            .iter()
            .filter(|c| c.node == n)
            .filter_map(|c| Some((c.at, c.tcp()?)))
            .collect()
    }

    /// Takes one direction of `link` down or up (0: first end to second).
    pub fn set_down_dir(&mut self, link: usize, dir: usize, down: bool) {
        self.links[link].dirs[dir].imp.down = down;
    }

    /// Statistics of both directions of `link`.
    pub fn link_stats(&self, link: usize) -> [LinkStats; 2] {
        [
            self.links[link].dirs[0].stats,
            self.links[link].dirs[1].stats,
        ]
    }

    fn transmit(&mut self, node: usize, out: Vec<(usize, Vec<u8>)>) {
        for (port, mut frame) in out {
            let originated = frame.len() >= 34 && frame[12..14] == [0x08, 0x00] && {
                let src = Ipv4Addr::new(frame[26], frame[27], frame[28], frame[29]);
                self.nodes[node]
                    .interfaces()
                    .iter()
                    .any(|i| i.address.is_some_and(|a| a.address() == src))
            };
            validate_frame(&frame, originated);
            if self.capture {
                self.captured.push(Captured {
                    at: self.now,
                    node,
                    frame: frame.clone(),
                });
            }
            let Some((li, di)) = self.links.iter().enumerate().find_map(|(i, l)| {
                l.ends
                    .iter()
                    .position(|&e| e == (node, port))
                    .map(|d| (i, d))
            }) else {
                continue;
            };
            let (peer, pport) = self.links[li].ends[1 - di];
            let now = self.now;
            let rng = &mut self.rng;
            let dir = &mut self.links[li].dirs[di];
            let imp = dir.imp;
            dir.stats.sent += 1;
            if let Some(f) = self.drop_if.as_mut()
                && f(node, &frame)
            {
                dir.stats.lost += 1;
                continue;
            }
            if imp.down {
                dir.stats.down_dropped += 1;
                continue;
            }
            if rng.chance(imp.loss) {
                dir.stats.lost += 1;
                continue;
            }
            if frame.len() > 34 && frame[12..14] == [0x08, 0x00] && rng.chance(imp.corrupt) {
                let span = (frame.len() - 34) as u64 * 8;
                let bit = 34 * 8 + rng.below(span) as usize;
                frame[bit / 8] ^= 1 << (bit % 8);
                dir.stats.corrupted += 1;
            }
            let jitter = Duration::from_micros(rng.below(imp.jitter.as_micros() as u64));
            let mut at = (now + imp.delay + jitter).max(dir.last_at);
            if rng.chance(imp.reorder) {
                at += imp.reorder_delay;
                dir.stats.reordered += 1;
            } else {
                dir.last_at = at;
            }
            let dup = rng.chance(imp.dup);
            if dup {
                dir.stats.duplicated += 1;
            }
            let copy = dup.then(|| frame.clone());
            self.push(at, peer, pport, frame);
            if let Some(c) = copy {
                self.push(at + Duration::from_micros(10), peer, pport, c);
            }
        }
    }

    fn push(&mut self, at: Instant, node: usize, port: usize, frame: Vec<u8>) {
        self.seq += 1;
        self.queue.push(Reverse(Event {
            at,
            seq: self.seq,
            node,
            port,
            frame,
        }));
    }

    /// Runs `f` on node `n` at the current time and sends what it emits.
    pub fn with<T>(
        &mut self,
        n: usize,
        f: impl FnOnce(&mut NetStack, Instant, &mut Vec<(usize, Vec<u8>)>) -> T,
    ) -> T {
        let mut out = Vec::new();
        let r = f(&mut self.nodes[n], self.now, &mut out);
        self.transmit(n, out);
        r
    }

    /// The next frame delivery or stack timer.
    pub fn next_event(&self) -> Option<Instant> {
        let q = self.queue.peek().map(|Reverse(e)| e.at);
        let p = self.nodes.iter().filter_map(|n| n.poll_at()).min();
        [q, p].into_iter().flatten().min()
    }

    /// Processes every delivery and timer due up to `t`, then sets the
    /// clock to `t`.
    pub fn advance_to(&mut self, t: Instant) {
        let mut guard = 0u32;
        loop {
            guard += 1;
            assert!(guard < 2_000_000, "livelock at {}", self.now);
            let q = self.queue.peek().map(|Reverse(e)| e.at);
            let p = self.nodes.iter().filter_map(|n| n.poll_at()).min();
            match [q, p].into_iter().flatten().min() {
                Some(x) if x <= t => {
                    self.now = self.now.max(x);
                    if q == Some(x) {
                        let Reverse(mut e) = self.queue.pop().unwrap();
                        let mut out = Vec::new();
                        self.nodes[e.node].receive(self.now, e.port, &mut e.frame, &mut out);
                        self.delivered += 1;
                        self.transmit(e.node, out);
                    } else {
                        for n in 0..self.nodes.len() {
                            if self.nodes[n].poll_at().is_some_and(|at| at <= self.now) {
                                let mut out = Vec::new();
                                let now = self.now;
                                self.nodes[n].poll(now, &mut out);
                                self.transmit(n, out);
                            }
                        }
                    }
                }
                _ => break,
            }
        }
        self.now = self.now.max(t);
    }

    /// Advances the clock by `d`.
    pub fn run_for(&mut self, d: Duration) {
        let t = self.now + d;
        self.advance_to(t);
    }

    /// Runs events until `cond` holds (checked after each batch), at most
    /// until `limit` from now; returns whether it held.
    pub fn run_until(&mut self, limit: Duration, mut cond: impl FnMut(&mut Sim) -> bool) -> bool {
        let end = self.now + limit;
        loop {
            if cond(self) {
                return true;
            }
            match self.next_event() {
                Some(t) if t <= end => self.advance_to(t),
                _ => {
                    self.advance_to(end);
                    return cond(self);
                }
            }
        }
    }
}

/// How the receiving application reads.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    /// Bytes read per wake-up (0: everything available).
    pub chunk: usize,
    /// Time between reads (None: reads whenever something happens).
    pub interval: Option<Duration>,
    /// (after this many bytes, stop reading for this long).
    pub pauses: Vec<(usize, Duration)>,
}

/// What a transfer measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub bytes: usize,
    pub virtual_time: Duration,
    pub sender: StackCounters,
    pub receiver: StackCounters,
    pub frames: u64,
    pub sender_retransmissions: u64,
}

/// Sends `total` seeded-random bytes from node `a` to a listener on node
/// `b` at `dst`, with the receiving application behaving as `reader`.
/// The sender shuts down after the last byte, the receiver closes at end of
/// stream; the run ends when the sender is in TIME-WAIT and the receiver's
/// connection is gone. Asserts the received SHA-256 equals the sent one.
/// `hook` runs after each batch with the bytes received so far and may
/// ask for a wake-up at some instant (to change the links).
#[allow(clippy::too_many_arguments)]
pub fn transfer(
    sim: &mut Sim,
    a: usize,
    b: usize,
    dst: SocketAddrV4,
    total: usize,
    reader: &Reader,
    deadline: Duration,
    mut hook: impl FnMut(&mut Sim, usize) -> Option<Instant>,
) -> Report {
    let mut rng = Rng::new(total as u64 ^ 0x5eed);
    let mut data = vec![0u8; total];
    rng.fill(&mut data);
    let want = Sha256::digest(&data);
    let start = sim.now;
    let frames0 = sim.delivered;
    let listener = sim.nodes[b].tcp_listen(dst.port(), 8).unwrap();
    let client = sim
        .with(a, |s, now, tx| s.tcp_connect(now, dst, tx))
        .unwrap();
    let mut server: Option<TcpHandle> = None;
    let (mut sent, mut received) = (0usize, 0usize);
    let (mut shut, mut eof, mut closed) = (false, false, false);
    let mut hasher = Sha256::new();
    let mut next_read = start;
    let mut pause = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if server.is_none() {
            server = sim.nodes[b].tcp_accept(listener);
        }
        let cstate = sim.nodes[a].tcp_state(client);
        if let Some(e) = sim.nodes[a].tcp_error(client) {
            panic!("sender failed: {e} after {sent} bytes sent, {received} received");
        }
        if matches!(cstate, Some(TcpState::Established | TcpState::CloseWait)) {
            while sent < total {
                let end = (sent + 64 * 1024).min(total);
                match sim.with(a, |s, now, tx| {
                    s.tcp_send(now, client, &data[sent..end], tx)
                }) {
                    Ok(n) => sent += n,
                    Err(StackError::WouldBlock) => break,
                    Err(e) => panic!("send: {e}"),
                }
            }
            if sent == total && !shut {
                sim.with(a, |s, now, tx| s.tcp_shutdown(now, client, tx))
                    .unwrap();
                shut = true;
            }
        }
        if let Some(s) = server
            && !eof
            && sim.now >= next_read
        {
            let budget = if reader.chunk == 0 {
                usize::MAX
            } else {
                reader.chunk
            };
            let mut got = 0;
            while got < budget {
                let n = buf.len().min(budget - got);
                match sim.with(b, |st, now, tx| st.tcp_recv(now, s, &mut buf[..n], tx)) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => {
                        hasher.update(&buf[..n]);
                        received += n;
                        got += n;
                    }
                    Err(StackError::WouldBlock) => break,
                    Err(e) => panic!("recv: {e} after {received} bytes"),
                }
            }
            if let Some(iv) = reader.interval {
                next_read = sim.now + iv;
            }
            if let Some(&(at, len)) = reader.pauses.get(pause)
                && received >= at
            {
                next_read = sim.now + len;
                pause += 1;
            }
        }
        if eof && !closed {
            let s = server.unwrap();
            sim.with(b, |st, now, tx| st.tcp_close(now, s, tx));
            closed = true;
        }
        if closed
            && sim.nodes[a].tcp_state(client) == Some(TcpState::TimeWait)
            && sim.nodes[b].tcp_socket_count() == 1
        {
            break;
        }
        let mut next = sim.next_event();
        let reader_waits = server.is_some() && !eof && next_read > sim.now;
        if reader_waits {
            next = Some(next.map_or(next_read, |n| n.min(next_read)));
        }
        if let Some(h) = hook(sim, received) {
            next = Some(next.map_or(h, |n| n.min(h)));
        }
        let Some(next) = next else {
            panic!("stalled at {}: {received}/{total} bytes", sim.now);
        };
        assert!(
            next <= start + deadline,
            "deadline passed: {received}/{total} bytes, sender {:?}",
            sim.nodes[a].tcp_info(client)
        );
        sim.advance_to(next);
    }
    assert_eq!(received, total);
    assert_eq!(hasher.finalize(), want, "SHA-256 of received data");
    let sender_retransmissions = sim.nodes[a]
        .tcp_info(client)
        .map_or(0, |i| i.retransmissions);
    sim.with(a, |s, now, tx| s.tcp_close(now, client, tx));
    sim.nodes[b].tcp_close(sim.now, listener, &mut Vec::new());
    Report {
        bytes: received,
        virtual_time: sim.now - start,
        sender: sim.nodes[a].counters().clone(),
        receiver: sim.nodes[b].counters().clone(),
        frames: sim.delivered - frames0,
        sender_retransmissions,
    }
}

/// Node 0 connects to port 80 of node 1 (a listener with backlog 4) and
/// the simulation runs until the connection is established, then `settle`
/// more; returns (client handle, accepted server handle).
pub fn establish(sim: &mut Sim, settle: Duration) -> (TcpHandle, TcpHandle) {
    let l = sim.nodes[1].tcp_listen(80, 4).unwrap();
    let c = sim
        .with(0, |s, now, tx| {
            s.tcp_connect(now, SocketAddrV4::new(B_IP, 80), tx)
        })
        .unwrap();
    assert!(
        sim.run_until(Duration::from_secs(5), |s| s.nodes[0].tcp_state(c)
            == Some(TcpState::Established))
    );
    sim.run_for(settle);
    (c, sim.nodes[1].tcp_accept(l).unwrap())
}
