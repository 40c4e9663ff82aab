//! EDNS(0) on vnet's DNS servers (RFC 6891) and how big a UDP response may
//! be (RFC 1035 §4.2.1, RFC 6891 §6.2.5, RFC 2181 §9).
//!
//! * A query **with** an OPT record gets one back, advertising
//!   [`SERVER_PAYLOAD`]; a query without gets none (§7: "the responder
//!   MUST NOT include an OPT RR" then).
//! * A version other than 0 is answered **BADVERS** (extended RCODE 16,
//!   §6.1.3), header only; two OPT records or a malformed one, FORMERR.
//! * Options are ignored, whatever their code: a DNS cookie (RFC 7873 §5.2)
//!   from a client is not echoed, as a server without cookie support does.
//! * The UDP limit is 512 octets without EDNS, else the client's payload
//!   size (at least 512) capped at [`MAX_UDP_RESPONSE`]. Over TCP the limit
//!   is the 16-bit frame ([`MAX_TCP_MESSAGE`]).
//! * [`emit_udp`] truncates whole RRsets: the answer section is cut back to
//!   the last complete RRset and TC set (RFC 2181 §9); when only
//!   additional data does not fit, it is left out without TC.

use crate::counters::{DnsCounters, bump};
use vnet_wire::dns::{
    BADVERS_EXTENDED, DnsMessage, EDNS_VERSION, Edns, MAX_TCP_MESSAGE, MAX_UDP_LEN, Rcode,
    RecordType,
};

/// The payload size vnet's servers and clients advertise: 1232 octets,
/// the DNS Flag Day 2020 value, which fits a 1280-octet path without IP
/// fragmentation.
pub const SERVER_PAYLOAD: u16 = 1232;
/// The largest UDP response sent, whatever the client advertises.
pub const MAX_UDP_RESPONSE: usize = SERVER_PAYLOAD as usize;

/// What the query's OPT record means for the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryEdns {
    /// No OPT: plain RFC 1035, 512-octet UDP answers, no OPT back.
    Absent,
    /// EDNS version 0: answer with an OPT; the client's values.
    Present(Edns),
}

impl QueryEdns {
    /// Reads the query's OPT; `Err` is the complete response when the query
    /// must be refused (FORMERR for a bad OPT, BADVERS for a version ≠ 0),
    /// counted.
    pub fn of(query: &DnsMessage, counters: &DnsCounters) -> Result<QueryEdns, DnsMessage> {
        match query.edns() {
            Ok(None) => Ok(QueryEdns::Absent),
            Ok(Some(e)) if e.version == EDNS_VERSION => {
                bump(&counters.edns_queries);
                Ok(QueryEdns::Present(e))
            }
            Ok(Some(_)) => {
                bump(&counters.edns_queries);
                bump(&counters.badvers);
                let mut resp = DnsMessage::response_to(query);
                resp.header.rcode = Rcode::NoError;
                let opt = Edns {
                    extended_rcode: BADVERS_EXTENDED,
                    ..server_edns()
                };
                resp.set_edns(Some(&opt));
                Err(resp)
            }
            Err(_) => {
                let mut resp = DnsMessage::response_to(query);
                resp.header.rcode = Rcode::FormErr;
                Err(resp)
            }
        }
    }

    /// The largest UDP response this client takes.
    pub fn udp_limit(&self) -> usize {
        match self {
            QueryEdns::Absent => MAX_UDP_LEN,
            QueryEdns::Present(e) => e.response_limit(MAX_UDP_RESPONSE),
        }
    }

    /// Adds the server's OPT to `resp` when the query had one (and removes
    /// any otherwise).
    pub fn finish(&self, resp: &mut DnsMessage) {
        match self {
            QueryEdns::Absent => resp.set_edns(None),
            QueryEdns::Present(_) => resp.set_edns(Some(&server_edns())),
        }
    }
}

/// The OPT vnet sends: version 0, [`SERVER_PAYLOAD`], no flags or options.
pub fn server_edns() -> Edns {
    Edns::with_payload_size(SERVER_PAYLOAD)
}

/// Encodes `resp` in at most `limit` octets, truncating at RRset
/// boundaries (see the module docs); returns the bytes and whether TC was
/// set because of the limit.
pub fn emit_udp(resp: &DnsMessage, limit: usize) -> (Vec<u8>, bool) {
    let bytes = resp.emit(limit);
    let tc = bytes.get(2).is_some_and(|b| b & 0x02 != 0);
    if !tc || resp.header.tc {
        return (bytes, false);
    }
    let count = |at: usize| usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
    let (answers, authorities) = (count(6), count(8));
    let is_opt = |r: &vnet_wire::dns::Record| r.rtype() == RecordType::Opt;
    if answers == resp.answers.len() && authorities == resp.authorities.len() {
        // Only additional data was cut: leave it out, no TC (RFC 2181 §9).
        let mut trimmed = resp.clone();
        let opts = resp.additionals.iter().filter(|r| is_opt(r)).count();
        let fitted = count(10).saturating_sub(opts);
        let mut kept = 0;
        trimmed.additionals.retain(|r| {
            if is_opt(r) {
                return true;
            }
            kept += 1;
            kept <= fitted
        });
        let bytes = trimmed.emit(limit);
        if bytes.get(2).is_some_and(|b| b & 0x02 == 0) {
            return (bytes, false);
        }
    }
    let keep = rrset_boundary(resp, answers);
    let mut cut = resp.clone();
    cut.answers.truncate(keep);
    cut.authorities.clear();
    cut.additionals.retain(is_opt);
    cut.header.tc = true;
    (cut.emit(limit), true)
}

/// The largest `k <= n` at which the answer section can be cut without
/// splitting an RRset (same owner and type).
fn rrset_boundary(resp: &DnsMessage, n: usize) -> usize {
    let a = &resp.answers;
    let mut k = n.min(a.len());
    while k > 0 && k < a.len() && a[k - 1].name == a[k].name && a[k - 1].rtype() == a[k].rtype() {
        k -= 1;
    }
    k
}

/// The limit for a response over TCP: a whole 16-bit frame.
pub const TCP_LIMIT: usize = MAX_TCP_MESSAGE;

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use vnet_wire::dns::{DnsName, Record, RecordData};

    fn txt_response(n: usize) -> DnsMessage {
        let name: DnsName = "big.example.com".parse().expect("name");
        let q = DnsMessage::query(1, name.clone(), RecordType::Txt);
        let mut r = DnsMessage::response_to(&q);
        r.answers.push(Record::new(
            "a.example.com".parse().expect("name"),
            300,
            RecordData::A(Ipv4Addr::new(10, 0, 0, 1)),
        ));
        for i in 0..n {
            r.answers.push(Record::new(
                name.clone(),
                300,
                RecordData::Txt(vec![
                    format!("record {i:02} {}", "x".repeat(40)).into_bytes(),
                ]),
            ));
        }
        r
    }

    #[test]
    fn truncation_keeps_whole_rrsets_and_the_opt() {
        let mut r = txt_response(30);
        QueryEdns::Present(Edns::default()).finish(&mut r);
        let (b, tc) = emit_udp(&r, 512);
        assert!(tc && b.len() <= 512);
        let p = DnsMessage::parse(&b).expect("parses");
        assert!(p.header.tc);
        assert_eq!(p.answers.len(), 1, "the TXT RRset is left out whole");
        assert_eq!(p.edns().expect("one OPT").expect("OPT"), server_edns());
        let (b, tc) = emit_udp(&r, 4096);
        assert!(!tc);
        assert_eq!(DnsMessage::parse(&b).expect("parses").answers.len(), 31);
    }

    #[test]
    fn additional_data_is_dropped_without_tc() {
        let mut r = txt_response(5);
        for i in 0..40 {
            r.additionals.push(Record::new(
                format!("glue{i}.example.com").parse().expect("name"),
                300,
                RecordData::A(Ipv4Addr::new(10, 0, 0, i)),
            ));
        }
        let (b, tc) = emit_udp(&r, 512);
        let p = DnsMessage::parse(&b).expect("parses");
        assert!(!tc && !p.header.tc);
        assert_eq!(p.answers.len(), 6);
        assert!(p.additionals.len() < 40);
    }

    #[test]
    fn badvers_and_limits() {
        let counters = DnsCounters::default();
        let mut q = DnsMessage::query(9, "x.example".parse().expect("name"), RecordType::A);
        assert_eq!(QueryEdns::of(&q, &counters), Ok(QueryEdns::Absent));
        assert_eq!(QueryEdns::Absent.udp_limit(), 512);
        q.set_edns(Some(&Edns::with_payload_size(4096)));
        let e = QueryEdns::of(&q, &counters).expect("version 0");
        assert_eq!(e.udp_limit(), 1232);
        q.set_edns(Some(&Edns {
            version: 1,
            ..Edns::default()
        }));
        let resp = QueryEdns::of(&q, &counters).expect_err("BADVERS");
        assert_eq!(resp.full_rcode(), 16);
        assert_eq!(counters.snapshot().badvers, 1);
    }
}
