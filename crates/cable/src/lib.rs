//! Virtual cables: point-to-point UDP tunnels that carry Ethernet frames
//! (with FCS) inside a small versioned envelope.
//!
//! * [`envelope`]: the byte-exact header format.
//! * [`end`]: a cable end bound to a UDP socket, accepting only its peer.
//! * [`link`]: administrative up/down per direction.
//! * [`impair`]: loss, delay, jitter, duplication, reordering, corruption, rate.
//! * [`counters`]: per-interface counters, drops by reason.
//! * [`capture`] and [`pcapng`]: taps that write Wireshark-readable captures.
// One audited exception: registering a cable socket for readability only
// (`end.rs`, tokio's `AsyncFd::register_with_interest`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod counters;
mod delay_line;
pub mod end;
pub mod envelope;
pub mod impair;
pub mod link;
pub mod pcapng;

pub use counters::{CountersSnapshot, DropReason, InterfaceCounters};
pub use end::{CableEnd, Received};
pub use envelope::{Envelope, TraceContext};
pub use impair::Impairments;
pub use link::{Direction, LinkStatus};
