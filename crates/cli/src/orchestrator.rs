//! Labs that run on an orchestrator: Docker Compose (`vnet --compose`),
//! Docker Swarm (`vnet --swarm STACK`) and Kubernetes (`vnet --k8s
//! NAMESPACE`). Their admin APIs stay on each
//! container's loopback; the CLI lists the devices through the
//! orchestrator and reaches each one by running the image's own `vnet`
//! inside its container (`docker exec` / `kubectl exec`).
//!
//! `docker exec` reaches the containers of the engine the docker CLI talks
//! to: on a multi-node swarm, run `vnet --swarm` on the node that runs the
//! device, or point the docker CLI there (`DOCKER_HOST=ssh://node`).

use crate::state::{DeviceState, LabState};
use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use vnet_topology::compose::ComposeIndex;
use vnet_topology::compose::{CONTAINER_ADMIN_PORT, OTLP_HTTP_PORT, TRACE_SERVICE};
use vnet_topology::k8s::{COMPONENT_LABEL, CONTAINER_NAME};
use vnet_topology::swarm::{ADMIN_LABEL, DEVICE_LABEL, KIND_LABEL, LAB_LABEL};

/// Where the `vnet` binary sits in the image.
pub const IMAGE_VNET: &str = "/vnet";
/// Label Docker puts on every service and container of a stack.
const STACK_LABEL: &str = "com.docker.stack.namespace";

/// The admin API inside every container.
fn container_admin() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], CONTAINER_ADMIN_PORT))
}

/// The command that runs the image's `vnet` in a container (a Swarm
/// task's or a compose service's).
pub fn docker_exec_prefix(container: &str) -> Vec<String> {
    ["docker", "exec", "-i", container, IMAGE_VNET]
        .map(String::from)
        .to_vec()
}

/// The command that runs the image's `vnet` in a device's pod.
pub fn k8s_exec_prefix(namespace: &str, device: &str) -> Vec<String> {
    [
        "kubectl",
        "exec",
        "-i",
        "-n",
        namespace,
        &format!("deploy/{device}"),
        "-c",
        CONTAINER_NAME,
        "--",
        IMAGE_VNET,
    ]
    .map(String::from)
    .to_vec()
}

/// Runs a command and returns its stdout, or an error with its stderr.
fn output(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run {program} (is it installed and on PATH?)"))?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One device as the orchestrator lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Device name.
    pub name: String,
    /// Kind.
    pub kind: String,
}

/// Parses `NAME<TAB>KIND` lines; lines without a device label are not
/// devices (e.g. Jaeger).
pub fn parse_listing(text: &str) -> Vec<Listed> {
    let mut devices: Vec<Listed> = text
        .lines()
        .filter_map(|l| {
            let (name, kind) = l.trim().split_once('\t')?;
            (!name.is_empty()).then(|| Listed {
                name: name.to_string(),
                kind: kind.to_string(),
            })
        })
        .collect();
    devices.sort_by(|a, b| a.name.cmp(&b.name));
    devices.dedup();
    devices
}

/// Parses `CONTAINER<TAB>DEVICE<TAB>ADMIN` lines of `docker ps` (newest
/// first): the newest running container of each device.
pub fn parse_containers(text: &str) -> Vec<(String, String, Option<SocketAddr>)> {
    let mut out: Vec<(String, String, Option<SocketAddr>)> = Vec::new();
    for line in text.lines() {
        let mut fields = line.trim().split('\t');
        let (Some(id), Some(device)) = (fields.next(), fields.next()) else {
            continue;
        };
        if id.is_empty() || device.is_empty() || out.iter().any(|(_, d, _)| d == device) {
            continue;
        }
        let admin = fields.next().and_then(|a| a.parse().ok());
        out.push((id.to_string(), device.to_string(), admin));
    }
    out
}

/// A device reached through `via` (no process or files of ours).
pub(crate) fn device_state(
    name: String,
    kind: String,
    admin: SocketAddr,
    via: Option<Vec<String>>,
) -> DeviceState {
    DeviceState {
        name,
        kind,
        pid: 0,
        admin,
        config: PathBuf::new(),
        log: PathBuf::new(),
        via,
        started_unix: 0,
        restarts: 0,
        stopped: false,
        token: None,
    }
}

/// The newest running container of `device` in `stack` on this engine, if any.
pub fn swarm_container(stack: &str, device: &str) -> anyhow::Result<Option<String>> {
    Ok(swarm_containers(stack)?
        .into_iter()
        .find(|(_, d, _)| d == device)
        .map(|(id, _, _)| id))
}

/// The running containers of `stack` on this engine: (id, device, admin).
fn swarm_containers(stack: &str) -> anyhow::Result<Vec<(String, String, Option<SocketAddr>)>> {
    let format =
        format!("{{{{.ID}}}}\t{{{{.Label \"{DEVICE_LABEL}\"}}}}\t{{{{.Label \"{ADMIN_LABEL}\"}}}}");
    let text = output(
        "docker",
        &[
            "ps",
            "--filter",
            &format!("label={STACK_LABEL}={stack}"),
            "--filter",
            &format!("label={DEVICE_LABEL}"),
            "--format",
            &format,
        ],
    )?;
    Ok(parse_containers(&text))
}

/// The devices of the Swarm stack `stack`, each reached through its
/// running container on this engine (devices whose container is not here
/// or not running have no route and show as down).
pub fn swarm_lab(stack: &str) -> anyhow::Result<LabState> {
    let services = output(
        "docker",
        &[
            "service",
            "ls",
            "--filter",
            &format!("label={STACK_LABEL}={stack}"),
            "--format",
            "{{.Name}}",
        ],
    )?;
    let names: Vec<&str> = services.lines().filter(|l| !l.trim().is_empty()).collect();
    if names.is_empty() {
        bail!(
            "no stack named {stack:?} on this swarm (`docker stack ls` lists them; deploy one with \
             `vnet gen swarm configs/lab.toml -o lab-stack.yml && docker stack deploy -c lab-stack.yml {stack}`)"
        );
    }
    let format = format!(
        "{{{{index .Spec.Labels \"{DEVICE_LABEL}\"}}}}\t{{{{index .Spec.Labels \"{KIND_LABEL}\"}}}}"
    );
    let mut args = vec!["service", "inspect", "--format", &format];
    args.extend(names.iter().copied());
    let devices = parse_listing(&output("docker", &args)?);
    let containers = swarm_containers(stack)?;
    Ok(LabState {
        lab: stack.to_string(),
        topology: PathBuf::from(format!("swarm stack {stack}")),
        devices: devices
            .into_iter()
            .map(|d| {
                let found = containers.iter().find(|(_, name, _)| *name == d.name);
                let admin = found.and_then(|c| c.2).unwrap_or_else(container_admin);
                let via = found.map(|(id, _, _)| docker_exec_prefix(id));
                device_state(d.name, d.kind, admin, via)
            })
            .collect(),
        collector: None,
        bin_dir: None,
    })
}

/// Label Docker Compose puts on every container of a project.
const COMPOSE_PROJECT_LABEL: &str = "com.docker.compose.project";

/// The running compose containers of lab `lab` on this engine:
/// (id, device, admin). Only containers of `COMPOSE_PROJECT_NAME` when it is
/// set; two projects running the same lab are an error that says so.
fn compose_containers(lab: &str) -> anyhow::Result<Vec<(String, String, Option<SocketAddr>)>> {
    let project = std::env::var("COMPOSE_PROJECT_NAME")
        .ok()
        .filter(|p| !p.is_empty());
    let project_filter = match &project {
        Some(p) => format!("label={COMPOSE_PROJECT_LABEL}={p}"),
        None => format!("label={COMPOSE_PROJECT_LABEL}"),
    };
    let format = format!(
        "{{{{.ID}}}}\t{{{{.Label \"{DEVICE_LABEL}\"}}}}\t\t{{{{.Label \"{COMPOSE_PROJECT_LABEL}\"}}}}"
    );
    let text = output(
        "docker",
        &[
            "ps",
            "--filter",
            &project_filter,
            "--filter",
            &format!("label={LAB_LABEL}={lab}"),
            "--format",
            &format,
        ],
    )?;
    let mut projects: Vec<&str> = text.lines().filter_map(|l| l.split('\t').nth(3)).collect();
    projects.sort_unstable();
    projects.dedup();
    if projects.len() > 1 {
        bail!(
            "compose projects {} all run lab {lab:?}: pick one with COMPOSE_PROJECT_NAME=…",
            projects.join(", ")
        );
    }
    Ok(parse_containers(&text))
}

/// The devices of a compose lab (`index` from its compose file), each
/// reached through `docker exec` into its running container; devices
/// without one show as down.
pub fn compose_lab(index: ComposeIndex, file: &std::path::Path) -> anyhow::Result<LabState> {
    let containers = compose_containers(&index.lab)?;
    Ok(LabState {
        lab: index.lab,
        topology: file.to_path_buf(),
        devices: index
            .devices
            .into_iter()
            .map(|d| {
                let found = containers.iter().find(|(_, name, _)| *name == d.name);
                let via = found.map(|(id, _, _)| docker_exec_prefix(id));
                device_state(d.name, d.kind, d.admin, via)
            })
            .collect(),
        // The compose lab's collector is a container; `vnet trace` finds it
        // at COMPOSE_TRACE_ENDPOINT.
        collector: None,
        bin_dir: None,
    })
}

/// The devices of the Kubernetes lab in `namespace`.
pub fn k8s_lab(namespace: &str) -> anyhow::Result<LabState> {
    let text = output(
        "kubectl",
        &[
            "get",
            "deployments",
            "-n",
            namespace,
            "-l",
            &format!("{COMPONENT_LABEL}=device"),
            "-o",
            "jsonpath={range .items[*]}{.metadata.labels.vnet\\.device}{\"\\t\"}{.metadata.labels.vnet\\.kind}{\"\\n\"}{end}",
        ],
    )?;
    let devices = parse_listing(&text);
    if devices.is_empty() {
        bail!(
            "no vnet devices in namespace {namespace:?} (apply a lab with \
             `vnet gen k8s configs/lab.toml -o lab-k8s.yaml && kubectl apply -f lab-k8s.yaml`)"
        );
    }
    Ok(LabState {
        lab: namespace.to_string(),
        topology: PathBuf::from(format!("kubernetes namespace {namespace}")),
        devices: devices
            .into_iter()
            .map(|d| {
                let via = Some(k8s_exec_prefix(namespace, &d.name));
                device_state(d.name, d.kind, container_admin(), via)
            })
            .collect(),
        collector: None,
        bin_dir: None,
    })
}

/// How to reach the trace collector of an orchestrated lab: `vnet` run
/// inside its container, where its API listens on 127.0.0.1:4318.
pub fn collector_prefix(swarm: Option<&str>, k8s: Option<&str>) -> anyhow::Result<Vec<String>> {
    if let Some(namespace) = k8s {
        return Ok(k8s_exec_prefix(namespace, TRACE_SERVICE));
    }
    let stack = swarm.context("not an orchestrated lab")?;
    match swarm_container(stack, TRACE_SERVICE)? {
        Some(id) => Ok(docker_exec_prefix(&id)),
        None => bail!(
            "no running vnet trace receiver in stack {stack:?} on this engine: `vnet --swarm … trace` reads \
             vnet's own receiver, which the offline override deploys (`vnet gen swarm --offline-override`); \
             with Jaeger, open its UI on port 16686"
        ),
    }
}

/// The collector's endpoint inside its container.
pub fn collector_endpoint_inside() -> String {
    format!("http://127.0.0.1:{OTLP_HTTP_PORT}")
}

/// Runs `prefix` + `args` with this terminal's stdin, stdout and stderr;
/// its exit code becomes ours.
pub async fn forward(prefix: &[String], args: &[String]) -> anyhow::Result<ExitCode> {
    let (program, rest) = prefix.split_first().context("empty command")?;
    let status = tokio::process::Command::new(program)
        .args(rest)
        .args(args)
        .status()
        .await
        .with_context(|| format!("cannot run {program}"))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_commands_run_the_image_vnet_in_the_device_container() {
        assert_eq!(
            docker_exec_prefix("3f2a9c1b0d4e").join(" "),
            "docker exec -i 3f2a9c1b0d4e /vnet"
        );
        assert_eq!(
            k8s_exec_prefix("lab", "r2").join(" "),
            "kubectl exec -i -n lab deploy/r2 -c device -- /vnet"
        );
        let request = crate::client::AdminRequest::post(
            "/links/eth1/down",
            Some(serde_json::json!({"direction": "both"})),
        );
        assert_eq!(
            crate::client::admin_request_args(container_admin(), &request),
            [
                "admin-request",
                "--admin",
                "127.0.0.1:7000",
                "POST",
                "/links/eth1/down",
                "--body",
                "{\"direction\":\"both\"}"
            ]
        );
    }

    #[test]
    fn listings_are_parsed_sorted_and_without_strangers() {
        let text = "r2\trouter\n\t\nclient\thost\nr2\trouter\n";
        assert_eq!(
            parse_listing(text),
            vec![
                Listed {
                    name: "client".into(),
                    kind: "host".into()
                },
                Listed {
                    name: "r2".into(),
                    kind: "router".into()
                },
            ]
        );
        let ps = "aaa\tr2\t127.0.0.1:7000\nbbb\tr2\t127.0.0.1:7000\nccc\tjaeger\t127.0.0.1:4318\nddd\t\t\n";
        let containers = parse_containers(ps);
        assert_eq!(containers.len(), 2, "newest container per device only");
        assert_eq!(containers[0].0, "aaa");
        assert_eq!(containers[1].2, Some("127.0.0.1:4318".parse().unwrap()));
    }
}
