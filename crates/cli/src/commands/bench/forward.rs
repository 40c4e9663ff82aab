//! `vnet bench forward`: frames/s through a plain UDP relay (the ceiling:
//! recv→send with the same runtime, no protocol work), a batched relay
//! (recvmmsg/sendmmsg, as the devices batch), vnet-switch and vnet-router,
//! for 64- and 1514-byte frames, printed as ratios. A benchmark, not a
//! test: it prints numbers and never fails on them.
//!
//! Each device under test is its own process with two cable ends: one faces
//! a generator thread, the other a sink thread in this process. The
//! generator keeps a bounded window of frames in flight so no queue
//! overflows and every run measures sustained forwarding, not loss; it
//! sends in batches (sendmmsg) and the sink reads in batches (recvmmsg),
//! so the load is not limited by one syscall per frame.

use crate::commands::progress::Steps;
use crate::procs;
use anyhow::{Context, bail};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use vnet_cable::Envelope;
use vnet_cable::batch::{RecvBatch, TxQueue};
use vnet_cable::end::MAX_DATAGRAM_LEN;
use vnet_topology::device::{
    DeviceConfig, DeviceKind, InterfaceConfig, NeighborConfig, SwitchConfig,
};
use vnet_wire::ethernet::{self, EthernetAddress};

/// recv → send, both directions, nothing else: the ceiling for a device.
/// `batched` reads with `recvmmsg` and sends with `sendmmsg` (the cable
/// crate's own batches, as a device uses them); otherwise one datagram per
/// syscall.
pub(super) async fn relay(
    a: SocketAddr,
    a_peer: SocketAddr,
    b: SocketAddr,
    b_peer: SocketAddr,
    batched: bool,
) -> anyhow::Result<ExitCode> {
    let sa = Arc::new(tokio::net::UdpSocket::bind(a).await?);
    let sb = Arc::new(tokio::net::UdpSocket::bind(b).await?);
    let one_way = move |from: Arc<tokio::net::UdpSocket>,
                        to: Arc<tokio::net::UdpSocket>,
                        peer: SocketAddr| async move {
        if batched {
            relay_batches(&from, &to, peer).await;
        }
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

/// The batched relay's loop: a `recvmmsg` of up to
/// [`vnet_cable::batch::RX_SLOTS`] datagrams, then `sendmmsg`s of what
/// came. Returns only if a receive fails for good.
async fn relay_batches(from: &tokio::net::UdpSocket, to: &tokio::net::UdpSocket, peer: SocketAddr) {
    let mut batch = RecvBatch::default();
    let mut queue = TxQueue::default();
    // GRO in and GSO out, as a device's cable end uses them.
    vnet_cable::batch::enable_gro(from.as_raw_fd());
    let gso = AtomicBool::new(true);
    loop {
        if from.readable().await.is_err() {
            return;
        }
        match from.try_io(tokio::io::Interest::READABLE, || {
            batch.receive(from.as_raw_fd())
        }) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => continue,
        }
        for i in 0..batch.len() {
            if queue.is_full() {
                let _ = queue.send_to(to.as_raw_fd(), peer, &gso);
                queue.clear();
            }
            queue.push(batch.datagram(i), 0);
        }
        let _ = queue.send_to(to.as_raw_fd(), peer, &gso);
        queue.clear();
    }
}

pub(super) fn free_udp() -> anyhow::Result<SocketAddr> {
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
pub(super) enum Dut {
    /// recv → send, one datagram per syscall.
    Relay,
    /// recvmmsg → sendmmsg.
    BatchedRelay,
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
    if matches!(dut, Dut::Relay | Dut::BatchedRelay) {
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
        if dut == Dut::BatchedRelay {
            cmd.arg("--batched");
        }
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
        cpus: None,
        rip: None,
        ospf: None,
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
        tls: None,
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
pub(super) struct Measurement {
    /// Frames per second at the sink.
    pub(super) fps: f64,
    /// The device's CPU time per forwarded frame, in microseconds.
    pub(super) cpu_us_per_frame: f64,
}

pub(super) fn measure(
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
        std::thread::spawn(move || sink_loop(&sink_sock, &received, &stop))
    };
    // Warm up, then measure over `secs`.
    let mut sent: u64 = 0;
    let mut queue = TxQueue::default();
    let no_gso = AtomicBool::new(false);
    let mut run = |sent: &mut u64, until: Instant| {
        let mut stalled_since: Option<Instant> = None;
        while Instant::now() < until {
            let room = window.saturating_sub(*sent - received.load(Ordering::Relaxed));
            if room > 0 {
                // One sendmmsg of up to a batch: the generator is not the
                // bottleneck of a batched device.
                for _ in 0..room.min(vnet_cable::batch::BATCH as u64) {
                    queue.push(&datagram, 0);
                }
                let (n, _) = queue.send_to(gen_sock.as_raw_fd(), a, &no_gso);
                queue.clear();
                *sent += n as u64;
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

/// Counts datagrams at `socket` until `stop`: a blocking `recv` waits for
/// the first, then `recvmmsg` takes whatever else is queued.
fn sink_loop(socket: &UdpSocket, received: &AtomicU64, stop: &AtomicBool) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut batch = RecvBatch::default();
    while !stop.load(Ordering::Relaxed) {
        if socket.recv(&mut buf).is_err() {
            continue;
        }
        received.fetch_add(1, Ordering::Relaxed);
        while batch.receive(socket.as_raw_fd()).is_ok() {
            if batch.is_empty() {
                break;
            }
            received.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
    }
}

pub(super) fn forward(secs: Duration, window: u64, endpoint: &str) -> anyhow::Result<ExitCode> {
    let dir = std::env::temp_dir().join(format!("vnet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    println!(
        "vnet bench forward: {:.1} s per run, window {window} frames, each device its own process",
        secs.as_secs_f64()
    );
    println!(
        "x relay / x batched = device frames/s over the plain relay's / the batched relay's; \
         CPU = the forwarder's CPU time per forwarded frame"
    );
    println!(
        "{:<6} {:>18} {:>18} {:>34} {:>34}",
        "frame",
        "relay fps (CPU)",
        "batched fps (CPU)",
        "switch fps (CPU) x relay x batched",
        "router fps (CPU) x relay x batched"
    );
    // 2 frame sizes x 4 forwarders, then 2 x (export off, on).
    let steps = Steps::for_stdout(12);
    let run = |dut: Dut, frame_len: usize, export: Option<&str>| {
        steps.start(format!("{dut:?}, {frame_len}-byte frames"));
        measure(dut, frame_len, secs, window, &dir, export)
    };
    for frame_len in [60usize, 1514] {
        let relay = run(Dut::Relay, frame_len, None)?;
        let batched = run(Dut::BatchedRelay, frame_len, None)?;
        let switch = run(Dut::Switch, frame_len, None)?;
        let router = run(Dut::Router, frame_len, None)?;
        let cell = |m: &Measurement| format!("{:.0} ({:.1} us)", m.fps, m.cpu_us_per_frame);
        let ratio = |m: &Measurement, base: &Measurement| {
            if base.fps > 0.0 {
                m.fps / base.fps
            } else {
                0.0
            }
        };
        let device = |m: &Measurement| {
            format!(
                "{} {:.2}x {:.2}x",
                cell(m),
                ratio(m, &relay),
                ratio(m, &batched)
            )
        };
        steps.println(format!(
            "{:<6} {:>18} {:>18} {:>34} {:>34}",
            // 60 bytes + 4 FCS is the 64-byte minimum frame.
            if frame_len == 60 { 64 } else { frame_len },
            cell(&relay),
            cell(&batched),
            device(&switch),
            device(&router),
        ));
    }
    steps.println(
        "goals: switch and router >= 2x the plain relay and >= 0.5x the batched relay; CPU per frame <= 2 us",
    );
    // Trace export must not slow untraced forwarding: the same router with
    // OTEL_EXPORTER_OTLP_ENDPOINT set (spans go to a receiver in this
    // process) and without, alternated, best of two each.
    steps.println("");
    steps.println("trace export, untraced 64-byte frames through a router (best of 2 runs each):");
    let mut off = Measurement {
        fps: 0.0,
        cpu_us_per_frame: f64::MAX,
    };
    let mut on = Measurement {
        fps: 0.0,
        cpu_us_per_frame: f64::MAX,
    };
    for _ in 0..2 {
        let m = run(Dut::Router, 60, None)?;
        if m.fps > off.fps {
            off = m;
        }
        let m = run(Dut::Router, 60, Some(endpoint))?;
        if m.fps > on.fps {
            on = m;
        }
    }
    steps.finish();
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
