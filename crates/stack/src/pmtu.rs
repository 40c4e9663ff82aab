//! The path-MTU cache (RFC 1191 §6.3): what an ICMP "fragmentation needed"
//! taught us about the path to a destination, applied to every later
//! connection there, as Linux's route cache does, so a new connection's
//! first flight is already small enough. Entries age out after
//! [`PMTU_AGING`] (RFC 1191 §6.3: "should be aged ... 10 minutes"), after
//! which a larger PMTU is tried again. Sans-IO: time is an argument.

use crate::time::Instant;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

/// How long a learned PMTU holds.
pub const PMTU_AGING: Duration = Duration::from_secs(600);
/// Most destinations remembered; the oldest entry makes room.
pub const CAPACITY: usize = 1024;
/// The smallest MTU every IPv4 link carries (RFC 791 §3.2).
const MIN_MTU: u16 = 68;
/// RFC 1191 §5: a router predating it reports 0; 576 is the safe guess.
const UNKNOWN_MTU: u16 = 576;

/// One cached path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PmtuEntry {
    /// Destination.
    pub dst: Ipv4Addr,
    /// Its path MTU.
    pub mtu: u16,
    /// Time left before it ages out.
    pub expires_in: Duration,
}

/// Path MTUs learned from ICMP.
#[derive(Debug, Default)]
pub struct PmtuCache {
    entries: BTreeMap<Ipv4Addr, (u16, Instant)>,
}

impl PmtuCache {
    /// Records that the path to `dst` carries at most `reported` bytes (the
    /// next-hop MTU of an ICMP "fragmentation needed"). Only ever lowers a
    /// live entry.
    pub fn learn(&mut self, now: Instant, dst: Ipv4Addr, reported: u16) {
        let mtu = if reported == 0 {
            UNKNOWN_MTU
        } else {
            reported.max(MIN_MTU)
        };
        if let Some(current) = self.get(now, dst)
            && current <= mtu
        {
            return;
        }
        if self.entries.len() >= CAPACITY && !self.entries.contains_key(&dst) {
            self.entries
                .retain(|_, (_, learned)| now.saturating_duration_since(*learned) < PMTU_AGING);
            if self.entries.len() >= CAPACITY
                && let Some(oldest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, t))| *t)
                    .map(|(d, _)| *d)
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(dst, (mtu, now));
    }

    /// The live path MTU to `dst`, if one was learned.
    pub fn get(&self, now: Instant, dst: Ipv4Addr) -> Option<u16> {
        let (mtu, learned) = self.entries.get(&dst)?;
        (now.saturating_duration_since(*learned) < PMTU_AGING).then_some(*mtu)
    }

    /// Every live entry, by destination.
    pub fn entries(&self, now: Instant) -> Vec<PmtuEntry> {
        self.entries
            .iter()
            .filter_map(|(dst, (mtu, learned))| {
                let age = now.saturating_duration_since(*learned);
                (age < PMTU_AGING).then(|| PmtuEntry {
                    dst: *dst,
                    mtu: *mtu,
                    expires_in: PMTU_AGING - age,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 10);

    #[test]
    fn learned_lowered_and_aged() {
        let mut c = PmtuCache::default();
        let t = Instant::from_secs(5);
        assert_eq!(c.get(t, D), None);
        c.learn(t, D, 1000);
        c.learn(t, D, 1400); // never raised by a later report
        assert_eq!(c.get(t, D), Some(1000));
        c.learn(t, D, 576);
        assert_eq!(c.get(t, D), Some(576));
        assert_eq!(
            c.entries(t + Duration::from_secs(100))[0].expires_in,
            Duration::from_secs(500)
        );
        assert_eq!(c.get(t + PMTU_AGING, D), None, "aged out after 10 minutes");
        c.learn(t, Ipv4Addr::new(1, 1, 1, 1), 0);
        assert_eq!(
            c.get(t, Ipv4Addr::new(1, 1, 1, 1)),
            Some(576),
            "0 from an old router"
        );
        c.learn(t, Ipv4Addr::new(2, 2, 2, 2), 10);
        assert_eq!(c.get(t, Ipv4Addr::new(2, 2, 2, 2)), Some(68));
    }

    #[test]
    fn bounded() {
        let mut c = PmtuCache::default();
        let t = Instant::from_secs(1);
        for i in 0..(CAPACITY as u32 + 10) {
            c.learn(
                t + Duration::from_millis(u64::from(i)),
                Ipv4Addr::from(i),
                576,
            );
        }
        let now = t + Duration::from_secs(2);
        assert_eq!(c.entries(now).len(), CAPACITY);
        assert_eq!(c.get(now, Ipv4Addr::from(0)), None, "the oldest made room");
        assert_eq!(c.get(now, Ipv4Addr::from(CAPACITY as u32 + 9)), Some(576));
    }
}
