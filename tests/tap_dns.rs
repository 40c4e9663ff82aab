//! Debian's `dig` against vnet's DNS servers from a Linux network namespace
//! joined to the default lab through a TAP link end (issue 16): EDNS(0)
//! answers carry an OPT pseudo-section, `+tcp` is answered by the resolver
//! and by the authoritative server, `AXFR` lists every record of the zone
//! file, and a capture of the DNS-over-TCP traffic is tshark-clean.
//!
//! Needs /dev/net/tun, root, dig and tshark; without them the test prints
//! why and skips (and fails under CI=true).

mod common;

use common::tap::tap_lab;
use common::{repo_path, vnet_bin};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The record lines of dig's output (no comments, no blank lines).
fn records(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .collect()
}

/// `name type data` of every record in the lab's example.com zone, as dig
/// prints them (fields separated by whitespace).
fn zone_records() -> Vec<String> {
    let text = std::fs::read_to_string(repo_path("configs/zones/example.com.zone")).expect("zone");
    let zone = vnet_dns::zone::Zone::parse("example.com.zone", &text).expect("parses");
    zone.records()
        .map(|r| {
            let line = vnet_dns::text::record_line(r);
            line.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

#[test]
fn linux_dig_gets_edns_tcp_and_zone_transfers() {
    let test = "linux_dig_gets_edns_tcp_and_zone_transfers";
    let Some((lab, ns, _tap, _variant)) = tap_lab(test, &["dig", "tshark"]) else {
        return;
    };
    // Capture dns-example's cable while dig talks TCP to it.
    let file = lab.dir.path().join("dns-example.pcapng");
    let mut capture = Command::new(vnet_bin())
        .arg("--run-dir")
        .arg(lab.dir.path())
        .args([
            "capture",
            "dns-example:eth0",
            "-w",
            file.to_str().expect("utf8"),
            "--seconds",
            "8",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("capture starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while lab.status("dns-example")["interfaces"][0]["captures"].as_u64() != Some(1) {
        assert!(Instant::now() < deadline, "capture never attached");
        std::thread::sleep(Duration::from_millis(20));
    }
    let dig = |args: &[&str]| {
        let mut all = vec!["dig", "+time=5", "+tries=2"];
        all.extend_from_slice(args);
        let run = ns.exec(&all);
        assert_eq!(run.code, 0, "{args:?}: {run:?}\n{}", lab.logs());
        eprintln!("$ dig {}\n{}", args.join(" "), run.stdout);
        run.stdout
    };

    // dig sends EDNS (with a cookie) by default: the answer has an OPT.
    let out = dig(&["@10.0.2.53", "www.example.com"]);
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains(";; OPT PSEUDOSECTION:"), "{out}");
    assert!(
        out.contains("; EDNS: version: 0, flags:; udp: 1232"),
        "{out}"
    );
    assert!(out.contains("ADDITIONAL: 1"), "{out}");
    assert!(
        records(&out).iter().any(|l| l.ends_with("10.0.3.10")),
        "{out}"
    );

    // Over TCP, from the resolver and from the authoritative server.
    let out = dig(&["+tcp", "@10.0.2.53", "www.example.com"]);
    assert!(
        out.contains("status: NOERROR") && out.contains("(TCP)"),
        "{out}"
    );
    assert!(
        records(&out).iter().any(|l| l.ends_with("10.0.3.10")),
        "{out}"
    );
    let out = dig(&["+tcp", "@10.0.3.22", "example.com", "MX"]);
    assert!(
        out.contains("flags: qr aa rd;") && out.contains("(TCP)"),
        "{out}"
    );
    assert_eq!(
        records(&out)
            .iter()
            .filter(|l| l.contains("\tMX\t"))
            .count(),
        2,
        "{out}"
    );

    // The zone's own NS set and TTL through the resolver, not the referral's.
    let out = dig(&["@10.0.2.53", "example.com", "NS"]);
    let ns_lines: Vec<&str> = records(&out);
    assert!(!ns_lines.is_empty(), "{out}");
    for l in &ns_lines {
        let ttl: u32 = l
            .split_whitespace()
            .nth(1)
            .and_then(|t| t.parse().ok())
            .expect("ttl");
        assert!(
            ttl <= 300,
            "the zone's TTL (300), not the delegation's: {out}"
        );
    }

    // AXFR: SOA first and last, every record of the zone file.
    let out = dig(&["@10.0.3.22", "example.com", "AXFR"]);
    let got: Vec<String> = records(&out)
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let want = zone_records();
    assert_eq!(got.len(), want.len() + 1, "{out}");
    assert!(
        got[0].contains(" SOA ") && got[got.len() - 1].contains(" SOA "),
        "{out}"
    );
    for r in &want {
        assert!(got.contains(r), "{r} missing from the transfer:\n{out}");
    }
    assert!(out.contains(";; XFR size:"), "{out}");

    assert!(capture.wait().expect("capture ends").success());
    let tshark = Command::new("tshark")
        .args(["-r"])
        .arg(&file)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.protocols",
            "-e",
            "_ws.malformed",
            "-e",
            "_ws.expert.severity",
        ])
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&tshark.stdout);
    assert!(
        tshark.status.success(),
        "{}",
        String::from_utf8_lossy(&tshark.stderr)
    );
    let dns_tcp = text.lines().filter(|l| l.contains("tcp:dns")).count();
    let malformed = text
        .lines()
        .filter(|l| l.to_lowercase().contains("malformed"))
        .count();
    eprintln!(
        "capture: {} frames, {dns_tcp} DNS-over-TCP, {malformed} malformed",
        text.lines().count()
    );
    assert!(dns_tcp >= 4, "DNS over TCP in the capture:\n{text}");
    assert_eq!(malformed, 0, "{text}");
}

#[test]
fn transfers_are_refused_outside_allow_transfer() {
    // The default for a server without `allow_transfer` (dns-com here).
    let test = "transfers_are_refused_outside_allow_transfer";
    let Some((lab, ns, _tap, _variant)) = tap_lab(test, &["dig"]) else {
        return;
    };
    let run = ns.exec(&["dig", "+time=5", "+tries=1", "@10.0.3.21", "com", "AXFR"]);
    assert!(
        run.stdout.contains("Transfer failed"),
        "{run:?}\n{}",
        lab.logs()
    );
    let status = lab.status("dns-com");
    assert!(
        status["device"]["dns"]["axfr_refused"].as_u64() >= Some(1),
        "{status}"
    );
}
