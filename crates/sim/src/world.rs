//! The simulated world: every device of a lab, built from the same
//! topology and configs as `vnet up` renders, running its real code in one
//! process on tokio's paused clock (virtual time), wired by in-memory
//! cables ([`vnet_cable::memory`]).
//!
//! Determinism: one current-thread runtime whose clock only moves when
//! every task waits (tokio's auto-advance), device loops that poll their
//! inputs in a fixed order (`biased` selects), randomness drawn from the
//! seed ([`vnet_telemetry::simulation::SimWorld`]) and span ids likewise.

use crate::events::{EventLog, WireEvent};
use crate::nodes::{Node, start_node};
use crate::script::{Action, Step};
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;
use vnet_cable::CableEnd;
use vnet_cable::memory::{MemoryEndSpec, WireLog};
use vnet_runtime::api::{ExecEvent, Table};
use vnet_runtime::{DeviceConfig, ExecOutput};
use vnet_telemetry::simulation::{SimScope, SimSpan, SimWorld};
use vnet_topology::lab::{Lab, LabDevice};
use vnet_topology::peer::CablePeer;
use vnet_topology::render::{AddressPlan, render};

/// Wall-clock time of virtual time zero: 2026-01-01T00:00:00Z, fixed so
/// that logs and traces replay byte for byte.
pub const EPOCH_UNIX_SECS: u64 = 1_767_225_600;

/// How long an interrupted command may take to end its own way.
const INTERRUPT_GRACE: Duration = Duration::from_secs(1);

/// Default [`SimOptions::cable_latency`].
pub const DEFAULT_CABLE_LATENCY: Duration = Duration::from_millis(1);

/// How a simulation runs.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Seed of every random choice (ISNs, DHCP and DNS ids, impairments,
    /// span ids).
    pub seed: u64,
    /// Scripted changes, timed from the start of the command.
    pub script: Vec<Step>,
    /// Longest boot (until every device is ready), in virtual time.
    pub boot_limit: Duration,
    /// Longest run of the command, in virtual time; it is interrupted after.
    pub run_limit: Duration,
    /// Virtual time simulated after the command ends (closing handshakes,
    /// late spans).
    pub settle: Duration,
    /// Tables to read at the end: (device, table).
    pub tables: Vec<(String, String)>,
    /// How long a frame takes from one end of a cable to the other. It
    /// keeps cause before effect on the timeline; tokio's timers count
    /// whole milliseconds, so shorter latencies round up to 1 ms.
    pub cable_latency: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 1,
            script: Vec::new(),
            boot_limit: Duration::from_secs(60),
            run_limit: Duration::from_secs(300),
            settle: Duration::from_secs(1),
            tables: Vec::new(),
            cable_latency: DEFAULT_CABLE_LATENCY,
        }
    }
}

/// A command run on one device after boot (`vnet exec DEVICE -- ARGS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCommand {
    /// The device.
    pub device: String,
    /// Application and arguments (`browse http://www.example.com/`).
    pub args: Vec<String>,
}

/// One line the command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputLine {
    /// Standard output.
    Out(String),
    /// Standard error.
    Err(String),
}

/// What a simulation produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The command's output, in order.
    pub output: Vec<OutputLine>,
    /// Its exit code (None without a command).
    pub exit: Option<i32>,
    /// Virtual microseconds at which every device was ready.
    pub booted_micros: u64,
    /// Virtual microseconds at which the command started.
    pub command_micros: u64,
    /// Virtual microseconds at which the simulation stopped.
    pub end_micros: u64,
    /// The event log.
    pub events: Vec<WireEvent>,
    /// Events not kept (log full).
    pub events_dropped: u64,
    /// Every span the devices ended.
    pub spans: Vec<SimSpan>,
    /// The tables asked for in [`SimOptions::tables`] (None: no such table).
    pub tables: BTreeMap<(String, String), Option<Table>>,
}

impl Outcome {
    /// Wall-clock nanoseconds (as span timestamps) of virtual time `micros`.
    pub fn unix_nanos(micros: u64) -> u64 {
        EPOCH_UNIX_SECS * 1_000_000_000 + micros * 1000
    }
}

/// Fake, never bound, addresses: the in-memory cables pair ends by them.
struct SimPlan {
    next: u16,
}

impl AddressPlan for SimPlan {
    fn cable_end(&mut self, _: usize, _: &LabDevice, _: usize) -> SocketAddr {
        self.next += 1;
        SocketAddr::from(([127, 255, 0, 1], self.next))
    }

    fn admin(&mut self, _: usize, _: &LabDevice) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }
}

/// The device configs of `lab`, with impairments seeded from `seed`.
fn configs(lab: &Lab, seed: u64) -> anyhow::Result<Vec<DeviceConfig>> {
    let mut configs = render(lab, &mut SimPlan { next: 0 }, None);
    for (di, config) in configs.iter_mut().enumerate() {
        for (port, iface) in config.interfaces.iter_mut().enumerate() {
            if iface.tap.is_some() {
                bail!(
                    "{}:{} is wired to a TAP device; a simulation has no kernel to talk to (use `vnet up`)",
                    config.name,
                    iface.name
                );
            }
            if let Some(imp) = &mut iface.impairments {
                imp.seed.get_or_insert(mix(seed, di, port));
            }
        }
    }
    Ok(configs)
}

/// A per-interface seed derived from the simulation's.
fn mix(seed: u64, device: usize, port: usize) -> u64 {
    seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ((device as u64) << 16 | port as u64)
}

/// Pairs the interfaces of `configs` by their planned addresses into
/// in-memory cables; `ends[device][port]`.
fn wire(
    configs: &[DeviceConfig],
    latency: Duration,
    log: &Arc<EventLog>,
) -> anyhow::Result<Vec<Vec<CableEnd>>> {
    let mut by_local: BTreeMap<SocketAddr, (usize, usize)> = BTreeMap::new();
    for (di, c) in configs.iter().enumerate() {
        for (port, iface) in c.interfaces.iter().enumerate() {
            by_local.insert(iface.local, (di, port));
        }
    }
    let mut ends: Vec<Vec<Option<CableEnd>>> = configs
        .iter()
        .map(|c| c.interfaces.iter().map(|_| None).collect())
        .collect();
    let spec = |di: usize, port: usize| MemoryEndSpec {
        iface: configs[di].interfaces[port].name.clone(),
        label: format!("{} {}", configs[di].name, configs[di].interfaces[port].name),
    };
    for (di, c) in configs.iter().enumerate() {
        for (port, iface) in c.interfaces.iter().enumerate() {
            let CablePeer::Addr(peer) = &iface.peer else {
                bail!(
                    "{}:{}: a named cable peer cannot be simulated",
                    c.name,
                    iface.name
                );
            };
            let (dj, q) = *by_local
                .get(peer)
                .with_context(|| format!("{}:{} is not wired", c.name, iface.name))?;
            if (di, port) < (dj, q) {
                let sink: Arc<dyn WireLog> = log.clone();
                let (a, b) =
                    CableEnd::memory_pair(&spec(di, port), &spec(dj, q), latency, Some(sink));
                ends[di][port] = Some(a);
                ends[dj][q] = Some(b);
            }
        }
    }
    ends.into_iter()
        .zip(configs)
        .map(|(ports, c)| {
            ports
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .with_context(|| format!("{}: an interface is not wired", c.name))
        })
        .collect()
}

/// Runs `lab` as a simulation: boots every device, runs `command` (if
/// any) with the script, and returns what happened. Blocks the calling
/// thread (it owns the simulation's runtime).
pub fn simulate(
    lab: &Lab,
    options: &SimOptions,
    command: Option<&SimCommand>,
    on_line: &mut dyn FnMut(&OutputLine),
) -> anyhow::Result<Outcome> {
    vnet_telemetry::simulation::init_simulation("warn");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .context("starting the simulation's runtime")?;
    runtime.block_on(run(lab, options, command, on_line))
}

async fn run(
    lab: &Lab,
    options: &SimOptions,
    command: Option<&SimCommand>,
    on_line: &mut dyn FnMut(&OutputLine),
) -> anyhow::Result<Outcome> {
    let zero = tokio::time::Instant::now();
    let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_UNIX_SECS);
    let world = SimWorld::new(
        options.seed,
        Arc::new(move || epoch + tokio::time::Instant::now().duration_since(zero)),
    );
    let log = EventLog::new(zero);
    let configs = configs(lab, options.seed)?;
    let ends = wire(&configs, options.cable_latency, &log)?;
    let shutdown = CancellationToken::new();
    let mut nodes: Vec<Box<dyn Node>> = Vec::with_capacity(configs.len());
    for (config, ports) in configs.into_iter().zip(ends) {
        let scope = SimScope {
            device: config.name.as_str().into(),
            world: Arc::clone(&world),
        };
        let stop = shutdown.clone();
        let node =
            vnet_telemetry::in_device(
                scope.clone(),
                async move { start_node(config, ports, stop) },
            )
            .await?;
        nodes.push(node);
    }
    let booted_micros = boot(&nodes, options.boot_limit, &log).await?;
    let command_micros = log.now_micros();
    for (index, step) in options.script.iter().enumerate() {
        schedule(step, index, options.seed, &nodes, &log)?;
    }
    let mut output = Vec::new();
    let exit = match command {
        Some(cmd) => Some(
            run_command(cmd, &nodes, &world, options.run_limit, &mut |line| {
                on_line(&line);
                output.push(line);
            })
            .await?,
        ),
        None => {
            let last = options
                .script
                .iter()
                .map(|s| s.at)
                .max()
                .unwrap_or_default();
            tokio::time::sleep(last).await;
            None
        }
    };
    tokio::time::sleep(options.settle).await;
    let tables = options
        .tables
        .iter()
        .map(|(device, table)| {
            let found = node(&nodes, device).and_then(|n| n.table(table));
            ((device.clone(), table.clone()), found)
        })
        .collect();
    let end_micros = log.now_micros();
    shutdown.cancel();
    // Let the devices see the cancellation before the runtime goes.
    tokio::time::sleep(Duration::from_millis(1)).await;
    Ok(Outcome {
        output,
        exit,
        booted_micros,
        command_micros,
        end_micros,
        events: log.events(),
        events_dropped: log.dropped(),
        spans: world.spans.take(),
        tables,
    })
}

/// The device named `name`.
fn node<'a>(nodes: &'a [Box<dyn Node>], name: &str) -> Option<&'a dyn Node> {
    nodes.iter().find(|n| n.name() == name).map(|n| &**n)
}

/// A line of the command's output, for the events that are one.
fn output_line(event: ExecEvent) -> Option<OutputLine> {
    match event {
        ExecEvent::Out(line) => Some(OutputLine::Out(line)),
        ExecEvent::Err(line) => Some(OutputLine::Err(line)),
        _ => None,
    }
}

/// Waits (in virtual time) until every device is ready.
async fn boot(nodes: &[Box<dyn Node>], limit: Duration, log: &EventLog) -> anyhow::Result<u64> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let waiting: Vec<&str> = nodes
            .iter()
            .filter(|n| !n.ready())
            .map(|n| n.name())
            .collect();
        if waiting.is_empty() {
            return Ok(log.now_micros());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "not ready after {:?} of simulated time: {} (a DHCP client without a lease?)",
                limit,
                waiting.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Starts the task that applies `step` at its time.
fn schedule(
    step: &Step,
    index: usize,
    seed: u64,
    nodes: &[Box<dyn Node>],
    log: &Arc<EventLog>,
) -> anyhow::Result<()> {
    let node = node(nodes, &step.device)
        .with_context(|| format!("--at: no device {:?} in the lab", step.device))?;
    let port = node
        .port_of(&step.iface)
        .with_context(|| format!("--at: {} has no interface {:?}", step.device, step.iface))?;
    let control = node.control();
    let mut step = step.clone();
    if let Action::Impair(imp) = &mut step.action {
        // Seeded like the topology's impairments: the same run loses the
        // same frames.
        imp.seed
            .get_or_insert(mix(seed, index + 1, port) ^ 0x5c41_7000_0000_0000);
    }
    let log = Arc::clone(log);
    let at = tokio::time::Instant::now() + step.at;
    tokio::spawn(async move {
        tokio::time::sleep_until(at).await;
        log.script(&step.device, &step.iface, &step.describe());
        match &step.action {
            Action::Link { up } => control.set_link(port, *up),
            Action::Impair(imp) => control.impair(port, imp.clone()),
        }
    });
    Ok(())
}

/// Runs the command to its end (or interrupts it at `limit`); its exit code.
async fn run_command(
    cmd: &SimCommand,
    nodes: &[Box<dyn Node>],
    world: &Arc<SimWorld>,
    limit: Duration,
    on_line: &mut dyn FnMut(OutputLine),
) -> anyhow::Result<i32> {
    let node = node(nodes, &cmd.device)
        .with_context(|| format!("no device {:?} in the lab", cmd.device))?;
    let (out, mut rx) = ExecOutput::channel(1024);
    let app = node
        .exec(cmd.args.clone(), out.clone())
        .with_context(|| format!("{} runs no applications", cmd.device))?;
    let scope = SimScope {
        device: cmd.device.as_str().into(),
        world: Arc::clone(world),
    };
    let mut task = tokio::spawn(vnet_telemetry::in_device(scope, app));
    let mut deadline = tokio::time::Instant::now() + limit;
    let mut interrupted = false;
    let code = loop {
        tokio::select! {
            biased;
            event = rx.recv() => if let Some(line) = event.and_then(output_line) {
                on_line(line);
            },
            code = &mut task => break code.unwrap_or(101),
            _ = tokio::time::sleep_until(deadline) => {
                if interrupted {
                    // Not caught (or not heeded): stopped as by SIGINT.
                    task.abort();
                    break 130;
                }
                on_line(OutputLine::Err(format!(
                    "vnet sim: interrupting the command after {limit:?} of simulated time"
                )));
                out.interrupt();
                interrupted = true;
                deadline += INTERRUPT_GRACE;
            }
        }
    };
    drop(out);
    while let Ok(event) = rx.try_recv() {
        if let Some(line) = output_line(event) {
            on_line(line);
        }
    }
    Ok(code)
}
