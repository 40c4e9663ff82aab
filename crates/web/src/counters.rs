//! Web server counters (for the device's status JSON) and the table of
//! open HTTP connections (`vnet show web connections`).

use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use vnet_runtime::api::Table;

/// Adds one to a counter.
pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Adds `n` to a counter.
pub(crate) fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// Counters of one web server, shared by its connection tasks.
#[derive(Debug, Default)]
pub struct WebCounters {
    /// Connections accepted and served.
    pub connections_accepted: AtomicU64,
    /// Connections refused because [`crate::service::MAX_CONNECTIONS`] were
    /// open, all handling requests (none waiting to be evicted).
    pub connections_refused: AtomicU64,
    /// Connections refused because their client address already held
    /// [`crate::service::MAX_CONNECTIONS_PER_CLIENT`].
    pub refused_per_client: AtomicU64,
    /// Waiting connections (idle keep-alive, incomplete head) closed to
    /// make room for a new one when all slots were taken.
    pub evicted_idle: AtomicU64,
    /// Request heads that did not arrive whole in time (408).
    pub head_timeouts: AtomicU64,
    /// Keep-alive connections closed after the idle timeout.
    pub idle_timeouts: AtomicU64,
    /// Request heads received (complete or not).
    pub requests: AtomicU64,
    /// Responses with a 1xx status (interim `100 Continue`).
    pub responses_1xx: AtomicU64,
    /// Responses with a 2xx status.
    pub responses_2xx: AtomicU64,
    /// Responses with a 3xx status.
    pub responses_3xx: AtomicU64,
    /// Responses with a 4xx status.
    pub responses_4xx: AtomicU64,
    /// Responses with a 5xx status.
    pub responses_5xx: AtomicU64,
    /// Octets written to clients (heads and bodies).
    pub bytes_sent: AtomicU64,
    /// Octets read from clients.
    pub bytes_received: AtomicU64,
    /// Files served from the file cache ([`crate::file_cache`]).
    pub file_cache_hits: AtomicU64,
    /// Static-file requests the cache could not answer (not cached, or
    /// changed since): resolved on disk, whatever their outcome.
    pub file_cache_misses: AtomicU64,
    /// TLS handshakes completed (HTTPS).
    pub tls_handshakes: AtomicU64,
    /// TLS handshakes that failed (alert, timeout, reset).
    pub tls_handshake_failures: AtomicU64,
    open: Mutex<OpenConnections>,
}

/// A copy of the counters at one moment, as it appears in the status JSON
/// under `"web"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WebCountersSnapshot {
    /// Connections accepted and served.
    pub connections_accepted: u64,
    /// Connections refused (too many open, none evictable).
    pub connections_refused: u64,
    /// Connections refused (too many from that client address).
    pub refused_per_client: u64,
    /// Waiting connections closed to make room for new ones.
    pub evicted_idle: u64,
    /// Request heads not complete in time (408).
    pub head_timeouts: u64,
    /// Connections open now.
    pub connections_open: u64,
    /// Keep-alive connections closed after the idle timeout.
    pub idle_timeouts: u64,
    /// Requests received.
    pub requests: u64,
    /// 1xx responses.
    pub responses_1xx: u64,
    /// 2xx responses.
    pub responses_2xx: u64,
    /// 3xx responses.
    pub responses_3xx: u64,
    /// 4xx responses.
    pub responses_4xx: u64,
    /// 5xx responses.
    pub responses_5xx: u64,
    /// Octets written.
    pub bytes_sent: u64,
    /// Octets read.
    pub bytes_received: u64,
    /// Files served from the file cache.
    pub file_cache_hits: u64,
    /// Static-file requests resolved on disk.
    pub file_cache_misses: u64,
    /// TLS handshakes completed.
    pub tls_handshakes: u64,
    /// TLS handshakes that failed.
    pub tls_handshake_failures: u64,
}

#[derive(Debug, Default)]
struct OpenConnections {
    next_id: u64,
    by_id: BTreeMap<u64, OpenConnection>,
}

#[derive(Debug)]
struct OpenConnection {
    peer: Option<SocketAddrV4>,
    opened: Instant,
    requests: u32,
    last: String,
}

impl WebCounters {
    /// Counts a completed TLS handshake.
    pub fn tls_handshake_done(&self) {
        bump(&self.tls_handshakes);
    }

    /// Counts a failed TLS handshake.
    pub fn tls_handshake_failed(&self) {
        bump(&self.tls_handshake_failures);
    }

    /// Counts a response by its status class.
    pub fn count_status(&self, status: u16) {
        let c = match status / 100 {
            1 => &self.responses_1xx,
            2 => &self.responses_2xx,
            3 => &self.responses_3xx,
            4 => &self.responses_4xx,
            _ => &self.responses_5xx,
        };
        bump(c);
    }

    /// The counters now.
    pub fn snapshot(&self) -> WebCountersSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WebCountersSnapshot {
            connections_accepted: g(&self.connections_accepted),
            connections_refused: g(&self.connections_refused),
            refused_per_client: g(&self.refused_per_client),
            evicted_idle: g(&self.evicted_idle),
            head_timeouts: g(&self.head_timeouts),
            connections_open: self.lock().by_id.len() as u64,
            idle_timeouts: g(&self.idle_timeouts),
            requests: g(&self.requests),
            responses_1xx: g(&self.responses_1xx),
            responses_2xx: g(&self.responses_2xx),
            responses_3xx: g(&self.responses_3xx),
            responses_4xx: g(&self.responses_4xx),
            responses_5xx: g(&self.responses_5xx),
            bytes_sent: g(&self.bytes_sent),
            bytes_received: g(&self.bytes_received),
            file_cache_hits: g(&self.file_cache_hits),
            file_cache_misses: g(&self.file_cache_misses),
            tls_handshakes: g(&self.tls_handshakes),
            tls_handshake_failures: g(&self.tls_handshake_failures),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OpenConnections> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers an open connection; it leaves the table when the guard drops.
    pub(crate) fn open(&self, peer: Option<SocketAddrV4>) -> OpenGuard<'_> {
        let mut open = self.lock();
        let id = open.next_id;
        open.next_id += 1;
        open.by_id.insert(
            id,
            OpenConnection {
                peer,
                opened: Instant::now(),
                requests: 0,
                last: String::new(),
            },
        );
        OpenGuard { counters: self, id }
    }

    /// `vnet show DEVICE connections`: the HTTP connections open now.
    pub fn connections_table(&self) -> Table {
        let mut t = Table::new(&["ID", "PEER", "REQUESTS", "AGE", "LAST REQUEST"]);
        let open = self.lock();
        for (id, c) in &open.by_id {
            t.row(vec![
                id.to_string(),
                c.peer.map_or_else(|| "-".into(), |p| p.to_string()),
                c.requests.to_string(),
                format!("{:.1}s", c.opened.elapsed().as_secs_f64()),
                c.last.clone(),
            ]);
        }
        t
    }
}

/// Keeps a connection in the table of open connections while it lives.
pub(crate) struct OpenGuard<'a> {
    counters: &'a WebCounters,
    id: u64,
}

impl OpenGuard<'_> {
    /// Records a request served on this connection.
    pub(crate) fn request(&self, line: &str) {
        let mut open = self.counters.lock();
        if let Some(c) = open.by_id.get_mut(&self.id) {
            c.requests += 1;
            c.last = line.chars().take(80).collect();
        }
    }
}

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.counters.lock().by_id.remove(&self.id);
    }
}
