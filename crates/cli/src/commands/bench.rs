//! `vnet bench`: performance measurements (not tests).

use clap::Subcommand;
use std::process::ExitCode;

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Frames/s through a plain UDP relay, vnet-switch and vnet-router.
    Forward {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
}

/// Runs a benchmark.
pub async fn run(what: BenchCommand) -> anyhow::Result<ExitCode> {
    match what {
        BenchCommand::Forward { seconds } => {
            let _ = seconds;
            anyhow::bail!("not implemented yet")
        }
    }
}
