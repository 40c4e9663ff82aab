//! The fuzz targets of vnet's parsers, written once.
//!
//! Why a module file and not a `crates/fuzz-targets` library: this file is
//! compiled twice, by `#[path]` inclusion, and by nothing else:
//!
//! * by each cargo-fuzz binary in `fuzz/fuzz_targets/` (nightly, libFuzzer,
//!   coverage-guided; `fuzz/` is its own workspace, outside `crates/*`);
//! * by the root package's stable test `tests/fuzz_corpora.rs`, which runs
//!   every target over `fuzz/corpus/<target>/` and deterministic mutations
//!   of it, so CI exercises the targets without nightly.
//!
//! A library crate under `crates/` would join the main workspace (its glob
//! is `crates/*`) and be built, linted and published-checked with every
//! device crate for the sake of one test; a module file costs nothing and
//! both users depend on the parser crates already.
//!
//! Every target takes arbitrary bytes and must not panic. Where the parser
//! has an emitter, whatever parses is emitted and parsed again, and the two
//! parses must agree (`assert!`): the fuzzer reports a failed round trip as
//! a crash, like a panic.
//!
//! Inputs of the UDP and TCP targets start with the 8-byte pseudo-header
//! addresses (source IPv4, destination IPv4) that the checksum covers, so
//! the fuzzer can reach the code after the checksum check.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::Path;

use vnet_wire::arp::{ArpPacket, ArpRepr};
use vnet_wire::dhcp::DhcpMessage;
use vnet_wire::dns::DnsMessage;
use vnet_wire::ethernet::{EthernetFrame, EthernetRepr};
use vnet_wire::http::{self, ChunkedDecoder, Method, Parse, Url, encode_chunk, encode_last_chunk};
use vnet_wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use vnet_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use vnet_wire::tcp::{TcpPacket, TcpRepr};
use vnet_wire::udp::{UdpPacket, UdpRepr};

/// A fuzz target: arbitrary bytes in, a panic on a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name of its cargo-fuzz binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("ethernet", ethernet),
    ("arp", arp),
    ("ipv4", ipv4),
    ("icmp", icmp),
    ("udp", udp),
    ("tcp", tcp),
    ("dns_message", dns_message),
    ("dns_tcp", dns_tcp),
    ("dhcp", dhcp),
    ("http_head", http_head),
    ("http_chunked", http_chunked),
    ("url", url),
    ("http_validators", http_validators),
    ("envelope", envelope),
    ("zone_file", zone_file),
    ("topology_toml", topology_toml),
    ("otlp_decode", otlp_decode),
    ("describe", describe),
    ("rip", rip),
    ("tls", tls),
    ("ospf", ospf),
];

/// Ethernet II header (and the FCS check): parse → emit → parse.
pub fn ethernet(data: &[u8]) {
    let _ = vnet_wire::ethernet::check_fcs(data);
    let Ok(frame) = EthernetFrame::new_checked(data) else {
        return;
    };
    let _ = frame.payload();
    let Ok(repr) = EthernetRepr::parse(&frame) else {
        return;
    };
    let mut buf = data.to_vec();
    repr.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
    assert_eq!(buf, data, "Ethernet header re-emitted differently");
    let again = EthernetFrame::new_checked(&buf[..]).and_then(|f| EthernetRepr::parse(&f));
    assert_eq!(again, Ok(repr));
}

/// Ethernet/IPv4 ARP: parse → emit → parse.
pub fn arp(data: &[u8]) {
    let Ok(packet) = ArpPacket::new_checked(data) else {
        return;
    };
    let Ok(repr) = ArpRepr::parse(&packet) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
    let again = ArpPacket::new_checked(&buf[..]).and_then(|p| ArpRepr::parse(&p));
    assert_eq!(again, Ok(repr));
}

/// IPv4 header (options skipped): parse → emit (no options) → parse.
pub fn ipv4(data: &[u8]) {
    let Ok(packet) = Ipv4Packet::new_checked(data) else {
        return;
    };
    let payload = packet.payload();
    let Ok(repr) = Ipv4Repr::parse(&packet) else {
        return;
    };
    assert_eq!(payload.len(), repr.payload_len, "payload length");
    let mut buf = vec![0u8; repr.total_len()];
    buf[repr.buffer_len()..].copy_from_slice(payload);
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
    let again = Ipv4Packet::new_checked(&buf[..]).and_then(|p| Ipv4Repr::parse(&p));
    assert_eq!(again, Ok(repr));
    let back = Ipv4Packet::new_unchecked(&buf[..]);
    assert_eq!(back.payload(), payload);
}

/// ICMPv4 message: parse → emit → parse.
pub fn icmp(data: &[u8]) {
    if let Ok(packet) = Icmpv4Packet::new_checked(data) {
        let _ = Icmpv4Repr::parse(&packet);
    }
    let Ok(repr) = Icmpv4Repr::parse_bytes(data) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
    assert_eq!(Icmpv4Repr::parse_bytes(&buf), Ok(repr));
}

/// Splits the 8-byte pseudo-header addresses off a UDP or TCP input.
fn addrs(data: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, &[u8])> {
    let (a, rest) = data.split_first_chunk::<4>()?;
    let (b, rest) = rest.split_first_chunk::<4>()?;
    Some((Ipv4Addr::from(*a), Ipv4Addr::from(*b), rest))
}

/// UDP datagram (input: src IPv4, dst IPv4, datagram): parse → emit → parse.
pub fn udp(data: &[u8]) {
    let Some((src, dst, data)) = addrs(data) else {
        return;
    };
    let Ok(packet) = UdpPacket::new_checked(data) else {
        return;
    };
    let payload = packet.payload();
    let Ok(repr) = UdpRepr::parse(&packet, src, dst) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len(payload.len())];
    repr.emit_with_payload(
        &mut UdpPacket::new_unchecked(&mut buf[..]),
        src,
        dst,
        payload,
    );
    let back = UdpPacket::new_checked(&buf[..]).expect("re-emitted UDP is well formed");
    assert_eq!(UdpRepr::parse(&back, src, dst), Ok(repr));
    assert_eq!(back.payload(), payload);
}

/// TCP segment with options (input: src IPv4, dst IPv4, segment): parse
/// (unverified, then verified) → emit → parse.
pub fn tcp(data: &[u8]) {
    let Some((src, dst, data)) = addrs(data) else {
        return;
    };
    let Ok(packet) = TcpPacket::new_checked(data) else {
        return;
    };
    for opt in packet.options_iter() {
        if opt.is_err() {
            break;
        }
    }
    let Ok(repr) = TcpRepr::parse_unverified(&packet) else {
        return;
    };
    let _ = repr.to_string();
    let _ = TcpRepr::parse(&packet, src, dst);
    let payload = packet.payload();
    assert_eq!(payload.len(), repr.payload_len, "payload length");
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit_with_payload(
        &mut TcpPacket::new_unchecked(&mut buf[..]),
        src,
        dst,
        payload,
    );
    let back = TcpPacket::new_checked(&buf[..]).expect("re-emitted TCP is well formed");
    // SACK blocks that do not fit beside our option layout are not emitted.
    let mut want = repr;
    let fit = want.sack_blocks_fit();
    for b in want.sack_blocks.iter_mut().skip(fit) {
        *b = None;
    }
    assert_eq!(TcpRepr::parse(&back, src, dst), Ok(want));
    assert_eq!(back.payload(), payload);
}

/// DNS message: parse → emit → parse, and truncated emission parses.
pub fn dns_message(data: &[u8]) {
    let Ok(m) = DnsMessage::parse(data) else {
        return;
    };
    for r in m.answers.iter().chain(&m.authorities).chain(&m.additionals) {
        let _ = (
            r.name.to_string(),
            r.rtype().to_string(),
            r.class.to_string(),
        );
    }
    let again = m.emit(usize::MAX);
    assert_eq!(DnsMessage::parse(&again).as_ref(), Ok(&m));
    let short = m.emit(512);
    assert!(short.len() <= 512);
    assert!(
        DnsMessage::parse(&short).is_ok(),
        "truncated emission does not parse"
    );
}

/// A DNS-over-TCP byte stream (RFC 1035 §4.2.2): the first octet picks the
/// framer's limit and the chunk size the rest is fed in; every message the
/// framer yields stays within the limit, and each one that parses has its
/// EDNS OPT read, re-encoded and read back identically (RFC 6891).
pub fn dns_tcp(data: &[u8]) {
    let Some((&knob, stream)) = data.split_first() else {
        return;
    };
    let max = usize::from(knob) * 4;
    let chunk = usize::from(knob % 17) + 1;
    let mut framer = vnet_wire::dns::TcpFramer::new(max);
    let mut input = stream;
    while !input.is_empty() {
        let n = framer.push(&input[..input.len().min(chunk)]);
        input = &input[n..];
        assert!(framer.buffered() <= max + 2);
        loop {
            match framer.next_message() {
                Ok(Some(m)) => {
                    assert!(m.len() <= max);
                    dns_opt(&m);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        if n == 0 {
            return;
        }
    }
}

/// The OPT record of a message, if it parses: decode → encode → decode.
fn dns_opt(message: &[u8]) {
    let Ok(m) = DnsMessage::parse(message) else {
        return;
    };
    let _ = m.full_rcode();
    if let Ok(Some(e)) = m.edns() {
        let back = vnet_wire::dns::Edns::from_record(&e.to_record());
        assert_eq!(back.as_ref(), Ok(&e));
    }
}

/// DHCP message: parse → emit → parse.
pub fn dhcp(data: &[u8]) {
    let Ok(m) = DhcpMessage::parse(data) else {
        return;
    };
    let again = m.emit();
    assert_eq!(DhcpMessage::parse(&again).as_ref(), Ok(&m));
}

/// HTTP/1.1 request and response heads: parse → emit → parse.
pub fn http_head(data: &[u8]) {
    if let Ok(Parse::Complete { head, len }) = http::parse_request_head(data) {
        assert!(len <= data.len());
        let _ = http::request_framing(&head);
        let _ = http::keep_alive(head.version, &head.headers);
        let bytes = head.to_bytes();
        assert_eq!(
            http::parse_request_head(&bytes),
            Ok(Parse::Complete {
                head,
                len: bytes.len()
            })
        );
    }
    if let Ok(Parse::Complete { head, len }) = http::parse_response_head(data) {
        assert!(len <= data.len());
        let _ = http::response_framing(&head, &Method::Get);
        let _ = http::keep_alive(head.version, &head.headers);
        let bytes = head.to_bytes();
        assert_eq!(
            http::parse_response_head(&bytes),
            Ok(Parse::Complete {
                head,
                len: bytes.len()
            })
        );
    }
}

/// Chunked body: decoding does not depend on how the input is split, and
/// the decoded body re-encodes and decodes to itself.
pub fn http_chunked(data: &[u8]) {
    const LIMIT: u64 = 1 << 20;
    let mut whole = ChunkedDecoder::new(LIMIT);
    let mut out = Vec::new();
    let result = whole.decode(data, &mut out);
    // The same bytes fed in two pieces (cut where the first byte says).
    let cut = data
        .first()
        .map_or(0, |&b| usize::from(b) % (data.len() + 1));
    let mut split = ChunkedDecoder::new(LIMIT);
    let mut out2 = Vec::new();
    let split_result = split.decode(&data[..cut], &mut out2).and_then(|first| {
        if split.is_done() {
            return Ok(first);
        }
        let second = split.decode(&data[cut..], &mut out2)?;
        Ok(http::DecodeProgress {
            consumed: first.consumed + second.consumed,
            ..second
        })
    });
    match (&result, &split_result) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.consumed, b.consumed, "consumed depends on the split");
            assert_eq!(out, out2, "decoded body depends on the split");
            assert_eq!(whole.is_done(), split.is_done());
        }
        (Err(_), Err(_)) => {}
        _ => panic!("split changes the outcome: {result:?} vs {split_result:?}"),
    }
    let Ok(progress) = result else {
        return;
    };
    assert!(progress.consumed <= data.len());
    if !whole.is_done() {
        return;
    }
    let mut enc = Vec::new();
    encode_chunk(&out, &mut enc);
    encode_last_chunk(&mut enc);
    let mut dec = ChunkedDecoder::new(LIMIT);
    let mut again = Vec::new();
    let p = dec
        .decode(&enc, &mut again)
        .expect("re-encoded body decodes");
    assert!(dec.is_done());
    assert_eq!(p.consumed, enc.len());
    assert_eq!(again, out);
}

/// The conditional and range header fields of RFC 9110 (Range,
/// Content-Range, If-None-Match lists, If-Range, HTTP-dates): parse →
/// emit → parse, and every satisfiable range lies inside the length the
/// first 8 bytes give.
pub fn http_validators(data: &[u8]) {
    let (len, value) = match data.split_first_chunk::<8>() {
        Some((n, rest)) => (u64::from_be_bytes(*n), rest),
        None => (0, data),
    };
    if let Ok(specs) = http::parse_range(value) {
        let text = http::range_value(&specs);
        assert_eq!(http::parse_range(text.as_bytes()), Ok(specs.clone()));
        for s in specs {
            if let Some((a, b)) = s.resolve(len) {
                assert!(a <= b && b < len, "{s} of {len}: {a}-{b}");
            }
        }
    }
    if let Ok(cr) = http::ContentRange::parse(value) {
        assert_eq!(http::ContentRange::parse(cr.to_string().as_bytes()), Ok(cr));
    }
    if let Ok(list) = http::EtagList::parse([value]) {
        let bytes = list.to_bytes();
        assert_eq!(http::EtagList::parse([bytes.as_slice()]), Ok(list));
    }
    if let Ok(http::IfRange::Tag(t)) = http::IfRange::parse(value) {
        assert_eq!(http::EntityTag::parse(&t.to_bytes()), Ok(t));
    }
    if let Some(secs) = std::str::from_utf8(value)
        .ok()
        .and_then(http::date::parse_http_date)
    {
        let text = http::date::imf_fixdate(secs);
        assert_eq!(http::date::parse_http_date(&text), Some(secs));
    }
}

/// URL: parse → display → parse, plus relative resolution and
/// percent-decoding.
pub fn url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(u) = Url::parse(&text) {
        let shown = u.to_string();
        assert_eq!(Url::parse(&shown).as_ref(), Ok(&u), "display: {shown:?}");
        let _ = u.check_http();
        let _ = u.port_or_default();
    }
    let _ = Url::parse_http(&text);
    if let Ok(base) = Url::parse("http://a/b/c/d;p?q") {
        let _ = base.join(&text);
    }
    let _ = http::percent_decode(&text);
    let _ = http::remove_dot_segments(&text);
}

/// Cable envelope: decode → encode → decode.
pub fn envelope(data: &[u8]) {
    use vnet_cable::envelope::Envelope;
    let Ok((env, offset)) = Envelope::decode(data) else {
        return;
    };
    assert_eq!(offset, env.header_len());
    assert!(offset <= data.len());
    let mut buf = vec![0u8; env.header_len()];
    let n = env.encode(&mut buf);
    assert_eq!(n, buf.len());
    assert_eq!(Envelope::decode(&buf), Ok((env, offset)));
}

/// DNS zone file (master file text; no emitter).
pub fn zone_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(zone) = vnet_dns::zone::Zone::parse("fuzz.zone", &text) {
        let _ = (zone.origin().to_string(), zone.serial(), zone.len());
        for r in zone.records() {
            let _ = r.name.to_string();
        }
    }
}

/// Topology TOML (`Lab::parse`; no emitter).
pub fn topology_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = vnet_topology::lab::Lab::parse(Path::new("fuzz.toml"), &text);
}

/// OTLP/protobuf `ExportTraceServiceRequest` body (no emitter of ours).
pub fn otlp_decode(data: &[u8]) {
    let _ = vnet_collector::decode::decode_request(data);
}

/// The frame dissector: never panics, text never empty nor multi-line.
pub fn describe(data: &[u8]) {
    let s = vnet_wire::describe::describe(data);
    assert!(!s.text.is_empty(), "empty description");
    assert!(
        !s.text.contains(['\n', '\r']),
        "line break in description: {:?}",
        s.text
    );
}

/// RIPv2 message (the UDP payload): parse → emit → parse.
pub fn rip(data: &[u8]) {
    let Ok(message) = vnet_wire::rip::RipMessage::parse(data) else {
        return;
    };
    let again = vnet_wire::rip::RipMessage::parse(&message.emit());
    assert_eq!(again.as_ref(), Ok(&message), "RIP round trip");
}

/// A TCP payload of TLS records (RFC 8446 §5.1): every complete record
/// re-emits to the very bytes it was read from, every handshake message
/// (RFC 8446 §4) is read as a ClientHello and a ServerHello, whole or in
/// part, and the summary is one line, for TLS-looking bytes only.
pub fn tls(data: &[u8]) {
    use vnet_wire::tls::{self, ClientHello, ServerHello};
    let mut at = 0;
    for record in tls::parse_records(data) {
        let Ok(record) = record else {
            break;
        };
        let len = tls::RECORD_HEADER_LEN + record.fragment.len();
        if record.complete {
            let h = record.header;
            let again = tls::emit_record(h.content_type, h.version, record.fragment)
                .expect("a parsed record re-emits");
            assert_eq!(again, data[at..at + len], "record re-emitted differently");
        }
        at += len;
        for m in tls::parse_handshakes(record.fragment) {
            let Ok(m) = m else {
                break;
            };
            let length = usize::try_from(m.length).unwrap_or(usize::MAX);
            let (ch, sh) = (
                ClientHello::parse_partial(m.body, length),
                ServerHello::parse_partial(m.body, length),
            );
            if m.complete {
                assert_eq!(ClientHello::parse(m.body), ch);
                assert_eq!(ServerHello::parse(m.body), sh);
            }
        }
    }
    assert!(at <= data.len());
    if let Ok(s) = tls::summary(data) {
        assert!(tls::looks_like_tls(data), "summary of non-TLS: {s:?}");
        assert!(!s.is_empty() && !s.contains(['\n', '\r']), "summary: {s:?}");
    }
}

/// An OSPFv2 packet (RFC 2328 §A.3) with its checksum made right first, so
/// mutations reach the bodies: parse → emit → parse, and every LSA of an
/// update re-emits to bytes that parse back to it (checksum valid or not).
pub fn ospf(data: &[u8]) {
    use vnet_wire::ospf::{self, Lsa, OspfBody, OspfPacket};
    let mut bytes = data.to_vec();
    if bytes.len() >= ospf::HEADER_LEN {
        let length = usize::from(u16::from_be_bytes([bytes[2], bytes[3]])).min(bytes.len());
        if let Some(sum) = ospf::packet_checksum(&bytes[..length]) {
            bytes[12..14].copy_from_slice(&sum.to_be_bytes());
        }
    }
    let _ = OspfPacket::parse(data);
    let Ok(packet) = OspfPacket::parse(&bytes) else {
        return;
    };
    let again = OspfPacket::parse(&packet.emit());
    assert_eq!(again.as_ref(), Ok(&packet), "OSPF round trip");
    if let OspfBody::LinkStateUpdate(lsas) = &packet.body {
        for lsa in lsas {
            let _ = lsa.checksum_ok();
            let again = Lsa::parse(&lsa.emit());
            assert_eq!(again.as_ref(), Ok(lsa), "LSA round trip");
        }
    }
}
