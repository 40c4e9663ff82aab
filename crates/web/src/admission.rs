//! Connection slots: how many connections a server serves at once, how
//! many of them one client may hold, and which one makes room when all
//! are taken (the defence against slowloris).
//!
//! * At most [`ServerConfig::max_connections`] slots are taken at once.
//! * One client address holds at most
//!   [`ServerConfig::max_connections_per_client`] of them; one more from
//!   it is refused (`refused_per_client`), like nginx's `limit_conn`.
//! * When every slot is taken, the connection that has been *waiting* the
//!   longest — idle between keep-alive requests, or still reading an
//!   incomplete request head, or lingering after an error response — is
//!   evicted (`evicted_idle`) to make room for the new one, as nginx
//!   reuses its idle keep-alive connections when out of connections. A
//!   connection that is handling a request (reading its body, writing its
//!   response) is never chosen; only when none is waiting is the new
//!   connection refused (`connections_refused`).
//!
//! [`ServerConfig::max_connections`]: crate::server::ServerConfig::max_connections
//! [`ServerConfig::max_connections_per_client`]: crate::server::ServerConfig::max_connections_per_client

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Why a connection got no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every slot is taken by a connection handling a request.
    Full,
    /// Its client already holds its share of the slots.
    PerClient,
}

/// The slot table of one server.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    by_id: HashMap<u64, Slot>,
    per_client: HashMap<Ipv4Addr, usize>,
}

#[derive(Debug)]
struct Slot {
    client: Option<Ipv4Addr>,
    /// Since when it has been waiting for a request (head), if it is.
    waiting_since: Option<Instant>,
    evict: Arc<Notify>,
}

impl Table {
    fn release(&mut self, id: u64) -> Option<Slot> {
        let slot = self.by_id.remove(&id)?;
        if let Some(c) = slot.client
            && let Some(n) = self.per_client.get_mut(&c)
        {
            *n -= 1;
            if *n == 0 {
                self.per_client.remove(&c);
            }
        }
        Some(slot)
    }
}

/// A granted slot: the connection holds it until dropped (or evicted).
#[derive(Debug)]
pub struct ConnectionSlot {
    slots: Arc<Slots>,
    id: u64,
    evict: Arc<Notify>,
}

/// What [`Slots::admit`] did.
pub(crate) struct Admitted {
    pub(crate) slot: ConnectionSlot,
    /// Another connection was evicted to make room.
    pub(crate) evicted: bool,
}

impl Slots {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Grants a slot to a new connection from `client`, which starts out
    /// waiting for its first request.
    pub(crate) fn admit(
        self: &Arc<Self>,
        client: Option<Ipv4Addr>,
        max: usize,
        per_client: usize,
    ) -> Result<Admitted, Refusal> {
        let mut t = self.lock();
        if let Some(c) = client
            && t.per_client.get(&c).copied().unwrap_or(0) >= per_client
        {
            return Err(Refusal::PerClient);
        }
        let mut evicted = false;
        if t.by_id.len() >= max {
            let oldest = t
                .by_id
                .iter()
                .filter_map(|(id, s)| s.waiting_since.map(|since| (since, *id)))
                .min();
            let Some((_, victim)) = oldest else {
                return Err(Refusal::Full);
            };
            if let Some(slot) = t.release(victim) {
                slot.evict.notify_one();
            }
            evicted = true;
        }
        let id = t.next_id;
        t.next_id += 1;
        let evict = Arc::new(Notify::new());
        t.by_id.insert(
            id,
            Slot {
                client,
                waiting_since: Some(Instant::now()),
                evict: Arc::clone(&evict),
            },
        );
        if let Some(c) = client {
            *t.per_client.entry(c).or_default() += 1;
        }
        Ok(Admitted {
            slot: ConnectionSlot {
                slots: Arc::clone(self),
                id,
                evict,
            },
            evicted,
        })
    }

    /// Slots taken now.
    pub(crate) fn taken(&self) -> usize {
        self.lock().by_id.len()
    }
}

impl ConnectionSlot {
    /// The connection waits (for a request, or for the peer to go):
    /// evictable from now on, the oldest waiter first.
    pub(crate) fn waiting(&self) {
        if let Some(s) = self.slots.lock().by_id.get_mut(&self.id) {
            s.waiting_since.get_or_insert_with(Instant::now);
        }
    }

    /// The connection handles a request: not evictable. False if it has
    /// already been evicted (it must close).
    pub(crate) fn busy(&self) -> bool {
        match self.slots.lock().by_id.get_mut(&self.id) {
            Some(s) => {
                s.waiting_since = None;
                true
            }
            None => false,
        }
    }

    /// Resolves once the connection has been evicted.
    pub(crate) async fn evicted(&self) {
        self.evict.notified().await;
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.slots.lock().release(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Option<Ipv4Addr> {
        Some(Ipv4Addr::new(10, 0, 1, n))
    }

    #[tokio::test(start_paused = true)]
    async fn the_oldest_waiter_makes_room_and_busy_ones_stay() {
        let slots = Arc::new(Slots::default());
        let a = slots.admit(ip(1), 3, 3).expect("a").slot;
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        let b = slots.admit(ip(2), 3, 3).expect("b").slot;
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        let c = slots.admit(ip(3), 3, 3).expect("c").slot;
        assert!(a.busy(), "a handles a request");
        let d = slots.admit(ip(4), 3, 3).expect("d");
        assert!(d.evicted);
        // b was the oldest waiter: told to go, and its slot is free.
        tokio::time::timeout(std::time::Duration::from_millis(1), b.evicted())
            .await
            .expect("b evicted");
        assert!(!b.busy(), "an evicted connection cannot start a request");
        assert_eq!(slots.taken(), 3);
        // Busy a and c are left; make c busy too: nothing to evict.
        assert!(c.busy());
        assert!(d.slot.busy());
        assert_eq!(slots.admit(ip(5), 3, 3).err(), Some(Refusal::Full));
        // a goes back to waiting: it is the one evicted next.
        a.waiting();
        assert!(slots.admit(ip(5), 3, 3).expect("e").evicted);
        assert_eq!(slots.taken(), 2, "c and d (e came and went)");
        drop(b);
        assert_eq!(
            slots.taken(),
            2,
            "dropping an evicted slot frees nothing more"
        );
    }

    #[test]
    fn one_client_holds_at_most_its_share() {
        let slots = Arc::new(Slots::default());
        let held: Vec<_> = (0..2)
            .map(|_| slots.admit(ip(1), 8, 2).expect("slot").slot)
            .collect();
        assert_eq!(slots.admit(ip(1), 8, 2).err(), Some(Refusal::PerClient));
        assert!(slots.admit(ip(2), 8, 2).is_ok(), "another client is served");
        assert!(
            slots.admit(None, 8, 2).is_ok(),
            "no address: no per-client cap"
        );
        drop(held);
        assert!(slots.admit(ip(1), 8, 2).is_ok(), "slots come back");
    }
}
