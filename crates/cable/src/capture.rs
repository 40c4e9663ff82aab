//! Capture taps: a cable end copies frames to subscribers only while someone
//! listens, through bounded queues; a slow consumer loses frames (counted),
//! it never slows the link.

use crate::counters::InterfaceCounters;
use crate::pcapng::CaptureDirection;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// Frames a subscriber may have queued before new ones are dropped.
pub const DEFAULT_CAPTURE_QUEUE: usize = 4096;

/// One captured frame (FCS included).
#[derive(Debug, Clone)]
pub struct CapturedFrame {
    /// Wall-clock time of capture, microseconds since the Unix epoch.
    pub timestamp_micros: u64,
    /// Received or sent.
    pub direction: CaptureDirection,
    /// The frame bytes as on the wire, FCS included.
    pub data: Vec<u8>,
}

/// The set of subscribers of one cable end.
#[derive(Debug, Default)]
pub struct CaptureTap {
    active: AtomicBool,
    subscribers: Mutex<Vec<mpsc::Sender<CapturedFrame>>>,
}

impl CaptureTap {
    /// Starts a new subscription; frames flow until the receiver is dropped.
    pub fn subscribe(&self, queue: usize) -> mpsc::Receiver<CapturedFrame> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let mut subs = self
            .subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        subs.push(tx);
        self.active.store(true, Ordering::Release);
        rx
    }

    /// Number of live subscribers.
    pub fn subscriber_count(&self) -> usize {
        let mut subs = self
            .subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        subs.retain(|s| !s.is_closed());
        subs.len()
    }

    /// Whether any capture is running (cheap check for the hot path).
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub(crate) fn emit(
        &self,
        direction: CaptureDirection,
        frame: &[u8],
        counters: &InterfaceCounters,
    ) {
        if !self.is_active() {
            return;
        }
        let timestamp_micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        let mut subs = self
            .subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        subs.retain(|s| !s.is_closed());
        for sub in subs.iter() {
            let captured = CapturedFrame {
                timestamp_micros,
                direction,
                data: frame.to_vec(),
            };
            if sub.try_send(captured).is_err() {
                counters.capture_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        if subs.is_empty() {
            self.active.store(false, Ordering::Release);
        }
    }
}
