//! SYN cookies (RFC 4987 §3.6; D. J. Bernstein's scheme as Linux uses it):
//! when a listener's SYN backlog is full, the SYN-ACK's initial sequence
//! number encodes everything the handshake must remember, and no state is
//! kept. The final ACK acknowledges `cookie + 1`; if the cookie checks out
//! the connection is created from it.
//!
//! # Layout (32 bits, the SYN-ACK's ISN)
//!
//! ```text
//!  31      27 26  24 23                                      0
//! +----------+------+-----------------------------------------+
//! | t mod 32 |  m   |  low 24 bits of SipHash-2-4(secret, ...) |
//! +----------+------+-----------------------------------------+
//! ```
//!
//! * `t` is a coarse counter, `now / 64 s` (Linux `tcp_cookie_time`);
//!   only its 5 low bits travel in the cookie (RFC 4987 §3.6: "the top 5
//!   bits are t mod 32").
//! * `m` indexes [`MSS_TABLE`]: the largest entry not above the client's
//!   MSS option (536 without one, RFC 9293 §3.7.1).
//! * The hash is SipHash-2-4 keyed with [`super::TcpConfig::isn_secret`]
//!   over (remote address, remote port, local address, local port, the
//!   client's ISN, the full counter `t`, `m`, a domain tag). Hashing the
//!   full `t` makes a cookie from 32 periods ago useless; hashing `m`
//!   stops an attacker from flipping the MSS bits; hashing the client's
//!   ISN (as Linux does) ties the cookie to the SYN it answers.
//!
//! A cookie is accepted while `t` is current or one period old, i.e. for
//! 64 to 128 s after it was issued (Linux `MAX_SYNCOOKIE_AGE`).
//!
//! The basic scheme cannot remember Window Scale, SACK-Permitted or
//! Timestamps (Linux hides them in the TSval, which needs timestamps):
//! the cookie SYN-ACK offers none of them, so the connection runs like
//! Linux's without timestamps — unscaled 16-bit windows both ways, no
//! timestamps, RTT by Karn's algorithm.

use super::siphash::siphash24;
use crate::time::Instant;
use std::net::SocketAddrV4;

/// MSS values a cookie can encode (Linux `msstab` for IPv4 is 536, 1300,
/// 1440, 1460; 1220 is the IPv6-minimum-MTU-friendly value).
pub(crate) const MSS_TABLE: [u16; 4] = [536, 1220, 1440, 1460];

/// Length of one counter period in seconds (Linux: 64 s).
pub(crate) const PERIOD_SECS: u64 = 64;

/// Oldest accepted counter age, in periods (current = 0).
pub(crate) const MAX_AGE: u32 = 1;

/// How long after the last backlog overflow cookies are looked for in
/// ACKs that match no connection (Linux `TCP_SYNCOOKIE_VALID`): every
/// cookie issued is dead by then.
pub(crate) const VALID_SECS: u64 = PERIOD_SECS * (MAX_AGE as u64 + 1);

const HASH_MASK: u32 = 0x00ff_ffff;

/// The counter `t` at `now`.
fn counter(now: Instant) -> u32 {
    (now.total_micros() / 1_000_000 / PERIOD_SECS) as u32
}

/// Index of the largest [`MSS_TABLE`] entry not above `client_mss` (the
/// first entry if every one is larger: 536 is the MSS every IPv4 host
/// must accept, RFC 1122 §3.3.3).
pub(crate) fn mss_index(client_mss: u16) -> usize {
    MSS_TABLE
        .iter()
        .rposition(|&m| m <= client_mss)
        .unwrap_or(0)
}

fn encode(
    secret: &[u8; 16],
    t: u32,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    client_isn: u32,
    m: usize,
) -> u32 {
    let mut b = [0u8; 22];
    b[..4].copy_from_slice(&remote.ip().octets());
    b[4..6].copy_from_slice(&remote.port().to_be_bytes());
    b[6..10].copy_from_slice(&local.ip().octets());
    b[10..12].copy_from_slice(&local.port().to_be_bytes());
    b[12..16].copy_from_slice(&client_isn.to_be_bytes());
    b[16..20].copy_from_slice(&t.to_be_bytes());
    b[20] = m as u8;
    b[21] = 0xc0; // domain tag: not an ISN or port-offset input
    let h = siphash24(secret, &b) as u32 & HASH_MASK;
    ((t & 31) << 27) | (((m as u32) & 7) << 24) | h
}

/// The cookie answering a SYN with sequence number `client_isn` and MSS
/// option `client_mss` (`None`: 536) from `remote` to `local` at `now`.
pub(crate) fn make(
    secret: &[u8; 16],
    now: Instant,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    client_isn: u32,
    client_mss: Option<u16>,
) -> u32 {
    let m = mss_index(client_mss.unwrap_or(536));
    encode(secret, counter(now), local, remote, client_isn, m)
}

/// Checks `cookie` (the ACK's acknowledgment number − 1) of a handshake
/// whose client ISN was `client_isn` (the ACK's sequence number − 1).
/// Returns the MSS it encodes, or `None` if the hash does not match or the
/// cookie is older than [`MAX_AGE`] periods.
pub(crate) fn check(
    secret: &[u8; 16],
    now: Instant,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    client_isn: u32,
    cookie: u32,
) -> Option<u16> {
    let t_now = counter(now);
    let age = t_now.wrapping_sub(cookie >> 27) & 31;
    if age > MAX_AGE {
        return None;
    }
    let m = ((cookie >> 24) & 7) as usize;
    if m >= MSS_TABLE.len() {
        return None;
    }
    let t = t_now.wrapping_sub(age);
    (encode(secret, t, local, remote, client_isn, m) == cookie).then_some(MSS_TABLE[m])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const K: [u8; 16] = [7; 16];

    fn ends() -> (SocketAddrV4, SocketAddrV4) {
        (
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80),
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40000),
        )
    }

    #[test]
    fn mss_index_picks_largest_entry_not_above() {
        let got: Vec<u16> = [65535, 1460, 1459, 1440, 1300, 1220, 1219, 536, 100]
            .iter()
            .map(|&m| MSS_TABLE[mss_index(m)])
            .collect();
        assert_eq!(got, [1460, 1460, 1440, 1440, 1220, 1220, 536, 536, 536]);
    }

    #[test]
    fn round_trip_and_layout() {
        let (l, r) = ends();
        let now = Instant::from_secs(64 * 5 + 3);
        let c = make(&K, now, l, r, 12345, Some(1440));
        assert_eq!(c >> 27, 5, "t mod 32 in the top 5 bits");
        assert_eq!((c >> 24) & 7, 2, "MSS index 2 (1440)");
        assert_eq!(check(&K, now, l, r, 12345, c), Some(1440));
        // Without an MSS option: 536.
        let c = make(&K, now, l, r, 1, None);
        assert_eq!(check(&K, now, l, r, 1, c), Some(536));
    }

    #[test]
    fn wrong_key_tuple_isn_or_bits_fail() {
        let (l, r) = ends();
        let now = Instant::from_secs(1000);
        let c = make(&K, now, l, r, 99, Some(1460));
        assert_eq!(check(&[8; 16], now, l, r, 99, c), None);
        assert_eq!(check(&K, now, l, r, 100, c), None);
        let other = SocketAddrV4::new(*r.ip(), 40001);
        assert_eq!(check(&K, now, l, other, 99, c), None);
        let other = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 3), 40000);
        assert_eq!(check(&K, now, l, other, 99, c), None);
        for bit in 0..32 {
            assert_eq!(check(&K, now, l, r, 99, c ^ (1 << bit)), None, "bit {bit}");
        }
    }

    #[test]
    fn cookie_lives_one_to_two_periods() {
        let (l, r) = ends();
        let issued = Instant::from_secs(64 * 10 + 63);
        let c = make(&K, issued, l, r, 5, Some(1460));
        let at = |s: u64| check(&K, Instant::from_secs(s), l, r, 5, c);
        assert_eq!(at(64 * 10 + 63), Some(1460));
        assert_eq!(at(64 * 11), Some(1460), "one period old");
        assert_eq!(at(64 * 12 - 1), Some(1460));
        assert_eq!(at(64 * 12), None, "two periods old");
        assert_eq!(at(64 * 10 - 1), None, "from the future");
        // 32 periods later the low bits repeat, the full-t hash does not.
        assert_eq!(at(64 * 42), None);
    }
}
