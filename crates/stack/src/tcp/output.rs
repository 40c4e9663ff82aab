//! Sending: SYN and SYN-ACK, segmentation of the send buffer to the
//! peer's MSS within min(cwnd, SND.WND), Nagle's algorithm (RFC 896,
//! RFC 1122 §4.2.3.4), sender-side silly window avoidance (RFC 1122
//! §4.2.3.4, RFC 9293 §3.8.6.2.1), FIN, pure and delayed ACKs.

use super::seq::SeqNumber;
use super::state::TcpState;
use super::tcb::{Ctx, Tcb};
use vnet_wire::tcp::TcpFlags;

impl Tcb {
    /// Sends what the state, the windows and Nagle allow, then any ACK that
    /// is due and not yet piggybacked; arms the retransmission or persist
    /// timer as needed.
    pub(crate) fn output(&mut self, ctx: &mut Ctx<'_>) {
        match self.state {
            TcpState::Closed | TcpState::Listen => {}
            TcpState::SynSent => {}
            TcpState::SynReceived | TcpState::TimeWait => {
                if self.ack_now {
                    self.send_ack(ctx);
                }
            }
            _ => self.output_data(ctx),
        }
    }

    /// Sends our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) at ISS with the
    /// MSS (RFC 9293 §3.7.1) and Window Scale (RFC 7323 §2.2) options.
    pub(super) fn send_syn(&mut self, ctx: &mut Ctx<'_>, retransmission: bool) {
        let flags = if self.state == TcpState::SynSent {
            TcpFlags::SYN
        } else {
            TcpFlags::SYN | TcpFlags::ACK
        };
        let iss = self.iss;
        self.emit(ctx, iss, flags, Vec::new());
        if self.snd_max == iss {
            self.snd_nxt = iss + 1;
            self.snd_max = iss + 1;
            self.rtt_probe = Some((iss, iss + 1, ctx.now));
        } else if retransmission {
            self.retransmissions += 1;
            ctx.counters.tcp_retransmissions += 1;
            self.rtt_probe = None;
        }
        if self.rtx_at.is_none() {
            self.rtx_at = Some(ctx.now + self.rtt.rto());
        }
    }

    /// A pure ACK `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`.
    pub(super) fn send_ack(&mut self, ctx: &mut Ctx<'_>) {
        let seq = self.ack_seq();
        self.emit(ctx, seq, TcpFlags::ACK, Vec::new());
    }

    /// Bytes of the send buffer already sent (from SND.UNA to SND.NXT).
    fn sent_data(&self) -> usize {
        self.snd_nxt.since(self.snd_una).min(self.tx.len())
    }

    /// Bytes written by the application and not yet sent.
    pub(super) fn unsent(&self) -> usize {
        self.tx.len() - self.sent_data()
    }

    /// Whether a FIN must still be sent at or after SND.NXT.
    fn fin_pending(&self) -> bool {
        self.fin_queued && self.fin_seq.is_none_or(|f| self.snd_nxt <= f)
    }

    /// The next segment to send at SND.NXT, as (data length, FIN), or None.
    fn next_segment(&self) -> Option<(usize, bool)> {
        let in_flight = self.snd_nxt.since(self.snd_una);
        let avail = self.unsent();
        if avail == 0 {
            // A FIN alone is sent whatever the windows (as BSD does): it
            // carries no data, and a zero window would only delay the close.
            return self.fin_pending().then_some((0, true));
        }
        let wnd = self.snd_wnd.min(self.cc.send_window());
        let usable = wnd.saturating_sub(in_flight);
        let full = self.max_data();
        let len = avail.min(full).min(usable);
        if len == 0 {
            return None;
        }
        let fin = self.fin_pending() && len == avail;
        let retransmission = self.snd_nxt < self.snd_max;
        if len == full || retransmission || fin {
            return Some((len, fin));
        }
        if len == avail {
            // Nagle (RFC 896; RFC 1122 §4.2.3.4): a less than full-sized
            // segment waits while data is outstanding, unless TCP_NODELAY.
            return (self.nodelay || in_flight == 0).then_some((len, fin));
        }
        // Window-limited: sender SWS avoidance sends only if at least half
        // the largest window the peer ever offered fits (RFC 1122
        // §4.2.3.4 (3), Fs = 1/2).
        (len >= self.max_snd_wnd / 2).then_some((len, fin))
    }

    /// Sends data (and FIN) from SND.NXT while allowed; the first FIN moves
    /// ESTABLISHED to FIN-WAIT-1 and CLOSE-WAIT to LAST-ACK (RFC 9293
    /// §3.10.4 CLOSE).
    pub(super) fn output_data(&mut self, ctx: &mut Ctx<'_>) {
        let mut sent = false;
        if self.cc.in_sack_recovery() {
            // RFC 6675 §5 (C): pipe and NextSeg() decide.
            sent = self.recovery_output(ctx);
        } else {
            let mut new_data = false;
            while let Some((len, fin)) = self.next_segment() {
                let seq = self.snd_nxt;
                self.transmit(ctx, seq, len, fin);
                self.snd_nxt = seq + len + usize::from(fin);
                new_data |= self.snd_nxt > self.snd_max;
                self.snd_max = self.snd_max.max(self.snd_nxt);
                sent = true;
                if fin {
                    self.fin_sent(ctx);
                    break;
                }
            }
            if new_data {
                // RFC 8985 §7.2: new data (re)starts the probe timer.
                self.schedule_tlp(ctx);
            }
        }
        if self.ack_now && !sent {
            self.send_ack(ctx);
        }
        let in_flight = self.snd_nxt.since(self.snd_una);
        if in_flight > 0 {
            self.persist_at = None;
        } else if self.unsent() > 0 && self.rtx_at.is_none() && self.persist_at.is_none() {
            // Nothing outstanding, data waiting, the window too small:
            // the persist timer probes it (RFC 9293 §3.8.6.1).
            self.persist_at = Some(ctx.now + self.persist_interval(ctx.cfg.max_rto));
        }
    }

    /// Sends `len` bytes at `seq` (SND.UNA ≤ seq), plus FIN if asked. PSH is
    /// set on the segment that empties the buffer (RFC 9293 §3.9.1
    /// "SEND": the push flag). Retransmissions are counted and end any RTT
    /// measurement (Karn's algorithm, RFC 6298 §3).
    pub(super) fn transmit(&mut self, ctx: &mut Ctx<'_>, seq: SeqNumber, len: usize, fin: bool) {
        let off = seq.since(self.snd_una);
        let payload = self.tx.copy(off, len);
        let mut flags = TcpFlags::ACK;
        if len > 0 && off + len == self.tx.len() {
            flags |= TcpFlags::PSH;
        }
        if fin {
            flags |= TcpFlags::FIN;
            if self.fin_seq.is_none() {
                self.fin_seq = Some(seq + len);
            }
        }
        let end = seq + len + usize::from(fin);
        if seq < self.snd_max {
            self.retransmissions += 1;
            ctx.counters.tcp_retransmissions += 1;
            self.retx_high = self.retx_high.max(end);
            if self
                .rtt_probe
                .is_some_and(|(start, pend, _)| seq < pend && start < end)
            {
                self.rtt_probe = None;
            }
        } else if len > 0 && self.rtt_probe.is_none() {
            self.rtt_probe = Some((seq, end, ctx.now));
        }
        self.emit(ctx, seq, flags, payload);
        if self.rtx_at.is_none() {
            self.rtx_at = Some(ctx.now + self.rtt.rto());
        }
    }

    /// Retransmits the first unacknowledged segment without moving SND.NXT
    /// (fast retransmit, RFC 5681 §3.2; NewReno partial ACK, RFC 6582 §3.2).
    pub(super) fn retransmit_first(&mut self, ctx: &mut Ctx<'_>) {
        let outstanding = self.snd_max.since(self.snd_una);
        let len = outstanding.min(self.tx.len()).min(self.max_data());
        let fin = self.fin_seq == Some(self.snd_una + len);
        if len == 0 && !fin {
            return;
        }
        let una = self.snd_una;
        self.transmit(ctx, una, len, fin);
    }
}
