//! The send buffer: bytes the application wrote that are not yet
//! acknowledged (RFC 9293 §3.8.6.1: the "send sequence space" from SND.UNA
//! on). Bounded; grows on demand up to its capacity.

use std::collections::VecDeque;

/// Unacknowledged and unsent bytes; byte 0 is at SND.UNA.
#[derive(Debug)]
pub(crate) struct SendBuffer {
    data: VecDeque<u8>,
    capacity: usize,
}

impl SendBuffer {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            data: VecDeque::new(),
            capacity,
        }
    }

    /// Bytes held (sent-unacknowledged plus unsent).
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// Room left for the application.
    pub(crate) fn free(&self) -> usize {
        self.capacity.saturating_sub(self.data.len())
    }

    /// Copies as much of `bytes` as fits; returns how much.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.free());
        self.data.extend(&bytes[..n]);
        n
    }

    /// Drops `n` acknowledged bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.data.len());
        self.data.drain(..n);
    }

    /// Copies bytes `offset..offset + len` (cut to what is held).
    pub(crate) fn copy(&self, offset: usize, len: usize) -> Vec<u8> {
        let end = offset.saturating_add(len).min(self.data.len());
        let start = offset.min(end);
        let (a, b) = self.data.as_slices();
        let mut out = Vec::with_capacity(end - start);
        if start < a.len() {
            out.extend_from_slice(&a[start..end.min(a.len())]);
        }
        if end > a.len() {
            out.extend_from_slice(&b[start.saturating_sub(a.len())..end - a.len()]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_copies_across_the_wrap() {
        let mut b = SendBuffer::new(10);
        assert_eq!(b.write(b"abcdefgh"), 8);
        b.consume(6);
        assert_eq!(b.write(b"ijklmnopq"), 8);
        assert_eq!(b.len(), 10);
        assert_eq!(b.free(), 0);
        assert_eq!(b.copy(0, 10), b"ghijklmnop");
        assert_eq!(b.copy(1, 3), b"hij");
        assert_eq!(b.copy(8, 100), b"op");
        assert_eq!(b.copy(20, 5), b"");
        b.consume(100);
        assert_eq!(b.len(), 0);
    }
}
