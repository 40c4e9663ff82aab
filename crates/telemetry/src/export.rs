//! The OTLP exporter: set up from the environment, flushed on shutdown.

use crate::{TRACE_TARGET, device_log_filter};
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider,
};
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The environment variable naming the collector (OTLP specification).
pub const ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Spans waiting for export at most; beyond, new spans are dropped. The
/// SDK's queue is a `std::sync::mpsc::sync_channel`, which writes every
/// slot when it is made: 8192 slots kept 2.9 MiB resident in every idle
/// device, 2048 (the SDK's default) 0.7 MiB, 1024 keep 0.35 MiB. Batches
/// of 512 leave as soon as they fill, so a device would have to emit 1024
/// spans faster than one export takes to drop any; frame budgets cap one
/// trace at 200 frame spans per device (`VNET_TRACE_FRAME_BUDGET`).
const MAX_QUEUE: usize = 1024;
/// How often the exporter sends a batch: short, so `browse --trace` and
/// `vnet trace show` see a request's spans within a fraction of a second.
const EXPORT_DELAY: Duration = Duration::from_millis(200);
/// One export request's budget.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long shutdown waits for the last spans to leave.
const SHUTDOWN_BUDGET: Duration = Duration::from_millis(700);

static EXPORTING: AtomicBool = AtomicBool::new(false);
static TRACER: OnceLock<SdkTracer> = OnceLock::new();
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

static ENDPOINT_OVERRIDE: OnceLock<String> = OnceLock::new();

/// The collector endpoint this process exports to, if any: the one given
/// to [`use_resolved_endpoint`], else `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub fn endpoint() -> Option<String> {
    if let Some(e) = ENDPOINT_OVERRIDE.get() {
        return Some(e.clone());
    }
    std::env::var(ENDPOINT_ENV)
        .ok()
        .filter(|e| !e.trim().is_empty())
}

/// Uses `endpoint` (the configured one with its host name replaced by an
/// address) instead of the environment's. A static binary in a scratch
/// image cannot resolve names through the C library, which the HTTP
/// client would use; the device runtime resolves the name itself and
/// calls this before [`init_device`]. Only the first call counts.
pub fn use_resolved_endpoint(endpoint: String) {
    let _ = ENDPOINT_OVERRIDE.set(endpoint);
}

/// Sends the spans that ended so far now instead of at the next batch.
/// Blocks (call it from a blocking thread in async code).
pub fn flush() {
    if let Some(p) = PROVIDER.get() {
        let _ = p.force_flush();
    }
}

/// Whether spans are exported (an endpoint was configured).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The tracer of this process, once exporting.
pub(crate) fn tracer() -> Option<&'static SdkTracer> {
    TRACER.get()
}

/// Flushes and stops the exporter when dropped (at most ~0.7 s, so a
/// device still stops quickly with an unreachable collector).
#[must_use = "spans are flushed when the guard is dropped"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let Some(provider) = self.provider.take() else {
            return;
        };
        EXPORTING.store(false, Ordering::Relaxed);
        // shutdown() blocks on the export thread; bound it.
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("otel-shutdown".into())
            .spawn(move || {
                let _ = provider.shutdown_with_timeout(SHUTDOWN_BUDGET);
                let _ = done_tx.send(());
            });
        if spawned.is_ok() {
            let _ = done_rx.recv_timeout(SHUTDOWN_BUDGET + Duration::from_millis(100));
        }
    }
}

/// Installs logging and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, trace
/// export for the device `service` of kind `kind` in lab `topology`.
/// Must be called outside any async runtime (the HTTP client is blocking
/// and owns its own thread). An invalid endpoint is logged and tracing
/// stays off: a device never fails to start because of telemetry.
pub fn init_device(
    service: &str,
    kind: &str,
    topology: &str,
    default_filter: &str,
) -> TelemetryGuard {
    // Bounded logs: a rate limit per log statement and a size cap
    // (crate::log_limit), so a flood cannot fill the disk.
    let fmt_layer = tracing_subscriber::fmt::layer()
        .with_writer(crate::log_limit::CappedStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true)
        .with_filter(device_log_filter(default_filter))
        .with_filter(crate::log_limit::RateLimit::default());
    let endpoint = endpoint();
    let provider = endpoint.as_deref().and_then(|endpoint| {
        match build_provider(service, kind, topology, endpoint) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("warning: trace export disabled: {e}");
                None
            }
        }
    });
    match &provider {
        Some(provider) => {
            let tracer = provider.tracer("vnet");
            let _ = TRACER.set(tracer.clone());
            let _ = PROVIDER.set(provider.clone());
            let otel_layer = tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(filter_fn(|meta| meta.target() == TRACE_TARGET));
            let _ = tracing_subscriber::registry()
                .with(fmt_layer)
                .with(otel_layer)
                .try_init();
            EXPORTING.store(true, Ordering::Relaxed);
        }
        None => {
            let _ = tracing_subscriber::registry().with(fmt_layer).try_init();
        }
    }
    tracing::info!(
        service,
        exporting = provider.is_some(),
        endpoint = endpoint.as_deref().unwrap_or("-"),
        "telemetry initialised"
    );
    TelemetryGuard { provider }
}

/// Makes `tracer` this process's tracer and turns export on (the
/// simulation's in-memory telemetry, [`crate::simulation`]). Only the
/// first installation counts; returns whether this one did.
pub(crate) fn install_simulated(tracer: SdkTracer, provider: SdkTracerProvider) -> bool {
    let installed = TRACER.set(tracer).is_ok();
    let _ = PROVIDER.set(provider);
    EXPORTING.store(true, Ordering::Relaxed);
    installed
}

/// Why trace export could not start.
#[derive(Debug, thiserror::Error)]
enum ExportSetupError {
    /// The endpoint is not an HTTP URL.
    #[error("{ENDPOINT_ENV}={0:?} is not an http:// or https:// URL")]
    NotHttp(String),
    /// The OTLP exporter refused its settings.
    #[error("building the OTLP exporter for {endpoint}: {source}")]
    Exporter {
        /// The endpoint given.
        endpoint: String,
        /// What the exporter said.
        source: opentelemetry_otlp::ExporterBuildError,
    },
}

fn build_provider(
    service: &str,
    kind: &str,
    topology: &str,
    endpoint: &str,
) -> Result<SdkTracerProvider, ExportSetupError> {
    let base = endpoint.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(ExportSetupError::NotHttp(endpoint.to_string()));
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{base}/v1/traces"))
        .with_timeout(EXPORT_TIMEOUT)
        .with_headers(Default::default())
        .build()
        .map_err(|source| ExportSetupError::Exporter {
            endpoint: endpoint.to_string(),
            source,
        })?;
    let batch = BatchConfigBuilder::default()
        .with_max_queue_size(MAX_QUEUE)
        .with_max_export_batch_size(512)
        .with_scheduled_delay(EXPORT_DELAY)
        .build();
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(batch)
        .build();
    let resource = Resource::builder_empty()
        .with_service_name(service.to_string())
        .with_attributes([
            KeyValue::new("vnet.device.kind", kind.to_string()),
            KeyValue::new("vnet.topology", topology.to_string()),
        ])
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(resource)
        .build())
}
