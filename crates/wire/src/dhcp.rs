//! DHCP messages (RFC 2131 §2, over the BOOTP format of RFC 951) and the
//! options a client and a small server need (RFC 2132).
//!
//! Like DNS, DHCP uses an owned representation: [`DhcpMessage::parse`]
//! decodes the UDP payload and [`DhcpMessage::emit`] encodes one, padded to
//! the 300-octet BOOTP minimum.
//!
//! Options (RFC 2132 §2): pad (0) is skipped and end (255) stops parsing; a
//! missing end option is tolerated at the end of the buffer. Several
//! instances of one option code are concatenated into one value before it is
//! decoded (RFC 3396 §7), and values over 255 octets are split into several
//! instances on emit (RFC 3396 §5), so long router or DNS server lists
//! survive. Option overload (52, RFC 2132 §9.3) is refused as
//! [`WireError::Unsupported`]: the `sname` and `file` fields are never
//! searched for options.
//!
//! ```
//! use vnet_wire::dhcp::{DhcpMessage, DhcpMessageType, DhcpOption};
//! use vnet_wire::ethernet::EthernetAddress;
//!
//! let mac = EthernetAddress([0x02, 0x76, 0x6e, 0, 1, 1]);
//! let discover = DhcpMessage::client(0x3903_f326, mac, DhcpMessageType::Discover);
//! let bytes = discover.emit();
//! assert_eq!(bytes.len(), 300);
//! let parsed = DhcpMessage::parse(&bytes).unwrap();
//! assert_eq!(parsed.message_type(), Some(DhcpMessageType::Discover));
//! assert_eq!(parsed, discover);
//! ```

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::check_len;
use crate::ethernet::EthernetAddress;
use crate::{Result, WireError, be16};

/// UDP port of DHCP servers and relay agents (RFC 2131 §4.1, "bootps").
pub const SERVER_PORT: u16 = 67;
/// UDP port of DHCP clients (RFC 2131 §4.1, "bootpc").
pub const CLIENT_PORT: u16 = 68;
/// The magic cookie 99.130.83.99 that starts the options field
/// (RFC 2131 §3, RFC 2132 §2).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Length of the fixed fields, `op` through `file` (RFC 2131 §2, figure 1).
pub const FIXED_LEN: usize = 236;
/// Shortest DHCP message accepted: the fixed fields and the magic cookie.
pub const MIN_LEN: usize = FIXED_LEN + 4;
/// Length [`DhcpMessage::emit`] pads to: "the minimal BOOTP header of 300
/// octets" that relay agents may require (RFC 1542 §2.1; RFC 951's 64-octet
/// vendor field).
pub const MIN_BOOTP_LEN: usize = 300;
/// `htype` of 10 Mb Ethernet (RFC 1700 "Hardware Type"; RFC 2131 §2).
pub const HTYPE_ETHERNET: u8 = 1;

mod field {
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: usize = 4;
    pub const SECS: usize = 8;
    pub const FLAGS: usize = 10;
    pub const CIADDR: usize = 12;
    pub const YIADDR: usize = 16;
    pub const SIADDR: usize = 20;
    pub const GIADDR: usize = 24;
    pub const CHADDR: usize = 28;
    pub const SNAME: usize = 44;
    pub const SNAME_LEN: usize = 64;
    pub const FILE: usize = 108;
    pub const FILE_LEN: usize = 128;
    pub const COOKIE: usize = 236;
    pub const OPTIONS: usize = 240;
}

/// The BROADCAST bit of `flags` (RFC 2131 §2, figure 2).
const FLAG_BROADCAST: u16 = 0x8000;

/// Option codes (RFC 2132; IANA "BOOTP Vendor Extensions and DHCP Options").
pub mod option_code {
    /// Pad (RFC 2132 §3.1).
    pub const PAD: u8 = 0;
    /// Subnet mask (RFC 2132 §3.3).
    pub const SUBNET_MASK: u8 = 1;
    /// Router (RFC 2132 §3.5).
    pub const ROUTER: u8 = 3;
    /// Domain name server (RFC 2132 §3.8).
    pub const DNS_SERVERS: u8 = 6;
    /// Domain name (RFC 2132 §3.17).
    pub const DOMAIN_NAME: u8 = 15;
    /// Requested IP address (RFC 2132 §9.1).
    pub const REQUESTED_IP: u8 = 50;
    /// IP address lease time (RFC 2132 §9.2).
    pub const LEASE_TIME: u8 = 51;
    /// Option overload (RFC 2132 §9.3), not supported.
    pub const OVERLOAD: u8 = 52;
    /// DHCP message type (RFC 2132 §9.6).
    pub const MESSAGE_TYPE: u8 = 53;
    /// Server identifier (RFC 2132 §9.7).
    pub const SERVER_IDENTIFIER: u8 = 54;
    /// Parameter request list (RFC 2132 §9.8).
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    /// Message (RFC 2132 §9.9).
    pub const MESSAGE: u8 = 56;
    /// Renewal (T1) time value (RFC 2132 §9.11).
    pub const RENEWAL_TIME: u8 = 58;
    /// Rebinding (T2) time value (RFC 2132 §9.12).
    pub const REBINDING_TIME: u8 = 59;
    /// Client identifier (RFC 2132 §9.14).
    pub const CLIENT_IDENTIFIER: u8 = 61;
    /// End (RFC 2132 §3.2).
    pub const END: u8 = 255;
}

use option_code as code;

/// The `op` field (RFC 2131 §2; RFC 951).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DhcpOp {
    /// 1, client to server.
    BootRequest,
    /// 2, server to client.
    BootReply,
    /// Any other value, kept verbatim.
    Unknown(u8),
}

impl From<u8> for DhcpOp {
    fn from(v: u8) -> Self {
        match v {
            1 => DhcpOp::BootRequest,
            2 => DhcpOp::BootReply,
            v => DhcpOp::Unknown(v),
        }
    }
}

impl From<DhcpOp> for u8 {
    fn from(o: DhcpOp) -> u8 {
        match o {
            DhcpOp::BootRequest => 1,
            DhcpOp::BootReply => 2,
            DhcpOp::Unknown(v) => v,
        }
    }
}

/// The DHCP message type, option 53 (RFC 2132 §9.6; RFC 2131 §3.1 and
/// table 2 for their use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DhcpMessageType {
    /// 1, client broadcast to locate servers.
    Discover,
    /// 2, server offer of configuration parameters.
    Offer,
    /// 3, client request for offered parameters, or to confirm or extend a
    /// lease.
    Request,
    /// 4, client report that the address is already in use.
    Decline,
    /// 5, server acknowledgement with the committed parameters.
    Ack,
    /// 6, server refusal: the client's notion of its address is wrong.
    Nak,
    /// 7, client relinquishing its address.
    Release,
    /// 8, client asking for local parameters only.
    Inform,
    /// Any other value (e.g. 9 FORCERENEW, RFC 3203), kept verbatim.
    Unknown(u8),
}

impl From<u8> for DhcpMessageType {
    fn from(v: u8) -> Self {
        match v {
            1 => DhcpMessageType::Discover,
            2 => DhcpMessageType::Offer,
            3 => DhcpMessageType::Request,
            4 => DhcpMessageType::Decline,
            5 => DhcpMessageType::Ack,
            6 => DhcpMessageType::Nak,
            7 => DhcpMessageType::Release,
            8 => DhcpMessageType::Inform,
            v => DhcpMessageType::Unknown(v),
        }
    }
}

impl From<DhcpMessageType> for u8 {
    fn from(t: DhcpMessageType) -> u8 {
        match t {
            DhcpMessageType::Discover => 1,
            DhcpMessageType::Offer => 2,
            DhcpMessageType::Request => 3,
            DhcpMessageType::Decline => 4,
            DhcpMessageType::Ack => 5,
            DhcpMessageType::Nak => 6,
            DhcpMessageType::Release => 7,
            DhcpMessageType::Inform => 8,
            DhcpMessageType::Unknown(v) => v,
        }
    }
}

impl fmt::Display for DhcpMessageType {
    /// The RFC 2131 name: `DHCPDISCOVER`, `DHCPOFFER`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            DhcpMessageType::Discover => "DHCPDISCOVER",
            DhcpMessageType::Offer => "DHCPOFFER",
            DhcpMessageType::Request => "DHCPREQUEST",
            DhcpMessageType::Decline => "DHCPDECLINE",
            DhcpMessageType::Ack => "DHCPACK",
            DhcpMessageType::Nak => "DHCPNAK",
            DhcpMessageType::Release => "DHCPRELEASE",
            DhcpMessageType::Inform => "DHCPINFORM",
            DhcpMessageType::Unknown(v) => return write!(f, "DHCP type {v}"),
        };
        f.write_str(s)
    }
}

/// A DHCP option (RFC 2132). Pad and end are framing, not options.
///
/// Parsing checks the lengths RFC 2132 gives ([`WireError::Malformed`]):
/// exactly 4 for addresses and times, 1 for the message type, a non-zero
/// multiple of 4 for address lists, at least 1 for strings and the parameter
/// list, at least 2 for the client identifier. Strings are decoded as UTF-8
/// (invalid sequences replaced) with trailing NULs removed, since some
/// clients send them NUL-terminated against RFC 2132 §2.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DhcpOption {
    /// 53: the DHCP message type (RFC 2132 §9.6).
    MessageType(DhcpMessageType),
    /// 1: the client's subnet mask (RFC 2132 §3.3).
    SubnetMask(Ipv4Addr),
    /// 3: routers on the client's subnet, in order of preference
    /// (RFC 2132 §3.5).
    Router(Vec<Ipv4Addr>),
    /// 6: DNS servers, in order of preference (RFC 2132 §3.8).
    DnsServers(Vec<Ipv4Addr>),
    /// 15: the domain name for resolving hostnames (RFC 2132 §3.17).
    DomainName(String),
    /// 50: the address the client asks for (RFC 2132 §9.1).
    RequestedIp(Ipv4Addr),
    /// 51: lease time in seconds; `0xffffffff` is infinite (RFC 2132 §9.2).
    LeaseTime(u32),
    /// 54: the server's address, identifying it (RFC 2132 §9.7).
    ServerIdentifier(Ipv4Addr),
    /// 55: option codes the client wants, in order of preference
    /// (RFC 2132 §9.8).
    ParameterRequestList(Vec<u8>),
    /// 56: an error message, in a DHCPNAK or DHCPDECLINE (RFC 2132 §9.9).
    Message(String),
    /// 58: T1, seconds until the client starts renewing (RFC 2132 §9.11).
    RenewalTime(u32),
    /// 59: T2, seconds until the client starts rebinding (RFC 2132 §9.12).
    RebindingTime(u32),
    /// 61: the client identifier; the first octet is a hardware type, e.g.
    /// 1 followed by the MAC address (RFC 2132 §9.14).
    ClientIdentifier(Vec<u8>),
    /// Any other option, value kept verbatim. Codes 0 and 255 cannot be
    /// written and are skipped on emit.
    Unknown {
        /// The option code.
        code: u8,
        /// The value.
        data: Vec<u8>,
    },
}

impl DhcpOption {
    /// The option code (see [`option_code`]).
    pub fn code(&self) -> u8 {
        match self {
            DhcpOption::MessageType(_) => code::MESSAGE_TYPE,
            DhcpOption::SubnetMask(_) => code::SUBNET_MASK,
            DhcpOption::Router(_) => code::ROUTER,
            DhcpOption::DnsServers(_) => code::DNS_SERVERS,
            DhcpOption::DomainName(_) => code::DOMAIN_NAME,
            DhcpOption::RequestedIp(_) => code::REQUESTED_IP,
            DhcpOption::LeaseTime(_) => code::LEASE_TIME,
            DhcpOption::ServerIdentifier(_) => code::SERVER_IDENTIFIER,
            DhcpOption::ParameterRequestList(_) => code::PARAMETER_REQUEST_LIST,
            DhcpOption::Message(_) => code::MESSAGE,
            DhcpOption::RenewalTime(_) => code::RENEWAL_TIME,
            DhcpOption::RebindingTime(_) => code::REBINDING_TIME,
            DhcpOption::ClientIdentifier(_) => code::CLIENT_IDENTIFIER,
            DhcpOption::Unknown { code, .. } => *code,
        }
    }

    /// Decodes the (concatenated) value of option `code`.
    fn decode(code: u8, data: Vec<u8>) -> Result<DhcpOption> {
        let bad = |what: &'static str| WireError::Malformed {
            what,
            field: "length",
            value: data.len() as u64,
        };
        let addr = |what| -> Result<Ipv4Addr> {
            let a: [u8; 4] = data[..].try_into().map_err(|_| bad(what))?;
            Ok(Ipv4Addr::from(a))
        };
        let secs = |what| addr(what).map(u32::from);
        let addrs = |what| -> Result<Vec<Ipv4Addr>> {
            if data.is_empty() || !data.len().is_multiple_of(4) {
                return Err(bad(what));
            }
            Ok(data
                .chunks_exact(4)
                .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
                .collect())
        };
        let text = |what| -> Result<String> {
            if data.is_empty() {
                return Err(bad(what));
            }
            let end = data.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
            Ok(String::from_utf8_lossy(&data[..end]).into_owned())
        };
        Ok(match code {
            code::MESSAGE_TYPE => match data[..] {
                [t] => DhcpOption::MessageType(t.into()),
                _ => return Err(bad("DHCP message type option")),
            },
            code::SUBNET_MASK => DhcpOption::SubnetMask(addr("DHCP subnet mask option")?),
            code::ROUTER => DhcpOption::Router(addrs("DHCP router option")?),
            code::DNS_SERVERS => DhcpOption::DnsServers(addrs("DHCP DNS server option")?),
            code::DOMAIN_NAME => DhcpOption::DomainName(text("DHCP domain name option")?),
            code::REQUESTED_IP => DhcpOption::RequestedIp(addr("DHCP requested IP option")?),
            code::LEASE_TIME => DhcpOption::LeaseTime(secs("DHCP lease time option")?),
            code::SERVER_IDENTIFIER => {
                DhcpOption::ServerIdentifier(addr("DHCP server identifier option")?)
            }
            code::PARAMETER_REQUEST_LIST => {
                if data.is_empty() {
                    return Err(bad("DHCP parameter request list option"));
                }
                DhcpOption::ParameterRequestList(data)
            }
            code::MESSAGE => DhcpOption::Message(text("DHCP message option")?),
            code::RENEWAL_TIME => DhcpOption::RenewalTime(secs("DHCP renewal time option")?),
            code::REBINDING_TIME => DhcpOption::RebindingTime(secs("DHCP rebinding time option")?),
            code::CLIENT_IDENTIFIER => {
                if data.len() < 2 {
                    return Err(bad("DHCP client identifier option"));
                }
                DhcpOption::ClientIdentifier(data)
            }
            code => DhcpOption::Unknown { code, data },
        })
    }

    /// The encoded value, without code and length.
    fn value(&self) -> Vec<u8> {
        let addrs = |v: &[Ipv4Addr]| v.iter().flat_map(|a| a.octets()).collect();
        match self {
            DhcpOption::MessageType(t) => vec![u8::from(*t)],
            DhcpOption::SubnetMask(a)
            | DhcpOption::RequestedIp(a)
            | DhcpOption::ServerIdentifier(a) => a.octets().to_vec(),
            DhcpOption::Router(v) | DhcpOption::DnsServers(v) => addrs(v),
            // An empty text (all NULs when parsed) goes out as one NUL: RFC
            // 2132 §3.17 and §9.9 need at least one octet, and parse strips it.
            DhcpOption::DomainName(s) | DhcpOption::Message(s) if s.is_empty() => vec![0],
            DhcpOption::DomainName(s) | DhcpOption::Message(s) => s.as_bytes().to_vec(),
            DhcpOption::LeaseTime(t)
            | DhcpOption::RenewalTime(t)
            | DhcpOption::RebindingTime(t) => t.to_be_bytes().to_vec(),
            DhcpOption::ParameterRequestList(v)
            | DhcpOption::ClientIdentifier(v)
            | DhcpOption::Unknown { data: v, .. } => v.clone(),
        }
    }

    /// Appends code, length and value; a value over 255 octets becomes
    /// several instances (RFC 3396 §5). Codes 0 and 255 are not written.
    fn write(&self, out: &mut Vec<u8>) {
        let code = self.code();
        if code == code::PAD || code == code::END {
            return;
        }
        let value = self.value();
        if value.is_empty() {
            out.extend_from_slice(&[code, 0]);
        }
        for chunk in value.chunks(255) {
            out.extend_from_slice(&[code, chunk.len() as u8]);
            out.extend_from_slice(chunk);
        }
    }
}

/// A DHCP message (RFC 2131 §2, figure 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DhcpMessage {
    /// `op`: BOOTREQUEST from clients, BOOTREPLY from servers.
    pub op: DhcpOp,
    /// `htype`: hardware address type, 1 for Ethernet.
    pub htype: u8,
    /// `hlen`: hardware address length, 6 for Ethernet.
    pub hlen: u8,
    /// `hops`: incremented by relay agents.
    pub hops: u8,
    /// `xid`: transaction ID chosen by the client.
    pub xid: u32,
    /// `secs`: seconds since the client began acquiring or renewing.
    pub secs: u16,
    /// The BROADCAST bit of `flags`: the client cannot receive unicast
    /// before it is configured (RFC 2131 §4.1). The other 15 bits "MUST be
    /// zero" (RFC 2131 §2): they are ignored on parse and sent as zero.
    pub broadcast: bool,
    /// `ciaddr`: the client's address, when it already has one.
    pub ciaddr: Ipv4Addr,
    /// `yiaddr`: "your" (the client's) address, assigned by the server.
    pub yiaddr: Ipv4Addr,
    /// `siaddr`: the next server to use in bootstrap.
    pub siaddr: Ipv4Addr,
    /// `giaddr`: the relay agent's address.
    pub giaddr: Ipv4Addr,
    /// `chaddr`: the client's hardware address (the first 6 of the 16
    /// octets; the others are sent as zero).
    pub chaddr: EthernetAddress,
    /// `sname`: optional server host name, up to the first NUL; at most 64
    /// octets are written.
    pub sname: Vec<u8>,
    /// `file`: boot file name, up to the first NUL; at most 128 octets are
    /// written.
    pub file: Vec<u8>,
    /// The options after the magic cookie, in order (RFC 2132).
    pub options: Vec<DhcpOption>,
}

impl DhcpMessage {
    /// A BOOTREQUEST from the Ethernet client `chaddr` with transaction `xid`
    /// and a message type option, every address zero (RFC 2131 §4.4.1,
    /// table 5); add options to taste.
    pub fn client(xid: u32, chaddr: EthernetAddress, kind: DhcpMessageType) -> DhcpMessage {
        DhcpMessage {
            op: DhcpOp::BootRequest,
            htype: HTYPE_ETHERNET,
            hlen: 6,
            hops: 0,
            xid,
            secs: 0,
            broadcast: false,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr,
            sname: Vec::new(),
            file: Vec::new(),
            options: vec![DhcpOption::MessageType(kind)],
        }
    }

    /// A BOOTREPLY to `request` with a message type option: `htype`, `hlen`,
    /// `xid`, `flags`, `giaddr` and `chaddr` copied, the rest zero
    /// (RFC 2131 §4.3.1, table 3).
    pub fn reply_to(request: &DhcpMessage, kind: DhcpMessageType) -> DhcpMessage {
        DhcpMessage {
            op: DhcpOp::BootReply,
            htype: request.htype,
            hlen: request.hlen,
            xid: request.xid,
            broadcast: request.broadcast,
            giaddr: request.giaddr,
            ..DhcpMessage::client(request.xid, request.chaddr, kind)
        }
    }

    /// The message type option's value, if present.
    pub fn message_type(&self) -> Option<DhcpMessageType> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::MessageType(t) => Some(*t),
            _ => None,
        })
    }

    /// The first option with code `code`.
    pub fn option(&self, code: u8) -> Option<&DhcpOption> {
        self.options.iter().find(|o| o.code() == code)
    }

    /// The server identifier option's value (RFC 2132 §9.7).
    pub fn server_identifier(&self) -> Option<Ipv4Addr> {
        match self.option(code::SERVER_IDENTIFIER)? {
            DhcpOption::ServerIdentifier(a) => Some(*a),
            _ => None,
        }
    }

    /// The requested IP address option's value (RFC 2132 §9.1).
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        match self.option(code::REQUESTED_IP)? {
            DhcpOption::RequestedIp(a) => Some(*a),
            _ => None,
        }
    }

    /// The lease time option's value in seconds (RFC 2132 §9.2).
    pub fn lease_time(&self) -> Option<u32> {
        match self.option(code::LEASE_TIME)? {
            DhcpOption::LeaseTime(t) => Some(*t),
            _ => None,
        }
    }

    /// Parses a DHCP message, the payload of a UDP datagram.
    ///
    /// Fails with [`WireError::Truncated`] below [`MIN_LEN`] octets or when
    /// an option runs past the buffer, [`WireError::Malformed`] when the
    /// magic cookie is not 99.130.83.99 (RFC 2131 §3: plain BOOTP messages
    /// are not DHCP) or an option has a bad length, and
    /// [`WireError::Unsupported`] on option overload (52). Octets after the
    /// end option are ignored.
    pub fn parse(b: &[u8]) -> Result<DhcpMessage> {
        check_len("DHCP message", MIN_LEN, b.len())?;
        let cookie = &b[field::COOKIE..field::OPTIONS];
        if cookie != MAGIC_COOKIE {
            return Err(WireError::Malformed {
                what: "DHCP message",
                field: "magic cookie",
                value: u64::from(u32::from_be_bytes([
                    cookie[0], cookie[1], cookie[2], cookie[3],
                ])),
            });
        }
        let addr = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
        let cstr = |at: usize, len: usize| {
            let f = &b[at..at + len];
            f[..f.iter().position(|&c| c == 0).unwrap_or(len)].to_vec()
        };
        Ok(DhcpMessage {
            op: b[field::OP].into(),
            htype: b[field::HTYPE],
            hlen: b[field::HLEN],
            hops: b[field::HOPS],
            xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            secs: be16(b, field::SECS),
            broadcast: be16(b, field::FLAGS) & FLAG_BROADCAST != 0,
            ciaddr: addr(field::CIADDR),
            yiaddr: addr(field::YIADDR),
            siaddr: addr(field::SIADDR),
            giaddr: addr(field::GIADDR),
            chaddr: EthernetAddress::from_bytes(&b[field::CHADDR..]).unwrap_or_default(),
            sname: cstr(field::SNAME, field::SNAME_LEN),
            file: cstr(field::FILE, field::FILE_LEN),
            options: parse_options(b)?,
        })
    }

    /// Encodes the message: fixed fields, magic cookie, options, end option,
    /// then zero padding up to [`MIN_BOOTP_LEN`] octets (RFC 1542 §2.1).
    pub fn emit(&self) -> Vec<u8> {
        let mut b = vec![0u8; field::OPTIONS];
        b[field::OP] = self.op.into();
        b[field::HTYPE] = self.htype;
        b[field::HLEN] = self.hlen;
        b[field::HOPS] = self.hops;
        b[field::XID..field::XID + 4].copy_from_slice(&self.xid.to_be_bytes());
        b[field::SECS..field::SECS + 2].copy_from_slice(&self.secs.to_be_bytes());
        let flags = if self.broadcast { FLAG_BROADCAST } else { 0 };
        b[field::FLAGS..field::FLAGS + 2].copy_from_slice(&flags.to_be_bytes());
        for (at, a) in [
            (field::CIADDR, self.ciaddr),
            (field::YIADDR, self.yiaddr),
            (field::SIADDR, self.siaddr),
            (field::GIADDR, self.giaddr),
        ] {
            b[at..at + 4].copy_from_slice(&a.octets());
        }
        b[field::CHADDR..field::CHADDR + 6].copy_from_slice(self.chaddr.as_bytes());
        let sname = &self.sname[..self.sname.len().min(field::SNAME_LEN)];
        b[field::SNAME..field::SNAME + sname.len()].copy_from_slice(sname);
        let file = &self.file[..self.file.len().min(field::FILE_LEN)];
        b[field::FILE..field::FILE + file.len()].copy_from_slice(file);
        b[field::COOKIE..field::OPTIONS].copy_from_slice(&MAGIC_COOKIE);
        for o in &self.options {
            o.write(&mut b);
        }
        b.push(code::END);
        if b.len() < MIN_BOOTP_LEN {
            b.resize(MIN_BOOTP_LEN, code::PAD);
        }
        b
    }
}

/// Reads the options after the magic cookie (RFC 2132 §2), concatenating
/// repeated codes in order of first appearance (RFC 3396 §7).
fn parse_options(b: &[u8]) -> Result<Vec<DhcpOption>> {
    let mut raw: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut i = field::OPTIONS;
    while let Some(&c) = b.get(i) {
        match c {
            code::PAD => i += 1,
            code::END => break,
            c => {
                check_len("DHCP option", i + 2, b.len())?;
                let len = usize::from(b[i + 1]);
                check_len("DHCP option", i + 2 + len, b.len())?;
                let data = &b[i + 2..i + 2 + len];
                if c == code::OVERLOAD {
                    return Err(WireError::Unsupported {
                        what: "DHCP options",
                        field: "option overload",
                        value: data.first().map_or(0, |&v| u64::from(v)),
                    });
                }
                match raw.iter_mut().find(|(k, _)| *k == c) {
                    Some((_, v)) => v.extend_from_slice(data),
                    None => raw.push((c, data.to_vec())),
                }
                i += 2 + len;
            }
        }
    }
    raw.into_iter()
        .map(|(c, data)| DhcpOption::decode(c, data))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> DhcpMessage {
        DhcpMessage::client(
            7,
            EthernetAddress([2, 0, 0, 0, 0, 1]),
            DhcpMessageType::Request,
        )
    }

    fn with_options(opts: &[u8]) -> Vec<u8> {
        let mut b = base().emit();
        b.truncate(field::OPTIONS);
        b.extend_from_slice(opts);
        b
    }

    #[test]
    fn numbers_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(DhcpOp::from(v)), v);
            assert_eq!(u8::from(DhcpMessageType::from(v)), v);
        }
        assert_eq!(DhcpMessageType::Ack.to_string(), "DHCPACK");
        assert_eq!(DhcpMessageType::Unknown(9).to_string(), "DHCP type 9");
    }

    #[test]
    fn cookie_and_length_are_checked() {
        let mut b = base().emit();
        assert!(DhcpMessage::parse(&b).is_ok());
        assert!(matches!(
            DhcpMessage::parse(&b[..239]),
            Err(WireError::Truncated { .. })
        ));
        b[236] = 0;
        assert_eq!(
            DhcpMessage::parse(&b),
            Err(WireError::Malformed {
                what: "DHCP message",
                field: "magic cookie",
                value: 0x0082_5363
            })
        );
    }

    #[test]
    fn option_framing() {
        // Pads, then a router split in two instances, no end option.
        let b = with_options(&[0, 0, 3, 4, 10, 0, 0, 1, 0, 3, 4, 10, 0, 0, 2]);
        let m = DhcpMessage::parse(&b).unwrap();
        let routers = vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)];
        assert_eq!(m.options, vec![DhcpOption::Router(routers)]);
        // Everything after the end option is ignored.
        let b = with_options(&[255, 3, 200]);
        assert!(DhcpMessage::parse(&b).unwrap().options.is_empty());
        // An option running past the buffer.
        assert!(matches!(
            DhcpMessage::parse(&with_options(&[3])),
            Err(WireError::Truncated { .. })
        ));
        assert!(matches!(
            DhcpMessage::parse(&with_options(&[3, 4, 1])),
            Err(WireError::Truncated { .. })
        ));
        // Overload.
        assert_eq!(
            DhcpMessage::parse(&with_options(&[52, 1, 3, 255])),
            Err(WireError::Unsupported {
                what: "DHCP options",
                field: "option overload",
                value: 3
            })
        );
    }

    #[test]
    fn option_lengths_are_checked() {
        for bad in [
            &[53, 2, 1, 1][..],
            &[1, 3, 255, 255, 255],
            &[3, 0],
            &[6, 5, 1, 1, 1, 1, 1],
            &[15, 0],
            &[50, 5, 1, 2, 3, 4, 5],
            &[51, 2, 0, 0],
            &[54, 0],
            &[55, 0],
            &[56, 0],
            &[58, 3, 0, 0, 0],
            &[59, 1, 0],
            &[61, 1, 1],
        ] {
            let r = DhcpMessage::parse(&with_options(bad));
            assert!(
                matches!(
                    r,
                    Err(WireError::Malformed {
                        field: "length",
                        ..
                    })
                ),
                "{bad:?}: {r:?}"
            );
        }
    }

    #[test]
    fn strings_lose_trailing_nuls() {
        let m = DhcpMessage::parse(&with_options(b"\x0f\x08lab.net\x00\x38\x02\xff\xfe")).unwrap();
        assert_eq!(m.options[0], DhcpOption::DomainName("lab.net".into()));
        assert_eq!(m.options[1], DhcpOption::Message("\u{fffd}\u{fffd}".into()));
    }

    #[test]
    fn long_values_are_split_and_joined() {
        let mut m = base();
        let servers: Vec<Ipv4Addr> = (0..100u32).map(Ipv4Addr::from).collect();
        m.options.push(DhcpOption::DnsServers(servers));
        m.options.push(DhcpOption::Unknown {
            code: 0,
            data: vec![1],
        });
        m.options.push(DhcpOption::Unknown {
            code: 77,
            data: vec![],
        });
        let b = m.emit();
        // 400 octets: 255 + 145 in two instances.
        assert_eq!(&b[243..245], &[6, 255]);
        assert_eq!(&b[500..502], &[6, 145]);
        let p = DhcpMessage::parse(&b).unwrap();
        m.options.remove(2);
        assert_eq!(p, m);
    }

    #[test]
    fn reply_copies_the_request_fields() {
        let mut req = base();
        req.broadcast = true;
        req.giaddr = Ipv4Addr::new(10, 0, 0, 1);
        req.secs = 9;
        let ack = DhcpMessage::reply_to(&req, DhcpMessageType::Ack);
        assert_eq!(ack.op, DhcpOp::BootReply);
        assert_eq!(
            (ack.xid, ack.broadcast, ack.giaddr, ack.chaddr),
            (7, true, req.giaddr, req.chaddr)
        );
        assert_eq!(ack.secs, 0);
        assert_eq!(ack.message_type(), Some(DhcpMessageType::Ack));
        let b = ack.emit();
        assert_eq!(&b[10..12], &[0x80, 0]);
        assert_eq!(DhcpMessage::parse(&b).unwrap(), ack);
    }
}
