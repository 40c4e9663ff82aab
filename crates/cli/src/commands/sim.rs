//! `vnet sim`: run a lab as a deterministic simulation of its real device
//! code on virtual time (crates/sim), print the command's output, its
//! trace timeline as `vnet trace show` prints it, and the event log; or
//! step through the run (`--step`).

use anyhow::{Context, bail};
use clap::Args;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use vnet_sim::events::EventLog;
use vnet_sim::script::Step;
use vnet_sim::{OutputLine, SimCommand, SimOptions};
use vnet_timeline::timeline::{TimelineOptions, render};
use vnet_topology::lab::Lab;

/// `vnet sim` arguments.
#[derive(Args, Debug)]
pub struct SimArgs {
    /// Topology file (the same one `vnet up` takes).
    pub topology: PathBuf,
    /// Seed of every random choice: the same seed gives the same run,
    /// byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A scripted change, timed from the start of the command (repeatable):
    /// `2s link down r2:eth1`, `5s link up r2:eth1`,
    /// `1s impair r2:eth1 loss=5% delay=20ms`, `3s impair r2:eth1 none`.
    #[arg(long = "at", value_name = "STEP")]
    pub at: Vec<String>,
    /// Write the event log (every frame on every cable) to FILE (`-`:
    /// standard output, after the timeline).
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Show per-layer events in the timeline (as `vnet trace show --layers`).
    #[arg(long)]
    pub layers: bool,
    /// Keep only these protocols in the timeline (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub proto: Option<Vec<String>>,
    /// Do not print the trace timeline.
    #[arg(long)]
    pub no_timeline: bool,
    /// Step through the run in the terminal (Packet Tracer's simulation mode).
    #[arg(long)]
    pub step: bool,
    /// Longest run of the command in simulated seconds; it is interrupted after.
    #[arg(long, default_value_t = 300.0)]
    pub limit: f64,
    /// Simulated seconds to keep running after the command ends.
    #[arg(long, default_value_t = 1.0)]
    pub settle: f64,
    /// How long a frame takes over a cable (whole milliseconds: the
    /// simulation's timers count milliseconds), e.g. 1ms or 20ms.
    #[arg(long, default_value = "1ms", value_parser = parse_latency)]
    pub cable_latency: Duration,
    /// The command: DEVICE APP [ARGS…], e.g. `-- client browse http://www.example.com/`.
    #[arg(last = true, value_name = "DEVICE APP ARGS")]
    pub command: Vec<String>,
}

fn parse_latency(text: &str) -> Result<Duration, String> {
    vnet_sim::script::parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration (e.g. 50us, 1ms)"))
}

fn seconds(flag: &str, value: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("--{flag} {value} is not a number of seconds"))
}

/// The options and command `args` describe.
pub fn plan(args: &SimArgs) -> anyhow::Result<(SimOptions, Option<SimCommand>)> {
    let script = args
        .at
        .iter()
        .map(|s| Step::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let command = match args.command.split_first() {
        None => None,
        Some((_, [])) => bail!(
            "the command needs an application after the device, e.g. `-- client browse http://www.example.com/`"
        ),
        Some((device, rest)) => Some(SimCommand {
            device: device.clone(),
            args: rest.to_vec(),
        }),
    };
    if command.is_none() && script.is_empty() && !args.step {
        bail!(
            "nothing to simulate: give a command (`-- client browse http://www.example.com/`) or --at steps"
        );
    }
    let options = SimOptions {
        seed: args.seed,
        script,
        run_limit: seconds("limit", args.limit)?,
        settle: seconds("settle", args.settle)?,
        cable_latency: args.cable_latency,
        ..SimOptions::default()
    };
    Ok((options, command))
}

/// Runs `vnet sim`.
pub fn run(args: &SimArgs) -> anyhow::Result<ExitCode> {
    let lab = Lab::load(&args.topology)?;
    let (options, command) = plan(args)?;
    let started = std::time::Instant::now();
    let quiet = args.step;
    let outcome = vnet_sim::simulate(&lab, &options, command.as_ref(), &mut |line| {
        if quiet {
            return;
        }
        match line {
            OutputLine::Out(text) => println!("{text}"),
            OutputLine::Err(text) => eprintln!("{text}"),
        }
    })?;
    let real = started.elapsed();
    let traces = vnet_sim::spans::traces(&outcome.spans);
    if args.step {
        vnet_sim::tui::run(&outcome, &traces)?;
        return Ok(exit_code(outcome.exit));
    }
    if let (Some(cmd), false) = (&command, args.no_timeline) {
        let from = vnet_sim::Outcome::unix_nanos(outcome.command_micros);
        let opts = TimelineOptions {
            protos: args.proto.clone(),
            layers: args.layers,
        };
        for trace in vnet_sim::spans::traces_of(&traces, &cmd.device, from) {
            print!("{}", render(&trace, &opts));
        }
    }
    if let Some(path) = &args.events {
        let text = EventLog::render(&outcome.events, outcome.events_dropped);
        if path.as_os_str() == "-" {
            std::io::stdout().write_all(text.as_bytes())?;
        } else {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    eprintln!(
        "vnet sim: seed {}, booted at {:.3} s, ended at {:.3} s of simulated time ({:.2} s real); {} frames on the wire",
        options.seed,
        outcome.booted_micros as f64 / 1e6,
        outcome.end_micros as f64 / 1e6,
        real.as_secs_f64(),
        outcome
            .events
            .iter()
            .filter(|e| e.proto != "script")
            .count()
    );
    Ok(exit_code(outcome.exit))
}

fn exit_code(code: Option<i32>) -> ExitCode {
    match code {
        None | Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
    }
}
