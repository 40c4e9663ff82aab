//! `traceroute`: UDP probes with increasing TTL (the Linux default method);
//! routers answer ICMP Time Exceeded, the destination Port Unreachable.

use super::{millis, parse_args, seconds};
use crate::Host;
use clap::Parser;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use tokio::time::Instant;
use vnet_runtime::net::UdpSocket;
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_stack::{IcmpError, SendOptions, UdpEvent};

#[derive(Parser, Debug)]
#[command(
    name = "traceroute",
    about = "Print the route packets trace to a network host"
)]
struct Args {
    /// Print addresses only (vnet's traceroute never looks names up, so
    /// this only drops the `(address)` after each hop, as Linux's -n).
    #[arg(short = 'n')]
    numeric: bool,
    /// Maximum number of hops (up to 255).
    #[arg(short = 'm', default_value_t = 30, value_parser = clap::value_parser!(u8).range(1..))]
    max_hops: u8,
    /// TTL to start with.
    #[arg(short = 'f', default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..))]
    first_ttl: u8,
    /// Probes per hop.
    #[arg(short = 'q', default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=10))]
    queries: u8,
    /// Seconds to wait for each probe's answer.
    #[arg(short = 'w', default_value = "5", value_parser = seconds)]
    wait: Duration,
    /// First destination port (incremented per probe).
    #[arg(short = 'p', default_value_t = 33434)]
    port: u16,
    /// Destination address.
    destination: String,
}

/// Total probe size, as Linux traceroute's default "60 byte packets".
const PROBE_PACKET_LEN: usize = 60;

pub(crate) async fn run(
    handle: DeviceHandle<Host>,
    argv: Vec<String>,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    let args: Args = match parse_args(&argv, out).await {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    let Ok(dst) = args.destination.parse::<Ipv4Addr>() else {
        out.error(format!("{}: Name or service not known", args.destination))
            .await?;
        out.error(format!(
            "Cannot handle \"host\" cmdline arg `{}' on position 1 (argc 1)",
            args.destination
        ))
        .await?;
        return Ok(2);
    };
    let socket: UdpSocket<Host> = match UdpSocket::bind(&handle, 0) {
        Ok(s) => s,
        Err(e) => {
            out.error(format!("traceroute: socket: {e}")).await?;
            return Ok(2);
        }
    };
    out.line(format!(
        "traceroute to {dst} ({dst}), {} hops max, {PROBE_PACKET_LEN} byte packets",
        args.max_hops
    ))
    .await?;
    let payload = [0x40u8; PROBE_PACKET_LEN - 28];
    let mut probe_port = args.port;
    for ttl in args.first_ttl..=args.max_hops {
        let mut line = format!("{ttl:>2} ");
        let mut last_from: Option<Ipv4Addr> = None;
        let mut reached = false;
        let mut unreachable = 0;
        for _ in 0..args.queries {
            let port = probe_port;
            probe_port = probe_port.wrapping_add(1);
            let target = SocketAddrV4::new(dst, port);
            let opts = SendOptions {
                ttl: Some(ttl),
                dont_frag: false,
            };
            let sent = socket.send_to(target, &payload, opts);
            if let Err(e) = sent {
                out.line(line).await?;
                out.error(format!("traceroute: send: {e}")).await?;
                return Ok(1);
            }
            let started = Instant::now();
            let deadline = started + args.wait;
            let answer = loop {
                let event = tokio::select! {
                    e = socket.next_event() => e,
                    _ = tokio::time::sleep_until(deadline) => break None,
                };
                if let UdpEvent::Error {
                    from,
                    original_dst,
                    error,
                } = event
                    && original_dst == target
                {
                    break Some((from, error));
                }
            };
            match answer {
                None => line.push_str(" *"),
                Some((from, error)) => {
                    if last_from != Some(from) {
                        if args.numeric {
                            line.push_str(&format!(" {from}"));
                        } else {
                            line.push_str(&format!(" {from} ({from})"));
                        }
                        last_from = Some(from);
                    }
                    line.push_str(&format!("  {} ms", millis(started.elapsed())));
                    match error {
                        IcmpError::TtlExceeded => {}
                        IcmpError::PortUnreachable => reached = from == dst || reached,
                        IcmpError::NetUnreachable => {
                            line.push_str(" !N");
                            unreachable += 1;
                        }
                        IcmpError::HostUnreachable => {
                            line.push_str(" !H");
                            unreachable += 1;
                        }
                        IcmpError::ProtocolUnreachable => {
                            line.push_str(" !P");
                            unreachable += 1;
                        }
                        IcmpError::FragmentationNeeded { mtu } => {
                            line.push_str(&format!(" !F-{mtu}"));
                            unreachable += 1;
                        }
                        _ => {
                            line.push_str(" !X");
                            unreachable += 1;
                        }
                    }
                }
            }
        }
        out.line(line).await?;
        if reached || unreachable == args.queries {
            break;
        }
    }
    Ok(0)
}
