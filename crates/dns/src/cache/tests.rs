use super::*;
use std::net::Ipv4Addr;

fn n(s: &str) -> DnsName {
    s.parse().expect("name")
}

fn a(name: &str, ttl: u32, last: u8) -> Record {
    Record::new(n(name), ttl, RecordData::A(Ipv4Addr::new(10, 0, 0, last)))
}

fn soa(ttl: u32, minimum: u32) -> Record {
    Record::new(
        n("example.com"),
        ttl,
        RecordData::Soa {
            mname: n("ns1.example.com"),
            rname: n("hostmaster.example.com"),
            serial: 1,
            refresh: 2,
            retry: 3,
            expire: 4,
            minimum,
        },
    )
}

fn t(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

fn ttls(l: &CacheLookup) -> Vec<u32> {
    match l {
        CacheLookup::Records(rs) => rs.iter().map(|r| r.ttl).collect(),
        other => panic!("not records: {other:?}"),
    }
}

#[test]
fn ttls_count_down_and_expire() {
    let mut c = Cache::new(10);
    assert!(c.insert_rrset(
        &[a("www.example.com", 300, 1), a("WWW.example.com", 200, 2)],
        Trust::Answer,
        t(100)
    ));
    // The RRset lives as long as its smallest TTL.
    assert_eq!(
        ttls(&c.lookup(&n("www.example.com"), RecordType::A, t(100))),
        [200, 200]
    );
    assert_eq!(
        ttls(&c.lookup(&n("www.EXAMPLE.com"), RecordType::A, t(150))),
        [150, 150]
    );
    let half = Instant::from_micros(150_500_000);
    assert_eq!(
        ttls(&c.lookup(&n("www.example.com"), RecordType::A, half)),
        [149, 149]
    );
    assert_eq!(
        ttls(&c.lookup(&n("www.example.com"), RecordType::A, t(299))),
        [1, 1]
    );
    assert_eq!(
        c.lookup(&n("www.example.com"), RecordType::A, t(300)),
        CacheLookup::Miss
    );
    assert_eq!(
        c.lookup(&n("www.example.com"), RecordType::Aaaa, t(100)),
        CacheLookup::Miss
    );
    assert_eq!(c.len(), 1);
    c.purge_expired(t(300));
    assert!(c.is_empty());
}

#[test]
fn zero_and_huge_ttls() {
    let mut c = Cache::new(10);
    assert!(!c.insert_rrset(&[a("x", 0, 1)], Trust::Answer, t(0)));
    // Top bit set counts as 0 (RFC 2181 §8).
    assert!(!c.insert_rrset(&[a("x", 0x8000_0000, 1)], Trust::Answer, t(0)));
    assert!(c.insert_rrset(&[a("x", 0x7fff_ffff, 1)], Trust::Answer, t(0)));
    assert_eq!(
        ttls(&c.lookup(&n("x"), RecordType::A, t(0))),
        [MAX_POSITIVE_TTL]
    );
}

#[test]
fn negative_entries() {
    let mut c = Cache::new(10);
    // TTL = min(SOA TTL, MINIMUM).
    assert!(c.insert_nxdomain(&n("nope.example.com"), &soa(3600, 60), t(0)));
    assert!(c.insert_nodata(&n("www.example.com"), RecordType::Aaaa, &soa(30, 60), t(0)));
    let CacheLookup::NxDomain { soa: s } = c.lookup(&n("nope.example.com"), RecordType::Mx, t(10))
    else {
        panic!("nxdomain for every type")
    };
    assert_eq!(s.ttl, 50);
    let CacheLookup::NoData { soa: s } = c.lookup(&n("www.example.com"), RecordType::Aaaa, t(10))
    else {
        panic!("nodata")
    };
    assert_eq!(s.ttl, 20);
    assert_eq!(
        c.lookup(&n("www.example.com"), RecordType::A, t(10)),
        CacheLookup::Miss
    );
    assert_eq!(
        c.lookup(&n("nope.example.com"), RecordType::A, t(60)),
        CacheLookup::Miss
    );
    // Not an SOA: not cached.
    assert!(!c.insert_nxdomain(&n("x"), &a("x", 10, 1), t(0)));
    // Capped at three hours.
    assert!(c.insert_nxdomain(&n("long.example.com"), &soa(1_000_000, 1_000_000), t(0)));
    let CacheLookup::NxDomain { soa: s } = c.lookup(&n("long.example.com"), RecordType::A, t(0))
    else {
        panic!("nxdomain")
    };
    assert_eq!(s.ttl, MAX_NEGATIVE_TTL);
    // A positive answer for the name clears its NXDOMAIN.
    assert!(c.insert_rrset(&[a("nope.example.com", 100, 1)], Trust::Answer, t(1)));
    assert_eq!(
        ttls(&c.lookup(&n("nope.example.com"), RecordType::A, t(1))),
        [100]
    );
    assert_eq!(
        c.lookup(&n("nope.example.com"), RecordType::Mx, t(1)),
        CacheLookup::Miss
    );
}

#[test]
fn full_cache_evicts_soonest_expiring() {
    let mut c = Cache::new(3);
    c.insert_rrset(&[a("a", 100, 1)], Trust::Answer, t(0));
    c.insert_rrset(&[a("b", 10, 1)], Trust::Answer, t(0));
    c.insert_rrset(&[a("c", 50, 1)], Trust::Answer, t(0));
    c.insert_rrset(&[a("d", 70, 1)], Trust::Answer, t(1));
    assert_eq!(c.len(), 3);
    assert_eq!(c.lookup(&n("b"), RecordType::A, t(1)), CacheLookup::Miss);
    for name in ["a", "c", "d"] {
        assert_ne!(
            c.lookup(&n(name), RecordType::A, t(1)),
            CacheLookup::Miss,
            "{name}"
        );
    }
    // Replacing an entry does not evict another.
    c.insert_rrset(&[a("c", 500, 2)], Trust::Answer, t(2));
    assert_eq!(c.len(), 3);
    // Expired entries go first.
    c.insert_rrset(&[a("e", 5, 1)], Trust::Answer, t(80));
    assert_eq!(c.len(), 3, "a, c, e");
    assert_eq!(c.lookup(&n("d"), RecordType::A, t(80)), CacheLookup::Miss);
    assert_ne!(c.lookup(&n("a"), RecordType::A, t(80)), CacheLookup::Miss);
    let mut zero = Cache::new(0);
    assert!(!zero.insert_rrset(&[a("a", 100, 1)], Trust::Answer, t(0)));
}

#[test]
fn ranking_protects_answers_from_glue() {
    let mut c = Cache::new(10);
    assert!(c.insert_rrset(&[a("ns1.example.com", 300, 1)], Trust::Answer, t(0)));
    assert!(!c.insert_rrset(&[a("ns1.example.com", 300, 66)], Trust::Glue, t(1)));
    assert_eq!(
        c.lookup(&n("ns1.example.com"), RecordType::A, t(1)),
        CacheLookup::Records(vec![a("ns1.example.com", 299, 1)])
    );
    // Once expired, lower-ranked data may take its place.
    assert!(c.insert_rrset(&[a("ns1.example.com", 300, 66)], Trust::Glue, t(400)));
    // Equal or higher rank replaces.
    assert!(c.insert_rrset(&[a("ns1.example.com", 300, 2)], Trust::Answer, t(401)));
}

#[test]
fn entries_for_show() {
    let mut c = Cache::new(10);
    c.insert_rrset(
        &[a("www.example.com", 300, 1), a("www.example.com", 300, 2)],
        Trust::Answer,
        t(0),
    );
    c.insert_nxdomain(&n("nope.example.com"), &soa(60, 60), t(0));
    c.insert_nodata(&n("www.example.com"), RecordType::Aaaa, &soa(60, 60), t(0));
    c.insert_rrset(&[a("old.example.com", 1, 1)], Trust::Answer, t(0));
    let rows = c.entries(t(10));
    let shown: Vec<(String, String, u32, String)> = rows
        .iter()
        .map(|e| {
            (
                e.name.to_string(),
                e.rtype.map(|t| t.to_string()).unwrap_or_else(|| "*".into()),
                e.ttl,
                e.data.clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "nope.example.com.".into(),
                "*".into(),
                50,
                "NXDOMAIN".into()
            ),
            (
                "www.example.com.".into(),
                "A".into(),
                290,
                "10.0.0.1".into()
            ),
            (
                "www.example.com.".into(),
                "A".into(),
                290,
                "10.0.0.2".into()
            ),
            (
                "www.example.com.".into(),
                "AAAA".into(),
                50,
                "NODATA".into()
            ),
        ]
    );
}
