//! The terminal step mode (placeholder until the TUI lands).
use crate::Outcome;
use vnet_timeline::model::TraceData;

/// Opens the step-through view of `outcome`.
pub fn run(_outcome: &Outcome, _traces: &[TraceData]) -> anyhow::Result<()> {
    anyhow::bail!("--step is not available yet")
}
