//! Zone transfers out (AXFR, RFC 5936), over TCP only.
//!
//! * Allowed only for clients inside one of the device's `allow_transfer`
//!   networks (RFC 5936 §6: "Implementations SHOULD provide means to
//!   restrict AXFR"); the default list is empty, so every transfer is
//!   **REFUSED** unless the config allows it. Over UDP an AXFR is refused
//!   as well (§4.2: AXFR is a TCP exchange).
//! * The QNAME must be the origin of a zone the server is authoritative
//!   for (else NOTAUTH, RFC 5936 §2.2.1 / RFC 2136 §2.2, rcode 9).
//! * The answer sections of the messages carry the SOA first, every other
//!   record of the zone (glue included), and the SOA again last (§2.2).
//!   Records are packed into messages of at most [`TRANSFER_MESSAGE_LEN`]
//!   octets; the question is in the first message only (§2.2.1), and so
//!   is the OPT when the query had one.

use crate::edns::QueryEdns;
use crate::zone::Zone;
use std::net::Ipv4Addr;
use vnet_wire::dns::{DnsMessage, Rcode, Record, RecordType};
use vnet_wire::ip::Ipv4Cidr;

/// Octets of one transfer message, below the 65535 a TCP frame allows.
pub const TRANSFER_MESSAGE_LEN: usize = 16_384;
/// RCODE 9, NOTAUTH: the server is not authoritative for the zone
/// (RFC 2136 §2.2, used for AXFR by RFC 5936 §2.2.1).
pub const NOTAUTH: u8 = 9;

/// Whether `client` may transfer zones from a server allowing `allowed`.
pub fn allowed(allowed: &[Ipv4Cidr], client: Ipv4Addr) -> bool {
    allowed.iter().any(|net| net.contains(client))
}

/// Whether `query` asks for a zone transfer.
pub fn is_axfr(query: &DnsMessage) -> bool {
    query
        .questions
        .first()
        .is_some_and(|q| q.qtype == RecordType::Unknown(252))
}

/// The response messages to an AXFR `query` from `client` over TCP; an
/// error response (REFUSED, NOTAUTH) is a single message.
pub fn transfer(
    zones: &[Zone],
    allow: &[Ipv4Cidr],
    client: Ipv4Addr,
    query: &DnsMessage,
    edns: &QueryEdns,
) -> Result<Vec<DnsMessage>, DnsMessage> {
    let fail = |rcode: Rcode| {
        let mut resp = DnsMessage::response_to(query);
        resp.header.rcode = rcode;
        edns.finish(&mut resp);
        resp
    };
    let Some(question) = query.questions.first() else {
        return Err(fail(Rcode::FormErr));
    };
    if !allowed(allow, client) {
        return Err(fail(Rcode::Refused));
    }
    let Some(zone) = zones.iter().find(|z| z.origin() == &question.name) else {
        return Err(fail(Rcode::Unknown(NOTAUTH)));
    };
    let soa = zone.soa().clone();
    let mut records: Vec<Record> = vec![soa.clone()];
    records.extend(
        zone.records()
            .filter(|r| r.rtype() != RecordType::Soa)
            .cloned(),
    );
    records.push(soa);
    Ok(pack(query, records, edns))
}

/// Packs `records` into messages of at most [`TRANSFER_MESSAGE_LEN`].
fn pack(query: &DnsMessage, records: Vec<Record>, edns: &QueryEdns) -> Vec<DnsMessage> {
    let start = |first: bool| {
        let mut m = DnsMessage::response_to(query);
        m.header.aa = true;
        m.header.ra = false;
        if !first {
            m.questions.clear();
        } else {
            edns.finish(&mut m);
        }
        m
    };
    let mut out = Vec::new();
    let mut current = start(true);
    let mut size = current.emit(usize::MAX).len();
    for r in records {
        let one = DnsMessage {
            answers: vec![r.clone()],
            ..DnsMessage::default()
        };
        // Uncompressed size: an upper bound on what the record adds.
        let len = one.emit(usize::MAX).len() - vnet_wire::dns::HEADER_LEN;
        if size + len > TRANSFER_MESSAGE_LEN && !current.answers.is_empty() {
            out.push(std::mem::replace(&mut current, start(false)));
            size = current.emit(usize::MAX).len();
        }
        size += len;
        current.answers.push(r);
    }
    out.push(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_wire::dns::{DnsName, Edns};

    fn zone() -> Zone {
        let mut text = String::from(
            "$ORIGIN example.com.\n$TTL 300\n@ IN SOA ns admin 1 2 3 4 5\n@ IN NS ns\nns IN A 10.0.3.22\n",
        );
        for i in 0..2000 {
            text.push_str(&format!("h{i} IN A 10.1.{}.{}\n", i / 250, i % 250));
        }
        Zone::parse("example.com.zone", &text).expect("zone")
    }

    fn axfr_query(name: &str) -> DnsMessage {
        let n: DnsName = name.parse().expect("name");
        DnsMessage::query(5, n, RecordType::Unknown(252))
    }

    #[test]
    fn soa_first_and_last_every_record_once() {
        let z = [zone()];
        let allow: Vec<Ipv4Cidr> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let q = axfr_query("example.com");
        let mut with_opt = q.clone();
        with_opt.set_edns(Some(&Edns::default()));
        let edns = QueryEdns::Present(Edns::default());
        let msgs =
            transfer(&z, &allow, Ipv4Addr::new(10, 0, 3, 99), &with_opt, &edns).expect("allowed");
        assert!(msgs.len() > 1, "2000 records take several messages");
        let all: Vec<&Record> = msgs.iter().flat_map(|m| &m.answers).collect();
        assert_eq!(all.len(), 2003 + 1);
        assert_eq!(all[0].rtype(), RecordType::Soa);
        assert_eq!(all[all.len() - 1].rtype(), RecordType::Soa);
        assert_eq!(msgs[0].questions.len(), 1);
        assert!(msgs[1].questions.is_empty());
        assert!(msgs[0].edns().expect("ok").is_some());
        for m in &msgs {
            assert!(m.emit(usize::MAX).len() <= TRANSFER_MESSAGE_LEN);
            assert!(m.header.aa);
        }
    }

    #[test]
    fn refused_outside_the_list_and_notauth_for_other_zones() {
        let z = [zone()];
        let allow: Vec<Ipv4Cidr> = vec!["10.0.3.0/24".parse().expect("cidr")];
        let q = axfr_query("example.com");
        let e = QueryEdns::Absent;
        let r = transfer(&z, &allow, Ipv4Addr::new(10, 0, 1, 100), &q, &e).expect_err("refused");
        assert_eq!(r.header.rcode, Rcode::Refused);
        let r = transfer(&z, &[], Ipv4Addr::new(10, 0, 3, 99), &q, &e).expect_err("default");
        assert_eq!(r.header.rcode, Rcode::Refused);
        let other = axfr_query("www.example.com");
        let r = transfer(&z, &allow, Ipv4Addr::new(10, 0, 3, 99), &other, &e).expect_err("no");
        assert_eq!(r.header.rcode, Rcode::Unknown(NOTAUTH));
        assert!(is_axfr(&q) && !is_axfr(&DnsMessage::default()));
    }
}
