//! The shared state of a running device and the handle applications use.

use crate::clock::Clock;
use crate::device::Device;
use crate::traced::{MAX_EVENTS_PER_CALL, Tracing};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
use vnet_cable::{CableEnd, TraceContext};
use vnet_stack::Transmit;
use vnet_stack::time::Instant;
use vnet_topology::device::DeviceConfig;
use vnet_wire::trace::TraceEvent;

pub(crate) struct Shared<D> {
    pub(crate) device: Mutex<D>,
    pub(crate) ports: Vec<Arc<CableEnd>>,
    pub(crate) clock: Clock,
    pub(crate) config: DeviceConfig,
    /// Wakes the timer task when a deadline earlier than the armed one appears.
    pub(crate) timer: Notify,
    /// The deadline the timer task sleeps until, in stack microseconds (MAX = none).
    pub(crate) armed: AtomicU64,
    /// Trace export state: budgets and counters.
    pub(crate) tracing: Tracing,
}

/// Sends frames out of the device's cable ends.
pub(crate) struct PortTx<'a> {
    pub(crate) ports: &'a [Arc<CableEnd>],
    /// The trace span of the work at hand; frames sent carry it.
    pub(crate) trace: Option<TraceContext>,
    /// What the device recorded about traced traffic.
    pub(crate) events: Vec<TraceEvent>,
    pub(crate) tracing: &'a Tracing,
}

impl Transmit for PortTx<'_> {
    fn transmit(&mut self, port: usize, frame: &[u8]) {
        let trace = self.trace;
        self.transmit_traced(port, frame, trace);
    }

    fn transmit_traced(&mut self, port: usize, frame: &[u8], trace: Option<TraceContext>) {
        match self.ports.get(port) {
            Some(end) => end.send(frame, trace.as_ref()),
            None => tracing::warn!(port, "device transmitted on a port that does not exist"),
        }
    }

    fn trace(&self) -> Option<TraceContext> {
        self.trace
    }

    fn record(&mut self, event: TraceEvent) {
        if vnet_telemetry::exporting() && self.events.len() < MAX_EVENTS_PER_CALL {
            self.events.push(event);
        } else {
            self.tracing
                .events_dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl<D: Device> Shared<D> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, D> {
        // A panic under the lock is a bug already logged; keep the device running.
        self.device
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the device with a transmitter whose frames carry
    /// `trace`, re-arms the timer if the device now needs polling earlier,
    /// and exports what the device recorded about traced traffic.
    pub(crate) fn with<R>(
        &self,
        trace: Option<TraceContext>,
        f: impl FnOnce(&mut D, Instant, &mut dyn Transmit) -> R,
    ) -> R {
        let (result, events) = self.run(trace, f);
        if !events.is_empty() {
            self.tracing.emit_events(&self.clock, events);
        }
        result
    }

    /// [`Shared::with`] without exporting: the recorded events are returned.
    pub(crate) fn run<R>(
        &self,
        trace: Option<TraceContext>,
        f: impl FnOnce(&mut D, Instant, &mut dyn Transmit) -> R,
    ) -> (R, Vec<TraceEvent>) {
        let mut device = self.lock();
        let now = self.clock.now();
        let mut tx = PortTx {
            ports: &self.ports,
            trace,
            events: Vec::new(),
            tracing: &self.tracing,
        };
        let result = f(&mut device, now, &mut tx);
        let events = tx.events;
        let next = device
            .poll_at()
            .map(|t| t.total_micros())
            .unwrap_or(u64::MAX);
        drop(device);
        if next < self.armed.load(Ordering::Acquire) {
            self.timer.notify_one();
        }
        (result, events)
    }
}

/// A handle to a running device, for applications started by `vnet exec`.
pub struct DeviceHandle<D> {
    pub(crate) shared: Arc<Shared<D>>,
}

impl<D> Clone for DeviceHandle<D> {
    fn clone(&self) -> Self {
        DeviceHandle {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<D: Device> DeviceHandle<D> {
    /// The current stack time.
    pub fn now(&self) -> Instant {
        self.shared.clock.now()
    }

    /// The device's configuration.
    pub fn config(&self) -> &DeviceConfig {
        &self.shared.config
    }

    /// Sleeps until stack time `at`.
    pub async fn sleep_until(&self, at: Instant) {
        tokio::time::sleep_until(self.shared.clock.to_tokio(at)).await
    }

    /// Copies of the frames interface `port` receives, as a capture sees
    /// them: the view a raw socket gives, for an application that reads
    /// answers its stack has no socket for (`traceroute -T`'s SYN-ACKs and
    /// the ICMP errors quoting its SYNs). The subscription counts among the
    /// interface's captures while it lives; `None` if there is no such port.
    pub fn received_frames(&self, port: usize) -> Option<ReceivedFrames> {
        let end = self.shared.ports.get(port)?;
        let rx = end.capture().subscribe(RECEIVED_FRAMES_QUEUE);
        Some(ReceivedFrames { rx })
    }

    /// Runs `f` with the device locked and a transmitter for its ports.
    /// Keep `f` short: it holds up the forwarding path. What `f` sends
    /// continues the trace of the caller's current span (when traces are
    /// exported), so an application's frames join its trace.
    pub fn with<R>(&self, f: impl FnOnce(&mut D, Instant, &mut dyn Transmit) -> R) -> R {
        self.shared.with(vnet_telemetry::current_context(), f)
    }

    /// The wall-clock time of stack time `at`.
    pub fn system_time(&self, at: Instant) -> std::time::SystemTime {
        self.shared.clock.system_time(at)
    }

    /// The cable end of interface `port`, if there is one.
    pub fn port(&self, port: usize) -> Option<&CableEnd> {
        self.shared.ports.get(port).map(|end| &**end)
    }

    /// Changes the link state of interface `port` (each direction given)
    /// and tells the device whether the link is now fully up, as `vnet
    /// link` does. Unknown ports are ignored.
    pub fn set_link(&self, port: usize, changes: &[(vnet_cable::Direction, bool)]) {
        let Some(end) = self.shared.ports.get(port) else {
            return;
        };
        for (direction, up) in changes {
            end.set_link(*direction, *up);
        }
        let status = end.link_status();
        let fully_up = status.rx_up && status.tx_up;
        self.shared
            .with(None, |dev, now, _tx| dev.link_changed(now, port, fully_up));
    }

    /// One of the device's tables (`vnet show`), if it has one of that name.
    pub fn table(&self, name: &str) -> Option<crate::api::Table> {
        let now = self.now();
        self.shared.lock().table(now, name)
    }

    /// Whether the device is ready for traffic ([`Device::ready`]).
    pub fn ready(&self) -> bool {
        self.shared.lock().ready()
    }

    /// The device's own counters ([`Device::counters`]).
    pub fn counters(&self) -> serde_json::Value {
        self.shared.lock().counters()
    }
}

/// Frames a [`ReceivedFrames`] holds before dropping more (a capture's
/// overflow is counted by the cable end, never blocks it).
const RECEIVED_FRAMES_QUEUE: usize = 1024;

/// The frames one interface receives ([`DeviceHandle::received_frames`]).
pub struct ReceivedFrames {
    rx: tokio::sync::mpsc::Receiver<vnet_cable::capture::CapturedFrame>,
}

impl ReceivedFrames {
    /// The next frame received, as on the wire (padding and FCS included);
    /// `None` once the interface is gone.
    pub async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            let frame = self.rx.recv().await?;
            if frame.direction == vnet_cable::pcapng::CaptureDirection::Inbound {
                return Some(frame.data);
            }
        }
    }
}
