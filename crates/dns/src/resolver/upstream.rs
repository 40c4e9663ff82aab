//! The resolver's view of the network: the [`Upstream`] trait it sends
//! iterative queries through (RFC 1034 §5.3.3 step 3), what can go wrong
//! ([`UpstreamError`]), and the record of each query made
//! ([`UpstreamQuery`], [`Outcome`]).

use std::fmt;
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use vnet_wire::dns::{DnsMessage, DnsName, Question, Rcode, RecordType};

/// Why an upstream query got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// No matching response within the timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The server or the path to it reported an error (ICMP unreachable, no
    /// route, ARP failure).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The query could not be sent (no socket, no port).
    #[error("could not send: {0}")]
    Socket(String),
}

/// Sends one iterative query (RD clear) to a server and returns its
/// response, already matched to the query (ID, source, question).
pub trait Upstream: Send + Sync {
    /// Asks `server` (port 53) `question`.
    fn query(
        &self,
        server: Ipv4Addr,
        question: &Question,
    ) -> impl Future<Output = Result<DnsMessage, UpstreamError>> + Send;
}

impl<U: Upstream> Upstream for Arc<U> {
    fn query(
        &self,
        server: Ipv4Addr,
        question: &Question,
    ) -> impl Future<Output = Result<DnsMessage, UpstreamError>> + Send {
        (**self).query(server, question)
    }
}

/// What happened to one upstream query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An authoritative answer with data (or a CNAME to follow).
    Answer,
    /// A referral to this child zone.
    Referral(DnsName),
    /// Authoritative NXDOMAIN.
    NxDomain,
    /// Authoritative NODATA.
    NoData,
    /// Not authoritative and no useful referral.
    Lame(String),
    /// RCODE SERVFAIL.
    ServFail,
    /// RCODE REFUSED.
    Refused,
    /// Still truncated (TC) after the retry over TCP failed: not used.
    Truncated,
    /// Another error RCODE.
    Rcode(Rcode),
    /// No response in time.
    Timeout,
    /// Unreachable or not sent.
    Error(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Answer => f.write_str("answer"),
            Outcome::Referral(z) => write!(f, "referral to {z}"),
            Outcome::NxDomain => f.write_str("NXDOMAIN"),
            Outcome::NoData => f.write_str("NODATA"),
            Outcome::Lame(why) => write!(f, "lame ({why})"),
            Outcome::ServFail => f.write_str("SERVFAIL"),
            Outcome::Refused => f.write_str("REFUSED"),
            Outcome::Truncated => f.write_str("truncated (TC) and no answer over TCP"),
            Outcome::Rcode(r) => write!(f, "{r}"),
            Outcome::Timeout => f.write_str("timeout"),
            Outcome::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// One query the resolver sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamQuery {
    /// The server asked.
    pub server: Ipv4Addr,
    /// The zone it was asked as a server of (`.` for the root).
    pub zone: DnsName,
    /// QNAME.
    pub qname: DnsName,
    /// QTYPE.
    pub qtype: RecordType,
    /// What came of it.
    pub outcome: Outcome,
}

impl fmt::Display for UpstreamQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) {} {}: {}",
            self.server, self.zone, self.qname, self.qtype, self.outcome
        )
    }
}
