//! Tunables of the TCP implementation, part of [`crate::StackConfig`].

use core::time::Duration;

/// TCP tunables. Every default is documented with the rule or the Linux
/// setting it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// Secret key of the ISN function F and of ephemeral port selection
    /// (RFC 6528 §3: "a secret key ... SHOULD be ... random"; RFC 6056
    /// §3.3.3). The device runtime fills it from OS randomness; the default
    /// is all zeros, fine for tests only.
    pub isn_secret: [u8; 16],
    /// Maximum number of TCP sockets (listeners, connections, TIME-WAIT).
    /// Default 1024.
    pub max_sockets: usize,
    /// Send buffer per connection in bytes. Default 256 KiB.
    pub send_buffer: usize,
    /// Receive buffer per connection in bytes; the largest window offered
    /// (RFC 9293 §3.8.6). Default 256 KiB, which needs window scaling.
    pub recv_buffer: usize,
    /// Largest listen backlog accepted by `tcp_listen` (Linux `somaxconn`
    /// is 4096; a smaller default keeps memory bounded). Default 128.
    pub max_backlog: usize,
    /// Answer SYNs that find a listener's backlog full with a SYN cookie
    /// instead of dropping them (RFC 4987 §3.6; Linux `tcp_syncookies` =
    /// 1, cookies only on overflow). Connections completed from a cookie
    /// run without window scaling and timestamps. Default true.
    pub syn_cookies: bool,
    /// Maximum Segment Lifetime; TIME-WAIT lasts 2·MSL (RFC 9293 §3.4.2
    /// uses 2 minutes; Linux's TIME-WAIT is 60 s, i.e. MSL = 30 s).
    /// Default 30 s.
    pub msl: Duration,
    /// RTO expirations without progress before an established connection
    /// is aborted with `TimedOut` (RFC 1122 §4.2.3.5 R2; Linux
    /// `tcp_retries2` = 15). Default 15.
    pub max_retries: u32,
    /// Retransmissions of a SYN or SYN-ACK before giving up (Linux
    /// `tcp_syn_retries` = 6; RFC 1122 §4.2.3.5 asks R2 for a SYN to be at
    /// least 3 minutes, Linux's 127 s is the common practice). Default 6.
    pub syn_retries: u32,
    /// RTO before any RTT sample (RFC 6298 §2.1: 1 second).
    pub initial_rto: Duration,
    /// Lower bound of the RTO. RFC 6298 §2.4 says 1 s; like Linux
    /// (`TCP_RTO_MIN`) vnet uses 200 ms, which the RFC's own note on
    /// "ongoing research" allows and which makes loss recovery on a LAN
    /// visible in human time. Default 200 ms.
    pub min_rto: Duration,
    /// Upper bound of the RTO (RFC 6298 §2.5: "at least 60 seconds").
    /// Default 60 s.
    pub max_rto: Duration,
    /// Clock granularity G of RFC 6298 §2 (RTO ≥ SRTT + max(G, 4·RTTVAR)).
    /// Default 1 ms.
    pub clock_granularity: Duration,
    /// Delayed-ACK timeout (RFC 1122 §4.2.3.2: "MUST be less than 0.5
    /// seconds"; RFC 5681 §4.2 and the brief: ≤ 200 ms). Linux uses 40 ms
    /// minimum; vnet defaults to 40 ms so request/response traffic with
    /// Nagle stays snappy.
    pub delayed_ack: Duration,
    /// How long an orphaned connection (closed by the application) may sit
    /// in FIN-WAIT-2 (Linux `tcp_fin_timeout` = 60 s). Default 60 s.
    pub fin_wait2_timeout: Duration,
    /// Offer and honour window scaling (RFC 7323 §2). Default true.
    pub window_scaling: bool,
    /// Offer and honour the Timestamps option for RTT measurement on every
    /// ACK (RFC 7323 §3, §4; on by default in Linux). Without it, RTT
    /// samples follow Karn's algorithm and are rare under heavy loss.
    /// Default true.
    pub timestamps: bool,
    /// Offer and honour Selective Acknowledgment (RFC 2018: SACK-Permitted
    /// in the SYN and SYN-ACK, SACK blocks on ACKs while out-of-order data
    /// is queued) and use it for loss recovery (RFC 6675). On by default,
    /// as Linux `tcp_sack` = 1. Without it loss recovery is NewReno
    /// (RFC 6582). Default true.
    pub sack: bool,
    /// Send a tail loss probe (RFC 8985 §7, simplified) when an ACK is
    /// overdue by about two round trips, instead of waiting for the RTO;
    /// only on connections using SACK (Linux `tcp_early_retrans` = 3).
    /// Default true.
    pub tail_loss_probe: bool,
}

impl Default for TcpConfig {
    fn default() -> Self {
        Self {
            isn_secret: [0; 16],
            max_sockets: 1024,
            send_buffer: 256 * 1024,
            recv_buffer: 256 * 1024,
            max_backlog: 128,
            syn_cookies: true,
            msl: Duration::from_secs(30),
            max_retries: 15,
            syn_retries: 6,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_millis(200),
            max_rto: Duration::from_secs(60),
            clock_granularity: Duration::from_millis(1),
            delayed_ack: Duration::from_millis(40),
            fin_wait2_timeout: Duration::from_secs(60),
            window_scaling: true,
            timestamps: true,
            sack: true,
            tail_loss_probe: true,
        }
    }
}
