//! Frames from the kernel shorter than Ethernet's minimum.
//!
//! A TAP device hands over frames as the kernel built them, without the
//! padding a NIC adds on the wire: an ARP request is 42 bytes. On a cable
//! every frame is at least [`MIN_FRAME_LEN`] bytes before the FCS (IEEE
//! 802.3 §3.2.7 minFrameSize, §3.2.8: the data field is padded with
//! octets, vnet's are zeros, RFC 894), so a TAP end pads what it reads
//! before the device, a capture or a cable sees it.

use vnet_wire::ethernet::MIN_FRAME_LEN;

/// Pads the `len`-byte frame at the start of `buf` with zeros to
/// [`MIN_FRAME_LEN`] (when `buf` has room) and returns its new length;
/// longer frames are left as they are.
pub(crate) fn pad_runt(buf: &mut [u8], len: usize) -> usize {
    if len >= MIN_FRAME_LEN || buf.len() < MIN_FRAME_LEN {
        return len;
    }
    buf[len..MIN_FRAME_LEN].fill(0);
    MIN_FRAME_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ARP request as Linux writes it to a TAP device: 42 bytes
    /// (14 Ethernet + 28 ARP), no padding.
    const ARP_REQUEST: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08,
        0x06, // eth
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00,
        0x01, // htype, ptype, hlen, plen, op=request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 9, 2, // sender MAC, IP
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 9, 1, // target MAC, IP
    ];

    #[test]
    fn an_arp_request_from_the_kernel_is_padded_with_zeros_to_60_bytes() {
        let mut buf = [0xAAu8; 1600];
        buf[..42].copy_from_slice(&ARP_REQUEST);
        let len = pad_runt(&mut buf, 42);
        assert_eq!(len, 60);
        assert_eq!(buf[..42], ARP_REQUEST);
        assert!(buf[42..60].iter().all(|&b| b == 0));
        assert_eq!(buf[60], 0xAA, "nothing past the minimum is touched");
    }

    #[test]
    fn frames_at_or_above_the_minimum_are_untouched() {
        let mut buf = [0x55u8; 1600];
        assert_eq!(pad_runt(&mut buf, 60), 60);
        assert_eq!(pad_runt(&mut buf, 1514), 1514);
        assert!(buf.iter().all(|&b| b == 0x55));
        // A buffer too small to pad into leaves the frame as it is.
        let mut small = [0x55u8; 50];
        assert_eq!(pad_runt(&mut small, 42), 42);
    }
}
