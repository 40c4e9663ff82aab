//! DNS counters of a server, shown by `vnet status` next to the stack's.
//!
//! Atomics, so the server loop, resolver tasks and the admin API (under the
//! device lock) update and read them without sharing a lock.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use vnet_wire::dns::Rcode;

/// Live counters.
#[derive(Debug, Default)]
pub struct DnsCounters {
    /// Queries received on port 53 (well-formed or not).
    pub queries: AtomicU64,
    /// Datagrams on port 53 that were not DNS queries (too short, a
    /// response, unparsable), dropped or answered FORMERR.
    pub malformed: AtomicU64,
    /// Responses sent, by RCODE.
    pub responses_noerror: AtomicU64,
    /// NXDOMAIN responses sent.
    pub responses_nxdomain: AtomicU64,
    /// SERVFAIL responses sent.
    pub responses_servfail: AtomicU64,
    /// REFUSED responses sent.
    pub responses_refused: AtomicU64,
    /// FORMERR responses sent.
    pub responses_formerr: AtomicU64,
    /// NOTIMP and any other RCODE sent.
    pub responses_other: AtomicU64,
    /// UDP responses that did not fit the client's limit (512 octets, or
    /// its EDNS payload size) and went out with TC set (RFC 1035 §4.2.1).
    pub truncated: AtomicU64,
    /// Resolver queries refused because too many were in flight.
    pub overloaded: AtomicU64,
    /// Queries this resolver sent upstream (each attempt counts).
    pub upstream_queries: AtomicU64,
    /// Resolutions answered entirely from the cache.
    pub cache_hits: AtomicU64,
    /// Resolutions that needed at least one upstream query (or failed).
    pub cache_misses: AtomicU64,
    /// Resolutions that ended in NXDOMAIN.
    pub nxdomain: AtomicU64,
    /// Resolutions that ended in SERVFAIL.
    pub servfail: AtomicU64,
    /// Upstream answers dropped because their ID, source or question did not
    /// match the query (spoofing attempts or late duplicates).
    pub spoofed_dropped: AtomicU64,
    /// TCP connections accepted on port 53 (RFC 7766).
    pub tcp_connections: AtomicU64,
    /// TCP connections reset at once: the total or per-client limit was reached.
    pub tcp_refused: AtomicU64,
    /// TCP connections closed after the idle timeout.
    pub tcp_idle_closed: AtomicU64,
    /// Queries received over TCP (each pipelined query counts).
    pub tcp_queries: AtomicU64,
    /// TCP connections closed for a frame over the limit or cut mid-frame.
    pub tcp_bad_frames: AtomicU64,
    /// Queries carrying an EDNS OPT record (RFC 6891).
    pub edns_queries: AtomicU64,
    /// Queries answered BADVERS: an EDNS version other than 0.
    pub badvers: AtomicU64,
    /// Zone transfers (AXFR, RFC 5936) sent.
    pub axfr_served: AtomicU64,
    /// Zone transfers refused (not over TCP, or the client is not in allow_transfer).
    pub axfr_refused: AtomicU64,
    /// Upstream answers that came truncated (TC) and were asked again over TCP.
    pub upstream_tcp_retries: AtomicU64,
    /// TCP retries that failed: the truncated answer was not used.
    pub upstream_tcp_failures: AtomicU64,
}

/// A point-in-time copy of [`DnsCounters`], as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct CountersSnapshot {
    pub queries: u64,
    pub malformed: u64,
    pub responses_noerror: u64,
    pub responses_nxdomain: u64,
    pub responses_servfail: u64,
    pub responses_refused: u64,
    pub responses_formerr: u64,
    pub responses_other: u64,
    pub truncated: u64,
    pub overloaded: u64,
    pub upstream_queries: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub nxdomain: u64,
    pub servfail: u64,
    pub spoofed_dropped: u64,
    pub tcp_connections: u64,
    pub tcp_refused: u64,
    pub tcp_idle_closed: u64,
    pub tcp_queries: u64,
    pub tcp_bad_frames: u64,
    pub edns_queries: u64,
    pub badvers: u64,
    pub axfr_served: u64,
    pub axfr_refused: u64,
    pub upstream_tcp_retries: u64,
    pub upstream_tcp_failures: u64,
}

/// Adds one to a counter.
pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl DnsCounters {
    /// Counts one response sent with `rcode`.
    pub fn response(&self, rcode: Rcode) {
        bump(match rcode {
            Rcode::NoError => &self.responses_noerror,
            Rcode::NxDomain => &self.responses_nxdomain,
            Rcode::ServFail => &self.responses_servfail,
            Rcode::Refused => &self.responses_refused,
            Rcode::FormErr => &self.responses_formerr,
            _ => &self.responses_other,
        });
    }

    /// The current values.
    pub fn snapshot(&self) -> CountersSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CountersSnapshot {
            queries: g(&self.queries),
            malformed: g(&self.malformed),
            responses_noerror: g(&self.responses_noerror),
            responses_nxdomain: g(&self.responses_nxdomain),
            responses_servfail: g(&self.responses_servfail),
            responses_refused: g(&self.responses_refused),
            responses_formerr: g(&self.responses_formerr),
            responses_other: g(&self.responses_other),
            truncated: g(&self.truncated),
            overloaded: g(&self.overloaded),
            upstream_queries: g(&self.upstream_queries),
            cache_hits: g(&self.cache_hits),
            cache_misses: g(&self.cache_misses),
            nxdomain: g(&self.nxdomain),
            servfail: g(&self.servfail),
            spoofed_dropped: g(&self.spoofed_dropped),
            tcp_connections: g(&self.tcp_connections),
            tcp_refused: g(&self.tcp_refused),
            tcp_idle_closed: g(&self.tcp_idle_closed),
            tcp_queries: g(&self.tcp_queries),
            tcp_bad_frames: g(&self.tcp_bad_frames),
            edns_queries: g(&self.edns_queries),
            badvers: g(&self.badvers),
            axfr_served: g(&self.axfr_served),
            axfr_refused: g(&self.axfr_refused),
            upstream_tcp_retries: g(&self.upstream_tcp_retries),
            upstream_tcp_failures: g(&self.upstream_tcp_failures),
        }
    }
}
