//! `vnet-collector`: a small embedded OTLP/HTTP trace receiver.
//!
//! Every vnet device exports its spans (OTLP/HTTP protobuf) to
//! `$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces`. `vnet up` starts this collector
//! on a loopback port and points the devices at it; `vnet trace` reads the
//! traces back over its JSON API and prints them as a timeline.
//!
//! * [`decode`]: `ExportTraceServiceRequest` → [`model::SpanRecord`]s.
//! * [`store`]: the bounded in-memory store.
//! * [`server`]: the axum app ([`server::serve`], [`server::Collector`]).
//!
//! The data model ([`model`]), the JSON API's client ([`client`]) and the
//! terminal timeline ([`timeline`]) live in `vnet-timeline`, so hosts and
//! the CLI can read traces without linking the receiver; they are
//! re-exported here under their old paths.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod decode;
pub mod server;
pub mod store;

pub use vnet_timeline::{client, model, timeline};

use clap::Parser;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The default listen address: OTLP/HTTP's port on loopback.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4318";

/// How long open requests may take once a stop was asked for.
const STOP_GRACE: Duration = Duration::from_millis(700);

/// Command line of `vnet-collector`.
#[derive(Parser, Debug)]
#[command(
    name = "vnet-collector",
    version,
    about = "vnet's trace collector: receives OTLP/HTTP spans on /v1/traces and serves them as JSON on /api/traces"
)]
struct Args {
    /// Address to listen on (OTLP/HTTP and the JSON API).
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR")]
    listen: SocketAddr,
}

/// Entry point of the `vnet-collector` binary.
pub fn main() -> ExitCode {
    main_with_args(std::env::args_os())
}

/// Like [`main`], with explicit arguments (the first is the program name);
/// `vnet collector` uses it.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = match Args::try_parse_from(args) {
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
    vnet_telemetry::init("collector", "info");
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args.listen)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Serves on `listen` until SIGTERM or SIGINT.
async fn run(listen: SocketAddr) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use tokio::signal::unix::{SignalKind, signal};
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let store = Arc::new(store::TraceStore::new(store::StoreLimits::default()));
    let limits = store.limits();
    tracing::info!(
        addr = %listen,
        max_spans = limits.max_spans,
        max_traces = limits.max_traces,
        "collector listening: POST /v1/traces, GET /api/traces"
    );
    let mut terminate = signal(SignalKind::terminate()).context("installing a SIGTERM handler")?;
    let shutdown = CancellationToken::new();
    let mut server = tokio::spawn(server::serve(
        listener,
        store.clone(),
        shutdown.clone().cancelled_owned(),
    ));
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
        result = &mut server => {
            return match result {
                Ok(result) => result.context("serving"),
                Err(e) => anyhow::bail!("collector task failed: {e}"),
            };
        }
    }
    shutdown.cancel();
    // Keep-alive connections of exporters could hold a graceful stop open;
    // after the grace period the runtime drops them.
    match tokio::time::timeout(STOP_GRACE, server).await {
        Ok(Ok(result)) => result.context("serving")?,
        Ok(Err(e)) => anyhow::bail!("collector task failed: {e}"),
        Err(_) => tracing::info!("open connections dropped after {STOP_GRACE:?}"),
    }
    let stats = store.stats();
    tracing::info!(
        traces = stats.traces,
        spans = stats.spans,
        evicted_traces = stats.evicted_traces,
        "collector stopped"
    );
    Ok(())
}
