use super::*;

fn n(s: &str) -> DnsName {
    s.parse().expect("name")
}

const EXAMPLE: &str = r#"
$ORIGIN example.com.
$TTL 300
@   IN  SOA ns1 hostmaster (
        2024010101 ; serial
        3600       ; refresh
        900        ; retry
        604800     ; expire
        60 )       ; minimum
    IN  NS  ns1
    IN  NS  ns2.example.com.
    IN  MX  10 mail
    IN  MX  20 mail2.example.net.
ns1         A   10.0.2.11
ns2   600   A   10.0.2.12
www   IN 120 A  10.0.3.10
            AAAA 2001:db8::10
ftp   CNAME www
txt   TXT "hello world" unquoted "semi;colon" "q\"uote" "\065\066"
ptr PTR www
a.b.c A 10.0.0.1
"#;

#[test]
fn parses_a_typical_zone() {
    let z = Zone::parse("db.example", EXAMPLE).expect("parses");
    assert_eq!(z.origin(), &n("example.com"));
    assert_eq!(z.serial(), 2024010101);
    let RecordData::Soa {
        mname,
        rname,
        minimum,
        ..
    } = &z.soa().data
    else {
        panic!("soa")
    };
    assert_eq!(mname, &n("ns1.example.com"));
    assert_eq!(rname, &n("hostmaster.example.com"));
    assert_eq!(*minimum, 60);
    assert_eq!(z.soa().ttl, 300);

    let apex = z.records_at(&n("example.com"));
    assert_eq!(apex.len(), 5, "{apex:?}");
    assert!(apex.contains(&Record::new(
        n("example.com"),
        300,
        RecordData::Mx {
            preference: 20,
            exchange: n("mail2.example.net")
        }
    )));
    assert_eq!(
        z.records_at(&n("ns2.example.com")),
        [Record::new(
            n("ns2.example.com"),
            600,
            RecordData::A(Ipv4Addr::new(10, 0, 2, 12))
        )]
    );
    // TTL and class in either order; a blank owner repeats the previous one
    // and the last explicit TTL (120) carries on... but $TTL wins.
    let www = z.records_at(&n("www.example.com"));
    assert_eq!(www[0].ttl, 120);
    assert_eq!(www[1].rtype(), RecordType::Aaaa);
    assert_eq!(www[1].ttl, 300);
    assert_eq!(
        z.records_at(&n("ftp.example.com"))[0].data,
        RecordData::Cname(n("www.example.com"))
    );
    assert_eq!(
        z.records_at(&n("txt.example.com"))[0].data,
        RecordData::Txt(vec![
            b"hello world".to_vec(),
            b"unquoted".to_vec(),
            b"semi;colon".to_vec(),
            b"q\"uote".to_vec(),
            b"AB".to_vec(),
        ])
    );
    // An absolute owner outside "example.com" is refused... this one is in.
    assert!(z.name_exists(&n("b.c.example.com")), "empty non-terminal");
    assert!(z.name_exists(&n("c.example.com")));
    assert!(!z.name_exists(&n("nope.example.com")));
    assert_eq!(z.len(), 14 - 1);
}

#[test]
fn origin_from_an_absolute_soa_owner() {
    let text = "example.org. 3600 IN SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
    let z = Zone::parse("db.org", text).expect("parses");
    assert_eq!(z.origin(), &n("example.org"));
    assert_eq!(
        z.records_at(&n("ns.example.org"))[0].data,
        RecordData::A(Ipv4Addr::new(192, 0, 2, 1))
    );
    // No $TTL: later records take the last explicit TTL.
    assert_eq!(z.records_at(&n("ns.example.org"))[0].ttl, 3600);
}

#[test]
fn root_zone() {
    let text = ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n\
                . NS a.root-servers.net.\n\
                a.root-servers.net. A 10.0.2.1\n\
                com. NS a.gtld-servers.net.\n\
                a.gtld-servers.net. A 10.0.2.2\n";
    let z = Zone::parse("root.zone", text).expect("parses");
    assert!(z.origin().is_root());
    assert!(z.name_exists(&n("net")));
}

#[test]
fn duplicates_dropped_and_rrset_ttls_unified() {
    let text = "$ORIGIN x.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 1.1.1.1\nns 90 A 1.1.1.2\nns A 1.1.1.1\n";
    let z = Zone::parse("x", text).expect("parses");
    let ns = z.records_at(&n("ns.x"));
    assert_eq!(ns.len(), 2);
    assert!(ns.iter().all(|r| r.ttl == 60));
}

fn error(text: &str) -> String {
    Zone::parse("db.test", text)
        .expect_err("must fail")
        .to_string()
}

const HEAD: &str = "$ORIGIN t.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n";

#[test]
fn errors_name_file_line_and_token() {
    assert_eq!(
        error(&format!("{HEAD}www A 10.0.3\n")),
        "db.test:5: bad IPv4 address \"10.0.3\" in A record"
    );
    assert_eq!(
        error(&format!("{HEAD}www BOGUS 1\n")),
        "db.test:5: unknown or unsupported record type \"BOGUS\" (supported: A, AAAA, NS, CNAME, MX, SOA, TXT, PTR)"
    );
    assert_eq!(
        error(&format!("{HEAD}www A 1.2.3.4 extra\n")),
        "db.test:5: unexpected \"extra\" after the A data"
    );
    assert_eq!(
        error(&format!("{HEAD}mx MX ten mail\n")),
        "db.test:5: bad MX preference \"ten\" (0..=65535)"
    );
    assert_eq!(
        error(&format!("{HEAD}www CH A 1.2.3.4\n")),
        "db.test:5: class \"CH\" is not served (only IN)"
    );
    assert_eq!(
        error(&format!("{HEAD}www 99999999999 A 1.2.3.4\n")),
        "db.test:5: bad TTL \"99999999999\" (seconds 0..=2147483647, or units like 1h30m)"
    );
    assert_eq!(
        error(&format!("{HEAD}other.example. A 1.2.3.4\n")),
        "db.test:5: owner other.example. is outside the zone t. (the SOA owner, line 3)"
    );
    assert!(
        error(&format!("{HEAD}www CNAME x\nwww A 1.2.3.4\n"))
            .starts_with("db.test:6: www.t. has a CNAME and other data")
    );
    assert_eq!(
        error("$TTL 60\nwww A 1.2.3.4\n"),
        "db.test:2: relative name \"www\" but no origin yet (add $ORIGIN, or write the SOA owner as an absolute name first)"
    );
    assert_eq!(
        error("$ORIGIN t.\nwww A 1.2.3.4\n"),
        "db.test:2: record without TTL and no $TTL before it (add \"$TTL 3600\" at the top)"
    );
    assert_eq!(
        error("$ORIGIN t.\n$TTL 1\n@ NS ns\n"),
        "db.test: no SOA record: a zone needs exactly one, at its apex"
    );
    assert_eq!(
        error(&format!("{HEAD}sub SOA ns h 1 2 3 4 5\n")),
        "db.test:5: second SOA record (owner sub.t.): a zone has exactly one"
    );
    assert_eq!(
        error("$ORIGIN t.\n$TTL 1\n@ SOA ns h 1 2 3 4 5\n"),
        "db.test:3: no NS record at the apex t. (RFC 1035 §5.2)"
    );
    assert_eq!(
        error("$ORIGIN t.\n$TTL 1\n@ SOA ns h (1 2 3 4 5\n"),
        "db.test:3: '(' is never closed"
    );
    assert_eq!(
        error("$INCLUDE other\n"),
        "db.test:1: $INCLUDE is not supported: zones are embedded in the device config"
    );
    assert_eq!(
        error("  A 1.2.3.4\n"),
        "db.test:1: blank owner field but no previous owner to repeat"
    );
    assert_eq!(
        error(&format!("{HEAD}t TXT \"{}\"\n", "x".repeat(256))),
        "db.test:5: TXT string of 256 octets; a character-string holds at most 255 (RFC 1035 §3.3)"
    );
    assert_eq!(
        error(&format!("{HEAD}@ SOA ns h 1 2 3 4\n")),
        "db.test:5: SOA record needs MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM"
    );
}

#[test]
fn ttl_units() {
    assert_eq!(parse_ttl("3600"), Some(3600));
    assert_eq!(parse_ttl("1h30m"), Some(5400));
    assert_eq!(
        parse_ttl("1W2d3H4m5S"),
        Some(604_800 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5)
    );
    assert_eq!(parse_ttl("2147483647"), Some(MAX_TTL));
    assert_eq!(parse_ttl("2147483648"), None);
    assert_eq!(parse_ttl("h"), None);
    assert_eq!(parse_ttl("1x"), None);
    assert_eq!(parse_ttl("1hh"), None);
    assert_eq!(parse_ttl("5000w"), None);
}

#[test]
fn escaped_trailing_dot_is_relative() {
    assert!(is_absolute("a."));
    assert!(!is_absolute("a\\."));
    assert!(is_absolute("a\\\\."));
    assert!(!is_absolute("a"));
}
