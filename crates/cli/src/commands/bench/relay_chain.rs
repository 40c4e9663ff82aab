//! The floor of a process hop, measured in the same run as `bench chain`:
//! a chain of bare relay processes (`vnet bench relay --batched`: the same
//! tokio runtime and batched cable syscalls as a device, and no protocol
//! work at all) between a pinger and an echo in this process, pinged the
//! way `vnet ping -i 0.02` pings a chain lab. What one more relay adds to
//! the round trip is what any device that is its own process must pay on
//! this machine: two wake-ups of a sleeping process (one each way) and
//! four loopback UDP syscalls. vnet's added RTT per router is judged
//! against it (docs/design.md "Latency per hop").

use super::forward::free_udp;
use crate::procs;
use anyhow::{Context, bail};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Relay processes started for one measurement, stopped on drop.
struct Relays {
    pids: Vec<u32>,
}

impl Drop for Relays {
    fn drop(&mut self) {
        // Our own children, not yet reaped: their pids cannot be reused.
        for &pid in &self.pids {
            procs::kill_now(pid);
        }
    }
}

/// The average round trip in milliseconds of `pings` datagrams, `gap`
/// apart, through `relays` relay processes and back.
pub(super) fn relay_chain_rtt_ms(
    relays: usize,
    pings: usize,
    gap: Duration,
) -> anyhow::Result<f64> {
    if relays == 0 {
        bail!("a relay chain needs at least one relay");
    }
    let dir = std::env::temp_dir().join(format!("vnet-bench-relays-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let pinger = UdpSocket::bind("127.0.0.1:0").context("binding the pinger")?;
    let echo = UdpSocket::bind("127.0.0.1:0").context("binding the echo")?;
    let chain = start_relays(&dir, relays, pinger.local_addr()?, echo.local_addr()?)?;
    let stop = Arc::new(AtomicBool::new(false));
    let echo_thread = spawn_echo(echo, Arc::clone(&stop))?;
    let result = ping(&pinger, chain.0, pings, gap);
    stop.store(true, Ordering::Relaxed);
    let _ = echo_thread.join();
    drop(chain.1);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Starts the chain pinger → relay 1 → … → relay N → echo; returns the
/// first relay's address facing the pinger.
fn start_relays(
    dir: &std::path::Path,
    count: usize,
    pinger: SocketAddr,
    echo: SocketAddr,
) -> anyhow::Result<(SocketAddr, Relays)> {
    let ends: Vec<(SocketAddr, SocketAddr)> = (0..count)
        .map(|_| Ok((free_udp()?, free_udp()?)))
        .collect::<anyhow::Result<_>>()?;
    let marker = dir.join("relay-chain-marker");
    let me = std::env::current_exe()?;
    let log = dir.join("relays.log");
    let mut relays = Relays { pids: Vec::new() };
    for (i, &(a, b)) in ends.iter().enumerate() {
        let a_peer = if i == 0 { pinger } else { ends[i - 1].1 };
        let b_peer = ends.get(i + 1).map_or(echo, |next| next.0);
        let mut cmd = std::process::Command::new(&me);
        cmd.args(["bench", "relay", "--batched"])
            .args(["--a", &a.to_string(), "--a-peer", &a_peer.to_string()])
            .args(["--b", &b.to_string(), "--b-peer", &b_peer.to_string()])
            .arg("--marker")
            .arg(&marker);
        relays.pids.push(spawn_in_our_group(cmd, &log)?);
    }
    Ok((ends[0].0, relays))
}

/// Starts a relay in this process's group (unlike devices, which
/// `procs::spawn` detaches): a Ctrl-C at the terminal stops the relays
/// with the benchmark instead of leaving them behind.
fn spawn_in_our_group(
    mut cmd: std::process::Command,
    log: &std::path::Path,
) -> anyhow::Result<u32> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .context("starting a relay process")?;
    Ok(child.id())
}

/// Sends every datagram it receives back to its sender until `stop`.
fn spawn_echo(
    echo: UdpSocket,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    echo.set_read_timeout(Some(Duration::from_millis(50)))?;
    Ok(std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while !stop.load(Ordering::Relaxed) {
            if let Ok((n, from)) = echo.recv_from(&mut buf) {
                let _ = echo.send_to(&buf[..n], from);
            }
        }
    }))
}

/// Waits until a datagram makes the round trip (the relays are up), then
/// times `pings` round trips `gap` apart.
fn ping(socket: &UdpSocket, first: SocketAddr, pings: usize, gap: Duration) -> anyhow::Result<f64> {
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    let ready_by = Instant::now() + Duration::from_secs(10);
    let mut seq: u64 = 0;
    while round_trip(socket, first, &mut seq).is_none() {
        if Instant::now() > ready_by {
            bail!("the relay chain did not pass a datagram within 10 s");
        }
    }
    let mut total = Duration::ZERO;
    let mut answered = 0u32;
    for _ in 0..pings {
        std::thread::sleep(gap);
        if let Some(rtt) = round_trip(socket, first, &mut seq) {
            total += rtt;
            answered += 1;
        }
    }
    if answered == 0 {
        bail!("no datagram came back through the relay chain");
    }
    Ok(total.as_secs_f64() * 1e3 / f64::from(answered))
}

/// One datagram (64 bytes, numbered) there and back; `None` if it did not
/// return within the socket's timeout.
fn round_trip(socket: &UdpSocket, first: SocketAddr, seq: &mut u64) -> Option<Duration> {
    *seq += 1;
    let mut out = [0u8; 64];
    out[..8].copy_from_slice(&seq.to_be_bytes());
    let start = Instant::now();
    socket.send_to(&out, first).ok()?;
    let mut buf = [0u8; 256];
    loop {
        let n = socket.recv(&mut buf).ok()?;
        if n >= 8 && buf[..8] == out[..8] {
            return Some(start.elapsed());
        }
    }
}
