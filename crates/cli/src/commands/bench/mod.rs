//! `vnet bench forward`: frames/s through a plain UDP relay (the ceiling:
//! recv→send with the same runtime, no protocol work) and through
//! vnet-switch and vnet-router, for 64- and 1514-byte frames, printed as
//! ratios. A benchmark, not a test: it prints numbers and never fails on them.
//!
//! Each device under test is its own process with two cable ends: one faces
//! a generator thread, the other a sink thread in this process. The
//! generator keeps a bounded window of frames in flight so no queue
//! overflows and every run measures sustained forwarding, not loss.
//!
//! `vnet bench tcp`: TCP goodput host -> router -> host next to the relay
//! ceiling. `vnet bench http`: requests/s over keep-alive and new
//! connections/s host -> switch -> web (`httpload` on the host, i.e.
//! `vnet_web::load` over vnet TCP), next to the same `vnet_web::load` code
//! against hyper 1.x on the kernel's TCP over loopback, with the ratios.

mod chain;
mod http;
mod loss;

use crate::procs;
use anyhow::{Context, bail};
use clap::Subcommand;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use vnet_cable::Envelope;
use vnet_cable::end::MAX_DATAGRAM_LEN;
use vnet_topology::device::{
    DeviceConfig, DeviceKind, InterfaceConfig, NeighborConfig, SwitchConfig,
};
use vnet_wire::ethernet::{self, EthernetAddress};

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Frames/s through a plain UDP relay, vnet-switch and vnet-router.
    Forward {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
        /// Frames in flight.
        #[arg(long, default_value_t = 64)]
        window: u64,
    },
    /// TCP goodput host -> router -> host (MTU 1500) next to the relay
    /// ceiling (relay frames/s x 1448 bytes) measured in the same run.
    Tcp {
        /// Bytes to transfer (suffixes K, M, G).
        #[arg(long, default_value = "64M")]
        bytes: String,
    },
    /// HTTP requests/s over keep-alive and new connections/s, host ->
    /// switch -> web, next to hyper 1.x on the kernel's TCP over loopback
    /// in the same run (release build recommended: `cargo run --release --
    /// bench http`).
    Http {
        /// Keep-alive requests per run (new-connection runs use a tenth,
        /// at most 800: vnet's TCP keeps closed connections in TIME-WAIT
        /// for 60 s in a 1024-socket table).
        #[arg(long, default_value_t = 10_000)]
        requests: u64,
        /// Keep-alive connections at once for the concurrent run (both
        /// sides; a sequential single-connection run is always made too).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=256))]
        concurrency: u64,
    },
    /// Router chains of each length (`vnet gen topology --chain N`): ping
    /// RTT, TCP goodput and retransmissions, CPU per forwarded packet per
    /// router, total RSS; next to the kernel forwarding through as many
    /// network namespaces joined by veth pairs (needs root), same run.
    Chain {
        /// Chain lengths, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
        routers: Vec<usize>,
        /// Bytes per TCP transfer (suffixes K, M, G).
        #[arg(long, default_value = "16M")]
        bytes: String,
    },
    /// TCP over an impaired path: vnet's TCP (h1 -> h2) next to the Linux
    /// kernel's TCP between two namespaces on TAP link ends, both through
    /// the same vnet switches, router and impaired link (kernel row needs
    /// root).
    Loss {
        /// Loss in percent, each direction of the impaired link.
        #[arg(long, default_value_t = 5.0)]
        loss: f64,
        /// Delay in milliseconds, each direction of the impaired link.
        #[arg(long, default_value_t = 20.0)]
        delay_ms: f64,
        /// Bytes per transfer (suffixes K, M, G).
        #[arg(long, default_value = "4M")]
        bytes: String,
    },
    /// The baseline relay process (started by `bench forward`).
    #[command(hide = true)]
    Relay {
        /// Local address facing the generator.
        #[arg(long)]
        a: SocketAddr,
        /// Generator address.
        #[arg(long)]
        a_peer: SocketAddr,
        /// Local address facing the sink.
        #[arg(long)]
        b: SocketAddr,
        /// Sink address.
        #[arg(long)]
        b_peer: SocketAddr,
        /// A path that identifies this relay process on its command line.
        #[arg(long)]
        marker: Option<std::path::PathBuf>,
    },
}

/// Runs a benchmark.
pub async fn run(what: BenchCommand) -> anyhow::Result<ExitCode> {
    match what {
        BenchCommand::Relay {
            a,
            a_peer,
            b,
            b_peer,
            ..
        } => relay(a, a_peer, b, b_peer).await,
        BenchCommand::Tcp { bytes } => tcp_goodput(&bytes).await,
        BenchCommand::Chain { routers, bytes } => chain::chain_bench(&routers, &bytes).await,
        BenchCommand::Loss {
            loss,
            delay_ms,
            bytes,
        } => loss::loss_bench(loss, delay_ms, &bytes).await,
        BenchCommand::Http {
            requests,
            concurrency,
        } => http::http_bench(requests.max(1), concurrency).await,
        BenchCommand::Forward { seconds, window } => {
            let secs = Duration::from_secs_f64(seconds.clamp(0.2, 60.0));
            // A receiver for the "export on" runs: same machine, same run.
            let collector = vnet_collector::server::Collector::start(
                "127.0.0.1:0".parse()?,
                vnet_collector::store::StoreLimits::default(),
            )
            .await
            .context("starting a trace receiver for the export-on runs")?;
            let endpoint = collector.endpoint();
            let code = tokio::task::spawn_blocking(move || forward(secs, window.max(1), &endpoint))
                .await??;
            let _ = collector.stop().await;
            Ok(code)
        }
    }
}

/// recv → send, both directions, nothing else: the ceiling for a device.
async fn relay(
    a: SocketAddr,
    a_peer: SocketAddr,
    b: SocketAddr,
    b_peer: SocketAddr,
) -> anyhow::Result<ExitCode> {
    let sa = Arc::new(tokio::net::UdpSocket::bind(a).await?);
    let sb = Arc::new(tokio::net::UdpSocket::bind(b).await?);
    let one_way = |from: Arc<tokio::net::UdpSocket>,
                   to: Arc<tokio::net::UdpSocket>,
                   peer: SocketAddr| async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if let Ok(n) = from.recv(&mut buf).await {
                let _ = to.try_send_to(&buf[..n], peer);
            }
        }
    };
    let forward = tokio::spawn(one_way(Arc::clone(&sa), Arc::clone(&sb), b_peer));
    let back = tokio::spawn(one_way(sb, sa, a_peer));
    let _ = tokio::signal::ctrl_c().await;
    forward.abort();
    back.abort();
    Ok(ExitCode::SUCCESS)
}

fn free_udp() -> anyhow::Result<SocketAddr> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?)
}

fn free_tcp() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

const GEN_MAC: EthernetAddress = EthernetAddress([0x02, 0x62, 0x65, 0x6e, 0x63, 0x01]);
const SINK_MAC: EthernetAddress = EthernetAddress([0x02, 0x62, 0x65, 0x6e, 0x63, 0x02]);
const DUT_MAC_A: EthernetAddress = EthernetAddress([0x02, 0x62, 0x65, 0x6e, 0x63, 0x0a]);
const DUT_MAC_B: EthernetAddress = EthernetAddress([0x02, 0x62, 0x65, 0x6e, 0x63, 0x0b]);
const GEN_IP: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);
const SINK_IP: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 2);

/// The device under test.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dut {
    Relay,
    Switch,
    Router,
}

struct Running {
    pid: u32,
    marker: std::path::PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        procs::stop(self.pid, &self.marker, Duration::from_secs(2));
    }
}

fn start_dut(
    dut: Dut,
    dir: &Path,
    gen_addr: SocketAddr,
    sink_addr: SocketAddr,
    export: Option<&str>,
) -> anyhow::Result<(Running, SocketAddr, SocketAddr)> {
    let (a, b) = (free_udp()?, free_udp()?);
    let log = dir.join(format!("{dut:?}.log").to_lowercase());
    if dut == Dut::Relay {
        let me = std::env::current_exe()?;
        let marker = dir.join("relay-marker");
        let mut cmd = std::process::Command::new(me);
        cmd.args([
            "bench",
            "relay",
            "--a",
            &a.to_string(),
            "--a-peer",
            &gen_addr.to_string(),
        ])
        .args(["--b", &b.to_string(), "--b-peer", &sink_addr.to_string()])
        // On the command line so `procs::stop` can recognise the process.
        .arg("--marker")
        .arg(&marker);
        let pid = procs::spawn(cmd, &log)?;
        std::thread::sleep(Duration::from_millis(300));
        return Ok((Running { pid, marker }, a, b));
    }
    let admin = free_tcp()?;
    let iface =
        |name: &str, mac, local, peer, address: Option<&str>| -> anyhow::Result<InterfaceConfig> {
            Ok(InterfaceConfig {
                name: name.into(),
                mac,
                local,
                peer,
                address: address
                    .map(|a| a.parse())
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                mtu: 1500,
                tap: None,
                dhcp_client: false,
                dhcp_server: None,
                impairments: None,
            })
        };
    let routed = dut == Dut::Router;
    let config = DeviceConfig {
        name: format!("bench-{dut:?}").to_lowercase(),
        lab: None,
        kind: if routed {
            DeviceKind::Router
        } else {
            DeviceKind::Switch
        },
        admin,
        admin_token_file: None,
        ttl: None,
        interfaces: vec![
            iface(
                "eth0",
                DUT_MAC_A,
                a,
                gen_addr.into(),
                routed.then_some("10.1.0.1/24"),
            )?,
            iface(
                "eth1",
                DUT_MAC_B,
                b,
                sink_addr.into(),
                routed.then_some("10.2.0.1/24"),
            )?,
        ],
        gateway: None,
        nameservers: Vec::new(),
        routes: Vec::new(),
        neighbors: if routed {
            vec![NeighborConfig {
                interface: "eth1".into(),
                ip: SINK_IP,
                mac: SINK_MAC,
            }]
        } else {
            Vec::new()
        },
        switch: SwitchConfig::default(),
        dns: None,
        web: None,
        capture_dir: None,
        state_dir: None,
    };
    let path = dir.join(format!("{}.toml", config.name));
    std::fs::write(&path, toml::to_string(&config)?)?;
    let mut cmd = procs::device_command(config.kind, &path, None)?;
    match export {
        Some(endpoint) => cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        None => cmd.env_remove("OTEL_EXPORTER_OTLP_ENDPOINT"),
    };
    let pid = procs::spawn(cmd, &log)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(admin).is_err() {
        if Instant::now() > deadline {
            bail!("{} did not start; see {}", config.name, log.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((Running { pid, marker: path }, a, b))
}

/// An enveloped test frame of `frame_len` bytes (without FCS).
fn test_datagram(dut: Dut, frame_len: usize) -> Vec<u8> {
    let mut frame = vec![0u8; frame_len];
    let dst = if dut == Dut::Router {
        DUT_MAC_A
    } else {
        SINK_MAC
    };
    frame[0..6].copy_from_slice(&dst.0);
    frame[6..12].copy_from_slice(&GEN_MAC.0);
    frame[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    // IPv4 + UDP headers so the router has something real to route.
    let ip_len = frame_len - ethernet::HEADER_LEN;
    let ip = &mut frame[14..];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&GEN_IP.octets());
    ip[16..20].copy_from_slice(&SINK_IP.octets());
    let sum = vnet_wire::ip::checksum::data(&ip[..20]);
    ip[10..12].copy_from_slice(&(!sum).to_be_bytes());
    ip[20..22].copy_from_slice(&9u16.to_be_bytes());
    ip[22..24].copy_from_slice(&9u16.to_be_bytes());
    ip[24..26].copy_from_slice(&((ip_len - 20) as u16).to_be_bytes());
    let mut datagram = vec![0u8; MAX_DATAGRAM_LEN];
    let header = Envelope {
        seq: 0,
        trace: None,
    }
    .encode(&mut datagram);
    datagram[header..header + frame_len].copy_from_slice(&frame);
    let wire = ethernet::pad_and_append_fcs(&mut datagram[header..], frame_len);
    datagram.truncate(header + wire);
    datagram
}

/// A frame from the sink so the switch learns where SINK_MAC lives.
fn learning_datagram() -> Vec<u8> {
    let mut frame = vec![0u8; 60];
    frame[0..6].copy_from_slice(&GEN_MAC.0);
    frame[6..12].copy_from_slice(&SINK_MAC.0);
    frame[12..14].copy_from_slice(&0x88b5u16.to_be_bytes()); // local experimental EtherType
    let mut datagram = vec![0u8; 128];
    let header = Envelope {
        seq: 0,
        trace: None,
    }
    .encode(&mut datagram);
    datagram[header..header + 60].copy_from_slice(&frame);
    let wire = ethernet::pad_and_append_fcs(&mut datagram[header..], 60);
    datagram.truncate(header + wire);
    datagram
}

/// CPU time (user + system) a process has used, from /proc/PID/stat.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at state (field 3).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as u64;
    Some(Duration::from_micros(ticks * 1_000_000 / hz.max(1)))
}

/// One measurement: frames/s at the sink and CPU microseconds the device
/// spent per frame (robust when the generator and the device share cores).
struct Measurement {
    fps: f64,
    cpu_us_per_frame: f64,
}

fn measure(
    dut: Dut,
    frame_len: usize,
    secs: Duration,
    window: u64,
    dir: &Path,
    export: Option<&str>,
) -> anyhow::Result<Measurement> {
    let gen_sock = UdpSocket::bind("127.0.0.1:0")?;
    let sink_sock = UdpSocket::bind("127.0.0.1:0")?;
    let (running, a, b) = start_dut(
        dut,
        dir,
        gen_sock.local_addr()?,
        sink_sock.local_addr()?,
        export,
    )?;
    if dut == Dut::Switch {
        sink_sock.send_to(&learning_datagram(), b)?;
        std::thread::sleep(Duration::from_millis(100));
    }
    sink_sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    let datagram = test_datagram(dut, frame_len);
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sink = {
        let (received, stop) = (Arc::clone(&received), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            while !stop.load(Ordering::Relaxed) {
                if sink_sock.recv(&mut buf).is_ok() {
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    // Warm up, then measure over `secs`.
    let mut sent: u64 = 0;
    let run = |sent: &mut u64, until: Instant| {
        let mut stalled_since: Option<Instant> = None;
        while Instant::now() < until {
            if *sent - received.load(Ordering::Relaxed) < window {
                let _ = gen_sock.send_to(&datagram, a);
                *sent += 1;
                stalled_since = None;
            } else {
                // A frame lost somewhere would stall the window forever: after
                // 50 ms without progress, forget the in-flight frames.
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_millis(50) {
                    *sent = received.load(Ordering::Relaxed);
                    stalled_since = None;
                }
                std::thread::yield_now();
            }
        }
    };
    run(&mut sent, Instant::now() + Duration::from_millis(300));
    let start_count = received.load(Ordering::Relaxed);
    let start_cpu = cpu_time(running.pid);
    let start = Instant::now();
    run(&mut sent, start + secs);
    let frames = received.load(Ordering::Relaxed) - start_count;
    let fps = frames as f64 / start.elapsed().as_secs_f64();
    let cpu_us_per_frame = match (start_cpu, cpu_time(running.pid)) {
        (Some(a), Some(b)) if frames > 0 => (b - a).as_secs_f64() * 1e6 / frames as f64,
        _ => f64::NAN,
    };
    stop.store(true, Ordering::Relaxed);
    let _ = sink.join();
    Ok(Measurement {
        fps,
        cpu_us_per_frame,
    })
}

fn forward(secs: Duration, window: u64, endpoint: &str) -> anyhow::Result<ExitCode> {
    let dir = std::env::temp_dir().join(format!("vnet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    println!(
        "vnet bench forward: {:.1} s per run, window {window} frames, each device its own process",
        secs.as_secs_f64()
    );
    println!("ratio = device frames/s / relay frames/s; CPU = device CPU time per forwarded frame");
    println!(
        "{:<6} {:>20} {:>30} {:>30}",
        "frame", "relay fps (CPU)", "switch fps (CPU) ratio", "router fps (CPU) ratio"
    );
    for frame_len in [60usize, 1514] {
        let relay = measure(Dut::Relay, frame_len, secs, window, &dir, None)?;
        let switch = measure(Dut::Switch, frame_len, secs, window, &dir, None)?;
        let router = measure(Dut::Router, frame_len, secs, window, &dir, None)?;
        let cell = |m: &Measurement| format!("{:.0} ({:.1} us)", m.fps, m.cpu_us_per_frame);
        let ratio = |m: &Measurement| {
            if relay.fps > 0.0 {
                m.fps / relay.fps
            } else {
                0.0
            }
        };
        println!(
            "{:<6} {:>20} {:>23} {:>5.2}x {:>23} {:>5.2}x",
            // 60 bytes + 4 FCS is the 64-byte minimum frame.
            if frame_len == 60 { 64 } else { frame_len },
            cell(&relay),
            cell(&switch),
            ratio(&switch),
            cell(&router),
            ratio(&router)
        );
    }
    println!("goals: switch >= 0.60x relay, router >= 0.50x relay");
    // Trace export must not slow untraced forwarding: the same router with
    // OTEL_EXPORTER_OTLP_ENDPOINT set (spans go to a receiver in this
    // process) and without, alternated, best of two each.
    println!();
    println!("trace export, untraced 64-byte frames through a router (best of 2 runs each):");
    let mut off = Measurement {
        fps: 0.0,
        cpu_us_per_frame: f64::MAX,
    };
    let mut on = Measurement {
        fps: 0.0,
        cpu_us_per_frame: f64::MAX,
    };
    for _ in 0..2 {
        let m = measure(Dut::Router, 60, secs, window, &dir, None)?;
        if m.fps > off.fps {
            off = m;
        }
        let m = measure(Dut::Router, 60, secs, window, &dir, Some(endpoint))?;
        if m.fps > on.fps {
            on = m;
        }
    }
    println!(
        "  export off {:.0} fps ({:.1} us CPU/frame), export on {:.0} fps ({:.1} us CPU/frame): ratio {:.2}x (goal >= 0.90x)",
        off.fps,
        off.cpu_us_per_frame,
        on.fps,
        on.cpu_us_per_frame,
        if off.fps > 0.0 { on.fps / off.fps } else { 0.0 }
    );
    println!(
        "note: on a 2-core machine the generator, the sink and the device share the cores; the CPU column is the fairer comparison there"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

const TCP_BENCH_TOPOLOGY: &str = r#"
name = "bench-tcp"
links = [
  { a = "h1:eth0", b = "r1:eth0" },
  { a = "r1:eth1", b = "h2:eth0" },
]

[devices.h1]
kind = "host"
gateway = "10.9.1.1"
interfaces.eth0 = { address = "10.9.1.10/24" }

[devices.r1]
kind = "router"
interfaces.eth0 = { address = "10.9.1.1/24" }
interfaces.eth1 = { address = "10.9.2.1/24" }

[devices.h2]
kind = "host"
gateway = "10.9.2.1"
interfaces.eth0 = { address = "10.9.2.10/24" }
"#;

/// A finished `tcp send` (see [`tcp_transfer`]).
pub(super) struct Transfer {
    /// The sender's `sent N bytes in … s (… Mbit/s), retransmissions …` line.
    pub summary: String,
    /// The receiver's output.
    pub received: Vec<String>,
    /// Wall time of the send, connection included.
    pub secs: f64,
}

/// `tcp send` of `bytes` from `sender` to a `tcp listen 5001` started on
/// `receiver`, whose address is `dest_ip`; fails with both outputs unless
/// the send succeeded.
pub(super) async fn tcp_transfer(
    sender: &crate::state::DeviceState,
    receiver: &crate::state::DeviceState,
    dest_ip: &str,
    bytes: &str,
) -> anyhow::Result<Transfer> {
    let receiver = receiver.clone();
    let listen =
        tokio::spawn(
            async move { exec_lines(&receiver, &["tcp", "listen", "--once", "5001"]).await },
        );
    tokio::time::sleep(Duration::from_millis(300)).await; // let the listener bind
    let dest = format!("{dest_ip}:5001");
    let started = Instant::now();
    let sent = exec_lines(sender, &["tcp", "send", &dest, "--bytes", bytes]).await;
    let secs = started.elapsed().as_secs_f64();
    let received = listen.await?.map(|(_, lines)| lines).unwrap_or_default();
    let (code, lines) = sent?;
    match lines.iter().find(|l| l.starts_with("sent ")) {
        Some(summary) if code == 0 => Ok(Transfer {
            summary: summary.clone(),
            received,
            secs,
        }),
        _ => bail!("transfer failed: {lines:?} / {received:?}"),
    }
}

/// The number in `text` between `before` and `after`.
pub(super) fn between(text: &str, before: &str, after: &str) -> Option<f64> {
    let rest = &text[text.find(before)? + before.len()..];
    rest[..rest.find(after)?].trim().parse().ok()
}

/// Runs an app on a device and returns its output lines and exit code.
pub(super) async fn exec_lines(
    device: &crate::state::DeviceState,
    argv: &[&str],
) -> anyhow::Result<(i32, Vec<String>)> {
    use futures_util::StreamExt;
    let request = vnet_runtime::api::ExecRequest {
        argv: argv.iter().map(|a| a.to_string()).collect(),
    };
    let request = crate::client::AdminRequest::post("/exec", Some(serde_json::to_value(request)?));
    let reply = crate::client::request(device, request.streaming())
        .await?
        .check()
        .await?;
    let mut body = reply.body;
    let mut pending = Vec::new();
    let mut lines = Vec::new();
    while let Some(chunk) = body.next().await {
        pending.extend_from_slice(&chunk?);
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            match serde_json::from_slice(&line)? {
                vnet_runtime::api::ExecEvent::Out(t) | vnet_runtime::api::ExecEvent::Err(t) => {
                    lines.push(t)
                }
                vnet_runtime::api::ExecEvent::Exit(code) => return Ok((code, lines)),
                vnet_runtime::api::ExecEvent::File { .. }
                | vnet_runtime::api::ExecEvent::Started { .. }
                | vnet_runtime::api::ExecEvent::Progress { .. } => {}
            }
        }
    }
    bail!("exec output ended without an exit code")
}

async fn tcp_goodput(bytes: &str) -> anyhow::Result<ExitCode> {
    let dir = std::env::temp_dir().join(format!("vnet-bench-tcp-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // The ceiling: what a bare relay forwards, as 1448-byte TCP payloads.
    let relay = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            measure(Dut::Relay, 1514, Duration::from_secs(2), 64, &dir, None)
        })
        .await??
    };
    let ceiling_mbit = relay.fps * 1448.0 * 8.0 / 1e6;

    let topology = dir.join("bench-tcp.toml");
    std::fs::write(&topology, TCP_BENCH_TOPOLOGY)?;
    let run_dir = dir.join("run");
    let code = crate::commands::up::run(&run_dir, &topology, 30, None).await?;
    if code != ExitCode::SUCCESS {
        bail!("the benchmark lab did not start");
    }
    let state = crate::state::LabState::require(&run_dir)?;
    let transfer = match (state.device("h1"), state.device("h2")) {
        (Ok(h1), Ok(h2)) => tcp_transfer(h1, h2, "10.9.2.10", bytes).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    crate::commands::down::run(&run_dir).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let transfer = transfer?;
    let summary = transfer.summary;
    let rlines = transfer.received;
    let goodput = between(&summary, "(", " Mbit/s").unwrap_or(0.0);
    println!("vnet bench tcp: host -> router -> host, MTU 1500, one process per device");
    println!("  {summary}");
    for l in rlines.iter().filter(|l| l.starts_with("received ")) {
        println!("  {l}");
    }
    println!(
        "  relay ceiling: {:.0} frames/s x 1448 B = {ceiling_mbit:.1} Mbit/s",
        relay.fps
    );
    println!(
        "  goodput / ceiling = {goodput:.1} / {ceiling_mbit:.1} = {:.2}x (goal >= 0.50x)",
        if ceiling_mbit > 0.0 {
            goodput / ceiling_mbit
        } else {
            0.0
        }
    );
    Ok(ExitCode::SUCCESS)
}
