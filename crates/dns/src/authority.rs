//! Authoritative answers from zones (RFC 1034 §4.3.2).
//!
//! [`Authority::lookup`] follows the algorithm of RFC 1034 §4.3.2 for the
//! zone nearest to the query name:
//!
//! * a **delegation** (NS records at a name below the apex, on the path from
//!   the apex down to the query name) gives a **referral**: AA clear, the
//!   child's NS records in the authority section and their addresses (glue)
//!   in the additional section (step 3b);
//! * an **exact match** gives the records of the asked type with AA set
//!   (step 3a); QTYPE `*` (ANY) returns every record at the name;
//! * a **CNAME** at the name, for any other type, is answered with the CNAME
//!   and, when its target is in the same zone, the lookup goes on from the
//!   target (step 3a, "change QNAME to the canonical name"), at most
//!   [`MAX_CNAME_CHAIN`] times;
//! * a name that does not exist is **NXDOMAIN**, one that exists without data
//!   of the type is **NODATA** (NOERROR, empty answer); both carry the zone's
//!   SOA in the authority section, its TTL the smaller of the SOA's TTL and
//!   MINIMUM (RFC 2308 §3). Empty non-terminals exist (RFC 8020 §2).
//!   Wildcards (step 3c) are not supported;
//! * a name outside every zone is **REFUSED** (RFC 1035 §4.1.1: "the name
//!   server refuses to perform the specified operation for policy reasons").
//!
//! Addresses of the names in NS and MX answers are added to the additional
//! section when the zone has them (step 6). [`Authority::answer`] builds the
//! whole response: ID, OPCODE and RD copied from the query, QR and AA set as
//! above, RA clear (an authoritative-only server offers no recursion).

use crate::zone::{Zone, ZoneError};
use vnet_topology::device::ZoneText;
use vnet_wire::dns::{
    DnsMessage, DnsName, Opcode, Question, Rcode, Record, RecordClass, RecordData, RecordType,
};

/// Most CNAMEs followed inside one zone while answering.
pub const MAX_CNAME_CHAIN: usize = 8;

/// Zones that could not be served together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    /// A zone file did not parse.
    #[error(transparent)]
    Zone(#[from] ZoneError),
    /// Two zones have the same origin.
    #[error("zone {origin} is defined twice: in {first} and in {second}")]
    Duplicate {
        /// The origin.
        origin: String,
        /// The first file.
        first: String,
        /// The second file.
        second: String,
    },
}

/// What kind of answer a lookup produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// Data for the name (possibly through CNAMEs): AA, NOERROR.
    Answer,
    /// A referral to a child zone: no AA, NS in authority, glue in additional.
    Referral,
    /// The name does not exist: AA, NXDOMAIN, SOA in authority.
    NxDomain,
    /// The name exists without data of the type: AA, NOERROR, SOA in authority.
    NoData,
}

/// The result of [`Authority::lookup`]: the sections of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthAnswer {
    /// What kind of answer this is.
    pub kind: AnswerKind,
    /// The zone that answered (its origin).
    pub zone: DnsName,
    /// RCODE: NOERROR or NXDOMAIN.
    pub rcode: Rcode,
    /// AA: set except for referrals.
    pub aa: bool,
    /// The answer section.
    pub answers: Vec<Record>,
    /// The authority section: NS of a referral or the SOA of a negative answer.
    pub authorities: Vec<Record>,
    /// The additional section: glue and addresses of NS/MX targets.
    pub additionals: Vec<Record>,
}

/// The zones a server is authoritative for.
#[derive(Debug, Clone, Default)]
pub struct Authority {
    /// Most specific origin first, so the first enclosing zone is the nearest.
    zones: Vec<Zone>,
}

impl Authority {
    /// Serves `zones`; two zones with the same origin are refused.
    pub fn new(mut zones: Vec<Zone>) -> Result<Authority, AuthorityError> {
        zones.sort_by(|a, b| {
            b.origin()
                .label_count()
                .cmp(&a.origin().label_count())
                .then_with(|| a.origin().cmp(b.origin()))
        });
        for pair in zones.windows(2) {
            if pair[0].origin() == pair[1].origin() {
                return Err(AuthorityError::Duplicate {
                    origin: pair[0].origin().to_string(),
                    first: pair[0].file().to_string(),
                    second: pair[1].file().to_string(),
                });
            }
        }
        Ok(Authority { zones })
    }

    /// Parses and serves the zones of a device config.
    pub fn from_texts(texts: &[ZoneText]) -> Result<Authority, AuthorityError> {
        let zones = texts
            .iter()
            .map(|z| Zone::parse(&z.file, &z.text))
            .collect::<Result<Vec<_>, _>>()?;
        Authority::new(zones)
    }

    /// The zones, most specific origin first.
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// The nearest zone enclosing `name`, if any.
    pub fn zone_for(&self, name: &DnsName) -> Option<&Zone> {
        self.zones.iter().find(|z| name.is_subdomain_of(z.origin()))
    }

    /// Answers `question` from the nearest enclosing zone (RFC 1034 §4.3.2);
    /// `None` when no zone encloses the name (the caller answers REFUSED).
    pub fn lookup(&self, question: &Question) -> Option<AuthAnswer> {
        let zone = self.zone_for(&question.name)?;
        let mut out = AuthAnswer {
            kind: AnswerKind::Answer,
            zone: zone.origin().clone(),
            rcode: Rcode::NoError,
            aa: true,
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
        };
        let mut qname = question.name.clone();
        for _ in 0..=MAX_CNAME_CHAIN {
            match step(zone, &qname, question.qtype, &mut out) {
                Some(target) => qname = target,
                None => break,
            }
        }
        add_target_addresses(zone, &mut out);
        Some(out)
    }

    /// The complete response to `query` (RFC 1035 §4.1.1): NOTIMP for an
    /// OPCODE other than QUERY, FORMERR unless there is exactly one question,
    /// REFUSED for a class other than IN or a name outside every zone.
    pub fn answer(&self, query: &DnsMessage) -> DnsMessage {
        let mut resp = DnsMessage::response_to(query);
        resp.header.ra = false;
        if query.header.opcode != Opcode::Query {
            resp.header.rcode = Rcode::NotImp;
            return resp;
        }
        let [question] = query.questions.as_slice() else {
            resp.header.rcode = Rcode::FormErr;
            return resp;
        };
        if !matches!(question.qclass, RecordClass::In | RecordClass::Any) {
            resp.header.rcode = Rcode::Refused;
            return resp;
        }
        match self.lookup(question) {
            Some(a) => {
                resp.header.aa = a.aa;
                resp.header.rcode = a.rcode;
                resp.answers = a.answers;
                resp.authorities = a.authorities;
                resp.additionals = a.additionals;
            }
            None => resp.header.rcode = Rcode::Refused,
        }
        resp
    }
}

/// One pass of RFC 1034 §4.3.2 step 3 for `qname` in `zone`; returns the
/// CNAME target to continue with, if the chain goes on inside the zone.
fn step(zone: &Zone, qname: &DnsName, qtype: RecordType, out: &mut AuthAnswer) -> Option<DnsName> {
    if !qname.is_subdomain_of(zone.origin()) {
        return None;
    }
    // Step 3b: a zone cut between the apex and qname (inclusive).
    let mut path = Vec::new();
    let mut n = qname.clone();
    while n != *zone.origin() {
        let parent = n.parent();
        path.push(n);
        n = parent?;
    }
    for node in path.iter().rev() {
        let ns: Vec<Record> = zone
            .records_at(node)
            .iter()
            .filter(|r| r.rtype() == RecordType::Ns)
            .cloned()
            .collect();
        if !ns.is_empty() {
            for r in &ns {
                if let RecordData::Ns(target) = &r.data {
                    push_addresses(zone, target, &mut out.additionals);
                }
            }
            out.kind = AnswerKind::Referral;
            // Data already answered (a CNAME leading here) keeps AA; a pure
            // referral has none.
            out.aa = !out.answers.is_empty();
            out.authorities = ns;
            return None;
        }
    }
    let rrs = zone.records_at(qname);
    // Step 3a: an exact match.
    let matching: Vec<Record> = rrs
        .iter()
        .filter(|r| qtype == RecordType::Any || r.rtype() == qtype)
        .cloned()
        .collect();
    if !matching.is_empty() {
        out.kind = AnswerKind::Answer;
        out.answers.extend(matching);
        return None;
    }
    if let Some(cname) = rrs.iter().find(|r| r.rtype() == RecordType::Cname) {
        out.kind = AnswerKind::Answer;
        out.answers.push(cname.clone());
        let RecordData::Cname(target) = &cname.data else {
            return None;
        };
        let looped = out.answers.iter().any(|r| &r.name == target);
        return (!looped).then(|| target.clone());
    }
    out.kind = if zone.name_exists(qname) {
        AnswerKind::NoData
    } else {
        out.rcode = Rcode::NxDomain;
        AnswerKind::NxDomain
    };
    out.authorities = vec![negative_soa(zone)];
    None
}

/// The zone's SOA for a negative answer: TTL = min(SOA TTL, MINIMUM)
/// (RFC 2308 §3).
fn negative_soa(zone: &Zone) -> Record {
    let mut soa = zone.soa().clone();
    if let RecordData::Soa { minimum, .. } = soa.data {
        soa.ttl = soa.ttl.min(minimum);
    }
    soa
}

/// Appends the A and AAAA records the zone holds for `name` (glue included)
/// to `additionals`, once each.
fn push_addresses(zone: &Zone, name: &DnsName, additionals: &mut Vec<Record>) {
    for r in zone.records_at(name) {
        if matches!(r.rtype(), RecordType::A | RecordType::Aaaa) && !additionals.contains(r) {
            additionals.push(r.clone());
        }
    }
}

/// RFC 1034 §4.3.2 step 6: addresses of NS and MX targets in the answer.
fn add_target_addresses(zone: &Zone, out: &mut AuthAnswer) {
    let targets: Vec<DnsName> = out
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RecordData::Ns(t) => Some(t.clone()),
            RecordData::Mx { exchange, .. } => Some(exchange.clone()),
            _ => None,
        })
        .collect();
    for t in &targets {
        push_addresses(zone, t, &mut out.additionals);
    }
}

#[cfg(test)]
mod tests;
