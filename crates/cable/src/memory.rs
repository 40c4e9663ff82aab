//! In-memory cables for the simulation (`vnet sim`): both ends live in one
//! process and exchange the very datagrams a UDP cable would carry
//! (envelope, frame, FCS) through a bounded queue per direction.
//!
//! Everything above the transport is the cable end's own code: link state,
//! impairments (whose delays run on tokio time, so on the simulation's
//! virtual clock), sequence tracking, FCS checks, counters and captures.
//! A [`WireLog`] sees every datagram as it is put on the wire, which is how
//! the simulation writes its event log.

use crate::counters::DropReason;
use crate::end::{CableEnd, Inner, Received, Transport};
use crate::envelope::TraceContext;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::Instant;

/// Datagrams one direction of an in-memory cable holds before dropping
/// (counted as a full queue): far more than any window in flight.
pub const MEMORY_QUEUE: usize = 16 * 1024;

/// Watches the datagrams put on in-memory cables.
pub trait WireLog: Send + Sync {
    /// `wire` (an Ethernet frame with FCS, as on the wire) left the end
    /// labelled `from` for the end labelled `to`, carrying `trace`.
    fn sent(&self, from: &str, to: &str, wire: &[u8], trace: Option<&TraceContext>);
}

/// The memory transport of one cable end.
pub(crate) struct MemoryTransport {
    /// "device iface" of this end, for the log.
    label: Arc<str>,
    /// "device iface" of the other end.
    peer_label: Arc<str>,
    out: mpsc::Sender<(Instant, Vec<u8>)>,
    inbox: tokio::sync::Mutex<mpsc::Receiver<(Instant, Vec<u8>)>>,
    log: Option<Arc<dyn WireLog>>,
    /// How long a datagram takes to reach the other end.
    latency: Duration,
}

/// One end of an in-memory cable before it becomes a [`CableEnd`]:
/// interface name and log label.
#[derive(Debug, Clone)]
pub struct MemoryEndSpec {
    /// Interface name (`eth0`).
    pub iface: String,
    /// How the log names this end (`client eth0`).
    pub label: String,
}

impl CableEnd {
    /// A cable whose two ends exchange datagrams in memory, each arriving
    /// `latency` after it was sent (on tokio's clock), in order.
    pub fn memory_pair(
        a: &MemoryEndSpec,
        b: &MemoryEndSpec,
        latency: Duration,
        log: Option<Arc<dyn WireLog>>,
    ) -> (CableEnd, CableEnd) {
        let (a_tx, b_rx) = mpsc::channel(MEMORY_QUEUE);
        let (b_tx, a_rx) = mpsc::channel(MEMORY_QUEUE);
        let a_label: Arc<str> = a.label.as_str().into();
        let b_label: Arc<str> = b.label.as_str().into();
        let end_a = CableEnd::with_transport(
            &a.iface,
            Transport::Memory(MemoryTransport {
                label: Arc::clone(&a_label),
                peer_label: Arc::clone(&b_label),
                out: a_tx,
                inbox: tokio::sync::Mutex::new(a_rx),
                log: log.clone(),
                latency,
            }),
        );
        let end_b = CableEnd::with_transport(
            &b.iface,
            Transport::Memory(MemoryTransport {
                label: b_label,
                peer_label: a_label,
                out: b_tx,
                inbox: tokio::sync::Mutex::new(b_rx),
                log,
                latency,
            }),
        );
        (end_a, end_b)
    }

    pub(crate) async fn recv_memory<'b>(
        &self,
        memory: &MemoryTransport,
        buf: &'b mut [u8],
    ) -> io::Result<Received<'b>> {
        let mut inbox = memory.inbox.lock().await;
        loop {
            let Some((due, datagram)) = inbox.recv().await else {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the other end of the in-memory cable is gone",
                ));
            };
            tokio::time::sleep_until(due).await;
            let len = datagram.len().min(buf.len());
            buf[..len].copy_from_slice(&datagram[..len]);
            if let Some((offset, frame_len, trace)) = self.accept_datagram(buf, datagram.len()) {
                return Ok(Received {
                    frame: &mut buf[offset..offset + frame_len],
                    trace,
                });
            }
        }
    }
}

impl Inner {
    /// Puts one datagram (envelope at 0, frame from `frame_start`) on an
    /// in-memory cable; a full queue drops it, counted.
    pub(crate) fn transmit_memory(
        &self,
        memory: &MemoryTransport,
        bytes: &[u8],
        frame_start: usize,
    ) {
        let due = Instant::now() + memory.latency;
        match memory.out.try_send((due, bytes.to_vec())) {
            Ok(()) => {
                if let Some(log) = &memory.log {
                    let trace = crate::envelope::Envelope::decode(bytes)
                        .ok()
                        .and_then(|(e, _)| e.trace);
                    log.sent(
                        &memory.label,
                        &memory.peer_label,
                        &bytes[frame_start..],
                        trace.as_ref(),
                    );
                }
                self.after_send(bytes, frame_start);
            }
            Err(TrySendError::Full(_)) => self.counters.drop_frame(DropReason::QueueFull),
            Err(TrySendError::Closed(_)) => self.counters.drop_frame(DropReason::NoPeer),
        }
    }
}

impl MemoryTransport {
    /// The log label of this end.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }
}
