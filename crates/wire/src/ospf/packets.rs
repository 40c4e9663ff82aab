//! The bodies of the five OSPF packet types (RFC 2328 §A.3.2–§A.3.6),
//! after the 24-byte common header.

use core::net::Ipv4Addr;

use super::lsa::{LSA_HEADER_LEN, LsType, Lsa, LsaHeader, LsaKey, Options};
use super::reader::Reader;
use crate::{Result, WireError};

/// A Hello packet (type 1, §A.3.2): sent every HelloInterval on every
/// interface to find and keep neighbours, and to elect the DR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The interface's network mask (checked on broadcast networks, §10.5).
    pub network_mask: Ipv4Addr,
    /// Seconds between Hellos; must match ours (§10.5).
    pub hello_interval: u16,
    /// Our options (§A.2); the E-bit must match (§10.5).
    pub options: Options,
    /// Router priority for the DR election (§9.4); 0: never DR.
    pub priority: u8,
    /// Seconds of silence before a neighbour is declared down; must match.
    pub dead_interval: u32,
    /// The DR as the sender sees it (an interface address; 0.0.0.0: none).
    pub dr: Ipv4Addr,
    /// The BDR as the sender sees it.
    pub bdr: Ipv4Addr,
    /// The router IDs the sender heard a Hello from within the dead interval.
    pub neighbors: Vec<Ipv4Addr>,
}

impl Hello {
    /// Bytes of the fixed part.
    const FIXED_LEN: usize = 20;

    pub(super) fn read(body: &[u8]) -> Result<Hello> {
        let mut r = Reader::new(body, "OSPF Hello");
        let mut hello = Hello {
            network_mask: r.addr()?,
            hello_interval: r.u16()?,
            options: Options(r.u8()?),
            priority: r.u8()?,
            dead_interval: r.u32()?,
            dr: r.addr()?,
            bdr: r.addr()?,
            neighbors: Vec::new(),
        };
        if !r.remaining().is_multiple_of(4) {
            return Err(malformed("OSPF Hello", "length", body.len() as u64));
        }
        hello.neighbors.reserve(r.remaining() / 4);
        while r.remaining() > 0 {
            hello.neighbors.push(r.addr()?);
        }
        Ok(hello)
    }

    pub(super) fn buffer_len(&self) -> usize {
        Self::FIXED_LEN + 4 * self.neighbors.len()
    }

    pub(super) fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.network_mask.octets());
        out.extend_from_slice(&self.hello_interval.to_be_bytes());
        out.push(self.options.0);
        out.push(self.priority);
        out.extend_from_slice(&self.dead_interval.to_be_bytes());
        out.extend_from_slice(&self.dr.octets());
        out.extend_from_slice(&self.bdr.octets());
        for n in &self.neighbors {
            out.extend_from_slice(&n.octets());
        }
    }
}

/// The flags byte of a Database Description packet (§A.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DdFlags(pub u8);

impl DdFlags {
    /// I-bit: the first packet of the exchange.
    pub const INIT: u8 = 0x04;
    /// M-bit: more packets follow.
    pub const MORE: u8 = 0x02;
    /// MS-bit: the sender is the master.
    pub const MASTER: u8 = 0x01;

    /// Flags from the three bits.
    pub fn new(init: bool, more: bool, master: bool) -> DdFlags {
        DdFlags(
            (u8::from(init) * Self::INIT)
                | (u8::from(more) * Self::MORE)
                | (u8::from(master) * Self::MASTER),
        )
    }

    /// The I-bit.
    pub fn init(self) -> bool {
        self.0 & Self::INIT != 0
    }

    /// The M-bit.
    pub fn more(self) -> bool {
        self.0 & Self::MORE != 0
    }

    /// The MS-bit.
    pub fn master(self) -> bool {
        self.0 & Self::MASTER != 0
    }
}

/// A Database Description packet (type 2, §A.3.3): the summary of a
/// database, exchanged while an adjacency forms (§10.6, §10.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseDescription {
    /// The largest IP datagram the interface sends unfragmented (0 on
    /// virtual links).
    pub mtu: u16,
    /// The sender's options.
    pub options: Options,
    /// I, M and MS bits.
    pub flags: DdFlags,
    /// The DD sequence number, set by the master (§10.8).
    pub sequence: u32,
    /// Headers of LSAs in the sender's database.
    pub lsa_headers: Vec<LsaHeader>,
}

impl DatabaseDescription {
    const FIXED_LEN: usize = 8;

    pub(super) fn read(body: &[u8]) -> Result<DatabaseDescription> {
        let mut r = Reader::new(body, "OSPF DD");
        let mtu = r.u16()?;
        let options = Options(r.u8()?);
        let flags = DdFlags(r.u8()?);
        let sequence = r.u32()?;
        let lsa_headers = read_headers(&mut r, "OSPF DD")?;
        Ok(DatabaseDescription {
            mtu,
            options,
            flags,
            sequence,
            lsa_headers,
        })
    }

    pub(super) fn buffer_len(&self) -> usize {
        Self::FIXED_LEN + LSA_HEADER_LEN * self.lsa_headers.len()
    }

    pub(super) fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.mtu.to_be_bytes());
        out.push(self.options.0);
        out.push(self.flags.0);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        for h in &self.lsa_headers {
            h.emit(out);
        }
    }
}

/// Headers to the end of `r`, which must hold whole ones.
fn read_headers(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<LsaHeader>> {
    let len = r.remaining();
    if !len.is_multiple_of(LSA_HEADER_LEN) {
        return Err(malformed(what, "length", len as u64));
    }
    let mut headers = Vec::with_capacity(len / LSA_HEADER_LEN);
    while r.remaining() > 0 {
        headers.push(LsaHeader::read(r)?);
    }
    Ok(headers)
}

/// Link State Request entries (type 3, §A.3.4): 12 bytes each, the LS
/// type on 32 bits.
pub(super) fn read_requests(body: &[u8]) -> Result<Vec<LsaKey>> {
    const ENTRY_LEN: usize = 12;
    if !body.len().is_multiple_of(ENTRY_LEN) {
        return Err(malformed("OSPF LS Request", "length", body.len() as u64));
    }
    let mut r = Reader::new(body, "OSPF LS Request");
    let mut keys = Vec::with_capacity(body.len() / ENTRY_LEN);
    while r.remaining() > 0 {
        let ls_type = r.u32()?;
        let Ok(ls_type) = u8::try_from(ls_type) else {
            return Err(malformed("OSPF LS Request", "LS type", ls_type.into()));
        };
        keys.push(LsaKey {
            ls_type: LsType::from(ls_type),
            id: r.addr()?,
            adv_router: r.addr()?,
        });
    }
    Ok(keys)
}

pub(super) fn emit_requests(keys: &[LsaKey], out: &mut Vec<u8>) {
    for k in keys {
        out.extend_from_slice(&u32::from(u8::from(k.ls_type)).to_be_bytes());
        out.extend_from_slice(&k.id.octets());
        out.extend_from_slice(&k.adv_router.octets());
    }
}

/// Link State Update (type 4, §A.3.5): a count, then that many LSAs.
pub(super) fn read_update(body: &[u8]) -> Result<Vec<Lsa>> {
    let mut r = Reader::new(body, "OSPF LS Update");
    let count = r.u32()?;
    // Each LSA is at least a header: no count can need more than that.
    let mut lsas = Vec::with_capacity((count as usize).min(r.remaining() / LSA_HEADER_LEN));
    for _ in 0..count {
        lsas.push(Lsa::read(&mut r)?);
    }
    if r.remaining() != 0 {
        return Err(malformed("OSPF LS Update", "length", body.len() as u64));
    }
    Ok(lsas)
}

pub(super) fn emit_update(lsas: &[Lsa], out: &mut Vec<u8>) {
    out.extend_from_slice(&(lsas.len() as u32).to_be_bytes());
    for lsa in lsas {
        lsa.emit_into(out);
    }
}

/// Link State Acknowledgment (type 5, §A.3.6): LSA headers.
pub(super) fn read_acks(body: &[u8]) -> Result<Vec<LsaHeader>> {
    read_headers(&mut Reader::new(body, "OSPF LS Ack"), "OSPF LS Ack")
}

fn malformed(what: &'static str, field: &'static str, value: u64) -> WireError {
    WireError::Malformed { what, field, value }
}
