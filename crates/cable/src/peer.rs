//! The peer of a UDP cable end: a fixed address, or a name that is
//! resolved again while the cable lives (an orchestrator gives a restarted
//! container a new address). Frames are accepted only from, and sent only
//! to, the current address.

use crate::counters::InterfaceCounters;
use std::net::SocketAddr;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Where a cable end's frames go and come from.
#[derive(Debug)]
pub(crate) enum PeerSlot {
    /// Never changes.
    Fixed(SocketAddr),
    /// Resolved from a name.
    Named(NamedPeer),
}

/// A peer known by name and port.
#[derive(Debug)]
pub(crate) struct NamedPeer {
    pub(crate) host: String,
    pub(crate) port: u16,
    current: RwLock<Option<SocketAddr>>,
}

impl NamedPeer {
    pub(crate) fn new(host: &str, port: u16) -> NamedPeer {
        NamedPeer {
            host: host.to_string(),
            port,
            current: RwLock::new(None),
        }
    }

    /// Makes `addr` the peer unless the current address is among
    /// `candidates` (a name may resolve to several; keep the one in use).
    /// Returns the change, if any.
    pub(crate) fn update(&self, candidates: &[SocketAddr]) -> Option<PeerChange> {
        let first = *candidates.first()?;
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if current.is_some_and(|c| candidates.contains(&c)) {
            return None;
        }
        let old = current.replace(first);
        Some(PeerChange { old, new: first })
    }
}

impl PeerSlot {
    /// The address in force now (None until a name first resolves).
    #[inline]
    pub(crate) fn current(&self) -> Option<SocketAddr> {
        match self {
            PeerSlot::Fixed(a) => Some(*a),
            PeerSlot::Named(n) => *n.current.read().unwrap_or_else(|p| p.into_inner()),
        }
    }
}

/// A named peer moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerChange {
    /// The address used before (None on the first resolution).
    pub old: Option<SocketAddr>,
    /// The address used from now on.
    pub new: SocketAddr,
}

/// What a cable end did since the last look: enough to tell a live peer
/// from one that went away, without touching the forwarding path (these
/// are the interface counters it keeps anyway).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// Frames accepted from the peer.
    pub frames_in: u64,
    /// Frames sent to the peer.
    pub frames_out: u64,
    /// Datagrams from other addresses (a restarted peer sends from its new one).
    pub foreign: u64,
    /// Sends the OS refused, or that had no address to go to.
    pub send_failures: u64,
}

impl Activity {
    pub(crate) fn of(counters: &InterfaceCounters) -> Activity {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Activity {
            frames_in: get(&counters.frames_in),
            frames_out: get(&counters.frames_out),
            foreign: get(&counters.drop_foreign_source),
            send_failures: get(&counters.drop_send_error) + get(&counters.drop_no_peer),
        }
    }
}

/// When a named peer is resolved again (sans-IO: the caller sleeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// While something looks wrong: not resolved yet, sending into silence,
    /// foreign datagrams, failed sends.
    pub suspicious: Duration,
    /// Otherwise, like a short DNS TTL: a peer that moved while this end
    /// was idle is found within this long.
    pub steady: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            suspicious: Duration::from_secs(1),
            steady: Duration::from_secs(3),
        }
    }
}

impl RefreshPolicy {
    /// How long to wait before the next resolution, given whether the peer
    /// has an address and the activity at the previous and this look.
    pub fn next_wait(&self, resolved: bool, before: Activity, now: Activity) -> Duration {
        let heard = now.frames_in > before.frames_in;
        let talked = now.frames_out > before.frames_out;
        let strangers = now.foreign > before.foreign;
        let failing = now.send_failures > before.send_failures;
        if !resolved || strangers || failing || (talked && !heard) {
            self.suspicious
        } else {
            self.steady
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn update_keeps_an_address_still_listed() {
        let p = NamedPeer::new("r2", 40000);
        assert_eq!(PeerSlot::Named(NamedPeer::new("x", 1)).current(), None);
        assert_eq!(
            p.update(&[addr("10.0.0.5:40000")]),
            Some(PeerChange {
                old: None,
                new: addr("10.0.0.5:40000")
            })
        );
        assert_eq!(
            p.update(&[addr("10.0.0.9:40000"), addr("10.0.0.5:40000")]),
            None
        );
        assert_eq!(p.update(&[]), None, "no answer keeps the old address");
        assert_eq!(
            p.update(&[addr("10.0.0.9:40000")]),
            Some(PeerChange {
                old: Some(addr("10.0.0.5:40000")),
                new: addr("10.0.0.9:40000")
            })
        );
    }

    #[test]
    fn policy_hurries_only_when_something_looks_wrong() {
        let policy = RefreshPolicy::default();
        let base = Activity {
            frames_in: 10,
            frames_out: 10,
            foreign: 0,
            send_failures: 0,
        };
        let with = |f: fn(&mut Activity)| {
            let mut a = base;
            f(&mut a);
            a
        };
        let fast = policy.suspicious;
        let slow = policy.steady;
        assert_eq!(policy.next_wait(false, base, base), fast, "unresolved");
        assert_eq!(policy.next_wait(true, base, base), slow, "idle both ways");
        let both = with(|a| {
            a.frames_in += 5;
            a.frames_out += 5
        });
        assert_eq!(
            policy.next_wait(true, base, both),
            slow,
            "a live conversation"
        );
        let into_silence = with(|a| a.frames_out += 5);
        assert_eq!(policy.next_wait(true, base, into_silence), fast);
        assert_eq!(
            policy.next_wait(true, base, with(|a| a.frames_in += 1)),
            slow
        );
        assert_eq!(policy.next_wait(true, base, with(|a| a.foreign += 1)), fast);
        assert_eq!(
            policy.next_wait(true, base, with(|a| a.send_failures += 1)),
            fast
        );
    }
}
