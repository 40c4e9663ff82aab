//! Telemetry for vnet devices and tools: structured `tracing` output.
//!
//! Every process calls [`init`] once. The filter comes from `VNET_LOG`
//! (or `RUST_LOG`), e.g. `VNET_LOG=vnet_stack=debug,info`; the default is
//! `info`. Logs go to standard error, which `vnet up` redirects to the
//! device's log file.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber for the process named `service`
/// (a device name such as `r1`, or `vnet`). Calling it twice is harmless.
pub fn init(service: &str, default_filter: &str) {
    let filter = std::env::var("VNET_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: device logs are files.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true)
        .try_init();
    tracing::debug!(service, "telemetry initialised");
}
