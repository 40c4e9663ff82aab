//! Initial sequence numbers (RFC 6528 §3) and ephemeral port selection
//! (RFC 6056 §3.3.3).

use super::seq::SeqNumber;
use super::siphash::siphash24;
use crate::time::Instant;
use std::net::SocketAddrV4;

/// The connection-id bytes hashed by `F`: local address and port, remote
/// address and port (RFC 6528 §3, "localip, localport, remoteip, remoteport").
fn four_tuple(local: SocketAddrV4, remote: SocketAddrV4) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&local.ip().octets());
    b[4..6].copy_from_slice(&local.port().to_be_bytes());
    b[6..10].copy_from_slice(&remote.ip().octets());
    b[10..].copy_from_slice(&remote.port().to_be_bytes());
    b
}

/// RFC 6528 §3: `ISN = M + F(localip, localport, remoteip, remoteport,
/// secretkey)`, where M is a timer ticking every 4 microseconds (taken
/// from `now`, the stack's virtual clock) and F is SipHash-2-4 keyed with
/// the stack's secret ("F MUST NOT be computable from the outside").
pub fn initial_sequence_number(
    secret: &[u8; 16],
    now: Instant,
    local: SocketAddrV4,
    remote: SocketAddrV4,
) -> SeqNumber {
    let m = (now.total_micros() / 4) as u32;
    let f = siphash24(secret, &four_tuple(local, remote)) as u32;
    SeqNumber(m.wrapping_add(f))
}

/// A secret-dependent starting point in the ephemeral range, so port
/// numbers are not predictable from the outside (RFC 6056 §3.3.3
/// "Algorithm 3": offset = F(local, remote, secret key)). `salt` is mixed
/// in so the port and ISN hashes differ.
pub fn port_offset(secret: &[u8; 16], remote: SocketAddrV4, salt: u32) -> u32 {
    let mut b = [0u8; 10];
    b[..4].copy_from_slice(&remote.ip().octets());
    b[4..6].copy_from_slice(&remote.port().to_be_bytes());
    b[6..].copy_from_slice(&salt.to_be_bytes());
    siphash24(secret, &b) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;
    use std::net::Ipv4Addr;

    #[test]
    fn isn_depends_on_tuple_secret_and_clock() {
        let l = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 49152);
        let r = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80);
        let k1 = [1u8; 16];
        let k2 = [2u8; 16];
        let t = Instant::from_secs(5);
        let a = initial_sequence_number(&k1, t, l, r);
        assert_eq!(a, initial_sequence_number(&k1, t, l, r));
        assert_ne!(a, initial_sequence_number(&k2, t, l, r));
        let other = SocketAddrV4::new(*r.ip(), 81);
        assert_ne!(a, initial_sequence_number(&k1, t, l, other));
        // M advances one per 4 µs.
        let later = initial_sequence_number(&k1, t + Duration::from_micros(400), l, r);
        assert_eq!(later.diff(a), 100);
        assert_ne!(port_offset(&k1, r, 0), port_offset(&k1, r, 1));
    }
}
