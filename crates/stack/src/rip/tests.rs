//! RIP on virtual time: routers joined by simulated segments.

use super::*;
use std::collections::VecDeque;

fn cidr(s: &str) -> Ipv4Cidr {
    s.parse().unwrap()
}

fn addr(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn iface(port: usize, address: &str) -> RipInterface {
    RipInterface {
        port,
        address: cidr(address),
        cost: 1,
        passive: false,
        password: None,
    }
}

/// Routers, the segments joining their ports, and each router's
/// forwarding-table view built from the [`RouteChange`]s.
struct Net {
    now: Instant,
    rips: Vec<Rip>,
    /// Per router: destination → (via, port, metric).
    fib: Vec<BTreeMap<Ipv4Cidr, (Ipv4Addr, usize, u32)>>,
    /// Members of each segment: (router, port).
    segments: Vec<Vec<(usize, usize)>>,
    /// Routers whose output is lost (crashed or silenced).
    muted: Vec<bool>,
    /// Every message sent: (time, router, output).
    sent: Vec<(Instant, usize, RipOutput)>,
}

impl Net {
    fn new(configs: Vec<RipConfig>, segments: Vec<Vec<(usize, usize)>>) -> Net {
        let mut net = Net {
            now: Instant::ZERO,
            rips: Vec::new(),
            fib: vec![BTreeMap::new(); configs.len()],
            segments,
            muted: vec![false; configs.len()],
            sent: Vec::new(),
        };
        let mut pending = VecDeque::new();
        for (r, config) in configs.into_iter().enumerate() {
            let mut actions = RipActions::default();
            net.rips.push(Rip::new(config, Instant::ZERO, &mut actions));
            pending.push_back((r, actions));
        }
        net.settle(pending);
        net
    }

    fn address(&self, r: usize, port: usize) -> Ipv4Addr {
        let i = self.rips[r].interface(port).unwrap();
        i.address.address()
    }

    /// Applies actions and delivers messages until nothing is left.
    fn settle(&mut self, mut pending: VecDeque<(usize, RipActions)>) {
        while let Some((r, actions)) = pending.pop_front() {
            for change in actions.routes {
                match change {
                    RouteChange::Install {
                        destination,
                        via,
                        port,
                        metric,
                    } => {
                        self.fib[r].insert(destination, (via, port, metric));
                    }
                    RouteChange::Withdraw { destination } => {
                        self.fib[r].remove(&destination);
                    }
                }
            }
            for out in actions.send {
                self.sent.push((self.now, r, out.clone()));
                if self.muted[r] {
                    continue;
                }
                let from = self.address(r, out.port);
                let Some(segment) = self.segments.iter().find(|s| s.contains(&(r, out.port)))
                else {
                    continue;
                };
                for &(peer, port) in segment.clone().iter() {
                    let unicast_here = self.address(peer, port) == out.to;
                    if peer == r || !(out.to == rip::MULTICAST || unicast_here) {
                        continue;
                    }
                    let mut actions = RipActions::default();
                    self.rips[peer].receive(
                        self.now,
                        port,
                        from,
                        rip::PORT,
                        &out.message,
                        &mut actions,
                    );
                    pending.push_back((peer, actions));
                }
            }
        }
    }

    /// Runs every timer up to `until`.
    fn run_until(&mut self, until: Instant) {
        loop {
            let next = self.rips.iter().filter_map(Rip::poll_at).min();
            let Some(at) = next.filter(|&t| t <= until) else {
                break;
            };
            self.now = self.now.max(at);
            let mut pending = VecDeque::new();
            for r in 0..self.rips.len() {
                let mut actions = RipActions::default();
                self.rips[r].poll(self.now, &mut actions);
                pending.push_back((r, actions));
            }
            self.settle(pending);
        }
        self.now = until;
    }

    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    fn link(&mut self, r: usize, port: usize, up: bool) {
        let mut actions = RipActions::default();
        self.rips[r].set_link(self.now, port, up, &mut actions);
        self.settle(VecDeque::from([(r, actions)]));
    }

    fn route(&self, r: usize, destination: &str) -> Option<(Ipv4Addr, usize, u32)> {
        self.fib[r].get(&cidr(destination)).copied()
    }
}

fn config(interfaces: Vec<RipInterface>) -> RipConfig {
    RipConfig {
        interfaces,
        ..RipConfig::default()
    }
}

/// A — B — C, with a stub network behind A and behind C.
fn line() -> Net {
    Net::new(
        vec![
            config(vec![iface(0, "10.0.1.1/24"), iface(1, "10.0.12.1/30")]),
            config(vec![iface(0, "10.0.12.2/30"), iface(1, "10.0.23.1/30")]),
            config(vec![iface(0, "10.0.23.2/30"), iface(1, "10.0.3.1/24")]),
        ],
        vec![vec![(0, 1), (1, 0)], vec![(1, 1), (2, 0)]],
    )
}

#[test]
fn a_line_converges_with_hop_count_metrics() {
    let mut net = line();
    net.run_for(Duration::from_secs(5));
    assert_eq!(
        net.route(0, "10.0.3.0/24"),
        Some((addr("10.0.12.2"), 1, 3)),
        "A reaches C's network via B in 3 hops"
    );
    assert_eq!(
        net.route(0, "10.0.23.0/30"),
        Some((addr("10.0.12.2"), 1, 2))
    );
    assert_eq!(net.route(2, "10.0.1.0/24"), Some((addr("10.0.23.1"), 0, 3)));
    assert_eq!(net.route(1, "10.0.1.0/24"), Some((addr("10.0.12.1"), 0, 2)));
    // Connected networks are not RIP's to install.
    assert_eq!(net.route(0, "10.0.1.0/24"), None);
}

#[test]
fn updates_poison_routes_back_towards_where_they_came_from() {
    let mut net = line();
    net.run_for(Duration::from_secs(31));
    // B's periodic update towards A (port 0).
    let (_, _, out) = net
        .sent
        .iter()
        .rev()
        .find(|(t, r, o)| *r == 1 && o.port == 0 && *t >= Instant::from_secs(30))
        .expect("B sent a periodic update to A");
    assert_eq!(out.to, rip::MULTICAST);
    let m = RipMessage::parse(&out.message).unwrap();
    let metric = |net: &str| {
        m.entries
            .iter()
            .find(|e| e.address == addr(net))
            .map(|e| e.metric)
    };
    assert_eq!(
        metric("10.0.1.0"),
        Some(INFINITY),
        "learned from A: poisoned"
    );
    assert_eq!(
        metric("10.0.12.0"),
        Some(INFINITY),
        "A's own link: poisoned"
    );
    assert_eq!(metric("10.0.3.0"), Some(2));
    assert_eq!(metric("10.0.23.0"), Some(1));
}

#[test]
fn periodic_updates_follow_the_update_timer() {
    let mut net = line();
    net.run_for(Duration::from_secs(95));
    let updates: Vec<Instant> = net
        .sent
        .iter()
        .filter(|(_, r, o)| *r == 0 && o.port == 1 && o.to == rip::MULTICAST)
        .filter(|(_, _, o)| RipMessage::parse(&o.message).unwrap().command == RipCommand::Response)
        .map(|(t, _, _)| *t)
        .collect();
    for t in [30, 60, 90] {
        assert!(
            updates.contains(&Instant::from_secs(t)),
            "{t} s: {updates:?}"
        );
    }
    assert_eq!(net.rips[0].counters().updates_out, 3 * 2);
}

#[test]
fn a_silent_neighbour_times_out_then_its_routes_are_forgotten() {
    let mut net = line();
    net.run_for(Duration::from_secs(5));
    assert!(net.route(1, "10.0.3.0/24").is_some());
    net.muted[2] = true;
    // C's last update reached B at 0–5 s: B keeps the route until 180 s
    // after it.
    net.run_for(Duration::from_secs(170));
    assert!(net.route(1, "10.0.3.0/24").is_some(), "not yet timed out");
    net.run_for(Duration::from_secs(15));
    assert_eq!(net.route(1, "10.0.3.0/24"), None, "B withdrew it");
    assert_eq!(net.route(0, "10.0.3.0/24"), None, "A heard metric 16");
    let b = net.rips[1]
        .routes()
        .find(|r| r.destination == cidr("10.0.3.0/24"))
        .unwrap();
    assert_eq!(b.metric, INFINITY, "still advertised as unreachable");
    net.run_for(Duration::from_secs(121));
    assert!(
        net.rips[1]
            .routes()
            .all(|r| r.destination != cidr("10.0.3.0/24")),
        "garbage-collected"
    );
}

#[test]
fn a_link_going_down_triggers_an_update_within_the_holddown() {
    let mut net = line();
    net.run_for(Duration::from_secs(5));
    net.link(2, 1, false); // C's stub network goes away.
    net.run_for(Duration::from_secs(2));
    assert_eq!(net.route(1, "10.0.3.0/24"), None);
    assert_eq!(net.route(0, "10.0.3.0/24"), None);
    assert!(net.rips[2].counters().triggered_out > 0);
    net.link(2, 1, true);
    net.run_for(Duration::from_secs(2));
    assert_eq!(net.route(0, "10.0.3.0/24"), Some((addr("10.0.12.2"), 1, 3)));
}

/// Four routers in a ring, each with a stub network; the link r0–r1 is
/// cut, so r0 must reach r1's network the other way round.
#[test]
fn a_ring_heals_around_a_cut_link_and_returns_when_it_is_back() {
    // Segment k joins router k (port 1) and router k+1 (port 0).
    let mut configs = Vec::new();
    for k in 0..4u8 {
        let prev = (k + 3) % 4;
        configs.push(config(vec![
            iface(0, &format!("10.1.{prev}.2/30")),
            iface(1, &format!("10.1.{k}.1/30")),
            iface(2, &format!("10.2.{k}.1/24")),
        ]));
    }
    let segments = (0..4).map(|k| vec![(k, 1), (((k + 1) % 4), 0)]).collect();
    let mut net = Net::new(configs, segments);
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.route(0, "10.2.1.0/24"), Some((addr("10.1.0.2"), 1, 2)));
    assert_eq!(net.route(0, "10.2.2.0/24").map(|r| r.2), Some(3));
    // Cut r0:eth1 — r1:eth0 on both ends.
    net.link(0, 1, false);
    net.link(1, 0, false);
    // r3 and r2 may have chosen the path through the cut (equal metrics):
    // the poison travels at once, the other way round comes with the next
    // periodic update of the router that still has it — within one update
    // interval (RFC 2453 §3.8 leaves no faster way without heuristics).
    net.run_for(Duration::from_secs(31));
    assert_eq!(
        net.route(0, "10.2.1.0/24"),
        Some((addr("10.1.3.1"), 0, 4)),
        "the other way round: r0 → r3 → r2 → r1"
    );
    assert_eq!(net.route(1, "10.2.0.0/24"), Some((addr("10.1.1.2"), 1, 4)));
    net.link(0, 1, true);
    net.link(1, 0, true);
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.route(0, "10.2.1.0/24"), Some((addr("10.1.0.2"), 1, 2)));
}

#[test]
fn a_request_from_a_tool_gets_the_whole_table_unpoisoned() {
    let mut net = line();
    net.run_for(Duration::from_secs(5));
    let request = RipMessage {
        command: RipCommand::Request,
        version: 2,
        auth: None,
        entries: vec![RipEntry::whole_table()],
    };
    let mut actions = RipActions::default();
    net.rips[1].receive(
        net.now,
        0,
        addr("10.0.12.1"),
        5555,
        &request.emit(),
        &mut actions,
    );
    let [out] = actions.send.as_slice() else {
        panic!("one answer: {actions:?}");
    };
    assert_eq!((out.to, out.to_port), (addr("10.0.12.1"), 5555));
    let m = RipMessage::parse(&out.message).unwrap();
    assert_eq!(m.command, RipCommand::Response);
    assert_eq!(m.entries.len(), 4);
    assert!(m.entries.iter().all(|e| e.metric < INFINITY));
}

#[test]
fn invalid_messages_and_entries_are_ignored_and_counted() {
    let mut rip = Rip::new(
        config(vec![iface(0, "10.0.12.1/30")]),
        Instant::ZERO,
        &mut RipActions::default(),
    );
    let entry = |a: &str, len: u8, metric: u32| RipEntry {
        family: rip::AFI_INET,
        tag: 0,
        address: addr(a),
        mask: Ipv4Cidr::new(addr(a), len).unwrap().netmask(),
        next_hop: Ipv4Addr::UNSPECIFIED,
        metric,
    };
    let response = |entries| {
        RipMessage {
            command: RipCommand::Response,
            version: 2,
            auth: None,
            entries,
        }
        .emit()
    };
    let good = response(vec![entry("10.9.0.0", 16, 1)]);
    let mut a = RipActions::default();
    let now = Instant::from_secs(1);
    rip.receive(now, 0, addr("10.0.12.2"), 5000, &good, &mut a); // not port 520
    rip.receive(now, 0, addr("10.7.7.7"), 520, &good, &mut a); // not on the link
    rip.receive(now, 0, addr("10.0.12.1"), 520, &good, &mut a); // ourselves
    rip.receive(now, 0, addr("10.0.12.2"), 520, &[2, 2, 0], &mut a); // truncated
    assert_eq!(rip.counters().bad_messages, 4);
    assert!(a.routes.is_empty());
    let bad = response(vec![
        entry("10.9.0.0", 16, 0),
        entry("10.9.0.0", 16, 17),
        entry("127.0.0.0", 8, 1),
        entry("224.0.0.0", 4, 1),
        entry("10.9.1.0", 16, 1), // host bits set
        entry("10.8.0.0", 16, 2),
    ]);
    rip.receive(now, 0, addr("10.0.12.2"), 520, &bad, &mut a);
    assert_eq!(rip.counters().bad_routes, 5);
    assert_eq!(
        a.routes,
        vec![RouteChange::Install {
            destination: cidr("10.8.0.0/16"),
            via: addr("10.0.12.2"),
            port: 0,
            metric: 3,
        }]
    );
}

#[test]
fn a_password_is_required_when_configured_and_sent_with_every_message() {
    let mut with_password = iface(0, "10.0.12.1/30");
    with_password.password = Some("lab".into());
    let mut actions = RipActions::default();
    let mut rip = Rip::new(config(vec![with_password]), Instant::ZERO, &mut actions);
    let request = RipMessage::parse(&actions.send[0].message).unwrap();
    assert_eq!(request.auth, Some(RipAuth::simple("lab")));
    let entries = vec![RipEntry {
        family: rip::AFI_INET,
        tag: 0,
        address: addr("10.8.0.0"),
        mask: addr("255.255.0.0"),
        next_hop: Ipv4Addr::UNSPECIFIED,
        metric: 1,
    }];
    let mut message = RipMessage {
        command: RipCommand::Response,
        version: 2,
        auth: None,
        entries,
    };
    let mut a = RipActions::default();
    let from = addr("10.0.12.2");
    rip.receive(Instant::ZERO, 0, from, 520, &message.emit(), &mut a);
    message.auth = Some(RipAuth::simple("wrong"));
    rip.receive(Instant::ZERO, 0, from, 520, &message.emit(), &mut a);
    assert_eq!(rip.counters().bad_messages, 2);
    message.auth = Some(RipAuth::simple("lab"));
    rip.receive(Instant::ZERO, 0, from, 520, &message.emit(), &mut a);
    assert_eq!(a.routes.len(), 1);
}

#[test]
fn large_tables_are_cut_into_messages_of_25_entries() {
    let mut rip = Rip::new(
        config(vec![iface(0, "10.0.12.1/30"), iface(1, "10.0.13.1/30")]),
        Instant::ZERO,
        &mut RipActions::default(),
    );
    let entries: Vec<RipEntry> = (0..40u8)
        .map(|i| RipEntry {
            family: rip::AFI_INET,
            tag: 0,
            address: Ipv4Addr::new(10, 100, i, 0),
            mask: addr("255.255.255.0"),
            next_hop: Ipv4Addr::UNSPECIFIED,
            metric: 1,
        })
        .collect();
    for chunk in entries.chunks(20) {
        let message = RipMessage {
            command: RipCommand::Response,
            version: 2,
            auth: None,
            entries: chunk.to_vec(),
        };
        let mut a = RipActions::default();
        rip.receive(
            Instant::ZERO,
            0,
            addr("10.0.12.2"),
            520,
            &message.emit(),
            &mut a,
        );
    }
    let mut a = RipActions::default();
    rip.poll(Instant::from_secs(30), &mut a);
    let sizes: Vec<usize> = a
        .send
        .iter()
        .filter(|o| o.port == 1)
        .map(|o| RipMessage::parse(&o.message).unwrap().entries.len())
        .collect();
    assert_eq!(sizes, vec![25, 17], "40 learned + 2 connected routes");
    assert!(a.send.iter().all(|o| o.message.len() <= 504));
}
