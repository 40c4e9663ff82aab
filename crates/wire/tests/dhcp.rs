//! DHCP known-answer tests on a real DORA capture, and property tests.

use std::net::Ipv4Addr;

use proptest::prelude::*;
use vnet_wire::WireError;
use vnet_wire::dhcp::{
    self, DhcpMessage, DhcpMessageType, DhcpOp, DhcpOption, MIN_BOOTP_LEN, option_code,
};
use vnet_wire::ethernet::{EthernetAddress, EthernetFrame};
use vnet_wire::ipv4::Ipv4Packet;
use vnet_wire::udp::UdpPacket;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

/// `n` zero octets as hex.
fn zeros(n: usize) -> String {
    "00".repeat(n)
}

/// Frame 1 of Wireshark's `dhcp.pcap` sample: the DHCPDISCOVER of client
/// 00:0b:82:01:fc:42, xid 0x3d1d, broadcast from 0.0.0.0:68 to
/// 255.255.255.255:67. Options: type DISCOVER, client identifier (type 1 +
/// MAC), requested address 0.0.0.0, parameter request list 1, 3, 6, 42; end;
/// 7 octets of padding (a 272-octet message, under the BOOTP minimum).
fn discover_frame() -> Vec<u8> {
    hex(&format!(
        "ffffffffffff 000b8201fc42 0800
         4500012ca8360000fa11178b 00000000 ffffffff
         0044 0043 0118 591f
         01 01 06 00 00003d1d 0000 0000 00000000 00000000 00000000 00000000
         000b8201fc42 {} {}
         63825363 350101 3d0701000b8201fc42 320400000000 370401030 62a ff {}",
        zeros(10),
        zeros(64 + 128),
        zeros(7)
    ))
}

/// Frame 4 of the same capture: the server's DHCPACK, 192.168.0.1:67 to
/// 192.168.0.10:68 (UDP checksum 0xdfdb), yiaddr 192.168.0.10, options:
/// type ACK, T1 1800 s, T2 3150 s, lease 3600 s, server 192.168.0.1, mask
/// 255.255.255.0; end; padded to 300 octets.
fn ack_frame() -> Vec<u8> {
    hex(&format!(
        "000b8201fc42 000874adf19b 0800
         450001480446000080110000 c0a80001 c0a8000a
         0043 0044 0134 dfdb
         02 01 06 00 00003d1e 0000 0000 00000000 c0a8000a 00000000 00000000
         000b8201fc42 {} {}
         63825363 350105 3a0400000708 3b0400000c4e 330400000e10 3604c0a80001 0104ffffff00 ff {}",
        zeros(10),
        zeros(64 + 128),
        zeros(26)
    ))
}

/// The UDP payload of a captured frame, after checking the UDP checksum
/// (the capture's IPv4 checksums were offloaded and are zero in the ACK).
fn payload(frame: &[u8]) -> Vec<u8> {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    assert!(udp.verify_checksum(ip.src_addr(), ip.dst_addr()));
    udp.payload().to_vec()
}

const CLIENT: EthernetAddress = EthernetAddress([0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]);

#[test]
fn real_discover() {
    let b = payload(&discover_frame());
    assert_eq!(b.len(), 272);
    let m = DhcpMessage::parse(&b).unwrap();
    assert_eq!(m.op, DhcpOp::BootRequest);
    assert_eq!(
        (m.htype, m.hlen, m.hops, m.xid, m.secs),
        (1, 6, 0, 0x3d1d, 0)
    );
    assert!(!m.broadcast);
    assert_eq!(m.chaddr, CLIENT);
    assert_eq!(
        [m.ciaddr, m.yiaddr, m.siaddr, m.giaddr],
        [Ipv4Addr::UNSPECIFIED; 4]
    );
    assert!(m.sname.is_empty() && m.file.is_empty());
    assert_eq!(
        m.options,
        vec![
            DhcpOption::MessageType(DhcpMessageType::Discover),
            DhcpOption::ClientIdentifier(vec![1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]),
            DhcpOption::RequestedIp(Ipv4Addr::UNSPECIFIED),
            DhcpOption::ParameterRequestList(vec![1, 3, 6, 42]),
        ]
    );
    assert_eq!(m.message_type(), Some(DhcpMessageType::Discover));
    assert_eq!(m.requested_ip(), Some(Ipv4Addr::UNSPECIFIED));
    // Re-encoded: the same octets, padded to the 300-octet BOOTP minimum.
    let mut want = b.clone();
    want.resize(MIN_BOOTP_LEN, 0);
    assert_eq!(m.emit(), want);
}

#[test]
fn real_ack() {
    let b = payload(&ack_frame());
    assert_eq!(b.len(), 300);
    let m = DhcpMessage::parse(&b).unwrap();
    assert_eq!(m.op, DhcpOp::BootReply);
    assert_eq!(m.xid, 0x3d1e);
    assert_eq!(m.yiaddr, Ipv4Addr::new(192, 168, 0, 10));
    assert_eq!(m.chaddr, CLIENT);
    let server = Ipv4Addr::new(192, 168, 0, 1);
    assert_eq!(
        m.options,
        vec![
            DhcpOption::MessageType(DhcpMessageType::Ack),
            DhcpOption::RenewalTime(1800),
            DhcpOption::RebindingTime(3150),
            DhcpOption::LeaseTime(3600),
            DhcpOption::ServerIdentifier(server),
            DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
        ]
    );
    assert_eq!(m.server_identifier(), Some(server));
    assert_eq!(m.lease_time(), Some(3600));
    assert_eq!(
        m.option(option_code::SUBNET_MASK),
        Some(&DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
    );
    assert_eq!(m.emit(), b);

    // Built from scratch as a server would, the reply is the same message.
    let request = DhcpMessage {
        xid: 0x3d1e,
        ..DhcpMessage::client(0, CLIENT, DhcpMessageType::Request)
    };
    let mut ack = DhcpMessage::reply_to(&request, DhcpMessageType::Ack);
    ack.yiaddr = Ipv4Addr::new(192, 168, 0, 10);
    ack.options.extend([
        DhcpOption::RenewalTime(1800),
        DhcpOption::RebindingTime(3150),
        DhcpOption::LeaseTime(3600),
        DhcpOption::ServerIdentifier(server),
        DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
    ]);
    assert_eq!(ack.emit(), b);
}

#[test]
fn plain_bootp_and_damaged_captures_are_refused() {
    let mut b = payload(&ack_frame());
    // No magic cookie: BOOTP, not DHCP.
    b[236..240].fill(0);
    assert!(matches!(
        DhcpMessage::parse(&b),
        Err(WireError::Malformed {
            field: "magic cookie",
            ..
        })
    ));
    let b = payload(&discover_frame());
    // Cut inside the client identifier.
    assert!(matches!(
        DhcpMessage::parse(&b[..248]),
        Err(WireError::Truncated { .. })
    ));
    assert!(matches!(
        DhcpMessage::parse(&b[..200]),
        Err(WireError::Truncated { .. })
    ));
    assert_eq!(dhcp::SERVER_PORT, 67);
    assert_eq!(dhcp::CLIENT_PORT, 68);
}

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn text() -> impl Strategy<Value = String> {
    "[a-z0-9.\\- ]{1,40}"
}

fn option() -> impl Strategy<Value = DhcpOption> {
    prop_oneof![
        (1u8..=12).prop_map(|t| DhcpOption::MessageType(t.into())),
        ip().prop_map(DhcpOption::SubnetMask),
        prop::collection::vec(ip(), 1..80).prop_map(DhcpOption::Router),
        prop::collection::vec(ip(), 1..5).prop_map(DhcpOption::DnsServers),
        text().prop_map(DhcpOption::DomainName),
        ip().prop_map(DhcpOption::RequestedIp),
        any::<u32>().prop_map(DhcpOption::LeaseTime),
        ip().prop_map(DhcpOption::ServerIdentifier),
        prop::collection::vec(any::<u8>(), 1..20).prop_map(DhcpOption::ParameterRequestList),
        text().prop_map(DhcpOption::Message),
        any::<u32>().prop_map(DhcpOption::RenewalTime),
        any::<u32>().prop_map(DhcpOption::RebindingTime),
        prop::collection::vec(any::<u8>(), 2..300).prop_map(DhcpOption::ClientIdentifier),
        (
            prop::sample::select(vec![12u8, 43, 60, 81, 82, 119, 121, 254]),
            prop::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(code, data)| DhcpOption::Unknown { code, data }),
    ]
}

fn cstring(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(1u8..=255, 0..=max)
}

fn message() -> impl Strategy<Value = DhcpMessage> {
    let fixed = (
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u32>(),
            any::<u16>(),
            any::<bool>(),
        ),
        (ip(), ip(), ip(), ip(), any::<[u8; 6]>()),
        (cstring(64), cstring(128)),
    );
    // One instance per code: repeated codes are joined on parse (RFC 3396).
    let options = prop::collection::vec(option(), 0..8).prop_map(|v| {
        let mut seen = Vec::new();
        v.into_iter()
            .filter(|o| {
                !seen.contains(&o.code()) && {
                    seen.push(o.code());
                    true
                }
            })
            .collect::<Vec<_>>()
    });
    (fixed, options).prop_map(
        |(
            ((op, htype, hlen, hops, xid, secs, broadcast), (ci, yi, si, gi, mac), (sname, file)),
            options,
        )| {
            DhcpMessage {
                op: op.into(),
                htype,
                hlen,
                hops,
                xid,
                secs,
                broadcast,
                ciaddr: ci,
                yiaddr: yi,
                siaddr: si,
                giaddr: gi,
                chaddr: EthernetAddress(mac),
                sname,
                file,
                options,
            }
        },
    )
}

/// Arbitrary bytes behind a valid fixed part and cookie, so the option
/// parser is what gets exercised.
fn dhcp_like() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 32]>(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(head, opts)| {
            let mut b = vec![0u8; dhcp::MIN_LEN];
            b[..32].copy_from_slice(&head);
            b[236..240].copy_from_slice(&dhcp::MAGIC_COOKIE);
            b.extend_from_slice(&opts);
            b
        })
}

fn check(b: &[u8]) {
    if let Ok(m) = DhcpMessage::parse(b) {
        let _ = (m.message_type(), m.server_identifier(), m.lease_time());
        if let Some(t) = m.message_type() {
            let _ = t.to_string();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&b);
    }

    #[test]
    fn arbitrary_options_never_panic(b in dhcp_like()) {
        check(&b);
    }

    #[test]
    fn emit_parse_round_trip(m in message()) {
        let b = m.emit();
        prop_assert!(b.len() >= MIN_BOOTP_LEN);
        prop_assert_eq!(&b[236..240], &dhcp::MAGIC_COOKIE[..]);
        let p = DhcpMessage::parse(&b).unwrap();
        prop_assert_eq!(&p, &m);
        prop_assert_eq!(p.emit(), b);
    }
}
