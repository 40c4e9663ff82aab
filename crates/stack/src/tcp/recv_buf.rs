//! The receive side buffers: in-order bytes waiting for the application,
//! and a bounded queue of out-of-order ranges (RFC 9293 §3.10.7.4 "Seventh":
//! segments beyond RCV.NXT are held "for later processing"), coalesced so
//! overlapping or adjacent segments become one range.

use super::seq::SeqNumber;
use std::collections::VecDeque;

/// At most this many separate out-of-order ranges are kept; a segment that
/// would create one more is dropped (the sender retransmits it). The bytes
/// are bounded by the advertised window anyway.
pub(crate) const MAX_OOO_RANGES: usize = 64;

#[derive(Debug)]
struct Range {
    start: SeqNumber,
    bytes: VecDeque<u8>,
}

impl Range {
    fn end(&self) -> SeqNumber {
        self.start + self.bytes.len()
    }
}

/// Result of [`RecvBuffer::accept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Accepted {
    /// How far RCV.NXT moved (in-order bytes delivered to the buffer).
    pub advanced: usize,
    /// The segment went to the out-of-order queue.
    pub queued: bool,
    /// The segment was dropped: too many out-of-order ranges.
    pub dropped: bool,
    /// Out-of-order data was waiting before this segment.
    pub had_ooo: bool,
}

/// In-order data for the application plus out-of-order ranges.
#[derive(Debug)]
pub(crate) struct RecvBuffer {
    data: VecDeque<u8>,
    capacity: usize,
    ooo: Vec<Range>,
}

impl RecvBuffer {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            data: VecDeque::new(),
            capacity,
            ooo: Vec::new(),
        }
    }

    /// Capacity in bytes (RCV.BUFF).
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// In-order bytes waiting for the application.
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// Free space not taken by in-order data (out-of-order data lives inside
    /// the window already advertised, so it is accounted for by the window).
    pub(crate) fn free(&self) -> usize {
        self.capacity.saturating_sub(self.data.len())
    }

    /// Bytes held out of order.
    #[cfg(test)]
    pub(crate) fn ooo_bytes(&self) -> usize {
        self.ooo.iter().map(|r| r.bytes.len()).sum()
    }

    /// Whether out-of-order ranges are waiting.
    pub(crate) fn has_ooo(&self) -> bool {
        !self.ooo.is_empty()
    }

    /// The queued out-of-order ranges `[start, end)`, lowest first.
    pub(crate) fn ooo_ranges(&self) -> impl Iterator<Item = (SeqNumber, SeqNumber)> + '_ {
        self.ooo.iter().map(|r| (r.start, r.end()))
    }

    /// The queued out-of-order range holding `seq`, if any.
    pub(crate) fn ooo_range_containing(&self, seq: SeqNumber) -> Option<(SeqNumber, SeqNumber)> {
        self.ooo_ranges().find(|&(s, e)| s <= seq && seq < e)
    }

    /// Takes `payload` at `seq` (already trimmed so `rcv_nxt ≤ seq` and it
    /// ends inside the window). In-order data is appended and any queued
    /// ranges it reaches are pulled in; later data is queued.
    pub(crate) fn accept(
        &mut self,
        rcv_nxt: SeqNumber,
        seq: SeqNumber,
        payload: &[u8],
    ) -> Accepted {
        let mut acc = Accepted {
            had_ooo: self.has_ooo(),
            ..Accepted::default()
        };
        if payload.is_empty() {
            return acc;
        }
        if seq != rcv_nxt {
            if self.insert(rcv_nxt, seq, payload) {
                acc.queued = true;
            } else {
                acc.dropped = true;
            }
            return acc;
        }
        self.data.extend(payload);
        let mut next = rcv_nxt + payload.len();
        while let Some(first) = self.ooo.first() {
            if first.start > next {
                break;
            }
            let r = self.ooo.remove(0);
            let skip = next.since(r.start);
            if skip < r.bytes.len() {
                self.data.extend(r.bytes.range(skip..));
                next = r.end();
            }
        }
        acc.advanced = next.since(rcv_nxt);
        acc
    }

    /// Queues `payload` at `seq > rcv_nxt`, merging it with every range it
    /// overlaps or touches. Returns false if that would exceed
    /// [`MAX_OOO_RANGES`].
    fn insert(&mut self, rcv_nxt: SeqNumber, seq: SeqNumber, payload: &[u8]) -> bool {
        let rel = |s: SeqNumber| s.since(rcv_nxt);
        let (s, e) = (rel(seq), rel(seq) + payload.len());
        let idx = self.ooo.iter().position(|r| rel(r.end()) >= s);
        let idx = match idx {
            Some(i) if rel(self.ooo[i].start) <= e => i,
            other => {
                if self.ooo.len() >= MAX_OOO_RANGES {
                    return false;
                }
                let at = other.unwrap_or(self.ooo.len());
                self.ooo.insert(
                    at,
                    Range {
                        start: seq,
                        bytes: payload.iter().copied().collect(),
                    },
                );
                return true;
            }
        };
        let r = &mut self.ooo[idx];
        let (rs, re) = (rel(r.start), rel(r.end()));
        if s < rs {
            for &b in payload[..rs - s].iter().rev() {
                r.bytes.push_front(b);
            }
            r.start = seq;
        }
        if e > re {
            r.bytes.extend(&payload[re - s..]);
        }
        while idx + 1 < self.ooo.len() && rel(self.ooo[idx + 1].start) <= rel(self.ooo[idx].end()) {
            let next = self.ooo.remove(idx + 1);
            let cur = &mut self.ooo[idx];
            let skip = cur.end().since(next.start);
            if skip < next.bytes.len() {
                cur.bytes.extend(next.bytes.range(skip..));
            }
        }
        true
    }

    /// Copies in-order bytes into `buf`, removing them; returns the count.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.data.len());
        let (a, b) = self.data.as_slices();
        let from_a = n.min(a.len());
        buf[..from_a].copy_from_slice(&a[..from_a]);
        buf[from_a..n].copy_from_slice(&b[..n - from_a]);
        self.data.drain(..n);
        n
    }

    /// Discards everything (RFC 9293 §3.10.7.4: on reset "all segment
    /// queues should be flushed").
    pub(crate) fn clear(&mut self) {
        self.data.clear();
        self.ooo.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(b: &mut RecvBuffer) -> Vec<u8> {
        let mut v = vec![0; b.len()];
        b.read(&mut v);
        v
    }

    #[test]
    fn in_order_and_holes() {
        let base = SeqNumber(u32::MAX - 5);
        let mut b = RecvBuffer::new(100);
        let a = b.accept(base, base + 10, b"klm");
        assert!(a.queued && a.advanced == 0);
        let a = b.accept(base, base + 4, b"efg");
        assert!(a.queued);
        assert_eq!(b.ooo.len(), 2);
        // Fill the gap between the two ranges, overlapping both.
        let a = b.accept(base, base + 6, b"ghijk");
        assert!(a.queued && a.had_ooo);
        assert_eq!(b.ooo.len(), 1);
        assert_eq!(
            b.ooo_range_containing(base + 8),
            Some((base + 4, base + 13))
        );
        assert_eq!(b.ooo_range_containing(base + 13), None);
        assert_eq!(b.ooo_ranges().count(), 1);
        assert_eq!(b.ooo_bytes(), 9);
        let a = b.accept(base, base, b"abcdef");
        assert_eq!(a.advanced, 13);
        assert!(!b.has_ooo());
        assert_eq!(read_all(&mut b), b"abcdefghijklm");
    }

    #[test]
    fn prepend_duplicates_and_bound() {
        let base = SeqNumber(1000);
        let mut b = RecvBuffer::new(10_000);
        b.accept(base, base + 5, b"fgh");
        b.accept(base, base + 2, b"cdefg");
        assert_eq!(b.ooo.len(), 1);
        assert_eq!(b.ooo[0].start, base + 2);
        b.accept(base, base + 2, b"cd");
        assert_eq!(b.ooo_bytes(), 6);
        let a = b.accept(base, base, b"abcdefghij");
        assert_eq!(a.advanced, 10);
        assert_eq!(read_all(&mut b), b"abcdefghij");
        let base = base + 10;
        for i in 0..MAX_OOO_RANGES {
            assert!(b.accept(base, base + (2 + 2 * i), b"x").queued);
        }
        assert!(b.accept(base, base + 1000, b"x").dropped);
        assert!(
            b.accept(base, base + 3, b"y").queued,
            "merging is always possible"
        );
        b.clear();
        assert!(!b.has_ooo() && b.len() == 0);
    }
}
