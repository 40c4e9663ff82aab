//! Connection states (RFC 9293 §3.3.2) and a short per-socket history of
//! them, for tests and `ss`-like displays.

use core::fmt;
use serde::Serialize;
use std::collections::VecDeque;

/// The states of a TCP connection, named as in RFC 9293 §3.3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TcpState {
    /// "represents no connection state at all".
    Closed,
    /// "waiting for a connection request from any remote TCP peer and port".
    Listen,
    /// "waiting for a matching connection request after having sent a
    /// connection request".
    SynSent,
    /// "waiting for a confirming connection request acknowledgment after
    /// having both received and sent a connection request".
    SynReceived,
    /// "an open connection, data received can be delivered to the user".
    Established,
    /// "waiting for a connection termination request from the remote TCP
    /// peer, or an acknowledgment of the connection termination request
    /// previously sent".
    FinWait1,
    /// "waiting for a connection termination request from the remote TCP peer".
    FinWait2,
    /// "waiting for a connection termination request from the local user".
    CloseWait,
    /// "waiting for a connection termination request acknowledgment from
    /// the remote TCP peer".
    Closing,
    /// "waiting for an acknowledgment of the connection termination request
    /// previously sent to the remote TCP peer".
    LastAck,
    /// "waiting for enough time to pass to be sure the remote TCP peer
    /// received the acknowledgment of its connection termination request".
    TimeWait,
}

impl TcpState {
    /// The RFC 9293 spelling, e.g. `SYN-SENT`.
    pub const fn rfc_name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }

    /// True once both SYNs are acknowledged: ESTABLISHED and every later
    /// state ("synchronized states", RFC 9293 §3.5.2).
    pub const fn is_synchronized(self) -> bool {
        !matches!(
            self,
            TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::SynReceived
        )
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rfc_name())
    }
}

/// Most states a history keeps (the longest RFC path, simultaneous close
/// from an active open, has 7).
pub const HISTORY_LEN: usize = 16;

/// The states a socket went through, oldest first, bounded to
/// [`HISTORY_LEN`] entries (oldest dropped).
#[derive(Debug, Clone, Default)]
pub(crate) struct History(VecDeque<TcpState>);

impl History {
    pub(crate) fn new(first: TcpState) -> Self {
        let mut h = History(VecDeque::with_capacity(4));
        h.push(first);
        h
    }

    pub(crate) fn push(&mut self, s: TcpState) {
        if self.0.len() >= HISTORY_LEN {
            self.0.pop_front();
        }
        self.0.push_back(s);
    }

    pub(crate) fn to_vec(&self) -> Vec<TcpState> {
        self.0.iter().copied().collect()
    }
}
