//! Impairments: what a cable end does to the frames it sends, like Linux
//! netem on an interface's egress. Per cable end (so per direction of a
//! cable): loss, delay with jitter, duplication, reordering, corruption and
//! a rate limit with a bounded queue.
//!
//! The decision for each frame is made here, synchronously and without
//! sleeping; frames that must wait go to the [`crate::delay_line`].

use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::time::Instant;

/// Impairment settings of one cable end (all off by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Impairments {
    /// Percent of frames dropped.
    pub loss_percent: f64,
    /// Fixed delay added to every frame, milliseconds.
    pub delay_ms: f64,
    /// Uniform jitter (±) around the delay, milliseconds; reorders frames
    /// when larger than their spacing, as netem does.
    pub jitter_ms: f64,
    /// Percent of frames sent twice.
    pub duplicate_percent: f64,
    /// Percent of frames sent at once, skipping the delay (netem `reorder`;
    /// needs a delay to have an effect).
    pub reorder_percent: f64,
    /// Percent of frames with one bit flipped after the FCS was computed
    /// (the receiver drops them as bad FCS).
    pub corrupt_percent: f64,
    /// Line rate in kbit/s (0 = unlimited): frames leave one after another
    /// at this rate, waiting in a bounded queue.
    pub rate_kbit: u64,
    /// Most frames waiting (delay or rate); beyond it new frames are dropped
    /// and counted as queue full. 0 means the default of 1000.
    pub queue_limit: usize,
    /// Seed of the random decisions: the same seed and settings give the
    /// same fate to the same sequence of frames (a replayable loss
    /// pattern). None seeds from the OS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// Default bound of frames waiting in the delay line.
pub const DEFAULT_QUEUE_LIMIT: usize = 1000;
/// Largest delay or jitter accepted, milliseconds.
pub const MAX_DELAY_MS: f64 = 60_000.0;
/// Largest `queue_limit` accepted, frames.
pub const MAX_QUEUE_LIMIT: usize = 1_000_000;

/// An impairment setting out of range: names the field and the value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImpairmentError {
    /// A percentage outside 0..=100.
    #[error("{field} = {value} is outside 0..=100")]
    Percent {
        /// The setting's name.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A delay or jitter outside 0..=MAX_DELAY_MS.
    #[error("{field} = {value} is outside 0..={MAX_DELAY_MS}")]
    Delay {
        /// The setting's name.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A queue bound above MAX_QUEUE_LIMIT.
    #[error("queue_limit = {0} is above {MAX_QUEUE_LIMIT}")]
    QueueLimit(usize),
}

impl Impairments {
    /// Whether any impairment is set.
    pub fn is_active(&self) -> bool {
        self.loss_percent > 0.0
            || self.delay_ms > 0.0
            || self.jitter_ms > 0.0
            || self.duplicate_percent > 0.0
            || self.reorder_percent > 0.0
            || self.corrupt_percent > 0.0
            || self.rate_kbit > 0
    }

    /// Checks ranges; the error names the field and the value.
    pub fn validate(&self) -> Result<(), ImpairmentError> {
        for (field, value) in [
            ("loss_percent", self.loss_percent),
            ("duplicate_percent", self.duplicate_percent),
            ("reorder_percent", self.reorder_percent),
            ("corrupt_percent", self.corrupt_percent),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return Err(ImpairmentError::Percent { field, value });
            }
        }
        for (field, value) in [("delay_ms", self.delay_ms), ("jitter_ms", self.jitter_ms)] {
            if !(0.0..=MAX_DELAY_MS).contains(&value) {
                return Err(ImpairmentError::Delay { field, value });
            }
        }
        if self.queue_limit > MAX_QUEUE_LIMIT {
            return Err(ImpairmentError::QueueLimit(self.queue_limit));
        }
        Ok(())
    }

    /// The queue bound in force.
    pub fn queue_limit(&self) -> usize {
        if self.queue_limit == 0 {
            DEFAULT_QUEUE_LIMIT
        } else {
            self.queue_limit
        }
    }
}

/// What happens to one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Lost.
    Drop,
    /// Sent `copies` times (1 or 2), at `at` (None = now), possibly corrupted.
    Send {
        /// 1, or 2 when duplicated.
        copies: u8,
        /// Flip one bit.
        corrupt: bool,
        /// When to send; None sends at once.
        at: Option<Instant>,
    },
}

/// Decides the fate of each frame under a set of [`Impairments`].
#[derive(Debug)]
pub struct Impairer {
    config: Impairments,
    rng: fastrand::Rng,
    /// When the rate-limited line is free again.
    line_free_at: Option<Instant>,
}

impl Impairer {
    /// An impairer seeded with `config.seed`, or randomly without one.
    pub fn new(config: Impairments) -> Impairer {
        let rng = match config.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        Impairer::with_rng(config, rng)
    }

    /// An impairer with a given RNG (deterministic tests).
    pub fn with_rng(config: Impairments, rng: fastrand::Rng) -> Impairer {
        Impairer {
            config,
            rng,
            line_free_at: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Impairments {
        &self.config
    }

    fn chance(&mut self, percent: f64) -> bool {
        percent > 0.0 && self.rng.f64() * 100.0 < percent
    }

    /// A uniform random bit index below `bits`.
    pub fn random_bit(&mut self, bits: usize) -> usize {
        self.rng.usize(..bits.max(1))
    }

    /// Decides what happens to a frame of `wire_bytes` sent at `now`.
    pub fn decide(&mut self, now: Instant, wire_bytes: usize) -> Fate {
        if self.chance(self.config.loss_percent) {
            return Fate::Drop;
        }
        let copies = if self.chance(self.config.duplicate_percent) {
            2
        } else {
            1
        };
        let corrupt = self.chance(self.config.corrupt_percent);
        // Serialization on a rate-limited line: frames leave one after another.
        let mut departure = now;
        if let Some(nanos) = (wire_bytes as u64 * 8 * 1_000_000).checked_div(self.config.rate_kbit)
        {
            let start = self.line_free_at.filter(|t| *t > now).unwrap_or(now);
            let tx_time = Duration::from_nanos(nanos);
            departure = start + tx_time;
            self.line_free_at = Some(departure);
        }
        let mut delay_ms = self.config.delay_ms;
        if self.config.jitter_ms > 0.0 {
            delay_ms += (self.rng.f64() * 2.0 - 1.0) * self.config.jitter_ms;
        }
        if self.chance(self.config.reorder_percent) {
            delay_ms = 0.0;
        }
        let at = departure + Duration::from_secs_f64(delay_ms.max(0.0) / 1000.0);
        Fate::Send {
            copies,
            corrupt,
            at: (at > now).then_some(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: Impairments, frames: usize) -> Vec<Fate> {
        let mut imp = Impairer::with_rng(config, fastrand::Rng::with_seed(7));
        let now = Instant::now();
        (0..frames).map(|_| imp.decide(now, 1000)).collect()
    }

    #[test]
    fn loss_rate_is_close_to_the_setting() {
        let fates = run(
            Impairments {
                loss_percent: 20.0,
                ..Default::default()
            },
            10_000,
        );
        let lost = fates.iter().filter(|f| **f == Fate::Drop).count();
        assert!((1800..2200).contains(&lost), "lost {lost} of 10000 at 20%");
    }

    #[test]
    fn no_impairment_sends_everything_at_once_unchanged() {
        let fates = run(Impairments::default(), 100);
        assert!(fates.iter().all(|f| *f
            == Fate::Send {
                copies: 1,
                corrupt: false,
                at: None
            }));
        assert!(!Impairments::default().is_active());
    }

    #[test]
    fn rate_limit_spaces_frames_by_their_serialization_time() {
        let mut imp = Impairer::with_rng(
            Impairments {
                rate_kbit: 8_000,
                ..Default::default()
            },
            fastrand::Rng::with_seed(1),
        );
        let now = Instant::now();
        // 1000 bytes at 8 Mbit/s = 1 ms each, back to back.
        let times: Vec<_> = (0..3)
            .map(|_| match imp.decide(now, 1000) {
                Fate::Send { at: Some(at), .. } => at - now,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            times,
            [
                Duration::from_millis(1),
                Duration::from_millis(2),
                Duration::from_millis(3)
            ]
        );
    }

    #[test]
    fn delay_with_jitter_stays_in_range_and_duplicates_happen() {
        let config = Impairments {
            delay_ms: 50.0,
            jitter_ms: 10.0,
            duplicate_percent: 10.0,
            ..Default::default()
        };
        let now = Instant::now();
        let mut imp = Impairer::with_rng(config, fastrand::Rng::with_seed(3));
        let mut dups = 0;
        for _ in 0..1000 {
            match imp.decide(now, 100) {
                Fate::Send {
                    copies,
                    at: Some(at),
                    ..
                } => {
                    let d = at - now;
                    assert!(
                        d >= Duration::from_millis(40) && d <= Duration::from_millis(60),
                        "{d:?}"
                    );
                    dups += usize::from(copies == 2);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!((60..140).contains(&dups), "{dups} duplicates at 10%");
    }

    /// Indices of the frames dropped out of `frames`, by a fresh impairer.
    fn dropped(config: &Impairments, frames: usize) -> Vec<usize> {
        let mut imp = Impairer::new(config.clone());
        let now = Instant::now();
        (0..frames)
            .filter(|_| imp.decide(now, 1000) == Fate::Drop)
            .collect()
    }

    #[test]
    fn the_same_seed_drops_the_same_frames() {
        let seeded = |seed| Impairments {
            loss_percent: 5.0,
            duplicate_percent: 1.0,
            corrupt_percent: 1.0,
            delay_ms: 20.0,
            jitter_ms: 5.0,
            seed: Some(seed),
            ..Default::default()
        };
        let first = dropped(&seeded(7), 10_000);
        assert!(
            (350..650).contains(&first.len()),
            "{} of 10000 lost at 5%",
            first.len()
        );
        assert_eq!(first, dropped(&seeded(7), 10_000));
        assert_ne!(first, dropped(&seeded(8), 10_000));
    }

    #[test]
    fn validation_names_the_field() {
        let bad = Impairments {
            loss_percent: 150.0,
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("loss_percent = 150")
        );
        let bad = Impairments {
            delay_ms: -1.0,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("delay_ms"));
    }
}
