//! The SACK scoreboard of the sender (RFC 6675 §3 "Keeping Track of SACK
//! Information") and the receiver's choice of SACK blocks (RFC 2018 §4).
//!
//! The scoreboard is a fixed array of at most [`MAX_RANGES`] disjoint,
//! sorted, merged ranges of SACKed sequence space above SND.UNA: no
//! allocation per segment, bounded memory. A block that would need one
//! more range is ignored (the sender only loses information and may
//! retransmit a little more, or wait for the RTO).

use super::seq::SeqNumber;

/// Most SACKed ranges remembered per connection.
pub(crate) const MAX_RANGES: usize = 32;

/// RFC 6675 §2 DupThresh: segments SACKed above a hole before it is lost.
pub(crate) const DUP_THRESH: usize = 3;

/// SACKed ranges `[start, end)` above SND.UNA, sorted, disjoint, never
/// adjacent (adjacent ones are merged).
#[derive(Debug, Clone)]
pub(crate) struct Scoreboard {
    ranges: [(SeqNumber, SeqNumber); MAX_RANGES],
    len: usize,
}

impl Default for Scoreboard {
    fn default() -> Self {
        Self {
            ranges: [(SeqNumber(0), SeqNumber(0)); MAX_RANGES],
            len: 0,
        }
    }
}

impl Scoreboard {
    /// The ranges, lowest first.
    pub(crate) fn ranges(&self) -> &[(SeqNumber, SeqNumber)] {
        &self.ranges[..self.len]
    }

    /// Whether nothing is SACKed.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets everything (after a timeout, RFC 6675 §5.1).
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// SND.UNA moved to `una`: drops or trims what it covers.
    pub(crate) fn advance(&mut self, una: SeqNumber) {
        let mut keep = 0;
        for i in 0..self.len {
            let (s, e) = self.ranges[i];
            if e <= una {
                continue;
            }
            self.ranges[keep] = (s.max(una), e);
            keep += 1;
        }
        self.len = keep;
    }

    /// RFC 6675 §4 Update(): records the block `[left, right)` of an ACK
    /// whose SND.UNA is `una`, with `snd_max` the highest sequence sent.
    /// Blocks that are empty, reversed, at or below SND.UNA (D-SACK,
    /// RFC 2883, not used) or beyond what was sent are ignored (RFC 2018
    /// does not let a receiver SACK what it never got). Returns whether
    /// something new was SACKed.
    pub(crate) fn update(
        &mut self,
        una: SeqNumber,
        snd_max: SeqNumber,
        left: SeqNumber,
        right: SeqNumber,
    ) -> bool {
        if right <= left || right <= una || right > snd_max {
            return false;
        }
        let left = left.max(una);
        let before = self.sacked_bytes();
        // First range that ends at or after `left` (merge candidates).
        let i = self.ranges().iter().position(|&(_, e)| e >= left);
        let i = i.unwrap_or(self.len);
        let mut j = i;
        let (mut s, mut e) = (left, right);
        while j < self.len && self.ranges[j].0 <= right {
            s = s.min(self.ranges[j].0);
            e = e.max(self.ranges[j].1);
            j += 1;
        }
        if j == i {
            // No overlap: insert at i, if there is room.
            if self.len == MAX_RANGES {
                return false;
            }
            self.ranges.copy_within(i..self.len, i + 1);
            self.ranges[i] = (s, e);
            self.len += 1;
        } else {
            // Ranges i..j merge into one.
            self.ranges[i] = (s, e);
            self.ranges.copy_within(j..self.len, i + 1);
            self.len -= j - i - 1;
        }
        self.sacked_bytes() > before
    }

    /// Bytes SACKed in total.
    pub(crate) fn sacked_bytes(&self) -> usize {
        self.ranges().iter().map(|&(s, e)| e.since(s)).sum()
    }

    /// The highest SACKed sequence number plus one, if any.
    pub(crate) fn high_sacked(&self) -> Option<SeqNumber> {
        self.ranges().last().map(|&(_, e)| e)
    }

    /// Whether `seq` is SACKed.
    pub(crate) fn is_sacked(&self, seq: SeqNumber) -> bool {
        self.ranges().iter().any(|&(s, e)| s <= seq && seq < e)
    }

    /// The end of the hole that starts at the unSACKed `seq`: the start
    /// of the next SACKed range, or `limit`.
    pub(crate) fn hole_end(&self, seq: SeqNumber, limit: SeqNumber) -> SeqNumber {
        self.ranges()
            .iter()
            .find(|&&(s, _)| s > seq)
            .map_or(limit, |&(s, _)| s.min(limit))
    }

    /// The first unSACKed sequence number at or above `seq`.
    pub(crate) fn next_unsacked(&self, seq: SeqNumber) -> SeqNumber {
        let mut at = seq;
        for &(s, e) in self.ranges() {
            if s <= at && at < e {
                at = e;
            }
        }
        at
    }

    /// RFC 6675 §4 IsLost() as a boundary: every unSACKed sequence number
    /// below the returned one is lost ("DupThresh discontiguous SACKed
    /// sequences have arrived above" it, or "more than (DupThresh − 1) ·
    /// SMSS bytes ... have been SACKed" above it). The SACKed bytes above a
    /// hole only shrink as the hole gets higher, so the lost holes are all
    /// below one point. SND.UNA-or-less if nothing is lost.
    pub(crate) fn lost_below(&self, mss: usize) -> Option<SeqNumber> {
        let mut bytes = 0;
        for (count, &(s, e)) in self.ranges().iter().rev().enumerate() {
            bytes += e.since(s);
            if count + 1 >= DUP_THRESH || bytes > (DUP_THRESH - 1) * mss {
                return Some(s);
            }
        }
        None
    }

    /// RFC 6675 §4 IsLost(seq).
    pub(crate) fn is_lost(&self, seq: SeqNumber, mss: usize) -> bool {
        !self.is_sacked(seq) && self.lost_below(mss).is_some_and(|l| seq < l)
    }

    /// UnSACKed bytes in `[from, to)`.
    fn unsacked(&self, from: SeqNumber, to: SeqNumber) -> usize {
        if to <= from {
            return 0;
        }
        let sacked: usize = self
            .ranges()
            .iter()
            .map(|&(s, e)| {
                let (s, e) = (s.max(from), e.min(to));
                if e > s { e.since(s) } else { 0 }
            })
            .sum();
        to.since(from) - sacked
    }

    /// RFC 6675 §4 SetPipe(): of the octets from SND.UNA to `snd_max`,
    /// every unSACKed one counts once if it is not lost, and once more if
    /// it was retransmitted (below `high_rxt`).
    pub(crate) fn pipe(
        &self,
        una: SeqNumber,
        snd_max: SeqNumber,
        high_rxt: SeqNumber,
        mss: usize,
    ) -> usize {
        let outstanding = self.unsacked(una, snd_max);
        let lost = self
            .lost_below(mss)
            .map_or(0, |l| self.unsacked(una, l.min(snd_max)));
        let retransmitted = self.unsacked(una, high_rxt.min(snd_max));
        outstanding - lost + retransmitted
    }
}

/// The receiver's memory of which out-of-order segments arrived last, so
/// that the first SACK block is the one holding the most recent segment
/// and the next ones repeat the most recently reported blocks (RFC 2018
/// §4).
#[derive(Debug, Clone, Default)]
pub(crate) struct RecentSacks {
    seqs: [Option<SeqNumber>; 4],
}

impl RecentSacks {
    /// An out-of-order segment starting at `seq` was queued; `same_block`
    /// tells whether two sequence numbers lie in one queued range now.
    pub(crate) fn push(
        &mut self,
        seq: SeqNumber,
        same_block: impl Fn(SeqNumber, SeqNumber) -> bool,
    ) {
        let mut next = [Some(seq), None, None, None];
        let mut n = 1;
        for s in self.seqs.iter().flatten() {
            if n < next.len() && !same_block(*s, seq) {
                next[n] = Some(*s);
                n += 1;
            }
        }
        self.seqs = next;
    }

    /// The remembered sequence numbers, most recent first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = SeqNumber> + '_ {
        self.seqs.iter().flatten().copied()
    }

    /// Forgets everything (the out-of-order queue emptied).
    pub(crate) fn clear(&mut self) {
        self.seqs = [None; 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: usize = 100;

    fn s(n: u32) -> SeqNumber {
        SeqNumber(n.wrapping_add(u32::MAX - 1000))
    }

    fn sb(blocks: &[(u32, u32)]) -> Scoreboard {
        let mut b = Scoreboard::default();
        for &(l, r) in blocks {
            b.update(s(0), s(10_000), s(l), s(r));
        }
        b
    }

    #[test]
    fn update_merges_and_ignores_invalid() {
        let mut b = sb(&[(300, 400), (100, 200), (500, 600)]);
        assert_eq!(
            b.ranges(),
            &[(s(100), s(200)), (s(300), s(400)), (s(500), s(600))]
        );
        assert!(!b.update(s(0), s(10_000), s(300), s(400)), "nothing new");
        assert!(
            b.update(s(0), s(10_000), s(200), s(300)),
            "adjacent ranges join"
        );
        assert_eq!(b.ranges(), &[(s(100), s(400)), (s(500), s(600))]);
        assert!(b.update(s(0), s(10_000), s(50), s(700)));
        assert_eq!(b.ranges(), &[(s(50), s(700))]);
        // Reversed, empty, below SND.UNA, beyond SND.MAX: ignored.
        for (l, r) in [(900, 800), (900, 900), (0, 0), (9_000, 10_001)] {
            assert!(!b.update(s(0), s(10_000), s(l), s(r)), "{l}..{r}");
        }
        b.advance(s(600));
        assert_eq!(b.ranges(), &[(s(600), s(700))]);
        b.advance(s(700));
        assert!(b.is_empty());
    }

    #[test]
    fn bounded() {
        let mut b = Scoreboard::default();
        for i in 0..MAX_RANGES as u32 + 5 {
            b.update(s(0), s(100_000), s(i * 20 + 10), s(i * 20 + 15));
        }
        assert_eq!(b.ranges().len(), MAX_RANGES);
        assert!(
            b.update(s(0), s(100_000), s(15), s(30)),
            "merging still works"
        );
        assert_eq!(b.ranges().len(), MAX_RANGES - 1);
    }

    #[test]
    fn is_lost_and_pipe() {
        // Holes: 0..100, 200..300, 400..500, 600..700; SACKed: 100..200,
        // 300..400, 500..600; sent up to 800.
        let b = sb(&[(100, 200), (300, 400), (500, 600)]);
        assert_eq!(b.lost_below(MSS), Some(s(100)), "3 ranges above 0");
        assert!(b.is_lost(s(0), MSS));
        assert!(!b.is_lost(s(200), MSS), "only 2 SACKed segments above");
        assert!(!b.is_lost(s(150), MSS), "SACKed");
        // Bytes rule: 250 > 2·MSS SACKed above one hole.
        let c = sb(&[(100, 350)]);
        assert!(c.is_lost(s(50), MSS));
        assert!(
            !sb(&[(100, 300)]).is_lost(s(50), MSS),
            "exactly 2·MSS is not more"
        );
        // pipe: unSACKed 0..800 = 500, lost 0..100 = 100, nothing resent.
        assert_eq!(b.pipe(s(0), s(800), s(0), MSS), 400);
        // After retransmitting 0..100 it is in flight again.
        assert_eq!(b.pipe(s(0), s(800), s(100), MSS), 500);
        assert_eq!(b.next_unsacked(s(100)), s(200));
        assert_eq!(b.hole_end(s(200), s(800)), s(300));
        assert_eq!(b.hole_end(s(600), s(800)), s(800));
        assert_eq!(b.high_sacked(), Some(s(600)));
    }

    #[test]
    fn recent_blocks_most_recent_first() {
        let mut r = RecentSacks::default();
        let same = |a: SeqNumber, b: SeqNumber| a.0 / 100 == b.0 / 100;
        for q in [210, 520, 230, 810, 900, 905] {
            r.push(SeqNumber(q), same);
        }
        assert_eq!(
            r.iter().map(|q| q.0).collect::<Vec<_>>(),
            vec![905, 810, 230, 520]
        );
        r.clear();
        assert_eq!(r.iter().count(), 0);
    }
}
