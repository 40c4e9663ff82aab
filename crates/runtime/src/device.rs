//! What a device implements.

use crate::api::Table;
use crate::exec::ExecOutput;
use crate::handle::DeviceHandle;
use std::future::Future;
use std::pin::Pin;
use vnet_stack::Transmit;
use vnet_stack::time::Instant;
use vnet_topology::device::{DeviceConfig, DeviceKind};

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

/// The future an exec'd application returns: its exit code.
pub type ExecFuture = Pin<Box<dyn Future<Output = i32> + Send>>;

/// Runs an application (`ping`, `traceroute`, …) inside the device.
pub type ExecFn<D> = fn(DeviceHandle<D>, Vec<String>, ExecOutput) -> ExecFuture;

/// A long-running service a device starts with (e.g. a DNS server loop).
/// It runs until it returns or the device shuts down.
pub type StartFn<D> = fn(DeviceHandle<D>) -> ExecFuture;

/// How to build and drive one kind of device.
pub struct DeviceSpec<D: Device> {
    /// The kind this spec runs; the config's kind must match.
    pub kind: DeviceKind,
    /// Builds the device from its configuration.
    pub build: fn(&DeviceConfig) -> anyhow::Result<D>,
    /// Applications available through `vnet exec`, if any.
    pub exec: Option<ExecFn<D>>,
    /// A service started once the device is up, if any.
    pub start: Option<StartFn<D>>,
}
