//! SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF",
//! 2012), the keyed hash `F` of the RFC 6528 ISN generator.
//!
//! Written here (35 lines) rather than pulled in as a crate: the stack
//! stays dependency-light and sans-IO, and the reference test vectors plus
//! a cross-check against `std`'s (deprecated) SipHash-2-4 pin it down.

#[inline]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-2-4 of `data` under the 128-bit `key` (little-endian k0 ‖ k1, as
/// in the reference implementation): 2 compression rounds per 8-byte
/// block, 4 finalization rounds.
pub fn siphash24(key: &[u8; 16], data: &[u8]) -> u64 {
    let mut k = [0u8; 8];
    k.copy_from_slice(&key[..8]);
    let k0 = u64::from_le_bytes(k);
    k.copy_from_slice(&key[8..]);
    let k1 = u64::from_le_bytes(k);
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let m = u64::from_le_bytes(w);
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    last[7] = data.len() as u8;
    let b = u64::from_le_bytes(last);
    v[3] ^= b;
    round(&mut v);
    round(&mut v);
    v[0] ^= b;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> [u8; 16] {
        core::array::from_fn(|i| i as u8)
    }

    #[test]
    fn reference_vectors() {
        // Appendix A of the SipHash paper / vectors.h: key 00..0f, message 00..(n-1).
        let msg: Vec<u8> = (0..64u8).collect();
        assert_eq!(siphash24(&key(), &msg[..0]), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash24(&key(), &msg[..1]), 0x74f8_39c5_93dc_67fd);
        assert_eq!(siphash24(&key(), &msg[..15]), 0xa129_ca61_49be_45e5);
    }

    #[test]
    #[allow(deprecated)]
    fn matches_std_siphash_2_4() {
        use std::hash::{Hasher, SipHasher};
        let k = key();
        let k0 = u64::from_le_bytes(k[..8].try_into().unwrap());
        let k1 = u64::from_le_bytes(k[8..].try_into().unwrap());
        let data: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
        for n in 0..data.len() {
            let mut h = SipHasher::new_with_keys(k0, k1);
            h.write(&data[..n]);
            assert_eq!(siphash24(&k, &data[..n]), h.finish(), "len {n}");
        }
    }
}
