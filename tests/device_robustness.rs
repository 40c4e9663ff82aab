//! A single device process whose cable peers are sockets owned by the test:
//! malformed input from the network is dropped and counted, never crashes
//! the device, and valid traffic keeps flowing.

mod common;

use common::http;
use common::single_device::{Device, datagram, free_tcp, start, start_with_env};
use std::net::UdpSocket;
use std::time::{Duration, Instant};
use vnet_cable::Envelope;
use vnet_topology::device::DeviceKind;
use vnet_wire::ethernet;

fn broadcast_frame(src: u8) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&[0x02, 0xaa, 0, 0, 0, src]);
    f[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
    f[14..20].copy_from_slice(b"vnet!!");
    f
}

/// Receives one frame (checking envelope and FCS), or None after `wait`.
fn recv_frame(sock: &UdpSocket, wait: Duration) -> Option<Vec<u8>> {
    sock.set_read_timeout(Some(wait)).expect("timeout");
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).ok()?;
    let (_, off) = Envelope::decode(&buf[..n]).expect("device sends valid envelopes");
    let frame = ethernet::check_fcs(&buf[off..n]).expect("device sends a valid FCS");
    Some(frame.to_vec())
}

fn counter(dev: &Device, iface: usize, name: &str) -> u64 {
    let (status, body) = http("GET", dev.admin, "/status");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    v["interfaces"][iface]["counters"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} in {v}"))
}

#[test]
fn switch_drops_and_counts_bad_input_and_keeps_forwarding() {
    let peers: Vec<UdpSocket> = (0..3)
        .map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let (dev, locals) = start(DeviceKind::Switch, &peers.iter().collect::<Vec<_>>(), &[]);

    // A valid broadcast from port 0 is flooded to ports 1 and 2, not back to 0.
    let frame = broadcast_frame(1);
    peers[0]
        .send_to(&datagram(&frame), locals[0])
        .expect("send");
    assert_eq!(
        recv_frame(&peers[1], Duration::from_secs(2)).as_deref(),
        Some(&frame[..])
    );
    assert_eq!(
        recv_frame(&peers[2], Duration::from_secs(2)).as_deref(),
        Some(&frame[..])
    );
    assert_eq!(recv_frame(&peers[0], Duration::from_millis(200)), None);

    // Bad FCS: flip one payload bit after the FCS was computed.
    let mut bad = datagram(&broadcast_frame(2));
    bad[20] ^= 0x01;
    peers[0].send_to(&bad, locals[0]).expect("send");
    // Bad envelope: wrong magic, and a runt.
    let mut wrong_magic = datagram(&broadcast_frame(3));
    wrong_magic[0] = b'X';
    peers[0].send_to(&wrong_magic, locals[0]).expect("send");
    peers[0].send_to(b"VN", locals[0]).expect("send");
    // Foreign source: a valid datagram from a socket that is not the peer.
    let stranger = UdpSocket::bind("127.0.0.1:0").expect("bind");
    stranger
        .send_to(&datagram(&broadcast_frame(4)), locals[0])
        .expect("send");

    // None of them is forwarded...
    assert_eq!(recv_frame(&peers[1], Duration::from_millis(300)), None);
    // ...each is counted by reason...
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let counts = (
            counter(&dev, 0, "drop_bad_fcs"),
            counter(&dev, 0, "drop_bad_envelope"),
            counter(&dev, 0, "drop_foreign_source"),
        );
        if counts == (1, 2, 1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "drop counters (fcs, envelope, foreign) = {counts:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // ...and the switch still forwards.
    let frame = broadcast_frame(5);
    peers[2]
        .send_to(&datagram(&frame), locals[2])
        .expect("send");
    assert_eq!(
        recv_frame(&peers[0], Duration::from_secs(2)).as_deref(),
        Some(&frame[..])
    );
    assert_eq!(counter(&dev, 0, "frames_in"), 1);
}

#[test]
fn router_survives_garbage_and_still_answers_arp() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let (dev, locals) = start(DeviceKind::Router, &[&peer], &[Some("10.9.0.1/24")]);

    // Truncated IPv4, bad IPv4 checksum, unknown EtherType, garbage ARP: all dropped.
    let mut frames = Vec::new();
    for payload in [
        &[0x45u8, 0, 0][..],
        &[
            0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0xde, 0xad, 10, 9, 0, 2, 10, 9, 0, 1,
        ][..],
    ] {
        let mut f = vec![0xffu8; 6];
        f.extend_from_slice(&[0x02, 0xaa, 0, 0, 0, 9, 0x08, 0x00]);
        f.extend_from_slice(payload);
        frames.push(f);
    }
    let mut arp_garbage = vec![0xffu8; 6];
    arp_garbage.extend_from_slice(&[0x02, 0xaa, 0, 0, 0, 9, 0x08, 0x06, 0, 9, 9, 9]);
    frames.push(arp_garbage);
    for f in &frames {
        peer.send_to(&datagram(f), locals[0]).expect("send");
    }

    // A real ARP request for the router's address gets a reply.
    let mut req = vec![0xffu8; 6];
    req.extend_from_slice(&[0x02, 0xaa, 0, 0, 0, 9, 0x08, 0x06]);
    req.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]);
    req.extend_from_slice(&[0x02, 0xaa, 0, 0, 0, 9, 10, 9, 0, 2]);
    req.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 9, 0, 1]);
    peer.send_to(&datagram(&req), locals[0]).expect("send");
    let reply = recv_frame(&peer, Duration::from_secs(2)).expect("ARP reply");
    assert_eq!(
        &reply[0..6],
        &[0x02, 0xaa, 0, 0, 0, 9],
        "reply goes to the asker"
    );
    assert_eq!(&reply[12..14], &[0x08, 0x06]);
    assert_eq!(&reply[20..22], &[0, 2], "opcode reply");
    assert_eq!(
        &reply[28..32],
        &[10, 9, 0, 1],
        "sender protocol address is the router's"
    );
    assert_eq!(counter(&dev, 0, "frames_in"), 4);
    let (_, body) = http("GET", dev.admin, "/status");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let device = &v["device"];
    assert_eq!(device["ip_bad_header"], 1, "truncated IPv4: {device}");
    assert_eq!(device["ip_bad_checksum"], 1, "bad IPv4 checksum: {device}");
    assert_eq!(device["arp_malformed"], 1, "garbage ARP: {device}");
    assert_eq!(device["arp_replies_sent"], 1, "{device}");
}

#[test]
fn environment_overrides_config_fields() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let override_addr = free_tcp();
    let (dev, _) = start_with_env(DeviceKind::Switch, &[&peer], &[], Some(override_addr));
    assert_eq!(dev.admin, override_addr);
    let (status, body) = http("GET", dev.admin, "/status");
    assert_eq!(
        status, 200,
        "the admin API listens where VNET__ADMIN says: {body}"
    );
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["name"], "dut");
}
