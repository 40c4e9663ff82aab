//! Router behaviour in the default lab, simulated: forwarding decrements
//! the TTL hop by hop, and routers answer with ICMP errors (time exceeded
//! for traceroute, destination unreachable without a route).

mod simlab;

use simlab::*;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use vnet_sim::events::WireEvent;

/// Echo frames of `o` sent `from` → `to` whose summary contains `kind`,
/// by sequence number, with their TTL.
fn ttls(o: &vnet_sim::Outcome, from: &str, to: &str, kind: &str) -> BTreeMap<u16, u8> {
    sent(o, from, to)
        .into_iter()
        .filter(|e| e.summary.contains(kind))
        .map(|e: &WireEvent| {
            (
                echo_seq(e).expect("echo has a seq"),
                e.ipv4_ttl().expect("echo is IPv4"),
            )
        })
        .collect()
}

/// `client ping -c 3 10.0.3.30` (the server, behind r1, r2 and r3): every
/// echo request leaves r2 toward r3 with a TTL one less than it arrived
/// at r2 with (and likewise at r1 and r3, and for the replies on the way
/// back), while the switches pass it on unchanged.
#[test]
fn forwarding_decrements_ttl_at_each_router() {
    let o = run_simple("client", "ping -c 3 10.0.3.30", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    assert!(
        stdout(&o).starts_with("PING 10.0.3.30 (10.0.3.30) 56(84) bytes of data."),
        "{}",
        all_output(&o)
    );
    assert!(
        stdout(&o).contains("3 packets transmitted, 3 received"),
        "{}",
        all_output(&o)
    );

    let into_r2 = ttls(&o, "r1", "r2", "echo request");
    let out_of_r2 = ttls(&o, "r2", "r3", "echo request");
    assert_eq!(into_r2.len(), 3, "{}", log(&o));
    assert_eq!(
        into_r2.keys().collect::<Vec<_>>(),
        out_of_r2.keys().collect::<Vec<_>>()
    );
    for (seq, ttl) in &into_r2 {
        assert_eq!(out_of_r2[seq], ttl - 1, "seq {seq}: r2 decrements the TTL");
    }

    // The whole way: client → sw1 → r1 → r2 → r3 → sw2 → server.
    let path = [
        ("client", "sw1"),
        ("sw1", "r1"),
        ("r1", "r2"),
        ("r2", "r3"),
        ("r3", "sw2"),
        ("sw2", "server"),
    ];
    let along: Vec<u8> = path
        .iter()
        .map(|(a, b)| ttls(&o, a, b, "echo request")[&1])
        .collect();
    let first = along[0];
    assert_eq!(
        along,
        [first, first, first - 1, first - 2, first - 3, first - 3],
        "TTL of echo request 1 on each cable (routers decrement, switches do not)"
    );

    // The replies on the way back: r3 → r2 → r1.
    let into_r2 = ttls(&o, "r3", "r2", "echo reply");
    let out_of_r2 = ttls(&o, "r2", "r1", "echo reply");
    assert_eq!(into_r2.len(), 3, "{}", log(&o));
    for (seq, ttl) in &into_r2 {
        assert_eq!(
            out_of_r2[seq],
            ttl - 1,
            "reply {seq}: r2 decrements the TTL"
        );
    }
    // …and the client sees the TTL the server sent, less three routers.
    let sent_ttl = ttls(&o, "server", "sw2", "echo reply")[&1];
    assert!(
        stdout(&o).contains(&format!("icmp_seq=1 ttl={}", sent_ttl - 3)),
        "{}",
        stdout(&o)
    );
}

/// `client traceroute -n 10.0.3.30`: hops 1–3 are r1, r2 and r3 (the
/// addresses of their interfaces toward the client) and hop 4 the server;
/// each router sent ICMP time exceeded, and the server port unreachable.
#[test]
fn traceroute_lists_each_router_from_its_time_exceeded() {
    let o = run_simple("client", "traceroute -n 10.0.3.30", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let out = stdout(&o);
    let hops: Vec<(u32, String)> = out
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?.parse().ok()?, words.next()?.to_string()))
        })
        .collect();
    let expected: Vec<(u32, String)> = ["10.0.1.1", "10.0.12.2", "10.0.23.2", "10.0.3.30"]
        .iter()
        .zip(1..)
        .map(|(addr, hop)| (hop, addr.to_string()))
        .collect();
    assert_eq!(hops, expected, "{out}");

    let routers = [("r1", "10.0.1.1"), ("r2", "10.0.12.2"), ("r3", "10.0.23.2")];
    for (router, addr) in routers {
        let addr: Ipv4Addr = addr.parse().unwrap();
        // Three probes per hop, each answered by the router itself (routers
        // nearer the client forward the others' errors unchanged).
        let originated = o
            .events
            .iter()
            .filter(|e| {
                e.from == router
                    && e.summary.contains("ICMP time exceeded")
                    && ipv4_src(e) == Some(addr)
            })
            .count();
        assert_eq!(originated, 3, "{router}:\n{}", log(&o));
    }
    let mut at_client: Vec<Ipv4Addr> = sent(&o, "sw1", "client")
        .into_iter()
        .filter(|e| e.summary.contains("ICMP time exceeded"))
        .map(|e| {
            assert_eq!(
                ipv4_dst(e),
                Some(Ipv4Addr::new(10, 0, 1, 100)),
                "{}",
                e.line()
            );
            ipv4_src(e).expect("IPv4")
        })
        .collect();
    at_client.dedup();
    let expected: Vec<Ipv4Addr> = routers.iter().map(|(_, a)| a.parse().unwrap()).collect();
    assert_eq!(
        at_client, expected,
        "time exceeded reach the client hop by hop, in order"
    );
    // The probes that reached the server: port unreachable, no time exceeded.
    assert!(
        o.events
            .iter()
            .any(|e| e.from == "server" && e.summary.contains("destination unreachable (port)")),
        "{}",
        log(&o)
    );
    assert!(
        !o.events
            .iter()
            .any(|e| e.from == "server" && e.summary.contains("time exceeded"))
    );
}

/// `client ping -c 2 10.0.9.9`: r1 forwards it (its route 10.0.0.0/8 via
/// r2), r2 has no route for it and answers destination net unreachable,
/// which ping reports; nothing goes beyond r2.
#[test]
fn unrouted_destination_gets_net_unreachable_from_the_router_without_a_route() {
    let o = run_simple("client", "ping -c 2 10.0.9.9", &[]);
    assert_eq!(o.exit, Some(1), "no reply: {}", all_output(&o));
    let out = stdout(&o);
    for seq in 1..=2 {
        assert!(
            out.contains(&format!(
                "From 10.0.12.2 icmp_seq={seq} Destination Net Unreachable"
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("2 packets transmitted, 0 received, +2 errors"),
        "{out}"
    );
    let unreachable: Vec<&WireEvent> = o
        .events
        .iter()
        .filter(|e| e.summary.contains("ICMP destination unreachable (net)"))
        .collect();
    assert!(!unreachable.is_empty());
    assert!(
        unreachable
            .iter()
            .all(|e| ipv4_src(e) == Some(Ipv4Addr::new(10, 0, 12, 2))),
        "{}",
        log(&o)
    );
    assert_eq!(
        sent(&o, "r1", "r2")
            .iter()
            .filter(|e| e.summary.contains("echo request"))
            .count(),
        2
    );
    assert!(
        !o.events
            .iter()
            .any(|e| e.from == "r2" && e.to == "r3" && e.summary.contains("echo request")),
        "r2 has nowhere to send it\n{}",
        log(&o)
    );
}

/// `client ping -c 2 192.0.2.1`: outside 10/8 r1 (the client's gateway)
/// has no route, so r1 itself answers net unreachable to each request,
/// and ping counts them as errors.
#[test]
fn destination_outside_the_lab_is_unreachable_at_the_first_router() {
    let o = run_simple("client", "ping -c 2 192.0.2.1", &[]);
    assert_eq!(o.exit, Some(1), "{}", all_output(&o));
    let out = stdout(&o);
    for seq in 1..=2 {
        assert!(
            out.contains(&format!(
                "From 10.0.1.1 icmp_seq={seq} Destination Net Unreachable"
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("2 packets transmitted, 0 received, +2 errors, 100% packet loss"),
        "{out}"
    );
    let errors = o
        .events
        .iter()
        .filter(|e| {
            e.from == "r1"
                && e.summary.contains("ICMP destination unreachable (net)")
                && ipv4_src(e) == Some(Ipv4Addr::new(10, 0, 1, 1))
        })
        .count();
    assert_eq!(errors, 2, "{}", log(&o));
    assert!(
        !o.events
            .iter()
            .any(|e| e.from == "r1" && e.to == "r2" && e.proto == "icmp"),
        "r1 does not forward it\n{}",
        log(&o)
    );
}

/// `client ping -c 1 -t 1 10.0.3.10`: TTL 1 expires at the first router,
/// r1, which answers time exceeded; the request goes no further.
#[test]
fn ttl_one_expires_at_the_first_router() {
    let o = run_simple("client", "ping -c 1 -t 1 10.0.3.10", &[]);
    assert_eq!(o.exit, Some(1), "{}", all_output(&o));
    assert!(
        stdout(&o).contains("From 10.0.1.1 icmp_seq=1 Time to live exceeded"),
        "{}",
        all_output(&o)
    );
    let request = sent(&o, "client", "sw1")
        .into_iter()
        .find(|e| e.summary.contains("echo request"))
        .expect("an echo request");
    assert_eq!(request.ipv4_ttl(), Some(1));
    assert!(o.events.iter().any(|e| e.from == "r1"
        && e.summary.contains("ICMP time exceeded")
        && ipv4_src(e) == Some(Ipv4Addr::new(10, 0, 1, 1))));
    assert!(
        !o.events
            .iter()
            .any(|e| e.from == "r1" && e.to == "r2" && e.proto == "icmp"),
        "{}",
        log(&o)
    );
}

/// IPv4 total length of a frame (header included).
fn ip_len(e: &WireEvent) -> usize {
    usize::from(u16::from_be_bytes([e.head[16], e.head[17]]))
}

/// `client ping -c 2 -s 4000 10.0.3.10`: 4028-byte datagrams leave the
/// client in 1500-byte fragments; r2 fragments them again for the
/// MTU-576 link to r3 (no fragment above 576 bytes there, the payloads
/// adding up to the whole 4008-byte ICMP message); web reassembles and
/// answers, and its reply is fragmented the same way on the way back.
#[test]
fn big_echoes_are_fragmented_for_the_576_link_and_reassembled() {
    let o = run_simple("client", "ping -c 2 -s 4000 10.0.3.10", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let out = stdout(&o);
    assert!(
        out.contains("4008 bytes from 10.0.3.10: icmp_seq=1"),
        "{out}"
    );
    assert!(
        out.contains("2 packets transmitted, 2 received, 0% packet loss"),
        "{out}"
    );

    let fragments = |from: &str, to: &str, src: Ipv4Addr| -> Vec<&WireEvent> {
        sent(&o, from, to)
            .into_iter()
            .filter(|e| e.summary.starts_with("IPv4 fragment") && ipv4_src(e) == Some(src))
            .collect()
    };
    let client = Ipv4Addr::new(10, 0, 1, 100);
    let into_r2 = fragments("r1", "r2", client);
    let out_of_r2 = fragments("r2", "r3", client);
    assert!(!into_r2.is_empty(), "{}", log(&o));
    assert!(into_r2.iter().all(|e| ip_len(e) <= 1500));
    assert!(
        into_r2.iter().any(|e| ip_len(e) > 576),
        "the 1500 link carries big fragments"
    );
    assert!(out_of_r2.len() > into_r2.len(), "r2 splits them further");
    assert!(
        out_of_r2.iter().all(|e| ip_len(e) <= 576),
        "nothing above the link MTU crosses r2 → r3\n{}",
        log(&o)
    );
    // The first datagram's fragments on r2 → r3: payloads add up to 4008.
    let id = |e: &WireEvent| u16::from_be_bytes([e.head[18], e.head[19]]);
    let first = id(out_of_r2[0]);
    let total: usize = out_of_r2
        .iter()
        .filter(|e| id(e) == first)
        .map(|e| ip_len(e) - usize::from(e.head[14] & 0x0f) * 4)
        .sum();
    assert_eq!(total, 4008, "ICMP header + 4000 bytes");
    let replies = fragments("r3", "r2", Ipv4Addr::new(10, 0, 3, 10));
    assert!(!replies.is_empty() && replies.iter().all(|e| ip_len(e) <= 576));
}

/// `client ping -c 1 -M do -s 1000 10.0.3.10`: Don't Fragment and too big
/// for r2's MTU-576 link: r2 drops it and says so with the MTU.
#[test]
fn dont_fragment_too_big_gets_frag_needed_with_the_mtu() {
    let o = run_simple("client", "ping -c 1 -M do -s 1000 10.0.3.10", &[]);
    assert_eq!(o.exit, Some(1), "{}", all_output(&o));
    assert!(
        stdout(&o).contains("From 10.0.12.2 icmp_seq=1 Frag needed and DF set (mtu = 576)"),
        "{}",
        all_output(&o)
    );
    assert!(o.events.iter().any(|e| e.from == "r2"
        && e.summary.contains("frag needed, mtu 576")
        && ipv4_src(e) == Some(Ipv4Addr::new(10, 0, 12, 2))));
    assert!(
        !o.events.iter().any(|e| e.from == "r2"
            && e.to == "r3"
            && ipv4_src(e) == Some(Ipv4Addr::new(10, 0, 1, 100))),
        "the datagram is not forwarded\n{}",
        log(&o)
    );
}

/// `client traceroute -w 2 10.0.3.10` (without `-n`): each hop prints
/// `ADDR (ADDR)` as Linux's does for a hop without a name, every probe
/// answered; vnet's traceroute never looks names up, so no DNS is sent.
#[test]
fn traceroute_without_n_prints_each_hop_as_address_and_name() {
    let o = run_simple("client", "traceroute -w 2 10.0.3.10", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let out = stdout(&o);
    let hops: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(hops.len(), 4, "{out}");
    for (hop, addr) in hops
        .iter()
        .zip(["10.0.1.1", "10.0.12.2", "10.0.23.2", "10.0.3.10"])
    {
        assert!(hop.contains(&format!("{addr} ({addr})")), "{hop:?}");
        assert!(!hop.contains('*'), "{hop:?}");
    }
    assert!(!o.events.iter().any(|e| e.proto == "dns"), "{}", log(&o));
}
