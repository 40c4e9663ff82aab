//! How to build and drive one kind of device: the [`DeviceSpec`] a device
//! crate hands to [`crate::device_main`], and the application and service
//! entry points it names.
//!
//! Kept apart from [`crate::Device`] because these types take a
//! [`DeviceHandle`], which itself is generic over [`Device`]: `device`
//! depends on neither `handle` nor `exec`, and this module on all three.

use crate::device::Device;
use crate::exec::ExecOutput;
use crate::handle::DeviceHandle;
use std::future::Future;
use std::pin::Pin;
use vnet_topology::device::{DeviceConfig, DeviceKind};

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
