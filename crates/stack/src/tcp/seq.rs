//! Sequence-number arithmetic (RFC 9293 §3.4): sequence numbers live in a
//! 2^32 space, "all arithmetic dealing with sequence numbers must be
//! performed modulo 2**32", and comparisons are made relative to each
//! other (RFC 1982 style serial-number arithmetic).

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A TCP sequence number with wrapping arithmetic and comparisons
/// (RFC 9293 §3.4).
///
/// `a < b` means "b is ahead of a" when the two are less than 2^31 apart,
/// which always holds for numbers inside one window (RFC 7323 §2.3 bounds
/// windows to 2^30). Ordering is therefore only a partial, local order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// Signed distance `self - earlier` (RFC 9293 §3.4 modular arithmetic).
    pub const fn diff(self, earlier: SeqNumber) -> i32 {
        self.0.wrapping_sub(earlier.0) as i32
    }

    /// Bytes from `earlier` to `self`, zero if `self` is not ahead.
    pub fn since(self, earlier: SeqNumber) -> usize {
        let d = self.diff(earlier);
        if d > 0 { d as usize } else { 0 }
    }

    /// True if `start ≤ self < start + len` (RFC 9293 §3.4 window checks,
    /// e.g. "RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND").
    pub fn in_window(self, start: SeqNumber, len: usize) -> bool {
        let off = self.0.wrapping_sub(start.0) as usize;
        self.diff(start) >= 0 && off < len
    }

    /// The later of the two.
    pub fn max(self, other: SeqNumber) -> SeqNumber {
        if self.diff(other) >= 0 { self } else { other }
    }

    /// The earlier of the two.
    pub fn min(self, other: SeqNumber) -> SeqNumber {
        if self.diff(other) <= 0 { self } else { other }
    }
}

impl PartialOrd for SeqNumber {
    /// Compares by signed distance (RFC 9293 §3.4), so `0xffff_fff0 < 0x10`.
    fn partial_cmp(&self, other: &SeqNumber) -> Option<Ordering> {
        Some(self.diff(*other).cmp(&0))
    }
}

impl Add<usize> for SeqNumber {
    type Output = SeqNumber;
    /// Advances by `n` modulo 2^32.
    fn add(self, n: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n as u32))
    }
}

impl AddAssign<usize> for SeqNumber {
    fn add_assign(&mut self, n: usize) {
        *self = *self + n;
    }
}

impl Sub<usize> for SeqNumber {
    type Output = SeqNumber;
    /// Moves back by `n` modulo 2^32.
    fn sub(self, n: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(n as u32))
    }
}

impl fmt::Debug for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_comparisons() {
        let a = SeqNumber(0xffff_fff0);
        let b = a + 0x20;
        assert_eq!(b, SeqNumber(0x10));
        assert!(a < b);
        assert!(b > a);
        assert!(b >= a);
        assert!(a <= b);
        assert_eq!(b.diff(a), 0x20);
        assert_eq!(a.diff(b), -0x20);
        assert_eq!(b.since(a), 0x20);
        assert_eq!(a.since(b), 0);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
        assert_eq!(b - 0x20, a);
        assert!(SeqNumber(5).in_window(a, 0x20));
        assert!(a.in_window(a, 1));
        assert!(!b.in_window(a, 0x20));
        assert!(!a.in_window(a, 0));
        assert!(!(a - 1).in_window(a, 100));
        let mut c = a;
        c += 0x10;
        assert_eq!(c, SeqNumber(0));
    }
}
