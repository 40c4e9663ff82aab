//! `vnet check LAB.toml CHECKS.toml`: run a checks file's scenario in the
//! simulation (or, with `--live`, on the running lab) and grade it: one
//! PASS/FAIL line per check, exit 1 if any fails (crates/sim/src/check.rs).

use crate::client;
use crate::state::StateSource;
use anyhow::{Context, bail};
use clap::Args;
use futures_util::StreamExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use vnet_runtime::api::{ExecEvent, ExecRequest, Table};
use vnet_sim::check::{Checks, Evidence, FrameSeen, evaluate, report};
use vnet_sim::script::Step;
use vnet_sim::{OutputLine, SimCommand, SimOptions};
use vnet_timeline::model::SpanRecord;
use vnet_topology::lab::Lab;

/// `vnet check` arguments.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Topology file (the student's lab).
    pub topology: PathBuf,
    /// Checks file: the scenario and the assertions.
    pub checks: PathBuf,
    /// Grade the running lab (`vnet up`) instead of a simulation: the
    /// command runs through `vnet exec`, frames and spans come from the
    /// trace collector (traced frames only), tables from the devices.
    #[arg(long)]
    pub live: bool,
}

fn load(args: &CheckArgs) -> anyhow::Result<Checks> {
    let text = std::fs::read_to_string(&args.checks)
        .with_context(|| format!("reading {}", args.checks.display()))?;
    Ok(Checks::parse(&args.checks.display().to_string(), &text)?)
}

fn command(checks: &Checks) -> anyhow::Result<Option<SimCommand>> {
    match checks.scenario.run.split_first() {
        None => Ok(None),
        Some((_, [])) => bail!(
            "[scenario] run needs DEVICE APP [ARGS…], e.g. [\"client\", \"browse\", \"http://www.example.com/\"]"
        ),
        Some((device, args)) => Ok(Some(SimCommand {
            device: device.clone(),
            args: args.to_vec(),
        })),
    }
}

fn grade(checks: &Checks, evidence: &Evidence) -> ExitCode {
    let verdicts = evaluate(checks, evidence);
    print!("{}", report(&verdicts));
    if verdicts.iter().all(|v| v.pass) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs `vnet check` in the simulation.
pub fn run_simulated(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let checks = load(args)?;
    let lab = Lab::load(&args.topology)?;
    let script = checks
        .scenario
        .at
        .iter()
        .map(|s| Step::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let options = SimOptions {
        seed: checks.scenario.seed,
        script,
        tables: checks.tables(),
        ..SimOptions::default()
    };
    let cmd = command(&checks)?;
    let outcome = vnet_sim::simulate(&lab, &options, cmd.as_ref(), &mut |_| {})?;
    let evidence = Evidence {
        frames: outcome
            .events
            .iter()
            .filter(|e| e.proto != "script")
            .map(FrameSeen::from)
            .collect(),
        spans: outcome.spans.iter().map(vnet_sim::spans::record).collect(),
        tables: outcome.tables.clone(),
        output: outcome
            .output
            .iter()
            .map(|l| match l {
                OutputLine::Out(t) | OutputLine::Err(t) => t.clone(),
            })
            .collect(),
        exit: outcome.exit,
    };
    Ok(grade(&checks, &evidence))
}

/// Runs `vnet check --live` on the lab `source` names.
pub async fn run_live(source: &StateSource, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let checks = load(args)?;
    if !checks.scenario.at.is_empty() {
        bail!(
            "[scenario] at: scripted changes run only in the simulation; on a live lab use `vnet link` before `vnet check --live`"
        );
    }
    let state = source.require()?;
    let mut evidence = Evidence::default();
    if let Some(cmd) = command(&checks)? {
        let (output, exit) = exec(&state, &cmd).await?;
        evidence.output = output;
        evidence.exit = Some(exit);
    }
    for (device, table) in checks.tables() {
        let d = state.device(&device)?;
        let t: Option<Table> = client::get_json(d, &format!("/tables/{table}")).await.ok();
        evidence.tables.insert((device, table), t);
    }
    let endpoint = super::trace::resolve_endpoint(source, None)?;
    let trace = vnet_timeline::client::wait_for_trace(
        &endpoint,
        "last",
        Duration::from_millis(900),
        Duration::from_secs(6),
    )
    .await?;
    if let Some(trace) = trace {
        evidence.frames = frames_of(&trace.spans);
        evidence.spans = trace.spans;
    }
    Ok(grade(&checks, &evidence))
}

/// Runs the scenario's command through the admin API; its output and code.
async fn exec(
    state: &crate::state::LabState,
    cmd: &SimCommand,
) -> anyhow::Result<(Vec<String>, i32)> {
    let d = state.device(&cmd.device)?;
    let request = client::AdminRequest::post(
        "/exec",
        Some(serde_json::to_value(ExecRequest {
            argv: cmd.args.clone(),
        })?),
    );
    let mut body = client::request(d, request.streaming())
        .await?
        .check()
        .await?
        .body;
    let (mut pending, mut output) = (Vec::new(), Vec::new());
    while let Some(chunk) = body.next().await {
        pending.extend_from_slice(&chunk.context("the application's output broke off")?);
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            match serde_json::from_slice::<ExecEvent>(&line) {
                Ok(ExecEvent::Out(t) | ExecEvent::Err(t)) => output.push(t),
                Ok(ExecEvent::Exit(code)) => return Ok((output, code)),
                _ => {}
            }
        }
    }
    bail!(
        "{}: the application's output ended without an exit code",
        cmd.device
    )
}

/// The frames a live trace shows: one per frame span, received by the
/// span's device, sent by the device of its parent span; TTL from the
/// receiver's IP decision.
fn frames_of(spans: &[SpanRecord]) -> Vec<FrameSeen> {
    let service_of = |id: &str| {
        spans
            .iter()
            .find(|s| s.span_id == id)
            .map(|s| s.service.clone())
    };
    spans
        .iter()
        .filter(|s| s.attributes.get("vnet.kind").map(String::as_str) == Some("frame"))
        .map(|s| {
            let summary = s
                .attributes
                .get("vnet.summary")
                .cloned()
                .unwrap_or_default();
            let summary = match summary.split_once(" ◂ ") {
                Some((_, rest)) => rest.to_string(),
                None => summary,
            };
            FrameSeen {
                from: s.parent_span_id.as_deref().and_then(service_of),
                to: s.service.clone(),
                proto: s.attributes.get("vnet.proto").cloned().unwrap_or_default(),
                summary,
                ttl: s
                    .events
                    .iter()
                    .find_map(|e| e.attributes.get("ip.ttl"))
                    .and_then(|t| t.parse().ok()),
            }
        })
        .collect()
}
