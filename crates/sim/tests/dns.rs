//! The recursive resolver of the default lab, simulated: it walks the
//! delegations from the root hint (root → com → example.com) and answers
//! a repeated question from its cache.

mod simlab;

use simlab::*;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use vnet_sim::events::WireEvent;

const ROOT: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 20);
const COM: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 21);
const EXAMPLE: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 22);

/// DNS queries the resolver sent out (toward r1), in order.
fn upstream_queries(o: &vnet_sim::Outcome) -> Vec<&WireEvent> {
    sent(o, "resolver", "r1")
        .into_iter()
        .filter(|e| e.proto == "dns" && e.summary.starts_with("DNS query"))
        .collect()
}

/// `client dig www.example.com`: the resolver asks dns-root (10.0.3.20),
/// then dns-com (.21), then dns-example (.22), each after the previous
/// answered; root and com answer with referrals, example.com with the
/// authoritative address, which dig prints and the resolver caches.
#[test]
fn recursion_walks_root_then_com_then_example() {
    let o = run_simple("client", "dig www.example.com", &[("resolver", "cache")]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let out = stdout(&o);
    assert!(out.contains("status: NOERROR"), "{out}");
    let answer = out
        .lines()
        .skip_while(|l| !l.starts_with(";; ANSWER SECTION:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no answer:\n{out}"));
    let fields: Vec<&str> = answer.split_whitespace().collect();
    assert_eq!(
        (fields[0], fields[3], fields[4]),
        ("www.example.com.", "A", "10.0.3.10"),
        "{answer}"
    );
    let answer_ttl: u32 = fields[1].parse().expect("a TTL");
    assert!(
        out.contains(";; SERVER: 10.0.2.53#53"),
        "the resolver the client learnt by DHCP answers:\n{out}"
    );

    let queries = upstream_queries(&o);
    let asked: Vec<Ipv4Addr> = queries.iter().filter_map(|e| ipv4_dst(e)).collect();
    assert_eq!(asked, [ROOT, COM, EXAMPLE], "{}", log(&o));
    assert!(
        queries
            .iter()
            .all(|e| e.summary.contains("A www.example.com"))
    );
    // Each server answers the query it got before the next one is asked.
    let answers: Vec<(&str, &WireEvent)> = ["dns-root", "dns-com", "dns-example"]
        .into_iter()
        .map(|server| {
            let replies: Vec<&WireEvent> = sent(&o, server, "sw2")
                .into_iter()
                .filter(|e| e.summary.starts_with("DNS response"))
                .collect();
            assert_eq!(replies.len(), 1, "{server}:\n{}", log(&o));
            (server, replies[0])
        })
        .collect();
    assert!(
        answers[0].1.summary.contains("referral"),
        "{}",
        answers[0].1.line()
    );
    assert!(
        answers[1].1.summary.contains("referral"),
        "{}",
        answers[1].1.line()
    );
    assert!(
        answers[2].1.summary.contains("10.0.3.10") && answers[2].1.summary.contains(", aa"),
        "{}",
        answers[2].1.line()
    );
    assert!(queries[1].index > answers[0].1.index && queries[2].index > answers[1].1.index);
    // The client asked the resolver once; the resolver's answer is not
    // authoritative.
    let client_queries = sent(&o, "client", "sw1")
        .into_iter()
        .filter(|e| e.summary.starts_with("DNS query"))
        .count();
    assert_eq!(client_queries, 1);
    let to_client: Vec<&WireEvent> = sent(&o, "resolver", "r1")
        .into_iter()
        .filter(|e| e.summary.starts_with("DNS response"))
        .collect();
    assert_eq!(to_client.len(), 1);
    assert!(
        !to_client[0].summary.contains(", aa"),
        "{}",
        to_client[0].line()
    );

    // The cache holds the answer and the delegations learnt on the way.
    let cache = table(&o, "resolver", "cache");
    for (name, rtype, data) in [
        ("www.example.com.", "A", "10.0.3.10"),
        ("com.", "NS", "ns.com."),
        ("ns.com.", "A", "10.0.3.21"),
        ("example.com.", "NS", "ns.example.com."),
        ("ns.example.com.", "A", "10.0.3.22"),
    ] {
        assert!(
            cache.rows.iter().any(|r| cell(cache, r, "NAME") == name
                && cell(cache, r, "TYPE") == rtype
                && cell(cache, r, "DATA") == data),
            "no {name} {rtype} {data} in the cache:\n{}",
            cache.render()
        );
    }
    // A second of settling later, the cached TTL has counted down.
    let www = cache
        .rows
        .iter()
        .find(|r| cell(cache, r, "NAME") == "www.example.com.")
        .expect("www cached");
    let left: u32 = cell(cache, www, "TTL").parse().expect("TTL is a number");
    assert!(
        left < answer_ttl && left + 5 > answer_ttl,
        "TTL {left} in the cache, {answer_ttl} when answered"
    );
}

/// `client browse --repeat 2 http://www.example.com/` looks the name up
/// once per visit: the second query reaches the resolver, which answers it
/// from its cache without asking any authoritative server again.
#[test]
fn second_lookup_is_answered_from_the_cache() {
    let o = run_simple(
        "client",
        "browse --repeat 2 http://www.example.com/",
        &[("resolver", "cache")],
    );
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let lookups: Vec<&WireEvent> = sent(&o, "r1", "resolver")
        .into_iter()
        .filter(|e| e.summary.starts_with("DNS query A www.example.com"))
        .collect();
    assert_eq!(lookups.len(), 2, "one lookup per visit:\n{}", log(&o));
    let answers: Vec<&WireEvent> = sent(&o, "resolver", "r1")
        .into_iter()
        .filter(|e| e.summary.starts_with("DNS response A www.example.com"))
        .collect();
    assert_eq!(answers.len(), 2, "{}", log(&o));

    let queries = upstream_queries(&o);
    let asked: Vec<Ipv4Addr> = queries.iter().filter_map(|e| ipv4_dst(e)).collect();
    assert_eq!(
        asked,
        [ROOT, COM, EXAMPLE],
        "only the first lookup recursed"
    );
    assert!(
        queries.iter().all(|q| q.index < answers[0].index),
        "every upstream query belongs to the first lookup"
    );
    // The cached answer leaves the resolver on the next tick after the
    // question arrived: nothing else happened in between.
    let second = lookups[1];
    let reply = answers[1];
    assert!(reply.index > second.index);
    assert!(reply.summary.contains("10.0.3.10"), "{}", reply.line());
    assert!(
        !o.events[second.index + 1..reply.index]
            .iter()
            .any(|e| e.from == "resolver"),
        "the resolver sent nothing before its cached answer\n{}",
        log(&o)
    );
    let first_took = answers[0].at_micros - lookups[0].at_micros;
    let second_took = reply.at_micros - second.at_micros;
    assert!(
        second_took * 5 < first_took,
        "cached answer in {second_took} µs, recursion in {first_took} µs"
    );
    let out = stdout(&o);
    let dns_lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("DNS www.example.com -> 10.0.3.10"))
        .collect();
    assert_eq!(dns_lines.len(), 2, "{out}");

    let cache = table(&o, "resolver", "cache");
    assert!(
        cache
            .rows
            .iter()
            .any(|r| cell(cache, r, "NAME").trim_end_matches('.') == "www.example.com"),
        "{}",
        cache.render()
    );
}

/// `client dig nothere.example.com`: NXDOMAIN from example.com's server,
/// with its SOA in the authority section; the resolver caches it
/// negatively.
#[test]
fn nxdomain_carries_the_soa_and_is_cached() {
    let o = run_simple(
        "client",
        "dig nothere.example.com",
        &[("resolver", "cache")],
    );
    let out = stdout(&o);
    assert!(out.contains("status: NXDOMAIN"), "{}", all_output(&o));
    assert!(out.contains("IN\tSOA\tns.example.com."), "{out}");
    let asked: Vec<Ipv4Addr> = upstream_queries(&o)
        .iter()
        .filter_map(|e| ipv4_dst(e))
        .collect();
    assert_eq!(asked, [ROOT, COM, EXAMPLE], "{}", log(&o));
    let cache = table(&o, "resolver", "cache");
    assert!(
        cache
            .rows
            .iter()
            .any(|r| cell(cache, r, "NAME") == "nothere.example.com."
                && cell(cache, r, "DATA").contains("NXDOMAIN")),
        "{}",
        cache.render()
    );
}

/// `client browse --repeat 2 http://nothere.example.com/`: both visits
/// fail to resolve; the second NXDOMAIN comes from the negative cache,
/// without a query upstream.
#[test]
fn second_nxdomain_is_answered_from_the_negative_cache() {
    let o = run_simple(
        "client",
        "browse --repeat 2 http://nothere.example.com/",
        &[],
    );
    let out = all_output(&o);
    assert_eq!(out.matches("NXDOMAIN").count(), 2, "{out}");
    let answers: Vec<&WireEvent> = sent(&o, "resolver", "r1")
        .into_iter()
        .filter(|e| e.summary.starts_with("DNS response A nothere.example.com"))
        .collect();
    assert_eq!(answers.len(), 2, "{}", log(&o));
    assert!(answers.iter().all(|e| e.summary.contains("NXDOMAIN")));
    let queries = upstream_queries(&o);
    assert_eq!(
        queries.len(),
        3,
        "only the first lookup went upstream\n{}",
        log(&o)
    );
    assert!(queries.iter().all(|q| q.index < answers[0].index));
}

/// `client dig example.com MX`: both exchangers with their preferences.
#[test]
fn mx_lists_every_exchanger_with_its_preference() {
    let o = run_simple("client", "dig example.com MX", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let out = stdout(&o);
    assert!(out.contains("IN\tMX\t10 mail1.example.com."), "{out}");
    assert!(out.contains("IN\tMX\t20 mail2.example.com."), "{out}");
}

/// dns-com cut off (`--at "0ms link down dns-com:eth0"`): the resolver
/// gives up on it in bounded (virtual) time and dig shows SERVFAIL.
#[test]
fn a_cut_off_tld_server_gives_servfail() {
    let o = run(
        &options(1, &["0ms link down dns-com:eth0"], &[]),
        "client",
        "dig +time=15 +tries=1 www.example.com",
    );
    assert!(
        stdout(&o).contains("status: SERVFAIL"),
        "{}",
        all_output(&o)
    );
    let asked: BTreeSet<Ipv4Addr> = upstream_queries(&o)
        .iter()
        .filter_map(|e| ipv4_dst(e))
        .collect();
    assert!(asked.contains(&COM), "the resolver tried dns-com");
    assert!(!asked.contains(&EXAMPLE), "and never learnt of dns-example");
    assert!(
        o.end_micros - o.command_micros < 15_000_000,
        "the answer came before dig's 15 s timeout"
    );
}

/// dns-com cut off, and back 3.5 s into `browse --repeat 2`: the first
/// visit's lookup fails (SERVFAIL to the client), the second visit's
/// succeeds and the page loads.
#[test]
fn a_tld_server_back_up_is_used_again() {
    let o = run(
        &options(
            1,
            &["0ms link down dns-com:eth0", "3500ms link up dns-com:eth0"],
            &[],
        ),
        "client",
        "browse --repeat 2 http://www.example.com/",
    );
    let out = stdout(&o);
    let (first, second) = out.split_once("visit 2 of 2").expect("two visits");
    assert!(first.contains("1 request, 0 ok"), "{out}");
    assert!(second.contains("5 requests, 5 ok"), "{out}");
    let to_client: Vec<&WireEvent> = sent(&o, "sw1", "client")
        .into_iter()
        .filter(|e| e.summary.starts_with("DNS response"))
        .collect();
    assert_eq!(to_client.len(), 2, "{}", log(&o));
    assert!(
        to_client[0].summary.contains("SERVFAIL"),
        "{}",
        to_client[0].line()
    );
    assert!(
        to_client[1].summary.contains("10.0.3.10"),
        "{}",
        to_client[1].line()
    );
    let up = o
        .events
        .iter()
        .find(|e| e.proto == "script" && e.summary == "link up")
        .expect("link up logged");
    assert!(to_client[0].index < up.index && up.index < to_client[1].index);
}
