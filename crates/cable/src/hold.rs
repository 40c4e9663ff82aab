//! Local backpressure for the ends of devices that originate their own
//! traffic (hosts, DNS and web servers).
//!
//! When the kernel refuses a datagram (`EAGAIN`: the socket's send buffer
//! is full), a router drops it like a real router whose output queue is
//! full (counted as `drop_queue_full`). A host must not: Linux keeps its
//! own segments in the qdisc and TCP Small Queues stops the sender instead
//! of losing them, so a clean path never costs a retransmission. An end
//! that [holds](crate::CableEnd::hold_when_full) keeps refused datagrams
//! here, in order, and a drain task sends them as soon as the kernel takes
//! them again; while anything is held, later datagrams queue behind it so
//! the peer sees them in the order they were sent.
//!
//! The queue is bounded ([`HOLD_LIMIT_BYTES`]): past it, datagrams are
//! dropped and counted as a full queue, as the kernel's own qdisc would.
//! Allocation happens only here, on the slow path, never when the kernel
//! takes the datagram at once.

use crate::CableEnd;
use crate::counters::DropReason;
use crate::end::{Inner, Transport};
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Weak};
use std::time::Duration;

/// Most bytes an end holds back (a few congestion windows of a fast TCP
/// flow; Linux's default `txqueuelen` of 1000 full-size frames is 1.5 MB).
pub const HOLD_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// How long the drain task waits between attempts. The socket is registered
/// with the reactor for readability only (see [`Transport`]), so the drain
/// task retries on a short timer instead of waiting for writability.
const RETRY: Duration = Duration::from_millis(1);

/// The hold state of one end.
#[derive(Debug, Default)]
pub(crate) struct Hold {
    /// Whether refused datagrams are held (hosts) or dropped (routers).
    pub(crate) enabled: AtomicBool,
    /// Whether anything is held (checked without the lock on every send).
    holding: AtomicBool,
    /// The held datagrams; `draining` is changed only under this lock.
    queue: Mutex<HoldState>,
}

#[derive(Debug, Default)]
struct HoldState {
    queue: HoldQueue,
    /// Whether a drain task runs.
    draining: bool,
}

impl CableEnd {
    /// Makes this end hold the datagrams the kernel refuses (a host's own
    /// traffic) instead of dropping them (a router's forwarded traffic).
    pub fn hold_when_full(&self, hold: bool) {
        self.inner.hold.enabled.store(hold, Ordering::Relaxed);
    }
}

impl Inner {
    /// Whether `bytes` must queue behind held datagrams (keeping order);
    /// if so it is held (or dropped at the limit) and `true` returned.
    pub(crate) fn hold_if_holding(&self, bytes: &[u8], frame_start: usize) -> bool {
        if !self.hold.holding.load(Ordering::Acquire) {
            return false;
        }
        let mut state = self.hold.queue.lock().unwrap_or_else(|p| p.into_inner());
        if state.queue.is_empty() {
            return false;
        }
        self.hold_locked(&mut state, bytes, frame_start);
        true
    }

    /// The kernel refused `bytes` with `WouldBlock`: hold it when this end
    /// holds, else drop it as a full queue.
    pub(crate) fn refused(&self, bytes: &[u8], frame_start: usize) {
        if !self.hold.enabled.load(Ordering::Relaxed) {
            self.counters.drop_frame(DropReason::QueueFull);
            return;
        }
        let mut state = self.hold.queue.lock().unwrap_or_else(|p| p.into_inner());
        self.hold_locked(&mut state, bytes, frame_start);
    }

    fn hold_locked(&self, state: &mut HoldState, bytes: &[u8], frame_start: usize) {
        if !state.queue.push(bytes, frame_start) {
            self.counters.drop_frame(DropReason::QueueFull);
            return;
        }
        self.counters.held.fetch_add(1, Ordering::Relaxed);
        self.hold.holding.store(true, Ordering::Release);
        if !state.draining {
            state.draining = spawn_drain(self.me.clone());
        }
    }

    /// Sends what is held; `true` when the queue is empty (and the drain
    /// task may stop).
    fn drain_held(&self) -> bool {
        let mut state = self.hold.queue.lock().unwrap_or_else(|p| p.into_inner());
        let Transport::Udp { socket, peer } = &self.transport else {
            state.queue = HoldQueue::default();
            return self.stop_draining(&mut state);
        };
        let Some(to) = peer.current() else {
            return false;
        };
        let outcome = state.queue.drain(
            |bytes| socket.get_ref().send_to(bytes, to),
            |bytes, frame_start| self.after_send(bytes, frame_start),
            |e| {
                self.counters.drop_frame(DropReason::SendError);
                tracing::debug!(interface = %self.name, error = %e, "held send failed");
            },
        );
        match outcome {
            Drained::Empty => self.stop_draining(&mut state),
            Drained::Blocked => false,
        }
    }

    fn stop_draining(&self, state: &mut HoldState) -> bool {
        state.draining = false;
        self.hold.holding.store(false, Ordering::Release);
        true
    }
}

/// Retries the held datagrams of the end behind `me` until none is left or
/// the end is gone; `false` when there is no runtime to run it on.
fn spawn_drain(me: Weak<Inner>) -> bool {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return false;
    };
    runtime.spawn(async move {
        loop {
            tokio::time::sleep(RETRY).await;
            let Some(inner) = me.upgrade() else { return };
            if inner.drain_held() {
                return;
            }
        }
    });
    true
}

/// Datagrams waiting for the kernel, oldest first.
#[derive(Debug, Default)]
pub(crate) struct HoldQueue {
    items: VecDeque<(Box<[u8]>, usize)>,
    bytes: usize,
}

/// What [`HoldQueue::drain`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drained {
    /// Every held datagram went out.
    Empty,
    /// The kernel refused again; the rest waits.
    Blocked,
}

impl HoldQueue {
    /// Whether nothing is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Datagrams held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Holds a copy of `bytes` (a frame starting at `frame_start`); returns
    /// `false`, holding nothing, when the queue is at its limit.
    pub(crate) fn push(&mut self, bytes: &[u8], frame_start: usize) -> bool {
        if self.bytes + bytes.len() > HOLD_LIMIT_BYTES {
            return false;
        }
        self.bytes += bytes.len();
        self.items.push_back((bytes.into(), frame_start));
        true
    }

    /// Sends held datagrams in order with `send` until the queue is empty or
    /// `send` reports `WouldBlock`; `sent` sees each datagram that went out.
    /// A datagram refused with another error is dropped (`failed` sees it),
    /// as a single send's failure would drop it.
    pub(crate) fn drain(
        &mut self,
        mut send: impl FnMut(&[u8]) -> io::Result<usize>,
        mut sent: impl FnMut(&[u8], usize),
        mut failed: impl FnMut(&io::Error),
    ) -> Drained {
        while let Some((bytes, frame_start)) = self.items.front() {
            match send(bytes) {
                Ok(_) => sent(bytes, *frame_start),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Drained::Blocked,
                Err(e) => failed(&e),
            }
            if let Some((bytes, _)) = self.items.pop_front() {
                self.bytes -= bytes.len();
            }
        }
        Drained::Empty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn would_block() -> io::Error {
        io::Error::from(io::ErrorKind::WouldBlock)
    }

    #[test]
    fn drains_in_order_across_refusals() {
        let mut hold = HoldQueue::default();
        for i in 0..5u8 {
            assert!(hold.push(&[i; 10], 2));
        }
        // The kernel takes two, then refuses.
        let mut wire = Vec::new();
        let mut budget = 2;
        let outcome = hold.drain(
            |b| {
                if budget == 0 {
                    return Err(would_block());
                }
                budget -= 1;
                wire.push(b[0]);
                Ok(b.len())
            },
            |_, start| assert_eq!(start, 2),
            |e| panic!("unexpected {e}"),
        );
        assert_eq!(outcome, Drained::Blocked);
        assert_eq!(hold.len(), 3);
        // Writable again: the rest, in order.
        let outcome = hold.drain(
            |b| {
                wire.push(b[0]);
                Ok(b.len())
            },
            |_, _| {},
            |e| panic!("unexpected {e}"),
        );
        assert_eq!(outcome, Drained::Empty);
        assert_eq!(wire, vec![0, 1, 2, 3, 4]);
        assert!(hold.is_empty());
    }

    #[test]
    fn refuses_past_the_limit_and_takes_again_after_draining() {
        let mut hold = HoldQueue::default();
        let big = vec![0u8; 64 * 1024];
        let fitted = (0..).take_while(|_| hold.push(&big, 0)).count();
        assert_eq!(fitted, HOLD_LIMIT_BYTES / big.len());
        assert!(!hold.push(&big, 0), "the limit holds");
        hold.drain(|b| Ok(b.len()), |_, _| {}, |_| {});
        assert!(hold.push(&big, 0), "room again once drained");
    }

    #[test]
    fn a_hard_error_drops_one_datagram_and_goes_on() {
        let mut hold = HoldQueue::default();
        hold.push(b"first", 0);
        hold.push(b"second", 0);
        let mut failures = 0;
        let mut sent = Vec::new();
        let outcome = hold.drain(
            |b| {
                if b == b"first" {
                    Err(io::Error::from(io::ErrorKind::ConnectionRefused))
                } else {
                    Ok(b.len())
                }
            },
            |b, _| sent.push(b.to_vec()),
            |_| failures += 1,
        );
        assert_eq!(outcome, Drained::Empty);
        assert_eq!(failures, 1);
        assert_eq!(sent, vec![b"second".to_vec()]);
    }
}
