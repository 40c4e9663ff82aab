//! The `main` of every device binary.

use crate::device::{Device, DeviceSpec};
use anyhow::Context;
use clap::Parser;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;
use vnet_topology::device::DeviceConfig;

#[derive(Parser, Debug)]
#[command(about = "Run one vnet device from its configuration file", version)]
struct DeviceArgs {
    /// Device configuration (TOML). Fields can be overridden with
    /// VNET__<FIELD> environment variables, e.g. VNET__ADMIN=0.0.0.0:7000.
    #[arg(long, short)]
    config: PathBuf,
}

/// Runs a device binary with the process arguments.
pub fn device_main<D: Device>(spec: DeviceSpec<D>) -> ExitCode {
    device_main_with_args(spec, std::env::args_os().collect())
}

/// Runs a device with explicit arguments (`argv[0]` first).
pub fn device_main_with_args<D: Device>(spec: DeviceSpec<D>, args: Vec<OsString>) -> ExitCode {
    let args = match DeviceArgs::try_parse_from(args) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run_blocking(spec, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "device failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_blocking<D: Device>(spec: DeviceSpec<D>, args: DeviceArgs) -> anyhow::Result<()> {
    let config = DeviceConfig::load(&args.config)?;
    vnet_telemetry::init(&config.name, "info");
    // One thread per device: a lab runs many devices on few cores, and the
    // device lock is then never contended.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        crate::run(config, &spec, shutdown).await
    })
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            tracing::warn!("cannot install signal handlers; stop the device with SIGKILL");
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!(signal = "SIGTERM", "stopping"),
        _ = int.recv() => tracing::info!(signal = "SIGINT", "stopping"),
    }
    shutdown.cancel();
}
