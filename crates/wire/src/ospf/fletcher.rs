//! The LSA checksum: a Fletcher checksum (RFC 2328 §12.1.7), the one of
//! ISO 8473 Annex C (RFC 905 Annex B), over the whole LSA except the LS
//! age field.
//!
//! ```text
//! LSA bytes:  | LS age (2) | options ... checksum (at 16) | length | body |
//!                          \________ checksummed: offset 2 .. end _______/
//! ```
//!
//! The two check octets are chosen so that both running sums of the
//! checksummed bytes (checksum included) are 0 modulo 255; "the checksum
//! is not computed" (value 0) cannot happen, both octets lie in 1..=255.

use crate::{Result, WireError};

/// Offset of the LS age field, which the checksum leaves out (§12.1.7:
/// "so that the LSA's age can be incremented without updating the
/// checksum").
const AGE_LEN: usize = 2;
/// Offset of the checksum field in the LSA (RFC 2328 §A.4.1).
pub const CHECKSUM_OFFSET: usize = 16;

/// The two running sums of ISO 8473 Annex C over `bytes`, modulo 255,
/// with the two bytes at `skip` counted as zero (the checksum field).
fn sums(bytes: &[u8], skip: usize) -> (i64, i64) {
    let (mut c0, mut c1) = (0i64, 0i64);
    for (i, &b) in bytes.iter().enumerate() {
        let b = if i == skip || i == skip + 1 { 0 } else { b };
        c0 = (c0 + i64::from(b)) % 255;
        c1 = (c1 + c0) % 255;
    }
    (c0, c1)
}

fn check_lsa(lsa: &[u8]) -> Result<()> {
    if lsa.len() < CHECKSUM_OFFSET + 2 {
        return Err(WireError::Truncated {
            what: "LSA",
            needed: CHECKSUM_OFFSET + 2,
            available: lsa.len(),
        });
    }
    Ok(())
}

/// The checksum an LSA must carry at offset 16. `lsa` is the whole LSA,
/// from LS age to the end of its body; the value found in the checksum
/// field is ignored (counted as zero).
pub fn compute(lsa: &[u8]) -> Result<u16> {
    check_lsa(lsa)?;
    let data = &lsa[AGE_LEN..];
    let at = CHECKSUM_OFFSET - AGE_LEN;
    let (c0, c1) = sums(data, at);
    // ISO 8473 Annex C.2, the checksum at 0-based position `at` of `L`
    // bytes: X = (L - at - 1) * C0 - C1 and Y = -C0 - X, both modulo 255
    // and written as 1..=255 (as FRR's `fletcher_checksum` does).
    let len = data.len() as i64;
    let pos = at as i64;
    let mut x = ((len - pos - 1) * c0 - c1).rem_euclid(255);
    if x == 0 {
        x = 255;
    }
    let mut y = 510 - c0 - x;
    if y > 255 {
        y -= 255;
    }
    Ok(((x as u16) << 8) | (y as u16 & 0xff))
}

/// Whether the checksum field of `lsa` holds [`compute`]'s value (RFC 2328
/// §13 step 1: an LSA whose checksum is wrong is discarded).
pub fn verify(lsa: &[u8]) -> bool {
    match compute(lsa) {
        Ok(sum) => sum.to_be_bytes() == [lsa[CHECKSUM_OFFSET], lsa[CHECKSUM_OFFSET + 1]],
        Err(_) => false,
    }
}

/// Writes [`compute`]'s value into the checksum field of `lsa`.
pub fn fill(lsa: &mut [u8]) -> Result<u16> {
    let sum = compute(lsa)?;
    lsa[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 2].copy_from_slice(&sum.to_be_bytes());
    Ok(sum)
}
