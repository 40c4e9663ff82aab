//! Retransmission timeout computation (RFC 6298) with Karn's algorithm
//! (RFC 6298 §3) and exponential backoff (§5.5).

use core::time::Duration;

/// SRTT / RTTVAR / RTO state of one connection (RFC 6298 §2).
#[derive(Debug, Clone)]
pub(crate) struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    /// RTO before backoff, clamped to [min, max].
    base: Duration,
    /// Number of doublings applied (RFC 6298 §5.5).
    backoff: u32,
    min: Duration,
    max: Duration,
    granularity: Duration,
}

/// K of RFC 6298 §2.
const K: u32 = 4;

impl RttEstimator {
    /// RFC 6298 §2.1: "Until a round-trip time (RTT) measurement has been
    /// made ... the sender SHOULD set RTO <- 1 second" (`initial`).
    pub(crate) fn new(initial: Duration, min: Duration, max: Duration, g: Duration) -> Self {
        Self {
            srtt: None,
            rttvar: Duration::ZERO,
            base: initial.clamp(min, max),
            backoff: 0,
            min,
            max,
            granularity: g,
        }
    }

    /// Takes one RTT measurement `r` (RFC 6298 §2.2 for the first, §2.3
    /// after), recomputes RTO = SRTT + max(G, K·RTTVAR) clamped to
    /// [min, max] (§2.4, §2.5), and clears the backoff: a valid sample is
    /// exactly what Karn's algorithm waits for (§5, note on §5.7).
    pub(crate) fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                // RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4
                self.rttvar = (self.rttvar * 3 + delta) / 4;
                // SRTT <- (1 - alpha) * SRTT + alpha * R', alpha = 1/8
                self.srtt = Some((srtt * 7 + r) / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        let rto = srtt + (self.rttvar * K).max(self.granularity);
        self.base = rto.clamp(self.min, self.max);
        self.backoff = 0;
    }

    /// RFC 6298 §5.5: "The host MUST set RTO <- RTO * 2 ("back off the
    /// timer")", bounded by the maximum (§2.5).
    pub(crate) fn back_off(&mut self) {
        if self.rto() < self.max {
            self.backoff = self.backoff.saturating_add(1);
        }
    }

    /// Forgets the backoff without a sample: an ACK showed that a
    /// retransmission got through, so the path works again. (Strict Karn
    /// keeps the backoff until a valid sample, RFC 6298 §5; Linux and
    /// FreeBSD reset it through timestamp samples on such ACKs, which
    /// vnet does not take because they are inflated by the timeout.)
    pub(crate) fn clear_backoff(&mut self) {
        self.backoff = 0;
    }

    /// The current RTO, backoff included.
    pub(crate) fn rto(&self) -> Duration {
        let factor = 1u32.checked_shl(self.backoff.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// Smoothed RTT, if measured.
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// RTT variation.
    pub(crate) fn rttvar(&self) -> Duration {
        self.rttvar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn est() -> RttEstimator {
        RttEstimator::new(ms(1000), ms(200), ms(60_000), ms(1))
    }

    #[test]
    fn rfc6298_formulas() {
        let mut e = est();
        assert_eq!(e.rto(), ms(1000));
        e.sample(ms(100));
        // SRTT = 100, RTTVAR = 50, RTO = 100 + 200 = 300
        assert_eq!(e.srtt(), Some(ms(100)));
        assert_eq!(e.rttvar(), ms(50));
        assert_eq!(e.rto(), ms(300));
        e.sample(ms(300));
        // RTTVAR = (150 + 200) / 4 = 87.5; SRTT = (700 + 300) / 8 = 125
        assert_eq!(e.srtt(), Some(ms(125)));
        assert_eq!(e.rttvar(), Duration::from_micros(87_500));
        assert_eq!(e.rto(), ms(475));
    }

    #[test]
    fn minimum_and_backoff() {
        let mut e = est();
        e.sample(ms(1));
        assert_eq!(e.rto(), ms(200), "min RTO");
        e.back_off();
        e.back_off();
        assert_eq!(e.rto(), ms(800));
        for _ in 0..40 {
            e.back_off();
        }
        assert_eq!(e.rto(), ms(60_000), "max RTO");
        e.sample(ms(1));
        assert_eq!(e.rto(), ms(200), "a valid sample ends the backoff");
    }
}
