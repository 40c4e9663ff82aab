//! The TCP side of port 53 (RFC 1035 §4.2.2, RFC 7766), next to the UDP
//! loop of [`crate::server`].
//!
//! * Each message is framed by a two-octet length ([`FrameReader`]); a
//!   client may send several queries on one connection, one after the
//!   other without waiting (pipelining, RFC 7766 §6.2.1.1). They are
//!   answered in order, each with the same answer UDP would give but
//!   without the UDP size limit, OPT included when the query had one.
//! * **AXFR** is answered here only ([`crate::axfr`]).
//! * A connection with no complete query for [`IDLE_TIMEOUT`] is closed
//!   (RFC 7766 §6.2.3: servers "MAY close" idle connections; BIND and
//!   Unbound use seconds); counted `tcp_idle_closed`. A frame announcing
//!   more than [`MAX_QUERY_LEN`] octets, or a stream cut mid-frame, closes
//!   it too (`tcp_bad_frames`).
//! * At most [`MAX_CONNECTIONS`] connections at once and
//!   [`MAX_CONNECTIONS_PER_CLIENT`] from one address; beyond, the
//!   connection is reset at once (`tcp_refused`), so a client falls back
//!   or retries instead of hanging (RFC 7766 §6.1: servers limit
//!   resources).
//! * At most [`MAX_QUERIES_PER_CONNECTION`] queries per connection; a
//!   response that cannot be written within [`IDLE_TIMEOUT`] (the client
//!   stopped reading) closes the connection.

use crate::axfr;
use crate::counters::bump;
use crate::edns::{QueryEdns, TCP_LIMIT};
use crate::server::{DeviceResolver, respond};
use crate::tcp::{FrameReader, write_message};
use crate::{DnsServer, DnsState};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;
use tracing::Instrument;
use vnet_runtime::DeviceHandle;
use vnet_runtime::net_tcp::TcpListener;
use vnet_wire::dns::{DnsMessage, PORT};

/// TCP connections served at once.
pub const MAX_CONNECTIONS: usize = 64;
/// TCP connections served at once for one client address.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = 8;
/// How long a connection may wait for its next query.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest query accepted over TCP: a query is a question and an OPT; 4 KiB
/// leaves room, and bounds what one connection buffers.
pub const MAX_QUERY_LEN: usize = 4096;
/// Queries answered on one connection before it is closed.
pub const MAX_QUERIES_PER_CONNECTION: usize = 1000;
/// Established connections waiting to be accepted.
const BACKLOG: usize = 32;

/// Connection slots: the total and per client address.
#[derive(Debug, Default)]
pub struct Slots {
    per_client: Mutex<HashMap<Ipv4Addr, usize>>,
}

/// A slot, given back when dropped.
pub struct Slot {
    slots: Arc<Slots>,
    client: Ipv4Addr,
}

impl Slots {
    /// Takes a slot for `client`, or `None` when the total or the client's
    /// share is used up.
    pub fn admit(self: &Arc<Self>, client: Ipv4Addr) -> Option<Slot> {
        let mut map = self.per_client.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = map.values().sum();
        let mine = map.entry(client).or_insert(0);
        if total >= MAX_CONNECTIONS || *mine >= MAX_CONNECTIONS_PER_CLIENT {
            if *mine == 0 {
                map.remove(&client);
            }
            return None;
        }
        *mine += 1;
        Some(Slot {
            slots: Arc::clone(self),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self
            .slots
            .per_client
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.client);
            }
        }
    }
}

/// Listens on TCP port 53 and serves connections until the device stops.
pub async fn serve_tcp(
    handle: DeviceHandle<DnsServer>,
    state: Arc<DnsState>,
    resolver: Option<Arc<DeviceResolver>>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&handle, PORT, BACKLOG)
        .map_err(|e| anyhow::anyhow!("listening on TCP port {PORT}: {e}"))?;
    let slots = Arc::new(Slots::default());
    tracing::info!(
        max_connections = MAX_CONNECTIONS,
        per_client = MAX_CONNECTIONS_PER_CLIENT,
        idle_timeout_secs = IDLE_TIMEOUT.as_secs(),
        "DNS service listening on TCP port 53"
    );
    loop {
        let stream = listener.accept().await?;
        let Some(peer) = stream.peer_addr() else {
            continue;
        };
        let Some(slot) = slots.admit(*peer.ip()) else {
            bump(&state.counters.tcp_refused);
            tracing::warn!(client = %peer, "too many DNS/TCP connections: reset");
            stream.abort();
            continue;
        };
        bump(&state.counters.tcp_connections);
        stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let resolver = resolver.clone();
        let span = tracing::debug_span!("dns_tcp_connection", client = %peer);
        vnet_telemetry::spawn(
            async move {
                let _slot = slot;
                serve_connection(stream, peer, &state, resolver.as_deref()).await;
            }
            .instrument(span),
        );
    }
}

/// Serves one connection: framed queries in, framed responses out, until
/// the client closes, goes idle, sends a bad frame or reaches the cap.
pub async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    peer: SocketAddrV4,
    state: &DnsState,
    resolver: Option<&DeviceResolver>,
) {
    let counters = &state.counters;
    let mut reader = FrameReader::new(stream, MAX_QUERY_LEN);
    for _ in 0..MAX_QUERIES_PER_CONNECTION {
        let payload = match timeout(IDLE_TIMEOUT, reader.next()).await {
            Err(_) => {
                bump(&counters.tcp_idle_closed);
                break;
            }
            Ok(Ok(Some(p))) => p,
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                if e.kind() != std::io::ErrorKind::ConnectionReset {
                    bump(&counters.tcp_bad_frames);
                }
                tracing::debug!(client = %peer, error = %e, "DNS/TCP connection closed");
                break;
            }
        };
        bump(&counters.queries);
        bump(&counters.tcp_queries);
        let responses = answer_tcp(state, resolver, peer, &payload).await;
        let mut failed = false;
        for resp in responses {
            counters.response(resp.header.rcode);
            // A client that stops reading cannot hold the slot forever.
            let bytes = resp.emit(TCP_LIMIT);
            let write = write_message(reader.stream(), &bytes);
            if !matches!(timeout(IDLE_TIMEOUT, write).await, Ok(Ok(()))) {
                failed = true;
                break;
            }
        }
        if failed {
            break;
        }
    }
    let _ = timeout(IDLE_TIMEOUT, reader.stream().shutdown()).await;
}

/// The responses to one query received over TCP: one message, several for
/// a zone transfer, none for garbage or a response.
async fn answer_tcp(
    state: &DnsState,
    resolver: Option<&DeviceResolver>,
    peer: SocketAddrV4,
    payload: &[u8],
) -> Vec<DnsMessage> {
    let counters = &state.counters;
    let query = match DnsMessage::parse(payload) {
        Ok(q) if !q.header.qr => q,
        _ => {
            bump(&counters.malformed);
            return crate::server::formerr_for(payload).into_iter().collect();
        }
    };
    let edns = match QueryEdns::of(&query, counters) {
        Ok(e) => e,
        Err(resp) => return vec![resp],
    };
    if axfr::is_axfr(&query) {
        return match axfr::transfer(
            state.authority.zones(),
            &state.allow_transfer,
            *peer.ip(),
            &query,
            &edns,
        ) {
            Ok(msgs) => {
                bump(&counters.axfr_served);
                tracing::info!(client = %peer, messages = msgs.len(), "zone transfer sent");
                msgs
            }
            Err(resp) => {
                bump(&counters.axfr_refused);
                tracing::info!(client = %peer, rcode = %resp.header.rcode, "zone transfer refused");
                vec![resp]
            }
        };
    }
    let mut resp = respond(state, resolver, &query).await;
    edns.finish(&mut resp);
    vec![resp]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_bound_total_and_per_client() {
        let slots = Arc::new(Slots::default());
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let mine: Vec<Slot> = (0..MAX_CONNECTIONS_PER_CLIENT)
            .map(|_| slots.admit(a).expect("slot"))
            .collect();
        assert!(slots.admit(a).is_none(), "per-client cap");
        let mut others = Vec::new();
        for i in 0..MAX_CONNECTIONS - MAX_CONNECTIONS_PER_CLIENT {
            let c = Ipv4Addr::new(10, 1, (i / 4) as u8, (i % 4) as u8);
            others.push(slots.admit(c).expect("slot"));
        }
        assert!(
            slots.admit(Ipv4Addr::new(10, 9, 9, 9)).is_none(),
            "total cap"
        );
        drop(mine);
        assert!(slots.admit(a).is_some(), "slots come back");
    }
}
