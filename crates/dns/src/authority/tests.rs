use super::*;
use std::net::Ipv4Addr;
use vnet_wire::dns::MAX_UDP_LEN;

fn n(s: &str) -> DnsName {
    s.parse().expect("name")
}

const COM: &str = "$ORIGIN com.\n$TTL 172800\n\
@ 900 SOA a.gtld-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n\
@ NS a.gtld-servers.net.\n\
example NS ns1.example\n\
example NS ns2.example\n\
ns1.example A 10.0.2.11\n\
ns2.example A 10.0.2.12\n\
glueless NS ns.elsewhere.net.\n";

const EXAMPLE: &str = "$ORIGIN example.com.\n$TTL 300\n\
@ SOA ns1 hostmaster 7 3600 900 604800 60\n\
@ NS ns1\n\
@ MX 10 mail\n\
@ MX 20 mail2\n\
ns1 A 10.0.2.11\n\
mail A 10.0.3.25\n\
mail2 A 10.0.3.26\n\
www A 10.0.3.10\n\
ftp CNAME www\n\
alias CNAME ftp\n\
out CNAME www.example.net.\n\
loop1 CNAME loop2\n\
loop2 CNAME loop1\n\
a.b.c TXT \"deep\"\n\
sub NS ns.sub\n\
ns.sub A 10.0.9.9\n\
tosub CNAME host.sub\n";

fn authority() -> Authority {
    Authority::new(vec![
        Zone::parse("db.com", COM).expect("com"),
        Zone::parse("db.example", EXAMPLE).expect("example"),
    ])
    .expect("authority")
}

fn ask(a: &Authority, name: &str, qtype: RecordType) -> DnsMessage {
    let mut q = DnsMessage::query(4711, n(name), qtype);
    q.header.rd = true;
    let r = a.answer(&q);
    // Whatever we answer must survive the wire.
    let parsed = DnsMessage::parse(&r.emit(MAX_UDP_LEN)).expect("parses");
    assert_eq!(parsed, r);
    r
}

#[test]
fn exact_match_is_authoritative() {
    let r = ask(&authority(), "www.example.com", RecordType::A);
    assert!(r.header.qr && r.header.aa && r.header.rd && !r.header.ra);
    assert_eq!(r.header.id, 4711);
    assert_eq!(r.header.rcode, Rcode::NoError);
    assert_eq!(
        r.answers,
        [Record::new(
            n("www.example.com"),
            300,
            RecordData::A(Ipv4Addr::new(10, 0, 3, 10))
        )]
    );
    assert!(r.authorities.is_empty() && r.additionals.is_empty());
}

#[test]
fn mx_in_full_with_addresses() {
    let r = ask(&authority(), "example.com", RecordType::Mx);
    assert!(r.header.aa);
    assert_eq!(r.answers.len(), 2);
    let prefs: Vec<u16> = r
        .answers
        .iter()
        .filter_map(|r| match r.data {
            RecordData::Mx { preference, .. } => Some(preference),
            _ => None,
        })
        .collect();
    assert_eq!(prefs, [10, 20]);
    let extra: Vec<&DnsName> = r.additionals.iter().map(|r| &r.name).collect();
    assert_eq!(extra, [&n("mail.example.com"), &n("mail2.example.com")]);
}

#[test]
fn cname_chased_inside_the_zone() {
    let r = ask(&authority(), "alias.example.com", RecordType::A);
    assert!(r.header.aa);
    let types: Vec<RecordType> = r.answers.iter().map(Record::rtype).collect();
    assert_eq!(types, [RecordType::Cname, RecordType::Cname, RecordType::A]);
    assert_eq!(r.answers[2].name, n("www.example.com"));
    // Asking for the CNAME itself does not chase.
    let r = ask(&authority(), "ftp.example.com", RecordType::Cname);
    assert_eq!(r.answers.len(), 1);
    // Out of zone target: only the CNAME, the resolver goes on.
    let r = ask(&authority(), "out.example.com", RecordType::A);
    assert_eq!(r.answers.len(), 1);
    assert_eq!(r.answers[0].data, RecordData::Cname(n("www.example.net")));
    assert_eq!(r.header.rcode, Rcode::NoError);
    // A loop ends.
    let r = ask(&authority(), "loop1.example.com", RecordType::A);
    assert_eq!(r.answers.len(), 2);
}

#[test]
fn referral_without_aa_with_glue() {
    let r = ask(&authority(), "www.example.com", RecordType::A);
    assert!(r.header.aa, "the more specific zone answers");
    let com_only = Authority::new(vec![Zone::parse("db.com", COM).expect("com")]).expect("a");
    let r = ask(&com_only, "www.example.com", RecordType::A);
    assert!(!r.header.aa);
    assert_eq!(r.header.rcode, Rcode::NoError);
    assert!(r.answers.is_empty());
    let ns: Vec<&RecordData> = r.authorities.iter().map(|r| &r.data).collect();
    assert_eq!(
        ns,
        [
            &RecordData::Ns(n("ns1.example.com")),
            &RecordData::Ns(n("ns2.example.com"))
        ]
    );
    assert!(r.authorities.iter().all(|r| r.name == n("example.com")));
    let glue: Vec<&RecordData> = r.additionals.iter().map(|r| &r.data).collect();
    assert_eq!(
        glue,
        [
            &RecordData::A(Ipv4Addr::new(10, 0, 2, 11)),
            &RecordData::A(Ipv4Addr::new(10, 0, 2, 12))
        ]
    );
    // At the cut itself, also for NS.
    let r = ask(&com_only, "example.com", RecordType::Ns);
    assert!(!r.header.aa && r.answers.is_empty() && r.authorities.len() == 2);
    // Glueless: NS only.
    let r = ask(&com_only, "x.glueless.com", RecordType::A);
    assert_eq!(r.authorities.len(), 1);
    assert!(r.additionals.is_empty());
    // A delegation inside example.com; a CNAME into it keeps AA and refers.
    let r = ask(&authority(), "tosub.example.com", RecordType::A);
    assert!(r.header.aa);
    assert_eq!(r.answers.len(), 1);
    assert_eq!(
        r.authorities[0].data,
        RecordData::Ns(n("ns.sub.example.com"))
    );
    assert_eq!(
        r.additionals[0].data,
        RecordData::A(Ipv4Addr::new(10, 0, 9, 9))
    );
}

#[test]
fn nxdomain_and_nodata_carry_the_soa() {
    let r = ask(&authority(), "nope.example.com", RecordType::A);
    assert!(r.header.aa);
    assert_eq!(r.header.rcode, Rcode::NxDomain);
    assert!(r.answers.is_empty());
    assert_eq!(r.authorities.len(), 1);
    assert_eq!(r.authorities[0].rtype(), RecordType::Soa);
    // min(SOA TTL 300, MINIMUM 60)
    assert_eq!(r.authorities[0].ttl, 60);
    assert_eq!(r.negative_ttl(), Some(60));

    let r = ask(&authority(), "www.example.com", RecordType::Aaaa);
    assert!(r.header.aa);
    assert_eq!(r.header.rcode, Rcode::NoError);
    assert!(r.answers.is_empty());
    assert_eq!(r.authorities[0].rtype(), RecordType::Soa);

    // Empty non-terminal: NODATA, not NXDOMAIN.
    let r = ask(&authority(), "b.c.example.com", RecordType::A);
    assert_eq!(r.header.rcode, Rcode::NoError);
    assert_eq!(r.authorities[0].rtype(), RecordType::Soa);

    // com's SOA: TTL 900, MINIMUM 86400 → 900.
    let com_only = Authority::new(vec![Zone::parse("db.com", COM).expect("com")]).expect("a");
    let r = ask(&com_only, "nothing.com", RecordType::A);
    assert_eq!(r.header.rcode, Rcode::NxDomain);
    assert_eq!(r.authorities[0].ttl, 900);
}

#[test]
fn outside_every_zone_is_refused() {
    let r = ask(&authority(), "www.example.org", RecordType::A);
    assert_eq!(r.header.rcode, Rcode::Refused);
    assert!(!r.header.aa && r.answers.is_empty());
    assert_eq!(r.questions.len(), 1);
}

#[test]
fn bad_queries() {
    let a = authority();
    let mut q = DnsMessage::query(1, n("www.example.com"), RecordType::A);
    q.header.opcode = Opcode::Status;
    assert_eq!(a.answer(&q).header.rcode, Rcode::NotImp);
    let mut q = DnsMessage::query(1, n("www.example.com"), RecordType::A);
    q.questions.clear();
    assert_eq!(a.answer(&q).header.rcode, Rcode::FormErr);
    let mut q = DnsMessage::query(1, n("www.example.com"), RecordType::A);
    q.questions[0].qclass = RecordClass::Ch;
    assert_eq!(a.answer(&q).header.rcode, Rcode::Refused);
    let mut q = DnsMessage::query(1, n("www.example.com"), RecordType::A);
    q.header.rd = false;
    assert!(!a.answer(&q).header.rd);
}

#[test]
fn any_returns_everything_at_the_name() {
    let r = ask(&authority(), "example.com", RecordType::Any);
    assert_eq!(r.answers.len(), 4, "SOA, NS, 2 MX");
}

#[test]
fn duplicate_origins_refused() {
    let z = Zone::parse("a", COM).expect("com");
    let mut z2 = z.clone();
    let _ = &mut z2;
    let err = Authority::new(vec![z, z2]).expect_err("dup");
    assert_eq!(err.to_string(), "zone com. is defined twice: in a and in a");
}
