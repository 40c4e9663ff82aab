//! IPv4 fragmentation and reassembly (RFC 791 §2.3 "Fragmentation", §3.2
//! "Fragmentation and Reassembly"; hole descriptors after RFC 815).

use crate::time::Instant;
use core::time::Duration;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use vnet_wire::ipv4::{self, Ipv4Packet};

/// Largest IPv4 datagram: Total Length is a 16-bit field (RFC 791 §3.1).
pub const MAX_DATAGRAM_LEN: usize = 65_535;

/// Options of a header that must be copied into every fragment (RFC 791
/// §3.1 "Options": the copied flag, bit 0 of the option type), padded with
/// End-of-Option-List to a multiple of 4 bytes.
fn copied_options(options: &[u8], out: &mut [u8; 40]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < options.len() {
        let t = options[i];
        match t {
            0 => break,  // End of Option List
            1 => i += 1, // No Operation: not copied
            _ => {
                let Some(&len) = options.get(i + 1) else {
                    break;
                };
                let len = usize::from(len);
                if len < 2 || i + len > options.len() {
                    break; // malformed: copy nothing more
                }
                if t & 0x80 != 0 {
                    out[n..n + len].copy_from_slice(&options[i..i + len]);
                    n += len;
                }
                i += len;
            }
        }
    }
    let padded = n.div_ceil(4) * 4;
    out[n..padded].fill(0);
    padded
}

/// Splits the datagram `packet` into fragments of at most `mtu` bytes and
/// calls `emit` with each (RFC 791 §3.2 "An Example Fragmentation
/// Procedure").
///
/// `packet` must be a checked IPv4 packet whose length equals its Total
/// Length. It may itself be a fragment: offsets are relative to its own
/// offset and its MF flag is kept on the last piece, so fragments of
/// fragments reassemble correctly. DF is cleared on every piece. Options
/// go whole into the first fragment and, when "copied", into the others.
///
/// Each buffer given to `emit` is `scratch` with `headroom` bytes (left
/// for a link-layer header, contents unspecified) before the IP header, so
/// no allocation happens once `scratch` has grown. Returns the number of
/// fragments, or 0 if the packet cannot be fragmented to `mtu`.
pub(crate) fn fragment(
    packet: &[u8],
    mtu: usize,
    scratch: &mut Vec<u8>,
    headroom: usize,
    mut emit: impl FnMut(&mut [u8]),
) -> usize {
    let view = Ipv4Packet::new_unchecked(packet);
    let hlen = view.header_len();
    if hlen < ipv4::HEADER_LEN || hlen > packet.len() {
        return 0;
    }
    let data = &packet[hlen..];
    let base = usize::from(view.frag_offset());
    let orig_mf = view.more_frags();
    if base + data.len() + hlen > MAX_DATAGRAM_LEN + hlen {
        return 0;
    }
    let mut rest_opts = [0u8; 40];
    let rest_opts_len = copied_options(view.options(), &mut rest_opts);
    let rest_hlen = ipv4::HEADER_LEN + rest_opts_len;
    let chunk_for = |h: usize| mtu.saturating_sub(h) & !7;
    if chunk_for(hlen) == 0 || chunk_for(rest_hlen) == 0 {
        return 0;
    }
    let mut off = 0;
    let mut count = 0;
    while off < data.len() || (count == 0 && data.is_empty()) {
        let first = off == 0;
        let h = if first { hlen } else { rest_hlen };
        let n = (data.len() - off).min(chunk_for(h));
        let last = off + n == data.len();
        scratch.clear();
        scratch.resize(headroom + h + n, 0);
        let out = &mut scratch[headroom..];
        out[..ipv4::HEADER_LEN].copy_from_slice(&packet[..ipv4::HEADER_LEN]);
        if first {
            out[ipv4::HEADER_LEN..h].copy_from_slice(&packet[ipv4::HEADER_LEN..hlen]);
        } else {
            out[ipv4::HEADER_LEN..h].copy_from_slice(&rest_opts[..rest_opts_len]);
        }
        out[h..].copy_from_slice(&data[off..off + n]);
        let mut p = Ipv4Packet::new_unchecked(&mut out[..]);
        p.set_header_len(h);
        p.set_total_len((h + n) as u16);
        p.set_dont_frag(false);
        p.set_more_frags(!last || orig_mf);
        p.set_frag_offset((base + off) as u16);
        p.fill_checksum();
        emit(scratch);
        count += 1;
        off += n;
        if data.is_empty() {
            break;
        }
    }
    count
}

/// Tunables of the [`Reassembler`]; every bound keeps memory finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// How long a datagram may take to complete, counted from its first
    /// fragment (RFC 791 §3.2 suggests 15 s as a lower bound; Linux uses 30 s).
    /// Default 30 s.
    pub timeout: Duration,
    /// Datagrams reassembled at the same time. Default 64; when full, the
    /// oldest is abandoned.
    pub max_datagrams: usize,
    /// Buffer bytes over all datagrams. Default 1 MiB; when exceeded, the
    /// oldest datagrams are abandoned.
    pub max_total_bytes: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_datagrams: 64,
            max_total_bytes: 1 << 20,
        }
    }
}

/// Identity of a datagram being reassembled (RFC 791 §3.2: "source,
/// destination, protocol, and identification").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    ident: u16,
}

/// Hole "infinity": the end of the datagram is not known yet (RFC 815 §3).
const INF: usize = usize::MAX;

#[derive(Debug)]
struct Datagram {
    /// Header of the first fragment (offset 0), once it arrived.
    header: Vec<u8>,
    /// Payload bytes received so far, indexed by offset.
    data: Vec<u8>,
    /// Missing ranges `[first, last)` of the payload (RFC 815 §3).
    holes: Vec<(usize, usize)>,
    /// Payload length, known once the last fragment (MF = 0) arrived.
    total: Option<usize>,
    /// Port of the first fragment, for the ICMP Time Exceeded source address.
    in_port: usize,
    deadline: Instant,
}

impl Datagram {
    fn bytes(&self) -> usize {
        self.header.len() + self.data.len()
    }
}

/// What [`Reassembler::process`] did with a fragment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reassembly {
    /// Stored; the datagram is not complete yet.
    Incomplete,
    /// The datagram is complete: a whole IPv4 packet (header of the first
    /// fragment, MF and offset cleared, checksum filled).
    Complete(Vec<u8>),
    /// The fragment (or its whole datagram) was dropped as inconsistent.
    Malformed,
    /// A bound was hit: the fragment was dropped or `n` older datagrams abandoned.
    Overflow(u64),
}

/// A datagram abandoned by [`Reassembler::poll`] after its timeout.
#[derive(Debug)]
pub(crate) struct Expired {
    /// Port the first fragment came in on.
    pub in_port: usize,
    /// The first fragment's header and at least 8 bytes of its data, if the
    /// first fragment arrived (only then may ICMP Time Exceeded code 1 be
    /// sent, RFC 792 "Time Exceeded Message").
    pub invoking: Option<Vec<u8>>,
}

/// Bounded IPv4 reassembly buffer.
///
/// Overlaps are resolved "first wins": bytes already received are kept and
/// a fragment only fills holes; exact duplicates are therefore harmless.
/// Fragments that contradict the datagram's end (a second, different last
/// fragment; data beyond the end) abandon the datagram.
#[derive(Debug)]
pub struct Reassembler {
    cfg: ReassemblyConfig,
    map: HashMap<Key, Datagram>,
    bytes: usize,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new(cfg: ReassemblyConfig) -> Self {
        Self {
            cfg,
            map: HashMap::new(),
            bytes: 0,
        }
    }

    /// Datagrams currently in progress.
    pub fn in_progress(&self) -> usize {
        self.map.len()
    }

    /// Buffer bytes currently held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn remove(&mut self, key: &Key) -> Option<Datagram> {
        let d = self.map.remove(key)?;
        self.bytes -= d.bytes();
        Some(d)
    }

    fn evict_oldest(&mut self, except: Option<Key>) -> bool {
        let oldest = self
            .map
            .iter()
            .filter(|(k, _)| Some(**k) != except)
            .map(|(k, d)| (d.deadline, *k))
            .min();
        match oldest {
            Some((_, k)) => self.remove(&k).is_some(),
            None => false,
        }
    }

    /// Adds one fragment (`packet`: a checked IPv4 packet with a verified
    /// checksum, trimmed to its Total Length, with MF set or a non-zero offset).
    pub(crate) fn process(&mut self, now: Instant, in_port: usize, packet: &[u8]) -> Reassembly {
        let view = Ipv4Packet::new_unchecked(packet);
        let hlen = view.header_len();
        if hlen < ipv4::HEADER_LEN || hlen > packet.len() {
            return Reassembly::Malformed;
        }
        let payload = &packet[hlen..];
        let start = usize::from(view.frag_offset());
        let end = start + payload.len();
        let more = view.more_frags();
        // RFC 791 §3.2: every fragment but the last carries a multiple of 8
        // octets; a datagram cannot exceed 65535 octets.
        if (more && (payload.is_empty() || !payload.len().is_multiple_of(8)))
            || end + ipv4::HEADER_LEN > MAX_DATAGRAM_LEN
        {
            return Reassembly::Malformed;
        }
        let key = Key {
            src: view.src_addr(),
            dst: view.dst_addr(),
            proto: view.next_header().into(),
            ident: view.ident(),
        };
        let mut evicted = 0u64;
        if !self.map.contains_key(&key) {
            if self.cfg.max_datagrams == 0 {
                return Reassembly::Overflow(0);
            }
            while self.map.len() >= self.cfg.max_datagrams && self.evict_oldest(None) {
                evicted += 1;
            }
            self.map.insert(
                key,
                Datagram {
                    header: Vec::new(),
                    data: Vec::new(),
                    holes: vec![(0, INF)],
                    total: None,
                    in_port,
                    deadline: now + self.cfg.timeout,
                },
            );
        }
        let Some(d) = self.map.get_mut(&key) else {
            return Reassembly::Overflow(evicted);
        };
        // Consistency of the datagram's end.
        let inconsistent = match d.total {
            Some(t) => end > t || (!more && end != t),
            None => !more && d.data.len() > end,
        };
        if inconsistent {
            self.remove(&key);
            return Reassembly::Malformed;
        }
        // Memory bound: grow the buffer to `end`, abandoning older datagrams if needed.
        let header_growth = if start == 0 && d.header.is_empty() {
            hlen
        } else {
            0
        };
        let growth = end.saturating_sub(d.data.len()) + header_growth;
        while self.bytes + growth > self.cfg.max_total_bytes {
            if !self.evict_oldest(Some(key)) {
                self.remove(&key);
                return Reassembly::Overflow(evicted + 1);
            }
            evicted += 1;
        }
        let Some(d) = self.map.get_mut(&key) else {
            return Reassembly::Overflow(evicted);
        };
        if !more {
            d.total = Some(end);
            for h in d.holes.iter_mut() {
                h.1 = h.1.min(end);
            }
            d.holes.retain(|h| h.0 < h.1);
        }
        if d.data.len() < end {
            d.data.resize(end, 0);
        }
        if header_growth > 0 {
            d.header.extend_from_slice(&packet[..hlen]);
        }
        self.bytes += growth;
        // RFC 815 §3: fill every hole the fragment overlaps; replace it by
        // the uncovered parts on either side.
        let mut i = 0;
        while i < d.holes.len() {
            let (hf, hl) = d.holes[i];
            if start >= hl || end <= hf {
                i += 1;
                continue;
            }
            let (cf, cl) = (start.max(hf), end.min(hl));
            d.data[cf..cl].copy_from_slice(&payload[cf - start..cl - start]);
            d.holes.swap_remove(i);
            if hf < start {
                d.holes.push((hf, start));
            }
            if end < hl {
                d.holes.push((end, hl));
            }
        }
        if !d.holes.is_empty() || d.total.is_none() || d.header.is_empty() {
            return if evicted > 0 {
                Reassembly::Overflow(evicted)
            } else {
                Reassembly::Incomplete
            };
        }
        let Some(d) = self.remove(&key) else {
            return Reassembly::Malformed;
        };
        let total = d.total.unwrap_or(d.data.len());
        let len = d.header.len() + total;
        if len > MAX_DATAGRAM_LEN {
            return Reassembly::Malformed;
        }
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&d.header);
        out.extend_from_slice(&d.data[..total]);
        let mut p = Ipv4Packet::new_unchecked(&mut out[..]);
        p.set_total_len(len as u16);
        p.set_more_frags(false);
        p.set_frag_offset(0);
        p.fill_checksum();
        Reassembly::Complete(out)
    }

    /// Abandons the datagrams whose timer expired (RFC 791 §3.2).
    pub(crate) fn poll(&mut self, now: Instant) -> Vec<Expired> {
        let mut keys: Vec<Key> = self
            .map
            .iter()
            .filter(|(_, d)| now >= d.deadline)
            .map(|(k, _)| *k)
            .collect();
        keys.sort_unstable();
        keys.into_iter()
            .filter_map(|k| self.remove(&k))
            .map(|d| {
                let invoking = (!d.header.is_empty()).then(|| {
                    let mut v = d.header.clone();
                    v.extend_from_slice(&d.data[..d.data.len().min(8)]);
                    v
                });
                Expired {
                    in_port: d.in_port,
                    invoking,
                }
            })
            .collect()
    }

    /// When the next datagram times out.
    pub fn poll_at(&self) -> Option<Instant> {
        self.map.values().map(|d| d.deadline).min()
    }
}

#[cfg(test)]
#[path = "frag_tests.rs"]
mod tests;
