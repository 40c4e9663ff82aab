//! The link state database of the area (RFC 2328 §12, §13.1, §13.2,
//! §14): every LSA instance, its age on virtual time, and the order of
//! instances.
//!
//! An LSA's age is kept as the age it had at an instant: its age now is
//! that plus the whole seconds since, capped at MaxAge (§12.1.1, §14).

use crate::time::Instant;
use core::cmp::Ordering;
use core::time::Duration;
use std::collections::BTreeMap;
use vnet_wire::ospf::{Lsa, LsaHeader, LsaKey, MAX_AGE, MAX_AGE_DIFF};

/// One LSA of the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    /// The instance, its header age as of `aged_at`.
    pub lsa: Lsa,
    /// When `lsa.header.age` was its age.
    pub aged_at: Instant,
    /// When it was installed (§13 step 5a: MinLSArrival).
    pub installed: Instant,
    /// When it was last sent back to a neighbour with an older copy
    /// (§13 step 8: at most once per MinLSArrival).
    pub sent_back: Option<Instant>,
    /// It reached MaxAge and was flooded as such: it leaves the database
    /// once no neighbour must acknowledge it (§14).
    pub flushing: bool,
}

impl Entry {
    /// The age now (§12.1.1), at most MaxAge.
    pub fn age(&self, now: Instant) -> u16 {
        let secs = (now - self.aged_at).as_secs();
        let age = u64::from(self.lsa.header.age).saturating_add(secs);
        age.min(u64::from(MAX_AGE)) as u16
    }

    /// The header with the age it has now.
    pub fn header(&self, now: Instant) -> LsaHeader {
        LsaHeader {
            age: self.age(now),
            ..self.lsa.header
        }
    }

    /// The LSA with the age it has now.
    pub fn current(&self, now: Instant) -> Lsa {
        let mut lsa = self.lsa.clone();
        lsa.header.age = self.age(now);
        lsa
    }

    /// When the age reaches `age` seconds (now or in the past if it has).
    pub fn reaches(&self, age: u16) -> Instant {
        let to_go = age.saturating_sub(self.lsa.header.age);
        self.aged_at + Duration::from_secs(u64::from(to_go))
    }
}

/// Which of two instances of one LSA is more recent (RFC 2328 §13.1):
/// the higher sequence number (signed), then the larger checksum, then
/// the one at MaxAge, then the younger by more than MaxAgeDiff; else they
/// are the same instance. `Greater` means `a` is more recent.
pub fn compare(a: &LsaHeader, b: &LsaHeader) -> Ordering {
    let (sa, sb) = (a.seq as i32, b.seq as i32);
    if sa != sb {
        return sa.cmp(&sb);
    }
    if a.checksum != b.checksum {
        return a.checksum.cmp(&b.checksum);
    }
    match (a.age >= MAX_AGE, b.age >= MAX_AGE) {
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    if a.age.abs_diff(b.age) > MAX_AGE_DIFF {
        // The younger one is more recent.
        return b.age.cmp(&a.age);
    }
    Ordering::Equal
}

/// The database: one instance per LSA.
#[derive(Debug, Clone, Default)]
pub(super) struct Lsdb {
    entries: BTreeMap<LsaKey, Entry>,
}

impl Lsdb {
    pub fn get(&self, key: &LsaKey) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub fn get_mut(&mut self, key: &LsaKey) -> Option<&mut Entry> {
        self.entries.get_mut(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&LsaKey, &Entry)> {
        self.entries.iter()
    }

    pub fn remove(&mut self, key: &LsaKey) -> Option<Entry> {
        self.entries.remove(key)
    }

    /// Installs `lsa` (§13.2), replacing any other instance. Returns
    /// whether the contents changed in a way the routing table may care
    /// about: a new LSA, other options or body, or MaxAge reached or left.
    pub fn install(&mut self, lsa: Lsa, now: Instant) -> bool {
        let key = lsa.header.key();
        let max_age = lsa.header.age >= MAX_AGE;
        let changed = match self.entries.get(&key) {
            None => true,
            Some(old) => {
                old.lsa.header.options != lsa.header.options
                    || old.lsa.body != lsa.body
                    || (old.age(now) >= MAX_AGE) != max_age
            }
        };
        self.entries.insert(
            key,
            Entry {
                lsa,
                aged_at: now,
                installed: now,
                sent_back: None,
                flushing: max_age,
            },
        );
        changed
    }

    /// The headers with their current ages, in key order.
    pub fn headers(&self, now: Instant) -> Vec<LsaHeader> {
        self.entries.values().map(|e| e.header(now)).collect()
    }

    /// LSAs that reached MaxAge and were not flooded as such yet.
    pub fn newly_max_aged(&self, now: Instant) -> Vec<LsaKey> {
        self.entries
            .iter()
            .filter(|(_, e)| !e.flushing && e.age(now) >= MAX_AGE)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The next time an LSA reaches MaxAge.
    pub fn next_max_age(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter(|e| !e.flushing)
            .map(|e| e.reaches(MAX_AGE))
            .min()
    }
}
