//! DNS messages (RFC 1035 §4; AAAA from RFC 3596; negative answers per
//! RFC 2308).
//!
//! Unlike the packet views of the lower layers, DNS uses an owned
//! representation: messages are small, names are variable-length and
//! compressed, and resolvers and servers want to build, inspect and store
//! them freely. [`DnsMessage::parse`] decodes a whole message and
//! [`DnsMessage::emit`] encodes one with name compression (RFC 1035 §4.1.4),
//! dropping whole records and setting TC when it would exceed the size limit
//! (RFC 1035 §4.2.1).
//!
//! Parsing is safe on any input: it never panics, and hostile messages are
//! refused with a [`WireError`](crate::WireError):
//!
//! * compression pointers must point strictly before the name segment that
//!   contains them (so they cannot loop) and outside the header, and at most
//!   [`MAX_POINTER_JUMPS`] are followed per name;
//! * a decoded name may not exceed 255 octets, nor a label 63
//!   (RFC 1035 §2.3.4); label types `0b01` and `0b10` are refused;
//! * section counts the buffer cannot possibly hold are refused before any
//!   vector is allocated;
//! * RDATA must have the exact length its type implies, and names in RDATA
//!   must end exactly at its end.
//!
//! ```
//! use vnet_wire::dns::{DnsMessage, DnsName, RecordType, MAX_UDP_LEN};
//!
//! let name: DnsName = "www.example.com".parse().unwrap();
//! let query = DnsMessage::query(0x1234, name, RecordType::A);
//! let bytes = query.emit(MAX_UDP_LEN);
//! assert_eq!(DnsMessage::parse(&bytes).unwrap(), query);
//! ```

mod edns;
mod header;
mod message;
mod name;
mod record;
mod tcp;

pub use edns::{
    BADVERS_EXTENDED, EDNS_VERSION, Edns, EdnsOption, MIN_PAYLOAD, OPTION_COOKIE, parse_options,
};
pub use header::{DnsHeader, HEADER_LEN, Opcode, Rcode};
pub use message::{DnsMessage, MAX_UDP_LEN};
pub use name::{DnsName, MAX_LABEL_LEN, MAX_NAME_LEN, MAX_POINTER_JUMPS};
pub use record::{Question, Record, RecordClass, RecordData, RecordType};
pub use tcp::{FrameError, MAX_TCP_MESSAGE, TcpFramer, frame};

/// The well-known DNS server port, for UDP and TCP (RFC 1035 §4.2).
pub const PORT: u16 = 53;
