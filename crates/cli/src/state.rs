//! The run directory: rendered configs, logs and the state of a running lab.
//!
//! ```text
//! <run-dir>/state.json          which devices run, their pids and admin addresses
//! <run-dir>/configs/<dev>.toml  each device's rendered configuration
//! <run-dir>/logs/<dev>.log      each device's standard error (its tracing log)
//! <run-dir>/logs/collector.log  the trace collector's log (when `vnet up` started one)
//! ```

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// One running device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceState {
    /// Device name.
    pub name: String,
    /// Device kind.
    pub kind: String,
    /// OS process id (0 for a container of a compose lab).
    pub pid: u32,
    /// Admin API address.
    pub admin: SocketAddr,
    /// Rendered configuration file.
    pub config: PathBuf,
    /// Log file.
    pub log: PathBuf,
    /// For a device in a Swarm or Kubernetes lab: the command that runs the
    /// image's `vnet` inside its container, through which its admin API (on
    /// the container's loopback) is reached. None: reach `admin` directly,
    /// or, for an orchestrated device with no running container, not at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Vec<String>>,
    /// When the current process was started (Unix seconds; 0: unknown).
    #[serde(default)]
    pub started_unix: u64,
    /// How many times `vnet start`/`restart` started it again.
    #[serde(default)]
    pub restarts: u32,
    /// Stopped on purpose with `vnet stop` (not a crash).
    #[serde(default)]
    pub stopped: bool,
    /// The lab's admin token, read from `<run-dir>/admin.token` (never
    /// stored in the state file).
    #[serde(skip)]
    pub token: Option<String>,
}

/// The trace collector `vnet up` started next to the devices.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectorState {
    /// OS process id.
    pub pid: u32,
    /// The address it listens on (also how `vnet down` recognises the
    /// process: it is on its command line).
    pub listen: SocketAddr,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` given to the devices, and the base URL
    /// of the trace API: `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Log file.
    pub log: PathBuf,
    /// Stopped on purpose with `vnet stop collector`.
    #[serde(default)]
    pub stopped: bool,
}

impl CollectorState {
    /// Whether the collector process still runs (guards against a recycled pid).
    pub fn is_running(&self) -> bool {
        crate::procs::is_our_device(self.pid, Path::new(&self.listen.to_string()))
    }
}

/// A running lab.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    /// Lab name.
    pub lab: String,
    /// Topology file it was started from.
    pub topology: PathBuf,
    /// Devices, sorted by name.
    pub devices: Vec<DeviceState>,
    /// The trace collector, if `vnet up` started one (absent in state files
    /// written before collectors existed, with `--no-trace`, or when the
    /// user's own `OTEL_EXPORTER_OTLP_ENDPOINT` was used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<CollectorState>,
    /// `--bin-dir` the lab was started with, so `vnet start` starts a
    /// device the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin_dir: Option<PathBuf>,
}

impl LabState {
    /// The state file inside `run_dir`.
    pub fn path(run_dir: &Path) -> PathBuf {
        run_dir.join("state.json")
    }

    /// Reads the state of the lab running from `run_dir`, if any.
    pub fn read(run_dir: &Path) -> anyhow::Result<Option<LabState>> {
        let path = LabState::path(run_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let state = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a valid lab state file", path.display()))?;
                Ok(Some(state))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Reads the state (with the admin token) or explains how to start a lab.
    pub fn require(run_dir: &Path) -> anyhow::Result<LabState> {
        match LabState::read(run_dir)? {
            Some(mut state) => {
                let token = read_admin_token(run_dir)?;
                for d in &mut state.devices {
                    d.token = token.clone();
                }
                Ok(state)
            }
            None => bail!(
                "no lab is running from {} (no state.json); start one with `vnet up`, or pass --run-dir",
                run_dir.display()
            ),
        }
    }

    /// Writes the state file atomically.
    pub fn write(&self, run_dir: &Path) -> anyhow::Result<()> {
        let path = LabState::path(run_dir);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// The device named `name`, or an error listing the devices.
    pub fn device(&self, name: &str) -> anyhow::Result<&DeviceState> {
        self.devices.iter().find(|d| d.name == name).ok_or_else(|| {
            let names: Vec<_> = self.devices.iter().map(|d| d.name.as_str()).collect();
            anyhow::anyhow!(
                "no device named {name:?} in lab {}; devices: {}",
                self.lab,
                names.join(", ")
            )
        })
    }
}

/// Where the CLI finds the running lab: a run directory written by
/// `vnet up`, or a compose file written by `vnet gen compose`.
#[derive(Debug, Clone)]
pub enum StateSource {
    /// `--run-dir DIR` (default `.vnet`).
    RunDir(PathBuf),
    /// `--compose FILE`: devices are compose containers, reached through `docker exec`.
    Compose(PathBuf),
    /// `--swarm STACK`: devices are Swarm services, reached through `docker exec`.
    Swarm(String),
    /// `--k8s NAMESPACE`: devices are Deployments, reached through `kubectl exec`.
    Kubernetes(String),
}

/// Where a compose lab's trace collector is published (by the compose
/// override that adds it): OTLP/HTTP's port on loopback.
pub const COMPOSE_TRACE_ENDPOINT: &str = "http://127.0.0.1:4318";

impl StateSource {
    /// Whether the lab runs on an orchestrator (Swarm or Kubernetes).
    pub fn is_orchestrated(&self) -> bool {
        matches!(self, StateSource::Swarm(_) | StateSource::Kubernetes(_))
    }

    /// The running lab, or an error that says how to start one.
    pub fn require(&self) -> anyhow::Result<LabState> {
        match self {
            StateSource::RunDir(dir) => LabState::require(dir),
            StateSource::Swarm(stack) => crate::orchestrator::swarm_lab(stack),
            StateSource::Kubernetes(namespace) => crate::orchestrator::k8s_lab(namespace),
            StateSource::Compose(file) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("reading compose file {}", file.display()))?;
                let index = vnet_topology::compose::read_index(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                crate::orchestrator::compose_lab(index, file)
            }
        }
    }
}

/// Splits `DEVICE:IFACE`.
pub fn split_port(text: &str) -> anyhow::Result<(&str, &str)> {
    match text.split_once(':') {
        Some((d, i)) if !d.is_empty() && !i.is_empty() => Ok((d, i)),
        _ => bail!("{text:?} should be DEVICE:INTERFACE, e.g. r2:eth1"),
    }
}

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The admin token file of a run directory.
pub fn admin_token_path(run_dir: &Path) -> PathBuf {
    run_dir.join("admin.token")
}

/// Creates a fresh random admin token in `<run-dir>/admin.token`, readable
/// by the lab's owner only, and makes the run directory private (0700):
/// configs, logs, captures and the token are the owner's.
pub fn write_admin_token(run_dir: &Path) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::set_permissions(run_dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("making {} private", run_dir.display()))?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for the admin token: {e}"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let path = admin_token_path(run_dir);
    let _ = std::fs::remove_file(&path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{token}").with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The token of a lab started by `vnet up` (None for labs started before
/// tokens existed).
fn read_admin_token(run_dir: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(admin_token_path(run_dir)) {
        Ok(text) => Ok(Some(text.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| {
            format!(
                "reading {} (only the lab's owner may drive it)",
                admin_token_path(run_dir).display()
            )
        }),
    }
}
