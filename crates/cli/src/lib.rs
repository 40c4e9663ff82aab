//! The `vnet` command line.
//!
//! `vnet up` starts a lab (one OS process per device), `vnet exec` runs an
//! application on a host, `vnet link` cuts and restores cables, `vnet show`
//! prints a device's tables, `vnet capture` records pcapng, `vnet status`
//! and `vnet down` manage the lab, `vnet trace` prints the traces the lab's
//! collector received. Everything talks to the devices' admin APIs (and
//! the collector's JSON API), whose addresses `vnet up` records in the run
//! directory.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod commands;
mod orchestrator;
mod pki;
mod plan;
mod preflight;
mod procs;
pub mod state;

use commands::lifecycle::Verb;
use state::StateSource;
use std::time::Duration;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "vnet",
    version,
    about = "A virtual network of real processes: hosts, switches and routers over UDP cables",
    after_help = "Start with `vnet up` (the default lab, configs/lab.toml), then e.g.\n  vnet exec client -- ping -c 3 10.0.3.10\n  vnet exec client -- traceroute 10.0.3.10\n  vnet show sw1 mac\n  vnet trace show last\n  vnet down"
)]
struct Cli {
    /// Where the running lab keeps its state, configs and logs.
    #[arg(long, global = true, env = "VNET_RUN_DIR", default_value = ".vnet")]
    run_dir: PathBuf,
    /// Drive a lab running under Docker Compose instead of one started by
    /// `vnet up` (devices are reached through `docker exec` into their containers).
    #[arg(long, global = true)]
    compose: bool,
    /// The compose file written by `vnet gen compose`.
    #[arg(
        long,
        global = true,
        env = "VNET_COMPOSE_FILE",
        default_value = "docker-compose.yml",
        value_name = "FILE"
    )]
    compose_file: PathBuf,
    /// Drive a lab deployed on Docker Swarm as stack STACK (`docker stack
    /// deploy -c lab-stack.yml STACK`): devices are reached through `docker
    /// exec` into their containers on this engine.
    #[arg(long, global = true, value_name = "STACK", conflicts_with_all = ["compose", "k8s"])]
    swarm: Option<String>,
    /// Drive a lab applied to Kubernetes in NAMESPACE (`kubectl apply -f
    /// lab-k8s.yaml`): devices are reached through `kubectl exec`.
    #[arg(
        long,
        global = true,
        value_name = "NAMESPACE",
        conflicts_with = "compose"
    )]
    k8s: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// `vnet ca …`.
#[derive(Subcommand, Debug)]
enum CaCommand {
    /// Print the lab CA's certificate (PEM), e.g. for
    /// `curl --cacert <(vnet ca export) https://…` from a TAP namespace.
    Export,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start a lab: one process per device; returns when every device answers.
    Up {
        /// Topology file.
        #[arg(default_value = "configs/lab.toml")]
        topology: PathBuf,
        /// Seconds to wait for every device's admin API.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        /// Run devices from DIR/vnet-KIND binaries instead of `vnet device KIND`.
        #[arg(long, env = "VNET_BIN_DIR")]
        bin_dir: Option<PathBuf>,
        /// Do not start the trace collector (one is started, and the devices
        /// export their spans to it, unless OTEL_EXPORTER_OTLP_ENDPOINT is set).
        #[arg(long)]
        no_trace: bool,
        /// Hosts and web devices append their TLS session secrets to
        /// <run-dir>/tls-keylog.txt (NSS key log format): `tshark -o
        /// tls.keylog_file:FILE` then decrypts the lab's HTTPS captures.
        #[arg(long)]
        keylog: bool,
        /// Run every device on these CPUs only (`0`, `0-1`, `0,2`; as
        /// `taskset -c`), overriding the topology's per-device `cpus`. One
        /// CPU for the whole lab gives the lowest latency per hop (no CPU
        /// is woken to pass a frame on) at the cost of throughput.
        #[arg(long, value_name = "LIST")]
        cpus: Option<vnet_topology::cpus::CpuList>,
    },
    /// The lab's certificate authority (made by `vnet up`; hosts trust it).
    Ca {
        #[command(subcommand)]
        action: CaCommand,
    },
    /// Stop the running lab (SIGTERM, then SIGKILL after 5 s).
    Down,
    /// Show every device: process, admin API, interfaces and counters.
    Status {
        /// Print the raw JSON of every device.
        #[arg(long)]
        json: bool,
    },
    /// Run an application on a device, e.g. `vnet exec client -- ping -c 3 10.0.3.10`.
    #[command(trailing_var_arg = true)]
    Exec {
        /// Device name.
        device: String,
        /// Application and arguments.
        #[arg(required = true, allow_hyphen_values = true)]
        argv: Vec<String>,
    },
    /// Stop one device (or `collector`): SIGTERM, SIGKILL after 5 s.
    Stop {
        /// Device name, or `collector`.
        device: String,
    },
    /// Start a stopped or crashed device (or `collector`) again with its configuration.
    Start {
        /// Device name, or `collector`.
        device: String,
        /// Seconds to wait until it is ready.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Restart one device (or `collector`): stop, then start.
    Restart {
        /// Device name, or `collector`.
        device: String,
        /// Seconds to wait until it is ready.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Kill one device (or `collector`) with SIGKILL, like a crash.
    Kill {
        /// Device name, or `collector`.
        device: String,
    },
    /// Cut, restore or impair one end of a cable: `vnet link down r2:eth1`,
    /// `vnet link impair r2:eth1 --loss 5% --delay 50ms`.
    Link {
        #[command(subcommand)]
        action: commands::link::LinkCommand,
    },
    /// Print a device's table: `vnet show sw1 mac`, `vnet show r1 routes`.
    Show {
        /// Device name.
        device: String,
        /// Table name (omit to list them).
        table: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Capture an interface to a pcapng file (Ctrl-C to stop).
    Capture {
        /// DEVICE:INTERFACE.
        port: String,
        /// Output file.
        #[arg(short = 'w', long = "write")]
        file: PathBuf,
        /// Stop after this many frames.
        #[arg(short = 'c', long)]
        count: Option<u64>,
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<f64>,
    },
    /// Generate files: `vnet gen compose configs/lab.toml`, `vnet gen topology --chain 16`.
    Gen {
        #[command(subcommand)]
        what: commands::generate::GenCommand,
    },
    /// Print the traces the lab's collector received: `vnet trace list`,
    /// `vnet trace show last --proto dns,tcp --layers`.
    Trace {
        /// The collector's URL (default: the one `vnet up` started, for
        /// --compose http://127.0.0.1:4318, else $OTEL_EXPORTER_OTLP_ENDPOINT).
        #[arg(long, global = true, value_name = "URL")]
        endpoint: Option<String>,
        #[command(subcommand)]
        what: commands::trace::TraceCommand,
    },
    /// Run a lab as a deterministic simulation of its real device code on
    /// virtual time: `vnet sim configs/lab.toml --seed 7 -- client browse
    /// http://www.example.com/` prints the output and the trace timeline;
    /// `--step` steps through every frame; `--events FILE` writes the log.
    Sim(commands::sim::SimArgs),
    /// Grade a lab: run CHECKS.toml's scenario in the simulation (or on the
    /// running lab with --live) and print PASS/FAIL per assertion; exits 1
    /// if any fails.
    Check(commands::check::CheckArgs),
    /// Benchmarks (not tests): `vnet bench forward`.
    Bench {
        #[command(subcommand)]
        what: commands::bench::BenchCommand,
    },
    /// Run one device in this process (how `vnet up` starts devices unless
    /// --bin-dir is given).
    #[command(hide = true)]
    Device {
        /// Device kind.
        kind: String,
        /// Device config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// One request to a device's admin API, framed on stdout as `HTTP
    /// <status>` and the body: how `vnet --swarm`/`--k8s` reach an admin API
    /// that listens on a container's loopback (run inside the container).
    #[command(hide = true)]
    AdminRequest {
        /// Admin API address.
        #[arg(long, default_value = "127.0.0.1:7000")]
        admin: std::net::SocketAddr,
        /// GET or POST.
        method: String,
        /// Path and query.
        path: String,
        /// JSON body.
        #[arg(long)]
        body: Option<String>,
    },
    /// Run the trace collector in this process (how `vnet up` starts it
    /// unless --bin-dir is given).
    #[command(hide = true)]
    Collector {
        /// Address to listen on.
        #[arg(long, default_value = vnet_collector::DEFAULT_LISTEN)]
        listen: String,
    },
}

/// Exit status when stdout was closed under us: 128 + SIGPIPE, what a
/// shell reports for a C tool killed by the signal.
const BROKEN_PIPE_EXIT: i32 = 141;

/// Makes a closed stdout (`vnet status | head -1`) end the CLI quietly
/// instead of with a "failed printing to stdout: Broken pipe" panic (101).
///
/// Rust ignores SIGPIPE, so `println!` sees EPIPE and panics. Restoring
/// the signal's default action needs `unsafe` (forbidden in this crate),
/// and would also reach the devices that `vnet device` runs in-process;
/// so a panic hook recognises that one panic (std's message, with an
/// EPIPE error) and exits with 141, silently, as a C tool killed by
/// SIGPIPE would. Every other panic is reported as before.
fn quiet_on_broken_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if is_broken_pipe_panic(message) {
            std::process::exit(BROKEN_PIPE_EXIT);
        }
        previous(info);
    }));
}

/// Whether `message` is std's panic for printing to a closed stdout/stderr.
fn is_broken_pipe_panic(message: &str) -> bool {
    let broken = std::io::Error::from(std::io::ErrorKind::BrokenPipe).to_string();
    message.starts_with("failed printing to std")
        && (message.contains("Broken pipe") || message.contains(&broken))
}

/// Entry point of the `vnet` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Device { kind, config } = &cli.command {
        return commands::device::run(kind, config);
    }
    if let Command::Collector { listen } = &cli.command {
        return vnet_collector::main_with_args(
            ["vnet-collector", "--listen", listen.as_str()].map(Into::into),
        );
    }
    if let Command::Sim(args) = &cli.command {
        quiet_on_broken_pipe();
        return report(commands::sim::run(args));
    }
    if let Command::Check(args) = &cli.command
        && !args.live
    {
        return report(commands::check::run_simulated(args));
    }
    vnet_telemetry::init("vnet", "warn");
    quiet_on_broken_pipe();
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
    let result = runtime.block_on(async move {
        let run_dir = cli.run_dir;
        let source = if let Some(stack) = &cli.swarm {
            StateSource::Swarm(stack.clone())
        } else if let Some(namespace) = &cli.k8s {
            StateSource::Kubernetes(namespace.clone())
        } else if cli.compose {
            StateSource::Compose(cli.compose_file.clone())
        } else {
            StateSource::RunDir(run_dir.clone())
        };
        if matches!(cli.command, Command::Up { .. } | Command::Down) {
            match &source {
                StateSource::Compose(file) => anyhow::bail!(
                    "a compose lab is started and stopped by Docker: `docker compose -f {0} up -d` / `docker compose -f {0} down`",
                    file.display()
                ),
                StateSource::Swarm(stack) => anyhow::bail!(
                    "a Swarm lab is started and stopped by Docker: `docker stack deploy -c lab-stack.yml {stack}` / `docker stack rm {stack}`"
                ),
                StateSource::Kubernetes(ns) => anyhow::bail!(
                    "a Kubernetes lab is started and stopped by kubectl: `kubectl apply -f lab-k8s.yaml` / `kubectl delete namespace {ns}`"
                ),
                StateSource::RunDir(_) => {}
            }
        }
        if source.is_orchestrated() && matches!(cli.command, Command::Trace { .. }) {
            let prefix = orchestrator::collector_prefix(cli.swarm.as_deref(), cli.k8s.as_deref())?;
            return orchestrator::forward(&prefix, &trace_args_inside()).await;
        }
        match cli.command {
            Command::Up { topology, timeout, bin_dir, no_trace, keylog, cpus } => {
                commands::up::run_with_trace(
                    &run_dir,
                    &topology,
                    timeout,
                    bin_dir.as_deref(),
                    !no_trace,
                    keylog,
                    cpus.as_ref(),
                )
                    .await
            }
            Command::Ca { action: CaCommand::Export } => {
                if source.is_orchestrated() {
                    anyhow::bail!(
                        "`vnet ca export` reads the lab CA of a lab started with `vnet up`; for a Compose, Swarm or Kubernetes lab the CA certificate is the FILE given to `vnet gen … --tls-ca FILE`"
                    );
                }
                print!("{}", pki::export(&run_dir)?);
                Ok(ExitCode::SUCCESS)
            }
            Command::Down => commands::down::run(&run_dir).await,
            Command::Stop { device } => {
                commands::lifecycle::run(&source, Verb::Stop, &device, Duration::ZERO).await
            }
            Command::Kill { device } => {
                commands::lifecycle::run(&source, Verb::Kill, &device, Duration::ZERO).await
            }
            Command::Start { device, timeout } => {
                let t = Duration::from_secs(timeout);
                commands::lifecycle::run(&source, Verb::Start, &device, t).await
            }
            Command::Restart { device, timeout } => {
                let t = Duration::from_secs(timeout);
                commands::lifecycle::run(&source, Verb::Restart, &device, t).await
            }
            Command::Status { json } => commands::status::run(&source, json).await,
            Command::Exec { device, argv } => commands::exec::run(&source, &device, argv).await,
            Command::Link { action } => commands::link::run(&source, action).await,
            Command::Show { device, table, json } => {
                commands::show::run(&source, &device, table.as_deref(), json).await
            }
            Command::Capture { port, file, count, seconds } => {
                commands::capture::run(&source, &port, &file, count, seconds).await
            }
            Command::Gen { what } => commands::generate::run(what),
            Command::Trace { endpoint, what } => {
                commands::trace::run(&source, endpoint.as_deref(), what).await
            }
            Command::Bench { what } => commands::bench::run(what).await,
            Command::Check(args) => commands::check::run_live(&source, &args).await,
            Command::AdminRequest { admin, method, path, body } => {
                commands::admin_request::run(admin, &method, &path, body).await
            }
            Command::Device { .. } | Command::Collector { .. } | Command::Sim(_) => {
                unreachable!("handled above")
            }
        }
    });
    report(result)
}

/// The exit code of a command's result, printing its error.
fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// This command line's `trace …` part, for the `vnet` inside an
/// orchestrated lab's collector container: global options that name the
/// lab are dropped, and the endpoint is the collector's own loopback.
fn trace_args_inside() -> Vec<String> {
    trace_args_from(std::env::args().skip(1))
}

fn trace_args_from(args: impl Iterator<Item = String>) -> Vec<String> {
    let args: Vec<String> = args.collect();
    let with_value = ["--swarm", "--k8s", "--run-dir", "--compose-file"];
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if with_value.contains(&a) {
            i += 2;
        } else if a == "--compose" || with_value.iter().any(|f| a.starts_with(&format!("{f}="))) {
            i += 1;
        } else {
            break;
        }
    }
    let mut rest: Vec<String> = args[i..].to_vec();
    if !rest
        .iter()
        .any(|a| a == "--endpoint" || a.starts_with("--endpoint="))
        && !rest.is_empty()
    {
        rest.splice(
            1..1,
            [
                "--endpoint".to_string(),
                orchestrator::collector_endpoint_inside(),
            ],
        );
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_print_to_a_closed_pipe_panic_is_silenced() {
        assert!(is_broken_pipe_panic(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(!is_broken_pipe_panic("index out of bounds"));
        assert!(!is_broken_pipe_panic(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
    }

    #[test]
    fn trace_commands_are_forwarded_without_the_lab_options() {
        let args = |s: &str| trace_args_from(s.split(' ').map(String::from));
        assert_eq!(
            args("--swarm lab trace show last --layers"),
            [
                "trace",
                "--endpoint",
                "http://127.0.0.1:4318",
                "show",
                "last",
                "--layers"
            ]
        );
        assert_eq!(
            args("--k8s=lab trace --endpoint http://x list"),
            ["trace", "--endpoint", "http://x", "list"]
        );
    }
}
