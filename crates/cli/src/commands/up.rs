//! `vnet up`: validate the topology, render configs, start the devices.

use crate::client;
use crate::plan::LoopbackPlan;
use crate::procs;
use crate::state::{CollectorState, DeviceState, LabState};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use vnet_topology::Lab;
use vnet_topology::cpus::CpuList;
use vnet_topology::render::render;

/// Starts the lab described by `topology`, with a trace collector unless
/// the environment already names an OTLP endpoint (see [`run_with_trace`]).
pub async fn run(
    run_dir: &Path,
    topology: &Path,
    timeout_secs: u64,
    bin_dir: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    run_with_trace(run_dir, topology, timeout_secs, bin_dir, true, false, None).await
}

/// Starts the lab described by `topology`. With `trace`, and unless the
/// environment already names an OTLP endpoint, a trace collector is started
/// first and the devices export their spans to it. With `keylog`, hosts
/// and web devices append their TLS secrets to `<run-dir>/tls-keylog.txt`.
/// With `cpus`, every device runs on those CPUs only (`--cpus`), whatever
/// its topology entry says.
pub async fn run_with_trace(
    run_dir: &Path,
    topology: &Path,
    timeout_secs: u64,
    bin_dir: Option<&Path>,
    trace: bool,
    keylog: bool,
    cpus: Option<&CpuList>,
) -> anyhow::Result<ExitCode> {
    let lab = match Lab::load(topology) {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("nothing was started");
            return Ok(ExitCode::from(2));
        }
    };
    let mut problems = crate::preflight::check_lab(topology, &lab);
    problems.extend(cpu_problems(&lab, cpus));
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("error: {p}");
        }
        eprintln!("nothing was started");
        return Ok(ExitCode::from(2));
    }
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
        if let Some(c) = existing.collector.as_ref().filter(|c| c.is_running()) {
            stop_collector(c);
            eprintln!(
                "stopped the trace collector (pid {}) left running by lab {}",
                c.pid, existing.lab
            );
        }
    }
    let user_endpoint = std::env::var(procs::OTLP_ENDPOINT_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let start_collector = trace && user_endpoint.is_none();
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
            Extras {
                collector: start_collector,
                keylog,
                cpus,
            },
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
    match (&state.collector, &user_endpoint) {
        (Some(c), _) => println!(
            "  {:<10} {:<7} pid {:<8} otlp  {}   (vnet trace list | vnet trace show last)",
            "collector", "trace", c.pid, c.endpoint
        ),
        (None, Some(endpoint)) => println!(
            "  traces are exported to {endpoint} (your {})",
            procs::OTLP_ENDPOINT_VAR
        ),
        (None, None) => println!("  traces are not collected (--no-trace)"),
    }
    println!(
        "  HTTPS: web devices serve port 443 with certificates from the lab CA ({}; `vnet ca export`)",
        crate::pki::ca_path(&run_dir).display()
    );
    if keylog {
        println!(
            "  TLS secrets: {} (tshark -o tls.keylog_file:FILE)",
            crate::pki::keylog_path(&run_dir).display()
        );
    }
    println!("try: vnet exec <host> -- ping -c 3 <address>   |   vnet status   |   vnet down");
    Ok(ExitCode::SUCCESS)
}

/// What starts besides the devices, and how.
#[derive(Debug, Clone, Copy)]
struct Extras<'a> {
    /// The trace collector.
    collector: bool,
    /// The TLS key log (`--keylog`).
    keylog: bool,
    /// `--cpus`: every device pinned to these CPUs.
    cpus: Option<&'a CpuList>,
}

/// CPUs named by `--cpus` or a device's `cpus` that this machine does not
/// have online, one line each (the device would fail to start).
fn cpu_problems(lab: &Lab, cpus: Option<&CpuList>) -> Vec<String> {
    // `--cpus` replaces every device's own setting, so only one is checked.
    let named: Vec<(String, &CpuList)> = match cpus {
        Some(c) => vec![("--cpus".into(), c)],
        None => lab
            .devices
            .iter()
            .filter_map(|d| Some((format!("devices.{}", d.name), d.cpus.as_ref()?)))
            .collect(),
    };
    named
        .into_iter()
        .filter_map(|(whose, c)| {
            vnet_runtime::affinity::check(c)
                .err()
                .map(|e| format!("{whose}: {e}"))
        })
        .collect()
}

/// Renders configs with fresh ports, starts the trace collector (if asked)
/// and every device and waits until all are ready; on failure stops what
/// it started.
async fn start_devices(
    lab: &Lab,
    run_dir: &Path,
    topology: &Path,
    capture_dir: Option<&Path>,
    bin_dir: Option<&Path>,
    timeout_secs: u64,
    extras: Extras<'_>,
) -> anyhow::Result<LabState> {
    let start_collector = extras.collector;
    let mut plan = LoopbackPlan::default();
    let mut configs = render(lab, &mut plan, capture_dir);
    crate::pki::equip(&lab.name, &mut configs, run_dir, extras.keylog)?;
    let state_dir = run_dir.join("state");
    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("creating {}", state_dir.display()))?;
    let token_file = crate::state::write_admin_token(run_dir)?;
    for cfg in &mut configs {
        cfg.state_dir = Some(state_dir.clone());
        cfg.admin_token_file = Some(token_file.clone());
        if let Some(cpus) = extras.cpus {
            cfg.cpus = Some(cpus.clone());
        }
    }
    if let Some(e) = plan.error.take() {
        bail!("allocating loopback ports: {e}");
    }
    let collector_port = if start_collector {
        Some(
            plan.tcp_port()
                .context("allocating the trace collector's port")?,
        )
    } else {
        None
    };
    let mut devices = Vec::new();
    for cfg in &configs {
        let path = run_dir.join("configs").join(format!("{}.toml", cfg.name));
        let text =
            toml::to_string_pretty(cfg).with_context(|| format!("rendering {}", cfg.name))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        devices.push((cfg, path));
    }

    let mut state = LabState {
        lab: lab.name.clone(),
        topology: std::fs::canonicalize(topology).unwrap_or_else(|_| topology.to_path_buf()),
        devices: Vec::new(),
        collector: None,
        bin_dir: bin_dir.map(Path::to_path_buf),
    };
    // The collector first: devices export from their first span on.
    if let Some((listen, reservation)) = collector_port {
        let deadline = Instant::now() + Duration::from_secs(timeout_secs);
        let log = run_dir.join("logs").join("collector.log");
        let cmd = procs::collector_command(listen, bin_dir)?;
        drop(reservation); // release the port right before the collector binds it
        let pid = procs::spawn(cmd, &log).context("starting the trace collector")?;
        let collector = CollectorState {
            pid,
            listen,
            endpoint: format!("http://{listen}"),
            log,
            stopped: false,
        };
        if let Err(e) = wait_collector(&collector, deadline).await {
            stop_collector(&collector);
            return Err(e);
        }
        state.collector = Some(collector);
    }
    drop(plan); // release the reserved ports right before the devices bind them

    for (cfg, path) in &devices {
        let log = run_dir.join("logs").join(format!("{}.log", cfg.name));
        let mut cmd = procs::device_command(cfg.kind, path, bin_dir)?;
        if let Some(c) = &state.collector {
            cmd.env(procs::OTLP_ENDPOINT_VAR, &c.endpoint);
        }
        let pid = match procs::spawn(cmd, &log) {
            Ok(pid) => pid,
            Err(e) => {
                stop_all(&state);
                return Err(e.context(format!("starting {}", cfg.name)));
            }
        };
        state.devices.push(DeviceState {
            via: None,
            started_unix: crate::state::unix_now(),
            restarts: 0,
            stopped: false,
            token: None,
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
    if let Some(c) = &state.collector {
        stop_collector(c);
    }
}

/// Stops the trace collector (SIGTERM, SIGKILL after 2 s); true if killed.
pub fn stop_collector(c: &CollectorState) -> bool {
    procs::stop(
        c.pid,
        Path::new(&c.listen.to_string()),
        Duration::from_secs(2),
    )
}

/// The last `n` lines of a log file (empty if unreadable).
pub(crate) fn log_tail(path: &Path, n: usize) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Whether process `pid` exists and has not exited (zombie).
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
    })
}

/// Waits until the collector's `/health` answers; fails early (with the end
/// of its log) if the process dies.
pub(crate) async fn wait_collector(c: &CollectorState, deadline: Instant) -> anyhow::Result<()> {
    loop {
        // Just after the fork the child may not have exec'd yet (its
        // command line is still ours): only a vanished or zombie process
        // counts as exited.
        if !c.is_running() && !process_alive(c.pid) {
            bail!(
                "the trace collector exited during start-up; last lines of {}:\n{}",
                c.log.display(),
                log_tail(&c.log, 10)
            );
        }
        match vnet_timeline::client::health(&c.endpoint).await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => bail!(
                "the trace collector at {} is not ready: {e:#} (see {}; or start with --no-trace)",
                c.endpoint,
                c.log.display()
            ),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until every device's admin API answers; fails early (with the end
/// of its log) if a device process dies.
pub(crate) async fn wait_ready(state: &LabState, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let http = client::http();
    let mut pending: Vec<_> = state.devices.iter().collect();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for d in pending {
            // As for the collector: a child that has not exec'd yet still
            // shows our command line; only a vanished or zombie process
            // has exited (seen once in CI: the last device spawned was
            // checked before its exec and reported dead with an empty log).
            if !procs::is_our_device(d.pid, &d.config) && !process_alive(d.pid) {
                bail!(
                    "device {} exited during start-up; last lines of {}:\n{}",
                    d.name,
                    d.log.display(),
                    log_tail(&d.log, 10)
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
