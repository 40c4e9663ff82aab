//! `vnet trace list` / `vnet trace show`: read the traces the lab's
//! collector received and print them as a timeline.
//!
//! The collector is found, in order: `--endpoint URL`; for a compose lab
//! the published `http://127.0.0.1:4318`; the collector `vnet up` recorded
//! in the run directory; `$OTEL_EXPORTER_OTLP_ENDPOINT`.

use crate::procs::OTLP_ENDPOINT_VAR;
use crate::state::{COMPOSE_TRACE_ENDPOINT, LabState, StateSource};
use anyhow::{Context, bail};
use clap::Subcommand;
use std::process::ExitCode;
use std::time::Duration;
use vnet_runtime::api::Table;
use vnet_timeline::client;
use vnet_timeline::model::{TraceData, TraceSummary, is_trace_id};
use vnet_timeline::timeline::{self, TimelineOptions};

/// `vnet trace ...`.
#[derive(Subcommand, Debug)]
pub enum TraceCommand {
    /// List the traces the collector holds, newest last.
    List,
    /// Print one trace as a timeline, device by device (`vnet trace show last --layers`).
    Show {
        /// Trace id (32 hex digits, or a unique prefix of one), or `last`:
        /// the trace whose root started latest.
        #[arg(default_value = "last", value_name = "ID|last")]
        id: String,
        /// Keep only rows of these protocols, comma-separated, e.g.
        /// `--proto dns,tcp,http,arp` (also ip, icmp, udp, dhcp).
        #[arg(long, value_delimiter = ',', value_name = "PROTOS")]
        proto: Vec<String>,
        /// Also print each frame's per-layer details ("In Layers / Out
        /// Layers"), each at its own time with the device that handled it.
        #[arg(long)]
        layers: bool,
        /// Wait up to SECONDS for the trace to appear and stop growing
        /// (devices export spans in batches).
        #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
        wait: f64,
    },
}

/// Runs `vnet trace`.
pub async fn run(
    source: &StateSource,
    endpoint: Option<&str>,
    what: TraceCommand,
) -> anyhow::Result<ExitCode> {
    let endpoint = resolve_endpoint(source, endpoint)?;
    match what {
        TraceCommand::List => list(&endpoint).await,
        TraceCommand::Show {
            id,
            proto,
            layers,
            wait,
        } => {
            let protos = (!proto.is_empty()).then_some(proto);
            show(&endpoint, &id, TimelineOptions { protos, layers }, wait).await
        }
    }
}

/// The collector's base URL (see the module docs).
pub(crate) fn resolve_endpoint(source: &StateSource, flag: Option<&str>) -> anyhow::Result<String> {
    if let Some(endpoint) = flag {
        return Ok(endpoint.to_string());
    }
    let run_dir = match source {
        StateSource::Compose(_) => return Ok(COMPOSE_TRACE_ENDPOINT.to_string()),
        StateSource::RunDir(dir) => dir,
        StateSource::Swarm(_) | StateSource::Kubernetes(_) => {
            bail!("the trace receiver of a Swarm or Kubernetes lab is reached inside its container")
        }
    };
    if let Some(collector) = LabState::read(run_dir)?.and_then(|s| s.collector) {
        return Ok(collector.endpoint);
    }
    match std::env::var(OTLP_ENDPOINT_VAR) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => bail!(
            "no trace collector: start the lab with `vnet up` (it starts one unless --no-trace), \
             or pass --endpoint URL or set {OTLP_ENDPOINT_VAR} (no collector is recorded in {})",
            LabState::path(run_dir).display()
        ),
    }
}

async fn list(endpoint: &str) -> anyhow::Result<ExitCode> {
    let traces = client::list_traces(endpoint).await.map_err(hint)?;
    if traces.is_empty() {
        println!(
            "no traces yet at {endpoint}; devices export spans in batches, so run something \
             (e.g. `vnet exec client -- browse http://www.example.com/`) and look again"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(&[
        "TRACE",
        "START (UTC)",
        "DURATION ms",
        "SPANS",
        "SERVICES",
        "ROOT",
    ]);
    for t in &traces {
        table.row(vec![
            t.trace_id.clone(),
            utc_time(t.start_unix_nanos),
            format!("{:.3}", t.duration_nanos as f64 / 1e6),
            t.span_count.to_string(),
            t.services.join(","),
            format!("{}: {}", t.root_service, t.root_name),
        ]);
    }
    print!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}

/// Adds a hint to a refused connection: the lab (and its collector) may be down.
fn hint(e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<client::ClientError>() {
        Some(client::ClientError::Connect { .. }) => {
            anyhow::anyhow!("{e:#} (is the lab up? `vnet status` shows the collector)")
        }
        _ => e,
    }
}

/// `HH:MM:SS.mmm` of a Unix time in nanoseconds, UTC.
fn utc_time(unix_nanos: u64) -> String {
    let millis = unix_nanos / 1_000_000;
    let secs = millis / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
        millis % 1000
    )
}

/// Turns what the user typed into `last` or a full trace id; a hex prefix
/// is looked up in the list.
async fn resolve_id(endpoint: &str, id: &str) -> anyhow::Result<String> {
    let id = id.trim().to_ascii_lowercase();
    if id == "last" || is_trace_id(&id) {
        return Ok(id);
    }
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{id:?} is not a trace id: give 32 hex digits (or a unique prefix), or `last`");
    }
    let traces = client::list_traces(endpoint).await.map_err(hint)?;
    let matching: Vec<&TraceSummary> = traces
        .iter()
        .filter(|t| t.trace_id.starts_with(&id))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.trace_id.clone()),
        [] => bail!(
            "no trace starting with {id} in the collector at {endpoint}; `vnet trace list` shows the traces it holds"
        ),
        many => {
            let ids: Vec<&str> = many.iter().map(|t| t.trace_id.as_str()).collect();
            bail!(
                "{id} is ambiguous: it starts {} traces ({})",
                many.len(),
                ids.join(", ")
            )
        }
    }
}

async fn show(
    endpoint: &str,
    id: &str,
    opts: TimelineOptions,
    wait_secs: f64,
) -> anyhow::Result<ExitCode> {
    let id = resolve_id(endpoint, id).await?;
    let trace: Option<TraceData> = if wait_secs > 0.0 {
        let max = Duration::try_from_secs_f64(wait_secs)
            .with_context(|| format!("--wait {wait_secs} is not a duration in seconds"))?;
        client::wait_for_trace(endpoint, &id, Duration::from_secs(1).min(max), max)
            .await
            .map_err(hint)?
    } else {
        client::fetch_trace(endpoint, &id).await.map_err(hint)?
    };
    let Some(trace) = trace else {
        if id == "last" {
            bail!(
                "the collector at {endpoint} holds no traces yet; run something \
                 (e.g. `vnet exec client -- browse http://www.example.com/`), or add --wait 5"
            );
        }
        bail!(
            "no trace {id} in the collector at {endpoint}; `vnet trace list` shows the traces it holds \
             (the oldest are evicted when it is full)"
        );
    };
    print!("{}", timeline::render(&trace, &opts));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        // 2023-11-14T22:13:20.123Z
        assert_eq!(utc_time(1_700_000_000_123_456_789), "22:13:20.123");
        assert_eq!(utc_time(0), "00:00:00.000");
    }

    #[test]
    fn endpoint_precedence() {
        let source = StateSource::RunDir(std::env::temp_dir().join("vnet-no-such-run-dir"));
        assert_eq!(
            resolve_endpoint(&source, Some("http://127.0.0.1:9")).ok(),
            Some("http://127.0.0.1:9".to_string())
        );
        let compose = StateSource::Compose("docker-compose.yml".into());
        assert_eq!(
            resolve_endpoint(&compose, None).ok(),
            Some(COMPOSE_TRACE_ENDPOINT.to_string())
        );
    }
}
