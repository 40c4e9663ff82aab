//! The device runtime: everything a vnet device process does besides its own
//! protocol logic.
//!
//! A device crate implements [`Device`] (sans-IO: frames in, frames out,
//! time passed in) and hands a [`DeviceSpec`] to [`device_main`]. The
//! runtime then loads the configuration, binds one cable end per interface,
//! runs the receive loops and the timer, serves the admin API (status,
//! counters, tables, link up/down, captures, exec) and shuts down cleanly on
//! SIGINT/SIGTERM.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod admin;
pub mod admin_auth;
pub mod affinity;
pub mod api;
mod capture;
mod clock;
mod device;
pub mod entropy;
mod event_loop;
mod exec;
mod handle;
mod main_entry;
pub mod net;
pub mod net_device;
pub mod net_tcp;
pub mod resolver;
mod spec;
pub mod stack_tables;
mod traced;

pub use clock::{Clock, wall_now};
pub use device::Device;
pub use event_loop::{run, start_simulated};
pub use exec::{Disconnected, ExecOutput};
pub use handle::{DeviceHandle, ReceivedFrames};
pub use main_entry::{device_main, device_main_with_args};
pub use spec::{DeviceSpec, ExecFn, ExecFuture, StartFn};
pub use traced::{DEFAULT_FRAME_BUDGET, FRAME_BUDGET_ENV};
pub use vnet_topology::device::{
    DeviceConfig, DeviceKind, DnsConfig, DnsRole, InterfaceConfig, ZoneText,
};
