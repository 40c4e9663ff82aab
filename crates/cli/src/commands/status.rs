//! `vnet status`: every device's process, admin API and interface counters.

use crate::client;
use crate::procs;
use crate::state::{COMPOSE_TRACE_ENDPOINT, LabState, StateSource};
use std::process::ExitCode;
use vnet_runtime::api::{DeviceStatus, Table};

/// Prints the status of the lab running from `run_dir`.
pub async fn run(source: &StateSource, json: bool) -> anyhow::Result<ExitCode> {
    let state = source.require()?;
    let mut all_up = true;
    let mut statuses = Vec::new();
    for d in &state.devices {
        let reachable = if source.is_orchestrated() {
            d.via.is_some()
        } else {
            d.pid == 0 || procs::is_our_device(d.pid, &d.config)
        };
        let status = if reachable {
            client::get_json::<DeviceStatus>(d, "/status").await.ok()
        } else {
            None
        };
        all_up &= status.as_ref().is_some_and(|s| s.ready);
        statuses.push((d, status));
    }
    if json {
        let values: Vec<_> = statuses
            .iter()
            .map(
                |(d, s)| serde_json::json!({ "name": d.name, "running": s.is_some(), "status": s }),
            )
            .collect();
        println!("{}", serde_json::to_string_pretty(&values)?);
    } else {
        println!("lab {} (topology {})", state.lab, state.topology.display());
        let mut table = Table::new(&[
            "DEVICE",
            "KIND",
            "PID",
            "STATE",
            "ADMIN",
            "INTERFACE",
            "LINK",
            "FRAMES IN/OUT",
            "DROPS",
        ]);
        for (d, s) in &statuses {
            match s {
                None => table.row(vec![
                    d.name.clone(),
                    d.kind.clone(),
                    d.pid.to_string(),
                    "DOWN".into(),
                    d.admin.to_string(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]),
                Some(s) => {
                    for (i, iface) in s.interfaces.iter().enumerate() {
                        let c = &iface.counters;
                        let drops = c.drop_bad_fcs
                            + c.drop_bad_envelope
                            + c.drop_foreign_source
                            + c.drop_link_down_in
                            + c.drop_link_down_out
                            + c.drop_queue_full
                            + c.drop_send_error
                            + c.drop_oversize
                            + c.drop_impaired
                            + c.drop_no_peer;
                        let link = match (iface.link.rx_up, iface.link.tx_up) {
                            (true, true) => "up".to_string(),
                            (false, false) => "down".to_string(),
                            (rx, tx) => format!(
                                "in {} out {}",
                                if rx { "up" } else { "down" },
                                if tx { "up" } else { "down" }
                            ),
                        };
                        let first = i == 0;
                        table.row(vec![
                            if first { d.name.clone() } else { String::new() },
                            if first { d.kind.clone() } else { String::new() },
                            if first {
                                d.pid.to_string()
                            } else {
                                String::new()
                            },
                            if !first {
                                String::new()
                            } else if s.ready {
                                "running".into()
                            } else {
                                "starting".into()
                            },
                            if first {
                                d.admin.to_string()
                            } else {
                                String::new()
                            },
                            format!(
                                "{} {}",
                                iface.name,
                                iface.address.clone().unwrap_or_default()
                            )
                            .trim()
                            .to_string(),
                            link,
                            format!("{}/{}", c.frames_in, c.frames_out),
                            drops.to_string(),
                        ]);
                    }
                }
            }
        }
        print!("{}", table.render());
        println!("{}", collector_line(source, &state).await);
    }
    Ok(if all_up {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// One line about the lab's trace collector.
async fn collector_line(source: &StateSource, state: &LabState) -> String {
    let counts = |endpoint: String| async move {
        match vnet_collector::client::stats(&endpoint).await {
            Ok(s) => format!(
                "{endpoint}  running  {} traces, {} spans",
                s.traces, s.spans
            ),
            Err(e) => format!("{endpoint}  not answering ({e:#})"),
        }
    };
    match (source, &state.collector) {
        (StateSource::Swarm(stack), _) => orchestrated_collector_line(Some(stack), None).await,
        (StateSource::Kubernetes(ns), _) => orchestrated_collector_line(None, Some(ns)).await,
        (StateSource::Compose(_), _) => {
            format!("collector  {}", counts(COMPOSE_TRACE_ENDPOINT.to_string()).await)
        }
        (StateSource::RunDir(_), Some(c)) if c.is_running() => {
            format!("collector  pid {}  {}", c.pid, counts(c.endpoint.clone()).await)
        }
        (StateSource::RunDir(_), Some(c)) => format!(
            "collector  pid {}  {}  DOWN (see {})",
            c.pid,
            c.endpoint,
            c.log.display()
        ),
        (StateSource::RunDir(_), None) => {
            "collector  none (the lab was started with --no-trace or with OTEL_EXPORTER_OTLP_ENDPOINT set)"
                .to_string()
        }
    }
}

/// The collector line of a Swarm or Kubernetes lab: vnet's own receiver,
/// asked through `docker exec`/`kubectl exec` like the devices.
async fn orchestrated_collector_line(swarm: Option<&str>, k8s: Option<&str>) -> String {
    let prefix = match crate::orchestrator::collector_prefix(swarm, k8s) {
        Ok(p) => p,
        Err(e) => return format!("collector  {e:#}"),
    };
    let collector = crate::state::DeviceState {
        name: vnet_topology::compose::TRACE_SERVICE.to_string(),
        kind: "collector".into(),
        pid: 0,
        admin: std::net::SocketAddr::from(([127, 0, 0, 1], vnet_topology::compose::OTLP_HTTP_PORT)),
        config: Default::default(),
        log: Default::default(),
        via: Some(prefix),
    };
    match client::get_json::<vnet_collector::store::StoreStats>(&collector, "/api/stats").await {
        Ok(s) => format!("collector  running  {} traces, {} spans", s.traces, s.spans),
        Err(e) => format!("collector  not answering ({e:#})"),
    }
}
