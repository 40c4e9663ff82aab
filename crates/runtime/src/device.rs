//! What a device implements.
//!
//! This module depends on nothing that drives a device: how a device is
//! built and started ([`crate::DeviceSpec`], in `spec`) and the handle
//! applications hold ([`crate::DeviceHandle`]) build on [`Device`], never
//! the other way round.

use crate::api::Table;
use vnet_stack::Transmit;
use vnet_stack::time::Instant;

/// The protocol logic of one device, driven by the runtime. All methods are
/// synchronous and must not block: they run under the device lock on the
/// forwarding path.
pub trait Device: Send + 'static {
    /// A frame (FCS already checked and removed) arrived on `port`. The
    /// buffer may be modified and transmitted in place.
    fn on_frame(&mut self, now: Instant, port: usize, frame: &mut [u8], tx: &mut dyn Transmit);
    /// Timers: called at or after [`Device::poll_at`].
    fn poll(&mut self, now: Instant, tx: &mut dyn Transmit);
    /// When [`Device::poll`] next needs to run.
    fn poll_at(&self) -> Option<Instant>;
    /// Names of the tables `vnet show` can print (`mac`, `arp`, `routes`).
    fn tables(&self) -> Vec<&'static str>;
    /// One table, or `None` if the name is unknown.
    fn table(&self, now: Instant, name: &str) -> Option<Table>;
    /// Device-level counters as JSON.
    fn counters(&self) -> serde_json::Value;
    /// The address interface `port` uses now, when it is not fixed by the
    /// configuration (a DHCP lease); `None` keeps the configured one.
    fn live_address(&self, port: usize) -> Option<String> {
        let _ = port;
        None
    }
    /// Whether the device is ready for traffic (e.g. a DHCP host holds a
    /// lease). `/health` answers 503 until it is, so `vnet up` and compose
    /// health checks wait for it.
    fn ready(&self) -> bool {
        true
    }
    /// The device is stopping: last words (e.g. a DHCP RELEASE).
    fn on_shutdown(&mut self, now: Instant, tx: &mut dyn Transmit) {
        let _ = (now, tx);
    }
    /// A port's link was brought up or down administratively.
    fn link_changed(&mut self, now: Instant, port: usize, up: bool) {
        let _ = (now, port, up);
    }
}
