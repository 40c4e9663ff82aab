//! The ARP cache (RFC 826, RFC 1122 §2.3.2): neighbour entries, resolution
//! retries and the queue of packets waiting for an address.
//!
//! This module is pure bookkeeping: it never builds or sends a frame. The
//! [`crate::NetStack`] asks it what to do (send a request, flush a queue,
//! report a failure) and does the I/O.

use crate::time::Instant;
use core::fmt;
use core::time::Duration;
use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use vnet_wire::ethernet::EthernetAddress;

/// Tunables of the ARP cache. Every bound keeps memory finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpConfig {
    /// How long a learned entry stays usable (RFC 1122 §2.3.2.1 cache
    /// timeout). Default 60 s. Static entries never expire.
    pub entry_lifetime: Duration,
    /// Interval between requests for an unanswered address. Default 1 s
    /// (RFC 1122 §2.3.2.1: at most one request per second per destination).
    pub retry_interval: Duration,
    /// Requests sent before giving up. Default 3.
    pub max_requests: u8,
    /// Packets queued per unresolved neighbour (RFC 1122 §2.3.2.2 "SHOULD
    /// save at least one"). Default 8; overflow drops the oldest.
    pub queue_per_neighbor: usize,
    /// Packets queued over all neighbours. Default 64; overflow drops the oldest.
    pub queue_total: usize,
    /// Maximum number of entries. Default 1024. When full, ARP traffic we
    /// receive creates no entry; our own traffic to a new neighbour may
    /// evict an entry that is not in use, never
    /// a reachable entry our traffic used within `entry_lifetime`.
    pub capacity: usize,
}

impl Default for ArpConfig {
    fn default() -> Self {
        Self {
            entry_lifetime: Duration::from_secs(60),
            retry_interval: Duration::from_secs(1),
            max_requests: 3,
            queue_per_neighbor: 8,
            queue_total: 64,
            capacity: 1024,
        }
    }
}

/// The state of a neighbour entry, as shown by `show arp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ArpState {
    /// The hardware address is known and not expired.
    Reachable,
    /// A request was sent; no answer yet.
    Incomplete,
    /// Configured by the operator; never expires nor changes.
    Static,
}

impl fmt::Display for ArpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArpState::Reachable => "reachable",
            ArpState::Incomplete => "incomplete",
            ArpState::Static => "static",
        })
    }
}

/// One neighbour entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpEntry {
    /// The interface index.
    pub port: usize,
    /// The neighbour's IPv4 address.
    pub ip: Ipv4Addr,
    /// Its hardware address, unless still incomplete.
    pub mac: Option<EthernetAddress>,
    /// Its state.
    pub state: ArpState,
    /// Time left before the entry expires (reachable) or the next request
    /// is due (incomplete); `None` for static entries.
    pub expires_in: Option<Duration>,
}

/// A packet (a complete Ethernet frame whose destination MAC is still to be
/// filled in) waiting for its next hop to be resolved.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    /// The frame, Ethernet header included.
    pub frame: Vec<u8>,
    /// The port a forwarded packet arrived on; `None` if locally originated.
    pub in_port: Option<usize>,
    /// Global arrival order, to drop the oldest when the total bound is hit.
    seq: u64,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Incomplete {
        requests_sent: u8,
        next_retry: Instant,
    },
    Reachable {
        mac: EthernetAddress,
        expires: Instant,
    },
    Static {
        mac: EthernetAddress,
    },
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Incomplete { .. } => f.write_str("incomplete"),
            State::Reachable { mac, .. } => write!(f, "reachable {mac}"),
            State::Static { mac } => write!(f, "static {mac}"),
        }
    }
}

#[derive(Debug)]
struct Neighbor {
    state: State,
    queue: VecDeque<Pending>,
    /// When a packet of ours (originated or forwarded) last went to, or
    /// was queued for, this neighbour; `None` if it never did (the entry
    /// was created from a request we received).
    last_used: Option<Instant>,
}

/// What [`ArpCache::learn`] did with the sender of an ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Learned {
    /// An existing entry was updated (RFC 826 merge flag set).
    Updated,
    /// A new entry was created.
    Created,
    /// No entry existed and the packet did not qualify for one.
    Unsolicited,
    /// The packet qualified for a new entry but the table is full.
    TableFull,
    /// The entry is static: ARP traffic never changes it.
    Static,
}

/// Result of [`ArpCache::learn`].
#[derive(Debug)]
pub(crate) struct LearnOutcome {
    /// What happened to the entry.
    pub learned: Learned,
    /// The packets that were waiting for the sender, now sendable.
    pub queue: VecDeque<Pending>,
}

/// Result of [`ArpCache::enqueue`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Enqueued {
    /// A new resolution started: the caller sends the first request now.
    pub send_request: bool,
    /// Packets dropped (older queued ones, or the new one if refused).
    pub dropped: u64,
    /// The packet was refused because the table is full of entries in use.
    pub table_full: bool,
}

/// Timer work found by [`ArpCache::poll`].
#[derive(Debug)]
pub(crate) enum ArpAction {
    /// Send (another) request for `ip` on `port`.
    Request { port: usize, ip: Ipv4Addr },
    /// Resolution failed after the last request; these packets were waiting.
    Failed {
        port: usize,
        ip: Ipv4Addr,
        queue: VecDeque<Pending>,
    },
}

/// The neighbour cache of one stack, keyed by (interface, address).
#[derive(Debug)]
pub(crate) struct ArpCache {
    cfg: ArpConfig,
    map: HashMap<(usize, Ipv4Addr), Neighbor>,
    queued: usize,
    seq: u64,
}

fn log_change(port: usize, ip: Ipv4Addr, old: Option<&State>, new: Option<&State>) {
    let show = |s: Option<&State>| s.map_or_else(|| "none".to_string(), |s| s.to_string());
    tracing::debug!(port, %ip, "ARP {} -> {}", show(old), show(new));
}

impl ArpCache {
    pub(crate) fn new(cfg: ArpConfig) -> Self {
        Self {
            cfg,
            map: HashMap::new(),
            queued: 0,
            seq: 0,
        }
    }

    /// The hardware address of `ip` on `port`, if reachable or static, for
    /// a packet we are about to send: a hit marks the entry as used by our
    /// own traffic, which protects it from eviction (see
    /// [`ArpCache::enqueue`]).
    pub(crate) fn lookup(
        &mut self,
        now: Instant,
        port: usize,
        ip: Ipv4Addr,
    ) -> Option<EthernetAddress> {
        let n = self.map.get_mut(&(port, ip))?;
        let mac = match n.state {
            State::Reachable { mac, expires } if now < expires => mac,
            State::Static { mac } => mac,
            _ => return None,
        };
        n.last_used = Some(now);
        Some(mac)
    }

    /// Whether an entry is live: incomplete, static, or reachable and not
    /// yet expired (expiry is lazy, an expired entry may linger until
    /// [`ArpCache::poll`]).
    fn is_live(now: Instant, n: &Neighbor) -> bool {
        !matches!(n.state, State::Reachable { expires, .. } if now >= expires)
    }

    /// Number of packets waiting over all neighbours.
    pub(crate) fn queued(&self) -> usize {
        self.queued
    }

    /// Makes room for one entry needed by our own traffic; false if no
    /// entry may be evicted.
    ///
    /// Only a reachable entry that is not in use can go, in this order:
    /// expired entries, entries our traffic never used (learned from
    /// requests we received), then the least recently used by our traffic.
    /// A reachable entry our traffic used within `entry_lifetime` (the
    /// reachable time, RFC 1122 §2.3.2.1), an incomplete entry (a
    /// resolution under way, with our packets queued) and a static entry
    /// are never evicted.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.map.len() < self.cfg.capacity {
            return true;
        }
        let lifetime = self.cfg.entry_lifetime;
        let victim = self
            .map
            .iter()
            .filter_map(|(k, n)| match (n.state, n.last_used) {
                (State::Reachable { expires, .. }, _) if now >= expires => Some(((0, expires), *k)),
                (State::Reachable { expires, .. }, None) => Some(((1, expires), *k)),
                (State::Reachable { .. }, Some(used))
                    if now.saturating_duration_since(used) >= lifetime =>
                {
                    Some(((2, used), *k))
                }
                _ => None,
            })
            .min();
        match victim {
            Some((_, key)) => {
                if let Some(n) = self.map.remove(&key) {
                    self.queued -= n.queue.len();
                    log_change(key.0, key.1, Some(&n.state), None);
                }
                true
            }
            None => false,
        }
    }

    /// Drops the globally oldest queued packet; returns whether one was dropped.
    fn drop_oldest_queued(&mut self) -> bool {
        let oldest = self
            .map
            .iter()
            .filter_map(|(k, n)| n.queue.front().map(|p| (p.seq, *k)))
            .min();
        match oldest.and_then(|(_, k)| self.map.get_mut(&k)) {
            Some(n) => {
                n.queue.pop_front();
                self.queued -= 1;
                true
            }
            None => false,
        }
    }

    /// Queues `frame` until `ip` on `port` is resolved, starting a
    /// resolution if none is under way (RFC 1122 §2.3.2.2). The entry is
    /// marked as used by our traffic. With the table full, an entry not in
    /// use is evicted to make room (see `make_room`); if there is none, the
    /// packet is dropped.
    pub(crate) fn enqueue(
        &mut self,
        now: Instant,
        port: usize,
        ip: Ipv4Addr,
        frame: &[u8],
        in_port: Option<usize>,
    ) -> Enqueued {
        let mut out = Enqueued::default();
        let key = (port, ip);
        let needs_new = match self.map.get(&key) {
            None => true,
            Some(n) => matches!(n.state, State::Reachable { expires, .. } if now >= expires),
        };
        if needs_new {
            if !self.map.contains_key(&key) && !self.make_room(now) {
                out.dropped = 1;
                out.table_full = true;
                return out;
            }
            let new = State::Incomplete {
                requests_sent: 1,
                next_retry: now + self.cfg.retry_interval,
            };
            let n = self.map.entry(key).or_insert(Neighbor {
                state: new,
                queue: VecDeque::new(),
                last_used: None,
            });
            let old = n.state;
            n.state = new;
            log_change(
                port,
                ip,
                matches!(old, State::Reachable { .. }).then_some(&old),
                Some(&new),
            );
            out.send_request = true;
        }
        if self.cfg.queue_per_neighbor == 0 || self.cfg.queue_total == 0 {
            if let Some(n) = self.map.get_mut(&key) {
                n.last_used = Some(now);
            }
            out.dropped += 1;
            return out;
        }
        if let Some(n) = self.map.get_mut(&key) {
            n.last_used = Some(now);
        }
        let per = self.cfg.queue_per_neighbor;
        if let Some(n) = self.map.get_mut(&key)
            && n.queue.len() >= per
        {
            n.queue.pop_front();
            self.queued -= 1;
            out.dropped += 1;
        }
        if self.queued >= self.cfg.queue_total && self.drop_oldest_queued() {
            out.dropped += 1;
        }
        self.seq += 1;
        if let Some(n) = self.map.get_mut(&key) {
            n.queue.push_back(Pending {
                frame: frame.to_vec(),
                in_port,
                seq: self.seq,
            });
            self.queued += 1;
        }
        out
    }

    /// Records `ip` ↔ `mac` on `port`: the RFC 826 "merge" step.
    ///
    /// RFC 826, "Packet Reception": "If the pair <protocol type, sender
    /// protocol address> is already in my translation table, update the
    /// sender hardware address field of the entry with the new information
    /// in the packet and set Merge_flag to true. [...] If Merge_flag is
    /// false, add the triplet <protocol type, sender protocol address,
    /// sender hardware address> to the translation table" — and that second
    /// step only happens once "I am the target protocol address".
    ///
    /// So a live entry (incomplete, or reachable and not expired) is
    /// updated by any valid ARP packet from its owner; this is also how the
    /// reply to one of our requests completes an incomplete entry. A new
    /// entry is created only when `create`: the caller passes true for a
    /// request whose target is our address (that sender is about to talk
    /// to us), never for a reply we did not ask for, a gratuitous ARP or a
    /// request for another station, which would let anyone on the link fill
    /// the table. And only if there is room: received ARP traffic never
    /// evicts anything, so a flood cannot push out the neighbours we talk to.
    /// Static entries never change.
    pub(crate) fn learn(
        &mut self,
        now: Instant,
        port: usize,
        ip: Ipv4Addr,
        mac: EthernetAddress,
        create: bool,
    ) -> LearnOutcome {
        let key = (port, ip);
        let new = State::Reachable {
            mac,
            expires: now + self.cfg.entry_lifetime,
        };
        let outcome = |learned| LearnOutcome {
            learned,
            queue: VecDeque::new(),
        };
        if let Some(n) = self.map.get_mut(&key)
            && (Self::is_live(now, n) || create)
        {
            // An expired entry revived by a request for us counts as new.
            let learned = if Self::is_live(now, n) {
                Learned::Updated
            } else {
                Learned::Created
            };
            let old = n.state;
            match old {
                State::Static { .. } => return outcome(Learned::Static),
                State::Reachable { mac: m, expires } if m == mac && now < expires => {
                    n.state = new;
                }
                _ => {
                    n.state = new;
                    log_change(port, ip, Some(&old), Some(&new));
                }
            }
            let q = core::mem::take(&mut n.queue);
            self.queued -= q.len();
            return LearnOutcome { learned, queue: q };
        }
        if !create {
            return outcome(Learned::Unsolicited);
        }
        // An expired entry of the same key was replaced above; any other
        // new entry needs a free slot.
        if self.map.len() >= self.cfg.capacity {
            return outcome(Learned::TableFull);
        }
        self.map.insert(
            key,
            Neighbor {
                state: new,
                queue: VecDeque::new(),
                last_used: None,
            },
        );
        log_change(port, ip, None, Some(&new));
        outcome(Learned::Created)
    }

    /// Adds a static entry (never expires, never overwritten by ARP
    /// traffic); returns packets that were waiting for it.
    pub(crate) fn add_static(
        &mut self,
        port: usize,
        ip: Ipv4Addr,
        mac: EthernetAddress,
    ) -> VecDeque<Pending> {
        let new = State::Static { mac };
        match self.map.get_mut(&(port, ip)) {
            Some(n) => {
                let old = n.state;
                n.state = new;
                log_change(port, ip, Some(&old), Some(&new));
                let q = core::mem::take(&mut n.queue);
                self.queued -= q.len();
                q
            }
            None => {
                // Static entries are never evicted, but do count against
                // the bound; the operator's entry is added even when full.
                self.make_room(Instant::ZERO);
                self.map.insert(
                    (port, ip),
                    Neighbor {
                        state: new,
                        queue: VecDeque::new(),
                        last_used: None,
                    },
                );
                log_change(port, ip, None, Some(&new));
                VecDeque::new()
            }
        }
    }

    /// Forgets every dynamic entry of `port` (its address changed); queued
    /// packets are dropped and returned.
    pub(crate) fn flush_port(&mut self, port: usize) -> usize {
        let mut dropped = 0;
        self.map.retain(|(p, _), n| {
            let keep = *p != port || matches!(n.state, State::Static { .. });
            if !keep {
                dropped += n.queue.len();
            }
            keep
        });
        self.queued -= dropped;
        dropped
    }

    /// Runs the timers: retries, failures, expiry of reachable entries.
    pub(crate) fn poll(&mut self, now: Instant) -> Vec<ArpAction> {
        let mut actions = Vec::new();
        let mut failed = Vec::new();
        let mut expired = Vec::new();
        for (key, n) in self.map.iter_mut() {
            match &mut n.state {
                State::Incomplete {
                    requests_sent,
                    next_retry,
                } if now >= *next_retry => {
                    if *requests_sent < self.cfg.max_requests {
                        *requests_sent += 1;
                        *next_retry = now + self.cfg.retry_interval;
                        actions.push(ArpAction::Request {
                            port: key.0,
                            ip: key.1,
                        });
                    } else {
                        failed.push(*key);
                    }
                }
                State::Reachable { expires, .. } if now >= *expires => expired.push(*key),
                _ => {}
            }
        }
        for key in expired {
            if let Some(n) = self.map.remove(&key) {
                self.queued -= n.queue.len();
                log_change(key.0, key.1, Some(&n.state), None);
            }
        }
        failed.sort_unstable();
        for key in failed {
            if let Some(n) = self.map.remove(&key) {
                self.queued -= n.queue.len();
                tracing::debug!(port = key.0, ip = %key.1, "ARP {} -> failed", n.state);
                actions.push(ArpAction::Failed {
                    port: key.0,
                    ip: key.1,
                    queue: n.queue,
                });
            }
        }
        actions
    }

    /// When [`ArpCache::poll`] next has work (a retry or failure).
    ///
    /// Expiry of reachable entries is lazy (lookups check the time) and does
    /// not need a wake-up.
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        self.map
            .values()
            .filter_map(|n| match n.state {
                State::Incomplete { next_retry, .. } => Some(next_retry),
                _ => None,
            })
            .min()
    }

    /// Live entries, sorted by port then address.
    pub(crate) fn entries(&self, now: Instant) -> Vec<ArpEntry> {
        let mut v: Vec<ArpEntry> = self
            .map
            .iter()
            .filter_map(|(&(port, ip), n)| {
                let (mac, state, expires_in) = match n.state {
                    State::Reachable { mac, expires } => {
                        if now >= expires {
                            return None;
                        }
                        (Some(mac), ArpState::Reachable, Some(expires - now))
                    }
                    State::Incomplete { next_retry, .. } => {
                        (None, ArpState::Incomplete, Some(next_retry - now))
                    }
                    State::Static { mac } => (Some(mac), ArpState::Static, None),
                };
                Some(ArpEntry {
                    port,
                    ip,
                    mac,
                    state,
                    expires_in,
                })
            })
            .collect();
        v.sort_by_key(|e| (e.port, e.ip));
        v
    }

    /// Number of entries (any state).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests;
