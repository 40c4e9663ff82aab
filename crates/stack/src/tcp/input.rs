//! "SEGMENT ARRIVES" for an existing connection (RFC 9293 §3.10.7.3 for
//! SYN-SENT, §3.10.7.4 for the other states), with the RFC 5961 defences
//! against blind resets, SYNs and ACKs.

use super::TcpError;
use super::congestion::{AckKind, DupAckAction};
use super::seq::SeqNumber;
use super::state::TcpState;
use super::tcb::{Ctx, Tcb};
use vnet_wire::tcp::{TcpFlags, TcpRepr};

impl Tcb {
    /// Processes one segment (checksum already verified) addressed to this
    /// connection, then sends whatever became possible or necessary.
    pub(crate) fn on_segment(&mut self, ctx: &mut Ctx<'_>, seg: &TcpRepr, payload: &[u8]) {
        match self.state {
            TcpState::Closed | TcpState::Listen => return,
            TcpState::SynSent => self.on_segment_syn_sent(ctx, seg),
            _ => self.on_segment_synchronized(ctx, seg, payload),
        }
        self.output(ctx);
    }

    /// RFC 9293 §3.10.7.3, SYN-SENT. Data carried by a SYN-ACK is not
    /// accepted (it is not acknowledged, so the peer sends it again).
    fn on_segment_syn_sent(&mut self, ctx: &mut Ctx<'_>, seg: &TcpRepr) {
        let rst = seg.flags.contains(TcpFlags::RST);
        let ack = seg.ack.map(SeqNumber);
        // "first check the ACK bit": "If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
        // send a reset (unless the RST bit is set, if so drop the segment
        // and return) <SEQ=SEG.ACK><CTL=RST>".
        if let Some(a) = ack
            && (a <= self.iss || a > self.snd_max)
        {
            if !rst {
                self.emit_rst(ctx, a, None);
            }
            return;
        }
        // "second check the RST bit": with an acceptable ACK, "signal to the
        // user "error: connection reset", drop the segment, enter CLOSED";
        // without ACK, drop it (RFC 5961 §3.2 applies the same rule).
        if rst {
            if ack.is_some() {
                ctx.counters.tcp_rst_rx += 1;
                self.fail(ctx, TcpError::Refused);
            }
            return;
        }
        // "fourth check the SYN bit".
        if !seg.flags.contains(TcpFlags::SYN) {
            return;
        }
        self.irs = SeqNumber(seg.seq);
        self.rcv_nxt = self.irs + 1;
        // The window our SYN offered (unscaled, RFC 7323 §2.2).
        self.rcv_adv = self.rcv_nxt + self.rx.capacity().min(65_535);
        self.apply_syn_options(seg);
        self.snd_wnd = usize::from(seg.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = self.irs;
        match ack {
            Some(a) => {
                // "If SND.UNA > ISS (our SYN has been ACKed), change the
                // connection state to ESTABLISHED, form an ACK segment
                // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it."
                self.snd_wl2 = a;
                self.syn_acked(ctx, a, seg.timestamps.map(|t| t.tsecr));
                self.set_state(ctx, TcpState::Established);
                self.ack_now = true;
            }
            None => {
                // Simultaneous open: "enter SYN-RECEIVED, form a SYN,ACK
                // segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it".
                self.set_state(ctx, TcpState::SynReceived);
                self.send_syn(ctx, false);
            }
        }
    }

    /// Our SYN is acknowledged by `ack`: SND.UNA advances, the handshake RTT
    /// is sampled (unless the SYN was retransmitted, Karn), the timer stops
    /// and congestion control starts with the initial window.
    fn syn_acked(&mut self, ctx: &mut Ctx<'_>, ack: SeqNumber, tsecr: Option<u32>) {
        self.snd_una = ack;
        self.snd_nxt = self.snd_nxt.max(ack);
        let echoed = tsecr.filter(|&e| self.ts_enabled && e != 0);
        if let Some(e) = echoed {
            self.ts_sample(ctx.now, e);
        } else if let Some((_, end, sent)) = self.rtt_probe
            && ack >= end
            && !self.syn_retransmitted
        {
            self.rtt.sample(ctx.now - sent);
        }
        self.rtt_probe = None;
        self.rtx_at = None;
        self.retries = 0;
        self.cc.start(self.max_data(), self.syn_retransmitted);
    }

    /// RFC 9293 §3.10.7.4: SYN-RECEIVED and the synchronized states.
    fn on_segment_synchronized(&mut self, ctx: &mut Ctx<'_>, seg: &TcpRepr, payload: &[u8]) {
        let mut seq = SeqNumber(seg.seq);
        let mut syn = seg.flags.contains(TcpFlags::SYN);
        let mut fin = seg.flags.contains(TcpFlags::FIN);
        let rst = seg.flags.contains(TcpFlags::RST);
        let mut payload = payload;

        if self.state == TcpState::SynReceived && syn && seq == self.irs && !rst {
            if seg.ack.is_none() {
                // The peer retransmitted its SYN: our SYN-ACK was lost.
                self.send_syn(ctx, true);
                return;
            }
            if seg.ack == Some(self.snd_max.0) {
                // Simultaneous open: the peer's SYN-ACK acknowledges our SYN
                // and repeats its own; take it as the ACK (as Linux does).
                syn = false;
                seq += 1;
            }
        }

        let wnd = self.rcv_wnd();
        // RFC 5961 §3.2 (refining "second, check the RST bit"): reset only
        // on an exact RCV.NXT match; in-window otherwise → challenge ACK.
        if rst {
            if seq == self.rcv_nxt {
                ctx.counters.tcp_rst_rx += 1;
                self.on_reset(ctx);
            } else if seq.in_window(self.rcv_nxt, wnd.max(1)) {
                self.ack_now = true;
            }
            return;
        }

        // "first check sequence number": the four acceptability cases.
        let seg_len = payload.len() + usize::from(syn) + usize::from(fin);
        let acceptable = match (seg_len, wnd) {
            (0, 0) => seq == self.rcv_nxt,
            (0, _) => seq.in_window(self.rcv_nxt, wnd),
            (_, 0) => false,
            (n, _) => {
                seq.in_window(self.rcv_nxt, wnd) || (seq + (n - 1)).in_window(self.rcv_nxt, wnd)
            }
        };
        // "If the RCV.WND is zero, no segments will be acceptable, but
        // special allowance should be made to accept valid ACKs, URGs, and
        // RSTs": a zero-window probe at RCV.NXT has its ACK processed.
        let probe = !acceptable && wnd == 0 && seq == self.rcv_nxt;
        if !acceptable && !probe {
            // "send an acknowledgment ... <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
            // After sending the acknowledgment, drop the unacceptable segment".
            self.ack_now = true;
            if self.state == TcpState::TimeWait && fin {
                // A retransmitted FIN: "restart the 2 MSL timeout".
                self.timewait_at = Some(ctx.now + ctx.cfg.msl * 2);
            }
            return;
        }
        if probe {
            payload = &[];
            fin = false;
            syn = false;
            self.ack_now = true;
        } else {
            // Trim to the window: "only the new parts are processed" and
            // data beyond the window is dropped (with the FIN after it).
            if seq < self.rcv_nxt {
                let mut skip = self.rcv_nxt.since(seq);
                if syn {
                    syn = false;
                    skip -= 1;
                    seq += 1;
                }
                let k = skip.min(payload.len());
                payload = &payload[k..];
                seq += k;
                if skip > k {
                    fin = false;
                }
            }
            let room = wnd.saturating_sub(seq.since(self.rcv_nxt));
            if payload.len() > room {
                payload = &payload[..room];
                fin = false;
            }
        }

        // RFC 7323 §4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ <=
        // Last.ACK.sent then SEG.TSval is copied to TS.Recent".
        if self.ts_enabled
            && let Some(ts) = seg.timestamps
            && SeqNumber(seg.seq) <= self.last_ack_sent
            && ts.tsval.wrapping_sub(self.ts_recent) as i32 >= 0
        {
            self.ts_recent = ts.tsval;
        }

        // "fourth, check the SYN bit": RFC 5961 §4.2, any SYN in a
        // synchronized state gets a challenge ACK and is dropped.
        if syn {
            self.ack_now = true;
            return;
        }

        // "fifth check the ACK field": "if the ACK bit is off drop the
        // segment and return".
        let Some(ack) = seg.ack.map(SeqNumber) else {
            return;
        };
        if self.state == TcpState::SynReceived {
            // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state
            // ... If the segment acknowledgment is not acceptable, form a
            // reset segment <SEQ=SEG.ACK><CTL=RST> and send it."
            if self.snd_una < ack && ack <= self.snd_max {
                self.syn_acked(ctx, self.iss + 1, seg.timestamps.map(|t| t.tsecr));
                self.snd_wnd = usize::from(seg.window) << self.snd_wscale;
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = seq;
                self.snd_wl2 = ack;
                self.set_state(ctx, TcpState::Established);
            } else {
                self.emit_rst(ctx, ack, None);
                return;
            }
        }
        if !self.process_ack(ctx, seq, ack, seg) {
            return;
        }
        let fin_acked = self.fin_seq.is_some_and(|f| self.snd_una > f);
        match self.state {
            // "In addition to the processing for the ESTABLISHED state, if
            // the FIN segment is now acknowledged, then enter FIN-WAIT-2".
            TcpState::FinWait1 if fin_acked => self.set_state(ctx, TcpState::FinWait2),
            // "if the ACK acknowledges our FIN, then enter the TIME-WAIT state".
            TcpState::Closing if fin_acked => self.set_state(ctx, TcpState::TimeWait),
            // "If our FIN is now acknowledged, delete the TCB, enter the
            // CLOSED state, and return."
            TcpState::LastAck if fin_acked => {
                self.set_state(ctx, TcpState::Closed);
                return;
            }
            _ => {}
        }

        // "seventh, process the segment text" (URG is not implemented: the
        // urgent pointer is ignored and the data delivered in line).
        if !payload.is_empty()
            && matches!(
                self.state,
                TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
            )
        {
            if self.released {
                // RFC 1122 §4.2.2.13 / RFC 2525 §2.17: data after CLOSE is
                // lost; tell the peer with a RST.
                let rst_seq = self.ack_seq();
                self.emit_rst(ctx, rst_seq, Some(self.rcv_nxt));
                self.fail(ctx, TcpError::Aborted);
                return;
            }
            self.receive_data(ctx, seq, payload);
        }

        // "eighth, check the FIN bit" (only in order; an early FIN is
        // remembered until the data before it arrives).
        if fin && !matches!(self.state, TcpState::Closed) {
            let at = seq + payload.len();
            if at == self.rcv_nxt {
                self.on_fin(ctx);
            } else if at > self.rcv_nxt {
                self.ooo_fin = Some(at);
                self.ack_now = true;
            }
        }
    }

    /// The ACK field of an acceptable segment in a synchronized state.
    /// Returns false if the segment must be dropped.
    fn process_ack(
        &mut self,
        ctx: &mut Ctx<'_>,
        seq: SeqNumber,
        ack: SeqNumber,
        seg: &TcpRepr,
    ) -> bool {
        let pure = seg.payload_len == 0 && !seg.flags.contains(TcpFlags::FIN);
        let tsecr = seg.timestamps.map(|t| t.tsecr);
        // "If the ACK acks something not yet sent (SEG.ACK > SND.NXT) then
        // send an ACK, drop the segment, and return." A zero-window probe
        // byte may be acknowledged.
        let limit = self.probe_end.map_or(self.snd_max, |p| p.max(self.snd_max));
        if ack > limit {
            self.ack_now = true;
            return false;
        }
        // RFC 5961 §5.2: acceptable only if SND.UNA − MAX.SND.WND ≤ SEG.ACK.
        if ack < self.snd_una - self.max_snd_wnd.max(1) {
            self.ack_now = true;
            return false;
        }
        if ack > self.snd_max {
            self.snd_max = ack;
        }
        let window = usize::from(seg.window) << self.snd_wscale;
        let flight = self.snd_max.since(self.snd_una);
        let sack_news = self.sack_ok && self.sack_update(ack, seg);
        let new_ack = ack > self.snd_una;
        if new_ack {
            self.on_new_ack(ctx, ack, tsecr);
        }
        if self.sack_ok {
            // RFC 6675 §2: with SACK a "duplicate acknowledgment" is one
            // that SACKs new data, "even if it carries new data, changes
            // the advertised window, or moves the cumulative acknowledgment
            // point"; §5: counted (after a cumulative ACK reset the count),
            // recovery is decided below.
            if sack_news && self.snd_max > self.snd_una {
                self.cc.count_dupack();
            }
        } else if !new_ack && ack == self.snd_una && flight > 0 && pure && window == self.snd_wnd {
            // RFC 5681 §2 "DUPLICATE ACKNOWLEDGMENT": outstanding data, no
            // data, no SYN/FIN, same ACK, same window.
            if self.cc.on_dupack(self.snd_una, flight, self.snd_max) == DupAckAction::FastRetransmit
            {
                ctx.counters.tcp_fast_retransmits += 1;
                let una = self.snd_una;
                self.note(
                    ctx,
                    "tcp.retransmit",
                    None,
                    || {
                        format!(
                            "3 duplicate ACKs: fast retransmit of seq {} (RFC 5681 §3.2)",
                            una.0
                        )
                    },
                    || vec![("tcp.seq", una.0.into()), ("tcp.fast", "true".into())],
                );
                self.retransmit_first(ctx);
            }
        }
        if self.sack_ok {
            if self.cc.in_sack_recovery() {
                self.sack_lost_retransmission(ctx);
            } else {
                self.sack_maybe_enter_recovery(ctx);
            }
        }
        // Window update: "If SND.UNA =< SEG.ACK =< SND.NXT ... If (SND.WL1 <
        // SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND
        // <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK."
        if ack >= self.snd_una
            && (self.snd_wl1 < seq || (self.snd_wl1 == seq && self.snd_wl2 <= ack))
        {
            self.snd_wnd = window;
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
            self.max_snd_wnd = self.max_snd_wnd.max(window);
            if window > 0 {
                self.persist_at = None;
                self.persist_backoff = 0;
            }
        }
        true
    }

    /// SND.UNA advances to `ack` (RFC 9293 §3.10.7.4 ESTABLISHED: "the
    /// retransmission queue is updated"): frees send-buffer space, samples
    /// the RTT (Karn), updates cwnd (RFC 5681, RFC 6582) and the timer
    /// (RFC 6298 §5.2, §5.3).
    fn on_new_ack(&mut self, ctx: &mut Ctx<'_>, ack: SeqNumber, tsecr: Option<u32>) {
        let acked = ack.since(self.snd_una);
        // Karn: only an ACK that covers no retransmitted data is a sample.
        let clean = self.snd_una >= self.retx_high;
        let data = acked.min(self.tx.len());
        self.tx.consume(data);
        self.bytes_acked += data as u64;
        self.snd_una = ack;
        self.snd_nxt = self.snd_nxt.max(ack);
        if self.probe_end.is_some_and(|p| ack >= p) {
            self.probe_end = None;
        }
        let echoed = tsecr.filter(|&e| self.ts_enabled && e != 0);
        if !clean {
            // Retransmitted data arrived: the backoff has done its job.
            self.rtt.clear_backoff();
        }
        if let Some(e) = echoed {
            // Every clean ACK is a sample. An ACK covering retransmitted
            // data may echo the timestamp of the original transmission
            // (RFC 7323 §4.2 accepts the inflated sample; under heavy loss
            // it feeds on itself, so vnet keeps Karn's rule here too).
            if clean {
                self.ts_sample(ctx.now, e);
            }
            self.rtt_probe = None;
        } else if let Some((_, end, sent)) = self.rtt_probe
            && ack >= end
        {
            if clean {
                self.rtt.sample(ctx.now - sent);
            }
            self.rtt_probe = None;
        }
        self.retries = 0;
        let flight_after = self.snd_max.since(ack);
        let kind = self.cc.on_new_ack(ack, acked, flight_after);
        let sack_recovery = self.cc.in_sack_recovery();
        if let AckKind::Partial { .. } = kind
            && !sack_recovery
        {
            // RFC 6582 §3.2 step 5: "retransmit the first unacknowledged segment".
            self.retransmit_first(ctx);
        }
        // RFC 6298 §5.2: all data acknowledged → stop the timer; §5.3:
        // otherwise restart it (RFC 6582: only on the first partial ACK;
        // in SACK recovery on every one).
        if self.snd_una == self.snd_max {
            self.rtx_at = None;
        } else if sack_recovery || !matches!(kind, AckKind::Partial { first: false }) {
            self.rtx_at = Some(ctx.now + self.rtt.rto());
        }
        // RFC 8985 §7.2: an ACK of new data restarts the probe timer.
        if self.tlp_high.is_some_and(|h| ack >= h) {
            self.tlp_high = None;
        }
        self.schedule_tlp(ctx);
        if data > 0 {
            self.wake_send();
        }
    }

    /// In-window data at `seq ≥ RCV.NXT`: queued in order or out of order,
    /// and acknowledged per RFC 1122 §4.2.3.2 / RFC 5681 §4.2 (at once for
    /// out-of-order data, for data filling a hole, and for every second
    /// segment; otherwise within the delayed-ACK time).
    fn receive_data(&mut self, ctx: &mut Ctx<'_>, seq: SeqNumber, payload: &[u8]) {
        let acc = self.rx.accept(self.rcv_nxt, seq, payload);
        if acc.queued {
            ctx.counters.tcp_ooo_queued += 1;
            self.note_ooo_arrival(seq);
        }
        if acc.dropped {
            ctx.counters.tcp_ooo_dropped += 1;
        }
        if !self.rx.has_ooo() {
            self.recent_sacks.clear();
        }
        if acc.advanced == 0 {
            // Out of order (or dropped): a duplicate ACK right away.
            self.ack_now = true;
            return;
        }
        self.rcv_nxt += acc.advanced;
        self.bytes_received += acc.advanced as u64;
        self.unacked_segs += 1;
        if acc.had_ooo || self.unacked_segs >= 2 {
            self.ack_now = true;
        } else if self.delack_at.is_none() {
            self.delack_at = Some(ctx.now + ctx.cfg.delayed_ack);
        }
        self.wake_recv();
        if self.ooo_fin == Some(self.rcv_nxt) {
            self.ooo_fin = None;
            self.on_fin(ctx);
        }
    }

    /// The peer's FIN, in order (RFC 9293 §3.10.7.4 "eighth"): "advance
    /// RCV.NXT over the FIN, and send an acknowledgment for the FIN".
    fn on_fin(&mut self, ctx: &mut Ctx<'_>) {
        self.rcv_nxt += 1;
        self.fin_received = true;
        self.ack_now = true;
        self.wake_recv();
        let fin_acked = self.fin_seq.is_some_and(|f| self.snd_una > f);
        match self.state {
            TcpState::SynReceived | TcpState::Established => {
                self.set_state(ctx, TcpState::CloseWait)
            }
            TcpState::FinWait1 if fin_acked => self.set_state(ctx, TcpState::TimeWait),
            TcpState::FinWait1 => self.set_state(ctx, TcpState::Closing),
            TcpState::FinWait2 => self.set_state(ctx, TcpState::TimeWait),
            TcpState::TimeWait => self.timewait_at = Some(ctx.now + ctx.cfg.msl * 2),
            _ => {}
        }
    }

    /// An acceptable RST (RFC 9293 §3.10.7.4 "second"): SYN-RECEIVED from a
    /// passive open returns to LISTEN (the embryonic connection is dropped),
    /// from an active open it is "connection refused"; the established
    /// states report "connection reset"; CLOSING, LAST-ACK and TIME-WAIT
    /// just close.
    fn on_reset(&mut self, ctx: &mut Ctx<'_>) {
        match self.state {
            TcpState::SynReceived if self.passive => self.set_state(ctx, TcpState::Closed),
            TcpState::SynReceived => self.fail(ctx, TcpError::Refused),
            TcpState::Established
            | TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::CloseWait => self.fail(ctx, TcpError::Reset),
            _ => self.set_state(ctx, TcpState::Closed),
        }
    }
}

impl Tcb {
    /// An ICMP error quoting one of our segments (RFC 1122 §4.2.3.9).
    /// "Fragmentation needed" lowers the MSS and resends at once (RFC 1191
    /// §6.4, Path MTU Discovery; not a congestion signal). Protocol and
    /// port unreachable abort a connection attempt ("hard errors ... SHOULD
    /// abort the connection"); every other error is soft: remembered for
    /// `tcp_info`, the retransmission timer decides.
    pub(crate) fn on_icmp_error(&mut self, ctx: &mut Ctx<'_>, error: crate::icmp::IcmpError) {
        use crate::icmp::IcmpError;
        match error {
            IcmpError::FragmentationNeeded { mtu } => {
                // RFC 1191 §5: a router predating it reports 0; assume 576.
                let mtu = if mtu == 0 { 576 } else { usize::from(mtu) };
                let mss = mtu.saturating_sub(40).max(super::tcb::MIN_MSS);
                if mss < self.mss {
                    tracing::debug!(local = %self.local, remote = %self.remote, old = self.mss, new = mss, "TCP path MTU lowered");
                    self.mss = mss;
                    self.cc.set_mss(self.max_data());
                    if self.state.is_synchronized() && self.snd_nxt > self.snd_una {
                        self.snd_nxt = self.snd_una;
                        self.rtt_probe = None;
                        self.output(ctx);
                    }
                }
            }
            IcmpError::ProtocolUnreachable | IcmpError::PortUnreachable
                if self.state == TcpState::SynSent =>
            {
                self.fail(ctx, TcpError::Unreachable(error));
            }
            _ => self.soft_error = Some(error),
        }
    }
}
