//! DHCP and DNS in the default lab, with real device processes: the client
//! leases its address, gateway and resolver from r1; the resolver walks
//! root -> com -> example.com, caches answers and NXDOMAINs, and fails
//! cleanly when a server is cut off.

mod common;

use common::LabRun;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vnet_wire::ethernet::{EtherType, EthernetFrame};
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4::Ipv4Packet;
use vnet_wire::udp::UdpPacket;

fn upstream_queries(lab: &LabRun) -> u64 {
    let status = lab.status("resolver");
    status["device"]["dns"]["upstream_queries"]
        .as_u64()
        .unwrap_or_else(|| panic!("no dns.upstream_queries in {status}"))
}

/// The TTL of the first answer record in dig output.
fn answer_ttl(stdout: &str) -> u32 {
    let mut lines = stdout
        .lines()
        .skip_while(|l| !l.starts_with(";; ANSWER SECTION:"));
    lines.next();
    let record = lines
        .next()
        .unwrap_or_else(|| panic!("no answer in:\n{stdout}"));
    record
        .split_whitespace()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("bad record {record:?}"))
}

/// Destinations of the DNS queries the resolver sent, in order, from a pcapng capture.
fn queries_sent(pcapng: &[u8], resolver: Ipv4Addr) -> Vec<Ipv4Addr> {
    let mut reader = pcap_file::pcapng::PcapNgReader::new(pcapng).expect("pcapng");
    let mut out = Vec::new();
    while let Some(Ok(block)) = reader.next_block() {
        let pcap_file::pcapng::Block::EnhancedPacket(epb) = block else {
            continue;
        };
        let data = &epb.data[..epb.data.len().saturating_sub(4)]; // strip the FCS
        let Ok(eth) = EthernetFrame::new_checked(data) else {
            continue;
        };
        if eth.ethertype() != EtherType::Ipv4 {
            continue;
        }
        let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
            continue;
        };
        if ip.src_addr() != resolver || ip.next_header() != IpProtocol::Udp {
            continue;
        }
        let Ok(udp) = UdpPacket::new_checked(ip.payload()) else {
            continue;
        };
        if udp.dst_port() == 53 {
            out.push(ip.dst_addr());
        }
    }
    out
}

#[test]
fn dhcp_lease_then_dns_iteration_cache_and_negative_cache() {
    let lab = LabRun::default_lab();

    // DHCP: the client got an address, the gateway and the resolver from r1.
    let run = lab.exec("client", &["ip", "route"]);
    assert!(
        run.stdout.contains("default via 10.0.1.1 dev eth0"),
        "{run:?}"
    );
    let run = lab.vnet(&["show", "r1", "leases"]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("10.0.1.100") && l.contains("bound")),
        "{run:?}"
    );

    // Capture the resolver's cable while the client resolves www.example.com.
    let file = lab.dir.path().join("resolver.pcapng");
    let mut capture = Command::new(common::vnet_bin())
        .arg("--run-dir")
        .arg(lab.dir.path())
        .args([
            "capture",
            "resolver:eth0",
            "-w",
            file.to_str().expect("utf8"),
            "--seconds",
            "3",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("capture starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while lab.status("resolver")["interfaces"][0]["captures"].as_u64() != Some(1) {
        assert!(Instant::now() < deadline, "capture never attached");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = upstream_queries(&lab);
    let run = lab.exec("client", &["dig", "www.example.com"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("status: NOERROR"), "{run:?}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("www.example.com.") && l.ends_with("IN\tA\t10.0.3.10")),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(";; SERVER: 10.0.2.53#53"),
        "the DHCP-learned resolver answers: {run:?}"
    );
    let first_ttl = answer_ttl(&run.stdout);
    assert_eq!(
        upstream_queries(&lab),
        before + 3,
        "one query each to root, com and example.com"
    );
    assert!(capture.wait().expect("capture ends").success());
    let sent = queries_sent(
        &std::fs::read(&file).expect("capture file"),
        Ipv4Addr::new(10, 0, 2, 53),
    );
    assert_eq!(
        sent,
        [
            Ipv4Addr::new(10, 0, 3, 20),
            Ipv4Addr::new(10, 0, 3, 21),
            Ipv4Addr::new(10, 0, 3, 22)
        ],
        "the resolver iterates root -> com -> example.com"
    );

    // Again, a second later: from the cache, no upstream query, a lower TTL.
    std::thread::sleep(Duration::from_millis(1100)); // let the TTL tick down one second
    let run = lab.exec("client", &["dig", "www.example.com"]);
    assert!(run.stdout.contains("status: NOERROR"), "{run:?}");
    assert_eq!(
        upstream_queries(&lab),
        before + 3,
        "answered from the cache"
    );
    assert!(
        answer_ttl(&run.stdout) < first_ttl,
        "TTL counts down in the cache: {run:?}"
    );

    // An unknown name: NXDOMAIN with the SOA, then from the negative cache.
    let run = lab.exec("client", &["dig", "nothere.example.com"]);
    assert!(run.stdout.contains("status: NXDOMAIN"), "{run:?}");
    assert!(run.stdout.contains("IN\tSOA\tns.example.com."), "{run:?}");
    let after_nx = upstream_queries(&lab);
    let run = lab.exec("client", &["dig", "nothere.example.com"]);
    assert!(run.stdout.contains("status: NXDOMAIN"), "{run:?}");
    assert_eq!(
        upstream_queries(&lab),
        after_nx,
        "NXDOMAIN answered from the negative cache"
    );

    // MX: every record with its preference.
    let run = lab.exec("client", &["dig", "example.com", "MX"]);
    assert!(
        run.stdout.contains("IN\tMX\t10 mail1.example.com."),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("IN\tMX\t20 mail2.example.com."),
        "{run:?}"
    );

    // The resolver's cache lists the entries with their remaining TTL.
    let run = lab.vnet(&["show", "resolver", "cache"]);
    assert!(run.stdout.contains("www.example.com."), "{run:?}");
    assert!(run.stdout.contains("NXDOMAIN"), "{run:?}");

    // The laptop (static, nameservers from the topology) resolves too, and
    // +norecurse is answered from the resolver's cache alone.
    let run = lab.exec("laptop", &["dig", "+norecurse", "www.example.com"]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("www.example.com.")),
        "{run:?}"
    );
}
