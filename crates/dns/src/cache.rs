//! The resolver's cache (RFC 1034 §4.3.4, §5.3.3; negative caching per
//! RFC 2308).
//!
//! * Entries are RRsets keyed by (name, type), NODATA entries keyed the same
//!   way, and NXDOMAIN entries keyed by name alone (a name that does not
//!   exist has no data of any type, RFC 2308 §5). Names compare without
//!   regard to ASCII case.
//! * Each entry has an absolute expiry: insertion time + TTL. The TTL of an
//!   RRset is the smallest TTL of its records (RFC 2181 §5.2); a negative
//!   entry lives min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). TTLs with the top
//!   bit set count as 0 (RFC 2181 §8); a TTL of 0 is not cached. Positive
//!   TTLs are capped at [`MAX_POSITIVE_TTL`], negative ones at
//!   [`MAX_NEGATIVE_TTL`] (RFC 2308 §5: "one to three hours").
//! * Lookups return the records with the **remaining** TTL, whole seconds
//!   rounded down, so TTLs count down between two answers.
//! * Data is ranked (RFC 2181 §5.4.1): an authoritative answer replaces
//!   anything, but glue or referral data never replaces a live entry of a
//!   higher rank.
//! * The cache holds at most `capacity` entries; when full, the entry that
//!   expires soonest is evicted. Expired entries are dropped on insertion.
//!
//! **Time** is the stack's [`Instant`] (microseconds since the device
//! started), passed into every call: the cache never reads a clock, so tests
//! move time by hand.

use crate::text;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use vnet_stack::time::Instant;
use vnet_wire::dns::{DnsName, Record, RecordData, RecordType};

/// Longest time a positive RRset stays cached: one day (unbound's
/// `cache-max-ttl` default).
pub const MAX_POSITIVE_TTL: u32 = 86_400;
/// Longest time a negative answer stays cached: three hours (RFC 2308 §5;
/// BIND's `max-ncache-ttl`).
pub const MAX_NEGATIVE_TTL: u32 = 10_800;
/// Most records kept per RRset; the rest are dropped.
pub const MAX_RRSET_LEN: usize = 64;

/// How much a piece of data is trusted (RFC 2181 §5.4.1), lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trust {
    /// Addresses from the additional section of a referral.
    Glue,
    /// NS records from the authority section of a referral.
    Referral,
    /// Data from the answer section of an authoritative answer, and
    /// authoritative negative answers.
    Answer,
}

/// What [`Cache::lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheLookup {
    /// The RRset, TTLs set to the remaining time.
    Records(Vec<Record>),
    /// The name does not exist (RFC 2308 §2.1); the SOA with the remaining
    /// TTL, for the authority section.
    NxDomain {
        /// The SOA of the negative answer.
        soa: Record,
    },
    /// The name exists but has no data of this type (RFC 2308 §2.2).
    NoData {
        /// The SOA of the negative answer.
        soa: Record,
    },
    /// Nothing cached (or it expired).
    Miss,
}

/// One row of `vnet show <resolver> cache`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// Owner name.
    pub name: DnsName,
    /// Type; `None` for NXDOMAIN (all types).
    pub rtype: Option<RecordType>,
    /// Remaining TTL in seconds.
    pub ttl: u32,
    /// The RDATA in master-file form, or `NXDOMAIN` / `NODATA`.
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// An RRset or a NODATA entry.
    Set(DnsName, RecordType),
    /// An NXDOMAIN entry.
    Name(DnsName),
}

#[derive(Debug, Clone)]
enum Value {
    Records(Vec<Record>),
    NoData(Record),
    NxDomain(Record),
}

#[derive(Debug, Clone)]
struct Entry {
    value: Value,
    expires: Instant,
    /// Position in the expiry index.
    seq: u64,
    trust: Trust,
}

/// A bounded cache of RRsets and negative answers.
#[derive(Debug)]
pub struct Cache {
    capacity: usize,
    entries: HashMap<Key, Entry>,
    /// Expiry index: (expires, insertion sequence) → key.
    by_expiry: BTreeMap<(Instant, u64), Key>,
    next_seq: u64,
}

impl Cache {
    /// An empty cache holding at most `capacity` entries (0 caches nothing).
    pub fn new(capacity: usize) -> Cache {
        Cache {
            capacity,
            entries: HashMap::new(),
            by_expiry: BTreeMap::new(),
            next_seq: 0,
        }
    }

    /// Most entries held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Entries held, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Caches an RRset: `records` must share owner and type (others are
    /// ignored). Returns whether it was stored (not when the TTL is 0, the
    /// set empty, or a live entry of higher [`Trust`] is there).
    pub fn insert_rrset(&mut self, records: &[Record], trust: Trust, now: Instant) -> bool {
        let Some(first) = records.first() else {
            return false;
        };
        let (name, rtype) = (first.name.clone(), first.rtype());
        let mut set: Vec<Record> = records
            .iter()
            .filter(|r| r.name == name && r.rtype() == rtype)
            .cloned()
            .collect();
        set.dedup();
        set.truncate(MAX_RRSET_LEN);
        let ttl = set.iter().map(|r| clean_ttl(r.ttl)).min().unwrap_or(0);
        let ttl = ttl.min(MAX_POSITIVE_TTL);
        let key = Key::Set(name.clone(), rtype);
        let stored = self.store(key, Value::Records(set), ttl, trust, now);
        if stored {
            // The name exists after all.
            self.remove(&Key::Name(name));
        }
        stored
    }

    /// Caches "`name` does not exist" for min(SOA TTL, MINIMUM) (RFC 2308
    /// §5). `soa` must be an SOA record; returns whether it was stored.
    pub fn insert_nxdomain(&mut self, name: &DnsName, soa: &Record, now: Instant) -> bool {
        let Some(ttl) = negative_ttl(soa) else {
            return false;
        };
        let soa = with_ttl(soa, ttl);
        self.store(
            Key::Name(name.clone()),
            Value::NxDomain(soa),
            ttl,
            Trust::Answer,
            now,
        )
    }

    /// Caches "`name` has no `rtype` data" (NODATA, RFC 2308 §2.2) for
    /// min(SOA TTL, MINIMUM); returns whether it was stored.
    pub fn insert_nodata(
        &mut self,
        name: &DnsName,
        rtype: RecordType,
        soa: &Record,
        now: Instant,
    ) -> bool {
        let Some(ttl) = negative_ttl(soa) else {
            return false;
        };
        let soa = with_ttl(soa, ttl);
        let key = Key::Set(name.clone(), rtype);
        self.store(key, Value::NoData(soa), ttl, Trust::Answer, now)
    }

    /// Looks up (`name`, `rtype`): a live RRset or NODATA entry for exactly
    /// that pair, else a live NXDOMAIN for the name, else a miss. Data of
    /// any [`Trust`]: for finding servers; answers use
    /// [`Cache::lookup_answer`].
    pub fn lookup(&self, name: &DnsName, rtype: RecordType, now: Instant) -> CacheLookup {
        self.lookup_trusted(name, rtype, now, Trust::Glue)
    }

    /// [`Cache::lookup`] for answering a client: referral NS sets and glue
    /// are a miss, so the authoritative data is fetched instead (RFC 2181
    /// §5.4.1: data from referrals "should not be cached in such a way that
    /// they would ever be returned as answers to a received query").
    pub fn lookup_answer(&self, name: &DnsName, rtype: RecordType, now: Instant) -> CacheLookup {
        self.lookup_trusted(name, rtype, now, Trust::Answer)
    }

    fn lookup_trusted(
        &self,
        name: &DnsName,
        rtype: RecordType,
        now: Instant,
        least: Trust,
    ) -> CacheLookup {
        let live = |key: &Key| {
            self.entries
                .get(key)
                .filter(|e| e.expires > now && e.trust >= least)
        };
        let key = Key::Set(name.clone(), rtype);
        if let Some(e) = live(&key) {
            let ttl = remaining(e.expires, now);
            return match &e.value {
                Value::Records(rs) => {
                    CacheLookup::Records(rs.iter().map(|r| with_ttl(r, ttl)).collect())
                }
                Value::NoData(soa) => CacheLookup::NoData {
                    soa: with_ttl(soa, ttl),
                },
                Value::NxDomain(soa) => CacheLookup::NxDomain {
                    soa: with_ttl(soa, ttl),
                },
            };
        }
        if let Some(e) = live(&Key::Name(name.clone()))
            && let Value::NxDomain(soa) = &e.value
        {
            return CacheLookup::NxDomain {
                soa: with_ttl(soa, remaining(e.expires, now)),
            };
        }
        CacheLookup::Miss
    }

    /// Every live entry, for `vnet show`: one row per cached record, one per
    /// negative entry; sorted by name (RFC 4034 §6.1 order), then type.
    pub fn entries(&self, now: Instant) -> Vec<CacheEntry> {
        let mut keys: Vec<(&Key, &Entry)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.expires > now)
            .collect();
        // By name, the NXDOMAIN entry (all types) before the types.
        let order = |k: &Key| match k {
            Key::Name(n) => (n.clone(), None),
            Key::Set(n, t) => (n.clone(), Some(*t)),
        };
        keys.sort_by_key(|(k, _)| order(k));
        let mut rows = Vec::new();
        for (key, e) in keys {
            let ttl = remaining(e.expires, now);
            match (&e.value, key) {
                (Value::Records(rs), _) => rows.extend(rs.iter().map(|r| CacheEntry {
                    name: r.name.clone(),
                    rtype: Some(r.rtype()),
                    ttl,
                    data: text::rdata(&r.data),
                })),
                (Value::NoData(_), Key::Set(name, rtype)) => rows.push(CacheEntry {
                    name: name.clone(),
                    rtype: Some(*rtype),
                    ttl,
                    data: "NODATA".into(),
                }),
                (Value::NxDomain(_), Key::Name(name) | Key::Set(name, _)) => {
                    rows.push(CacheEntry {
                        name: name.clone(),
                        rtype: None,
                        ttl,
                        data: "NXDOMAIN".into(),
                    })
                }
                (Value::NoData(_), Key::Name(_)) => {}
            }
        }
        rows
    }

    /// Drops every entry that expired at or before `now`.
    pub fn purge_expired(&mut self, now: Instant) {
        while let Some((&(expires, seq), _)) = self.by_expiry.first_key_value() {
            if expires > now {
                break;
            }
            if let Some(key) = self.by_expiry.remove(&(expires, seq)) {
                self.entries.remove(&key);
            }
        }
    }

    fn store(&mut self, key: Key, value: Value, ttl: u32, trust: Trust, now: Instant) -> bool {
        if ttl == 0 || self.capacity == 0 {
            return false;
        }
        self.purge_expired(now);
        if let Some(old) = self.entries.get(&key)
            && old.trust > trust
        {
            return false;
        }
        self.remove(&key);
        if self.entries.len() >= self.capacity {
            // Evict the entry that expires soonest.
            if let Some((_, victim)) = self.by_expiry.pop_first() {
                self.entries.remove(&victim);
            }
        }
        let expires = now + Duration::from_secs(u64::from(ttl));
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_expiry.insert((expires, seq), key.clone());
        self.entries.insert(
            key,
            Entry {
                value,
                expires,
                seq,
                trust,
            },
        );
        true
    }

    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.entries.remove(key) {
            self.by_expiry.remove(&(old.expires, old.seq));
        }
    }
}

/// RFC 2181 §8: a TTL with the most significant bit set is treated as 0.
fn clean_ttl(ttl: u32) -> u32 {
    if ttl > 0x7fff_ffff { 0 } else { ttl }
}

/// min(SOA TTL, MINIMUM), capped (RFC 2308 §5); `None` if not an SOA.
fn negative_ttl(soa: &Record) -> Option<u32> {
    match soa.data {
        RecordData::Soa { minimum, .. } => Some(
            clean_ttl(soa.ttl)
                .min(clean_ttl(minimum))
                .min(MAX_NEGATIVE_TTL),
        ),
        _ => None,
    }
}

fn with_ttl(r: &Record, ttl: u32) -> Record {
    let mut r = r.clone();
    r.ttl = ttl;
    r
}

/// Whole seconds left until `expires`, rounded down.
fn remaining(expires: Instant, now: Instant) -> u32 {
    u32::try_from((expires - now).as_secs()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
