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
mod tests {
    use super::*;
    use crate::dhcp::DhcpOption;
    use crate::dns::{DnsName, Rcode, Record};
    use crate::http::{Method, RequestHead, ResponseHead, Version};
    use crate::icmpv4::Icmpv4Repr;
    use crate::ipv4::Ipv4Repr;
    use crate::udp::UdpRepr;
    use crate::{arp, ethernet};
    use proptest::prelude::*;

    // ------------------------------------------------------------ builders

    const HOST_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 1, 100]);
    const ROUTER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 1, 1]);
    const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 100);
    const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 10);
    const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 53);

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
            .collect()
    }

    fn eth(ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; ethernet::HEADER_LEN + payload.len()];
        let mut f = EthernetFrame::new_unchecked(&mut b[..]);
        ethernet::EthernetRepr {
            src_addr: HOST_MAC,
            dst_addr: ROUTER_MAC,
            ethertype,
        }
        .emit(&mut f);
        f.payload_mut().copy_from_slice(payload);
        b
    }

    fn ip_repr(src: Ipv4Addr, dst: Ipv4Addr, proto: IpProtocol, len: usize) -> Ipv4Repr {
        Ipv4Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: proto,
            payload_len: len,
            hop_limit: 64,
            ident: 42,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            dscp_ecn: 0,
        }
    }

    /// An Ethernet frame carrying `repr` and `payload` (20-byte header).
    fn ipv4_frame(repr: Ipv4Repr, payload: &[u8]) -> Vec<u8> {
        let mut ip = vec![0u8; repr.buffer_len() + payload.len()];
        let mut p = Ipv4Packet::new_unchecked(&mut ip[..]);
        repr.emit(&mut p);
        p.payload_mut().copy_from_slice(payload);
        eth(EtherType::Ipv4, &ip)
    }

    fn icmp_frame(src: Ipv4Addr, dst: Ipv4Addr, repr: Icmpv4Repr<'_>) -> Vec<u8> {
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
        ipv4_frame(ip_repr(src, dst, IpProtocol::Icmp, b.len()), &b)
    }

    fn udp_frame(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, data: &[u8]) -> Vec<u8> {
        let r = UdpRepr {
            src_port: sport,
            dst_port: dport,
        };
        let mut b = vec![0u8; r.buffer_len(data.len())];
        r.emit_with_payload(&mut UdpPacket::new_unchecked(&mut b[..]), src, dst, data);
        ipv4_frame(ip_repr(src, dst, IpProtocol::Udp, b.len()), &b)
    }

    fn tcp_frame(src: Ipv4Addr, dst: Ipv4Addr, repr: TcpRepr, data: &[u8]) -> Vec<u8> {
        let repr = TcpRepr {
            payload_len: data.len(),
            ..repr
        };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit_with_payload(&mut TcpPacket::new_unchecked(&mut b[..]), src, dst, data);
        ipv4_frame(ip_repr(src, dst, IpProtocol::Tcp, b.len()), &b)
    }

    fn seg(sport: u16, dport: u16, flags: TcpFlags, ack: Option<u32>) -> TcpRepr {
        TcpRepr {
            ack,
            window: 64240,
            ..TcpRepr::new(sport, dport, 1000, flags)
        }
    }

    #[track_caller]
    fn check(frame: &[u8], proto: &str, layer: &str, text: &str) {
        let s = describe(frame);
        assert_eq!(s.text, text);
        assert_eq!((s.proto, s.layer), (proto, layer), "{}", s.text);
    }

    fn name(s: &str) -> DnsName {
        s.parse().unwrap()
    }

    // ------------------------------------------------------------ fixtures

    /// From tests/known_answers.rs: an ARP request produced by Scapy, decoded
    /// by it as `psrc=192.168.83.67 op=who-has pdst=1.2.3.4`.
    const ARP_REQUEST: &str = "ffffffffffff 3c219c714891 0806 0001 0800 06 04 0001 3c219c714891 c0a85343 000000000000 01020304";

    /// From tests/known_answers.rs: a real ICMP echo request (Wireshark
    /// export), 192.168.50.99 → 144.118.67.10, id 0x4859, seq 0, TTL 64.
    const PING_REQUEST: &str = "a036bc62ed50 c889f3ea9314 0800
        4500 0054 2aec 0000 4001 8931 c0a83263 9076430a
        0800 7bda 4859 0000 650e01ee0000e1cc
        08090a0b0c0d0e0f 1011121314151617 18191a1b1c1d1e1f 2021222324252627
        28292a2b2c2d2e2f 3031323334353637";

    /// From tests/known_answers.rs: a DNS query for `example.com A IN` from
    /// 10.0.1.10:53219 to 10.0.2.53:53.
    const DNS_QUERY: &str = "02766e000201 02766e000101 0800
        4500 0039 1c46 4000 4011 0730 0a00010a 0a000235
        cfe3 0035 0025 a7bc
        a122 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001";

    // GMAIL_MX_FRAME, CNAME_SOA_FRAME, GMAIL_TXT_FRAME, NXDOMAIN.
    include!("../tests/captures/dns.rs");

    // ------------------------------------------------------------ L2

    #[test]
    fn arp_request_from_a_real_capture() {
        check(
            &hex(ARP_REQUEST),
            "arp",
            "L2",
            "ARP who-has 1.2.3.4 tell 192.168.83.67",
        );
    }

    #[test]
    fn arp_request_and_reply_emitted() {
        let emit = |op, sha, spa, tha, tpa| {
            let mut b = [0u8; arp::PACKET_LEN];
            ArpRepr {
                operation: op,
                source_hardware_addr: sha,
                source_protocol_addr: spa,
                target_hardware_addr: tha,
                target_protocol_addr: tpa,
            }
            .emit(&mut ArpPacket::new_unchecked(&mut b[..]));
            // Padded to the minimum frame size, as on the wire.
            let mut f = eth(EtherType::Arp, &b);
            f.resize(ethernet::MIN_FRAME_LEN, 0);
            f
        };
        let zero = EthernetAddress([0; 6]);
        check(
            &emit(ArpOperation::Request, HOST_MAC, HOST, zero, ROUTER),
            "arp",
            "L2",
            "ARP who-has 10.0.1.1 tell 10.0.1.100",
        );
        check(
            &emit(ArpOperation::Reply, ROUTER_MAC, ROUTER, HOST_MAC, HOST),
            "arp",
            "L2",
            "ARP 10.0.1.1 is-at 02:00:00:00:01:01",
        );
        check(
            &emit(ArpOperation::Unknown(3), ROUTER_MAC, ROUTER, HOST_MAC, HOST),
            "arp",
            "L2",
            "ARP operation 3 10.0.1.1 (02:00:00:00:01:01) → 10.0.1.100",
        );
    }

    #[test]
    fn unknown_ethertype_short_frame_and_malformed_arp() {
        check(
            &eth(EtherType::Ipv6, &[0x60; 40]),
            "eth",
            "L2",
            "Ethernet 02:00:00:00:01:64 → 02:00:00:00:01:01 type 0x86dd",
        );
        check(
            &eth(EtherType::Unknown(0x88cc), &[]),
            "eth",
            "L2",
            "Ethernet 02:00:00:00:01:64 → 02:00:00:00:01:01 type 0x88cc",
        );
        check(
            &[],
            "eth",
            "L2",
            "Ethernet frame of 0 bytes [malformed eth]",
        );
        check(
            &[0xff; 13],
            "eth",
            "L2",
            "Ethernet frame of 13 bytes [malformed eth]",
        );
        let mut a = hex(ARP_REQUEST);
        a[15] = 6; // hardware type 6 (IEEE 802)
        check(
            &a,
            "eth",
            "L2",
            "Ethernet 3c:21:9c:71:48:91 → ff:ff:ff:ff:ff:ff type 0x0806 [malformed arp]",
        );
        check(
            &a[..30],
            "eth",
            "L2",
            "Ethernet 3c:21:9c:71:48:91 → ff:ff:ff:ff:ff:ff type 0x0806 [malformed arp]",
        );
    }

    // ------------------------------------------------------------ L3

    #[test]
    fn icmp_echo_from_a_real_capture() {
        check(
            &hex(PING_REQUEST),
            "icmp",
            "L3",
            "ICMP echo request 192.168.50.99 → 144.118.67.10 id=18521 seq=0 ttl=64",
        );
    }

    #[test]
    fn icmp_messages_emitted() {
        let data = [0u8; 28];
        check(
            &icmp_frame(
                HOST,
                SERVER,
                Icmpv4Repr::EchoRequest {
                    ident: 1,
                    seq_no: 3,
                    data: b"ping",
                },
            ),
            "icmp",
            "L3",
            "ICMP echo request 10.0.1.100 → 10.0.3.10 id=1 seq=3 ttl=64",
        );
        check(
            &icmp_frame(
                SERVER,
                HOST,
                Icmpv4Repr::EchoReply {
                    ident: 1,
                    seq_no: 3,
                    data: b"ping",
                },
            ),
            "icmp",
            "L3",
            "ICMP echo reply 10.0.3.10 → 10.0.1.100 id=1 seq=3 ttl=64",
        );
        check(
            &icmp_frame(
                ROUTER,
                HOST,
                Icmpv4Repr::TimeExceeded {
                    reason: TimeExceeded::TtlExpired,
                    invoking: &data,
                },
            ),
            "icmp",
            "L3",
            "ICMP time exceeded 10.0.1.1 → 10.0.1.100",
        );
        check(
            &icmp_frame(
                HOST,
                SERVER,
                Icmpv4Repr::TimeExceeded {
                    reason: TimeExceeded::FragExpired,
                    invoking: &data,
                },
            ),
            "icmp",
            "L3",
            "ICMP time exceeded (reassembly) 10.0.1.100 → 10.0.3.10",
        );
        check(
            &icmp_frame(
                SERVER,
                HOST,
                Icmpv4Repr::DstUnreachable {
                    reason: DstUnreachable::PortUnreachable,
                    next_hop_mtu: 0,
                    invoking: &data,
                },
            ),
            "icmp",
            "L3",
            "ICMP destination unreachable (port) 10.0.3.10 → 10.0.1.100",
        );
        check(
            &icmp_frame(
                ROUTER,
                HOST,
                Icmpv4Repr::DstUnreachable {
                    reason: DstUnreachable::FragRequired,
                    next_hop_mtu: 576,
                    invoking: &data,
                },
            ),
            "icmp",
            "L3",
            "ICMP destination unreachable (frag needed, mtu 576) 10.0.1.1 → 10.0.1.100",
        );
        check(
            &icmp_frame(
                ROUTER,
                HOST,
                Icmpv4Repr::DstUnreachable {
                    reason: DstUnreachable::HostUnreachable,
                    next_hop_mtu: 0,
                    invoking: &data,
                },
            ),
            "icmp",
            "L3",
            "ICMP destination unreachable (host) 10.0.1.1 → 10.0.1.100",
        );
        check(
            &icmp_frame(
                ROUTER,
                HOST,
                Icmpv4Repr::Other {
                    msg_type: 5,
                    msg_code: 1,
                    rest_of_header: [10, 0, 1, 2],
                    data: &data,
                },
            ),
            "icmp",
            "L3",
            "ICMP type 5 code 1 10.0.1.1 → 10.0.1.100",
        );
    }

    #[test]
    fn ipv4_fragments_are_not_parsed_further() {
        // First fragment: MF set, offset 0; its bytes would parse as ICMP.
        let first = Ipv4Repr {
            more_frags: true,
            dont_frag: false,
            ..ip_repr(HOST, SERVER, IpProtocol::Icmp, 24)
        };
        check(
            &ipv4_frame(first, &[8; 24]),
            "ip",
            "L3",
            "IPv4 fragment 10.0.1.100 → 10.0.3.10 id=0x002a off=0 len=24 proto=ICMP",
        );
        // Last fragment: offset 1480, MF clear; not a UDP header.
        let last = Ipv4Repr {
            frag_offset: 1480,
            dont_frag: false,
            ..ip_repr(HOST, SERVER, IpProtocol::Udp, 8)
        };
        check(
            &ipv4_frame(last, &[0xff; 8]),
            "ip",
            "L3",
            "IPv4 fragment 10.0.1.100 → 10.0.3.10 id=0x002a off=1480 len=8 proto=UDP",
        );
    }

    #[test]
    fn unknown_ip_protocol_and_malformed_ip() {
        check(
            &ipv4_frame(ip_repr(HOST, SERVER, IpProtocol::Unknown(89), 4), b"ospf"),
            "ip",
            "L3",
            "IPv4 10.0.1.100 → 10.0.3.10 proto=89 ttl=64 len=4",
        );
        // Cut inside the datagram: the IPv4 total length no longer fits.
        let f = udp_frame(HOST, 5353, RESOLVER, 9, b"hello");
        check(
            &f[..f.len() - 1],
            "eth",
            "L2",
            "Ethernet 02:00:00:00:01:64 → 02:00:00:00:01:01 type 0x0800 [malformed ip]",
        );
        let mut v6 = f.clone();
        v6[14] = 0x65;
        assert_eq!(describe(&v6).text, describe(&f[..20]).text);
        assert!(describe(&v6).text.ends_with("type 0x0800 [malformed ip]"));
    }

    #[test]
    fn bad_checksums_are_flagged_not_fatal() {
        let mut f = icmp_frame(
            HOST,
            SERVER,
            Icmpv4Repr::EchoRequest {
                ident: 1,
                seq_no: 3,
                data: b"ping",
            },
        );
        let icmp_at = 14 + 20;
        f[icmp_at + 8] ^= 0xff;
        check(
            &f,
            "icmp",
            "L3",
            "ICMP echo request 10.0.1.100 → 10.0.3.10 id=1 seq=3 ttl=64 [bad icmp checksum]",
        );
        f[14 + 4] ^= 0xff; // IPv4 identification
        assert!(
            describe(&f)
                .text
                .ends_with("[bad icmp checksum] [bad ip checksum]")
        );

        let mut u = udp_frame(HOST, 5353, RESOLVER, 9, b"hello");
        let last = u.len() - 1;
        u[last] ^= 1;
        check(
            &u,
            "udp",
            "L4",
            "UDP 10.0.1.100:5353 → 10.0.2.53:9 len=5 [bad udp checksum]",
        );
        let mut t = tcp_frame(HOST, SERVER, seg(49152, 22, TcpFlags::SYN, None), &[]);
        t[14 + 20 + 4] ^= 1; // sequence number
        check(
            &t,
            "tcp",
            "L4",
            "TCP 10.0.1.100:49152 → 10.0.3.10:22 [SYN] seq=16778216 win=64240 len=0 [bad tcp checksum]",
        );
    }

    // ------------------------------------------------------------ L4

    #[test]
    fn udp_datagrams() {
        check(
            &udp_frame(HOST, 5353, RESOLVER, 9, b"hello, world"),
            "udp",
            "L4",
            "UDP 10.0.1.100:5353 → 10.0.2.53:9 len=12",
        );
        // Ethernet padding after a short datagram is not payload.
        let mut f = udp_frame(HOST, 1000, SERVER, 2000, b"x");
        f.resize(ethernet::MIN_FRAME_LEN, 0);
        check(
            &f,
            "udp",
            "L4",
            "UDP 10.0.1.100:1000 → 10.0.3.10:2000 len=1",
        );
        // A UDP Length below 8 inside a good IPv4 packet.
        let mut bad = udp_frame(HOST, 1000, SERVER, 2000, b"x");
        bad[14 + 20 + 5] = 3;
        check(
            &bad,
            "ip",
            "L3",
            "IPv4 10.0.1.100 → 10.0.3.10 proto=UDP ttl=64 len=9 [malformed udp]",
        );
    }

    #[test]
    fn tcp_segments() {
        check(
            &tcp_frame(HOST, SERVER, seg(49152, 80, TcpFlags::SYN, None), &[]),
            "tcp",
            "L4",
            "TCP 10.0.1.100:49152 → 10.0.3.10:80 [SYN] seq=1000 win=64240 len=0",
        );
        check(
            &tcp_frame(SERVER, HOST, seg(80, 49152, TcpFlags::SYN, Some(1001)), &[]),
            "tcp",
            "L4",
            "TCP 10.0.3.10:80 → 10.0.1.100:49152 [SYN, ACK] seq=1000 ack=1001 win=64240 len=0",
        );
        let fin_psh = TcpFlags::FIN | TcpFlags::PSH;
        check(
            &tcp_frame(HOST, SERVER, seg(49152, 22, fin_psh, Some(7)), b"bye"),
            "tcp",
            "L4",
            "TCP 10.0.1.100:49152 → 10.0.3.10:22 [FIN, PSH, ACK] seq=1000 ack=7 win=64240 len=3",
        );
        check(
            &tcp_frame(HOST, SERVER, seg(49152, 22, TcpFlags::RST, None), &[]),
            "tcp",
            "L4",
            "TCP 10.0.1.100:49152 → 10.0.3.10:22 [RST] seq=1000 win=64240 len=0",
        );
        check(
            &tcp_frame(HOST, SERVER, seg(1, 2, TcpFlags::NONE, None), &[]),
            "tcp",
            "L4",
            "TCP 10.0.1.100:1 → 10.0.3.10:2 [none] seq=1000 win=64240 len=0",
        );
        // With options (MSS, SACK-permitted, timestamps, window scale).
        let syn = TcpRepr {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(crate::tcp::TcpTimestamps { tsval: 1, tsecr: 0 }),
            ..seg(49152, 443, TcpFlags::SYN, None)
        };
        check(
            &tcp_frame(HOST, SERVER, syn, &[]),
            "tcp",
            "L4",
            "TCP 10.0.1.100:49152 → 10.0.3.10:443 [SYN] seq=1000 win=64240 len=0",
        );
        // Data Offset 4 is no TCP header.
        let mut bad = tcp_frame(HOST, SERVER, seg(1, 2, TcpFlags::SYN, None), &[]);
        bad[14 + 20 + 12] = 0x40;
        check(
            &bad,
            "ip",
            "L3",
            "IPv4 10.0.1.100 → 10.0.3.10 proto=TCP ttl=64 len=20 [malformed tcp]",
        );
    }

    // ------------------------------------------------------------ L7: HTTP

    fn psh_ack(sport: u16, dport: u16) -> TcpRepr {
        seg(sport, dport, TcpFlags::PSH, Some(1))
    }

    #[test]
    fn http_request_and_response_heads() {
        let mut req = RequestHead::new(Method::Get, "/img/a.png", Version::Http11);
        req.headers.append("Host", "www.example.com").unwrap();
        check(
            &tcp_frame(HOST, SERVER, psh_ack(49152, 80), &req.to_bytes()),
            "http",
            "L7",
            "HTTP GET /img/a.png HTTP/1.1 (10.0.1.100:49152 → 10.0.3.10:80)",
        );
        let mut resp = ResponseHead::new(200).to_bytes();
        resp.extend_from_slice(b"<html></html>");
        check(
            &tcp_frame(SERVER, HOST, psh_ack(80, 49152), &resp),
            "http",
            "L7",
            "HTTP 200 OK (10.0.3.10:80 → 10.0.1.100:49152)",
        );
        // Port 8080, and a head whose fields arrive in a later segment.
        check(
            &tcp_frame(
                SERVER,
                HOST,
                psh_ack(8080, 49153),
                b"HTTP/1.0 404 Not Found\r\nContent-Le",
            ),
            "http",
            "L7",
            "HTTP 404 Not Found (10.0.3.10:8080 → 10.0.1.100:49153)",
        );
        check(
            &tcp_frame(
                HOST,
                SERVER,
                psh_ack(49153, 8080),
                b"POST /form?a=1 HTTP/1.0\n",
            ),
            "http",
            "L7",
            "HTTP POST /form?a=1 HTTP/1.0 (10.0.1.100:49153 → 10.0.3.10:8080)",
        );
        // No reason phrase.
        check(
            &tcp_frame(SERVER, HOST, psh_ack(80, 49152), b"HTTP/1.1 204\r\n\r\n"),
            "http",
            "L7",
            "HTTP 204 (10.0.3.10:80 → 10.0.1.100:49152)",
        );
    }

    #[test]
    fn http_lookalikes_stay_tcp() {
        // Body bytes, a start line cut before its end, another port.
        for (sport, dport, data) in [
            (80, 49152, &b"<html><body>hello</body></html>"[..]),
            (49152, 80, b"GET /index.html HTT"),
            (49152, 81, b"GET / HTTP/1.1\r\n\r\n"),
            (49152, 80, b"\r\nGET / HTTP/1.1\r\n\r\n"),
        ] {
            let s = describe(&tcp_frame(HOST, SERVER, psh_ack(sport, dport), data));
            assert_eq!((s.proto, s.layer), ("tcp", "L4"), "{}", s.text);
            assert!(s.text.starts_with("TCP "), "{}", s.text);
            assert!(
                s.text.ends_with(&format!(" len={}", data.len())),
                "{}",
                s.text
            );
        }
    }

    #[test]
    fn malformed_http_is_flagged() {
        for data in [
            &b"GET / HTTP/2.0\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
            b"G@T / HTTP/1.1\r\n\r\n",
        ] {
            let s = describe(&tcp_frame(HOST, SERVER, psh_ack(49152, 80), data));
            assert_eq!(
                s.text,
                format!(
                    "TCP 10.0.1.100:49152 → 10.0.3.10:80 [PSH, ACK] seq=1000 ack=1 win=64240 len={} [malformed http]",
                    data.len()
                )
            );
            assert_eq!((s.proto, s.layer), ("tcp", "L4"));
        }
    }

    // ------------------------------------------------------------ L7: DNS

    #[test]
    fn dns_query_from_a_real_capture() {
        check(
            &hex(DNS_QUERY),
            "dns",
            "L7",
            "DNS query A example.com (id 0xa122)",
        );
    }

    #[test]
    fn dns_responses_from_real_captures() {
        check(
            &hex(GMAIL_MX_FRAME),
            "dns",
            "L7",
            "DNS response MX gmail.com → 20 alt2.gmail-smtp-in.l.google.com, \
             5 gmail-smtp-in.l.google.com, 30 alt3.gmail-smtp-in.l.google.com +2 more \
             (NOERROR, 5 answers)",
        );
        check(
            &hex(CNAME_SOA_FRAME),
            "dns",
            "L7",
            "DNS response A ipv6.google.com → CNAME ipv6.l.google.com \
             (NOERROR, 1 answer, 1 authority)",
        );
        check(
            &hex(GMAIL_TXT_FRAME),
            "dns",
            "L7",
            "DNS response TXT gmail.com → \"v=spf1 redirect=_spf.google.com\" (NOERROR, 1 answer)",
        );
        check(
            &udp_frame(RESOLVER, 53, HOST, 5353, &hex(NXDOMAIN)),
            "dns",
            "L7",
            "DNS response MX no-such-domain-4815.com → NXDOMAIN (0 answers, 1 authority)",
        );
    }

    #[test]
    fn dns_messages_emitted() {
        let q = DnsMessage::query(0x1a2b, name("www.example.com"), RecordType::A);
        check(
            &udp_frame(HOST, 5353, RESOLVER, 53, &q.emit(dns::MAX_UDP_LEN)),
            "dns",
            "L7",
            "DNS query A www.example.com (id 0x1a2b)",
        );
        let mut r = DnsMessage::response_to(&q);
        r.header.aa = true;
        r.answers.push(Record::new(
            name("www.example.com"),
            300,
            RecordData::A(SERVER),
        ));
        check(
            &udp_frame(RESOLVER, 53, HOST, 5353, &r.emit(dns::MAX_UDP_LEN)),
            "dns",
            "L7",
            "DNS response A www.example.com → 10.0.3.10 (NOERROR, 1 answer, aa)",
        );

        // A referral from a root server: NS records and glue, no answer.
        let mut referral =
            DnsMessage::response_to(&DnsMessage::query(7, name("com"), RecordType::Ns));
        for ns in ["a.gtld-servers.net", "b.gtld-servers.net"] {
            referral
                .authorities
                .push(Record::new(name("com"), 172800, RecordData::Ns(name(ns))));
        }
        referral.additionals.push(Record::new(
            name("a.gtld-servers.net"),
            172800,
            RecordData::A(Ipv4Addr::new(192, 5, 6, 30)),
        ));
        check(
            &udp_frame(RESOLVER, 53, HOST, 5353, &referral.emit(dns::MAX_UDP_LEN)),
            "dns",
            "L7",
            "DNS response NS com → referral (0 answers, 2 authority)",
        );

        // NODATA: NOERROR, no answer, the zone's SOA.
        let mut nodata = DnsMessage::response_to(&DnsMessage::query(
            8,
            name("www.example.com"),
            RecordType::Aaaa,
        ));
        nodata.header.aa = true;
        nodata.authorities.push(Record::new(
            name("example.com"),
            300,
            RecordData::Soa {
                mname: name("ns.example.com"),
                rname: name("admin.example.com"),
                serial: 1,
                refresh: 2,
                retry: 3,
                expire: 4,
                minimum: 60,
            },
        ));
        check(
            &udp_frame(RESOLVER, 53, HOST, 5353, &nodata.emit(dns::MAX_UDP_LEN)),
            "dns",
            "L7",
            "DNS response AAAA www.example.com → no data (NOERROR, 0 answers, 1 authority, aa)",
        );

        // SERVFAIL, truncated.
        let mut fail = DnsMessage::response_to(&q);
        fail.header.rcode = Rcode::ServFail;
        fail.header.tc = true;
        check(
            &udp_frame(RESOLVER, 53, HOST, 5353, &fail.emit(dns::MAX_UDP_LEN)),
            "dns",
            "L7",
            "DNS response A www.example.com → SERVFAIL (0 answers, tc)",
        );
    }

    #[test]
    fn malformed_dns_is_flagged() {
        check(
            &udp_frame(HOST, 5353, RESOLVER, 53, &[1, 2, 3]),
            "udp",
            "L4",
            "UDP 10.0.1.100:5353 → 10.0.2.53:53 len=3 [malformed dns]",
        );
        // A question name pointing at itself.
        let mut loopy = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        loopy.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        check(
            &udp_frame(HOST, 5353, RESOLVER, 53, &loopy),
            "udp",
            "L4",
            "UDP 10.0.1.100:5353 → 10.0.2.53:53 len=18 [malformed dns]",
        );
    }

    // ------------------------------------------------------------ L7: DHCP

    #[test]
    fn dhcp_exchange() {
        let bcast = Ipv4Addr::BROADCAST;
        let any = Ipv4Addr::UNSPECIFIED;
        let xid = 0x3903_f326;
        let discover = DhcpMessage::client(xid, HOST_MAC, DhcpMessageType::Discover);
        check(
            &udp_frame(any, 68, bcast, 67, &discover.emit()),
            "dhcp",
            "L7",
            "DHCP DISCOVER xid 0x3903f326 from 02:00:00:00:01:64",
        );
        let reply = |kind| {
            let mut m = DhcpMessage::reply_to(&discover, kind);
            if kind != DhcpMessageType::Nak {
                m.yiaddr = HOST;
            }
            m.options.push(DhcpOption::ServerIdentifier(ROUTER));
            udp_frame(ROUTER, 67, bcast, 68, &m.emit())
        };
        check(
            &reply(DhcpMessageType::Offer),
            "dhcp",
            "L7",
            "DHCP OFFER 10.0.1.100 xid 0x3903f326",
        );
        let mut request = DhcpMessage::client(xid, HOST_MAC, DhcpMessageType::Request);
        request.options.push(DhcpOption::RequestedIp(HOST));
        request.options.push(DhcpOption::ServerIdentifier(ROUTER));
        check(
            &udp_frame(any, 68, bcast, 67, &request.emit()),
            "dhcp",
            "L7",
            "DHCP REQUEST 10.0.1.100 xid 0x3903f326 from 02:00:00:00:01:64",
        );
        check(
            &reply(DhcpMessageType::Ack),
            "dhcp",
            "L7",
            "DHCP ACK 10.0.1.100 xid 0x3903f326",
        );
        check(
            &reply(DhcpMessageType::Nak),
            "dhcp",
            "L7",
            "DHCP NAK xid 0x3903f326",
        );
        let mut release = DhcpMessage::client(xid, HOST_MAC, DhcpMessageType::Release);
        release.ciaddr = HOST;
        check(
            &udp_frame(HOST, 68, ROUTER, 67, &release.emit()),
            "dhcp",
            "L7",
            "DHCP RELEASE 10.0.1.100 xid 0x3903f326 from 02:00:00:00:01:64",
        );
        // A renewal: unicast REQUEST with ciaddr and no option 50.
        let mut renew = DhcpMessage::client(7, HOST_MAC, DhcpMessageType::Request);
        renew.ciaddr = HOST;
        check(
            &udp_frame(HOST, 68, ROUTER, 67, &renew.emit()),
            "dhcp",
            "L7",
            "DHCP REQUEST 10.0.1.100 xid 0x00000007 from 02:00:00:00:01:64",
        );
        // Plain BOOTP (no message type option).
        let mut bootp = DhcpMessage::client(9, HOST_MAC, DhcpMessageType::Discover);
        bootp.options.clear();
        check(
            &udp_frame(any, 68, bcast, 67, &bootp.emit()),
            "dhcp",
            "L7",
            "DHCP BOOTREQUEST xid 0x00000009 from 02:00:00:00:01:64",
        );
    }

    #[test]
    fn malformed_dhcp_is_flagged() {
        let mut b = DhcpMessage::client(1, HOST_MAC, DhcpMessageType::Discover).emit();
        b[236] = 0; // magic cookie
        check(
            &udp_frame(Ipv4Addr::UNSPECIFIED, 68, Ipv4Addr::BROADCAST, 67, &b),
            "udp",
            "L4",
            "UDP 0.0.0.0:68 → 255.255.255.255:67 len=300 [malformed dhcp]",
        );
    }

    // ------------------------------------------------------------ properties

    /// proto and layer agree with the table in the module docs.
    fn consistent(s: &FrameSummary) -> bool {
        let layer = match s.proto {
            "eth" | "arp" => "L2",
            "ip" | "icmp" => "L3",
            "udp" | "tcp" => "L4",
            "dns" | "dhcp" | "http" | "tls" => "L7",
            _ => return false,
        };
        s.layer == layer && !s.text.is_empty() && !s.text.contains(['\n', '\r'])
    }

    /// A well-formed Ethernet + IPv4 header with `payload`, any protocol,
    /// sometimes a fragment.
    fn ip_frame() -> impl Strategy<Value = Vec<u8>> {
        (
            prop_oneof![Just(1u8), Just(6u8), Just(17u8), any::<u8>()],
            any::<bool>(),
            0u16..4,
            prop::collection::vec(any::<u8>(), 0..200),
        )
            .prop_map(|(proto, mf, off, payload)| {
                let r = Ipv4Repr {
                    more_frags: mf && off == 0,
                    frag_offset: if off == 3 { 1480 } else { 0 },
                    ..ip_repr(HOST, SERVER, IpProtocol::from(proto), payload.len())
                };
                ipv4_frame(r, &payload)
            })
    }

    /// A valid UDP or TCP frame on a port some application parser claims,
    /// with a payload that is random or starts like that application (a
    /// whole DNS or DHCP message, which their parsers accept with trailing
    /// octets).
    fn app_frame() -> impl Strategy<Value = Vec<u8>> {
        let mut dns = DnsMessage::response_to(&DnsMessage::query(
            1,
            name("www.example.com"),
            RecordType::A,
        ));
        dns.answers.push(Record::new(
            name("www.example.com"),
            300,
            RecordData::A(SERVER),
        ));
        let dhcp = DhcpMessage::client(1, HOST_MAC, DhcpMessageType::Discover);
        let prefix = prop_oneof![
            Just(Vec::new()),
            Just(b"GET / HTTP/1.1\r\n".to_vec()),
            Just(b"HTTP/1.1 200 OK\r\n".to_vec()),
            Just(dns.emit(dns::MAX_UDP_LEN)),
            Just(dhcp.emit()),
            Just(vec![22, 3, 1, 0, 40, 1, 0, 0, 36, 3, 3]),
        ];
        (
            prop_oneof![
                Just(53u16),
                Just(67),
                Just(68),
                Just(80),
                Just(8080),
                Just(443),
                Just(8443)
            ],
            any::<bool>(),
            prefix,
            prop::collection::vec(any::<u8>(), 0..400),
        )
            .prop_map(|(port, tcp, mut data, rest)| {
                data.extend_from_slice(&rest);
                if tcp {
                    tcp_frame(HOST, SERVER, psh_ack(49152, port), &data)
                } else {
                    udp_frame(HOST, 49152, SERVER, port, &data)
                }
            })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1600)) {
            let s = describe(&bytes);
            prop_assert!(consistent(&s), "{s:?}");
        }

        #[test]
        fn arbitrary_ip_payloads_never_panic(frame in ip_frame()) {
            let s = describe(&frame);
            prop_assert!(consistent(&s), "{s:?}");
            prop_assert!(s.proto != "eth" && s.proto != "arp", "{s:?}");
        }

        #[test]
        fn arbitrary_app_payloads_never_panic(frame in app_frame(), cut in any::<prop::sample::Index>()) {
            let s = describe(&frame);
            prop_assert!(consistent(&s), "{s:?}");
            prop_assert!(s.layer == "L4" || s.layer == "L7", "{s:?}");
            // Any prefix (a truncated capture) is described too.
            let s = describe(&frame[..cut.index(frame.len() + 1)]);
            prop_assert!(consistent(&s), "{s:?}");
        }

        #[test]
        fn arbitrary_corruption_never_panics(
            frame in app_frame(), at in any::<prop::sample::Index>(), byte in any::<u8>(),
        ) {
            let mut frame = frame;
            let i = at.index(frame.len());
            frame[i] = byte;
            prop_assert!(consistent(&describe(&frame)));
        }

        /// etherparse as an oracle: the addresses, ports, lengths and TCP
        /// numbers in the text are the ones etherparse reads from the frame.
        #[test]
        fn etherparse_agrees_on_tcp_and_udp(
            smac in any::<[u8; 6]>(), dmac in any::<[u8; 6]>(),
            src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(), ttl in 1u8..,
            sport in 1024u16.., dport in 1024u16.., seq in any::<u32>(), ack in any::<Option<u32>>(),
            win in any::<u16>(), syn in any::<bool>(), fin in any::<bool>(), tcp in any::<bool>(),
            data in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            for alt in [HTTP_ALT_PORT, tls::HTTPS_ALT_PORT] {
                prop_assume!(sport != alt && dport != alt);
            }
            let b = etherparse::PacketBuilder::ethernet2(smac, dmac).ipv4(src, dst, ttl);
            let mut frame = Vec::new();
            if tcp {
                let mut t = b.tcp(sport, dport, seq, win);
                if syn { t = t.syn(); }
                if fin { t = t.fin(); }
                if let Some(a) = ack { t = t.ack(a); }
                t.write(&mut frame, &data).unwrap();
            } else {
                b.udp(sport, dport).write(&mut frame, &data).unwrap();
            }
            let s = describe(&frame);

            let p = etherparse::SlicedPacket::from_ethernet(&frame).unwrap();
            let Some(etherparse::NetSlice::Ipv4(ip)) = &p.net else { panic!("no IPv4: {p:?}") };
            let (esrc, edst) = (ip.header().source_addr(), ip.header().destination_addr());
            match &p.transport {
                Some(etherparse::TransportSlice::Tcp(t)) => {
                    prop_assert_eq!((s.proto, s.layer), ("tcp", "L4"));
                    let mut want = format!(
                        "TCP {esrc}:{} → {edst}:{} [", t.source_port(), t.destination_port()
                    );
                    let names = [(t.syn(), "SYN"), (t.fin(), "FIN"), (t.ack(), "ACK")];
                    let on: Vec<&str> = names.iter().filter(|f| f.0).map(|f| f.1).collect();
                    want += if on.is_empty() { "none" } else { "" };
                    want += &on.join(", ");
                    want += &format!("] seq={}", t.sequence_number());
                    if t.ack() {
                        want += &format!(" ack={}", t.acknowledgment_number());
                    }
                    want += &format!(" win={} len={}", t.window_size(), t.payload().len());
                    prop_assert_eq!(s.text, want);
                }
                Some(etherparse::TransportSlice::Udp(u)) => {
                    prop_assert_eq!((s.proto, s.layer), ("udp", "L4"));
                    let want = format!(
                        "UDP {esrc}:{} → {edst}:{} len={}",
                        u.source_port(), u.destination_port(), u.payload().len()
                    );
                    prop_assert_eq!(s.text, want);
                }
                other => panic!("unexpected transport {other:?}"),
            }
        }
    }
}
