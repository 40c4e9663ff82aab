//! The stub resolver of a host (RFC 1034 §5.3.1): one question to one
//! server, the answer as it comes back; a UDP answer with TC set is asked
//! again over TCP (RFC 7766 §5), so callers never see a silent subset.
//!
//! Each try uses a fresh random ID and source port, and only a response that
//! matches both, comes from the server's port 53 and repeats the question is
//! accepted ([`crate::transport`]); anything else is dropped and the wait
//! goes on. Works on any [`NetDevice`] (hosts, and DNS devices in tests).

use crate::transport::{exchange, random_id};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use vnet_runtime::DeviceHandle;
use vnet_runtime::net::NetDevice;
use vnet_wire::dns::{DnsMessage, DnsName, PORT, Rcode, RecordData, RecordType};

use crate::resolver::UpstreamError;

/// Why a stub query got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StubError {
    /// No matching response in time (dig: "connection timed out").
    #[error("connection timed out; no servers could be reached")]
    Timeout {
        /// The server asked.
        server: Ipv4Addr,
        /// Tries made.
        tries: usize,
    },
    /// The server or the path to it reported an error (ICMP).
    #[error("communications error to {server}#53: {reason}")]
    Unreachable {
        /// The server asked.
        server: Ipv4Addr,
        /// What was reported (e.g. "Destination Port Unreachable").
        reason: String,
    },
    /// The query could not be sent.
    #[error("could not send the query: {0}")]
    Socket(String),
    /// The server answered with an error RCODE ([`lookup_a`] only).
    #[error("{name}: {rcode}")]
    Failed {
        /// The name asked.
        name: DnsName,
        /// The RCODE (NXDOMAIN, SERVFAIL, …).
        rcode: Rcode,
    },
    /// The name exists but has no IPv4 address ([`lookup_a`] only).
    #[error("{0}: no address (NODATA)")]
    NoAddress(DnsName),
}

/// How to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StubOptions {
    /// Set RD (recursion desired); `dig +norecurse` clears it.
    pub recurse: bool,
    /// Wait per try.
    pub timeout: Duration,
    /// Tries before giving up (at least 1), each with a new ID and port.
    pub tries: usize,
}

impl Default for StubOptions {
    /// dig's defaults: RD set, 5 s per try, 3 tries.
    fn default() -> Self {
        StubOptions {
            recurse: true,
            timeout: Duration::from_secs(5),
            tries: 3,
        }
    }
}

/// A response and how it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubReply {
    /// The response.
    pub message: DnsMessage,
    /// Time from sending the (last) query to the response.
    pub rtt: Duration,
    /// Size of the response on the wire, octets.
    pub size: usize,
    /// Datagrams dropped because they did not match the query.
    pub dropped: u64,
}

/// Asks `server` for `name`/`qtype` once, RD set if `recurse`, waiting up to
/// `timeout`; returns the response and the round-trip time.
pub async fn query<D: NetDevice>(
    handle: &DeviceHandle<D>,
    server: Ipv4Addr,
    name: &DnsName,
    qtype: RecordType,
    recurse: bool,
    timeout: Duration,
) -> Result<(DnsMessage, Duration), StubError> {
    let opts = StubOptions {
        recurse,
        timeout,
        tries: 1,
    };
    let reply = query_with(handle, server, name, qtype, &opts).await?;
    Ok((reply.message, reply.rtt))
}

/// Asks `server` for `name`/`qtype` with `opts` (tries, timeout, RD); the
/// full reply, with its size for dig's `MSG SIZE`.
pub async fn query_with<D: NetDevice>(
    handle: &DeviceHandle<D>,
    server: Ipv4Addr,
    name: &DnsName,
    qtype: RecordType,
    opts: &StubOptions,
) -> Result<StubReply, StubError> {
    let dropped = AtomicU64::new(0);
    let tries = opts.tries.max(1);
    let mut last = StubError::Timeout { server, tries };
    for attempt in 1..=tries {
        let mut q = DnsMessage::query(random_id(), name.clone(), qtype);
        q.header.rd = opts.recurse;
        let to = SocketAddrV4::new(server, PORT);
        let mut result = exchange(handle, to, &q, opts.timeout, &dropped).await;
        if let Ok(e) = &result
            && e.message.header.tc
        {
            // RFC 7766 §5: a truncated answer is asked again over TCP; if
            // that fails, the TC answer is returned as it came.
            q.header.id = random_id();
            if let Ok(full) = crate::tcp::exchange_tcp(handle, to, &q, opts.timeout).await {
                result = Ok(full);
            }
        }
        match result {
            Ok(e) => {
                return Ok(StubReply {
                    message: e.message,
                    rtt: e.rtt,
                    size: e.size,
                    dropped: dropped.load(Ordering::Relaxed),
                });
            }
            Err(UpstreamError::Timeout(_)) => {
                tracing::debug!(server = %server, qname = %name, attempt, "stub query timed out");
                last = StubError::Timeout { server, tries };
            }
            Err(UpstreamError::Unreachable(reason)) => {
                last = StubError::Unreachable { server, reason };
            }
            Err(UpstreamError::Socket(e)) => return Err(StubError::Socket(e)),
        }
    }
    Err(last)
}

/// The IPv4 addresses of `name` (what `gethostbyname` does): asks `server`
/// for A records with recursion, following the CNAMEs of the answer.
pub async fn lookup_a<D: NetDevice>(
    handle: &DeviceHandle<D>,
    server: Ipv4Addr,
    name: &DnsName,
    opts: &StubOptions,
) -> Result<Vec<Ipv4Addr>, StubError> {
    let reply = query_with(handle, server, name, RecordType::A, opts).await?;
    let m = &reply.message;
    if m.header.rcode != Rcode::NoError {
        return Err(StubError::Failed {
            name: name.clone(),
            rcode: m.header.rcode,
        });
    }
    let mut cur = name.clone();
    for _ in 0..=8 {
        let addrs: Vec<Ipv4Addr> = m
            .answers
            .iter()
            .filter(|r| r.name == cur)
            .filter_map(|r| match r.data {
                RecordData::A(a) => Some(a),
                _ => None,
            })
            .collect();
        if !addrs.is_empty() {
            return Ok(addrs);
        }
        let next = m.answers.iter().find_map(|r| match &r.data {
            RecordData::Cname(t) if r.name == cur => Some(t.clone()),
            _ => None,
        });
        match next {
            Some(t) => cur = t,
            None => break,
        }
    }
    Err(StubError::NoAddress(name.clone()))
}
