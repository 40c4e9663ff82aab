//! `vnet stop|start|restart|kill DEVICE`: one device (or `collector`)
//! stopped gracefully, started again with its configuration, restarted, or
//! killed like a crash (SIGKILL). For a lab of `vnet up` the run directory's
//! state follows every change (pid, start time, restarts); Compose, Swarm
//! and Kubernetes labs are changed through their orchestrator.

use crate::orchestrator;
use crate::procs;
use crate::state::{LabState, StateSource, unix_now};
use anyhow::{Context, bail};
use clap::ValueEnum;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What to do to the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Verb {
    /// SIGTERM, SIGKILL after 5 s.
    Stop,
    /// Start it again with its configuration.
    Start,
    /// Stop, then start.
    Restart,
    /// SIGKILL: a crash.
    Kill,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Stop => "stop",
            Verb::Start => "start",
            Verb::Restart => "restart",
            Verb::Kill => "kill",
        }
    }
}

/// The name that means the lab's trace collector.
pub const COLLECTOR: &str = "collector";
/// Grace before SIGKILL, as `vnet down`.
const GRACE: Duration = Duration::from_secs(5);

/// Runs `verb` on `device`.
pub async fn run(
    source: &StateSource,
    verb: Verb,
    device: &str,
    timeout: Duration,
) -> anyhow::Result<ExitCode> {
    match source {
        StateSource::RunDir(dir) => run_local(dir, verb, device, timeout).await,
        other => {
            let commands = orchestrated_commands(other, verb, device)?;
            for command in &commands {
                let status = orchestrator::forward(command, &[]).await?;
                if status != ExitCode::SUCCESS {
                    bail!("`{}` failed", command.join(" "));
                }
            }
            println!("{device}: {}", verb.as_str());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The orchestrator commands that carry out `verb` on `device`.
pub fn orchestrated_commands(
    source: &StateSource,
    verb: Verb,
    device: &str,
) -> anyhow::Result<Vec<Vec<String>>> {
    let v = |parts: &[&str]| parts.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    Ok(match source {
        StateSource::Compose(file) => {
            let file = file.to_string_lossy();
            let mut c = v(&["docker", "compose", "-f", &file, verb.as_str()]);
            if verb == Verb::Stop || verb == Verb::Restart {
                c.extend(v(&["-t", "5"]));
            }
            c.push(device.to_string());
            vec![c]
        }
        StateSource::Swarm(stack) => {
            let service = format!("{stack}_{device}");
            match verb {
                Verb::Stop => vec![v(&["docker", "service", "scale", &format!("{service}=0")])],
                Verb::Start => vec![v(&["docker", "service", "scale", &format!("{service}=1")])],
                Verb::Restart => vec![v(&[
                    "docker", "service", "update", "--quiet", "--force", &service,
                ])],
                Verb::Kill => {
                    let container =
                        orchestrator::swarm_container(stack, device)?.with_context(|| {
                            format!(
                                "{device}: no running container of stack {stack} on this engine"
                            )
                        })?;
                    vec![v(&["docker", "kill", &container])]
                }
            }
        }
        StateSource::Kubernetes(ns) => {
            let deploy = format!("deploy/{device}");
            match verb {
                Verb::Stop => vec![v(&["kubectl", "scale", "-n", ns, &deploy, "--replicas=0"])],
                Verb::Start => vec![v(&["kubectl", "scale", "-n", ns, &deploy, "--replicas=1"])],
                Verb::Restart => vec![v(&["kubectl", "rollout", "restart", "-n", ns, &deploy])],
                Verb::Kill => vec![v(&[
                    "kubectl",
                    "delete",
                    "pod",
                    "-n",
                    ns,
                    "-l",
                    &format!("vnet.device={device}"),
                    "--grace-period=0",
                    "--force",
                ])],
            }
        }
        StateSource::RunDir(_) => bail!("a lab of `vnet up` is changed directly"),
    })
}

async fn run_local(
    run_dir: &Path,
    verb: Verb,
    device: &str,
    timeout: Duration,
) -> anyhow::Result<ExitCode> {
    let mut state = LabState::require(run_dir)?;
    if device == COLLECTOR {
        return collector_verb(run_dir, &mut state, verb, timeout).await;
    }
    let index = state
        .devices
        .iter()
        .position(|d| d.name == device)
        .ok_or_else(|| {
            state
                .device(device)
                .err()
                .unwrap_or_else(|| anyhow::anyhow!("no device {device}"))
        })?;
    let d = &state.devices[index];
    let alive = procs::find_device(d.pid, &d.config);
    match verb {
        Verb::Stop | Verb::Kill if alive.is_empty() => {
            println!("{device} is not running");
            return Ok(ExitCode::SUCCESS);
        }
        Verb::Start if !alive.is_empty() => {
            bail!(
                "{device} is already running (pid {}); use `vnet restart {device}`",
                alive[0]
            );
        }
        _ => {}
    }
    if matches!(verb, Verb::Stop | Verb::Restart | Verb::Kill) {
        for pid in &alive {
            if verb == Verb::Kill {
                procs::kill_now(*pid);
            } else {
                let config = d.config.clone();
                let pid = *pid;
                tokio::task::spawn_blocking(move || procs::stop(pid, &config, GRACE)).await?;
            }
        }
        state.devices[index].stopped = verb == Verb::Stop;
        state.write(run_dir)?;
        if verb != Verb::Restart {
            println!(
                "{device}: {} (pid {})",
                if verb == Verb::Kill {
                    "killed"
                } else {
                    "stopped"
                },
                alive[0]
            );
            return Ok(ExitCode::SUCCESS);
        }
    }
    start_device(run_dir, &mut state, index, timeout).await?;
    let d = &state.devices[index];
    println!("{device}: started (pid {}, restarts {})", d.pid, d.restarts);
    Ok(ExitCode::SUCCESS)
}

/// Starts device `index` again from its rendered config and waits until
/// it is ready.
async fn start_device(
    run_dir: &Path,
    state: &mut LabState,
    index: usize,
    timeout: Duration,
) -> anyhow::Result<()> {
    let d = state.devices[index].clone();
    let kind = vnet_topology::DeviceKind::from_name(&d.kind)
        .with_context(|| format!("{}: unknown kind {:?} in the lab state", d.name, d.kind))?;
    let mut cmd = procs::device_command(kind, &d.config, state.bin_dir.as_deref())?;
    if let Some(c) = &state.collector {
        cmd.env(procs::OTLP_ENDPOINT_VAR, &c.endpoint);
    }
    let pid = procs::spawn(cmd, &d.log).with_context(|| format!("starting {}", d.name))?;
    {
        let entry = &mut state.devices[index];
        entry.pid = pid;
        entry.started_unix = unix_now();
        entry.restarts += 1;
        entry.stopped = false;
    }
    state.write(run_dir)?;
    let one = LabState {
        devices: vec![state.devices[index].clone()],
        collector: None,
        ..state.clone()
    };
    super::up::wait_ready(&one, timeout).await
}

async fn collector_verb(
    run_dir: &Path,
    state: &mut LabState,
    verb: Verb,
    timeout: Duration,
) -> anyhow::Result<ExitCode> {
    let Some(c) = state.collector.clone() else {
        bail!(
            "this lab has no trace collector (started with --no-trace or with OTEL_EXPORTER_OTLP_ENDPOINT set)"
        );
    };
    let running = c.is_running();
    match verb {
        Verb::Start if running => bail!("the collector is already running (pid {})", c.pid),
        Verb::Stop | Verb::Kill if !running => {
            println!("the collector is not running");
            return Ok(ExitCode::SUCCESS);
        }
        Verb::Kill => procs::kill_now(c.pid),
        Verb::Stop | Verb::Restart if running => {
            let c2 = c.clone();
            tokio::task::spawn_blocking(move || super::up::stop_collector(&c2)).await?;
        }
        _ => {}
    }
    if matches!(verb, Verb::Stop | Verb::Kill) {
        if let Some(entry) = state.collector.as_mut() {
            entry.stopped = verb == Verb::Stop;
        }
        state.write(run_dir)?;
        println!(
            "collector: {}",
            if verb == Verb::Kill {
                "killed"
            } else {
                "stopped"
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let cmd = procs::collector_command(c.listen, state.bin_dir.as_deref())?;
    let pid = procs::spawn(cmd, &c.log).context("starting the trace collector")?;
    let entry = state.collector.as_mut().context("collector state")?;
    entry.pid = pid;
    entry.stopped = false;
    let started = entry.clone();
    state.write(run_dir)?;
    super::up::wait_collector(&started, Instant::now() + timeout).await?;
    println!("collector: started (pid {pid}, {})", c.endpoint);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orchestrators_get_the_right_commands() {
        let joined = |source: &StateSource, verb| {
            orchestrated_commands(source, verb, "r2")
                .unwrap()
                .iter()
                .map(|c| c.join(" "))
                .collect::<Vec<_>>()
        };
        let compose = StateSource::Compose("docker-compose.yml".into());
        assert_eq!(
            joined(&compose, Verb::Stop),
            ["docker compose -f docker-compose.yml stop -t 5 r2"]
        );
        assert_eq!(
            joined(&compose, Verb::Kill),
            ["docker compose -f docker-compose.yml kill r2"]
        );
        let swarm = StateSource::Swarm("lab".into());
        assert_eq!(
            joined(&swarm, Verb::Stop),
            ["docker service scale lab_r2=0"]
        );
        assert_eq!(
            joined(&swarm, Verb::Start),
            ["docker service scale lab_r2=1"]
        );
        assert_eq!(
            joined(&swarm, Verb::Restart),
            ["docker service update --quiet --force lab_r2"]
        );
        let k8s = StateSource::Kubernetes("lab".into());
        assert_eq!(
            joined(&k8s, Verb::Stop),
            ["kubectl scale -n lab deploy/r2 --replicas=0"]
        );
        assert_eq!(
            joined(&k8s, Verb::Restart),
            ["kubectl rollout restart -n lab deploy/r2"]
        );
        assert_eq!(
            joined(&k8s, Verb::Kill),
            ["kubectl delete pod -n lab -l vnet.device=r2 --grace-period=0 --force"]
        );
    }
}
