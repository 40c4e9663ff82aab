//! Virtual cables: point-to-point UDP tunnels that carry Ethernet frames
//! (with FCS) inside a small versioned envelope.
//!
//! * [`envelope`]: the byte-exact header format.
//! * [`end`]: a cable end bound to a UDP socket, accepting only its peer.
//! * [`batch`]: many datagrams per system call (`recvmmsg`/`sendmmsg`).
//! * [`peer`] and [`resolve`]: a peer known by name, resolved without the
//!   C library and again when it moves.
//! * [`memory`]: in-memory cables for the simulation.
//! * [`link`]: administrative up/down per direction.
//! * [`impair`]: loss, delay, jitter, duplication, reordering, corruption, rate.
//! * [`counters`]: per-interface counters, drops by reason.
//! * [`capture`] and [`pcapng`]: taps that write Wireshark-readable captures.
// Audited exceptions: in `socket.rs`, registering a cable socket for
// readability only (tokio's `AsyncFd::register_with_interest`) and letting
// the kernel fragment carrier datagrams (`setsockopt(IP_MTU_DISCOVER)`); in
// `batch.rs`, `recvmmsg`/`sendmmsg` over preallocated headers.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod capture;
pub mod counters;
mod delay_line;
pub mod end;
pub mod envelope;
pub mod hold;
pub mod impair;
pub mod link;
pub mod memory;
pub mod pcapng;
pub mod peer;
pub mod resolve;
mod runt;
mod socket;

pub use counters::{CountersSnapshot, DropReason, InterfaceCounters};
pub use end::{CableEnd, Received};
pub use envelope::{Envelope, TraceContext};
pub use impair::{ImpairmentError, Impairments};
pub use link::{BadDirection, Direction, LinkStatus};
pub use peer::{PeerChange, RefreshPolicy};
pub use resolve::{ResolveError, Resolver};
