//! The delay line: frames an impairment holds back wait here, in a timer
//! queue served by one task per cable end, and leave at their due time.
//! The forwarding path only enqueues (bounded, never blocking).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A frame waiting to leave.
#[derive(Debug)]
pub(crate) struct Scheduled {
    /// When it leaves.
    pub due: Instant,
    /// Order of arrival, to keep FIFO order among equal due times.
    pub seq: u64,
    /// The bytes handed to the transport (envelope + frame + FCS, or a raw TAP frame).
    pub bytes: Vec<u8>,
    /// Where the frame starts in `bytes` (after the envelope).
    pub frame_start: usize,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

/// Something that puts bytes on the wire now.
pub(crate) trait Emit: Send + Sync + 'static {
    fn emit_now(&self, bytes: &[u8], frame_start: usize);
}

/// Starts the task serving a delay line; it ends when every sender is
/// dropped and the queue is empty.
pub(crate) fn spawn<E: Emit>(out: Arc<E>, capacity: usize) -> mpsc::Sender<Scheduled> {
    let (tx, mut rx) = mpsc::channel::<Scheduled>(capacity.max(1));
    tokio::spawn(async move {
        let mut heap: BinaryHeap<Reverse<Scheduled>> = BinaryHeap::new();
        let mut open = true;
        loop {
            let next_due = heap.peek().map(|Reverse(s)| s.due);
            tokio::select! {
                item = rx.recv(), if open => match item {
                    Some(s) => heap.push(Reverse(s)),
                    None => open = false,
                },
                _ = async {
                    match next_due {
                        Some(due) => tokio::time::sleep_until(due).await,
                        None => std::future::pending().await,
                    }
                } => {
                    let now = Instant::now();
                    while heap.peek().is_some_and(|Reverse(s)| s.due <= now) {
                        if let Some(Reverse(s)) = heap.pop() {
                            out.emit_now(&s.bytes, s.frame_start);
                        }
                    }
                }
            }
            if !open && heap.is_empty() {
                break;
            }
        }
    });
    tx
}
