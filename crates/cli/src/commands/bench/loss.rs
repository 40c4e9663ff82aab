//! `vnet bench loss`: TCP over an impaired path, vnet's TCP next to the
//! Linux kernel's on the very same vnet path. The lab is
//! `h1 ── sw1 ── r1 ══ sw2 ── h2`, where `══` drops `--loss` percent and
//! delays `--delay-ms` in each direction; two Linux network namespaces join
//! sw1 and sw2 through TAP link ends. vnet ↔ vnet is `tcp send` h1 → h2;
//! kernel ↔ kernel is `nc` between the namespaces, forwarded by the same
//! vnet switches and router. Needs root and /dev/net/tun for the kernel
//! row; without them it says why and measures vnet alone.

use super::chain::{Namespaces, ip};
use super::tcp_transfer;
use crate::commands::progress::Steps;
use crate::state::LabState;
use anyhow::{Context, bail};
use std::path::Path;
use std::process::{Command, ExitCode};

/// Runs the comparison: `loss` percent and `delay_ms` each way, `bytes`
/// per transfer.
pub async fn loss_bench(loss: f64, delay_ms: f64, bytes: &str) -> anyhow::Result<ExitCode> {
    let size = vnet_host::byte_count(bytes)?;
    let kernel_missing = kernel_prerequisite();
    let tag = format!("vl{}", std::process::id() % 100_000);
    let taps = (format!("{tag}a"), format!("{tag}b"));
    let dir = std::env::temp_dir().join(format!("vnet-bench-loss-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let topology = dir.join("loss.toml");
    let with_taps = kernel_missing.is_none();
    std::fs::write(&topology, topology_text(loss, delay_ms, with_taps, &taps))?;
    let run_dir = dir.join("run");
    // Boot, the vnet transfer, up to three Linux ones.
    let steps = Steps::for_stdout(if with_taps { 5 } else { 2 });
    steps.start("booting the lab".into());
    let code = crate::commands::up::run(&run_dir, &topology, 30, None).await?;
    if code != ExitCode::SUCCESS {
        bail!("the benchmark lab did not start");
    }
    let result = measure(
        &run_dir,
        size,
        bytes,
        with_taps.then_some((&tag, &taps)),
        &steps,
    )
    .await;
    steps.finish();
    crate::commands::down::run(&run_dir).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let (vnet, kernel) = result?;
    println!();
    println!(
        "vnet bench loss: {bytes} over h1 - sw1 - r1 = sw2 - h2, {loss}% loss and {delay_ms} ms delay each way on r1 = sw2"
    );
    println!(
        "  vnet TCP  <-> vnet TCP : {:>8.2} Mbit/s ({vnet:.1} s)",
        mbit(size, vnet)
    );
    // Loss-based Linux algorithms are the fair comparison for vnet's
    // RFC 5681/6675 TCP; BBR (often the machine's default) ignores random
    // loss by design and is shown for reference.
    for (algorithm, k) in &kernel {
        println!(
            "  Linux TCP <-> Linux TCP: {:>8.2} Mbit/s ({k:.1} s), {algorithm}, same vnet path: vnet / Linux = {:.2}x",
            mbit(size, *k),
            k / vnet
        );
    }
    if let Some(why) = kernel_missing {
        println!("  Linux rows left out: {why}");
    }
    println!("  goal: vnet >= 0.80x Linux with a loss-based algorithm (reno, cubic)");
    Ok(ExitCode::SUCCESS)
}

fn mbit(bytes: u64, secs: f64) -> f64 {
    bytes as f64 * 8.0 / secs / 1e6
}

/// Why the namespaces cannot be made here, if they cannot.
fn kernel_prerequisite() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("network namespaces and TAP devices need root".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun does not exist".into());
    }
    for tool in ["ip", "nc"] {
        if Command::new(tool).arg("-h").output().is_err() {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

fn topology_text(loss: f64, delay_ms: f64, taps: bool, names: &(String, String)) -> String {
    let tap_links = if taps {
        format!(
            "  {{ a = \"sw1:eth2\", b = \"tap:{}\" }},\n  {{ a = \"sw2:eth2\", b = \"tap:{}\" }},\n",
            names.0, names.1
        )
    } else {
        String::new()
    };
    format!(
        r#"name = "bench-loss"
links = [
  {{ a = "h1:eth0", b = "sw1:eth0" }},
  {{ a = "r1:eth0", b = "sw1:eth1" }},
  {{ a = "r1:eth1", b = "sw2:eth0", impair = {{ loss = "{loss}%", delay = "{delay_ms}ms", seed = 7 }} }},
  {{ a = "h2:eth0", b = "sw2:eth1" }},
{tap_links}]

[devices.sw1]
kind = "switch"

[devices.sw2]
kind = "switch"

[devices.r1]
kind = "router"
interfaces.eth0 = {{ address = "10.9.1.1/24" }}
interfaces.eth1 = {{ address = "10.9.2.1/24" }}

[devices.h1]
kind = "host"
gateway = "10.9.1.1"
interfaces.eth0 = {{ address = "10.9.1.10/24" }}

[devices.h2]
kind = "host"
gateway = "10.9.2.1"
interfaces.eth0 = {{ address = "10.9.2.10/24" }}
"#
    )
}

/// Seconds for the vnet transfer and, with namespaces, the kernel one.
async fn measure(
    run_dir: &Path,
    size: u64,
    bytes: &str,
    taps: Option<(&String, &(String, String))>,
    steps: &Steps,
) -> anyhow::Result<(f64, Vec<(String, f64)>)> {
    let state = LabState::require(run_dir)?;
    steps.start(format!("vnet TCP, {bytes}"));
    let vnet = tcp_transfer(state.device("h1")?, state.device("h2")?, "10.9.2.10", bytes)
        .await?
        .secs;
    let Some((tag, names)) = taps else {
        return Ok((vnet, Vec::new()));
    };
    let kernel = kernel_transfers(tag, names, size, steps).context("kernel transfer")?;
    Ok((vnet, kernel))
}

/// Moves the two TAP devices into namespaces (10.9.1.20 and 10.9.2.20)
/// and times `nc` from the first to the second with each congestion
/// control algorithm of reno, cubic, bbr this kernel has.
fn kernel_transfers(
    tag: &str,
    taps: &(String, String),
    size: u64,
    steps: &Steps,
) -> anyhow::Result<Vec<(String, f64)>> {
    let ns = Namespaces {
        names: vec![format!("{tag}n1"), format!("{tag}n2")],
    };
    let plan = [
        (&ns.names[0], &taps.0, "10.9.1.20/24", "10.9.1.1"),
        (&ns.names[1], &taps.1, "10.9.2.20/24", "10.9.2.1"),
    ];
    for (name, tap, addr, gateway) in plan {
        ip(&["netns", "add", name])?;
        ip(&["link", "set", tap, "netns", name])?;
        ip(&["-n", name, "link", "set", "lo", "up"])?;
        ip(&["-n", name, "addr", "add", addr, "dev", tap])?;
        ip(&["-n", name, "link", "set", tap, "up"])?;
        ip(&["-n", name, "route", "add", "default", "via", gateway])?;
    }
    let available = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control")
        .unwrap_or_default();
    let mut out = Vec::new();
    for algorithm in ["reno", "cubic", "bbr"] {
        if !available.split_whitespace().any(|a| a == algorithm) {
            continue;
        }
        // The sender's route names the algorithm (`congctl`, as
        // `ip route` documents): unlike the namespace's default
        // (net.ipv4.tcp_congestion_control), a route may name any
        // algorithm the kernel has, not only those of the host's
        // net.ipv4.tcp_allowed_congestion_control.
        let (sender, _, _, gateway) = plan[0];
        ip(&[
            "-n", sender, "route", "replace", "default", "via", gateway, "congctl", algorithm,
        ])?;
        steps.start(format!("Linux TCP ({algorithm}), {size} bytes"));
        let secs = super::chain::nc_transfer(&ns.names[0], &ns.names[1], "10.9.2.20", size)?;
        out.push((algorithm.to_string(), secs));
    }
    Ok(out)
}
