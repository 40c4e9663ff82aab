//! The Transmission Control Block (RFC 9293 §3.3.1): every variable of one
//! connection, its construction for active and passive opens, the single
//! state-transition function, and segment emission.
//!
//! Segment arrival is in `input.rs`, sending in `output.rs`, timers in
//! `timers.rs`, the user calls of RFC 9293 §3.10 in `user.rs`.

use super::config::TcpConfig;
use super::congestion::Congestion;
use super::isn::initial_sequence_number;
use super::recv_buf::RecvBuffer;
use super::rtt::RttEstimator;
use super::sack::{RecentSacks, Scoreboard};
use super::send_buf::SendBuffer;
use super::seq::SeqNumber;
use super::state::{History, TcpState};
use super::{TcpError, TcpHandle, TcpInfo};
use crate::counters::StackCounters;
use crate::icmp::IcmpError;
use crate::socket::Handle;
use crate::time::Instant;
use core::task::Waker;
use std::net::SocketAddrV4;
use vnet_wire::tcp::{TcpFlags, TcpRepr, TcpTimestamps};
use vnet_wire::trace::{Direction, TraceContext, TraceEvent, TraceValue};

/// Default MSS when the peer sends none (RFC 9293 §3.7.1: "If an MSS
/// Option is not received at connection setup, TCP implementations MUST
/// assume a default send MSS of 536").
pub(crate) const DEFAULT_MSS: usize = 536;

/// Smallest MSS accepted from an option or from Path MTU Discovery; below it
/// headers would dominate (Linux clamps at 88 with `tcp_min_snd_mss` = 48;
/// IPv4's minimum MTU 68 allows 28).
pub(crate) const MIN_MSS: usize = 28;

/// Largest window shift (RFC 7323 §2.3: "MUST use 14 instead").
const MAX_WSCALE: u8 = 14;

/// A segment ready to be sent: the IP layer adds the header and checksum.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub repr: TcpRepr,
    pub payload: Vec<u8>,
    /// The trace span of the connection that sent it, if traced.
    pub trace: Option<TraceContext>,
}

/// What every TCB operation needs from the stack.
pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub cfg: &'a TcpConfig,
    pub out: &'a mut Vec<Segment>,
    pub counters: &'a mut StackCounters,
    /// Trace events of traced connections.
    pub events: &'a mut Vec<TraceEvent>,
    /// The trace span of the work at hand (`None` on timers).
    pub trace: Option<TraceContext>,
}

/// The shift that lets a window of `buffer` bytes fit in 16 bits
/// (RFC 7323 §2.2).
fn window_shift(buffer: usize) -> u8 {
    let mut s = 0;
    while s < MAX_WSCALE && (buffer >> s) > 65_535 {
        s += 1;
    }
    s
}

/// One connection (RFC 9293 §3.3.1 "Send Sequence Variables" and "Receive
/// Sequence Variables", plus timers, buffers and application state).
#[derive(Debug)]
pub(crate) struct Tcb {
    pub(crate) local: SocketAddrV4,
    pub(crate) remote: SocketAddrV4,
    pub(crate) state: TcpState,
    pub(super) history: History,
    /// Opened by a listener (a reset in SYN-RECEIVED returns to LISTEN,
    /// RFC 9293 §3.10.7.4).
    pub(super) passive: bool,
    /// The deadline this connection is filed under in the table's timer
    /// index (kept equal to [`Tcb::poll_at`] by the table after each call).
    pub(super) timer_filed: Option<Instant>,

    // Send sequence variables.
    pub(super) iss: SeqNumber,
    pub(super) snd_una: SeqNumber,
    pub(super) snd_nxt: SeqNumber,
    /// Highest sequence number sent plus one (SND.NXT never goes back in
    /// RFC 9293; vnet rewinds SND.NXT after a timeout, "go back N", and
    /// keeps the high-water mark here).
    pub(super) snd_max: SeqNumber,
    /// End of an outstanding zero-window probe byte (RFC 9293 §3.8.6.1).
    pub(super) probe_end: Option<SeqNumber>,
    pub(super) snd_wnd: usize,
    pub(super) max_snd_wnd: usize,
    pub(super) snd_wl1: SeqNumber,
    pub(super) snd_wl2: SeqNumber,
    /// Shift applied to windows the peer sends (RFC 7323 §2.3).
    pub(super) snd_wscale: u8,
    /// Shift applied to windows we send.
    pub(super) rcv_wscale: u8,
    /// Whether our SYN (or SYN-ACK) carries the Window Scale option.
    pub(super) offer_wscale: bool,
    /// Sender MSS: min(peer's MSS option, our egress MTU − 40), lowered by
    /// Path MTU Discovery (RFC 9293 §3.7.1, RFC 1191).
    pub(super) mss: usize,
    /// The MSS we announce (egress MTU − 40).
    pub(super) our_mss: u16,
    pub(super) tx: SendBuffer,
    /// The application asked for FIN after the queued data.
    pub(super) fin_queued: bool,
    /// Sequence number of our FIN once sent.
    pub(super) fin_seq: Option<SeqNumber>,

    // Receive sequence variables.
    pub(super) irs: SeqNumber,
    pub(super) rcv_nxt: SeqNumber,
    /// Right edge of the window we advertised (RCV.NXT + RCV.WND as last
    /// sent); it never moves left (RFC 9293 §3.8.6.2.2).
    pub(super) rcv_adv: SeqNumber,
    pub(super) rx: RecvBuffer,
    pub(super) fin_received: bool,
    /// The peer's FIN arrived beyond RCV.NXT: its sequence number.
    pub(super) ooo_fin: Option<SeqNumber>,

    // Timers and loss recovery.
    pub(super) rtx_at: Option<Instant>,
    pub(super) persist_at: Option<Instant>,
    pub(super) persist_backoff: u32,
    pub(super) delack_at: Option<Instant>,
    pub(super) timewait_at: Option<Instant>,
    pub(super) finwait2_at: Option<Instant>,
    /// RTO expirations since the last forward progress.
    pub(super) retries: u32,
    pub(super) syn_retransmitted: bool,
    pub(super) rtt: RttEstimator,
    /// The segment being timed: (its first sequence number, the sequence
    /// number that acknowledges it, time sent). Karn: dropped if that
    /// segment is retransmitted.
    pub(super) rtt_probe: Option<(SeqNumber, SeqNumber, Instant)>,
    /// End of the highest range ever retransmitted: an ACK that newly
    /// covers retransmitted data gives no RTT sample (Karn's algorithm,
    /// RFC 6298 §3, as Linux applies it without timestamps).
    pub(super) retx_high: SeqNumber,
    /// Timestamps option in use (offered in SYN-SENT, negotiated after).
    pub(super) ts_enabled: bool,
    /// Per-connection offset of our TSval clock (RFC 7323 §7.1 "a random
    /// offset ... per connection").
    pub(super) ts_offset: u32,
    /// TS.Recent: the TSval to echo (RFC 7323 §4.3).
    pub(super) ts_recent: u32,
    /// Last.ACK.sent (RFC 7323 §4.3).
    pub(super) last_ack_sent: SeqNumber,
    pub(super) cc: Congestion,
    /// SACK in use (RFC 2018 §2): offered when [`TcpConfig::sack`] is set,
    /// kept only if the peer's SYN or SYN-ACK permitted it.
    pub(super) sack_ok: bool,
    /// The sender's SACK scoreboard (RFC 6675 §3).
    pub(super) sack: Scoreboard,
    /// RFC 6675 HighRxt, kept as the end (exclusive) of the highest range
    /// retransmitted in the current loss recovery.
    pub(super) high_rxt: SeqNumber,
    /// The retransmission of the hole at SND.UNA during SACK recovery: its
    /// sequence number and SND.MAX just after it was sent. Data sent after
    /// it being SACKed while the hole stays shows the retransmission was
    /// lost too (as Linux `tcp_mark_lost_retrans` did before RACK).
    pub(super) una_rxt: Option<(SeqNumber, SeqNumber)>,
    /// The rescue retransmission of this recovery was sent (RFC 6675 §4
    /// NextSeg() rule 4, RescueRxt).
    pub(super) rescue_sent: bool,
    /// Recently queued out-of-order segments, to order the SACK blocks we
    /// send (RFC 2018 §4).
    pub(super) recent_sacks: RecentSacks,
    /// The tail loss probe timer (RFC 8985 §7.2, PTO).
    pub(super) tlp_at: Option<Instant>,
    /// RFC 8985 TLP.end_seq: SND.MAX when the outstanding probe was sent;
    /// no other probe until an ACK reaches it or the RTO fires.
    pub(super) tlp_high: Option<SeqNumber>,
    /// An ACK must go out now (not delayed).
    pub(super) ack_now: bool,
    /// Data segments received since our last ACK.
    pub(super) unacked_segs: u32,
    pub(crate) nodelay: bool,
    /// The trace span this connection's work belongs to: the application
    /// span that opened or last used it, or the span of the last traced
    /// frame it received. Timer-driven segments and events use it.
    pub(crate) trace: Option<TraceContext>,

    // Application side.
    /// The application closed its handle; the TCB lives on only to finish
    /// the protocol and is freed once CLOSED.
    pub(crate) released: bool,
    pub(crate) error: Option<TcpError>,
    pub(crate) soft_error: Option<IcmpError>,
    pub(super) recv_waker: Option<Waker>,
    pub(super) send_waker: Option<Waker>,
    /// The listener this connection belongs to until accepted.
    pub(crate) parent: Option<Handle>,

    // Statistics.
    pub(super) retransmissions: u64,
    pub(super) bytes_acked: u64,
    pub(super) bytes_received: u64,
}

impl Tcb {
    fn new(
        cfg: &TcpConfig,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        our_mss: u16,
        first: TcpState,
    ) -> Self {
        let iss = initial_sequence_number(&cfg.isn_secret, now, local, remote);
        let our_mss = our_mss.max(MIN_MSS as u16);
        let rcv_wscale = if cfg.window_scaling {
            window_shift(cfg.recv_buffer)
        } else {
            0
        };
        Tcb {
            local,
            remote,
            state: first,
            history: History::new(first),
            passive: false,
            timer_filed: None,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            probe_end: None,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNumber(0),
            snd_wl2: iss,
            snd_wscale: 0,
            rcv_wscale,
            offer_wscale: cfg.window_scaling,
            mss: usize::from(our_mss).min(DEFAULT_MSS),
            our_mss,
            tx: SendBuffer::new(cfg.send_buffer),
            fin_queued: false,
            fin_seq: None,
            irs: SeqNumber(0),
            rcv_nxt: SeqNumber(0),
            // The window of our SYN: the buffer, unscaled (RFC 7323 §2.2).
            rcv_adv: SeqNumber(cfg.recv_buffer.min(65_535) as u32),
            rx: RecvBuffer::new(cfg.recv_buffer),
            fin_received: false,
            ooo_fin: None,
            rtx_at: None,
            persist_at: None,
            persist_backoff: 0,
            delack_at: None,
            timewait_at: None,
            finwait2_at: None,
            retries: 0,
            syn_retransmitted: false,
            rtt: RttEstimator::new(
                cfg.initial_rto,
                cfg.min_rto,
                cfg.max_rto,
                cfg.clock_granularity,
            ),
            rtt_probe: None,
            retx_high: iss,
            ts_enabled: cfg.timestamps,
            ts_offset: super::isn::port_offset(
                &cfg.isn_secret,
                remote,
                u32::from(local.port()) | 0x7473_0000,
            ),
            ts_recent: 0,
            last_ack_sent: SeqNumber(0),
            cc: Congestion::new(DEFAULT_MSS, iss, cfg.send_buffer.saturating_mul(4)),
            sack_ok: cfg.sack,
            sack: Scoreboard::default(),
            high_rxt: iss,
            una_rxt: None,
            rescue_sent: false,
            recent_sacks: RecentSacks::default(),
            tlp_at: None,
            tlp_high: None,
            ack_now: false,
            unacked_segs: 0,
            nodelay: false,
            trace: None,
            released: false,
            error: None,
            soft_error: None,
            recv_waker: None,
            send_waker: None,
            parent: None,
            retransmissions: 0,
            bytes_acked: 0,
            bytes_received: 0,
        }
    }

    /// Active OPEN (RFC 9293 §3.10.1, CLOSED state): "A SYN segment of the
    /// form <SEQ=ISS><CTL=SYN> is sent ... enter SYN-SENT state".
    pub(crate) fn connect(
        ctx: &mut Ctx<'_>,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        our_mss: u16,
    ) -> Self {
        let mut t = Tcb::new(ctx.cfg, ctx.now, local, remote, our_mss, TcpState::Closed);
        t.trace = ctx.trace;
        t.set_state(ctx, TcpState::SynSent);
        t.send_syn(ctx, false);
        t
    }

    /// A passive connection of listener `parent`, still in LISTEN: what
    /// [`Tcb::accept_syn`] and [`Tcb::from_cookie`] start from.
    fn passive(
        ctx: &Ctx<'_>,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        our_mss: u16,
        parent: Handle,
    ) -> Self {
        let mut t = Tcb::new(ctx.cfg, ctx.now, local, remote, our_mss, TcpState::Listen);
        t.trace = ctx.trace;
        t.passive = true;
        t.parent = Some(parent);
        t
    }

    /// A SYN reached a listener (RFC 9293 §3.10.7.2, LISTEN state, "third
    /// check for a SYN"): "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ
    /// ... ISS should be selected and a SYN segment sent of the form
    /// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> ... state should be changed to
    /// SYN-RECEIVED".
    pub(crate) fn accept_syn(
        ctx: &mut Ctx<'_>,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        our_mss: u16,
        syn: &TcpRepr,
        parent: Handle,
    ) -> Self {
        let mut t = Tcb::passive(ctx, local, remote, our_mss, parent);
        t.irs = SeqNumber(syn.seq);
        t.rcv_nxt = t.irs + 1;
        t.rcv_adv = t.rcv_nxt + t.rx.capacity().min(65_535);
        t.apply_syn_options(syn);
        // RFC 7323 §3.2: TSopt in <SYN,ACK> only if the SYN had it.
        t.ts_enabled = t.ts_enabled && syn.timestamps.is_some();
        // RFC 7323 §1.3: a WS option in <SYN,ACK> only if the SYN had one.
        t.offer_wscale = t.offer_wscale && syn.window_scale.is_some();
        if !t.offer_wscale {
            t.rcv_wscale = 0;
        }
        t.snd_wnd = usize::from(syn.window);
        t.max_snd_wnd = t.snd_wnd;
        t.snd_wl1 = t.irs;
        t.set_state(ctx, TcpState::SynReceived);
        t.send_syn(ctx, false);
        t
    }

    /// A passive connection rebuilt from a valid SYN cookie (RFC 4987
    /// §3.6) when the handshake's final ACK `ack_seg` arrives: in
    /// SYN-RECEIVED as if `<SEQ=cookie><ACK=SEG.SEQ><CTL=SYN,ACK>` had been
    /// sent by this TCB, so that processing `ack_seg` completes the
    /// handshake. The peer's SYN is known only through the cookie: the
    /// sender MSS is the one it encodes (capped by ours); window scaling
    /// and timestamps are off, as the cookie SYN-ACK offered neither
    /// (windows are raw 16-bit values both ways).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_cookie(
        ctx: &mut Ctx<'_>,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        our_mss: u16,
        ack_seg: &TcpRepr,
        cookie: u32,
        cookie_mss: u16,
        parent: Handle,
    ) -> Self {
        let mut t = Tcb::passive(ctx, local, remote, our_mss, parent);
        let iss = SeqNumber(cookie);
        t.iss = iss;
        t.snd_una = iss;
        t.snd_nxt = iss + 1;
        t.snd_max = iss + 1;
        t.snd_wl2 = iss;
        t.retx_high = iss;
        t.cc = Congestion::new(DEFAULT_MSS, iss, ctx.cfg.send_buffer.saturating_mul(4));
        t.irs = SeqNumber(ack_seg.seq.wrapping_sub(1));
        t.rcv_nxt = t.irs + 1;
        // The window the cookie SYN-ACK offered (unscaled).
        t.rcv_adv = t.rcv_nxt + t.rx.capacity().min(65_535);
        t.last_ack_sent = t.rcv_nxt;
        t.ts_enabled = false;
        t.sack_ok = false;
        t.offer_wscale = false;
        t.snd_wscale = 0;
        t.rcv_wscale = 0;
        t.mss = usize::from(cookie_mss)
            .min(usize::from(t.our_mss))
            .max(MIN_MSS);
        t.snd_wnd = usize::from(ack_seg.window);
        t.max_snd_wnd = t.snd_wnd;
        t.snd_wl1 = t.irs;
        t.set_state(ctx, TcpState::SynReceived);
        t
    }

    /// Applies the options of the peer's SYN: MSS (RFC 9293 §3.7.1),
    /// Window Scale (RFC 7323 §2.2: scaling is used only if both sides sent
    /// the option; a shift above 14 is taken as 14, §2.3) and
    /// SACK-Permitted (RFC 2018 §2: SACK is used only if both sides sent
    /// it; a SYN-ACK carries it only if the SYN did).
    pub(super) fn apply_syn_options(&mut self, syn: &TcpRepr) {
        self.sack_ok = self.sack_ok && syn.sack_permitted;
        match syn.timestamps {
            Some(ts) if self.ts_enabled => self.ts_recent = ts.tsval,
            _ => self.ts_enabled = false,
        }
        let peer_mss = syn.mss.map_or(DEFAULT_MSS, usize::from);
        self.mss = peer_mss.min(usize::from(self.our_mss)).max(MIN_MSS);
        match syn.window_scale {
            Some(ws) if self.offer_wscale => self.snd_wscale = ws.min(MAX_WSCALE),
            _ => {
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
    }

    /// Data bytes per full-sized segment: the MSS less the options every
    /// segment carries (RFC 6691 §2: the MSS excludes TCP options; 12 bytes
    /// for NOP, NOP, Timestamps).
    pub(super) fn max_data(&self) -> usize {
        if self.ts_enabled {
            self.mss.saturating_sub(12).max(1)
        } else {
            self.mss
        }
    }

    /// Our timestamp clock: milliseconds of `now` plus the per-connection
    /// offset (RFC 7323 §5.4: a tick between 1 ms and 1 s).
    pub(super) fn ts_val(&self, now: Instant) -> u32 {
        (now.total_millis() as u32).wrapping_add(self.ts_offset)
    }

    /// RFC 7323 §4.1 RTTM: an ACK of new data echoing one of our TSvals
    /// gives an unambiguous RTT sample, retransmissions included.
    pub(super) fn ts_sample(&mut self, now: Instant, tsecr: u32) -> bool {
        let sent = tsecr.wrapping_sub(self.ts_offset);
        let rtt = (now.total_millis() as u32).wrapping_sub(sent);
        if rtt > 3_600_000 {
            return false;
        }
        self.rtt
            .sample(core::time::Duration::from_millis(u64::from(rtt)));
        true
    }

    /// THE state-transition function: every change of state goes through
    /// here, is logged once, recorded in the history and wakes both wakers.
    /// Entering TIME-WAIT starts the 2·MSL timer (RFC 9293 §3.10.7.4);
    /// entering CLOSED stops every timer ("delete the TCB").
    pub(crate) fn set_state(&mut self, ctx: &mut Ctx<'_>, new: TcpState) {
        let old = self.state;
        if old == new {
            return;
        }
        tracing::debug!(
            ?old,
            ?new,
            local = %self.local,
            remote = %self.remote,
            error = ?self.error,
            "TCP state"
        );
        self.note(
            ctx,
            "tcp.state",
            None,
            || format!("{} ↔ {}: {old:?} → {new:?}", self.local, self.remote),
            || {
                vec![
                    ("tcp.old_state", format!("{old:?}").into()),
                    ("tcp.new_state", format!("{new:?}").into()),
                ]
            },
        );
        self.state = new;
        self.history.push(new);
        match new {
            TcpState::Established => ctx.counters.tcp_conn_established += 1,
            TcpState::TimeWait => {
                self.timewait_at = Some(ctx.now + ctx.cfg.msl * 2);
                self.rtx_at = None;
                self.persist_at = None;
                self.finwait2_at = None;
                self.tlp_at = None;
            }
            TcpState::FinWait2 if self.released => {
                self.finwait2_at = Some(ctx.now + ctx.cfg.fin_wait2_timeout);
            }
            TcpState::Closed => {
                self.rtx_at = None;
                self.tlp_at = None;
                self.persist_at = None;
                self.delack_at = None;
                self.timewait_at = None;
                self.finwait2_at = None;
                if old != TcpState::Listen || self.error.is_some() {
                    if self.error.is_some() {
                        ctx.counters.tcp_conn_aborted += 1;
                    } else {
                        ctx.counters.tcp_conn_closed += 1;
                    }
                }
            }
            _ => {}
        }
        self.wake_recv();
        self.wake_send();
    }

    /// Ends the connection with `error` (reset, timeout, abort): queues are
    /// flushed (RFC 9293 §3.10.7.4 "All segment queues should be flushed").
    pub(super) fn fail(&mut self, ctx: &mut Ctx<'_>, error: TcpError) {
        self.error = Some(error);
        self.tx.consume(usize::MAX);
        self.rx.clear();
        self.set_state(ctx, TcpState::Closed);
    }

    /// The receive window we offer now: RCV.NXT to the advertised right edge.
    pub(super) fn rcv_wnd(&self) -> usize {
        self.rcv_adv.since(self.rcv_nxt)
    }

    /// Moves the advertised right edge with receiver-side silly window
    /// syndrome avoidance (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3): the edge
    /// moves only once the increase reaches min(RCV.BUFF / 2, MSS), and it
    /// never moves left. Returns true if it moved.
    pub(super) fn update_rcv_window(&mut self) -> bool {
        let unit = 1usize << self.rcv_wscale;
        let max = 65_535usize << self.rcv_wscale;
        let offer = self.rx.free().min(max) / unit * unit;
        let right = self.rcv_nxt + offer;
        let grow = right.since(self.rcv_adv);
        let threshold = (self.rx.capacity() / 2)
            .min(usize::from(self.our_mss))
            .max(1);
        if grow >= threshold {
            self.rcv_adv = right;
            return true;
        }
        false
    }

    /// The window field for a segment: unscaled on a SYN (RFC 7323 §2.2:
    /// "The window field in a segment where the SYN bit is set ... MUST NOT
    /// be scaled"), else shifted right by our scale.
    fn window_field(&self, syn: bool) -> u16 {
        let w = self.rcv_wnd();
        let w = if syn { w } else { w >> self.rcv_wscale };
        w.min(65_535) as u16
    }

    /// A sequence number the peer accepts on a segment without data: SND.NXT
    /// as long as it is inside the peer's window, else the window's right
    /// edge (like Linux `tcp_acceptable_seq`).
    pub(super) fn ack_seq(&self) -> SeqNumber {
        let wnd_end = self.snd_una + self.snd_wnd;
        if self.snd_max <= wnd_end {
            self.snd_max
        } else {
            wnd_end
        }
    }

    /// Emits one segment from this connection. Every segment but the
    /// initial SYN and bare resets carries ACK = RCV.NXT and the current
    /// window, so it also acknowledges (piggybacking, RFC 9293 §3.8.6.3).
    pub(super) fn emit(
        &mut self,
        ctx: &mut Ctx<'_>,
        seq: SeqNumber,
        flags: TcpFlags,
        payload: Vec<u8>,
    ) {
        let syn = flags.contains(TcpFlags::SYN);
        let with_ack = self.state != TcpState::SynSent && self.state != TcpState::Closed
            || flags.contains(TcpFlags::ACK);
        if with_ack && !syn {
            self.update_rcv_window();
        }
        let timestamps = self.ts_enabled.then(|| TcpTimestamps {
            tsval: self.ts_val(ctx.now),
            tsecr: if with_ack { self.ts_recent } else { 0 },
        });
        let mut repr = TcpRepr {
            timestamps,
            ack: with_ack.then_some(self.rcv_nxt.0),
            window: self.window_field(syn),
            mss: syn.then_some(self.our_mss),
            window_scale: (syn && self.offer_wscale).then_some(self.rcv_wscale),
            sack_permitted: syn && self.sack_ok,
            payload_len: payload.len(),
            ..TcpRepr::new(self.local.port(), self.remote.port(), seq.0, flags)
        };
        if with_ack && !syn {
            repr.sack_blocks = self.sack_blocks(&repr);
        }
        ctx.out.push(Segment {
            local: self.local,
            remote: self.remote,
            repr,
            payload,
            trace: self.trace,
        });
        if with_ack {
            self.last_ack_sent = self.rcv_nxt;
            self.ack_now = false;
            self.unacked_segs = 0;
            self.delack_at = None;
        }
    }

    /// Sends a reset `<SEQ=seq><CTL=RST>` (with ACK if `ack` is given)
    /// without touching the connection's variables.
    pub(super) fn emit_rst(&self, ctx: &mut Ctx<'_>, seq: SeqNumber, ack: Option<SeqNumber>) {
        let mut repr = TcpRepr::new(self.local.port(), self.remote.port(), seq.0, TcpFlags::RST);
        repr.ack = ack.map(|a| a.0);
        ctx.out.push(Segment {
            local: self.local,
            remote: self.remote,
            repr,
            payload: Vec::new(),
            trace: self.trace,
        });
    }

    /// Records a trace event of this connection, when it is traced (its
    /// own span, else the span of the work at hand).
    pub(super) fn note(
        &self,
        ctx: &mut Ctx<'_>,
        name: &'static str,
        dir: Option<Direction>,
        summary: impl FnOnce() -> String,
        attrs: impl FnOnce() -> Vec<(&'static str, TraceValue)>,
    ) {
        let Some(trace) = self.trace.or(ctx.trace) else {
            return;
        };
        ctx.events.push(TraceEvent {
            ctx: trace,
            at_micros: ctx.now.total_micros(),
            name,
            layer: "L4",
            proto: "tcp",
            dir,
            summary: summary(),
            attrs: attrs(),
        });
    }

    /// Whether `tcp_recv` would return something (data, EOF or an error).
    pub(crate) fn recv_ready(&self) -> bool {
        self.rx.len() > 0
            || self.fin_received
            || self.error.is_some()
            || self.state == TcpState::Closed
    }

    /// Whether `tcp_send` would return something now: space in the buffer
    /// of a connection that can send, or an error (closed, shut down).
    /// During the handshake the writer waits for ESTABLISHED.
    pub(crate) fn send_ready(&self) -> bool {
        match self.state {
            TcpState::SynSent | TcpState::SynReceived => self.error.is_some(),
            TcpState::Established | TcpState::CloseWait if !self.fin_queued => self.tx.free() > 0,
            _ => true,
        }
    }

    /// Registers the waker woken when data, EOF, an error or a state change
    /// arrives; woken at once if `tcp_recv` would not block.
    pub(crate) fn register_recv_waker(&mut self, w: &Waker) {
        if self.recv_ready() {
            w.wake_by_ref();
        } else {
            self.recv_waker = Some(w.clone());
        }
    }

    /// Registers the waker woken when send-buffer space frees or the state
    /// changes; woken at once if [`Tcb::send_ready`].
    pub(crate) fn register_send_waker(&mut self, w: &Waker) {
        if self.send_ready() {
            w.wake_by_ref();
        } else {
            self.send_waker = Some(w.clone());
        }
    }

    pub(super) fn wake_recv(&mut self) {
        if let Some(w) = self.recv_waker.take() {
            w.wake();
        }
    }

    pub(super) fn wake_send(&mut self) {
        if let Some(w) = self.send_waker.take() {
            w.wake();
        }
    }

    /// The states this connection went through, oldest first.
    pub(crate) fn history(&self) -> Vec<TcpState> {
        self.history.to_vec()
    }

    /// In-order bytes waiting to be read.
    pub(crate) fn readable_len(&self) -> usize {
        self.rx.len()
    }

    /// When the next timer fires.
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        [
            self.rtx_at,
            self.tlp_at,
            self.persist_at,
            self.delack_at,
            self.timewait_at,
            self.finwait2_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A snapshot for `tcp_info` / `ss`.
    pub(crate) fn info(&self, handle: TcpHandle) -> TcpInfo {
        TcpInfo {
            handle,
            state: self.state,
            local: self.local,
            remote: self.remote,
            send_queue: self.tx.len(),
            recv_queue: self.rx.len(),
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            rto: self.rtt.rto(),
            mss: self.mss,
            snd_wnd: self.snd_wnd,
            rcv_wnd: self.rcv_wnd(),
            retransmissions: self.retransmissions,
            bytes_acked: self.bytes_acked,
            bytes_received: self.bytes_received,
            error: self.error,
            soft_error: self.soft_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_shift_fits_16_bits() {
        assert_eq!(window_shift(65_535), 0);
        assert_eq!(window_shift(65_536), 1);
        assert_eq!(window_shift(256 * 1024), 3);
        assert_eq!(window_shift(usize::MAX), 14);
    }
}
