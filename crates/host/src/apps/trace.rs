//! `browse --trace`: the request's trace id and its timeline across every
//! device, read back from the trace collector the devices export to.

use std::time::Duration;
use vnet_runtime::{Disconnected, ExecOutput};
use vnet_timeline::timeline::{TimelineOptions, render};

/// How long the trace must stop growing before it is printed: devices
/// export in batches every 200 ms.
const SETTLE: Duration = Duration::from_millis(900);
/// The longest wait for the trace to settle.
const MAX_WAIT: Duration = Duration::from_secs(6);

/// Prints the trace `trace_id` (hex) as a timeline, or why it cannot.
pub(crate) async fn print_trace(
    trace_id: Option<&str>,
    out: &ExecOutput,
) -> Result<(), Disconnected> {
    let (Some(id), Some(endpoint)) = (trace_id, vnet_telemetry::endpoint()) else {
        out.error(format!(
            "browse --trace: traces are not exported by this host ({} is not set; `vnet up` sets it)",
            vnet_telemetry::ENDPOINT_ENV
        ))
        .await?;
        return Ok(());
    };
    out.line(format!("trace {id}")).await?;
    // Our own spans first: the root span just ended.
    let _ = tokio::task::spawn_blocking(vnet_telemetry::flush).await;
    match vnet_timeline::client::wait_for_trace(&endpoint, id, SETTLE, MAX_WAIT).await {
        Ok(Some(trace)) => {
            let text = render(&trace, &TimelineOptions::default());
            for line in text.lines() {
                out.line(line.to_string()).await?;
            }
        }
        Ok(None) => {
            out.error(format!(
                "trace {id} did not reach the collector at {endpoint}"
            ))
            .await?;
        }
        Err(e) => {
            out.error(format!(
                "trace {id}: the collector at {endpoint} cannot show it ({e:#}); look it up in your trace UI (e.g. Jaeger on :16686)"
            ))
            .await?;
        }
    }
    Ok(())
}
