//! Per-interface counters: lock-free on the forwarding path, snapshot as JSON.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a cable end dropped a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The Ethernet FCS did not match the frame.
    BadFcs,
    /// The datagram is not a valid cable envelope.
    BadEnvelope,
    /// The datagram came from an address other than the configured peer.
    ForeignSource,
    /// Received while the link's inbound direction is down.
    LinkDownIn,
    /// Sent while the link's outbound direction is down.
    LinkDownOut,
    /// The socket's send queue was full.
    QueueFull,
    /// The operating system refused to send the datagram.
    SendError,
    /// The frame is larger than the cable carries.
    Oversize,
    /// An impairment dropped it on purpose (loss).
    Impaired,
    /// The peer is known by a name that has not resolved yet.
    NoPeer,
}

macro_rules! counters {
    ($( $(#[$doc:meta])* $field:ident ),* $(,)?) => {
        /// Live counters of one interface (one cable end).
        #[derive(Debug, Default)]
        pub struct InterfaceCounters {
            $( $(#[$doc])* pub $field: AtomicU64, )*
        }

        /// A point-in-time copy of [`InterfaceCounters`].
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
        pub struct CountersSnapshot {
            $( $(#[$doc])* pub $field: u64, )*
        }

        impl InterfaceCounters {
            /// Copies every counter.
            pub fn snapshot(&self) -> CountersSnapshot {
                CountersSnapshot { $( $field: self.$field.load(Ordering::Relaxed), )* }
            }
        }
    };
}

counters! {
    /// Frames received and accepted (valid envelope, peer, FCS, link up).
    frames_in,
    /// Bytes of accepted frames, FCS included.
    bytes_in,
    /// Frames handed to the socket.
    frames_out,
    /// Bytes of frames sent, padding and FCS included.
    bytes_out,
    /// Frames dropped: bad FCS.
    drop_bad_fcs,
    /// Datagrams dropped: not a valid envelope.
    drop_bad_envelope,
    /// Datagrams dropped: not from the configured peer.
    drop_foreign_source,
    /// Frames dropped: inbound direction down.
    drop_link_down_in,
    /// Frames dropped: outbound direction down.
    drop_link_down_out,
    /// Frames dropped: socket send queue full.
    drop_queue_full,
    /// Frames dropped: the OS refused the send.
    drop_send_error,
    /// Frames dropped: larger than the cable carries.
    drop_oversize,
    /// Frames dropped by an impairment (loss).
    drop_impaired,
    /// Frames dropped: the peer's name has not resolved yet.
    drop_no_peer,
    /// Times a named peer moved to a new address (re-resolution).
    peer_moves,
    /// Datagrams the kernel dropped because this end's socket receive
    /// buffer was full (SO_RXQ_OVFL): loss no envelope sequence can hide.
    drop_rx_overflow,
    /// Gaps seen in the peer's sequence numbers (frames lost or reordered on the cable).
    seq_gaps,
    /// Captured frames lost because the capture consumer was too slow.
    capture_dropped,
    /// Datagrams the kernel refused for a moment and this end held and sent
    /// later instead of dropping them (hosts only, [`crate::hold`]).
    held,
}

impl InterfaceCounters {
    /// Counts one drop.
    pub fn drop_frame(&self, reason: DropReason) {
        let counter = match reason {
            DropReason::BadFcs => &self.drop_bad_fcs,
            DropReason::BadEnvelope => &self.drop_bad_envelope,
            DropReason::ForeignSource => &self.drop_foreign_source,
            DropReason::LinkDownIn => &self.drop_link_down_in,
            DropReason::LinkDownOut => &self.drop_link_down_out,
            DropReason::QueueFull => &self.drop_queue_full,
            DropReason::SendError => &self.drop_send_error,
            DropReason::Oversize => &self.drop_oversize,
            DropReason::Impaired => &self.drop_impaired,
            DropReason::NoPeer => &self.drop_no_peer,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_in(&self, bytes: usize) {
        self.frames_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn count_out(&self, bytes: usize) {
        self.frames_out.fetch_add(1, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}
