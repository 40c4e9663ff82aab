//! Link state advertisements (RFC 2328 §A.4): the 20-byte LSA header
//! (§A.4.1), Router-LSAs (§A.4.2) and Network-LSAs (§A.4.3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            LS age             |    Options    |    LS type    |
//! |                        Link State ID                          |
//! |                     Advertising Router                        |
//! |                     LS sequence number                        |
//! |         LS checksum           |             length            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Summary-LSAs and AS-external-LSAs (types 3–5) belong to areas and AS
//! boundaries vnet does not run; they, and every type this module does not
//! know, are kept as their raw body. So is a Router- or Network-LSA body
//! that does not decode exactly (a reserved byte set, a link count that
//! disagrees with the length): an LSA is always re-emitted to the very
//! bytes it was read from, and its checksum can be checked on those.

use core::net::Ipv4Addr;

use super::fletcher;
use super::reader::Reader;
use crate::{Result, WireError};

/// Bytes of an LSA header (RFC 2328 §A.4.1).
pub const LSA_HEADER_LEN: usize = 20;

/// The Options field of Hellos, DD packets and LSAs (RFC 2328 §A.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Options(pub u8);

impl Options {
    /// E-bit: AS-external-LSAs are flooded (not a stub area). Routers of
    /// one area must agree on it (RFC 2328 §10.5).
    pub const E: u8 = 0x02;
    /// MC-bit: multicast datagrams are forwarded (RFC 1584).
    pub const MC: u8 = 0x04;
    /// N/P-bit: NSSA (RFC 3101).
    pub const NP: u8 = 0x08;
    /// EA-bit: External-Attributes-LSAs (RFC 2328 §A.2; L-bit in RFC 5613).
    pub const EA: u8 = 0x10;
    /// DC-bit: demand circuits (RFC 1793).
    pub const DC: u8 = 0x20;

    /// Whether the E-bit is set.
    pub fn external(self) -> bool {
        self.0 & Self::E != 0
    }
}

/// The LS type of an LSA (RFC 2328 §A.4.1, §12.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LsType {
    /// 1: a router's links into the area.
    Router,
    /// 2: a transit network and its attached routers (sent by the DR).
    Network,
    /// 3: an inter-area route (area border routers).
    SummaryNetwork,
    /// 4: a route to an AS boundary router.
    SummaryAsbr,
    /// 5: an external route.
    AsExternal,
    /// Anything else, kept verbatim.
    Unknown(u8),
}

impl From<u8> for LsType {
    fn from(v: u8) -> Self {
        match v {
            1 => LsType::Router,
            2 => LsType::Network,
            3 => LsType::SummaryNetwork,
            4 => LsType::SummaryAsbr,
            5 => LsType::AsExternal,
            other => LsType::Unknown(other),
        }
    }
}

impl From<LsType> for u8 {
    fn from(t: LsType) -> u8 {
        match t {
            LsType::Router => 1,
            LsType::Network => 2,
            LsType::SummaryNetwork => 3,
            LsType::SummaryAsbr => 4,
            LsType::AsExternal => 5,
            LsType::Unknown(v) => v,
        }
    }
}

/// What identifies an LSA, whatever its instance (RFC 2328 §12.1: LS
/// type, Link State ID and Advertising Router). Also the body of one
/// Link State Request entry (§A.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LsaKey {
    /// The LS type.
    pub ls_type: LsType,
    /// The Link State ID (§12.1.4: the router ID for a Router-LSA, the
    /// DR's interface address for a Network-LSA).
    pub id: Ipv4Addr,
    /// The router that originated it.
    pub adv_router: Ipv4Addr,
}

/// The LSA header (RFC 2328 §A.4.1): enough to tell one instance of an
/// LSA from another (§13.1), hence what DD packets and acknowledgements
/// carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LsaHeader {
    /// Seconds since origination (§12.1.1), up to [`super::MAX_AGE`].
    pub age: u16,
    /// The originator's options (§A.2).
    pub options: Options,
    /// The LS type.
    pub ls_type: LsType,
    /// The Link State ID.
    pub id: Ipv4Addr,
    /// The originating router.
    pub adv_router: Ipv4Addr,
    /// The LS sequence number, a signed 32-bit number on the wire
    /// (§12.1.6: from [`super::INITIAL_SEQUENCE`] = 0x80000001 up to
    /// [`super::MAX_SEQUENCE`] = 0x7fffffff; compare with `as i32`).
    pub seq: u32,
    /// The Fletcher checksum of the LSA bar the age (§12.1.7).
    pub checksum: u16,
    /// Bytes of the whole LSA, header included.
    pub length: u16,
}

impl LsaHeader {
    /// The LSA this header is an instance of.
    pub fn key(&self) -> LsaKey {
        LsaKey {
            ls_type: self.ls_type,
            id: self.id,
            adv_router: self.adv_router,
        }
    }

    pub(super) fn read(r: &mut Reader<'_>) -> Result<LsaHeader> {
        Ok(LsaHeader {
            age: r.u16()?,
            options: Options(r.u8()?),
            ls_type: LsType::from(r.u8()?),
            id: r.addr()?,
            adv_router: r.addr()?,
            seq: r.u32()?,
            checksum: r.u16()?,
            length: r.u16()?,
        })
    }

    /// Parses one header from the first 20 bytes of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<LsaHeader> {
        LsaHeader::read(&mut Reader::new(bytes, "LSA header"))
    }

    /// Appends the 20 bytes of the header.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.age.to_be_bytes());
        out.push(self.options.0);
        out.push(self.ls_type.into());
        out.extend_from_slice(&self.id.octets());
        out.extend_from_slice(&self.adv_router.octets());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.checksum.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
    }
}

/// Router-LSA flag V: an endpoint of an active virtual link (§A.4.2).
pub const FLAG_V: u8 = 0x04;
/// Router-LSA flag E: an AS boundary router.
pub const FLAG_E: u8 = 0x02;
/// Router-LSA flag B: an area border router.
pub const FLAG_B: u8 = 0x01;

/// The type of a router link (RFC 2328 §A.4.2, §12.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// 1: point-to-point to another router (ID: the neighbour's router
    /// ID; data: our interface address, or its ifIndex when unnumbered).
    PointToPoint,
    /// 2: to a transit network (ID: the DR's interface address; data: our
    /// interface address).
    Transit,
    /// 3: to a stub network (ID: network number; data: its mask).
    Stub,
    /// 4: a virtual link (ID: the neighbour's router ID).
    Virtual,
    /// Anything else, kept verbatim.
    Unknown(u8),
}

impl From<u8> for LinkType {
    fn from(v: u8) -> Self {
        match v {
            1 => LinkType::PointToPoint,
            2 => LinkType::Transit,
            3 => LinkType::Stub,
            4 => LinkType::Virtual,
            other => LinkType::Unknown(other),
        }
    }
}

impl From<LinkType> for u8 {
    fn from(t: LinkType) -> u8 {
        match t {
            LinkType::PointToPoint => 1,
            LinkType::Transit => 2,
            LinkType::Stub => 3,
            LinkType::Virtual => 4,
            LinkType::Unknown(v) => v,
        }
    }
}

/// An additional per-TOS metric of a router link (§A.4.2; TOS routing is
/// gone from RFC 2328 but the field stays, and is carried along).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TosMetric {
    /// The IP TOS (§12.3 encoding).
    pub tos: u8,
    /// Its metric.
    pub metric: u16,
}

/// One link of a Router-LSA (§A.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouterLink {
    /// What the link connects to; the meaning depends on the type.
    pub link_id: Ipv4Addr,
    /// Our interface address, or a stub network's mask.
    pub link_data: Ipv4Addr,
    /// Point-to-point, transit, stub or virtual.
    pub link_type: LinkType,
    /// The TOS 0 cost of using this link (the interface's output cost).
    pub metric: u16,
    /// TOS-specific metrics (normally none).
    pub tos: Vec<TosMetric>,
}

/// The body of a Router-LSA (§A.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RouterLsa {
    /// [`FLAG_V`], [`FLAG_E`], [`FLAG_B`] (and any other bits received).
    pub flags: u8,
    /// The router's links into the area.
    pub links: Vec<RouterLink>,
}

impl RouterLsa {
    /// Decodes a body that must be exactly a Router-LSA body.
    fn decode(body: &[u8]) -> Result<RouterLsa> {
        let mut r = Reader::new(body, "Router-LSA");
        let flags = r.u8()?;
        let reserved = r.u8()?;
        let count = r.u16()?;
        if reserved != 0 {
            return Err(malformed("Router-LSA", "reserved", reserved.into()));
        }
        let mut links = Vec::with_capacity(usize::from(count).min(r.remaining() / 12));
        for _ in 0..count {
            let link_id = r.addr()?;
            let link_data = r.addr()?;
            let link_type = LinkType::from(r.u8()?);
            let tos_count = r.u8()?;
            let metric = r.u16()?;
            let mut tos = Vec::with_capacity(usize::from(tos_count).min(r.remaining() / 4));
            for _ in 0..tos_count {
                let t = r.u8()?;
                let reserved = r.u8()?;
                if reserved != 0 {
                    return Err(malformed("Router-LSA TOS", "reserved", reserved.into()));
                }
                tos.push(TosMetric {
                    tos: t,
                    metric: r.u16()?,
                });
            }
            links.push(RouterLink {
                link_id,
                link_data,
                link_type,
                metric,
                tos,
            });
        }
        if r.remaining() != 0 {
            return Err(malformed("Router-LSA", "length", body.len() as u64));
        }
        Ok(RouterLsa { flags, links })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.flags);
        out.push(0);
        out.extend_from_slice(&(self.links.len() as u16).to_be_bytes());
        for l in &self.links {
            out.extend_from_slice(&l.link_id.octets());
            out.extend_from_slice(&l.link_data.octets());
            out.push(l.link_type.into());
            out.push(l.tos.len() as u8);
            out.extend_from_slice(&l.metric.to_be_bytes());
            for t in &l.tos {
                out.extend_from_slice(&[t.tos, 0]);
                out.extend_from_slice(&t.metric.to_be_bytes());
            }
        }
    }
}

/// The body of a Network-LSA (§A.4.3), originated by a network's DR.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetworkLsa {
    /// The network's mask (the Link State ID is the DR's address on it).
    pub mask: Ipv4Addr,
    /// The routers fully adjacent to the DR, and the DR itself.
    pub routers: Vec<Ipv4Addr>,
}

impl NetworkLsa {
    fn decode(body: &[u8]) -> Result<NetworkLsa> {
        let mut r = Reader::new(body, "Network-LSA");
        let mask = r.addr()?;
        if !r.remaining().is_multiple_of(4) {
            return Err(malformed("Network-LSA", "length", body.len() as u64));
        }
        let mut routers = Vec::with_capacity(r.remaining() / 4);
        while r.remaining() > 0 {
            routers.push(r.addr()?);
        }
        Ok(NetworkLsa { mask, routers })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.mask.octets());
        for a in &self.routers {
            out.extend_from_slice(&a.octets());
        }
    }
}

/// What follows the LSA header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LsaBody {
    /// A Router-LSA body (LS type 1).
    Router(RouterLsa),
    /// A Network-LSA body (LS type 2).
    Network(NetworkLsa),
    /// Any other body, or a type 1/2 body that did not decode exactly,
    /// kept verbatim.
    Raw(Vec<u8>),
}

impl LsaBody {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            LsaBody::Router(r) => r.encode(out),
            LsaBody::Network(n) => n.encode(out),
            LsaBody::Raw(raw) => out.extend_from_slice(raw),
        }
    }

    /// Bytes [`LsaBody`] takes on the wire.
    pub fn len(&self) -> usize {
        match self {
            LsaBody::Router(r) => 4 + r.links.iter().map(|l| 12 + 4 * l.tos.len()).sum::<usize>(),
            LsaBody::Network(n) => 4 + 4 * n.routers.len(),
            LsaBody::Raw(raw) => raw.len(),
        }
    }

    /// Whether the body is empty (never for a Router- or Network-LSA).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A whole LSA: header and body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lsa {
    /// The header; `length` and `checksum` describe the body as received,
    /// or as [`Lsa::new`] and [`Lsa::seal`] computed them.
    pub header: LsaHeader,
    /// The body.
    pub body: LsaBody,
}

impl Lsa {
    /// An LSA with its length and Fletcher checksum computed (§12.1.7);
    /// whatever `header` holds in those two fields is replaced.
    pub fn new(header: LsaHeader, body: LsaBody) -> Lsa {
        let mut lsa = Lsa { header, body };
        lsa.seal();
        lsa
    }

    /// Recomputes the length and checksum fields after a change of the
    /// header or body (a new sequence number, new links).
    pub fn seal(&mut self) {
        self.header.length = self.buffer_len() as u16;
        let bytes = self.emit();
        if let Ok(sum) = fletcher::compute(&bytes) {
            self.header.checksum = sum;
        }
    }

    /// Whether the checksum field verifies (§13 step 1). The age is not
    /// covered: an LSA that aged in transit still verifies.
    pub fn checksum_ok(&self) -> bool {
        fletcher::verify(&self.emit())
    }

    /// Bytes [`Lsa::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        LSA_HEADER_LEN + self.body.len()
    }

    /// Reads one LSA from the front of `r` (its length field says how far
    /// it goes).
    pub(super) fn read(r: &mut Reader<'_>) -> Result<Lsa> {
        let header = LsaHeader::read(r)?;
        let length = usize::from(header.length);
        if length < LSA_HEADER_LEN {
            return Err(malformed("LSA header", "length", length as u64));
        }
        let body = r.take(length - LSA_HEADER_LEN)?;
        let body = match header.ls_type {
            LsType::Router => RouterLsa::decode(body).map(LsaBody::Router),
            LsType::Network => NetworkLsa::decode(body).map(LsaBody::Network),
            _ => Err(malformed("LSA", "type", u8::from(header.ls_type).into())),
        }
        .unwrap_or_else(|_| LsaBody::Raw(body.to_vec()));
        Ok(Lsa { header, body })
    }

    /// Parses one LSA that fills `bytes` exactly.
    pub fn parse(bytes: &[u8]) -> Result<Lsa> {
        let mut r = Reader::new(bytes, "LSA");
        let lsa = Lsa::read(&mut r)?;
        if r.remaining() != 0 {
            return Err(malformed("LSA", "length", bytes.len() as u64));
        }
        Ok(lsa)
    }

    /// Appends the LSA; the length field is the body's, the other header
    /// fields are written as they are.
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        let header = LsaHeader {
            length: self.buffer_len() as u16,
            ..self.header
        };
        header.emit(out);
        self.body.encode(out);
    }

    /// The LSA as bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buffer_len());
        self.emit_into(&mut out);
        out
    }
}

fn malformed(what: &'static str, field: &'static str, value: u64) -> WireError {
    WireError::Malformed { what, field, value }
}
