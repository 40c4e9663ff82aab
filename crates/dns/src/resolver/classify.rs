//! What an upstream response means to an iterating resolver (RFC 1034
//! §5.3.3 step 4; RFC 2308 §2 for negative answers; RFC 2181 §5.4.1 for
//! what may be believed).
//!
//! Only data **in bailiwick** is used: records whose owner lies inside the
//! zone the server was asked about (`zone`), so a server for `example.com`
//! cannot plant addresses for `bank.test` in the cache.

use vnet_wire::dns::{DnsMessage, DnsName, Rcode, Record, RecordData, RecordType};

/// Longest CNAME chain followed inside one response.
const MAX_CHAIN: usize = 8;

/// A usable response, or why the server is no good for this question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Classified {
    /// An authoritative answer: `records` (CNAMEs then the data); when the
    /// chain leaves the server's data, `next` is the name to resolve next.
    Answer {
        records: Vec<Record>,
        next: Option<DnsName>,
    },
    /// Authoritative NXDOMAIN for `name` (the end of `chain`, RFC 6604).
    NxDomain {
        chain: Vec<Record>,
        name: DnsName,
        soa: Option<Record>,
    },
    /// Authoritative "no data of this type" for `name` (RFC 2308 §2.2).
    NoData {
        chain: Vec<Record>,
        name: DnsName,
        soa: Option<Record>,
    },
    /// A referral to `child`, closer to the name than the zone asked.
    Referral {
        child: DnsName,
        ns: Vec<Record>,
        glue: Vec<Record>,
    },
    /// The server cannot help: SERVFAIL, REFUSED, another error RCODE, or a
    /// lame answer (not authoritative and no useful referral).
    Bad { why: Bad },
}

/// Why a response was of no use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bad {
    /// RCODE SERVFAIL.
    ServFail,
    /// RCODE REFUSED.
    Refused,
    /// Another error RCODE (FORMERR, NOTIMP, …).
    Rcode(Rcode),
    /// Not authoritative and no referral below `zone`: a lame delegation.
    Lame(String),
    /// TC set: a partial answer, never used nor cached (RFC 2181 §9: "the
    /// whole response must be discarded").
    Truncated,
}

/// Classifies `resp`, the answer to (`name`, `qtype`) from a server of
/// `zone`.
pub(crate) fn classify(
    resp: &DnsMessage,
    name: &DnsName,
    qtype: RecordType,
    zone: &DnsName,
) -> Classified {
    if resp.header.tc {
        return Classified::Bad {
            why: Bad::Truncated,
        };
    }
    let rcode = resp.header.rcode;
    match rcode {
        Rcode::NoError | Rcode::NxDomain => {}
        Rcode::ServFail => return Classified::Bad { why: Bad::ServFail },
        Rcode::Refused => return Classified::Bad { why: Bad::Refused },
        other => {
            return Classified::Bad {
                why: Bad::Rcode(other),
            };
        }
    }
    let in_zone = |r: &&Record| r.name.is_subdomain_of(zone);
    let (chain, end, complete) = follow_chain(resp, name, qtype, zone);
    let soa = resp
        .authorities
        .iter()
        .filter(in_zone)
        .find(|r| r.rtype() == RecordType::Soa && end.is_subdomain_of(&r.name))
        .cloned();

    if !resp.header.aa {
        if rcode == Rcode::NoError && chain.is_empty() {
            return referral(resp, name, zone);
        }
        return Classified::Bad {
            why: Bad::Lame(format!(
                "{} without AA",
                if rcode == Rcode::NxDomain {
                    "NXDOMAIN"
                } else {
                    "answer"
                }
            )),
        };
    }
    if rcode == Rcode::NxDomain {
        return Classified::NxDomain {
            chain,
            name: end,
            soa,
        };
    }
    if complete {
        return Classified::Answer {
            records: chain,
            next: None,
        };
    }
    if chain.is_empty() {
        // AA, NOERROR, nothing for the name. A referral with AA set (e.g.
        // to a child zone of a CNAME target) is still a referral.
        if soa.is_none()
            && let r @ Classified::Referral { .. } = referral(resp, name, zone)
        {
            return r;
        }
        return Classified::NoData {
            chain,
            name: end,
            soa,
        };
    }
    // A CNAME chain that stops short: NODATA for its target if the server
    // says so with its SOA, else go on resolving the target.
    if soa.is_some() {
        return Classified::NoData {
            chain,
            name: end,
            soa,
        };
    }
    Classified::Answer {
        records: chain,
        next: Some(end),
    }
}

/// Follows `name` through the answer section: CNAMEs (unless CNAME is asked)
/// then the records of `qtype`. Returns the chain, the last name reached and
/// whether data of `qtype` was found.
fn follow_chain(
    resp: &DnsMessage,
    name: &DnsName,
    qtype: RecordType,
    zone: &DnsName,
) -> (Vec<Record>, DnsName, bool) {
    let mut chain = Vec::new();
    let mut cur = name.clone();
    let usable = |r: &&Record, cur: &DnsName| r.name.is_subdomain_of(zone) && r.name == *cur;
    for _ in 0..=MAX_CHAIN {
        let data: Vec<Record> = resp
            .answers
            .iter()
            .filter(|r| usable(r, &cur))
            .filter(|r| qtype == RecordType::Any || r.rtype() == qtype)
            .cloned()
            .collect();
        if !data.is_empty() {
            chain.extend(data);
            return (chain, cur, true);
        }
        if qtype == RecordType::Cname {
            break;
        }
        let cname = resp
            .answers
            .iter()
            .filter(|r| usable(r, &cur))
            .find_map(|r| match &r.data {
                RecordData::Cname(t) => Some((r.clone(), t.clone())),
                _ => None,
            });
        let Some((record, target)) = cname else {
            break;
        };
        let looped = chain.iter().any(|r: &Record| r.name == target) || target == *name;
        chain.push(record);
        cur = target;
        if looped {
            break;
        }
    }
    (chain, cur, false)
}

/// A referral (RFC 1034 §4.3.2 step 3b): NS records for a zone strictly
/// below `zone` that encloses `name`, with in-bailiwick glue.
fn referral(resp: &DnsMessage, name: &DnsName, zone: &DnsName) -> Classified {
    let Some(child) = resp
        .authorities
        .iter()
        .find(|r| r.rtype() == RecordType::Ns)
        .map(|r| r.name.clone())
    else {
        return Classified::Bad {
            why: Bad::Lame("not authoritative and no referral".into()),
        };
    };
    if child == *zone || !child.is_subdomain_of(zone) || !name.is_subdomain_of(&child) {
        return Classified::Bad {
            why: Bad::Lame(format!(
                "referral to {child}, which is not below {zone} on the way to {name}"
            )),
        };
    }
    let ns: Vec<Record> = resp
        .authorities
        .iter()
        .filter(|r| r.rtype() == RecordType::Ns && r.name == child)
        .cloned()
        .collect();
    let targets: Vec<&DnsName> = ns
        .iter()
        .filter_map(|r| match &r.data {
            RecordData::Ns(t) => Some(t),
            _ => None,
        })
        .collect();
    let glue = resp
        .additionals
        .iter()
        .filter(|r| matches!(r.rtype(), RecordType::A | RecordType::Aaaa))
        .filter(|r| r.name.is_subdomain_of(zone) && targets.contains(&&r.name))
        .cloned()
        .collect();
    Classified::Referral { child, ns, glue }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn n(s: &str) -> DnsName {
        s.parse().expect("name")
    }

    fn a(name: &str, last: u8) -> Record {
        Record::new(n(name), 300, RecordData::A(Ipv4Addr::new(10, 0, 0, last)))
    }

    fn resp(aa: bool, rcode: Rcode) -> DnsMessage {
        let mut m = DnsMessage::query(1, n("www.example.com"), RecordType::A);
        m.header.qr = true;
        m.header.aa = aa;
        m.header.rcode = rcode;
        m
    }

    #[test]
    fn out_of_bailiwick_data_is_ignored() {
        let mut r = resp(false, Rcode::NoError);
        r.authorities.push(Record::new(
            n("example.com"),
            1,
            RecordData::Ns(n("ns.example.com")),
        ));
        r.authorities.push(Record::new(
            n("example.com"),
            1,
            RecordData::Ns(n("ns.evil.test")),
        ));
        r.additionals.push(a("ns.example.com", 1));
        r.additionals.push(a("ns.evil.test", 66));
        r.additionals.push(a("unrelated.com", 67));
        let c = classify(&r, &n("www.example.com"), RecordType::A, &n("com"));
        let Classified::Referral { child, ns, glue } = c else {
            panic!("{c:?}")
        };
        assert_eq!(child, n("example.com"));
        assert_eq!(ns.len(), 2);
        assert_eq!(glue, [a("ns.example.com", 1)]);
    }

    #[test]
    fn upward_and_sideways_referrals_are_lame() {
        let mut r = resp(false, Rcode::NoError);
        r.authorities
            .push(Record::new(n("com"), 1, RecordData::Ns(n("a.gtld"))));
        let c = classify(&r, &n("www.example.com"), RecordType::A, &n("com"));
        assert!(matches!(c, Classified::Bad { why: Bad::Lame(_) }), "{c:?}");
        let mut r = resp(false, Rcode::NoError);
        r.authorities
            .push(Record::new(n("example.org"), 1, RecordData::Ns(n("ns"))));
        let c = classify(&r, &n("www.example.com"), RecordType::A, &DnsName::root());
        assert!(matches!(c, Classified::Bad { why: Bad::Lame(_) }), "{c:?}");
        // Data without AA is lame too.
        let mut r = resp(false, Rcode::NoError);
        r.answers.push(a("www.example.com", 1));
        let c = classify(&r, &n("www.example.com"), RecordType::A, &n("example.com"));
        assert!(matches!(c, Classified::Bad { why: Bad::Lame(_) }), "{c:?}");
    }

    #[test]
    fn cname_chains() {
        let mut r = resp(true, Rcode::NoError);
        r.answers.push(Record::new(
            n("www.example.com"),
            1,
            RecordData::Cname(n("web.example.com")),
        ));
        r.answers.push(Record::new(
            n("web.example.com"),
            1,
            RecordData::Cname(n("cdn.example.net")),
        ));
        r.answers.push(a("cdn.example.net", 9)); // out of bailiwick: ignored
        let c = classify(&r, &n("www.example.com"), RecordType::A, &n("example.com"));
        let Classified::Answer { records, next } = c else {
            panic!("{c:?}")
        };
        assert_eq!(records.len(), 2);
        assert_eq!(next, Some(n("cdn.example.net")));
        // NXDOMAIN at the end of a chain is for the target.
        let mut r = resp(true, Rcode::NxDomain);
        r.answers.push(Record::new(
            n("www.example.com"),
            1,
            RecordData::Cname(n("gone.example.com")),
        ));
        let c = classify(&r, &n("www.example.com"), RecordType::A, &n("example.com"));
        let Classified::NxDomain { chain, name, soa } = c else {
            panic!("{c:?}")
        };
        assert_eq!((chain.len(), name, soa), (1, n("gone.example.com"), None));
    }

    #[test]
    fn error_rcodes() {
        for (rc, want) in [
            (Rcode::ServFail, Bad::ServFail),
            (Rcode::Refused, Bad::Refused),
            (Rcode::NotImp, Bad::Rcode(Rcode::NotImp)),
        ] {
            let c = classify(&resp(true, rc), &n("x"), RecordType::A, &DnsName::root());
            assert_eq!(c, Classified::Bad { why: want });
        }
    }
}
