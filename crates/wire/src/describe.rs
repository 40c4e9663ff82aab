//! One-line frame summaries for traces, in the spirit of tshark's Info
//! column.
//!
//! [`describe`] dissects an Ethernet frame (without FCS) with this crate's
//! own parsers, as deep as they recognise it, and names the highest protocol
//! found, its layer and a one-line text:
//!
//! | proto    | layer | text, for example                                                     |
//! |----------|-------|-----------------------------------------------------------------------|
//! | `"eth"`  | L2    | `Ethernet 02:00:00:00:01:64 → ff:ff:ff:ff:ff:ff type 0x86dd`           |
//! | `"arp"`  | L2    | `ARP who-has 10.0.1.1 tell 10.0.1.100`, `ARP 10.0.1.1 is-at 02:…`      |
//! | `"ip"`   | L3    | `IPv4 fragment 10.0.1.100 → 10.0.3.10 id=0x002a off=0 len=1480 proto=ICMP` |
//! | `"icmp"` | L3    | `ICMP echo request 10.0.1.100 → 10.0.3.10 id=1 seq=3 ttl=64`           |
//! | `"udp"`  | L4    | `UDP 10.0.1.100:5353 → 10.0.2.53:9 len=12`                             |
//! | `"tcp"`  | L4    | `TCP 10.0.1.100:49152 → 10.0.3.10:80 [SYN] seq=1 win=64240 len=0`      |
//! | `"dns"`  | L7    | `DNS query A www.example.com (id 0x1a2b)`                              |
//! | `"dhcp"` | L7    | `DHCP OFFER 10.0.1.100 xid 0x3903f326`                                 |
//! | `"http"` | L7    | `HTTP GET /img/a.png HTTP/1.1 (10.0.1.100:49152 → 10.0.3.10:80)`       |
//! | `"tls"`  | L7    | `TLS 1.0 Client Hello SNI=www.example.com … (10.0.1.100:49152 → 10.0.3.10:443)` |
//!
//! Application protocols are recognised by port: DNS on UDP port 53, DHCP
//! on UDP ports 67/68, HTTP on TCP ports 80/8080 when the segment starts
//! with a request line or an `HTTP/1.` status line (the rest of the head
//! may follow in later segments), TLS on TCP ports 443/8443 when the
//! segment starts with a TLS record header ([`tls::looks_like_tls`]; the
//! text is [`tls::summary`]). IPv4 fragments are described as such:
//! the transport header of a non-first fragment is not there to parse.
//!
//! When a layer is truncated or malformed, the text describes the last
//! layer that parsed and ends in ` [malformed <layer>]` (e.g. a UDP
//! datagram to port 53 that is no DNS message gives
//! `UDP … len=3 [malformed dns]`). Checksums are verified but a bad one does
//! not stop the dissection, as in Wireshark: the text then ends in
//! ` [bad ip checksum]`, ` [bad icmp checksum]`, ` [bad udp checksum]` or
//! ` [bad tcp checksum]`.
//!
//! ```
//! use vnet_wire::describe::describe;
//!
//! let s = describe(&[0u8; 5]);
//! assert_eq!((s.proto, s.layer), ("eth", "L2"));
//! assert_eq!(s.text, "Ethernet frame of 5 bytes [malformed eth]");
//! ```

use core::fmt::{self, Write as _};
use core::net::Ipv4Addr;

use crate::arp::{ArpOperation, ArpPacket, ArpRepr};
use crate::dhcp::{self, DhcpMessage, DhcpMessageType, DhcpOp};
use crate::dns::{self, DnsMessage, Opcode, RecordClass, RecordData, RecordType};
use crate::ethernet::{EtherType, EthernetAddress, EthernetFrame};
use crate::http;
use crate::icmpv4::{DstUnreachable, Icmpv4Packet, Message, TimeExceeded};
use crate::ip::IpProtocol;
use crate::ipv4::Ipv4Packet;
use crate::tcp::{TcpFlags, TcpPacket, TcpRepr};
use crate::tls;
use crate::udp::UdpPacket;

/// What a frame is, for a trace span: the highest protocol recognised, its
/// layer, and a one-line summary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameSummary {
    /// The highest protocol recognised: `"eth"`, `"arp"`, `"ip"`, `"icmp"`,
    /// `"udp"`, `"tcp"`, `"dns"`, `"dhcp"`, `"http"` or `"tls"`.
    pub proto: &'static str,
    /// The layer of [`proto`](Self::proto): `"L2"` for eth and arp, `"L3"`
    /// for ip and icmp, `"L4"` for udp and tcp, `"L7"` for dns, dhcp, http
    /// and tls.
    pub layer: &'static str,
    /// The one-line summary (never empty; no line breaks come from the
    /// frame's bytes).
    pub text: String,
}

/// Describes an Ethernet frame **without** FCS (see the
/// [module docs](crate::describe) for the texts). Never panics, whatever
/// the bytes; the returned text is never empty.
pub fn describe(frame: &[u8]) -> FrameSummary {
    let mut text = String::with_capacity(128);
    let proto = ethernet(&mut text, frame);
    FrameSummary {
        proto: proto.name(),
        layer: proto.layer(),
        text,
    }
}

/// Writes formatted text to a `String`, which cannot fail.
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// The protocols a summary can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Eth,
    Arp,
    Ip,
    Icmp,
    Udp,
    Tcp,
    Dns,
    Dhcp,
    Http,
    Tls,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Eth => "eth",
            Proto::Arp => "arp",
            Proto::Ip => "ip",
            Proto::Icmp => "icmp",
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
            Proto::Dns => "dns",
            Proto::Dhcp => "dhcp",
            Proto::Http => "http",
            Proto::Tls => "tls",
        }
    }

    fn layer(self) -> &'static str {
        match self {
            Proto::Eth | Proto::Arp => "L2",
            Proto::Ip | Proto::Icmp => "L3",
            Proto::Udp | Proto::Tcp => "L4",
            Proto::Dns | Proto::Dhcp | Proto::Http | Proto::Tls => "L7",
        }
    }
}

/// Appends ` [malformed <what>]`.
fn malformed(out: &mut String, what: &str) {
    w!(out, " [malformed {what}]");
}

// ---------------------------------------------------------------- L2

/// The Ethernet header, for the fallback text.
struct L2 {
    src: EthernetAddress,
    dst: EthernetAddress,
    ethertype: EtherType,
}

impl L2 {
    fn write(&self, out: &mut String) {
        w!(
            out,
            "Ethernet {} → {} type {:#06x}",
            self.src,
            self.dst,
            u16::from(self.ethertype)
        );
    }
}

fn ethernet(out: &mut String, frame: &[u8]) -> Proto {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        w!(out, "Ethernet frame of {} bytes", frame.len());
        malformed(out, "eth");
        return Proto::Eth;
    };
    let l2 = L2 {
        src: eth.src_addr(),
        dst: eth.dst_addr(),
        ethertype: eth.ethertype(),
    };
    match l2.ethertype {
        EtherType::Arp => arp(out, &l2, eth.payload()),
        EtherType::Ipv4 => ipv4(out, &l2, eth.payload()),
        EtherType::Ipv6 | EtherType::Unknown(_) => {
            l2.write(out);
            Proto::Eth
        }
    }
}

fn arp(out: &mut String, l2: &L2, payload: &[u8]) -> Proto {
    let Ok(r) = ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p)) else {
        l2.write(out);
        malformed(out, "arp");
        return Proto::Eth;
    };
    let (spa, tpa) = (r.source_protocol_addr, r.target_protocol_addr);
    match r.operation {
        ArpOperation::Request => w!(out, "ARP who-has {tpa} tell {spa}"),
        ArpOperation::Reply => w!(out, "ARP {spa} is-at {}", r.source_hardware_addr),
        ArpOperation::Unknown(op) => w!(
            out,
            "ARP operation {op} {spa} ({}) → {tpa}",
            r.source_hardware_addr
        ),
    }
    Proto::Arp
}

// ---------------------------------------------------------------- L3

/// The IPv4 header fields the upper layers' texts use.
struct Ip {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: IpProtocol,
    ttl: u8,
    payload_len: usize,
}

impl Ip {
    /// `IPv4 a → b proto=P ttl=T len=N`, the text when nothing above IP is
    /// recognised.
    fn write(&self, out: &mut String) {
        w!(out, "IPv4 {} → {} proto=", self.src, self.dst);
        write_ip_proto(out, self.proto);
        w!(out, " ttl={} len={}", self.ttl, self.payload_len);
    }
}

/// `ICMP`, `TCP`, `UDP` or the protocol number.
fn write_ip_proto(out: &mut String, p: IpProtocol) {
    match p {
        IpProtocol::Icmp => out.push_str("ICMP"),
        IpProtocol::Tcp => out.push_str("TCP"),
        IpProtocol::Udp => out.push_str("UDP"),
        IpProtocol::Unknown(n) => w!(out, "{n}"),
    }
}

fn ipv4(out: &mut String, l2: &L2, payload: &[u8]) -> Proto {
    let Ok(p) = Ipv4Packet::new_checked(payload) else {
        l2.write(out);
        malformed(out, "ip");
        return Proto::Eth;
    };
    let ip = Ip {
        src: p.src_addr(),
        dst: p.dst_addr(),
        proto: p.next_header(),
        ttl: p.hop_limit(),
        payload_len: p.payload().len(),
    };
    let proto = if p.more_frags() || p.frag_offset() != 0 {
        w!(
            out,
            "IPv4 fragment {} → {} id={:#06x} off={} len={} proto=",
            ip.src,
            ip.dst,
            p.ident(),
            p.frag_offset(),
            ip.payload_len
        );
        write_ip_proto(out, ip.proto);
        Proto::Ip
    } else {
        match ip.proto {
            IpProtocol::Icmp => icmp(out, &ip, p.payload()),
            IpProtocol::Udp => udp(out, &ip, p.payload()),
            IpProtocol::Tcp => tcp(out, &ip, p.payload()),
            IpProtocol::Unknown(_) => {
                ip.write(out);
                Proto::Ip
            }
        }
    };
    if !p.verify_checksum() {
        out.push_str(" [bad ip checksum]");
    }
    proto
}

fn icmp(out: &mut String, ip: &Ip, msg: &[u8]) -> Proto {
    // The view rather than `Icmpv4Repr::parse_bytes`, which refuses a bad
    // checksum: the message is still described, with the checksum flagged.
    let Ok(p) = Icmpv4Packet::new_checked(msg) else {
        ip.write(out);
        malformed(out, "icmp");
        return Proto::Ip;
    };
    let (src, dst) = (ip.src, ip.dst);
    match (p.msg_type(), p.msg_code()) {
        (m @ (Message::EchoRequest | Message::EchoReply), 0) => w!(
            out,
            "ICMP {m} {src} → {dst} id={} seq={} ttl={}",
            p.echo_ident(),
            p.echo_seq_no(),
            ip.ttl
        ),
        (Message::DstUnreachable, code) => {
            out.push_str("ICMP destination unreachable (");
            match DstUnreachable::from(code) {
                DstUnreachable::NetUnreachable => out.push_str("net"),
                DstUnreachable::HostUnreachable => out.push_str("host"),
                DstUnreachable::ProtoUnreachable => out.push_str("protocol"),
                DstUnreachable::PortUnreachable => out.push_str("port"),
                DstUnreachable::FragRequired => {
                    w!(out, "frag needed, mtu {}", p.next_hop_mtu());
                }
                DstUnreachable::SrcRouteFailed => out.push_str("source route failed"),
                DstUnreachable::DstNetUnknown => out.push_str("net unknown"),
                DstUnreachable::DstHostUnknown => out.push_str("host unknown"),
                DstUnreachable::Unknown(c) => w!(out, "code {c}"),
            }
            w!(out, ") {src} → {dst}");
        }
        (Message::TimeExceeded, code) => {
            out.push_str("ICMP time exceeded ");
            match TimeExceeded::from(code) {
                TimeExceeded::TtlExpired => {}
                TimeExceeded::FragExpired => out.push_str("(reassembly) "),
                TimeExceeded::Unknown(c) => w!(out, "(code {c}) "),
            }
            w!(out, "{src} → {dst}");
        }
        (m, code) => w!(out, "ICMP {m} code {code} {src} → {dst}"),
    }
    if !p.verify_checksum() {
        out.push_str(" [bad icmp checksum]");
    }
    Proto::Icmp
}

// ---------------------------------------------------------------- L4

/// Source and destination of a datagram or segment: `a:p → b:q`.
struct Endpoints {
    src: Ipv4Addr,
    src_port: u16,
    dst: Ipv4Addr,
    dst_port: u16,
}

impl Endpoints {
    fn has_port(&self, port: u16) -> bool {
        self.src_port == port || self.dst_port == port
    }
}

impl fmt::Display for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} → {}:{}",
            self.src, self.src_port, self.dst, self.dst_port
        )
    }
}

fn udp(out: &mut String, ip: &Ip, datagram: &[u8]) -> Proto {
    let Ok(u) = UdpPacket::new_checked(datagram) else {
        ip.write(out);
        malformed(out, "udp");
        return Proto::Ip;
    };
    let ep = Endpoints {
        src: ip.src,
        src_port: u.src_port(),
        dst: ip.dst,
        dst_port: u.dst_port(),
    };
    let data = u.payload();
    let udp_line = |out: &mut String| w!(out, "UDP {ep} len={}", data.len());
    let proto = if ep.has_port(dhcp::SERVER_PORT) || ep.has_port(dhcp::CLIENT_PORT) {
        match DhcpMessage::parse(data) {
            Ok(m) => {
                dhcp_text(out, &m);
                Proto::Dhcp
            }
            Err(_) => {
                udp_line(out);
                malformed(out, "dhcp");
                Proto::Udp
            }
        }
    } else if ep.has_port(dns::PORT) {
        match DnsMessage::parse(data) {
            Ok(m) => {
                dns_text(out, &m);
                Proto::Dns
            }
            Err(_) => {
                udp_line(out);
                malformed(out, "dns");
                Proto::Udp
            }
        }
    } else {
        udp_line(out);
        Proto::Udp
    };
    if !u.verify_checksum(ip.src, ip.dst) {
        out.push_str(" [bad udp checksum]");
    }
    proto
}

/// The control bits in the order the texts list them.
const TCP_FLAG_NAMES: [(TcpFlags, &str); 8] = [
    (TcpFlags::SYN, "SYN"),
    (TcpFlags::FIN, "FIN"),
    (TcpFlags::RST, "RST"),
    (TcpFlags::PSH, "PSH"),
    (TcpFlags::ACK, "ACK"),
    (TcpFlags::URG, "URG"),
    (TcpFlags::ECE, "ECE"),
    (TcpFlags::CWR, "CWR"),
];

/// The alternative HTTP port (IANA "http-alt").
const HTTP_ALT_PORT: u16 = 8080;

fn tcp(out: &mut String, ip: &Ip, segment: &[u8]) -> Proto {
    let Ok(p) = TcpPacket::new_checked(segment) else {
        ip.write(out);
        malformed(out, "tcp");
        return Proto::Ip;
    };
    // Also checks the options are well formed; the checksum is flagged
    // below rather than refused.
    let Ok(r) = TcpRepr::parse_unverified(&p) else {
        ip.write(out);
        malformed(out, "tcp");
        return Proto::Ip;
    };
    let ep = Endpoints {
        src: ip.src,
        src_port: r.src_port,
        dst: ip.dst,
        dst_port: r.dst_port,
    };
    let data = p.payload();
    let tcp_line = |out: &mut String| {
        w!(out, "TCP {ep} [");
        let mut sep = "";
        for (flag, name) in TCP_FLAG_NAMES {
            if r.flags.contains(flag) {
                w!(out, "{sep}{name}");
                sep = ", ";
            }
        }
        if sep.is_empty() {
            out.push_str("none");
        }
        w!(out, "] seq={}", r.seq);
        if let Some(ack) = r.ack {
            w!(out, " ack={ack}");
        }
        w!(out, " win={} len={}", r.window, data.len());
    };
    let tls_port = ep.has_port(tls::HTTPS_PORT) || ep.has_port(tls::HTTPS_ALT_PORT);
    let http_port = ep.has_port(http::PORT) || ep.has_port(HTTP_ALT_PORT);
    let start = if http_port { http_start(data) } else { None };
    let proto = match start {
        _ if tls_port && tls::looks_like_tls(data) => match tls::summary(data) {
            Ok(text) => {
                out.push_str(&text);
                w!(out, " ({ep})");
                Proto::Tls
            }
            Err(_) => {
                tcp_line(out);
                malformed(out, "tls");
                Proto::Tcp
            }
        },
        Some(start) if start.is_valid(data) => {
            start.write(out);
            w!(out, " ({ep})");
            Proto::Http
        }
        Some(_) => {
            tcp_line(out);
            malformed(out, "http");
            Proto::Tcp
        }
        None => {
            tcp_line(out);
            Proto::Tcp
        }
    };
    if !p.verify_checksum(ip.src, ip.dst) {
        out.push_str(" [bad tcp checksum]");
    }
    proto
}

// ---------------------------------------------------------------- L7: HTTP

/// The first line of a segment that claims to start an HTTP message.
enum HttpStart<'a> {
    /// `method SP target SP HTTP/…` (RFC 9112 §3).
    Request {
        method: &'a [u8],
        target: &'a [u8],
        version: &'a [u8],
    },
    /// `HTTP/1.x SP status [SP reason]` (RFC 9112 §4), the line itself.
    Response(&'a [u8]),
}

/// The start line of `data` if it looks like HTTP: a complete first line
/// (ended by LF) that is a status line beginning `HTTP/1.` or three
/// space-separated words whose last begins `HTTP/`.
fn http_start(data: &[u8]) -> Option<HttpStart<'_>> {
    let lf = data.iter().position(|&b| b == b'\n')?;
    let line = data.get(..lf)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.starts_with(b"HTTP/1.") {
        return Some(HttpStart::Response(line));
    }
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (!method.is_empty() && version.starts_with(b"HTTP/")).then_some(HttpStart::Request {
        method,
        target,
        version,
    })
}

impl HttpStart<'_> {
    /// Whether the crate's head parser accepts `data`. `Incomplete` counts:
    /// the start line is complete (it ends in LF and `data` starts with it),
    /// and the parser checks a start line fully before it looks for the rest
    /// of the head, which may come in later segments.
    fn is_valid(&self, data: &[u8]) -> bool {
        match self {
            HttpStart::Request { .. } => http::parse_request_head(data).is_ok(),
            HttpStart::Response(_) => http::parse_response_head(data).is_ok(),
        }
    }

    /// `HTTP GET /x HTTP/1.1` or `HTTP 200 OK`, from the validated line.
    fn write(&self, out: &mut String) {
        out.push_str("HTTP ");
        match *self {
            HttpStart::Request {
                method,
                target,
                version,
            } => {
                push_lossy(out, method);
                out.push(' ');
                push_lossy(out, target);
                out.push(' ');
                push_lossy(out, version);
            }
            HttpStart::Response(line) => {
                // Validated: `HTTP/1.x SP DIGIT DIGIT DIGIT [SP reason]`.
                let rest = line.get(9..).unwrap_or_default();
                push_lossy(out, rest.get(..3).unwrap_or(rest));
                if let Some(reason) = rest.get(4..).filter(|r| !r.is_empty()) {
                    out.push(' ');
                    push_lossy(out, reason);
                }
            }
        }
    }
}

/// Appends `bytes` as UTF-8, invalid sequences replaced by U+FFFD and
/// control characters (HTAB, which HTTP allows in a reason phrase) by a
/// space.
fn push_lossy(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            out.push(if c.is_control() { ' ' } else { c });
        }
        if !chunk.invalid().is_empty() {
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
}

// ---------------------------------------------------------------- L7: DNS

/// Answers listed in a response text before `+N more`.
const DNS_ANSWERS_SHOWN: usize = 3;
/// Octets of a TXT string shown before `…`.
const DNS_TXT_SHOWN: usize = 48;

/// `DNS query A www.example.com (id 0x1a2b)`, or for a response
/// `DNS response A www.example.com → <result> (<rcode>, <counts>, <flags>)`
/// where the result is the answers, `referral`, `no data` or the RCODE.
fn dns_text(out: &mut String, m: &DnsMessage) {
    let h = &m.header;
    out.push_str(if h.qr { "DNS response" } else { "DNS query" });
    let q = m.questions.first();
    if let Some(q) = q {
        if q.qclass != RecordClass::In {
            w!(out, " {}", q.qclass);
        }
        w!(out, " {} {:#}", q.qtype, q.name);
    }
    let opcode = |out: &mut String| {
        if h.opcode != Opcode::Query {
            w!(out, ", opcode {}", u8::from(h.opcode));
        }
    };
    if !h.qr {
        w!(out, " (id {:#06x}", h.id);
        opcode(out);
        out.push(')');
        return;
    }
    out.push_str(" → ");
    let has = |t: RecordType| m.authorities.iter().any(|r| r.rtype() == t);
    let no_error = h.rcode == dns::Rcode::NoError;
    let referral = no_error && m.answers.is_empty() && has(RecordType::Ns) && !has(RecordType::Soa);
    let show_rcode = if !m.answers.is_empty() {
        let qtype = q.map(|q| q.qtype);
        for (i, r) in m.answers.iter().take(DNS_ANSWERS_SHOWN).enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if Some(r.rtype()) != qtype {
                w!(out, "{} ", r.rtype());
            }
            dns_rdata(out, &r.data);
        }
        if m.answers.len() > DNS_ANSWERS_SHOWN {
            w!(out, " +{} more", m.answers.len() - DNS_ANSWERS_SHOWN);
        }
        true
    } else if !no_error {
        w!(out, "{}", h.rcode);
        false
    } else if referral {
        out.push_str("referral");
        false
    } else {
        out.push_str("no data");
        true
    };
    out.push_str(" (");
    if show_rcode {
        w!(out, "{}, ", h.rcode);
    }
    let n = m.answers.len();
    w!(out, "{n} answer{}", if n == 1 { "" } else { "s" });
    if !m.authorities.is_empty() {
        w!(out, ", {} authority", m.authorities.len());
    }
    if h.aa {
        out.push_str(", aa");
    }
    if h.tc {
        out.push_str(", tc");
    }
    opcode(out);
    out.push(')');
}

/// The RDATA of an answer, as `dig +short` would print it (names without
/// the trailing dot, a TXT string quoted and cut, unknown types by size).
fn dns_rdata(out: &mut String, data: &RecordData) {
    match data {
        RecordData::A(a) => w!(out, "{a}"),
        RecordData::Aaaa(a) => w!(out, "{a}"),
        RecordData::Ns(n) | RecordData::Cname(n) | RecordData::Ptr(n) => w!(out, "{n:#}"),
        RecordData::Mx {
            preference,
            exchange,
        } => w!(out, "{preference} {exchange:#}"),
        RecordData::Soa { mname, serial, .. } => w!(out, "{mname:#} serial {serial}"),
        RecordData::Txt(strings) => {
            out.push('"');
            let s = strings.first().map_or(&[][..], Vec::as_slice);
            for &c in s.iter().take(DNS_TXT_SHOWN) {
                match c {
                    b'"' | b'\\' => w!(out, "\\{}", char::from(c)),
                    0x20..=0x7e => out.push(char::from(c)),
                    _ => w!(out, "\\{c:03}"),
                }
            }
            if s.len() > DNS_TXT_SHOWN || strings.len() > 1 {
                out.push('…');
            }
            out.push('"');
        }
        RecordData::Unknown { data, .. } => w!(out, "({} bytes)", data.len()),
    }
}

// ---------------------------------------------------------------- L7: DHCP

/// `DHCP DISCOVER xid 0x3903f326 from 02:…`, `DHCP OFFER 10.0.1.100 xid
/// 0x3903f326`, … The address is the one the message is about: offered or
/// acknowledged (`yiaddr`, else `ciaddr`), requested or declined (option 50,
/// else `ciaddr`), released or informed (`ciaddr`); none for DISCOVER and
/// NAK. `from` names the client of client messages.
fn dhcp_text(out: &mut String, m: &DhcpMessage) {
    use DhcpMessageType as T;
    let requested = m.requested_ip().unwrap_or(m.ciaddr);
    let yours = if m.yiaddr.is_unspecified() {
        m.ciaddr
    } else {
        m.yiaddr
    };
    let kind = m.message_type();
    let (name, addr, from_client) = match kind {
        Some(T::Discover) => ("DISCOVER", None, true),
        Some(T::Offer) => ("OFFER", Some(yours), false),
        Some(T::Request) => ("REQUEST", Some(requested), true),
        Some(T::Decline) => ("DECLINE", Some(requested), true),
        Some(T::Ack) => ("ACK", Some(yours), false),
        Some(T::Nak) => ("NAK", None, false),
        Some(T::Release) => ("RELEASE", Some(m.ciaddr), true),
        Some(T::Inform) => ("INFORM", Some(m.ciaddr), true),
        Some(T::Unknown(_)) | None => match m.op {
            DhcpOp::BootReply => ("", Some(yours), false),
            DhcpOp::BootRequest | DhcpOp::Unknown(_) => ("", Some(requested), true),
        },
    };
    out.push_str("DHCP ");
    match (kind, m.op) {
        (Some(T::Unknown(t)), _) => w!(out, "type {t}"),
        (None, DhcpOp::BootRequest) => out.push_str("BOOTREQUEST"),
        (None, DhcpOp::BootReply) => out.push_str("BOOTREPLY"),
        (None, DhcpOp::Unknown(op)) => w!(out, "op {op}"),
        _ => out.push_str(name),
    }
    if let Some(a) = addr.filter(|a| !a.is_unspecified()) {
        w!(out, " {a}");
    }
    w!(out, " xid {:#010x}", m.xid);
    if from_client {
        w!(out, " from {}", m.chaddr);
    }
}

#[cfg(test)]
mod tests;
