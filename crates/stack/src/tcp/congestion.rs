//! Congestion control: slow start and congestion avoidance (RFC 5681 §3.1),
//! fast retransmit / fast recovery (RFC 5681 §3.2) with the NewReno
//! modification (RFC 6582 §3.2), or, when SACK is in use, the window side
//! of RFC 6675 §5 loss recovery (what to send is in `recovery.rs`);
//! limited transmit (RFC 3042) and the initial window of RFC 6928.

use super::seq::SeqNumber;

/// What an acknowledgment means for loss recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckKind {
    /// Not in fast recovery.
    Normal,
    /// RFC 6582 §3.2 step 5: acknowledges some but not all data up to
    /// `recover`; the first unacknowledged segment must be retransmitted.
    /// `first` is true for the first partial ACK of this recovery (only it
    /// resets the retransmission timer).
    Partial { first: bool },
    /// RFC 6582 §3.2 step 5: acknowledges everything up to `recover`;
    /// fast recovery ends.
    Full,
}

/// What a duplicate ACK asks the sender to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DupAckAction {
    /// Nothing beyond trying to send (limited transmit may allow new data).
    None,
    /// RFC 5681 §3.2 step 2 / RFC 6582 §3.2 step 3: retransmit the first
    /// unacknowledged segment now.
    FastRetransmit,
}

/// The congestion state of one connection, in bytes.
#[derive(Debug, Clone)]
pub(crate) struct Congestion {
    cwnd: usize,
    ssthresh: usize,
    mss: usize,
    dupacks: u32,
    in_recovery: bool,
    /// The recovery in progress is RFC 6675's (SACK): no window inflation
    /// or deflation, `pipe` decides what may be sent.
    sack_recovery: bool,
    partial_seen: bool,
    /// RFC 6582 "recover", kept as the sequence number just after the
    /// highest one transmitted (so "ACK covers more than recover" is
    /// `ack > recover` and a full ACK is `ack >= recover`).
    recover: SeqNumber,
    /// Bytes acknowledged during congestion avoidance, for the byte-counting
    /// increase of RFC 5681 §3.1 ("cwnd += SMSS once per cwnd of data").
    acked_in_ca: usize,
    cap: usize,
}

/// RFC 6928 §2: IW = min(10·MSS, max(2·MSS, 14600)).
pub(crate) fn initial_window(mss: usize) -> usize {
    (10 * mss).min((2 * mss).max(14_600))
}

impl Congestion {
    /// Starts with the RFC 6928 initial window and an "arbitrarily high"
    /// ssthresh (RFC 5681 §3.1). `cap` bounds cwnd (bounded everything).
    pub(crate) fn new(mss: usize, iss: SeqNumber, cap: usize) -> Self {
        let mss = mss.max(1);
        Self {
            cwnd: initial_window(mss),
            ssthresh: usize::MAX,
            mss,
            dupacks: 0,
            in_recovery: false,
            sack_recovery: false,
            partial_seen: false,
            recover: iss,
            acked_in_ca: 0,
            cap,
        }
    }

    /// Sets the sender MSS once the handshake is done and restarts from the
    /// initial window; `syn_lost` applies RFC 5681 §3.1 / RFC 6928 §2: "if
    /// the SYN or SYN/ACK is lost, the initial window ... MUST be one
    /// segment".
    pub(crate) fn start(&mut self, mss: usize, syn_lost: bool) {
        self.mss = mss.max(1);
        self.cwnd = if syn_lost {
            self.mss
        } else {
            initial_window(self.mss)
        };
    }

    /// A smaller MSS learned from Path MTU Discovery (RFC 1191 §6.4 is not a
    /// congestion signal: cwnd keeps its byte value).
    pub(crate) fn set_mss(&mut self, mss: usize) {
        self.mss = mss.max(1);
        self.cwnd = self.cwnd.max(self.mss);
    }

    /// Congestion window in bytes.
    pub(crate) fn cwnd(&self) -> usize {
        self.cwnd
    }

    /// Slow start threshold in bytes (`usize::MAX` until the first loss).
    pub(crate) fn ssthresh(&self) -> usize {
        self.ssthresh
    }

    /// Whether fast recovery (NewReno or SACK) is in progress.
    pub(crate) fn in_recovery(&self) -> bool {
        self.in_recovery
    }

    /// Whether RFC 6675 (SACK-based) loss recovery is in progress.
    pub(crate) fn in_sack_recovery(&self) -> bool {
        self.in_recovery && self.sack_recovery
    }

    /// Duplicate ACKs counted since the last new ACK.
    pub(crate) fn dupacks(&self) -> u32 {
        self.dupacks
    }

    /// A duplicate ACK on a SACK connection (RFC 6675 §5: "increase
    /// DupAcks by one"); entering recovery is decided by the caller, the
    /// count also opens the limited-transmit allowance (RFC 3042, RFC 6675
    /// §5 step 3).
    pub(crate) fn count_dupack(&mut self) {
        self.dupacks = self.dupacks.saturating_add(1);
    }

    /// Whether a new SACK loss recovery may start at SND.UNA = `una`: none
    /// in progress and everything sent before the previous RecoveryPoint
    /// (or timeout) acknowledged (RFC 6675 §5.1: "a new recovery phase ...
    /// MUST NOT be initiated until HighACK is greater than or equal to the
    /// new value of RecoveryPoint"; `recover` is one past HighData).
    pub(crate) fn may_enter_recovery(&self, una: SeqNumber) -> bool {
        !self.in_recovery && una >= self.recover
    }

    /// RFC 6675 §5 step 4: RecoveryPoint = HighData (`snd_max`), "ssthresh
    /// = cwnd = (FlightSize / 2)" (at least 2·SMSS, RFC 5681 §3.2 (2)).
    pub(crate) fn enter_sack_recovery(&mut self, flight: usize, snd_max: SeqNumber) {
        self.ssthresh = (flight / 2).max(2 * self.mss);
        self.cwnd = self.ssthresh;
        self.recover = snd_max;
        self.in_recovery = true;
        self.sack_recovery = true;
        self.partial_seen = false;
    }

    /// The window the sender may fill: cwnd, plus up to two segments on the
    /// first two duplicate ACKs (RFC 3042 §2 limited transmit: "FlightSize
    /// ... MUST NOT exceed cwnd + 2*SMSS").
    pub(crate) fn send_window(&self) -> usize {
        if self.in_recovery {
            self.cwnd
        } else {
            self.cwnd + self.dupacks.min(2) as usize * self.mss
        }
    }

    /// An ACK for `acked` new bytes arrived, moving SND.UNA to `ack`.
    /// `flight_after` is what remains outstanding.
    pub(crate) fn on_new_ack(
        &mut self,
        ack: SeqNumber,
        acked: usize,
        flight_after: usize,
    ) -> AckKind {
        self.dupacks = 0;
        if self.in_sack_recovery() {
            // RFC 6675 §5 (A): "An incoming cumulative ACK for a sequence
            // number greater than RecoveryPoint signals the end of loss
            // recovery"; cwnd stays at ssthresh (RFC 5681 §3.2 (6)).
            if ack >= self.recover {
                self.cwnd = self.ssthresh;
                self.in_recovery = false;
                self.sack_recovery = false;
                self.acked_in_ca = 0;
                return AckKind::Full;
            }
            let first = !self.partial_seen;
            self.partial_seen = true;
            return AckKind::Partial { first };
        }
        if self.in_recovery {
            if ack >= self.recover {
                // RFC 6582 §3.2 step 5, full ACK, option (1):
                // cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
                self.cwnd = self.ssthresh.min(flight_after.max(self.mss) + self.mss);
                self.in_recovery = false;
                self.acked_in_ca = 0;
                return AckKind::Full;
            }
            // Partial ACK: "deflate the congestion window by the amount of
            // new data acknowledged ... If the partial ACK acknowledges at
            // least one SMSS of new data, then add back SMSS bytes".
            self.cwnd = self.cwnd.saturating_sub(acked);
            if acked >= self.mss {
                self.cwnd += self.mss;
            }
            self.cwnd = self.cwnd.max(self.mss);
            let first = !self.partial_seen;
            self.partial_seen = true;
            return AckKind::Partial { first };
        }
        if self.cwnd < self.ssthresh {
            // RFC 5681 §3.1 (2): cwnd += min(N, SMSS).
            self.cwnd += acked.min(self.mss);
        } else {
            // Congestion avoidance by byte counting (RFC 5681 §3.1: "cwnd
            // is incremented by ... SMSS ... once per RTT").
            self.acked_in_ca += acked;
            if self.acked_in_ca >= self.cwnd {
                self.acked_in_ca -= self.cwnd;
                self.cwnd += self.mss;
            }
        }
        self.cwnd = self.cwnd.min(self.cap.max(self.mss));
        AckKind::Normal
    }

    /// A duplicate ACK (RFC 5681 §2 definition) for SND.UNA = `una`, with
    /// `flight` bytes outstanding and `snd_max` the next new sequence number.
    pub(crate) fn on_dupack(
        &mut self,
        una: SeqNumber,
        flight: usize,
        snd_max: SeqNumber,
    ) -> DupAckAction {
        self.dupacks = self.dupacks.saturating_add(1);
        if self.in_recovery {
            // RFC 6582 §3.2 step 4: inflate by SMSS per additional dup ACK.
            self.cwnd = (self.cwnd + self.mss).min(self.cap.max(self.mss) * 2);
            return DupAckAction::None;
        }
        // RFC 6582 §3.2 step 2: only if the ACK covers more than recover.
        if self.dupacks == 3 && una > self.recover {
            // Step 3: ssthresh = max(FlightSize / 2, 2*SMSS); recover =
            // highest sequence number transmitted; cwnd = ssthresh + 3*SMSS.
            self.ssthresh = (flight / 2).max(2 * self.mss);
            self.recover = snd_max;
            self.cwnd = self.ssthresh + 3 * self.mss;
            self.in_recovery = true;
            self.partial_seen = false;
            return DupAckAction::FastRetransmit;
        }
        DupAckAction::None
    }

    /// The retransmission timer expired (RFC 5681 §3.1 (4) and RFC 6582
    /// §3.2 step 6): ssthresh = max(FlightSize / 2, 2*SMSS) on the first
    /// expiry of a series (later ones hold it constant), cwnd = 1 SMSS
    /// (the loss window), recovery ends, recover = highest sequence sent.
    pub(crate) fn on_rto(&mut self, flight: usize, first: bool, snd_max: SeqNumber) {
        if first {
            self.ssthresh = (flight / 2).max(2 * self.mss);
        }
        self.cwnd = self.mss;
        self.in_recovery = false;
        self.sack_recovery = false;
        self.dupacks = 0;
        self.acked_in_ca = 0;
        self.recover = snd_max;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: usize = 1000;

    #[test]
    fn initial_window_rfc6928() {
        assert_eq!(initial_window(1460), 14_600);
        assert_eq!(initial_window(536), 5_360);
        assert_eq!(initial_window(9000), 18_000);
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = Congestion::new(MSS, SeqNumber(0), 1 << 30);
        c.start(MSS, false);
        assert_eq!(c.cwnd(), 10_000);
        c.on_new_ack(SeqNumber(2000), 2000, 0);
        assert_eq!(c.cwnd(), 11_000, "slow start adds min(N, SMSS)");
        c.on_rto(20_000, true, SeqNumber(30_000));
        assert_eq!((c.cwnd(), c.ssthresh()), (1000, 10_000));
        c.on_rto(20_000, false, SeqNumber(30_000));
        assert_eq!(c.ssthresh(), 10_000, "held constant on repeated RTOs");
        let mut ack = 30_000u32;
        while c.cwnd() < c.ssthresh() {
            ack += 1000;
            c.on_new_ack(SeqNumber(ack), 1000, 0);
        }
        assert_eq!(c.cwnd(), 10_000);
        for _ in 0..10 {
            ack += 1000;
            c.on_new_ack(SeqNumber(ack), 1000, 0);
        }
        assert_eq!(c.cwnd(), 11_000, "one SMSS per cwnd of data in avoidance");
    }

    #[test]
    fn newreno_fast_recovery() {
        let mut c = Congestion::new(MSS, SeqNumber(0), 1 << 30);
        c.start(MSS, false);
        let una = SeqNumber(1000);
        assert_eq!(
            c.on_dupack(una, 10_000, SeqNumber(11_000)),
            DupAckAction::None
        );
        assert_eq!(c.send_window(), 11_000, "limited transmit");
        assert_eq!(
            c.on_dupack(una, 10_000, SeqNumber(11_000)),
            DupAckAction::None
        );
        assert_eq!(
            c.on_dupack(una, 10_000, SeqNumber(11_000)),
            DupAckAction::FastRetransmit
        );
        assert!(c.in_recovery());
        assert_eq!((c.ssthresh(), c.cwnd()), (5_000, 8_000));
        c.on_dupack(una, 10_000, SeqNumber(11_000));
        assert_eq!(c.cwnd(), 9_000);
        assert_eq!(
            c.on_new_ack(SeqNumber(3000), 2000, 8000),
            AckKind::Partial { first: true }
        );
        assert_eq!(c.cwnd(), 8_000);
        assert_eq!(
            c.on_new_ack(SeqNumber(4000), 1000, 7000),
            AckKind::Partial { first: false }
        );
        assert_eq!(c.on_new_ack(SeqNumber(11_000), 7000, 0), AckKind::Full);
        assert_eq!(c.cwnd(), 2_000, "min(ssthresh, max(flight, SMSS) + SMSS)");
        assert!(!c.in_recovery());
        // Dup ACKs that do not cover more than recover start no new recovery.
        assert!(!c.may_enter_recovery(SeqNumber(10_999)));
        assert!(c.may_enter_recovery(SeqNumber(11_000)));
        for _ in 0..3 {
            assert_eq!(
                c.on_dupack(SeqNumber(11_000), 5000, SeqNumber(16_000)),
                DupAckAction::None
            );
        }
    }

    #[test]
    fn sack_recovery_halves_without_inflation() {
        let mut c = Congestion::new(MSS, SeqNumber(0), 1 << 30);
        c.start(MSS, false);
        assert!(c.may_enter_recovery(SeqNumber(1000)));
        c.count_dupack();
        assert_eq!(
            (c.dupacks(), c.send_window()),
            (1, 11_000),
            "limited transmit"
        );
        c.enter_sack_recovery(20_000, SeqNumber(21_000));
        assert!(c.in_sack_recovery() && !c.may_enter_recovery(SeqNumber(5000)));
        assert_eq!(
            (c.ssthresh(), c.cwnd(), c.send_window()),
            (10_000, 10_000, 10_000)
        );
        assert_eq!(
            c.on_new_ack(SeqNumber(5000), 4000, 16_000),
            AckKind::Partial { first: true }
        );
        assert_eq!(c.cwnd(), 10_000, "no deflation: pipe governs sending");
        assert_eq!(c.on_new_ack(SeqNumber(21_000), 16_000, 0), AckKind::Full);
        assert!(!c.in_recovery());
        assert_eq!(c.cwnd(), 10_000);
        c.enter_sack_recovery(10_000, SeqNumber(31_000));
        c.on_rto(10_000, true, SeqNumber(31_000));
        assert!(!c.in_sack_recovery());
    }
}
