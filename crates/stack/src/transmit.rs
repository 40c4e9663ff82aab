//! The output side of the sans-IO stack.

/// Where the stack puts the Ethernet frames it sends.
///
/// The stack calls [`Transmit::transmit`] synchronously from
/// `receive`, `poll` and the socket send functions; the device runtime
/// implements it by handing the frame to the cable of `port`.
pub trait Transmit {
    /// Sends one Ethernet frame WITHOUT FCS out of `port` (the index of the
    /// interface in the stack's configuration).
    ///
    /// The frame may be shorter than the Ethernet minimum of 60 bytes: the
    /// cable pads it and appends the FCS (IEEE 802.3 §3.2.8, §3.2.9).
    fn transmit(&mut self, port: usize, frame: &[u8]);
}

/// Collects frames as `(port, frame)` pairs; convenient for tests.
impl Transmit for Vec<(usize, Vec<u8>)> {
    fn transmit(&mut self, port: usize, frame: &[u8]) {
        self.push((port, frame.to_vec()));
    }
}

impl<T: Transmit + ?Sized> Transmit for &mut T {
    fn transmit(&mut self, port: usize, frame: &[u8]) {
        (**self).transmit(port, frame);
    }
}
