//! TCP (RFC 9293) for the sans-IO stack.
//!
//! * [`seq`] — sequence-number arithmetic (§3.4);
//! * [`state`] — the connection states of §3.3.2;
//! * `tcb` — the Transmission Control Block and its single state-transition
//!   function; `input` (§3.10.7 "SEGMENT ARRIVES"), `output` (segmentation,
//!   Nagle, window management) and `timers` (RFC 6298 retransmission,
//!   persist, delayed ACK, TIME-WAIT) extend it;
//! * `rtt`, `congestion` — RFC 6298 and RFC 5681 / RFC 6582 (NewReno);
//! * `send_buf`, `recv_buf` — bounded buffers and the out-of-order queue;
//! * `isn`, `siphash` — RFC 6528 initial sequence numbers;
//! * `table` — listeners, connections, demultiplexing, backlog, reaping.
//!
//! The public API lives on [`crate::NetStack`] (`tcp_listen`,
//! `tcp_connect`, `tcp_send`, ...).

mod config;
mod congestion;
mod input;
mod isn;
mod output;
mod recv_buf;
mod rtt;
mod send_buf;
pub mod seq;
mod siphash;
pub mod state;
pub(crate) mod table;
mod tcb;
mod timers;
mod user;

pub use config::TcpConfig;
pub use state::{HISTORY_LEN, TcpState};

use crate::icmp::IcmpError;
use crate::socket::Handle;
use core::fmt;
use core::time::Duration;
use serde::Serialize;
use std::net::SocketAddrV4;

/// Names a TCP socket (listener or connection) of a [`crate::NetStack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpHandle(pub(crate) Handle);

/// Why a connection failed; kept on the socket and returned by
/// [`crate::NetStack::tcp_error`] and as [`crate::StackError::Connection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TcpError {
    /// The peer answered our SYN with a RST (RFC 9293 §3.10.7.3: "error:
    /// connection reset"; Linux `ECONNREFUSED`).
    Refused,
    /// The peer reset an established connection (RFC 9293 §3.10.7.4,
    /// "connection reset"; `ECONNRESET`).
    Reset,
    /// Retransmissions were exhausted (RFC 1122 §4.2.3.5 R2; `ETIMEDOUT`).
    TimedOut,
    /// The application aborted the connection (RFC 9293 §3.10.5 ABORT).
    Aborted,
    /// A hard ICMP error while connecting (RFC 1122 §4.2.3.9: protocol or
    /// port unreachable).
    Unreachable(IcmpError),
}

impl fmt::Display for TcpError {
    /// Wording of the matching `strerror`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpError::Refused => f.write_str("Connection refused"),
            TcpError::Reset => f.write_str("Connection reset by peer"),
            TcpError::TimedOut => f.write_str("Connection timed out"),
            TcpError::Aborted => f.write_str("Software caused connection abort"),
            TcpError::Unreachable(e) => write!(f, "{e}"),
        }
    }
}

/// A snapshot of one TCP socket, like Linux `struct tcp_info` / `ss -ti`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcpInfo {
    /// The socket handle (for `tcp_*` calls).
    #[serde(skip)]
    pub handle: TcpHandle,
    /// State (RFC 9293 §3.3.2).
    pub state: TcpState,
    /// Local address and port (0.0.0.0 for a listener).
    pub local: SocketAddrV4,
    /// Remote address and port (0.0.0.0:0 for a listener).
    pub remote: SocketAddrV4,
    /// Bytes written by the application and not yet acknowledged
    /// (for a listener: the backlog limit, as `ss` shows it).
    pub send_queue: usize,
    /// Bytes received in order and not yet read (for a listener: the
    /// connections waiting in the backlog).
    pub recv_queue: usize,
    /// Congestion window in bytes.
    pub cwnd: usize,
    /// Slow-start threshold in bytes (`usize::MAX` until the first loss).
    pub ssthresh: usize,
    /// Smoothed RTT (RFC 6298), if measured.
    pub srtt: Option<Duration>,
    /// RTT variation.
    pub rttvar: Duration,
    /// Current retransmission timeout, backoff included.
    pub rto: Duration,
    /// Sender maximum segment size in bytes.
    pub mss: usize,
    /// Send window offered by the peer, scaled.
    pub snd_wnd: usize,
    /// Receive window we currently offer.
    pub rcv_wnd: usize,
    /// Segments retransmitted on this connection.
    pub retransmissions: u64,
    /// Bytes of data acknowledged by the peer.
    pub bytes_acked: u64,
    /// Bytes of data received in order.
    pub bytes_received: u64,
    /// The error that ended the connection, if any.
    pub error: Option<TcpError>,
    /// The last ICMP error reported about the connection (RFC 1122
    /// §4.2.3.9 soft errors), if any.
    pub soft_error: Option<IcmpError>,
}
