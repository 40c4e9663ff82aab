//! Errors returned by the codecs.

use thiserror::Error;

/// Why a buffer could not be viewed, parsed or checked.
///
/// Every variant names the protocol element (`what`) and, where relevant, the
/// offending field and its numeric value, so a log line is enough to find the
/// problem in a capture.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The buffer is shorter than the structure (or a length field) requires.
    #[error("{what} truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// The structure being read, e.g. `"IPv4 header"`.
        what: &'static str,
        /// Bytes required.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// An Internet checksum (RFC 1071) did not verify.
    #[error("{what} checksum mismatch")]
    BadChecksum {
        /// The structure whose checksum failed, e.g. `"IPv4 header"`.
        what: &'static str,
    },
    /// The Ethernet frame check sequence (IEEE 802.3 §3.2.9) did not verify.
    #[error("bad Ethernet FCS: frame carries {expected:#010x}, computed {computed:#010x}")]
    BadFcs {
        /// FCS found on the wire.
        expected: u32,
        /// FCS computed over the received frame.
        computed: u32,
    },
    /// A field holds a value the protocol forbids.
    #[error("malformed {what}: {field} = {value}")]
    Malformed {
        /// The structure, e.g. `"IPv4 header"`.
        what: &'static str,
        /// The field, e.g. `"ihl"`.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// A field holds a legal value this implementation does not handle.
    #[error("unsupported {what}: {field} = {value}")]
    Unsupported {
        /// The structure, e.g. `"ARP packet"`.
        what: &'static str,
        /// The field, e.g. `"hardware type"`.
        field: &'static str,
        /// Its value.
        value: u64,
    },
}

/// Result type of this crate.
pub type Result<T> = core::result::Result<T, WireError>;

/// A textual address (MAC address, CIDR) could not be parsed.
///
/// Returned by the `FromStr` implementations; the message quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {what} {text:?}: {reason}")]
pub struct AddrParseError {
    /// What was being parsed, e.g. `"MAC address"`.
    pub what: &'static str,
    /// The text that failed to parse.
    pub text: String,
    /// Why it failed.
    pub reason: &'static str,
}

impl AddrParseError {
    pub(crate) fn new(what: &'static str, text: &str, reason: &'static str) -> Self {
        Self {
            what,
            text: text.to_owned(),
            reason,
        }
    }
}

/// Fails with [`WireError::Truncated`] unless `available >= needed`.
pub(crate) fn check_len(what: &'static str, needed: usize, available: usize) -> Result<()> {
    if available < needed {
        Err(WireError::Truncated {
            what,
            needed,
            available,
        })
    } else {
        Ok(())
    }
}
