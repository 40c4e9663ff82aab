//! Starting and stopping device processes.

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vnet_topology::DeviceKind;

/// How a device kind is started: `DIR/vnet-KIND` when a binary directory
/// is given (installed binaries, container images), otherwise this very
/// executable as `vnet device KIND`, which is always the same build as the CLI.
pub fn device_command(
    kind: DeviceKind,
    config: &Path,
    bin_dir: Option<&Path>,
) -> anyhow::Result<Command> {
    let mut cmd = match bin_dir {
        Some(dir) => {
            let binary = dir.join(kind.binary_name());
            if !binary.is_file() {
                anyhow::bail!(
                    "{} not found (from --bin-dir / VNET_BIN_DIR); build it with `cargo build --release` or drop the option",
                    binary.display()
                );
            }
            Command::new(binary)
        }
        None => {
            let me = std::env::current_exe().context("locating the vnet executable")?;
            let mut c = Command::new(me);
            c.arg("device").arg(kind.as_str());
            c
        }
    };
    cmd.arg("--config").arg(config);
    Ok(cmd)
}

/// How the trace collector is started: `DIR/vnet-collector` with a binary
/// directory, otherwise this executable as `vnet collector` (hidden
/// subcommand). Its own spans are never exported: the OTLP endpoint
/// variable is removed from its environment.
pub fn collector_command(listen: SocketAddr, bin_dir: Option<&Path>) -> anyhow::Result<Command> {
    let mut cmd = match bin_dir {
        Some(dir) => {
            let binary = dir.join("vnet-collector");
            if !binary.is_file() {
                anyhow::bail!(
                    "{} not found (from --bin-dir / VNET_BIN_DIR); build it with `cargo build --release`, or start the lab with --no-trace",
                    binary.display()
                );
            }
            Command::new(binary)
        }
        None => {
            let me = std::env::current_exe().context("locating the vnet executable")?;
            let mut c = Command::new(me);
            c.arg("collector");
            c
        }
    };
    cmd.arg("--listen")
        .arg(listen.to_string())
        .env_remove(OTLP_ENDPOINT_VAR);
    Ok(cmd)
}

/// The standard variable that points OpenTelemetry exporters at a collector.
pub const OTLP_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// Starts a device detached from the terminal's process group (Ctrl-C in the
/// shell does not reach it), with its output appended to `log`.
pub fn spawn(mut cmd: Command, log: &PathBuf) -> anyhow::Result<u32> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening log {}", log.display()))?;
    let err = file.try_clone()?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    Ok(child.id())
}

/// Whether process `pid` is alive and is the device started with `config`
/// (guards against a recycled pid). Any text on the process's command line
/// works as `config`: the collector is recognised by its listen address.
pub fn is_our_device(pid: u32, config: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // A zombie (state Z) has exited; it only waits to be reaped.
        if stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        {
            return false;
        }
    }
    let needle = config.as_os_str().as_encoded_bytes();
    cmdline.windows(needle.len().max(1)).any(|w| w == needle)
}

/// Stops `pid`: SIGTERM, then SIGKILL if it is still there after `grace`.
/// Returns true if it had to be killed.
pub fn stop(pid: u32, config: &Path, grace: Duration) -> bool {
    let target = Pid::from_raw(pid as i32);
    if !is_our_device(pid, config) {
        return false;
    }
    let _ = kill(target, Signal::SIGTERM);
    // A paused (SIGSTOP) process handles SIGTERM only once continued.
    let _ = kill(target, Signal::SIGCONT);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !is_our_device(pid, config) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = kill(target, Signal::SIGKILL);
    true
}

/// SIGKILL now: a crash.
pub fn kill_now(pid: u32) {
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

/// The scheduler state of `pid` (`R`, `S`, `T` stopped, `Z` zombie…), if
/// it exists.
pub fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

/// The files a process's command line names, resolved against its working
/// directory (so `--config .vnet/configs/r2.toml` typed by hand is found).
fn named_files(pid: u32) -> Vec<PathBuf> {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return Vec::new();
    };
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
    cmdline
        .split(|&b| b == 0)
        .filter(|a| a.ends_with(b".toml"))
        .filter_map(|a| {
            let path = PathBuf::from(String::from_utf8_lossy(a).into_owned());
            let full = match (&cwd, path.is_absolute()) {
                (Some(cwd), false) => cwd.join(path),
                _ => path,
            };
            std::fs::canonicalize(full).ok()
        })
        .collect()
}

/// Every live process of the device whose rendered config is `config`:
/// the recorded `pid` if it still runs that config, and any other process
/// started with the same config file (by hand, or left over), found by
/// scanning the process table.
pub fn find_device(pid: u32, config: &Path) -> Vec<u32> {
    let mut found = Vec::new();
    if is_our_device(pid, config) {
        found.push(pid);
    }
    let Ok(wanted) = std::fs::canonicalize(config) else {
        return found;
    };
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(other) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if other == me || found.contains(&other) || process_state(other) == Some('Z') {
            continue;
        }
        if named_files(other).contains(&wanted) {
            found.push(other);
        }
    }
    found
}
