use super::*;
use vnet_wire::dns::{MAX_UDP_LEN, Rcode, Record, RecordData};

fn n(s: &str) -> DnsName {
    s.parse().expect("name")
}

fn req(words: &[&str]) -> Result<DigRequest, String> {
    let argv: Vec<String> = std::iter::once("dig")
        .chain(words.iter().copied())
        .map(String::from)
        .collect();
    dig_args(&argv)
        .map_err(|e| e.to_string())?
        .request()
        .map_err(|e| e.to_string())
}

#[test]
fn arguments_in_any_order() {
    let server = Some(Ipv4Addr::new(10, 0, 2, 53));
    for words in [
        &["@10.0.2.53", "example.com", "MX"][..],
        &["example.com", "mx", "@10.0.2.53"],
        &["MX", "example.com", "@10.0.2.53"],
        &["-t", "MX", "@10.0.2.53", "example.com"],
    ] {
        let r = req(words).expect("parses");
        assert_eq!(
            (r.server, &r.name, r.qtype),
            (server, &n("example.com"), RecordType::Mx),
            "{words:?}"
        );
        assert!(r.recurse && !r.short);
        assert_eq!((r.timeout, r.tries), (Duration::from_secs(5), 3));
    }
    let r = req(&["www.example.com"]).expect("parses");
    assert_eq!((r.server, r.qtype), (None, RecordType::A));
    let r = req(&[
        "+norecurse",
        "www.example.com",
        "+short",
        "+time=2",
        "+tries=1",
    ])
    .expect("parses");
    assert!(!r.recurse && r.short);
    assert_eq!((r.timeout, r.tries), (Duration::from_secs(2), 1));
    let r = req(&["+retry=0", "+norec", "+rec", "x"]).expect("parses");
    assert!(r.recurse);
    assert_eq!(r.tries, 1);
    // No name: the root's NS.
    let r = req(&["@10.0.2.53"]).expect("parses");
    assert_eq!((r.name.is_root(), r.qtype), (true, RecordType::Ns));
    // Reverse.
    let r = req(&["-x", "10.0.3.10"]).expect("parses");
    assert_eq!(
        (r.name.clone(), r.qtype),
        (n("10.3.0.10.in-addr.arpa"), RecordType::Ptr)
    );
    // A type word after the type is a name ("a" is a legal host name).
    let r = req(&["MX", "a"]).expect("parses");
    assert_eq!((r.name.clone(), r.qtype), (n("a"), RecordType::Mx));
}

#[test]
fn argument_errors() {
    assert_eq!(req(&["+bogus", "x"]).unwrap_err(), "Invalid option: +bogus");
    let by_name = req(&["@ns.example.com", "x"]).expect("a server name");
    assert_eq!(
        (by_name.server, by_name.server_name),
        (None, Some(n("ns.example.com")))
    );
    assert!(
        req(&["@bad..name", "x"])
            .unwrap_err()
            .starts_with("couldn't get address for 'bad..name'")
    );
    let r = req(&["+tcp", "+trace", "+bufsize=4096", "example.com", "AXFR"]).expect("parses");
    assert!(r.tcp && r.trace);
    assert_eq!((r.edns, r.qtype), (Some(4096), AXFR));
    assert_eq!(req(&["+noedns", "x"]).expect("parses").edns, None);
    assert!(
        req(&["a.com", "b.com"])
            .unwrap_err()
            .starts_with("only one name")
    );
    assert!(
        req(&["-t", "BOGUS", "x"])
            .unwrap_err()
            .starts_with("invalid type")
    );
    assert!(
        req(&["+time=x", "x"])
            .unwrap_err()
            .starts_with("Invalid option: +time=x")
    );
}

#[test]
fn format_like_dig() {
    let q = DnsMessage::query(4711, n("www.example.com"), RecordType::A);
    let mut r = DnsMessage::response_to(&q);
    r.header.ra = true;
    r.answers.push(Record::new(
        n("www.example.com"),
        300,
        RecordData::A(Ipv4Addr::new(10, 0, 3, 10)),
    ));
    let size = r.emit(MAX_UDP_LEN).len();
    assert_eq!(size, 49);
    let lines = format_dig(
        &n("www.example.com"),
        RecordType::A,
        &r,
        Duration::from_micros(3_400),
        Ipv4Addr::new(10, 0, 2, 53),
        size,
    );
    assert_eq!(
        lines,
        [
            ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4711",
            ";; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0",
            "",
            ";; QUESTION SECTION:",
            ";www.example.com.\t\tIN\tA",
            "",
            ";; ANSWER SECTION:",
            "www.example.com.\t300\tIN\tA\t10.0.3.10",
            "",
            ";; Query time: 3 msec",
            ";; SERVER: 10.0.2.53#53(10.0.2.53) (UDP)",
            ";; MSG SIZE  rcvd: 49",
        ]
    );
}

#[test]
fn format_negative_and_warning() {
    let q = DnsMessage::query(7, n("nope.example.com"), RecordType::A);
    let mut r = DnsMessage::response_to(&q);
    r.header.aa = true;
    r.header.rcode = Rcode::NxDomain;
    r.authorities.push(Record::new(
        n("example.com"),
        60,
        RecordData::Soa {
            mname: n("ns1.example.com"),
            rname: n("hostmaster.example.com"),
            serial: 1,
            refresh: 3600,
            retry: 900,
            expire: 604800,
            minimum: 60,
        },
    ));
    let lines = format_dig(
        &n("x"),
        RecordType::A,
        &r,
        Duration::ZERO,
        Ipv4Addr::new(10, 0, 2, 13),
        93,
    );
    assert_eq!(
        lines[0],
        ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 7"
    );
    assert_eq!(
        lines[1],
        ";; flags: qr aa rd; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 0"
    );
    assert_eq!(
        lines[2],
        ";; WARNING: recursion requested but not available"
    );
    assert_eq!(lines[5], ";nope.example.com.\t\tIN\tA");
    assert_eq!(lines[7], ";; AUTHORITY SECTION:");
    assert_eq!(
        lines[8],
        "example.com.\t\t60\tIN\tSOA\tns1.example.com. hostmaster.example.com. 1 3600 900 604800 60"
    );
    assert!(!lines.iter().any(|l| l.contains("ANSWER SECTION")));
    // No question section in the response: the asked one is shown.
    let mut bare = r.clone();
    bare.questions.clear();
    let lines = format_dig(
        &n("asked.example"),
        RecordType::Mx,
        &bare,
        Duration::ZERO,
        Ipv4Addr::LOCALHOST,
        12,
    );
    assert!(lines.contains(&";asked.example.\t\t\tIN\tMX".to_string()));
    assert_eq!(format_short(&r), Vec::<String>::new());
}
