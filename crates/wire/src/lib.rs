//! Sans-IO packet codecs for vnet: Ethernet (with FCS), ARP, IPv4, ICMPv4, UDP,
//! TCP, DNS, DHCP and RIPv2, and a TLS dissector ([`tls`]) for traces.
//!
//! Every protocol follows the same split (as in smoltcp):
//!
//! * a zero-copy **view** `Xxx<T: AsRef<[u8]>>` over a buffer, built with
//!   `new_unchecked` or `new_checked`. After `new_checked` succeeds no accessor
//!   panics, whatever the bytes are; setters are available when
//!   `T: AsMut<[u8]>`;
//! * a parsed **representation** `XxxRepr` with `parse`, `buffer_len` and
//!   `emit`.
//!
//! DNS and DHCP messages are small, variable-length (compressed names,
//! option lists) and assembled field by field by applications, so [`dns`] and
//! [`dhcp`] use owned representations instead (`DnsMessage`, `DhcpMessage`,
//! with `parse(&[u8])` and `emit() -> Vec<u8>`).
//!
//! Unknown numeric values never fail to parse: they become `Unknown(n)`
//! variants (e.g. [`ethernet::EtherType::Unknown`]).
//!
//! The crate does no I/O, reads no clock and never panics on input bytes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arp;
pub mod describe;
pub mod dhcp;
pub mod dns;
mod error;
pub mod ethernet;
pub mod http;
pub mod icmpv4;
pub mod ip;
pub mod ipv4;
pub mod ospf;
pub mod rip;
pub mod tcp;
pub mod tls;
pub mod trace;
pub mod udp;

pub use error::{AddrParseError, Result, WireError};

/// Reads a big-endian ("network byte order", RFC 791 Appendix B) `u16` at `at`.
///
/// Callers guarantee `at + 2 <= b.len()` (checked views); returns 0 otherwise
/// rather than panicking.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

/// Writes a big-endian `u16` at `at`; does nothing if out of range.
#[inline]
pub(crate) fn set_be16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}
