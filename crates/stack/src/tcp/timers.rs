//! The connection timers: retransmission (RFC 6298 §5), tail loss probe
//! (RFC 8985 §7, in `recovery.rs`), persist / zero
//! window probing (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17), delayed ACK
//! (RFC 1122 §4.2.3.2), TIME-WAIT (RFC 9293 §3.10.8) and the orphaned
//! FIN-WAIT-2 timeout (Linux `tcp_fin_timeout`).

use super::TcpError;
use super::state::TcpState;
use super::tcb::{Ctx, Tcb};
use core::time::Duration;

impl Tcb {
    /// Runs every timer due at `ctx.now`.
    pub(crate) fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let due = |t: Option<crate::time::Instant>| t.is_some_and(|t| t <= now);
        if due(self.timewait_at) {
            // "When the time-wait timeout expires on a connection, delete
            // the TCB, enter the CLOSED state, and return."
            self.timewait_at = None;
            self.forget(ctx);
            return;
        }
        if due(self.finwait2_at) {
            self.finwait2_at = None;
            self.forget(ctx);
            return;
        }
        if due(self.rtx_at) {
            self.rtx_at = None;
            self.on_rto(ctx);
            if self.state == TcpState::Closed {
                return;
            }
        }
        if due(self.tlp_at) {
            self.tlp_at = None;
            self.on_tlp(ctx);
        }
        if due(self.persist_at) {
            self.persist_at = None;
            self.on_persist(ctx);
        }
        if due(self.delack_at) {
            self.delack_at = None;
            self.ack_now = true;
            self.output(ctx);
        }
    }

    /// Deletes a connection the application has released once its
    /// quarantine ends (2·MSL of TIME-WAIT, the orphaned FIN-WAIT-2
    /// timeout), outside any trace: the work of the trace that used the
    /// connection ended when both sides closed, and waiting out the timer
    /// is not part of it. Recording the change would stretch that trace by
    /// a minute (docs/design.md, "Spans end when their work ends").
    fn forget(&mut self, ctx: &mut Ctx<'_>) {
        self.trace = None;
        let work = ctx.trace.take();
        self.set_state(ctx, TcpState::Closed);
        ctx.trace = work;
    }

    /// The retransmission timer expired (RFC 6298 §5.4–5.6): retransmit the
    /// earliest unacknowledged segment, back the timer off, restart it.
    /// After `syn_retries` (handshake) or `max_retries` (data) expirations
    /// without progress the connection is aborted with `TimedOut`
    /// (RFC 1122 §4.2.3.5 R2).
    fn on_rto(&mut self, ctx: &mut Ctx<'_>) {
        let limit = if self.state.is_synchronized() {
            ctx.cfg.max_retries
        } else {
            ctx.cfg.syn_retries
        };
        let flight = self.snd_max.since(self.snd_una);
        if self.state.is_synchronized() && flight == 0 {
            return;
        }
        if self.retries >= limit {
            tracing::debug!(local = %self.local, remote = %self.remote, retries = self.retries, "TCP retransmissions exhausted");
            self.fail(ctx, TcpError::TimedOut);
            return;
        }
        self.retries += 1;
        ctx.counters.tcp_rto_timeouts += 1;
        let rto = self.rtt.rto();
        let (una, retries) = (self.snd_una, self.retries);
        self.note(
            ctx,
            "tcp.retransmit",
            None,
            || {
                format!(
                    "RTO of {} ms fired (retry {retries}): resend from seq {}",
                    rto.as_millis(),
                    una.0
                )
            },
            || {
                vec![
                    ("tcp.rto_ms", (rto.as_millis() as u64).into()),
                    ("tcp.retries", retries.into()),
                    ("tcp.seq", una.0.into()),
                ]
            },
        );
        self.rtt.back_off();
        self.rtt_probe = None;
        // RFC 6675 §5.1: the SACK information is not trusted after a
        // timeout (the receiver may have reneged); RFC 8985 §7: no probe
        // during RTO recovery.
        self.sack.clear();
        self.una_rxt = None;
        self.tlp_at = None;
        self.tlp_high = None;
        match self.state {
            TcpState::SynSent | TcpState::SynReceived => {
                self.syn_retransmitted = true;
                self.send_syn(ctx, true);
            }
            _ => {
                // RFC 5681 §3.1 (4) / RFC 6582 step 6, then "go back N":
                // resend from SND.UNA as cwnd (one segment now) allows.
                self.cc.on_rto(flight, self.retries == 1, self.snd_max);
                self.snd_nxt = self.snd_una;
                self.output_data(ctx);
                if self.snd_nxt == self.snd_una {
                    // The peer's window is closed: the persist timer takes over.
                    return;
                }
            }
        }
        self.rtx_at = Some(ctx.now + self.rtt.rto());
    }

    /// Probe interval: the RTO, doubled per unanswered probe, within
    /// [min RTO, max RTO] (RFC 1122 §4.2.2.17: "exponentially increase").
    pub(super) fn persist_interval(&self, max: Duration) -> Duration {
        let factor = 1u32
            .checked_shl(self.persist_backoff.min(20))
            .unwrap_or(u32::MAX);
        self.rtt.rto().saturating_mul(factor).min(max)
    }

    /// The persist timer expired with data waiting and nothing in flight:
    /// "transmit at least one octet of new data (if available) ... even if
    /// the send window is zero" (RFC 9293 §3.8.6.1). If the window is open
    /// but too small for the sender SWS rule, that much is sent instead.
    fn on_persist(&mut self, ctx: &mut Ctx<'_>) {
        if !self.state.is_synchronized() || self.snd_nxt != self.snd_una || self.unsent() == 0 {
            return;
        }
        let usable = self.snd_wnd;
        let seq = self.snd_nxt;
        if usable > 0 {
            let len = self.unsent().min(self.max_data()).min(usable);
            self.transmit(ctx, seq, len, false);
            self.snd_nxt = seq + len;
            self.snd_max = self.snd_max.max(self.snd_nxt);
            return;
        }
        ctx.counters.tcp_window_probes += 1;
        self.transmit(ctx, seq, 1, false);
        // The probe byte is not "in flight": SND.NXT stays, no
        // retransmission timer, but an ACK covering it is acceptable.
        self.probe_end = Some(seq + 1);
        self.rtx_at = None;
        self.rtt_probe = None;
        self.persist_backoff = self.persist_backoff.saturating_add(1);
        self.persist_at = Some(ctx.now + self.persist_interval(ctx.cfg.max_rto));
    }
}
