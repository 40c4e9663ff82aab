//! Correct answers first (vnet issue #16): a truncated upstream answer is
//! never cached nor served as complete, and authoritative data outranks
//! referral data in the cache (RFC 2181 §5.4.1, §9).

mod common;

use common::*;
use std::sync::Arc;
use vnet_dns::resolver::ResolverConfig;
use vnet_wire::dns::{Rcode, RecordType};

/// A 30-record TXT set at `big.example.com` and the zone around it.
fn big_zone() -> String {
    let mut z = String::from(EXAMPLE_COM_ZONE);
    for i in 0..30 {
        z.push_str(&format!(
            "big TXT \"record {i:02} of thirty, padded to be long enough\"\n"
        ));
    }
    z
}

#[tokio::test]
async fn a_truncated_answer_is_never_cached_nor_served() {
    let zone = big_zone();
    let net = Arc::new(
        SimNet::new()
            .auth(ROOT, &[ROOT_ZONE])
            .auth(TLD, &[COM_ZONE, NET_ZONE])
            .truncating(EXAMPLE_COM, &[&zone]),
    );
    let (r, _, cache) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    let res = r.resolve(&q("big.example.com", RecordType::Txt)).await;
    assert_eq!(res.rcode, Rcode::ServFail, "{res:?}");
    assert!(res.answers.is_empty(), "never a silent subset: {res:?}");
    let reason = res.reason.expect("a reason");
    assert!(reason.contains("truncated"), "{reason}");
    let now = net.clock()();
    let entries = cache.lock().expect("cache").entries(now);
    assert!(
        !entries.iter().any(|e| e.name == n("big.example.com")),
        "nothing cached for the name: {entries:?}"
    );
}

#[tokio::test]
async fn the_full_set_comes_through_when_the_upstream_is_complete() {
    let zone = big_zone();
    let net = Arc::new(
        SimNet::new()
            .auth(ROOT, &[ROOT_ZONE])
            .auth(TLD, &[COM_ZONE, NET_ZONE])
            .auth(EXAMPLE_COM, &[&zone]),
    );
    let (r, _, _) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    let res = r.resolve(&q("big.example.com", RecordType::Txt)).await;
    assert_eq!(res.rcode, Rcode::NoError);
    assert_eq!(res.answers.len(), 30);
    let again = r.resolve(&q("big.example.com", RecordType::Txt)).await;
    assert!(again.from_cache());
    assert_eq!(again.answers.len(), 30);
}

#[tokio::test]
async fn zone_ns_set_outranks_the_parents_delegation() {
    let net = Arc::new(internet());
    let (r, _, _) = resolver(Arc::clone(&net), &[ROOT], ResolverConfig::default());
    // The referral from com. caches example.com NS with the parent's TTL
    // (172800, capped to a day)...
    let www = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(www.rcode, Rcode::NoError);
    // ...but a client asking for the NS set gets the zone's own (TTL 300),
    // fetched from the example.com server, not the referral data.
    let ns = r.resolve(&q("example.com", RecordType::Ns)).await;
    assert_eq!(ns.rcode, Rcode::NoError, "{ns:?}");
    assert!(!ns.answers.is_empty());
    assert!(ns.answers.iter().all(|a| a.ttl == 300), "{:?}", ns.answers);
    assert_eq!(
        ns.upstream.len(),
        1,
        "asked the zone's server: {:?}",
        ns.upstream
    );
    assert_eq!(ns.upstream[0].server, ip(EXAMPLE_COM));
    // Now authoritative data is cached and served from the cache.
    let again = r.resolve(&q("example.com", RecordType::Ns)).await;
    assert!(again.from_cache());
    assert!(again.answers.iter().all(|a| a.ttl == 300));
    // Glue (ns1.example.com A from the com. referral) is not an answer
    // either: the address comes from the zone.
    let glue = r.resolve(&q("ns1.example.com", RecordType::A)).await;
    assert_eq!(glue.upstream.len(), 1);
}
