//! The `main` of every device binary.

use crate::device::Device;
use crate::spec::DeviceSpec;
use anyhow::Context;
use clap::Parser;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;
use vnet_topology::device::DeviceConfig;

#[derive(Parser, Debug)]
#[command(about = "Run one vnet device from its configuration", version)]
struct DeviceArgs {
    /// Device configuration (TOML). Without it the configuration is read
    /// from the VNET_CONFIG environment variable (TOML text), as in
    /// containers. Fields can be overridden with VNET__<FIELD> variables,
    /// e.g. VNET__ADMIN=0.0.0.0:7000.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Instead of running: check that the admin API at ADDR answers
    /// (exit 0) or not (exit 1). For container health checks.
    #[arg(long, value_name = "ADDR", conflicts_with = "alive")]
    health: Option<std::net::SocketAddr>,
    /// Instead of running: check that the admin API at ADDR answers at all,
    /// ready or still starting (exit 0) or not (exit 1). For liveness and
    /// Swarm health checks: Swarm adds a task to its service's DNS name only
    /// once healthy, and a device's peers must resolve it before it can
    /// become ready (a DHCP client needs its switch to reach it).
    #[arg(long, value_name = "ADDR")]
    alive: Option<std::net::SocketAddr>,
}

/// Environment variable holding the configuration TOML when no file is given.
pub const CONFIG_ENV: &str = "VNET_CONFIG";

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
    if let Some(addr) = args.health {
        return health_check(addr, false);
    }
    if let Some(addr) = args.alive {
        return health_check(addr, true);
    }
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
    let config = match &args.config {
        Some(path) => DeviceConfig::load(path)?,
        None => {
            let text = std::env::var(CONFIG_ENV).map_err(|_| {
                anyhow::anyhow!(
                    "no configuration: pass --config FILE or set {CONFIG_ENV} to the TOML text"
                )
            })?;
            DeviceConfig::load_text(&text, CONFIG_ENV)?
        }
    };
    // First, while this is the only thread: the threads started below
    // (the trace exporter's) inherit the CPU set.
    if let Some(cpus) = &config.cpus {
        crate::affinity::pin_process(cpus)?;
    }
    resolve_trace_endpoint();
    // Before the async runtime: the OTLP client is blocking and owns a thread.
    let telemetry = vnet_telemetry::init_device(
        &config.name,
        config.kind.as_str(),
        config.lab.as_deref().unwrap_or("-"),
        "info",
    );
    // One thread per device: a lab runs many devices on few cores, and the
    // device lock is then never contended.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async move {
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        crate::run(config, &spec, shutdown).await
    });
    drop(runtime);
    // Flushes the last spans (bounded), outside the async runtime.
    drop(telemetry);
    result
}

/// When the collector is named (`http://jaeger:4318` under Swarm and
/// Kubernetes), resolves the name with vnet's own resolver, for up to 5 s,
/// so that the exporter is given an address. Failure leaves the name (and
/// export then fails quietly, as with an absent collector).
fn resolve_trace_endpoint() {
    let Some(url) = vnet_telemetry::endpoint() else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let resolver = crate::resolver::from_env();
    let patience = std::time::Duration::from_secs(5);
    match runtime.block_on(crate::resolver::resolve_url_host(&url, &resolver, patience)) {
        Ok(Some(resolved)) => vnet_telemetry::use_resolved_endpoint(resolved),
        Ok(None) => {}
        Err(e) => eprintln!("warning: trace collector {url}: {e}"),
    }
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

/// `GET /health` with a one-second budget; exit 0 when it answers 200 (or,
/// with `any_status`, any HTTP answer: 503 "starting" included).
fn health_check(addr: std::net::SocketAddr, any_status: bool) -> ExitCode {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_secs(1);
    let result = (|| -> std::io::Result<bool> {
        let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: vnet\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 16];
        let n = stream.read(&mut head)?;
        let answered = if any_status {
            &b"HTTP/1.1 "[..]
        } else {
            &b"HTTP/1.1 200"[..]
        };
        Ok(head[..n].starts_with(answered))
    })();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!(
                "unhealthy: {addr} did not answer {}",
                if any_status { "HTTP" } else { "200" }
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}
