//! SACK on both sides of a connection and the loss recovery built on it:
//!
//! * the receiver's SACK blocks (RFC 2018 §3, §4);
//! * the sender's scoreboard updates (RFC 6675 §4 Update()), entering loss
//!   recovery (RFC 6675 §5 steps 1–4), and sending during recovery with
//!   `pipe` and NextSeg() rules 1–4 (RFC 6675 §4, §5 (C));
//! * the tail loss probe (RFC 8985 §7, simplified: see [`Tcb::on_tlp`]).
//!
//! The window arithmetic is in `congestion.rs`, the scoreboard in
//! `sack.rs`.

use super::seq::SeqNumber;
use super::state::TcpState;
use super::tcb::{Ctx, Tcb};
use core::time::Duration;
use vnet_wire::tcp::TcpRepr;

/// Smallest probe timeout (RFC 8985 §7.2 leaves the floor to the
/// implementation; Linux uses 10 ms, `TCP_TIMEOUT_MIN`).
const MIN_PTO: Duration = Duration::from_millis(10);

/// A segment chosen by NextSeg(): where, how many data bytes, with FIN,
/// and whether it is the rescue retransmission (rule 4).
#[derive(Debug, Clone, Copy)]
struct NextSeg {
    seq: SeqNumber,
    len: usize,
    fin: bool,
    rescue: bool,
}

impl Tcb {
    /// The SACK blocks for an ACK about to be sent as `repr` (RFC 2018
    /// §4): while out-of-order data is queued, the first block is the
    /// range holding the most recently received segment, then the ranges
    /// most recently reported, then any other; as many as fit beside the
    /// other options (3 with Timestamps) and, on a segment with data,
    /// within the MSS so the segment still fits the path.
    pub(super) fn sack_blocks(&self, repr: &TcpRepr) -> [Option<(u32, u32)>; 4] {
        let mut blocks = [None; 4];
        if !self.sack_ok || !self.rx.has_ooo() {
            return blocks;
        }
        let mut max = repr.sack_blocks_fit();
        if repr.payload_len > 0 {
            let room = self
                .mss
                .saturating_sub(repr.payload_len + repr.options_len());
            max = max.min(room.saturating_sub(4) / 8);
        }
        let recent = self
            .recent_sacks
            .iter()
            .filter_map(|s| self.rx.ooo_range_containing(s));
        let mut n = 0;
        for (s, e) in recent.chain(self.rx.ooo_ranges()) {
            if n >= max {
                break;
            }
            let b = Some((s.0, e.0));
            if !blocks[..n].contains(&b) {
                blocks[n] = b;
                n += 1;
            }
        }
        blocks
    }

    /// An out-of-order segment at `seq` was queued: it leads the next SACK
    /// blocks (RFC 2018 §4).
    pub(super) fn note_ooo_arrival(&mut self, seq: SeqNumber) {
        let rx = &self.rx;
        self.recent_sacks.push(seq, |a, b| {
            let ra = rx.ooo_range_containing(a);
            ra.is_some() && ra == rx.ooo_range_containing(b)
        });
    }

    /// RFC 6675 §4 Update(): the scoreboard follows SND.UNA (`ack` if it
    /// moves forward) and records the blocks of `seg`. Returns whether
    /// they SACKed anything new.
    pub(super) fn sack_update(&mut self, ack: SeqNumber, seg: &TcpRepr) -> bool {
        let una = ack.max(self.snd_una);
        self.sack.advance(una);
        let mut news = false;
        for &(l, r) in seg.sack_blocks.iter().flatten() {
            news |= self
                .sack
                .update(una, self.snd_max, SeqNumber(l), SeqNumber(r));
        }
        news
    }

    /// RFC 6675 §5 steps 1, 2 and 4, after the ACK has been processed:
    /// start loss recovery when DupAcks ≥ DupThresh or IsLost(SND.UNA)
    /// (checked on every ACK, as Linux does, not only duplicates), unless
    /// a recovery is running or SND.UNA has not reached the last
    /// RecoveryPoint, which a timeout also sets (§5.1).
    pub(super) fn sack_maybe_enter_recovery(&mut self, ctx: &mut Ctx<'_>) {
        let una = self.snd_una;
        let flight = self.snd_max.since(una);
        if flight == 0 || !self.cc.may_enter_recovery(una) {
            return;
        }
        let mss = self.max_data();
        if self.cc.dupacks() < super::sack::DUP_THRESH as u32 && !self.sack.is_lost(una, mss) {
            return;
        }
        ctx.counters.tcp_sack_recoveries += 1;
        ctx.counters.tcp_fast_retransmits += 1;
        self.note(
            ctx,
            "tcp.retransmit",
            None,
            || format!("SACK loss recovery: retransmit seq {} (RFC 6675 §5)", una.0),
            || vec![("tcp.seq", una.0.into()), ("tcp.sack", "true".into())],
        );
        // (4.1) RecoveryPoint = HighData; (4.2) ssthresh = cwnd = FlightSize / 2.
        self.cc.enter_sack_recovery(flight, self.snd_max);
        self.tlp_at = None;
        // (4.3) "Retransmit the first data segment presumed dropped ... set
        // HighRxt to the highest sequence number in the retransmitted
        // segment."
        self.high_rxt = una;
        self.rescue_sent = false;
        let end = self.sack.hole_end(una, self.snd_max);
        if let Some(seg) = self.segment_in(una, end) {
            self.send_recovery_segment(ctx, seg);
        }
    }

    /// During SACK recovery, after each ACK: if the hole at SND.UNA was
    /// retransmitted and data sent after that retransmission has since
    /// been SACKed, the retransmission was lost as well (no reordering
    /// assumed): it is sent once more instead of waiting for the RTO.
    /// RFC 6675 cannot see this (HighRxt only moves up); RACK (RFC 8985
    /// §6) would, and is not implemented.
    pub(super) fn sack_lost_retransmission(&mut self, ctx: &mut Ctx<'_>) {
        let una = self.snd_una;
        match self.una_rxt {
            Some((seq, mark)) if seq == una => {
                if !self.sack.high_sacked().is_some_and(|h| h > mark) {
                    return;
                }
                self.note(
                    ctx,
                    "tcp.retransmit",
                    None,
                    || format!("retransmission of seq {} lost: sent again", una.0),
                    || vec![("tcp.seq", una.0.into()), ("tcp.sack", "true".into())],
                );
                let end = self.sack.hole_end(una, self.snd_max);
                match self.segment_in(una, end) {
                    Some(seg) => {
                        self.send_recovery_segment(ctx, seg);
                    }
                    None => self.una_rxt = None,
                }
            }
            // SND.UNA moved into a range already retransmitted: when is not
            // known, so only data sent from now on can show it lost.
            _ if una < self.high_rxt => self.una_rxt = Some((una, self.snd_max)),
            _ => self.una_rxt = None,
        }
    }

    /// Data and FIN of a segment starting at `seq`, at most one full
    /// segment and not beyond `end`.
    fn segment_in(&self, seq: SeqNumber, end: SeqNumber) -> Option<NextSeg> {
        let data_end = self.snd_una + self.tx.len();
        let len = data_end.min(end).since(seq).min(self.max_data());
        let fin = self
            .fin_seq
            .is_some_and(|f| f == seq + len && seq + len < end);
        (len > 0 || fin).then_some(NextSeg {
            seq,
            len,
            fin,
            rescue: false,
        })
    }

    /// RFC 6675 §4 NextSeg(): (1) the first unSACKed sequence number above
    /// HighRxt that IsLost(); (2) new data if the receive window allows;
    /// (3) the first unSACKed sequence number above HighRxt below the
    /// highest SACKed one; (4) once per recovery, the last segment of the
    /// unSACKed tail above the highest SACK (the "rescue" retransmission),
    /// here only if that tail was not retransmitted yet.
    fn next_seg(&self) -> Option<NextSeg> {
        let mss = self.max_data();
        let from = self.sack.next_unsacked(self.high_rxt.max(self.snd_una));
        // Rule 1.
        if let Some(lost) = self.sack.lost_below(mss)
            && from < lost
        {
            let end = self.sack.hole_end(from, self.snd_max);
            if let Some(seg) = self.segment_in(from, end) {
                return Some(seg);
            }
        }
        // Rule 2: data not sent yet (or rewound by Path MTU Discovery,
        // skipping what the peer SACKed).
        if let Some(seg) = self.recovery_new_data() {
            return Some(seg);
        }
        // Rule 3.
        let high = self.sack.high_sacked().unwrap_or(self.snd_una);
        if from < high {
            return self.segment_in(from, self.sack.hole_end(from, high));
        }
        // Rule 4.
        if self.rescue_sent {
            return None;
        }
        let start = high.max(self.high_rxt);
        let data_end = (self.snd_una + self.tx.len()).min(self.snd_max);
        let seq = if data_end.since(start) > self.max_data() {
            data_end - self.max_data()
        } else {
            start
        };
        let seg = self.segment_in(seq, self.snd_max)?;
        Some(NextSeg {
            rescue: true,
            ..seg
        })
    }

    /// NextSeg() rule 2: the segment at SND.NXT if the peer's window has
    /// room for a full one, or for the rest of the data.
    fn recovery_new_data(&self) -> Option<NextSeg> {
        let nxt = self.sack.next_unsacked(self.snd_nxt);
        if nxt < self.snd_max {
            return self.segment_in(nxt, self.sack.hole_end(nxt, self.snd_max));
        }
        let unsent = self.unsent();
        let fin_pending = self.fin_queued && self.fin_seq.is_none();
        if unsent == 0 {
            return fin_pending.then_some(NextSeg {
                seq: nxt,
                len: 0,
                fin: true,
                rescue: false,
            });
        }
        let room = (self.snd_una + self.snd_wnd).since(nxt);
        let len = unsent.min(self.max_data()).min(room);
        if len == 0 || (len < self.max_data() && len < unsent) {
            return None;
        }
        Some(NextSeg {
            seq: nxt,
            len,
            fin: fin_pending && len == unsent,
            rescue: false,
        })
    }

    /// Sends one segment chosen during recovery and updates HighRxt (C.2)
    /// or HighData (C.3). Returns the sequence space it took.
    fn send_recovery_segment(&mut self, ctx: &mut Ctx<'_>, seg: NextSeg) -> usize {
        let NextSeg {
            seq,
            len,
            fin,
            rescue,
        } = seg;
        let end = seq + len + usize::from(fin);
        self.transmit(ctx, seq, len, fin);
        if rescue {
            // "RescueRxt set to RecoveryPoint. HighRxt MUST NOT be updated."
            self.rescue_sent = true;
            ctx.counters.tcp_sack_retransmits += 1;
        } else if seq < self.snd_max {
            ctx.counters.tcp_sack_retransmits += 1;
            self.high_rxt = self.high_rxt.max(end);
            if seq == self.snd_una {
                self.una_rxt = Some((seq, self.snd_max));
            }
        }
        if end > self.snd_nxt {
            self.snd_nxt = end;
        }
        self.snd_max = self.snd_max.max(end);
        if fin {
            self.fin_sent(ctx);
        }
        end.since(seq)
    }

    /// RFC 6675 §5 (B.2) and (C): while `cwnd − pipe ≥ 1 SMSS`, send what
    /// NextSeg() returns. Returns whether anything was sent.
    pub(super) fn recovery_output(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let mss = self.max_data();
        let mut pipe = self
            .sack
            .pipe(self.snd_una, self.snd_max, self.high_rxt, mss);
        let mut sent = false;
        while self.cc.cwnd().saturating_sub(pipe) >= mss {
            let Some(seg) = self.next_seg() else {
                break;
            };
            pipe += self.send_recovery_segment(ctx, seg);
            sent = true;
            if seg.fin {
                break;
            }
        }
        sent
    }

    /// Our FIN left for the first time: ESTABLISHED → FIN-WAIT-1,
    /// CLOSE-WAIT → LAST-ACK (RFC 9293 §3.10.4 CLOSE).
    pub(super) fn fin_sent(&mut self, ctx: &mut Ctx<'_>) {
        match self.state {
            TcpState::Established => self.set_state(ctx, TcpState::FinWait1),
            TcpState::CloseWait => self.set_state(ctx, TcpState::LastAck),
            _ => {}
        }
    }

    /// Arms (or stops) the tail loss probe timer after new data was sent or
    /// new data acknowledged (RFC 8985 §7.2): with SACK, data outstanding,
    /// no recovery, no timeout since the last progress and no probe
    /// outstanding, PTO = max(2·SRTT, 10 ms), plus the delayed-ACK time
    /// when a single segment is in flight, and only if it ends before the
    /// RTO would.
    pub(super) fn schedule_tlp(&mut self, ctx: &Ctx<'_>) {
        self.tlp_at = None;
        if !self.sack_ok
            || !ctx.cfg.tail_loss_probe
            || self.cc.in_recovery()
            || self.retries > 0
            || self.tlp_high.is_some()
            || self.snd_nxt != self.snd_max
            || !self.state.is_synchronized()
        {
            return;
        }
        let flight = self.snd_max.since(self.snd_una);
        let (Some(srtt), Some(rtx_at)) = (self.rtt.srtt(), self.rtx_at) else {
            return;
        };
        if flight == 0 {
            return;
        }
        let mut pto = (srtt * 2).max(MIN_PTO);
        if flight <= self.max_data() {
            pto += ctx.cfg.delayed_ack;
        }
        let at = ctx.now + pto;
        if at < rtx_at {
            self.tlp_at = Some(at);
        }
    }

    /// The probe timer fired (RFC 8985 §7.3): send one new segment if the
    /// window allows, else retransmit the highest-sequence segment, and
    /// restart the RTO. Simplifications: one probe per tail (until an ACK
    /// reaches TLP.end_seq or the RTO fires), no congestion response to a
    /// loss repaired by the probe alone (that needs D-SACK, §7.4, which
    /// vnet does not send), no RACK: a probe whose ACK reveals other
    /// holes leaves them to SACK recovery (three SACKed segments) or the
    /// RTO.
    pub(super) fn on_tlp(&mut self, ctx: &mut Ctx<'_>) {
        let flight = self.snd_max.since(self.snd_una);
        if flight == 0
            || self.cc.in_recovery()
            || self.tlp_high.is_some()
            || self.snd_nxt != self.snd_max
            || !self.state.is_synchronized()
        {
            return;
        }
        let seg = self.recovery_new_data().or_else(|| {
            let len = flight.min(self.tx.len()).min(self.max_data());
            let seq = (self.snd_una + self.tx.len()).min(self.snd_max) - len;
            self.segment_in(seq, self.snd_max)
        });
        let Some(NextSeg { seq, len, fin, .. }) = seg else {
            return;
        };
        ctx.counters.tcp_tlp_probes += 1;
        self.note(
            ctx,
            "tcp.retransmit",
            None,
            || format!("tail loss probe: seq {} (RFC 8985 §7)", seq.0),
            || vec![("tcp.seq", seq.0.into()), ("tcp.tlp", "true".into())],
        );
        self.transmit(ctx, seq, len, fin);
        let end = seq + len + usize::from(fin);
        if end > self.snd_max {
            self.snd_nxt = end;
            self.snd_max = end;
            if fin {
                self.fin_sent(ctx);
            }
        }
        self.tlp_high = Some(self.snd_max);
        self.rtx_at = Some(ctx.now + self.rtt.rto());
    }
}
