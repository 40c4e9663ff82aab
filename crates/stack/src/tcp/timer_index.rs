//! Connections ordered by their next timer, so the stack's next deadline is
//! the first entry instead of a scan of every socket (TIME-WAIT ones
//! included) after each call; like the ordered timer structures of BSD
//! and Linux stacks, the cost of a change is logarithmic in the number of
//! connections.

use crate::socket::Handle;
use crate::time::Instant;
use std::collections::BTreeSet;

/// Every connection with a timer armed, keyed by when it fires.
#[derive(Debug, Default)]
pub(crate) struct TimerIndex {
    by_deadline: BTreeSet<(Instant, Handle)>,
}

impl TimerIndex {
    /// Moves connection `h` from `indexed` (where it is filed now, kept by
    /// the connection) to `next` (its new earliest timer, `None`: none).
    pub(crate) fn refile(
        &mut self,
        h: Handle,
        indexed: &mut Option<Instant>,
        next: Option<Instant>,
    ) {
        if *indexed == next {
            return;
        }
        if let Some(old) = indexed.take() {
            self.by_deadline.remove(&(old, h));
        }
        if let Some(at) = next {
            self.by_deadline.insert((at, h));
        }
        *indexed = next;
    }

    /// The earliest deadline of any connection.
    pub(crate) fn first(&self) -> Option<Instant> {
        self.by_deadline.first().map(|&(at, _)| at)
    }

    /// The connections whose timers are due at `now`, earliest first.
    pub(crate) fn due(&self, now: Instant) -> Vec<Handle> {
        self.by_deadline
            .iter()
            .take_while(|&&(at, _)| at <= now)
            .map(|&(_, h)| h)
            .collect()
    }

    /// Number of connections filed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_deadline.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::Slab;

    #[test]
    fn refile_moves_and_removes_entries() {
        let mut slab = Slab::new(4);
        let (a, b) = (slab.insert(()).unwrap(), slab.insert(()).unwrap());
        let at = |ms| Instant::from_millis(ms);
        let mut index = TimerIndex::default();
        let (mut fa, mut fb) = (None, None);
        index.refile(a, &mut fa, Some(at(30)));
        index.refile(b, &mut fb, Some(at(10)));
        assert_eq!(index.first(), Some(at(10)));
        assert_eq!(index.due(at(20)), vec![b]);
        // b's timer moves later: a is now first; the old entry is gone.
        index.refile(b, &mut fb, Some(at(50)));
        assert_eq!((index.first(), index.len()), (Some(at(30)), 2));
        assert_eq!(index.due(at(60)), vec![a, b]);
        index.refile(a, &mut fa, None);
        assert_eq!((index.first(), index.len(), fa), (Some(at(50)), 1, None));
        index.refile(b, &mut fb, None);
        assert_eq!((index.first(), index.len()), (None, 0));
    }
}
