//! Telemetry for vnet devices and tools: structured `tracing` logs, and
//! OpenTelemetry traces exported over OTLP/HTTP (protobuf).
//!
//! Every process calls [`init`] (tools) or [`init_device`] (devices) once.
//! The log filter comes from `VNET_LOG` (or `RUST_LOG`), e.g.
//! `VNET_LOG=vnet_stack=debug,info`; the default is `info`. Logs go to
//! standard error, which `vnet up` redirects to the device's log file.
//!
//! Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (e.g.
//! `http://127.0.0.1:4318`), [`init_device`] installs an OTLP exporter with
//! `service.name` = the device name. Application spans are ordinary
//! `tracing` spans with target [`TRACE_TARGET`] (bridged by
//! `tracing-opentelemetry`); per-frame spans are built directly by the
//! device runtime with [`FrameSpan`]. Export runs on a background thread
//! with a bounded queue: a slow or absent collector drops spans, it never
//! stalls forwarding.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod export;
pub mod log_limit;
pub mod simulation;
mod spans;

pub use export::{
    ENDPOINT_ENV, TelemetryGuard, endpoint, exporting, flush, init_device, use_resolved_endpoint,
};
pub use simulation::{current_device, current_scope, in_device, spawn};
pub use spans::{
    FrameSpan, add_event_to_current, context_of, continue_current, continue_remote,
    current_context, event_span, set_remote_parent,
};

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The `tracing` target of spans and events that belong in traces:
/// `tracing::info_span!(target: vnet_telemetry::TRACE_TARGET, "browse")`.
pub const TRACE_TARGET: &str = "vnet::trace";

#[doc(hidden)]
pub use tracing as __tracing;

/// An application's span in a trace (DNS lookup, TCP connect, HTTP
/// request, DHCP exchange…): target [`TRACE_TARGET`], `vnet.kind = "app"`,
/// the protocol and layer the timeline groups it by, a one-line summary,
/// then any further fields as for `tracing::info_span!`:
///
/// ```
/// let url = "http://www.example.com/";
/// let span = vnet_telemetry::app_span!(
///     "http.request",
///     proto = "http",
///     layer = "L7",
///     summary = format!("GET {url}"),
///     http.url = %url,
///     http.status = tracing::field::Empty,
/// );
/// span.record("http.status", 200);
/// ```
#[macro_export]
macro_rules! app_span {
    ($name:literal, proto = $proto:literal, layer = $layer:literal, summary = $summary:expr $(,)?) => {
        $crate::__tracing::info_span!(
            target: $crate::TRACE_TARGET,
            $name,
            vnet.kind = "app",
            vnet.proto = $proto,
            vnet.layer = $layer,
            vnet.summary = %$summary,
        )
    };
    ($name:literal, proto = $proto:literal, layer = $layer:literal, summary = $summary:expr, $($fields:tt)+) => {
        $crate::__tracing::info_span!(
            target: $crate::TRACE_TARGET,
            $name,
            vnet.kind = "app",
            vnet.proto = $proto,
            vnet.layer = $layer,
            vnet.summary = %$summary,
            $($fields)+
        )
    };
}

/// The log filter from `VNET_LOG` / `RUST_LOG`, or `default_filter`.
fn log_filter(default_filter: &str) -> EnvFilter {
    EnvFilter::try_new(log_spec(default_filter)).unwrap_or_else(|_| EnvFilter::new(default_filter))
}

/// The filter directives from `VNET_LOG` / `RUST_LOG` when they parse,
/// else `default_filter`.
fn log_spec(default_filter: &str) -> String {
    std::env::var("VNET_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .filter(|spec| EnvFilter::try_new(spec).is_ok())
        .unwrap_or_else(|| default_filter.to_owned())
}

/// A device's log filter: [`log_filter`] with [`TRACE_TARGET`] off unless
/// the directives name it. Trace spans and events are for export; logging
/// them would format every traced frame and request span into the log,
/// and would keep their callsites enabled when nothing is exported.
fn device_log_filter(default_filter: &str) -> EnvFilter {
    let spec = log_spec(default_filter);
    let spec = if spec.contains(TRACE_TARGET) {
        spec
    } else {
        format!("{spec},{TRACE_TARGET}=off")
    };
    EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new(default_filter))
}

/// Installs the global log subscriber for the process named `service`
/// (e.g. `vnet`), without trace export. Calling it twice is harmless.
pub fn init(service: &str, default_filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(log_filter(default_filter))
        .with_writer(std::io::stderr)
        // Colours only on a terminal: device logs are files.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true)
        .try_init();
    tracing::debug!(service, "telemetry initialised");
}
