//! `tcp listen PORT` and `tcp send HOST:PORT --bytes N`: a bulk transfer
//! over vnet's own TCP, like nc/iperf, printing goodput, retransmissions
//! and the SHA-256 of the stream so both ends can be compared byte for byte.
//!
//! `tcp listen` serves connections one after another until interrupted
//! (Ctrl-C through `vnet exec`: exit 130, as nc), or `--count N` / `-1`
//! of them. Both take host names where they take addresses.

use super::{names, parse_args};
use crate::Host;
use clap::{Parser, Subcommand};
use sha2::{Digest, Sha256};
use std::net::{Ipv4Addr, SocketAddrV4};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use vnet_runtime::net_tcp::{TcpListener, TcpStream};
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};

#[derive(Parser, Debug)]
#[command(
    name = "tcp",
    about = "Bulk TCP transfers over vnet's own TCP (like nc/iperf)"
)]
struct Args {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand, Debug)]
enum Mode {
    /// Accept connections, one after another, and read each to its end,
    /// until interrupted.
    Listen {
        /// Port to listen on.
        port: u16,
        /// Accept only connections to this local address (or host name).
        #[arg(short = 's', long = "bind")]
        bind: Option<String>,
        /// Connections to serve before exiting (default: until interrupted).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "once")]
        count: Option<u64>,
        /// Serve one connection, then exit (`--count 1`).
        #[arg(short = '1', long)]
        once: bool,
    },
    /// Connect and send N bytes of a deterministic pattern, then close.
    Send {
        /// Destination HOST:PORT, e.g. 10.0.3.10:5001 or www.example.com:80.
        dest: String,
        /// Bytes to send (suffixes K, M, G allowed: 16M).
        #[arg(long, value_parser = byte_count)]
        bytes: u64,
        /// Disable Nagle's algorithm.
        #[arg(long)]
        nodelay: bool,
        /// Pattern seed (both ends print the stream's SHA-256 to compare).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

/// How often a transfer reports progress to `vnet exec`.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// A byte count that does not parse (or overflows 64 bits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a byte count (e.g. 4096, 16M)")]
pub struct BadByteCount(pub String);

/// A byte count with an optional binary suffix: `4096`, `64K`, `16M`, `1G`.
pub fn byte_count(text: &str) -> Result<u64, BadByteCount> {
    let (num, scale) = match text.chars().last() {
        Some('K' | 'k') => (&text[..text.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&text[..text.len() - 1], 1 << 20),
        Some('G' | 'g') => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| BadByteCount(text.to_string()))
}

/// A cheap deterministic byte stream (xorshift64*).
struct Pattern(u64);

impl Pattern {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

fn rate(bytes: u64, secs: f64) -> String {
    let mbit = bytes as f64 * 8.0 / secs.max(1e-9) / 1e6;
    format!("{mbit:.2} Mbit/s")
}

pub(crate) async fn run(
    handle: DeviceHandle<Host>,
    argv: Vec<String>,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    let args: Args = match parse_args(&argv, out).await {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    match args.mode {
        Mode::Listen {
            port,
            bind,
            count,
            once,
        } => {
            let count = if once { Some(1) } else { count };
            let bind = match bind {
                None => None,
                Some(host) => match local_address(&handle, &host).await {
                    Ok(addr) => Some(addr),
                    Err(message) => {
                        out.error(format!("tcp: {message}")).await?;
                        return Ok(1);
                    }
                },
            };
            listen(handle, port, bind, count, out).await
        }
        Mode::Send {
            dest,
            bytes,
            nodelay,
            seed,
        } => {
            let Some((host, port)) = dest.rsplit_once(':') else {
                out.error(format!("tcp: {dest}: expected HOST:PORT"))
                    .await?;
                return Ok(2);
            };
            let Ok(port) = port.parse::<u16>() else {
                out.error(format!("tcp: {port}: Servname not supported"))
                    .await?;
                return Ok(2);
            };
            let ip = match names::resolve(&handle, host).await {
                Ok(ip) => ip,
                Err(e) => {
                    out.error(format!("tcp: {host}: {e}")).await?;
                    return Ok(2);
                }
            };
            let dest = SocketAddrV4::new(ip, port);
            send(handle, dest, bytes, nodelay, seed, out).await
        }
    }
}

/// The bind address of `tcp listen -s HOST`: resolved, and one of this
/// host's own addresses (else Linux's EADDRNOTAVAIL message).
async fn local_address(handle: &DeviceHandle<Host>, host: &str) -> Result<Ipv4Addr, String> {
    let addr = names::resolve(handle, host)
        .await
        .map_err(|e| format!("{host}: {e}"))?;
    let ours = handle.with(|h, _, _| {
        h.stack
            .interfaces()
            .iter()
            .any(|i| i.address.is_some_and(|a| a.address() == addr))
    });
    if ours || addr.is_unspecified() {
        Ok(addr)
    } else {
        Err(format!("bind {addr}: Cannot assign requested address"))
    }
}

async fn listen(
    handle: DeviceHandle<Host>,
    port: u16,
    bind: Option<Ipv4Addr>,
    count: Option<u64>,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    let listener: TcpListener<Host> = match TcpListener::bind(&handle, port, 16) {
        Ok(l) => l,
        Err(e) => {
            out.error(format!("tcp: listen on port {port}: {e}"))
                .await?;
            return Ok(1);
        }
    };
    let shown = bind.unwrap_or(Ipv4Addr::UNSPECIFIED);
    out.line(format!("listening on {shown}:{port}")).await?;
    let mut status = 0;
    let mut served = 0;
    while count.is_none_or(|c| served < c) {
        let mut stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                out.error(format!("tcp: accept: {e}")).await?;
                return Ok(1);
            }
        };
        // The stack listens on every address: a connection to another one
        // is reset, as the kernel resets what no socket listens for.
        let to_us = stream
            .local_addr()
            .is_some_and(|l| bind.is_none_or(|b| b.is_unspecified() || *l.ip() == b));
        if !to_us {
            stream.abort();
            continue;
        }
        served += 1;
        let peer = stream
            .peer_addr()
            .map(|p| p.to_string())
            .unwrap_or_default();
        out.line(format!("connection from {peer}")).await?;
        let start = Instant::now();
        let mut hasher = Sha256::new();
        let mut total: u64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        let result = loop {
            match stream.read(&mut buf).await {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    hasher.update(&buf[..n]);
                    total += n as u64;
                }
                Err(e) => break Err(e),
            }
        };
        let secs = start.elapsed().as_secs_f64();
        match result {
            Ok(()) => {
                out.line(format!(
                    "received {total} bytes in {secs:.3} s ({}) from {peer}, sha256 {:x}",
                    rate(total, secs),
                    hasher.finalize()
                ))
                .await?;
            }
            Err(e) => {
                out.error(format!("tcp: receive from {peer} after {total} bytes: {e}"))
                    .await?;
                status = 1;
            }
        }
    }
    Ok(status)
}

async fn send(
    handle: DeviceHandle<Host>,
    dest: SocketAddrV4,
    bytes: u64,
    nodelay: bool,
    seed: u64,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    let start = Instant::now();
    let mut stream: TcpStream<Host> = match TcpStream::connect(&handle, dest).await {
        Ok(s) => s,
        Err(e) => {
            out.error(format!("tcp: connect to {dest}: {e}")).await?;
            return Ok(1);
        }
    };
    stream.set_nodelay(nodelay);
    out.line(format!(
        "connected {} -> {dest} in {:.3} ms",
        stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        start.elapsed().as_secs_f64() * 1000.0
    ))
    .await?;
    let start = Instant::now();
    let mut pattern = Pattern(seed.max(1));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent: u64 = 0;
    let mut reported = Instant::now();
    while sent < bytes {
        if reported.elapsed() >= PROGRESS_EVERY {
            reported = Instant::now();
            out.progress(sent, Some(bytes));
        }
        let n = (bytes - sent).min(buf.len() as u64) as usize;
        pattern.fill(&mut buf[..n]);
        if let Err(e) = stream.write_all(&buf[..n]).await {
            out.error(format!("tcp: send to {dest} after {sent} bytes: {e}"))
                .await?;
            return Ok(1);
        }
        hasher.update(&buf[..n]);
        sent += n as u64;
    }
    if let Err(e) = stream.shutdown().await {
        out.error(format!("tcp: shutdown: {e}")).await?;
        return Ok(1);
    }
    // Wait until the peer has acknowledged everything (and closed its side).
    let mut sink = [0u8; 1024];
    loop {
        match stream.read(&mut sink).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                out.error(format!("tcp: waiting for {dest} to finish: {e}"))
                    .await?;
                return Ok(1);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let info = stream.info();
    let retrans = info.as_ref().map(|i| i.retransmissions).unwrap_or(0);
    out.line(format!(
        "sent {sent} bytes in {secs:.3} s ({}), retransmissions {retrans}, sha256 {:x}",
        rate(sent, secs),
        hasher.finalize()
    ))
    .await?;
    Ok(0)
}
