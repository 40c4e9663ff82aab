//! Unit tests of fragmentation and reassembly.

use super::*;
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4::Ipv4Repr;

const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

fn datagram(ident: u16, payload_len: usize) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: SRC,
        dst_addr: DST,
        next_header: IpProtocol::Udp,
        payload_len,
        hop_limit: 64,
        ident,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        dscp_ecn: 0,
    };
    let mut v = vec![0u8; repr.total_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut v[..]));
    for (i, b) in v[20..].iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    v
}

/// A datagram with options: a copied one (LSRR-like, type 0x83, 7 bytes)
/// and a non-copied one (Record Route, type 7, 7 bytes), NOP-padded to 16.
fn datagram_with_options(payload_len: usize) -> Vec<u8> {
    let opts = [0x07, 7, 4, 0, 0, 0, 0, 0x83, 7, 4, 1, 2, 3, 4, 1, 0];
    let base = datagram(9, payload_len);
    let mut v = Vec::new();
    v.extend_from_slice(&base[..20]);
    v.extend_from_slice(&opts);
    v.extend_from_slice(&base[20..]);
    let len = v.len() as u16;
    let mut p = Ipv4Packet::new_unchecked(&mut v[..]);
    p.set_header_len(36);
    p.set_total_len(len);
    p.fill_checksum();
    v
}

fn fragments(packet: &[u8], mtu: usize) -> Vec<Vec<u8>> {
    let mut scratch = Vec::new();
    let mut out = Vec::new();
    let n = fragment(packet, mtu, &mut scratch, 0, |f| out.push(f.to_vec()));
    assert_eq!(n, out.len());
    out
}

fn check_fragment(f: &[u8], mtu: usize) {
    assert!(f.len() <= mtu, "fragment of {} > mtu {mtu}", f.len());
    let p = Ipv4Packet::new_checked(f).expect("valid header");
    assert!(p.verify_checksum());
    assert_eq!(usize::from(p.total_len()), f.len());
    assert!(!p.dont_frag());
    if p.more_frags() {
        assert_eq!(p.payload().len() % 8, 0);
    }
    // etherparse agrees that the header is valid.
    etherparse::Ipv4HeaderSlice::from_slice(f).expect("etherparse accepts the header");
}

fn reassemble(r: &mut Reassembler, frags: &[Vec<u8>]) -> Option<Vec<u8>> {
    let mut done = None;
    for f in frags {
        match r.process(Instant::ZERO, 0, f) {
            Reassembly::Complete(v) => done = Some(v),
            Reassembly::Incomplete => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    done
}

#[test]
fn fragment_and_reassemble_in_any_order() {
    let d = datagram(1, 4008);
    let frags = fragments(&d, 576);
    assert_eq!(frags.len(), 8); // 552 * 7 = 3864, then 144
    for f in &frags {
        check_fragment(f, 576);
    }
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let mut rev = frags.clone();
    rev.reverse();
    assert_eq!(reassemble(&mut r, &rev).as_deref(), Some(&d[..]));
    assert_eq!((r.in_progress(), r.bytes()), (0, 0));
}

#[test]
fn fragments_of_fragments() {
    let d = datagram(2, 4008);
    let mut small = Vec::new();
    for f in fragments(&d, 1500) {
        small.extend(fragments(&f, 576));
    }
    for f in &small {
        check_fragment(f, 576);
    }
    // Only the very last piece has MF clear.
    assert_eq!(
        small
            .iter()
            .filter(|f| !Ipv4Packet::new_unchecked(&f[..]).more_frags())
            .count(),
        1
    );
    let mut r = Reassembler::new(ReassemblyConfig::default());
    small.rotate_left(3);
    assert_eq!(reassemble(&mut r, &small).as_deref(), Some(&d[..]));
}

#[test]
fn options_copied_only_when_flagged() {
    let d = datagram_with_options(1000);
    let frags = fragments(&d, 300);
    let h0 = Ipv4Packet::new_unchecked(&frags[0][..]).header_len();
    let h1 = Ipv4Packet::new_unchecked(&frags[1][..]).header_len();
    assert_eq!(h0, 36);
    assert_eq!(h1, 28); // 20 + the 7-byte copied option padded to 8
    assert_eq!(&frags[1][20..27], &[0x83, 7, 4, 1, 2, 3, 4]);
    for f in &frags {
        check_fragment(f, 300);
    }
    let mut r = Reassembler::new(ReassemblyConfig::default());
    assert_eq!(reassemble(&mut r, &frags).as_deref(), Some(&d[..]));
}

#[test]
fn cannot_fragment_below_header() {
    let d = datagram_with_options(100);
    let mut s = Vec::new();
    assert_eq!(fragment(&d, 40, &mut s, 0, |_| panic!("no fragment")), 0);
}

#[test]
fn duplicates_and_overlaps_keep_first_data() {
    let d = datagram(3, 64);
    let frags = fragments(&d, 44); // 24-byte pieces: 0..24, 24..48, 48..64
    assert_eq!(frags.len(), 3);
    let mut r = Reassembler::new(ReassemblyConfig::default());
    assert_eq!(
        r.process(Instant::ZERO, 0, &frags[0]),
        Reassembly::Incomplete
    );
    assert_eq!(
        r.process(Instant::ZERO, 0, &frags[0]),
        Reassembly::Incomplete
    );
    // An overlapping fragment 16..40 with different bytes: only 24..40 is new.
    let mut overlap = datagram(3, 24);
    {
        let mut p = Ipv4Packet::new_unchecked(&mut overlap[..]);
        p.set_frag_offset(16);
        p.set_more_frags(true);
        p.payload_mut().fill(0xee);
        p.fill_checksum();
    }
    assert_eq!(
        r.process(Instant::ZERO, 0, &overlap),
        Reassembly::Incomplete
    );
    assert_eq!(
        r.process(Instant::ZERO, 0, &frags[2]),
        Reassembly::Incomplete
    );
    let Reassembly::Complete(v) = r.process(Instant::ZERO, 0, &frags[1]) else {
        panic!("incomplete")
    };
    assert_eq!(&v[20..36], &d[20..36]);
    assert!(v[44..60].iter().all(|&b| b == 0xee)); // 24..40 came from the overlap
    assert_eq!(&v[60..], &d[60..]);
}

#[test]
fn inconsistent_end_drops_datagram() {
    let d = datagram(4, 64);
    let frags = fragments(&d, 44);
    let mut r = Reassembler::new(ReassemblyConfig::default());
    r.process(Instant::ZERO, 0, &frags[2]);
    // A second "last" fragment ending elsewhere.
    let mut other = frags[1].clone();
    {
        let mut p = Ipv4Packet::new_unchecked(&mut other[..]);
        p.set_more_frags(false);
        p.fill_checksum();
    }
    assert_eq!(r.process(Instant::ZERO, 0, &other), Reassembly::Malformed);
    assert_eq!(r.in_progress(), 0);
    // MF set with a length that is not a multiple of 8.
    let mut odd = datagram(5, 13);
    {
        let mut p = Ipv4Packet::new_unchecked(&mut odd[..]);
        p.set_more_frags(true);
        p.fill_checksum();
    }
    assert_eq!(r.process(Instant::ZERO, 0, &odd), Reassembly::Malformed);
    // Ping of death: offset + length beyond 65535.
    let mut big = datagram(6, 16);
    {
        let mut p = Ipv4Packet::new_unchecked(&mut big[..]);
        p.set_frag_offset(65528);
        p.fill_checksum();
    }
    assert_eq!(r.process(Instant::ZERO, 0, &big), Reassembly::Malformed);
    assert_eq!(r.bytes(), 0);
}

#[test]
fn timeout_reports_first_fragment_only_if_present() {
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let a = fragments(&datagram(7, 100), 68);
    let b = fragments(&datagram(8, 100), 68);
    r.process(Instant::ZERO, 1, &a[0]);
    r.process(Instant::from_secs(1), 2, &b[1]);
    assert_eq!(r.poll_at(), Some(Instant::from_secs(30)));
    assert!(r.poll(Instant::from_secs(29)).is_empty());
    let e = r.poll(Instant::from_secs(30));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].in_port, 1);
    let inv = e[0].invoking.as_ref().expect("first fragment quoted");
    assert_eq!(inv.len(), 28);
    assert_eq!(&inv[..28], &a[0][..28]);
    let e = r.poll(Instant::from_secs(31));
    assert!(e[0].invoking.is_none());
    assert_eq!(r.in_progress(), 0);
    assert_eq!(r.poll_at(), None);
}

#[test]
fn bounded_under_flood() {
    let cfg = ReassemblyConfig::default();
    let mut r = Reassembler::new(cfg);
    let mut overflow = 0;
    for ident in 0..5000u16 {
        // A first fragment of ~1480 bytes for each ident, never completed.
        let frags = fragments(&datagram(ident, 3000), 1500);
        if let Reassembly::Overflow(n) = r.process(Instant::ZERO, 0, &frags[0]) {
            overflow += n;
        }
        assert!(r.in_progress() <= cfg.max_datagrams);
        assert!(r.bytes() <= cfg.max_total_bytes);
    }
    assert!(overflow > 0);
    // Large offsets are bounded by bytes.
    let mut r = Reassembler::new(ReassemblyConfig {
        max_total_bytes: 200_000,
        ..cfg
    });
    for ident in 0..100u16 {
        let mut f = datagram(ident, 8);
        let mut p = Ipv4Packet::new_unchecked(&mut f[..]);
        p.set_frag_offset(60_000);
        p.set_more_frags(true);
        p.fill_checksum();
        r.process(Instant::ZERO, 0, &f);
        assert!(r.bytes() <= 200_000);
    }
}
