//! The iterative resolver against simulated servers built from zone text
//! (instant answers, virtual time).

mod common;

use common::*;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use vnet_dns::resolver::{Outcome, Resolution, ResolverConfig};
use vnet_wire::dns::{Rcode, Record, RecordData, RecordType};

/// (server, qname, outcome) of every upstream query.
fn trace(r: &Resolution) -> Vec<(Ipv4Addr, String, String)> {
    r.upstream
        .iter()
        .map(|u| (u.server, u.qname.to_string(), u.outcome.to_string()))
        .collect()
}

fn servers(r: &Resolution) -> Vec<Ipv4Addr> {
    r.upstream.iter().map(|u| u.server).collect()
}

fn a(name: &str, ttl: u32, addr: [u8; 4]) -> Record {
    Record::new(n(name), ttl, RecordData::A(Ipv4Addr::from(addr)))
}

#[tokio::test]
async fn root_com_example_then_cache_hit() {
    let net = Arc::new(internet());
    let (r, counters, _) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());

    let first = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(first.rcode, Rcode::NoError, "{:?}", first.reason);
    assert_eq!(first.answers, [a("www.example.com", 300, [10, 0, 3, 10])]);
    assert_eq!(
        trace(&first),
        [
            (
                ip(ROOT),
                "www.example.com.".into(),
                "referral to com.".into()
            ),
            (
                ip(TLD),
                "www.example.com.".into(),
                "referral to example.com.".into()
            ),
            (ip(EXAMPLE_COM), "www.example.com.".into(), "answer".into()),
        ]
    );
    assert_eq!(first.upstream[0].zone, n("."));
    assert_eq!(first.upstream[1].zone, n("com"));
    assert_eq!(first.upstream[2].zone, n("example.com"));
    assert!(first.upstream.iter().all(|u| u.qtype == RecordType::A));
    assert!(!first.from_cache());

    // Second query: a cache hit, no upstream query.
    let second = r.resolve(&q("WWW.example.com", RecordType::A)).await;
    assert_eq!(second.answers, first.answers);
    assert!(second.upstream.is_empty());
    assert!(second.from_cache());
    let c = counters.snapshot();
    assert_eq!(
        (c.upstream_queries, c.cache_hits, c.cache_misses),
        (3, 1, 1)
    );
    assert_eq!(net.log.lock().expect("log").len(), 3);

    // Another name in example.com starts at the cached example.com servers;
    // the MX set comes back in full.
    let mx = r.resolve(&q("example.com", RecordType::Mx)).await;
    assert_eq!(servers(&mx), [ip(EXAMPLE_COM)]);
    let prefs: Vec<u16> = mx
        .answers
        .iter()
        .filter_map(|r| match r.data {
            RecordData::Mx { preference, .. } => Some(preference),
            _ => None,
        })
        .collect();
    assert_eq!(prefs, [10, 20]);
}

#[tokio::test]
async fn cache_ttls_count_down() {
    let net = Arc::new(internet());
    let (r, counters, cache) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    r.resolve(&q("www.example.com", RecordType::A)).await;
    net.advance(Duration::from_secs(100));
    let later = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert!(later.upstream.is_empty());
    assert_eq!(later.answers, [a("www.example.com", 200, [10, 0, 3, 10])]);
    net.advance(Duration::from_millis(99_500));
    let later = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(later.answers[0].ttl, 100, "whole seconds, rounded down");
    // The cache table shows the same remaining TTL.
    let now = net.clock()();
    let entries = cache.lock().expect("cache").entries(now);
    let www = entries
        .iter()
        .find(|e| e.name == n("www.example.com") && e.rtype == Some(RecordType::A))
        .expect("cached");
    assert_eq!((www.ttl, www.data.as_str()), (100, "10.0.3.10"));
    // Expired: asked again, but only the example.com server (the NS set and
    // glue live much longer).
    net.advance(Duration::from_secs(101));
    let expired = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(servers(&expired), [ip(EXAMPLE_COM)]);
    assert_eq!(expired.answers[0].ttl, 300);
    assert_eq!(counters.snapshot().cache_hits, 2);
}

#[tokio::test]
async fn cname_chain_across_zones() {
    let net = Arc::new(internet());
    let (r, _, _) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    let res = r.resolve(&q("alias.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::NoError, "{:?}", res.reason);
    assert_eq!(
        res.answers,
        [
            Record::new(
                n("alias.example.com"),
                300,
                RecordData::Cname(n("www.example.net"))
            ),
            a("www.example.net", 600, [10, 0, 3, 20]),
        ]
    );
    assert_eq!(
        trace(&res),
        [
            (
                ip(ROOT),
                "alias.example.com.".into(),
                "referral to com.".into()
            ),
            (
                ip(TLD),
                "alias.example.com.".into(),
                "referral to example.com.".into()
            ),
            (
                ip(EXAMPLE_COM),
                "alias.example.com.".into(),
                "answer".into()
            ),
            (
                ip(ROOT),
                "www.example.net.".into(),
                "referral to net.".into()
            ),
            (
                ip(TLD),
                "www.example.net.".into(),
                "referral to example.net.".into()
            ),
            (ip(EXAMPLE_NET), "www.example.net.".into(), "answer".into()),
        ]
    );
    // From the cache, the chain is rebuilt link by link.
    let again = r.resolve(&q("alias.example.com", RecordType::A)).await;
    assert!(again.upstream.is_empty());
    assert_eq!(again.answers.len(), 2);
    assert_eq!(again.answers[0].rtype(), RecordType::Cname);

    // A chain of 3 links across zones.
    let res = r.resolve(&q("c6.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::NoError, "{:?}", res.reason);
    assert_eq!(res.answers.len(), 4);
    assert_eq!(res.answers[3], a("c9.example.net", 600, [10, 9, 9, 9]));
}

#[tokio::test]
async fn cname_loops_and_long_chains_fail() {
    let net = Arc::new(internet());
    let (r, counters, _) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    let res = r.resolve(&q("loop1.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::ServFail);
    assert!(
        res.reason
            .as_deref()
            .is_some_and(|r| r.contains("CNAME loop")),
        "{:?}",
        res.reason
    );
    let res = r.resolve(&q("c0.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::ServFail);
    assert_eq!(
        res.reason.as_deref(),
        Some("CNAME chain from c0.example.com. longer than 8 links")
    );
    assert_eq!(counters.snapshot().servfail, 2);
}

#[tokio::test]
async fn lame_delegation_falls_back_to_the_second_server() {
    let net = Arc::new(internet());
    let (r, _, _) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    let res = r.resolve(&q("www.lame.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::NoError, "{:?}", res.reason);
    assert_eq!(res.answers, [a("www.lame.com", 300, [10, 0, 3, 40])]);
    assert_eq!(servers(&res), [ip(ROOT), ip(TLD), ip(LAME), ip(LAME_GOOD)]);
    assert!(
        matches!(res.upstream[2].outcome, Outcome::Lame(_)),
        "{}",
        res.upstream[2].outcome
    );
    assert_eq!(res.upstream[3].outcome, Outcome::Answer);
}

#[tokio::test]
async fn every_server_failing_is_servfail_with_reasons() {
    let net = Arc::new(internet());
    let (r, counters, _) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    let res = r.resolve(&q("www.broken.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::ServFail);
    assert_eq!(
        servers(&res),
        [ip(ROOT), ip(TLD), ip(BROKEN1), ip(BROKEN2)],
        "REFUSED / SERVFAIL are not retried"
    );
    assert_eq!(
        res.reason.as_deref(),
        Some(
            "no server of broken.com. answered www.broken.com. A: \
             ns1.broken.com. (10.0.0.7): REFUSED; ns2.broken.com. (10.0.0.8): SERVFAIL"
        )
    );
    assert_eq!(counters.snapshot().servfail, 1);
}

#[tokio::test]
async fn glueless_delegation_resolves_the_ns_name() {
    let net = Arc::new(internet());
    let (r, _, _) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    let res = r.resolve(&q("www.glueless.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::NoError, "{:?}", res.reason);
    assert_eq!(res.answers, [a("www.glueless.com", 300, [10, 0, 3, 30])]);
    assert_eq!(
        trace(&res),
        [
            (
                ip(ROOT),
                "www.glueless.com.".into(),
                "referral to com.".into()
            ),
            (
                ip(TLD),
                "www.glueless.com.".into(),
                "referral to glueless.com.".into()
            ),
            (
                ip(ROOT),
                "ns.example.net.".into(),
                "referral to net.".into()
            ),
            (
                ip(TLD),
                "ns.example.net.".into(),
                "referral to example.net.".into()
            ),
            (ip(EXAMPLE_NET), "ns.example.net.".into(), "answer".into()),
            (ip(EXAMPLE_NET), "www.glueless.com.".into(), "answer".into()),
        ]
    );
}

#[tokio::test]
async fn nxdomain_then_negative_cache() {
    let net = Arc::new(internet());
    let (r, counters, cache) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    let res = r.resolve(&q("nope.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::NxDomain);
    assert!(res.answers.is_empty());
    assert_eq!(res.authorities.len(), 1);
    assert_eq!(res.authorities[0].rtype(), RecordType::Soa);
    assert_eq!(res.authorities[0].ttl, 60, "min(SOA TTL 300, MINIMUM 60)");
    assert_eq!(
        res.upstream.last().map(|u| u.outcome.clone()),
        Some(Outcome::NxDomain)
    );

    net.advance(Duration::from_secs(20));
    // Any type of the name: answered from the negative cache.
    let again = r.resolve(&q("nope.example.com", RecordType::Mx)).await;
    assert_eq!(again.rcode, Rcode::NxDomain);
    assert!(again.upstream.is_empty());
    assert_eq!(again.authorities[0].ttl, 40);
    let c = counters.snapshot();
    assert_eq!((c.nxdomain, c.cache_hits, c.upstream_queries), (2, 1, 3));
    let entries = cache.lock().expect("cache").entries(net.clock()());
    assert!(
        entries
            .iter()
            .any(|e| e.name == n("nope.example.com") && e.data == "NXDOMAIN" && e.ttl == 40)
    );

    // NODATA is cached per type.
    let nodata = r.resolve(&q("www.example.com", RecordType::Aaaa)).await;
    assert_eq!(nodata.rcode, Rcode::NoError);
    assert!(nodata.answers.is_empty());
    assert_eq!(nodata.authorities[0].rtype(), RecordType::Soa);
    assert_eq!(
        nodata.upstream.last().map(|u| u.outcome.clone()),
        Some(Outcome::NoData)
    );
    let again = r.resolve(&q("www.example.com", RecordType::Aaaa)).await;
    assert!(again.upstream.is_empty() && again.answers.is_empty());
    let a_record = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(
        servers(&a_record),
        [ip(EXAMPLE_COM)],
        "NODATA for AAAA says nothing about A"
    );

    // After the negative TTL the name is asked again.
    net.advance(Duration::from_secs(41));
    let expired = r.resolve(&q("nope.example.com", RecordType::A)).await;
    assert_eq!(servers(&expired), [ip(EXAMPLE_COM)]);
}

#[tokio::test]
async fn budget_exhaustion_is_servfail() {
    // 20 root servers that never answer, and timeouts cost no virtual time:
    // two rounds would be 40 queries, the budget stops at 30.
    let mut net = SimNet::new();
    net.timeout_cost = Duration::ZERO;
    let hints: Vec<[u8; 4]> = (1..=20).map(|i| [10, 1, 0, i]).collect();
    let (r, counters, _) = resolver(Arc::new(net), &hints, ResolverConfig::default());
    let res = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::ServFail);
    assert_eq!(res.upstream.len(), 30);
    assert!(res.upstream.iter().all(|u| u.outcome == Outcome::Timeout));
    assert_eq!(
        res.reason.as_deref(),
        Some("query budget exhausted: 30 upstream queries made")
    );
    assert_eq!(counters.snapshot().upstream_queries, 30);
    // The second round retried the first server.
    assert_eq!(res.upstream[20].server, Ipv4Addr::new(10, 1, 0, 1));
}

#[tokio::test]
async fn deadline_is_servfail() {
    // Each timeout costs 2 s of virtual time; the deadline is 10 s.
    let hints: Vec<[u8; 4]> = (1..=20).map(|i| [10, 1, 0, i]).collect();
    let (r, _, _) = resolver(Arc::new(SimNet::new()), &hints, ResolverConfig::default());
    let res = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::ServFail);
    assert_eq!(res.upstream.len(), 5);
    assert_eq!(
        res.reason.as_deref(),
        Some("resolution took longer than 10s")
    );
}

#[tokio::test]
async fn timeouts_fall_back_to_the_next_root() {
    // A dead first root hint, then a good one.
    let net = Arc::new(internet());
    let (r, _, _) = resolver(
        Arc::clone(&net),
        &[[10, 9, 9, 9], ROOT],
        ResolverConfig::default(),
    );
    let res = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::NoError);
    assert_eq!(
        servers(&res),
        [
            Ipv4Addr::new(10, 9, 9, 9),
            ip(ROOT),
            ip(TLD),
            ip(EXAMPLE_COM)
        ]
    );
    assert_eq!(res.upstream[0].outcome, Outcome::Timeout);
    assert_eq!(
        net.micros.load(Ordering::SeqCst),
        3_000_000,
        "one 2 s timeout"
    );
}

#[tokio::test]
async fn no_root_hints() {
    let (r, _, _) = resolver(Arc::new(internet()), &[], ResolverConfig::default());
    let res = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::ServFail);
    assert_eq!(res.reason.as_deref(), Some("no root hints configured"));
}

#[tokio::test]
async fn norecurse_answers_from_cache_only() {
    let net = Arc::new(internet());
    let (r, _, _) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    let cold = r.lookup_cached(&q("www.example.com", RecordType::A));
    assert_eq!(cold.rcode, Rcode::NoError);
    assert!(cold.answers.is_empty() && cold.authorities.is_empty() && cold.upstream.is_empty());
    r.resolve(&q("www.example.com", RecordType::A)).await;
    let warm = r.lookup_cached(&q("www.example.com", RecordType::A));
    assert_eq!(warm.answers, [a("www.example.com", 300, [10, 0, 3, 10])]);
    // Not cached, but its zone's servers are: a referral.
    let referral = r.lookup_cached(&q("ftp.example.com", RecordType::A));
    assert!(referral.answers.is_empty());
    assert_eq!(referral.authorities.len(), 1);
    assert_eq!(
        referral.authorities[0].data,
        RecordData::Ns(n("ns1.example.com"))
    );
    assert_eq!(
        referral.additionals,
        [a("ns1.example.com", 86_400, [10, 0, 0, 3])]
    );
    assert_eq!(net.log.lock().expect("log").len(), 3, "no upstream query");
}
