//! `vnet up`: validate the topology, render configs, start the devices.

use crate::client;
use crate::plan::LoopbackPlan;
use crate::procs;
use crate::state::{DeviceState, LabState};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use vnet_topology::Lab;
use vnet_topology::render::render;

/// Starts the lab described by `topology`.
pub async fn run(
    run_dir: &Path,
    topology: &Path,
    timeout_secs: u64,
    bin_dir: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let lab = match Lab::load(topology) {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("nothing was started");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(existing) = LabState::read(run_dir)? {
        let alive: Vec<_> = existing
            .devices
            .iter()
            .filter(|d| procs::is_our_device(d.pid, &d.config))
            .map(|d| d.name.as_str())
            .collect();
        if !alive.is_empty() {
            bail!(
                "lab {} is already running from {} (devices up: {}); run `vnet down` first",
                existing.lab,
                run_dir.display(),
                alive.join(", ")
            );
        }
    }
    let configs_dir = run_dir.join("configs");
    let logs_dir = run_dir.join("logs");
    for dir in [&configs_dir, &logs_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let run_dir = std::fs::canonicalize(run_dir)
        .with_context(|| format!("resolving {}", run_dir.display()))?;
    let capture_dir = lab.capture_dir.as_ref().map(|d| {
        if d.is_absolute() {
            d.clone()
        } else {
            run_dir.join(d)
        }
    });

    // A port chosen free can still be taken before its device binds it; then
    // the whole start is retried with fresh ports.
    const ATTEMPTS: usize = 3;
    let mut attempt = 1;
    let state = loop {
        match start_devices(
            &lab,
            &run_dir,
            topology,
            capture_dir.as_deref(),
            bin_dir,
            timeout_secs,
        )
        .await
        {
            Ok(state) => break state,
            Err(e) if attempt < ATTEMPTS && format!("{e:#}").contains("Address already in use") => {
                eprintln!(
                    "warning: a port was taken while the lab started; retrying with fresh ports"
                );
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    println!(
        "lab {} is up: {} devices ({})",
        lab.name,
        state.devices.len(),
        run_dir.display()
    );
    for d in &state.devices {
        println!(
            "  {:<10} {:<7} pid {:<8} admin http://{}",
            d.name, d.kind, d.pid, d.admin
        );
    }
    println!("try: vnet exec <host> -- ping -c 3 <address>   |   vnet status   |   vnet down");
    Ok(ExitCode::SUCCESS)
}

/// Renders configs with fresh ports, starts every device and waits until
/// all are ready; on failure stops what it started.
async fn start_devices(
    lab: &Lab,
    run_dir: &Path,
    topology: &Path,
    capture_dir: Option<&Path>,
    bin_dir: Option<&Path>,
    timeout_secs: u64,
) -> anyhow::Result<LabState> {
    let mut plan = LoopbackPlan::default();
    let configs = render(lab, &mut plan, capture_dir);
    if let Some(e) = plan.error.take() {
        bail!("allocating loopback ports: {e}");
    }
    let mut devices = Vec::new();
    for cfg in &configs {
        let path = run_dir.join("configs").join(format!("{}.toml", cfg.name));
        let text =
            toml::to_string_pretty(cfg).with_context(|| format!("rendering {}", cfg.name))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        devices.push((cfg, path));
    }
    drop(plan); // release the reserved ports right before the devices bind them

    let mut state = LabState {
        lab: lab.name.clone(),
        topology: std::fs::canonicalize(topology).unwrap_or_else(|_| topology.to_path_buf()),
        devices: Vec::new(),
    };
    for (cfg, path) in &devices {
        let log = run_dir.join("logs").join(format!("{}.log", cfg.name));
        let cmd = procs::device_command(cfg.kind, path, bin_dir)?;
        let pid = match procs::spawn(cmd, &log) {
            Ok(pid) => pid,
            Err(e) => {
                stop_all(&state);
                return Err(e.context(format!("starting {}", cfg.name)));
            }
        };
        state.devices.push(DeviceState {
            name: cfg.name.clone(),
            kind: cfg.kind.to_string(),
            pid,
            admin: cfg.admin,
            config: path.clone(),
            log,
        });
    }
    state.write(run_dir)?;
    if let Err(e) = wait_ready(&state, Duration::from_secs(timeout_secs)).await {
        stop_all(&state);
        let _ = std::fs::remove_file(LabState::path(run_dir));
        return Err(e);
    }
    Ok(state)
}

fn stop_all(state: &LabState) {
    for d in &state.devices {
        procs::stop(d.pid, &d.config, Duration::from_secs(2));
    }
}

/// Waits until every device's admin API answers; fails early (with the end
/// of its log) if a device process dies.
async fn wait_ready(state: &LabState, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let http = client::http();
    let mut pending: Vec<_> = state.devices.iter().collect();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for d in pending {
            if !procs::is_our_device(d.pid, &d.config) {
                let log = std::fs::read_to_string(&d.log).unwrap_or_default();
                let tail: Vec<_> = log
                    .lines()
                    .rev()
                    .take(10)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                bail!(
                    "device {} exited during start-up; last lines of {}:\n{}",
                    d.name,
                    d.log.display(),
                    tail.join("\n")
                );
            }
            let ok = http
                .get(client::url(d.admin, "/health"))
                .timeout(Duration::from_millis(500))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if !ok {
                still.push(d);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let names: Vec<_> = pending.iter().map(|d| d.name.as_str()).collect();
            bail!(
                "devices not ready after {timeout:?}: {} (see their logs; a DHCP host is ready once it holds a lease)",
                names.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
