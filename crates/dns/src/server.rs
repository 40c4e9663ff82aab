//! The port-53 service of a DNS device (RFC 1035 §4.2.1, UDP).
//!
//! One loop receives queries. Authoritative answers (and anything a
//! resolver can answer at once: its own zones, RD-clear queries from the
//! cache, errors) are sent straight from the loop. A resolver query with RD
//! set is resolved in its own task, at most [`MAX_IN_FLIGHT`] at a time;
//! beyond that the query is answered SERVFAIL at once and counted as
//! `overloaded` (a client retries; silence would cost it a timeout).
//!
//! * A datagram that is a response (QR set) is never answered, so two
//!   servers cannot ping-pong; one that does not parse is answered FORMERR
//!   if its header is readable (RFC 1035 §4.1.1), else dropped.
//! * UDP responses are limited to 512 octets, or to the client's EDNS
//!   payload size ([`crate::edns`]); longer ones are cut at an RRset
//!   boundary with TC set (RFC 1035 §4.2.1, RFC 2181 §9) and counted as
//!   `truncated`. The client then asks again over TCP
//!   ([`crate::tcp_server`], started next to the UDP loop). An AXFR over
//!   UDP is REFUSED: transfers are TCP only.
//! * A resolver answers with RA set (RFC 1035 §4.1.1); a query with RD clear
//!   is answered from the cache only, like `dig +norecurse` against BIND.

use crate::counters::{DnsCounters, bump};
use crate::edns::{QueryEdns, emit_udp};
use crate::resolver::{Resolution, Resolver, ResolverConfig, Upstream};
use crate::transport::{DEFAULT_TIMEOUT, UdpUpstream};
use crate::{DnsServer, DnsState};
use std::net::SocketAddrV4;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tracing::Instrument;
use vnet_runtime::net::UdpSocket;
use vnet_runtime::{DeviceHandle, DnsRole, ExecFuture};
use vnet_stack::SendOptions;
use vnet_wire::dns::{DnsHeader, DnsMessage, HEADER_LEN, Opcode, PORT, Rcode, RecordClass};

/// Most resolutions in flight at once. Each holds one upstream UDP socket
/// while it waits, and the stack allows 256 sockets in all.
pub const MAX_IN_FLIGHT: usize = 128;

/// The resolver type a DNS device runs.
pub type DeviceResolver = Resolver<UdpUpstream<DnsServer>>;

/// The device's start hook: runs [`serve`] until the device stops.
pub fn start(handle: DeviceHandle<DnsServer>) -> ExecFuture {
    Box::pin(async move {
        match serve(handle).await {
            Ok(()) => 0,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "DNS service stopped");
                1
            }
        }
    })
}

/// Binds UDP port 53 and answers queries until the device stops.
pub async fn serve(handle: DeviceHandle<DnsServer>) -> anyhow::Result<()> {
    let state = handle.with(|dev, _, _| Arc::clone(dev.dns()));
    let socket = UdpSocket::bind(&handle, PORT)
        .map_err(|e| anyhow::anyhow!("binding UDP port {PORT}: {e}"))?;
    let socket = Arc::new(socket);
    let resolver =
        (state.role == DnsRole::Resolver).then(|| Arc::new(device_resolver(&handle, &state)));
    let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    vnet_telemetry::spawn({
        let (handle, state, resolver) = (handle.clone(), Arc::clone(&state), resolver.clone());
        async move {
            if let Err(e) = crate::tcp_server::serve_tcp(handle, state, resolver).await {
                tracing::error!(error = %format!("{e:#}"), "DNS/TCP service stopped");
            }
        }
    });
    tracing::info!(
        role = ?state.role,
        zones = state.authority.zones().len(),
        root_hints = state.root_hints.len(),
        "DNS service listening on UDP port 53"
    );
    loop {
        let (from, payload, trace) = socket.recv_from_traced().await;
        bump(&state.counters.queries);
        let Some(query) = parse_query(&state.counters, &payload) else {
            if let Some(formerr) = formerr_for(&payload) {
                send(&socket, &state.counters, from, formerr, None);
            }
            continue;
        };
        if let Some(q) = query.questions.first() {
            tracing::debug!(client = %from, id = query.header.id, qname = %q.name, qtype = %q.qtype, rd = query.header.rd, "query");
        }
        let edns = match QueryEdns::of(&query, &state.counters) {
            Ok(e) => e,
            Err(resp) => {
                // BADVERS / FORMERR, OPT (if any) already in place.
                send(&socket, &state.counters, from, resp, None);
                continue;
            }
        };
        if crate::axfr::is_axfr(&query) {
            bump(&state.counters.axfr_refused);
            let mut resp = DnsMessage::response_to(&query);
            resp.header.rcode = Rcode::Refused;
            send(&socket, &state.counters, from, resp, Some(&edns));
            continue;
        }
        // The query's span on this server, child of the frame that carried it.
        let span =
            vnet_telemetry::continue_remote(trace, || query_span(&query, from, resolver.is_some()));
        match span.in_scope(|| immediate_answer(&state, resolver.as_deref(), &query)) {
            Some(resp) => {
                span.record(
                    "dns.source",
                    if resolver.is_some() {
                        "own zone or cache"
                    } else {
                        "authoritative"
                    },
                );
                span.record("dns.rcode", tracing::field::display(resp.header.rcode));
                span.in_scope(|| send(&socket, &state.counters, from, resp, Some(&edns)));
            }
            None => {
                let Some(resolver) = resolver.clone() else {
                    continue;
                };
                let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
                    bump(&state.counters.overloaded);
                    tracing::warn!(client = %from, in_flight = MAX_IN_FLIGHT, "too many resolutions in flight: SERVFAIL");
                    let mut resp = DnsMessage::response_to(&query);
                    resp.header.ra = true;
                    resp.header.rcode = Rcode::ServFail;
                    send(&socket, &state.counters, from, resp, Some(&edns));
                    continue;
                };
                let socket = Arc::clone(&socket);
                let counters = Arc::clone(&state.counters);
                let task_span = span.clone();
                vnet_telemetry::spawn(
                    async move {
                        let _permit = permit;
                        let Some(question) = query.questions.first() else {
                            return;
                        };
                        let resolution = resolver.resolve(question).await;
                        let span = tracing::Span::current();
                        span.record(
                            "dns.source",
                            if resolution.from_cache() {
                                "cache hit"
                            } else {
                                "recursion"
                            },
                        );
                        span.record("dns.upstream_queries", resolution.upstream.len());
                        span.record("dns.rcode", tracing::field::display(resolution.rcode));
                        let resp = response_from(&query, &resolution);
                        send(&socket, &counters, from, resp, Some(&edns));
                    }
                    .instrument(task_span),
                );
            }
        }
    }
}

/// The span of one query on this server (`dns.source` tells a cache hit
/// from a recursion on a resolver).
fn query_span(query: &DnsMessage, from: SocketAddrV4, resolver: bool) -> tracing::Span {
    let question = query
        .questions
        .first()
        .map(|q| format!("{} {}", q.name, q.qtype))
        .unwrap_or_else(|| "(no question)".into());
    vnet_telemetry::app_span!(
        "dns.query",
        proto = "dns",
        layer = "L7",
        summary = format!(
            "{} query {question} from {from}",
            if resolver { "recursive" } else { "authoritative" }
        ),
        dns.question = %question,
        dns.client = %from,
        dns.source = tracing::field::Empty,
        dns.upstream_queries = tracing::field::Empty,
        dns.rcode = tracing::field::Empty,
    )
}

/// The device's resolver: UDP upstream with the default timeout, the
/// device's cache and counters, the stack clock.
fn device_resolver(handle: &DeviceHandle<DnsServer>, state: &DnsState) -> DeviceResolver {
    let clock_handle = handle.clone();
    let config = ResolverConfig {
        root_hints: state.root_hints.clone(),
        ..ResolverConfig::default()
    };
    Resolver::new(
        UdpUpstream::new(handle.clone(), DEFAULT_TIMEOUT, Arc::clone(&state.counters)),
        Arc::clone(&state.cache),
        Arc::clone(&state.counters),
        config,
        Arc::new(move || clock_handle.now()),
    )
}

/// Parses a datagram sent to port 53 as a query; `None` (counted as
/// malformed) for garbage and for responses.
fn parse_query(counters: &DnsCounters, payload: &[u8]) -> Option<DnsMessage> {
    match DnsMessage::parse(payload) {
        Ok(m) if !m.header.qr => Some(m),
        Ok(_) => {
            bump(&counters.malformed);
            None
        }
        Err(e) => {
            bump(&counters.malformed);
            tracing::debug!(error = %e, len = payload.len(), "malformed query");
            None
        }
    }
}

/// FORMERR, header only, for an unparsable query whose header is readable
/// and is not a response (RFC 1035 §4.1.1).
pub(crate) fn formerr_for(payload: &[u8]) -> Option<DnsMessage> {
    let head = payload.get(..HEADER_LEN)?;
    if head[2] & 0x80 != 0 {
        return None;
    }
    Some(DnsMessage {
        header: DnsHeader {
            id: u16::from_be_bytes([head[0], head[1]]),
            qr: true,
            opcode: Opcode::from(head[2] >> 3),
            rd: head[2] & 0x01 != 0,
            rcode: Rcode::FormErr,
            ..DnsHeader::default()
        },
        ..DnsMessage::default()
    })
}

/// The response when no resolution is needed; `None` when the query must
/// be resolved (a resolver, RD set, a name outside its own zones).
pub fn immediate_answer<U: Upstream>(
    state: &DnsState,
    resolver: Option<&Resolver<U>>,
    query: &DnsMessage,
) -> Option<DnsMessage> {
    let recursive = resolver.is_some();
    let question = match query.questions.as_slice() {
        [q] if query.header.opcode == Opcode::Query => q,
        // FORMERR / NOTIMP, built by the authority.
        _ => return Some(with_ra(state.authority.answer(query), recursive)),
    };
    let Some(resolver) = resolver else {
        return Some(state.authority.answer(query));
    };
    if state.authority.zone_for(&question.name).is_some() {
        return Some(with_ra(state.authority.answer(query), true));
    }
    if !matches!(question.qclass, RecordClass::In) {
        let mut resp = DnsMessage::response_to(query);
        resp.header.ra = true;
        resp.header.rcode = Rcode::Refused;
        return Some(resp);
    }
    if !query.header.rd {
        return Some(response_from(query, &resolver.lookup_cached(question)));
    }
    None
}

fn with_ra(mut resp: DnsMessage, ra: bool) -> DnsMessage {
    resp.header.ra = ra;
    resp
}

/// A resolver's response to `query` from a [`Resolution`]: RA set, AA clear.
pub fn response_from(query: &DnsMessage, r: &Resolution) -> DnsMessage {
    let mut resp = DnsMessage::response_to(query);
    resp.header.ra = true;
    resp.header.rcode = r.rcode;
    resp.answers = r.answers.clone();
    resp.authorities = r.authorities.clone();
    resp.additionals = r.additionals.clone();
    resp
}

/// The complete response to a query (over UDP or TCP), resolving when
/// needed; without the OPT, which the transport adds.
pub async fn respond<U: Upstream>(
    state: &DnsState,
    resolver: Option<&Resolver<U>>,
    query: &DnsMessage,
) -> DnsMessage {
    if let Some(resp) = immediate_answer(state, resolver, query) {
        return resp;
    }
    match (resolver, query.questions.first()) {
        (Some(resolver), Some(question)) => response_from(query, &resolver.resolve(question).await),
        _ => state.authority.answer(query),
    }
}

/// Sends a response within the client's UDP limit (512 octets, or its
/// EDNS payload size), with an OPT when the query had one (`edns`; `None`
/// sends `resp` as built, within 512 octets); counts it.
fn send(
    socket: &UdpSocket<DnsServer>,
    counters: &DnsCounters,
    to: SocketAddrV4,
    mut resp: DnsMessage,
    edns: Option<&QueryEdns>,
) {
    let limit = match edns {
        Some(e) => {
            e.finish(&mut resp);
            e.udp_limit()
        }
        None => vnet_wire::dns::MAX_UDP_LEN,
    };
    let (bytes, truncated) = emit_udp(&resp, limit);
    if truncated {
        bump(&counters.truncated);
    }
    counters.response(resp.header.rcode);
    if let Err(e) = socket.send_to(to, &bytes, SendOptions::default()) {
        tracing::warn!(client = %to, error = %e, "could not send a DNS response");
    }
    tracing::debug!(
        client = %to,
        id = resp.header.id,
        rcode = %resp.header.rcode,
        answers = resp.answers.len(),
        len = bytes.len(),
        "response"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formerr_echoes_the_id_and_never_answers_responses() {
        let mut junk = vec![0xab, 0xcd, 0x01, 0x00, 0, 9, 0, 0, 0, 0, 0, 0];
        junk.extend_from_slice(b"garbage");
        let f = formerr_for(&junk).expect("formerr");
        assert_eq!(
            (f.header.id, f.header.qr, f.header.rd, f.header.rcode),
            (0xabcd, true, true, Rcode::FormErr)
        );
        assert!(f.questions.is_empty());
        junk[2] |= 0x80;
        assert_eq!(formerr_for(&junk), None, "a response is never answered");
        assert_eq!(formerr_for(&[1, 2, 3]), None, "no header, no answer");
        let counters = DnsCounters::default();
        assert!(parse_query(&counters, &junk).is_none());
        let q = DnsMessage::query(1, "x".parse().expect("name"), vnet_wire::dns::RecordType::A);
        assert!(parse_query(&counters, &q.emit(512)).is_some());
        assert_eq!(counters.snapshot().malformed, 1);
    }
}
