//! vnet's own `dig` in the default lab (issue 16): `+tcp`, `+short`,
//! `+norec`, `+trace` from the root, `-x`, `@server` by name, and AXFR, with
//! output shaped like BIND's dig.

mod common;

use common::LabRun;

#[test]
fn vnet_dig_speaks_tcp_edns_trace_and_axfr() {
    let lab = LabRun::default_lab();
    let dig = |args: &[&str]| {
        let mut all = vec!["dig"];
        all.extend_from_slice(args);
        let run = lab.exec("client", &all);
        eprintln!("$ dig {}\n{}{}", args.join(" "), run.stdout, run.stderr);
        assert_eq!(run.code, 0, "{args:?}: {run:?}\n{}", lab.logs());
        run.stdout
    };

    // EDNS by default: the resolver's answer has an OPT.
    let out = dig(&["www.example.com"]);
    assert!(
        out.contains(
            ";; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n;; QUESTION SECTION:"
        ),
        "{out}"
    );
    assert!(
        out.contains("ADDITIONAL: 1") && out.contains("(UDP)"),
        "{out}"
    );
    let out = dig(&["+noedns", "www.example.com"]);
    assert!(
        !out.contains("OPT PSEUDOSECTION") && out.contains("ADDITIONAL: 0"),
        "{out}"
    );

    // +tcp, +short, +norec.
    let out = dig(&["+tcp", "www.example.com"]);
    assert!(
        out.contains("status: NOERROR") && out.contains(";; SERVER: 10.0.2.53#53(10.0.2.53) (TCP)"),
        "{out}"
    );
    assert_eq!(dig(&["+short", "+tcp", "www.example.com"]), "10.0.3.10\n");
    let out = dig(&["+norec", "@10.0.3.22", "www.example.com"]);
    assert!(out.contains("flags: qr aa;"), "{out}");

    // @server by name, through the host's resolver.
    let out = dig(&["@ns.example.com", "www.example.com", "+short"]);
    assert_eq!(out, "10.0.3.10\n");

    // -x: the PTR question for the address.
    let out = dig(&["-x", "10.0.3.10"]);
    assert!(out.contains(";10.3.0.10.in-addr.arpa.\t\tIN\tPTR"), "{out}");

    // +trace: the root's NS from the resolver, then root → com → example.com.
    let out = dig(&["+trace", "www.example.com"]);
    let received: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(";; Received "))
        .collect();
    assert_eq!(received.len(), 4, "{out}");
    assert!(
        received[0].contains("from 10.0.2.53#53(10.0.2.53)"),
        "{out}"
    );
    assert!(
        received[1].contains("from 10.0.3.20#53(a.root-servers.vnet)"),
        "{out}"
    );
    assert!(received[2].contains("from 10.0.3.21#53(ns.com)"), "{out}");
    assert!(
        received[3].contains("from 10.0.3.22#53(ns.example.com)"),
        "{out}"
    );
    assert!(
        out.contains("www.example.com.\t300\tIN\tA\t10.0.3.10"),
        "{out}"
    );

    // AXFR over TCP from the lab's allow_transfer networks.
    let out = dig(&["@10.0.3.22", "example.com", "AXFR"]);
    let records: Vec<&str> = out
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .collect();
    assert_eq!(records.len(), 11, "{out}");
    assert!(
        records[0].contains("\tSOA\t") && records[10].contains("\tSOA\t"),
        "{out}"
    );
    assert!(
        out.contains(";; XFR size: 11 records (messages 1, bytes "),
        "{out}"
    );
    assert!(out.contains("(TCP)"), "{out}");

    let status = lab.status("dns-example");
    let dns = &status["device"]["dns"];
    assert!(dns["axfr_served"].as_u64() >= Some(1), "{status}");
    assert!(dns["tcp_connections"].as_u64() >= Some(1), "{status}");
}

/// The case in a running lab: 30 TXT records at one name, too big
/// for UDP. The resolver's UDP answer from dns-example comes truncated and
/// is asked again over TCP; the client's dig gets TC over UDP, retries over
/// TCP like BIND's dig, and lists all 30 — never a silent subset.
#[test]
fn thirty_txt_records_arrive_complete_through_the_resolver() {
    let text = std::fs::read_to_string(common::repo_path("configs/lab.toml")).expect("lab");
    let (variant, topology) = common::lab_variant(&text);
    let zone_path = variant.path().join("zones/example.com.zone");
    let mut zone = std::fs::read_to_string(&zone_path).expect("zone");
    for i in 0..30 {
        zone.push_str(&format!(
            "big IN TXT \"record {i:02} of thirty, long enough to overflow UDP\"\n"
        ));
    }
    std::fs::write(&zone_path, zone).expect("write zone");
    let lab = LabRun::up(&topology);

    let run = lab.exec("client", &["dig", "big.example.com", "TXT"]);
    eprintln!("{}", run.stdout);
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    assert!(
        run.stdout.contains(";; Truncated, retrying in TCP mode."),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("ANSWER: 30,") && run.stdout.contains("(TCP)"),
        "{run:?}"
    );
    let txt = run.stdout.lines().filter(|l| l.contains("\tTXT\t")).count();
    assert_eq!(txt, 30, "{run:?}");
    // Over UDP only (+ignore, +noedns: 512 octets), the answer says TC and
    // carries no partial RRset.
    let run = lab.exec(
        "client",
        &["dig", "+noedns", "+ignore", "big.example.com", "TXT"],
    );
    assert!(run.stdout.contains("flags: qr tc rd ra;"), "{run:?}");
    assert!(run.stdout.contains("ANSWER: 0,"), "{run:?}");
    let run = lab.exec(
        "client",
        &["dig", "+tcp", "+short", "big.example.com", "TXT"],
    );
    assert_eq!(run.stdout.lines().count(), 30, "{run:?}");
    let resolver = lab.status("resolver");
    let dns = &resolver["device"]["dns"];
    assert_eq!(dns["upstream_tcp_retries"].as_u64(), Some(1), "{resolver}");
    assert_eq!(dns["upstream_tcp_failures"].as_u64(), Some(0), "{resolver}");
    assert!(dns["truncated"].as_u64() >= Some(1), "{resolver}");
}
