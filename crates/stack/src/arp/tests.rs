//! Unit tests of the ARP cache.

use super::*;

const IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

#[test]
fn resolve_flushes_queue() {
    let mut c = ArpCache::new(ArpConfig::default());
    let t0 = Instant::ZERO;
    assert!(c.enqueue(t0, 0, IP, &[1], None).send_request);
    assert!(!c.enqueue(t0, 0, IP, &[2], None).send_request);
    assert_eq!(c.lookup(t0, 0, IP), None);
    let q = c.learn(t0, 0, IP, MAC, false).queue;
    assert_eq!(q.iter().map(|p| p.frame[0]).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(c.queued(), 0);
    assert_eq!(c.lookup(t0, 0, IP), Some(MAC));
    // Lifetime.
    assert_eq!(c.lookup(Instant::from_secs(60), 0, IP), None);
    assert!(c.poll(Instant::from_secs(60)).is_empty());
    assert_eq!(c.len(), 0);
}

#[test]
fn retries_then_failure() {
    let mut c = ArpCache::new(ArpConfig::default());
    c.enqueue(Instant::ZERO, 0, IP, &[1], Some(1));
    assert_eq!(c.poll_at(), Some(Instant::from_secs(1)));
    assert!(c.poll(Instant::from_millis(999)).is_empty());
    assert!(matches!(
        c.poll(Instant::from_secs(1))[..],
        [ArpAction::Request { .. }]
    ));
    assert!(matches!(
        c.poll(Instant::from_secs(2))[..],
        [ArpAction::Request { .. }]
    ));
    match &c.poll(Instant::from_secs(3))[..] {
        [ArpAction::Failed { queue, .. }] => assert_eq!(queue.len(), 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.len(), 0);
    assert_eq!(c.queued(), 0);
    assert_eq!(c.poll_at(), None);
}

#[test]
fn queue_bounds_drop_oldest() {
    let cfg = ArpConfig {
        queue_per_neighbor: 2,
        queue_total: 3,
        ..ArpConfig::default()
    };
    let mut c = ArpCache::new(cfg);
    let t0 = Instant::ZERO;
    let other = Ipv4Addr::new(10, 0, 0, 3);
    assert_eq!(c.enqueue(t0, 0, IP, &[1], None).dropped, 0);
    assert_eq!(c.enqueue(t0, 0, IP, &[2], None).dropped, 0);
    assert_eq!(c.enqueue(t0, 0, IP, &[3], None).dropped, 1);
    assert_eq!(c.enqueue(t0, 0, other, &[4], None).dropped, 0);
    assert_eq!(c.enqueue(t0, 0, other, &[5], None).dropped, 1); // total bound: oldest (2) goes
    assert_eq!(c.queued(), 3);
    let q = c.learn(t0, 0, IP, MAC, false).queue;
    assert_eq!(q.iter().map(|p| p.frame[0]).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn static_and_capacity() {
    let cfg = ArpConfig {
        capacity: 2,
        ..ArpConfig::default()
    };
    let mut c = ArpCache::new(cfg);
    let t0 = Instant::ZERO;
    c.add_static(0, IP, MAC);
    c.learn(t0, 0, IP, EthernetAddress([2, 9, 9, 9, 9, 9]), true);
    assert_eq!(c.lookup(Instant::from_secs(1_000_000), 0, IP), Some(MAC));
    c.learn(t0, 0, Ipv4Addr::new(10, 0, 0, 5), MAC, true);
    // Full: received ARP traffic never evicts, the new entry is refused.
    let out = c.learn(
        Instant::from_secs(1),
        0,
        Ipv4Addr::new(10, 0, 0, 6),
        MAC,
        true,
    );
    assert_eq!(out.learned, Learned::TableFull);
    assert_eq!(c.len(), 2);
    assert_eq!(
        c.lookup(Instant::from_secs(1), 0, Ipv4Addr::new(10, 0, 0, 5)),
        Some(MAC)
    );
    // Not addressed to us and unknown: not created.
    let out = c.learn(t0, 0, Ipv4Addr::new(10, 0, 0, 7), MAC, false);
    assert_eq!(out.learned, Learned::Unsolicited);
    assert!(
        c.entries(t0)
            .iter()
            .all(|e| e.ip != Ipv4Addr::new(10, 0, 0, 7))
    );
    // Full of static/incomplete entries: new resolutions are refused.
    let mut c = ArpCache::new(ArpConfig {
        capacity: 1,
        ..ArpConfig::default()
    });
    c.add_static(0, IP, MAC);
    assert_eq!(
        c.enqueue(t0, 0, Ipv4Addr::new(10, 0, 0, 9), &[1], None)
            .dropped,
        1
    );
}

fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, n)
}

/// Whether 10.0.0.`n` has an entry, without marking it used.
fn has(c: &ArpCache, now: Instant, n: u8) -> bool {
    c.entries(now).iter().any(|e| e.ip == ip(n))
}

/// RFC 826 merge: a live entry is updated by any packet of its owner,
/// an unknown sender is only created when `create`.
#[test]
fn merge_updates_existing_only_creates_when_asked() {
    let mut c = ArpCache::new(ArpConfig::default());
    let t0 = Instant::ZERO;
    let other = EthernetAddress([2, 0, 0, 0, 0, 9]);
    assert_eq!(c.learn(t0, 0, IP, MAC, false).learned, Learned::Unsolicited);
    assert_eq!(c.len(), 0);
    assert_eq!(c.learn(t0, 0, IP, MAC, true).learned, Learned::Created);
    let t1 = Instant::from_secs(50);
    assert_eq!(c.learn(t1, 0, IP, other, false).learned, Learned::Updated);
    assert_eq!(c.lookup(Instant::from_secs(100), 0, IP), Some(other));
    // An expired entry is not refreshed by unsolicited traffic.
    let late = Instant::from_secs(200);
    assert_eq!(
        c.learn(late, 0, IP, MAC, false).learned,
        Learned::Unsolicited
    );
    assert_eq!(c.lookup(late, 0, IP), None);
    // A reply to our request completes the incomplete entry.
    c.enqueue(late, 0, ip(3), &[7], None);
    let out = c.learn(late, 0, ip(3), MAC, false);
    assert_eq!(out.learned, Learned::Updated);
    assert_eq!(out.queue.len(), 1);
}

/// Received ARP never evicts; our own traffic evicts only entries not
/// in use: never-used ones first, never one used within its lifetime.
#[test]
fn eviction_spares_entries_in_use() {
    let mut c = ArpCache::new(ArpConfig {
        capacity: 3,
        ..ArpConfig::default()
    });
    let t0 = Instant::ZERO;
    // Neighbour 2 is resolved by our traffic and used.
    c.enqueue(t0, 0, ip(2), &[1], None);
    c.learn(t0, 0, ip(2), MAC, false);
    // Two entries learned from requests for us, never used by us.
    c.learn(t0, 0, ip(3), MAC, true);
    c.learn(Instant::from_secs(1), 0, ip(4), MAC, true);
    let t = Instant::from_secs(10);
    assert_eq!(c.lookup(t, 0, ip(2)), Some(MAC));
    assert_eq!(c.learn(t, 0, ip(5), MAC, true).learned, Learned::TableFull);
    // Our traffic to a new neighbour evicts the oldest never-used entry.
    let r = c.enqueue(t, 0, ip(6), &[2], None);
    assert!(r.send_request && !r.table_full);
    assert!(!has(&c, t, 3));
    assert!(has(&c, t, 4), "checked without marking it used");
    let r = c.enqueue(t, 0, ip(7), &[3], None);
    assert!(r.send_request);
    assert!(!has(&c, t, 4));
    // Now: 2 (reachable, used), 6 and 7 (incomplete): nothing can go.
    let r = c.enqueue(t, 0, ip(8), &[4], None);
    assert!(r.table_full);
    assert_eq!(r.dropped, 1);
    assert_eq!(c.lookup(t, 0, ip(2)), Some(MAC));
}

/// An entry whose last use is older than its lifetime is evictable,
/// least recently used first.
#[test]
fn eviction_takes_least_recently_used() {
    let lifetime = Duration::from_secs(60);
    let mut c = ArpCache::new(ArpConfig {
        capacity: 2,
        entry_lifetime: lifetime,
        ..ArpConfig::default()
    });
    for (n, at) in [(2, 0), (3, 1)] {
        let t = Instant::from_secs(at);
        c.enqueue(t, 0, ip(n), &[n], None);
        c.learn(t, 0, ip(n), MAC, false);
    }
    // Both refreshed by their owners (merge) but not used since.
    let t = Instant::from_secs(59);
    c.learn(t, 0, ip(2), MAC, false);
    c.learn(t, 0, ip(3), MAC, false);
    assert!(c.enqueue(t, 0, ip(4), &[4], None).table_full);
    let t = Instant::from_secs(61);
    assert!(c.enqueue(t, 0, ip(4), &[4], None).send_request);
    assert!(!has(&c, t, 2));
    assert!(has(&c, t, 3));
}
