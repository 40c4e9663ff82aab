//! `vnet status`: every device's process, admin API and interface counters,
//! and the trace collector. The exit code is 0 only when every device is
//! running and ready and the collector (when the lab has one) runs.
//!
//! A device's state tells the truth about its process: `running`,
//! `starting` (not ready yet, e.g. a DHCP host without a lease), `paused`
//! (SIGSTOP: the process is alive but cannot answer), `not answering`,
//! `stopped` (`vnet stop`) or `exited` (it died: the end of its log is
//! shown). A device started again by hand with the same config file is
//! found by scanning the process table, and the lab state adopts it.

use crate::client;
use crate::procs;
use crate::state::{COMPOSE_TRACE_ENDPOINT, DeviceState, LabState, StateSource, unix_now};
use std::process::ExitCode;
use vnet_cable::CountersSnapshot;
use vnet_runtime::api::{DeviceStatus, Table};
use vnet_topology::cpus::CpuList;

/// What is known about one device.
struct View {
    state: String,
    pid: String,
    status: Option<DeviceStatus>,
    /// Last log lines of a device that exited.
    log_tail: Option<String>,
}

impl View {
    fn healthy(&self) -> bool {
        self.status.as_ref().is_some_and(|s| s.ready)
    }
}

/// Looks at one device of a `vnet up` lab; returns its view and, when the
/// device now runs under another pid (restarted by hand), that pid.
async fn probe_local(d: &DeviceState) -> (View, Option<u32>) {
    let pids = procs::find_device(d.pid, &d.config);
    let Some(&pid) = pids.first() else {
        let (state, log_tail) = if d.stopped {
            ("stopped".to_string(), None)
        } else {
            ("exited".to_string(), Some(super::up::log_tail(&d.log, 3)))
        };
        let view = View {
            state,
            pid: "-".into(),
            status: None,
            log_tail,
        };
        return (view, None);
    };
    let adopted = (pid != d.pid).then_some(pid);
    if procs::process_state(pid) == Some('T') {
        let view = View {
            state: "paused (SIGSTOP)".into(),
            pid: pid.to_string(),
            status: None,
            log_tail: None,
        };
        return (view, adopted);
    }
    let status = client::get_json::<DeviceStatus>(d, "/status").await.ok();
    let state = match &status {
        Some(s) if s.ready => "running",
        Some(_) => "starting",
        None => "not answering",
    };
    let view = View {
        state: state.into(),
        pid: pid.to_string(),
        status,
        log_tail: None,
    };
    (view, adopted)
}

/// Looks at one device of a Compose, Swarm or Kubernetes lab.
async fn probe_remote(source: &StateSource, d: &DeviceState) -> View {
    let reachable = !source.is_orchestrated() || d.via.is_some();
    let status = if reachable {
        client::get_json::<DeviceStatus>(d, "/status").await.ok()
    } else {
        None
    };
    let state = match &status {
        Some(s) if s.ready => "running",
        Some(_) => "starting",
        None if reachable => "not answering",
        None => "no running container",
    };
    View {
        state: state.into(),
        pid: "-".into(),
        status,
        log_tail: None,
    }
}

/// Prints the status of the lab.
pub async fn run(source: &StateSource, json: bool) -> anyhow::Result<ExitCode> {
    let mut state = source.require()?;
    let mut views = Vec::with_capacity(state.devices.len());
    let mut adopted_any = false;
    for d in state.devices.iter_mut() {
        let view = match source {
            StateSource::RunDir(_) => {
                let (view, adopted) = probe_local(d).await;
                if let Some(pid) = adopted {
                    d.pid = pid;
                    d.stopped = false;
                    adopted_any = true;
                }
                view
            }
            _ => probe_remote(source, d).await,
        };
        views.push(view);
    }
    if let (StateSource::RunDir(dir), true) = (source, adopted_any) {
        state.write(dir)?;
    }
    let (collector_text, collector_ok) = collector_line(source, &state).await;
    let all_up = views.iter().all(View::healthy) && collector_ok;
    if json {
        print_json(&state, &views)?;
    } else {
        println!("lab {} (topology {})", state.lab, state.topology.display());
        print!("{}", render_table(&state, &views).render());
        for (d, v) in state.devices.iter().zip(&views) {
            if let Some(tail) = v.log_tail.as_ref().filter(|t| !t.is_empty()) {
                println!("{} exited; last lines of {}:", d.name, d.log.display());
                for line in tail.lines() {
                    println!("  {line}");
                }
            }
        }
        if let Some(line) = cpu_line(&state, &views) {
            println!("{line}");
        }
        println!("{collector_text}");
    }
    Ok(if all_up {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

fn print_json(state: &LabState, views: &[View]) -> anyhow::Result<()> {
    let now = unix_now();
    let values: Vec<_> = state
        .devices
        .iter()
        .zip(views)
        .map(|(d, v)| {
            serde_json::json!({
                "name": d.name,
                "state": v.state,
                "running": v.status.is_some(),
                "uptime_secs": (d.started_unix > 0 && v.status.is_some()).then(|| now.saturating_sub(d.started_unix)),
                "restarts": d.restarts,
                "status": v.status,
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&values)?);
    Ok(())
}

/// Which devices are pinned to which CPUs (`vnet up --cpus`, a device's
/// `cpus`); None when none is.
fn cpu_line(state: &LabState, views: &[View]) -> Option<String> {
    let pinned: Vec<(&str, &CpuList)> = state
        .devices
        .iter()
        .zip(views)
        .filter_map(|(d, v)| Some((d.name.as_str(), v.status.as_ref()?.cpus.as_ref()?)))
        .collect();
    let first = pinned.first()?;
    let answering = views.iter().filter(|v| v.status.is_some()).count();
    if pinned.len() == answering && pinned.iter().all(|(_, c)| *c == first.1) {
        return Some(format!("cpus       every device on CPUs {}", first.1));
    }
    let each: Vec<String> = pinned
        .iter()
        .map(|(name, cpus)| format!("{name} on {cpus}"))
        .collect();
    Some(format!("cpus       {}; the others on any", each.join(", ")))
}

/// Every drop counter of an interface, summed.
fn drops(c: &CountersSnapshot) -> u64 {
    c.drop_bad_fcs
        + c.drop_bad_envelope
        + c.drop_foreign_source
        + c.drop_link_down_in
        + c.drop_link_down_out
        + c.drop_queue_full
        + c.drop_send_error
        + c.drop_oversize
        + c.drop_impaired
        + c.drop_no_peer
        + c.drop_rx_overflow
}

fn uptime(d: &DeviceState, v: &View) -> String {
    if d.started_unix == 0 || v.status.is_none() {
        return "-".into();
    }
    let secs = unix_now().saturating_sub(d.started_unix);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

fn render_table(state: &LabState, views: &[View]) -> Table {
    let mut table = Table::new(&[
        "DEVICE",
        "KIND",
        "PID",
        "STATE",
        "UP",
        "RESTARTS",
        "ADMIN",
        "INTERFACE",
        "LINK",
        "FRAMES IN/OUT",
        "DROPS",
    ]);
    for (d, v) in state.devices.iter().zip(views) {
        let head = [
            d.name.clone(),
            d.kind.clone(),
            v.pid.clone(),
            v.state.clone(),
            uptime(d, v),
            d.restarts.to_string(),
            d.admin.to_string(),
        ];
        let Some(s) = &v.status else {
            let mut row = head.to_vec();
            row.extend(["-", "-", "-", "-"].map(String::from));
            table.row(row);
            continue;
        };
        for (i, iface) in s.interfaces.iter().enumerate() {
            let c = &iface.counters;
            let word = |up: bool| if up { "up" } else { "down" };
            let link = match (iface.link.rx_up, iface.link.tx_up) {
                (true, true) => "up".to_string(),
                (false, false) => "down".to_string(),
                (rx, tx) => format!("in {} out {}", word(rx), word(tx)),
            };
            let mut row = if i == 0 {
                head.to_vec()
            } else {
                vec![String::new(); head.len()]
            };
            let name = format!(
                "{} {}",
                iface.name,
                iface.address.clone().unwrap_or_default()
            );
            row.extend([
                name.trim().to_string(),
                link,
                format!("{}/{}", c.frames_in, c.frames_out),
                drops(c).to_string(),
            ]);
            table.row(row);
        }
    }
    table
}

/// One line about the lab's trace collector, and whether it is healthy
/// (true when the lab has none).
async fn collector_line(source: &StateSource, state: &LabState) -> (String, bool) {
    let counts = |endpoint: String| async move {
        match vnet_timeline::client::stats(&endpoint).await {
            Ok(s) => (
                format!(
                    "{endpoint}  running  {} traces, {} spans",
                    s.traces, s.spans
                ),
                true,
            ),
            Err(e) => (format!("{endpoint}  not answering ({e:#})"), false),
        }
    };
    match (source, &state.collector) {
        (StateSource::Swarm(stack), _) => orchestrated_collector_line(Some(stack), None).await,
        (StateSource::Kubernetes(ns), _) => orchestrated_collector_line(None, Some(ns)).await,
        // With Jaeger (not the offline receiver) nothing answers there:
        // that is how the lab was meant to run, not a failure.
        (StateSource::Compose(_), _) => {
            let (text, _) = counts(COMPOSE_TRACE_ENDPOINT.to_string()).await;
            (format!("collector  {text}"), true)
        }
        (StateSource::RunDir(_), Some(c)) if c.is_running() => {
            let (text, ok) = counts(c.endpoint.clone()).await;
            (format!("collector  pid {}  {text}", c.pid), ok)
        }
        (StateSource::RunDir(_), Some(c)) => (
            format!(
                "collector  pid {}  {}  {} (see {}; `vnet start collector`)",
                c.pid,
                c.endpoint,
                if c.stopped { "STOPPED" } else { "EXITED" },
                c.log.display()
            ),
            false,
        ),
        (StateSource::RunDir(_), None) => (
            "collector  none (the lab was started with --no-trace or with OTEL_EXPORTER_OTLP_ENDPOINT set)"
                .to_string(),
            true,
        ),
    }
}

/// The collector line of a Swarm or Kubernetes lab: vnet's own receiver,
/// asked through `docker exec`/`kubectl exec` like the devices. With
/// Jaeger in its place there is nothing to ask; that is not a failure.
async fn orchestrated_collector_line(swarm: Option<&str>, k8s: Option<&str>) -> (String, bool) {
    let prefix = match crate::orchestrator::collector_prefix(swarm, k8s) {
        Ok(p) => p,
        Err(e) => return (format!("collector  {e:#}"), true),
    };
    let collector = crate::orchestrator::device_state(
        vnet_topology::compose::TRACE_SERVICE.to_string(),
        "collector".into(),
        std::net::SocketAddr::from(([127, 0, 0, 1], vnet_topology::compose::OTLP_HTTP_PORT)),
        Some(prefix),
    );
    match client::get_json::<vnet_timeline::model::StoreStats>(&collector, "/api/stats").await {
        Ok(s) => (
            format!("collector  running  {} traces, {} spans", s.traces, s.spans),
            true,
        ),
        Err(e) => (format!("collector  not answering ({e:#})"), false),
    }
}
