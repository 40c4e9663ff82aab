//! TCP (RFC 9293) for the sans-IO stack.
//!
//! * [`seq`] — sequence-number arithmetic (§3.4);
//! * [`state`] — the connection states of §3.3.2;
//! * `tcb` — the Transmission Control Block and its single state-transition
//!   function; `input` (§3.10.7 "SEGMENT ARRIVES"), `output` (segmentation,
//!   Nagle, window management) and `timers` (RFC 6298 retransmission,
//!   persist, delayed ACK, TIME-WAIT) extend it;
//! * `rtt`, `congestion` — RFC 6298 and RFC 5681 / RFC 6582 (NewReno);
//! * `sack`, `recovery` — the SACK scoreboard and the choice of SACK
//!   blocks (RFC 2018, RFC 6675 §3–§4), SACK loss recovery (RFC 6675 §5)
//!   and the tail loss probe (RFC 8985 §7);
//! * `send_buf`, `recv_buf` — bounded buffers and the out-of-order queue;
//! * `isn`, `siphash` — RFC 6528 initial sequence numbers;
//! * `syncookie` — SYN cookies (RFC 4987 §3.6) for a full backlog;
//! * `table` — listeners, connections, demultiplexing, backlog, reaping.
//!
//! The public API lives on [`crate::NetStack`] (`tcp_listen`,
//! `tcp_connect`, `tcp_send`, ...).
//!
//! # Design choices and deviations
//!
//! * **Minimum RTO 200 ms** (RFC 6298 §2.4 says 1 s), maximum 60 s, clock
//!   granularity 1 ms, initial RTO 1 s: as Linux, so loss recovery on a
//!   virtual LAN is visible in human time. All in [`TcpConfig`].
//! * **RTT samples** come from the Timestamps option (RFC 7323 §4, on by
//!   default as in Linux) on every ACK that covers no retransmitted data;
//!   without timestamps one segment per flight is timed (Karn's
//!   algorithm). An ACK that does cover retransmitted data clears the
//!   exponential backoff without giving a sample: strict Karn keeps the
//!   backoff until a clean sample, which under 20 % loss never comes and
//!   lets the RTO sit at 60 s (Linux and FreeBSD escape the same way
//!   through their timestamp samples). PAWS (RFC 7323 §5) is not done.
//! * **Loss recovery** with SACK ([`TcpConfig::sack`], on by default as
//!   in Linux):
//!   - SACK-Permitted is offered in the SYN and, if the SYN had it, in
//!     the SYN-ACK; SACK is used only if both sent it (RFC 2018 §2).
//!   - Receiver (RFC 2018 §3, §4): while out-of-order data is queued,
//!     every ACK carries SACK blocks (3 beside Timestamps, 4 without, fewer
//!     on a data segment that would exceed the MSS); the first block holds
//!     the most recently received segment, the next ones repeat the most
//!     recently reported blocks. No D-SACK (RFC 2883).
//!   - Sender scoreboard (RFC 6675 §3): at most 32 merged SACKed ranges
//!     above SND.UNA in a fixed array; blocks that are reversed, at or
//!     below SND.UNA or beyond SND.MAX are ignored.
//!   - RFC 6675 §4–§5: IsLost (DupThresh = 3 SACKed segments, or more
//!     than 2·SMSS SACKed bytes, above a hole), SetPipe, NextSeg rules 1–4
//!     (lost holes above HighRxt, then new data, then other unSACKed holes
//!     below the highest SACK, then once per recovery the last segment of
//!     an unSACKed tail not yet retransmitted: the rescue). Recovery
//!     starts on 3 duplicate ACKs (§2: ACKs that SACK new data) or
//!     IsLost(SND.UNA) (checked on every ACK, as Linux), with RecoveryPoint = SND.MAX and ssthresh = cwnd =
//!     max(FlightSize / 2, 2·SMSS); while `cwnd − pipe ≥ SMSS` NextSeg()
//!     is sent; it ends when SND.UNA reaches RecoveryPoint (cwnd =
//!     ssthresh) and a new one needs SND.UNA ≥ the last RecoveryPoint
//!     (§5.1). The RTO restarts on every partial ACK (RFC 6298 §5.3).
//!   - Beyond RFC 6675: a retransmission of the hole at SND.UNA that is
//!     lost too is sent again once data sent after it is SACKed (as Linux
//!     did before RACK); RACK itself (RFC 8985 §6) is not implemented.
//!   - A timeout discards the scoreboard (RFC 6675 §5.1 allows it, the
//!     receiver may renege) and goes back to SND.UNA ("go back N") in slow
//!     start.
//!   - Tail loss probe (RFC 8985 §7, simplified,
//!     [`TcpConfig::tail_loss_probe`]): with SACK, after new data is sent
//!     or acknowledged and outside recovery, PTO = max(2·SRTT, 10 ms),
//!     plus [`TcpConfig::delayed_ack`] when one segment is in flight (the
//!     peer's delayed ACK is assumed to be ours; RFC 8985 adds a 200 ms
//!     WCDelAckT), if that is before the RTO; it sends one new segment if the window allows, else
//!     the highest one again, once per tail (until an ACK reaches the
//!     probe's SND.MAX or the RTO fires), then restarts the RTO. No
//!     congestion response to a loss the probe alone repaired (§7.4 needs
//!     D-SACK).
//!
//!   Without SACK (either side) loss recovery stays NewReno (RFC 6582)
//!   with limited transmit (RFC 3042), then "go back N" after a timeout.
//! * **Delayed ACK** 40 ms (Linux's minimum; RFC 1122 allows < 500 ms), at
//!   once for every second segment, out-of-order data, a filled hole or a
//!   FIN.
//! * **Zero-window probes** send one byte beyond the window without
//!   advancing SND.NXT, backed off up to the maximum RTO, forever while the
//!   peer answers (RFC 9293 §3.8.6.1).
//! * **Path MTU Discovery** (RFC 1191): segments carry DF; "fragmentation
//!   needed" lowers the MSS and resends at once.
//! * **ISN** = 4 µs clock + SipHash-2-4 of the 4-tuple under
//!   [`TcpConfig::isn_secret`] (RFC 6528); SipHash is 40 lines here
//!   (checked against the reference vectors and `std`'s SipHasher) rather
//!   than a dependency. Ephemeral ports start at a keyed offset (RFC 6056
//!   §3.3.3).
//! * **SYN cookies** (RFC 4987 §3.6, as Linux with `tcp_syncookies` = 1):
//!   a SYN that finds the backlog full gets a SYN-ACK whose ISN is a
//!   cookie (layout in `syncookie.rs`), no state is kept; an ACK that
//!   matches no connection within 128 s of an overflow is checked as a
//!   cookie and, if valid, becomes an established connection with the MSS
//!   it encodes, but without window scaling or timestamps (the basic
//!   scheme cannot remember them). Invalid ones get a reset. Half-open
//!   entries created while the backlog had room keep their usual SYN-ACK
//!   retransmissions ([`TcpConfig::syn_retries`]).
//! * **RFC 5961** challenge ACKs for in-window RSTs and any SYN in a
//!   synchronized state (not rate limited).
//! * **Closing** with unread data sends a RST (RFC 1122 §4.2.2.13), so does
//!   data arriving after the application closed; an orphaned FIN-WAIT-2
//!   ends after 60 s (Linux `tcp_fin_timeout`). TIME-WAIT is 2·MSL with
//!   MSL = 30 s.
//! * **Not implemented**: urgent data (the pointer is ignored), keep-alive,
//!   the restart window after idle (RFC 5681 §4.1), ECN.
//! * **Bounded**: sockets ([`TcpConfig::max_sockets`]), listen backlog,
//!   send and receive buffers (256 KiB), out-of-order ranges (64), SACK
//!   scoreboard ranges (32), state history (16 entries).

mod config;
mod congestion;
mod input;
mod isn;
mod output;
mod recovery;
mod recv_buf;
mod rtt;
mod sack;
mod send_buf;
pub mod seq;
mod siphash;
pub mod state;
mod syncookie;
pub(crate) mod table;
mod tcb;
mod timer_index;
mod timers;
mod user;

pub use crate::error::TcpError;
pub use config::TcpConfig;
pub use state::{HISTORY_LEN, TcpState};

use crate::icmp::IcmpError;
use crate::socket::Handle;
use core::time::Duration;
use serde::Serialize;
use std::net::SocketAddrV4;

/// Names a TCP socket (listener or connection) of a [`crate::NetStack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpHandle(pub(crate) Handle);

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
