//! `vnet bench chain --routers 1,4,16,64`: for each chain length N (the
//! lab of `vnet gen topology --chain N`), vnet's ping RTT, TCP goodput and
//! retransmissions client -> web, CPU per forwarded packet per router, and
//! the total RSS of the lab's devices; next to the Linux kernel forwarding
//! through N network namespaces joined by veth pairs (what Mininet does),
//! measured in the same run. The kernel column needs root and `ip`, `ping`
//! and `nc`; without them it says why and is left out.

use super::{between, exec_lines, relay_chain, tcp_transfer};
use crate::commands::progress::Steps;
use crate::state::{DeviceState, LabState};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use vnet_topology::cpus::CpuList;

/// Pings per chain, and the time between them (as `ping -i 0.02`).
const PINGS: usize = 20;
const PING_GAP: Duration = Duration::from_millis(20);

/// One chain length's figures.
#[derive(Debug, Default)]
struct Figures {
    rtt_ms: f64,
    /// The same pings through N + 2 bare relay processes (the routers and
    /// the two switches): the process-hop floor.
    relay_rtt_ms: f64,
    mbit: f64,
    retransmissions: u64,
    cpu_us_per_packet_hop: f64,
    /// Average resident memory per device, idle (before any traffic)
    /// and after the transfer.
    idle_rss_mib: f64,
    busy_rss_mib: f64,
    /// Average proportional set size per idle device: shared pages (the
    /// binary's code, mapped by every device) divided among the processes
    /// that map them, so the sum over devices is what the lab costs.
    idle_pss_mib: f64,
}

/// Runs the benchmark for every length in `routers`, `bytes` per transfer.
/// With `cpus`, this process is pinned to those CPUs first, so that every
/// device, relay and kernel ping it starts runs there too.
pub async fn chain_bench(
    routers: &[usize],
    bytes: &str,
    cpus: Option<&CpuList>,
) -> anyhow::Result<ExitCode> {
    if let Some(cpus) = cpus {
        vnet_runtime::affinity::pin_process(cpus).context("--cpus")?;
    }
    let kernel_missing = kernel_prerequisite();
    let mut rows = Vec::new();
    let mut slopes = Vec::new();
    let columns = if kernel_missing.is_none() { 3 } else { 2 };
    let steps = Steps::for_stdout((routers.len() * columns) as u64);
    for &n in routers {
        steps.start(format!(
            "vnet chain of {n} routers: boot, 20 pings, TCP {bytes}"
        ));
        let mut vnet = vnet_chain(n, bytes)
            .await
            .with_context(|| format!("chain of {n}"))?;
        steps.start(format!("{} bare relay processes: 20 pings", n + 2));
        vnet.relay_rtt_ms = relay_chain::relay_chain_rtt_ms(n + 2, PINGS, PING_GAP)
            .with_context(|| format!("relay chain of {}", n + 2))?;
        let kernel = match &kernel_missing {
            None => Some({
                steps.start(format!("kernel chain of {n} namespaces"));
                kernel_chain(n, bytes).with_context(|| format!("kernel chain of {n}"))?
            }),
            Some(_) => None,
        };
        let (k_rtt, k_tcp) = match &kernel {
            Some((rtt, mbit)) => (format!("{rtt:.3} ms"), format!("{mbit:.0} Mbit/s")),
            None => ("-".into(), "-".into()),
        };
        rows.push(format!(
            "{n:>5}  {:>6.3} ms {:>5.0} Mbit/s {:>7} {:>9.2} us {:>6.1}/{:>5.1} MiB {:>8.1} MiB   {:>6.3} ms   {k_rtt:>10} {k_tcp:>12}",
            vnet.rtt_ms,
            vnet.mbit,
            vnet.retransmissions,
            vnet.cpu_us_per_packet_hop,
            vnet.idle_rss_mib,
            vnet.busy_rss_mib,
            vnet.idle_pss_mib,
            vnet.relay_rtt_ms,
        ));
        slopes.push((n, vnet.rtt_ms, vnet.relay_rtt_ms, kernel.map(|k| k.0)));
    }
    steps.finish();
    println!();
    let pinned = cpus.map_or(String::new(), |c| {
        format!(", everything on CPUs {c} (--cpus)")
    });
    println!(
        "vnet bench chain: client -> N routers -> web, TCP {bytes} and {PINGS} pings per N{pinned}"
    );
    println!(
        "{:>5}  {:>9} {:>12} {:>7} {:>12} {:>17} {:>12}   {:>9}   {:>10} {:>12}",
        "N",
        "vnet RTT",
        "vnet TCP",
        "retrans",
        "CPU/pkt/hop",
        "RSS/dev idle/busy",
        "PSS/dev idle",
        "relay RTT",
        "kernel RTT",
        "kernel TCP"
    );
    for row in rows {
        println!("{row}");
    }
    if let Some(why) = kernel_missing {
        println!("kernel column left out: {why}");
    }
    println!(
        "relay RTT: the same pings through N+2 bare relay processes (same runtime, no protocol work): the floor of a process hop"
    );
    if let Some(line) = added_per_hop(&slopes) {
        println!("{line}");
        if cpus.is_none() {
            println!(
                "(devices spread over the CPUs wake an idle one at most hops; --cpus 0 runs the chain on one CPU: lower latency, less throughput)"
            );
        }
    }
    println!(
        "goals: 16 routers >= 300 Mbit/s, added RTT per hop <= 60 us, 64 routers carry TCP; 0 retransmissions"
    );
    Ok(ExitCode::SUCCESS)
}

/// What one more router adds to the RTT, between the shortest and the
/// longest chain measured: vnet, the bare relay processes and the kernel.
fn added_per_hop(points: &[(usize, f64, f64, Option<f64>)]) -> Option<String> {
    let first = points.iter().min_by_key(|p| p.0)?;
    let last = points.iter().max_by_key(|p| p.0)?;
    if last.0 == first.0 {
        return None;
    }
    let hops = (last.0 - first.0) as f64;
    let per_hop = |a: f64, b: f64| (b - a) * 1e3 / hops;
    let kernel = match (first.3, last.3) {
        (Some(a), Some(b)) => format!(", kernel {:.0} us", per_hop(a, b)),
        _ => String::new(),
    };
    let vnet = per_hop(first.1, last.1);
    let relay = per_hop(first.2, last.2);
    Some(format!(
        "added RTT per router (N {} -> {}): vnet {vnet:.0} us, bare relay processes {relay:.0} us ({:.2}x){kernel}",
        first.0,
        last.0,
        vnet / relay
    ))
}

/// Why the kernel chain cannot be built here, if it cannot.
fn kernel_prerequisite() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("network namespaces need root".into());
    }
    for tool in ["ip", "ping", "nc"] {
        if Command::new(tool).arg("-h").output().is_err() {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

async fn vnet_chain(n: usize, bytes: &str) -> anyhow::Result<Figures> {
    let dir = std::env::temp_dir().join(format!("vnet-bench-chain-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let topology = dir.join("chain.toml");
    let text = vnet_topology::chain::chain_topology(n)?;
    std::fs::write(&topology, text)?;
    let run_dir = dir.join("run");
    let quiet = crate::commands::up::run(&run_dir, &topology, 60 + n as u64, None).await;
    let result = match quiet {
        Ok(code) if code == ExitCode::SUCCESS => measure_vnet(&run_dir, bytes).await,
        Ok(_) => Err(anyhow::anyhow!("the chain lab did not start")),
        Err(e) => Err(e),
    };
    crate::commands::down::run(&run_dir).await?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure_vnet(run_dir: &Path, bytes: &str) -> anyhow::Result<Figures> {
    let state = LabState::require(run_dir)?;
    let client = state.device("client")?.clone();
    let web = state.device("web")?.clone();
    let routers: Vec<DeviceState> = state
        .devices
        .iter()
        .filter(|d| d.kind == "router")
        .cloned()
        .collect();
    let idle_rss_mib = average_mib(&state.devices, "status", "VmRSS:");
    let idle_pss_mib = average_mib(&state.devices, "smaps_rollup", "Pss:");
    // Warm up ARP along the path, then time.
    let _ = exec_lines(&client, &["ping", "-c", "1", "-W", "5", "10.0.3.10"]).await?;
    let (count, gap) = (PINGS.to_string(), PING_GAP.as_secs_f64().to_string());
    let (_, lines) = exec_lines(&client, &["ping", "-c", &count, "-i", &gap, "10.0.3.10"]).await?;
    let rtt_ms = ping_avg(&lines).context("vnet ping summary")?;

    let cpu_before = cpu_seconds(&routers);
    let forwarded_before = forwarded(&routers).await?;
    let summary = tcp_transfer(&client, &web, "10.0.3.10", bytes)
        .await?
        .summary;
    let cpu = cpu_seconds(&routers) - cpu_before;
    let packets = forwarded(&routers).await?.saturating_sub(forwarded_before);
    Ok(Figures {
        rtt_ms,
        mbit: between(&summary, "(", " Mbit/s").unwrap_or(0.0),
        retransmissions: between(&summary, "retransmissions ", ",").unwrap_or(0.0) as u64,
        cpu_us_per_packet_hop: if packets > 0 {
            cpu * 1e6 / packets as f64
        } else {
            0.0
        },
        idle_rss_mib,
        busy_rss_mib: average_mib(&state.devices, "status", "VmRSS:"),
        idle_pss_mib,
        relay_rtt_ms: 0.0,
    })
}

/// The average RTT of a ping summary (`rtt min/avg/max/mdev = a/b/c/d ms`).
fn ping_avg(lines: &[String]) -> Option<f64> {
    let line = lines.iter().find(|l| l.contains("min/avg/max"))?;
    line.split('=')
        .nth(1)?
        .trim()
        .split('/')
        .nth(1)?
        .parse()
        .ok()
}

/// User + system CPU seconds of the devices' processes.
fn cpu_seconds(devices: &[DeviceState]) -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    devices
        .iter()
        .filter_map(|d| std::fs::read_to_string(format!("/proc/{}/stat", d.pid)).ok())
        .filter_map(|stat| {
            // Fields after the command name (which may hold spaces).
            let rest = &stat[stat.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) / tick)
        })
        .sum()
}

/// The average over the devices' processes of a KiB figure in
/// `/proc/PID/FILE` (the line starting with `key`), in MiB.
fn average_mib(devices: &[DeviceState], file: &str, key: &str) -> f64 {
    let total: u64 = devices.iter().map(|d| proc_kib(d.pid, file, key)).sum();
    total as f64 / 1024.0 / devices.len().max(1) as f64
}

/// A KiB figure of `/proc/PID/FILE` (0 if the process is gone).
fn proc_kib(pid: u32, file: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Packets the routers forwarded in all (`ip_forwarded`).
async fn forwarded(routers: &[DeviceState]) -> anyhow::Result<u64> {
    let mut total = 0;
    for r in routers {
        let status: serde_json::Value = crate::client::get_json(r, "/status").await?;
        total += status["device"]["ip_forwarded"].as_u64().unwrap_or(0);
    }
    Ok(total)
}

/// Network namespaces made for a benchmark, deleted on drop.
pub(super) struct Namespaces {
    /// Their names.
    pub names: Vec<String>,
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

/// Runs `ip ARGS`, failing with its stderr.
pub(super) fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if !out.status.success() {
        bail!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Builds client -> r1 … rN -> server from namespaces and veth pairs
/// (link i is 10.200.i.0/30 … with /24s at the ends), measures ping and a
/// `nc` transfer, and returns (RTT ms, Mbit/s).
fn kernel_chain(n: usize, bytes: &str) -> anyhow::Result<(f64, f64)> {
    let tag = format!("vb{}", std::process::id() % 100_000);
    let mut names = vec![format!("{tag}c")];
    names.extend((1..=n).map(|i| format!("{tag}r{i}")));
    names.push(format!("{tag}s"));
    // Namespaces `vb{pid}c` (client), `vb{pid}r1..N`, `vb{pid}s` (server).
    let chain = Namespaces { names };
    let names = &chain.names;
    for name in names {
        ip(&["netns", "add", name])?;
        ip(&["-n", name, "link", "set", "lo", "up"])?;
    }
    // Link i joins names[i] (address 10.200.i.1) and names[i+1] (10.200.i.2).
    for i in 0..names.len() - 1 {
        let (a, b) = (&names[i], &names[i + 1]);
        let (va, vb) = (format!("v{i}a"), format!("v{i}b"));
        ip(&[
            "link", "add", &va, "netns", a, "type", "veth", "peer", "name", &vb, "netns", b,
        ])?;
        let (x, y) = (i / 250, i % 250);
        ip(&[
            "-n",
            a,
            "addr",
            "add",
            &format!("10.{}.{y}.1/24", 200 + x),
            "dev",
            &va,
        ])?;
        ip(&[
            "-n",
            b,
            "addr",
            "add",
            &format!("10.{}.{y}.2/24", 200 + x),
            "dev",
            &vb,
        ])?;
        ip(&["-n", a, "link", "set", &va, "up"])?;
        ip(&["-n", b, "link", "set", &vb, "up"])?;
    }
    let addr = |i: usize, end: u8| format!("10.{}.{}.{end}", 200 + i / 250, i % 250);
    let last = names.len() - 2; // the link into the server
    for (i, name) in names.iter().enumerate() {
        if i + 1 < names.len() {
            ip(&["-n", name, "route", "add", "default", "via", &addr(i, 2)])?;
        }
        if i > 0 && i + 1 < names.len() {
            // Routers: back towards the client for the client's link only.
            ip(&[
                "-n",
                name,
                "route",
                "add",
                &format!("{}/32", addr(0, 1)),
                "via",
                &addr(i - 1, 1),
            ])?;
            let _ = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    name,
                    "sysctl",
                    "-qw",
                    "net.ipv4.ip_forward=1",
                ])
                .status();
        }
    }
    ip(&[
        "-n",
        &names[names.len() - 1],
        "route",
        "replace",
        "default",
        "via",
        &addr(last, 1),
    ])?;
    let server = addr(last, 2);
    let client = &names[0];
    if n >= 60 {
        // As `ttl = 255` in vnet's chain: 64 hops need more than Linux's 64.
        for end in [client, &names[names.len() - 1]] {
            let _ = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    end,
                    "sysctl",
                    "-qw",
                    "net.ipv4.ip_default_ttl=255",
                ])
                .status();
        }
    }
    let (count, gap) = (PINGS.to_string(), PING_GAP.as_secs_f64().to_string());
    let ping = Command::new("ip")
        .args(["netns", "exec", client, "ping", "-c", &count, "-i", &gap])
        .arg(&server)
        .output()?;
    let text = String::from_utf8_lossy(&ping.stdout).to_string();
    let lines: Vec<String> = text.lines().map(String::from).collect();
    let rtt = ping_avg(&lines).with_context(|| format!("kernel ping: {text}"))?;
    let size = vnet_host::byte_count(bytes)?;
    let mbit =
        size as f64 * 8.0 / nc_transfer(client, &names[names.len() - 1], &server, size)? / 1e6;
    Ok((rtt, mbit))
}

/// Times `nc` sending `size` zero bytes from namespace `from` to a `nc -l`
/// on port 5001 in namespace `to` (address `to_addr`); returns seconds.
pub(super) fn nc_transfer(from: &str, to: &str, to_addr: &str, size: u64) -> anyhow::Result<f64> {
    let mut sink = Command::new("ip")
        .args(["netns", "exec", to, "nc", "-d", "-l", "5001"])
        .stdout(Stdio::null())
        .spawn()?;
    // Wait until it listens (at most 5 s).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = Command::new("ip")
            .args(["netns", "exec", to, "ss", "-ltn"])
            .output()?;
        if String::from_utf8_lossy(&out.stdout).contains(":5001") {
            break;
        }
        if Instant::now() > deadline {
            let _ = sink.kill();
            bail!("nc -l in {to} never listened");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let sent = Command::new("ip")
        .args([
            "netns",
            "exec",
            from,
            "sh",
            "-c",
            &format!("head -c {size} /dev/zero | nc -N {to_addr} 5001"),
        ])
        .status()?;
    let _ = sink.wait();
    if !sent.success() {
        bail!("nc from {from} to {to_addr} failed");
    }
    Ok(started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::{added_per_hop, ping_avg};

    #[test]
    fn added_rtt_per_router_is_the_slope_between_the_shortest_and_longest_chain() {
        // N, vnet RTT ms, relay RTT ms, kernel RTT ms; given out of order.
        let points = [
            (16, 2.5, 1.9, Some(0.2)),
            (1, 0.5, 0.4, Some(0.05)),
            (4, 0.9, 0.7, None),
        ];
        let line = added_per_hop(&points).expect("two lengths");
        assert_eq!(
            line,
            "added RTT per router (N 1 -> 16): vnet 133 us, bare relay processes 100 us (1.33x), kernel 10 us"
        );
    }

    #[test]
    fn one_chain_length_has_no_slope_and_a_missing_kernel_row_is_left_out() {
        assert_eq!(added_per_hop(&[(4, 1.0, 0.8, None)]), None);
        let line = added_per_hop(&[(1, 0.5, 0.4, None), (2, 0.6, 0.5, None)]).expect("slope");
        assert!(!line.contains("kernel"), "{line}");
    }

    #[test]
    fn ping_summary_average_is_read_from_the_rtt_line() {
        let lines = vec![
            "--- 10.0.3.10 ping statistics ---".to_string(),
            "rtt min/avg/max/mdev = 1.479/2.127/2.556/0.275 ms".to_string(),
        ];
        assert_eq!(ping_avg(&lines), Some(2.127));
        assert_eq!(ping_avg(&lines[..1]), None);
    }
}
