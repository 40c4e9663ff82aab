//! Topology files and device configuration.
//!
//! * [`lab`]: the topology file (`configs/*.toml`): devices and links,
//!   parsed with source spans so every error names the file, the line and
//!   the field, and validated before anything starts.
//! * [`device`]: the per-device configuration schema that `vnet up` renders
//!   and every device binary loads (with the `config` crate and `VNET__…`
//!   environment overrides).
//! * [`render`]: turns a validated lab into one [`device::DeviceConfig`] per
//!   device, given an address plan for cables and admin APIs.
//! * [`compose`]: the same lab as a Docker Compose file.
//! * [`peer`]: a cable's far end, an address or a name the device resolves.
//! * [`swarm`]: the same lab as a Docker Swarm stack; [`orchestrated`]
//!   holds what Swarm and Kubernetes labs share (peers by name).
//! * [`k8s`]: the same lab as Kubernetes manifests (namespace, a
//!   Deployment, ConfigMap and headless Service per device).
//! * [`cpus`]: CPU lists (`0-3,6`) for pinning devices.
//! * [`chain`]: generated chains of N routers for scaling experiments.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chain;
pub mod compose;
pub mod cpus;
pub mod device;
pub mod generate_error;
pub mod grid;
pub mod k8s;
pub mod lab;
pub mod orchestrated;
pub mod peer;
pub mod render;
pub mod ring;
mod serde_text;
pub mod swarm;

pub use device::{DeviceConfig, DeviceKind};
pub use generate_error::GenerateError;
pub use lab::{Lab, TopologyError};
