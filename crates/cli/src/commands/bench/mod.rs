//! Benchmarks: they print numbers measured in the same run and never fail
//! on them.
//!
//! `vnet bench forward` ([`forward`]): frames/s through relays and devices.
//! `vnet bench tcp`: TCP goodput host -> router -> host next to the relay
//! ceiling. `vnet bench http`: requests/s over keep-alive and new
//! connections/s host -> switch -> web (`httpload` on the host, i.e.
//! `vnet_web::load` over vnet TCP), next to the same `vnet_web::load` code
//! against hyper 1.x on the kernel's TCP over loopback, with the ratios.
//! `vnet bench chain` and `vnet bench loss`: see [`chain`] and [`loss`].

mod chain;
mod forward;
mod http;
mod loss;
mod relay_chain;

use anyhow::{Context, bail};
use clap::Subcommand;
use forward::{Dut, measure};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

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
    /// ceiling (relay frames/s x 1448 bytes) and to the same transfer
    /// without trace export, measured in the same run.
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
        /// Bytes per TCP transfer (suffixes K, M, G). Long enough that
        /// slow start is a small part of it (16 MiB lasts ~0.4 s at
        /// 300 Mbit/s, most of it ramping up).
        #[arg(long, default_value = "64M")]
        bytes: String,
        /// Run the whole benchmark (vnet's devices, the relays, the kernel's
        /// pings) on these CPUs only, e.g. `--cpus 0`: the latency of a lab
        /// started with `vnet up --cpus 0`.
        #[arg(long, value_name = "LIST")]
        cpus: Option<vnet_topology::cpus::CpuList>,
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
        /// recvmmsg/sendmmsg instead of one datagram per syscall.
        #[arg(long)]
        batched: bool,
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
            batched,
            ..
        } => forward::relay(a, a_peer, b, b_peer, batched).await,
        BenchCommand::Tcp { bytes } => tcp_goodput(&bytes).await,
        BenchCommand::Chain {
            routers,
            bytes,
            cpus,
        } => chain::chain_bench(&routers, &bytes, cpus.as_ref()).await,
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
            let code = tokio::task::spawn_blocking(move || {
                forward::forward(secs, window.max(1), &endpoint)
            })
            .await??;
            let _ = collector.stop().await;
            Ok(code)
        }
    }
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

/// `a / b`, 0 when `b` is 0.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Starts the benchmark lab (with or without trace export), moves `bytes`
/// from h1 to h2, stops the lab.
async fn lab_transfer(
    dir: &Path,
    topology: &Path,
    bytes: &str,
    trace: bool,
) -> anyhow::Result<Transfer> {
    let run_dir = dir.join(if trace { "run" } else { "run-untraced" });
    let code =
        crate::commands::up::run_with_trace(&run_dir, topology, 30, None, trace, false, None)
            .await?;
    if code != ExitCode::SUCCESS {
        bail!("the benchmark lab did not start");
    }
    let state = crate::state::LabState::require(&run_dir)?;
    let transfer = match (state.device("h1"), state.device("h2")) {
        (Ok(h1), Ok(h2)) => tcp_transfer(h1, h2, "10.9.2.10", bytes).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    crate::commands::down::run(&run_dir).await?;
    transfer
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
    // With trace export (as `vnet up` runs a lab), then without
    // (`vnet up --no-trace`): what tracing costs, in the same run.
    let traced = lab_transfer(&dir, &topology, bytes, true).await;
    let untraced = match &traced {
        Ok(_) => lab_transfer(&dir, &topology, bytes, false).await,
        Err(_) => Err(anyhow::anyhow!("not run")),
    };
    let _ = std::fs::remove_dir_all(&dir);
    let transfer = traced?;
    let untraced = untraced?;
    let summary = transfer.summary;
    let goodput = between(&summary, "(", " Mbit/s").unwrap_or(0.0);
    let goodput_off = between(&untraced.summary, "(", " Mbit/s").unwrap_or(0.0);
    println!("vnet bench tcp: host -> router -> host, MTU 1500, one process per device");
    println!("  {summary}");
    for l in transfer
        .received
        .iter()
        .filter(|l| l.starts_with("received "))
    {
        println!("  {l}");
    }
    println!(
        "  relay ceiling: {:.0} frames/s x 1448 B = {ceiling_mbit:.1} Mbit/s",
        relay.fps
    );
    println!(
        "  goodput / ceiling = {goodput:.1} / {ceiling_mbit:.1} = {:.2}x (goal >= 0.50x)",
        ratio(goodput, ceiling_mbit)
    );
    println!("  without trace export (--no-trace): {}", untraced.summary);
    println!(
        "  traced / untraced = {goodput:.1} / {goodput_off:.1} = {:.2}x (goal >= 0.90x)",
        ratio(goodput, goodput_off)
    );
    Ok(ExitCode::SUCCESS)
}
