//! Through a TAP end: the kernel's 42-byte ARP request reaches the TAP end
//! and the cable beyond it padded to Ethernet's minimum (60 bytes + FCS);
//! and a Linux namespace and vnet's traceroute -T/-I meet.
//!
//! Needs /dev/net/tun and CAP_NET_ADMIN; without them the test prints why
//! and skips (fails under CI=true).

mod common;

use common::tap::tap_lab;
use common::{LabRun, vnet_bin};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `vnet capture DEVICE:IFACE -w FILE --seconds S`.
fn capture_command(lab: &LabRun, device: &str, iface: &str, file: &Path, seconds: &str) -> Command {
    let mut command = Command::new(vnet_bin());
    command
        .arg("--run-dir")
        .arg(lab.dir.path())
        .args(["capture", &format!("{device}:{iface}"), "-w"])
        .arg(file)
        .args(["--seconds", seconds])
        .stderr(Stdio::piped());
    command
}

/// Waits until `device` reports a capture subscriber on `iface`.
fn wait_attached(lab: &LabRun, device: &str, iface: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = lab.status(device);
        let attached = status["interfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["name"] == iface && i["captures"].as_u64() >= Some(1));
        if attached {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "capture never attached: {status}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wire lengths (FCS included) of the ARP requests from `sender` in a pcapng
/// file, with whether the bytes after the 42-byte ARP packet are zeros.
fn arp_requests_from(file: &Path, sender: [u8; 4]) -> Vec<(usize, bool)> {
    let bytes = std::fs::read(file).expect("capture file");
    let mut reader = pcap_file::pcapng::PcapNgReader::new(&bytes[..]).expect("pcapng");
    let mut out = Vec::new();
    while let Some(Ok(block)) = reader.next_block() {
        let pcap_file::pcapng::Block::EnhancedPacket(epb) = block else {
            continue;
        };
        let data = &epb.data[..];
        let is_request = data.len() >= 42
            && data[12..14] == [0x08, 0x06]
            && data[20..22] == [0x00, 0x01]
            && data[28..32] == sender;
        if is_request {
            let padding = &data[42..data.len().saturating_sub(4).max(42)];
            out.push((data.len(), padding.iter().all(|&b| b == 0)));
        }
    }
    out
}

#[test]
fn the_kernels_arp_request_is_padded_to_the_ethernet_minimum() {
    let Some((lab, ns, _tap, _variant)) = tap_lab(
        "the_kernels_arp_request_is_padded_to_the_ethernet_minimum",
        &[],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let at_tap = dir.path().join("sw2-eth9.pcapng");
    let at_web = dir.path().join("web-eth0.pcapng");
    let mut c1 = capture_command(&lab, "sw2", "eth9", &at_tap, "4")
        .spawn()
        .expect("capture starts");
    let mut c2 = capture_command(&lab, "web", "eth0", &at_web, "4")
        .spawn()
        .expect("capture starts");
    wait_attached(&lab, "sw2", "eth9");
    wait_attached(&lab, "web", "eth0");
    let run = ns.exec(&["ip", "neigh", "flush", "all"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = ns.exec(&["ping", "-c", "1", "-W", "2", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    assert!(c1.wait().expect("capture ends").success());
    assert!(c2.wait().expect("capture ends").success());
    for file in [&at_tap, &at_web] {
        let requests = arp_requests_from(file, [10, 0, 3, 99]);
        assert!(!requests.is_empty(), "{}: no ARP request", file.display());
        for (len, zeros) in requests {
            assert_eq!(len, 64, "{}: 60 bytes + FCS", file.display());
            assert!(zeros, "{}: padding is zeros", file.display());
        }
    }

    // vnet's traceroute -T and -I from server reach the kernel, one switch away.
    for method in ["-T", "-I"] {
        // Port 22 is closed in the namespace: the kernel's RST ends -T.
        let run = lab.exec(
            "server",
            &["traceroute", "-n", method, "-p", "22", "10.0.3.99"],
        );
        assert_eq!(run.code, 0, "{method}: {run:?}");
        let hops: Vec<&str> = run.stdout.lines().skip(1).collect();
        assert_eq!(hops.len(), 1, "{method}: {run:?}");
        assert!(hops[0].starts_with(" 1  10.0.3.99  "), "{method}: {run:?}");
    }
}
