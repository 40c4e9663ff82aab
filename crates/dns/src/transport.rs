//! DNS over vnet UDP (RFC 1035 §4.2.1): one query, one matching response.
//!
//! Each exchange uses a **fresh socket on a random ephemeral port**
//! (49152–65535, RFC 6335 §6; re-drawn when the port is taken) and a
//! **random 16-bit ID** (RFC 5452 §9.2: both make off-path spoofing
//! expensive), drawn from the operating system's CSPRNG. A datagram is
//! accepted as the response only if
//!
//! * it comes from the server's address **and** port 53 (RFC 5452 §9.1),
//! * it parses, has QR set and the query's ID,
//! * it repeats the question: same name (ASCII case ignored), type and
//!   class (RFC 5452 §9.1). An error response with no question section
//!   (FORMERR, NOTIMP) is accepted, as RFC 1035 lets a server omit it.
//!
//! Anything else is dropped, counted (`spoofed_dropped`), and the wait goes
//! on until the timeout. An ICMP error about the query (port or host
//! unreachable) ends the exchange at once.

use crate::counters::{self, DnsCounters};
use crate::resolver::{Upstream, UpstreamError};
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use vnet_runtime::DeviceHandle;
use vnet_runtime::net::{NetDevice, UdpSocket};
use vnet_stack::{SendOptions, StackError, UdpEvent};
use vnet_wire::dns::{DnsMessage, MAX_UDP_LEN, PORT, Question, Rcode};

/// How long to wait for one response by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// First port of the dynamic range (RFC 6335 §6).
pub const EPHEMERAL_FIRST: u16 = 49152;
/// Random ports tried before giving up on binding.
const BIND_ATTEMPTS: usize = 32;

/// Why a datagram is not the response to our query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// From another address or port than the server's port 53.
    #[error("from {from}, not from the server {server}")]
    WrongSource {
        /// Where it came from.
        from: SocketAddrV4,
        /// Where the query went.
        server: SocketAddrV4,
    },
    /// Not a DNS message.
    #[error("malformed: {0}")]
    Malformed(String),
    /// QR clear: a query, not a response.
    #[error("not a response (QR clear)")]
    NotAResponse,
    /// Another transaction ID.
    #[error("ID {got:#06x}, expected {expected:#06x}")]
    WrongId {
        /// The ID in the datagram.
        got: u16,
        /// The ID of the query.
        expected: u16,
    },
    /// The question section does not repeat the query's question.
    #[error("question does not match the query")]
    WrongQuestion,
}

/// What the response to a query must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The server's address and port the query was sent to.
    pub server: SocketAddrV4,
    /// The query ID.
    pub id: u16,
    /// The question asked.
    pub question: &'a Question,
}

/// Decides whether `payload`, received from `from`, is the response to the
/// query described by `expected` (see the module docs); returns the parsed
/// message, or why it is not.
pub fn match_response(
    expected: &Expected<'_>,
    from: SocketAddrV4,
    payload: &[u8],
) -> Result<DnsMessage, Mismatch> {
    if from != expected.server {
        return Err(Mismatch::WrongSource {
            from,
            server: expected.server,
        });
    }
    let msg = DnsMessage::parse(payload).map_err(|e| Mismatch::Malformed(e.to_string()))?;
    if !msg.header.qr {
        return Err(Mismatch::NotAResponse);
    }
    if msg.header.id != expected.id {
        return Err(Mismatch::WrongId {
            got: msg.header.id,
            expected: expected.id,
        });
    }
    match msg.questions.as_slice() {
        [q] if q == expected.question => Ok(msg),
        [] if matches!(msg.header.rcode, Rcode::FormErr | Rcode::NotImp) => Ok(msg),
        _ => Err(Mismatch::WrongQuestion),
    }
}

/// A response and how it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The response.
    pub message: DnsMessage,
    /// Its size in octets on the wire.
    pub size: usize,
    /// Time from sending the query to receiving the response.
    pub rtt: Duration,
}

/// A random 16-bit query ID from the OS CSPRNG (a fast PRNG if that
/// fails; seeded in a simulation).
pub fn random_id() -> u16 {
    random_u32() as u16
}

fn random_u32() -> u32 {
    // The OS CSPRNG, or the simulation's seeded generator.
    vnet_runtime::entropy::u32()
}

/// Binds a UDP socket on a random port in 49152–65535, drawing again when
/// the port is taken.
pub fn bind_random<D: NetDevice>(handle: &DeviceHandle<D>) -> Result<UdpSocket<D>, StackError> {
    let span = u32::from(u16::MAX - EPHEMERAL_FIRST) + 1;
    let mut last = StackError::TooManySockets;
    for _ in 0..BIND_ATTEMPTS {
        let port = EPHEMERAL_FIRST + (random_u32() % span) as u16;
        match UdpSocket::bind(handle, port) {
            Ok(s) => return Ok(s),
            Err(e @ StackError::PortInUse { .. }) => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Sends `query` to `server` from a fresh random port and waits up to
/// `timeout` for the matching response; datagrams that do not match are
/// dropped and added to `spoofed`.
pub async fn exchange<D: NetDevice>(
    handle: &DeviceHandle<D>,
    server: SocketAddrV4,
    query: &DnsMessage,
    timeout: Duration,
    spoofed: &AtomicU64,
) -> Result<Exchange, UpstreamError> {
    let Some(question) = query.questions.first() else {
        return Err(UpstreamError::Socket("query without a question".into()));
    };
    let socket = bind_random(handle).map_err(|e| UpstreamError::Socket(e.to_string()))?;
    let bytes = query.emit(MAX_UDP_LEN);
    let started = tokio::time::Instant::now();
    socket
        .send_to(server, &bytes, SendOptions::default())
        .map_err(|e| match e {
            StackError::NoRoute { .. } | StackError::GatewayUnreachable { .. } => {
                UpstreamError::Unreachable(e.to_string())
            }
            e => UpstreamError::Socket(e.to_string()),
        })?;
    let expected = Expected {
        server,
        id: query.header.id,
        question,
    };
    let deadline = started + timeout;
    loop {
        let event = match tokio::time::timeout_at(deadline, socket.next_event()).await {
            Ok(event) => event,
            Err(_) => return Err(UpstreamError::Timeout(timeout)),
        };
        match event {
            UdpEvent::Datagram { from, payload } => match match_response(&expected, from, &payload)
            {
                Ok(message) => {
                    return Ok(Exchange {
                        message,
                        size: payload.len(),
                        rtt: started.elapsed(),
                    });
                }
                Err(why) => {
                    spoofed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        server = %server,
                        from = %from,
                        port = socket.local_port(),
                        reason = %why,
                        "dropped a datagram that does not answer our query"
                    );
                }
            },
            UdpEvent::Error {
                from,
                original_dst,
                error,
            } if original_dst == server => {
                return Err(UpstreamError::Unreachable(format!("{error} (from {from})")));
            }
            UdpEvent::Error { .. } => {}
        }
    }
}

/// The resolver's [`Upstream`] over the device's UDP stack: iterative
/// queries (RD clear) with a random ID from a random port, one attempt each
/// (the resolver decides about retries).
pub struct UdpUpstream<D: NetDevice> {
    handle: DeviceHandle<D>,
    timeout: Duration,
    counters: Arc<DnsCounters>,
}

impl<D: NetDevice> UdpUpstream<D> {
    /// Queries through `handle`'s stack, waiting `timeout` per query and
    /// counting dropped datagrams in `counters.spoofed_dropped`.
    pub fn new(
        handle: DeviceHandle<D>,
        timeout: Duration,
        counters: Arc<DnsCounters>,
    ) -> UdpUpstream<D> {
        UdpUpstream {
            handle,
            timeout,
            counters,
        }
    }
}

impl<D: NetDevice> Upstream for UdpUpstream<D> {
    fn query(
        &self,
        server: Ipv4Addr,
        question: &Question,
    ) -> impl Future<Output = Result<DnsMessage, UpstreamError>> + Send {
        let mut query = DnsMessage::query(random_id(), question.name.clone(), question.qtype);
        query.header.rd = false;
        query.questions[0].qclass = question.qclass;
        query.set_edns(Some(&crate::edns::server_edns()));
        async move {
            let server = SocketAddrV4::new(server, PORT);
            let udp = exchange(
                &self.handle,
                server,
                &query,
                self.timeout,
                &self.counters.spoofed_dropped,
            )
            .await?
            .message;
            if !udp.header.tc {
                return Ok(udp);
            }
            // RFC 7766 §5 / RFC 1035 §4.2.2: a truncated answer is asked again
            // over TCP; if that fails, the TC answer goes back and the
            // resolver discards it (never cached, never served).
            counters::bump(&self.counters.upstream_tcp_retries);
            query.header.id = random_id();
            match crate::tcp::exchange_tcp(&self.handle, server, &query, self.timeout).await {
                Ok(e) => Ok(e.message),
                Err(e) => {
                    counters::bump(&self.counters.upstream_tcp_failures);
                    tracing::warn!(server = %server, error = %e, "truncated answer and no answer over TCP");
                    Ok(udp)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_wire::dns::{DnsName, RecordType};

    fn question() -> Question {
        Question::new(
            "www.example.com".parse::<DnsName>().expect("name"),
            RecordType::A,
        )
    }

    fn server() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 53), 53)
    }

    fn response(id: u16, q: &Question) -> DnsMessage {
        let query = DnsMessage::query(id, q.name.clone(), q.qtype);
        DnsMessage::response_to(&query)
    }

    #[test]
    fn accepts_the_matching_response() {
        let q = question();
        let e = Expected {
            server: server(),
            id: 0x1234,
            question: &q,
        };
        let r = response(0x1234, &q);
        assert_eq!(match_response(&e, server(), &r.emit(512)), Ok(r.clone()));
        // Case differences in the name are fine.
        let mut upper = r.clone();
        upper.questions[0].name = "WWW.Example.COM".parse().expect("name");
        assert!(match_response(&e, server(), &upper.emit(512)).is_ok());
    }

    #[test]
    fn drops_spoofed_and_stray_datagrams() {
        let q = question();
        let e = Expected {
            server: server(),
            id: 0x1234,
            question: &q,
        };
        let good = response(0x1234, &q).emit(512);
        // Wrong ID.
        assert_eq!(
            match_response(&e, server(), &response(0x1235, &q).emit(512)),
            Err(Mismatch::WrongId {
                got: 0x1235,
                expected: 0x1234
            })
        );
        // Right ID, but from another port or address.
        let wrong_port = SocketAddrV4::new(*server().ip(), 5353);
        assert!(matches!(
            match_response(&e, wrong_port, &good),
            Err(Mismatch::WrongSource { .. })
        ));
        let wrong_ip = SocketAddrV4::new(Ipv4Addr::new(10, 0, 2, 66), 53);
        assert!(matches!(
            match_response(&e, wrong_ip, &good),
            Err(Mismatch::WrongSource { .. })
        ));
        // Another question.
        let other = Question::new("evil.example.com".parse().expect("name"), RecordType::A);
        assert_eq!(
            match_response(&e, server(), &response(0x1234, &other).emit(512)),
            Err(Mismatch::WrongQuestion)
        );
        let aaaa = Question::new(q.name.clone(), RecordType::Aaaa);
        assert_eq!(
            match_response(&e, server(), &response(0x1234, &aaaa).emit(512)),
            Err(Mismatch::WrongQuestion)
        );
        // A query, not a response.
        let query = DnsMessage::query(0x1234, q.name.clone(), q.qtype).emit(512);
        assert_eq!(
            match_response(&e, server(), &query),
            Err(Mismatch::NotAResponse)
        );
        // Garbage.
        assert!(matches!(
            match_response(&e, server(), &[0x12, 0x34, 0x80]),
            Err(Mismatch::Malformed(_))
        ));
        // No question is accepted only for FORMERR / NOTIMP.
        let mut bare = response(0x1234, &q);
        bare.questions.clear();
        assert_eq!(
            match_response(&e, server(), &bare.emit(512)),
            Err(Mismatch::WrongQuestion)
        );
        bare.header.rcode = Rcode::FormErr;
        assert!(match_response(&e, server(), &bare.emit(512)).is_ok());
    }

    #[test]
    fn ids_vary() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| random_id()).collect();
        assert!(ids.len() > 32, "{ids:?}");
    }
}
