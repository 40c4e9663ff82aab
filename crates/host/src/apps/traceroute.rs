//! `traceroute`: probes with increasing TTL, printed like Linux
//! traceroute. Routers answer ICMP Time Exceeded; the destination answers
//! a UDP probe (the default) with Port Unreachable, an ICMP probe (`-I`)
//! with an Echo Reply, a TCP SYN (`-T`, see [`super::tcp_probe`]) with a
//! SYN-ACK or a RST.
//!
//! An interrupt stops traceroute as SIGINT stops Linux's (exit 130): the
//! rows printed so far stay.

use super::tcp_probe::TcpProber;
use super::{millis, names, parse_args, seconds};
use crate::Host;
use clap::Parser;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use tokio::time::Instant;
use vnet_runtime::net::{PingSocket, UdpSocket};
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_stack::{IcmpError, PingEvent, SendOptions, StackError, UdpEvent};

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
    /// Probe with ICMP Echo Requests.
    #[arg(short = 'I', conflicts_with = "tcp")]
    icmp: bool,
    /// Probe with TCP SYNs (to port 80 unless -p).
    #[arg(short = 'T')]
    tcp: bool,
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
    /// Destination port: the first of the UDP probes (incremented per
    /// probe, default 33434), the fixed port of TCP probes (default 80).
    #[arg(short = 'p')]
    port: Option<u16>,
    /// Destination: an address or a host name.
    destination: String,
}

/// Total probe size, as Linux traceroute's default "60 byte packets".
const PROBE_PACKET_LEN: usize = 60;
/// Linux traceroute's first UDP port.
const UDP_BASE_PORT: u16 = 33434;
/// Linux traceroute -T's default port.
const TCP_DEFAULT_PORT: u16 = 80;

/// What answered one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// A router on the way (Time Exceeded).
    Hop,
    /// The destination itself.
    Reached,
    /// An ICMP error; printed as Linux's `!N`, `!H`, … annotation.
    Unreachable(IcmpError),
}

/// The three kinds of probe.
enum Prober {
    Udp { socket: UdpSocket<Host>, port: u16 },
    Icmp { socket: PingSocket<Host>, seq: u16 },
    Tcp(Box<TcpProber>),
}

impl Prober {
    /// Sends one probe with `ttl` to `dst` and waits up to `wait` for what
    /// answers it: `Ok(None)` if nothing did.
    async fn probe(
        &mut self,
        dst: Ipv4Addr,
        ttl: u8,
        wait: Duration,
    ) -> Result<Option<(Ipv4Addr, Answer)>, StackError> {
        let deadline = Instant::now() + wait;
        let opts = SendOptions {
            ttl: Some(ttl),
            dont_frag: false,
        };
        match self {
            Prober::Udp { socket, port } => {
                let target = SocketAddrV4::new(dst, *port);
                *port = port.wrapping_add(1);
                socket.send_to(target, &[0x40; PROBE_PACKET_LEN - 28], opts)?;
                Ok(udp_answer(socket, target, deadline).await)
            }
            Prober::Icmp { socket, seq } => {
                *seq = seq.wrapping_add(1);
                let sent = *seq;
                socket.send(dst, sent, &[0x40; PROBE_PACKET_LEN - 28], opts)?;
                Ok(icmp_answer(socket, dst, sent, deadline).await)
            }
            Prober::Tcp(prober) => prober.probe(ttl, deadline).await,
        }
    }
}

/// The ICMP error quoting the UDP probe to `target`, if one comes in time.
async fn udp_answer(
    socket: &UdpSocket<Host>,
    target: SocketAddrV4,
    deadline: Instant,
) -> Option<(Ipv4Addr, Answer)> {
    loop {
        let event = tokio::select! {
            e = socket.next_event() => e,
            _ = tokio::time::sleep_until(deadline) => return None,
        };
        if let UdpEvent::Error {
            from,
            original_dst,
            error,
        } = event
            && original_dst == target
        {
            let answer = match error {
                IcmpError::TtlExceeded => Answer::Hop,
                IcmpError::PortUnreachable if from == *target.ip() => Answer::Reached,
                IcmpError::PortUnreachable => Answer::Hop,
                other => Answer::Unreachable(other),
            };
            return Some((from, answer));
        }
    }
}

/// The Echo Reply or ICMP error for echo request `seq`, if one comes in time.
async fn icmp_answer(
    socket: &PingSocket<Host>,
    dst: Ipv4Addr,
    seq: u16,
    deadline: Instant,
) -> Option<(Ipv4Addr, Answer)> {
    loop {
        let event = tokio::select! {
            e = socket.next_event() => e,
            _ = tokio::time::sleep_until(deadline) => return None,
        };
        match event {
            PingEvent::Reply { from, seq: s, .. } if s == seq => {
                let answer = if from == dst {
                    Answer::Reached
                } else {
                    Answer::Hop
                };
                return Some((from, answer));
            }
            PingEvent::Error {
                from,
                seq: s,
                error,
            } if s == seq => {
                let answer = match error {
                    IcmpError::TtlExceeded => Answer::Hop,
                    other => Answer::Unreachable(other),
                };
                return Some((from, answer));
            }
            _ => {}
        }
    }
}

/// Linux traceroute's annotation of an ICMP error.
fn annotation(error: IcmpError) -> String {
    match error {
        IcmpError::NetUnreachable => " !N".into(),
        IcmpError::HostUnreachable => " !H".into(),
        IcmpError::ProtocolUnreachable => " !P".into(),
        IcmpError::FragmentationNeeded { mtu } => format!(" !F-{mtu}"),
        _ => " !X".into(),
    }
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
    let dst = match names::resolve(&handle, &args.destination).await {
        Ok(dst) => dst,
        Err(e) => {
            out.error(format!("{}: {e}", args.destination)).await?;
            out.error(format!(
                "Cannot handle \"host\" cmdline arg `{}' on position 1 (argc 1)",
                args.destination
            ))
            .await?;
            return Ok(2);
        }
    };
    let mut prober = match open_prober(&handle, &args, dst).await {
        Ok(p) => p,
        Err(e) => {
            out.error(format!("traceroute: socket: {e}")).await?;
            return Ok(2);
        }
    };
    out.line(format!(
        "traceroute to {} ({dst}), {} hops max, {PROBE_PACKET_LEN} byte packets",
        args.destination, args.max_hops
    ))
    .await?;
    for ttl in args.first_ttl..=args.max_hops {
        let mut line = format!("{ttl:>2} ");
        let mut last_from: Option<Ipv4Addr> = None;
        let mut reached = false;
        let mut unreachable = 0;
        for _ in 0..args.queries {
            let started = Instant::now();
            let answer = match prober.probe(dst, ttl, args.wait).await {
                Ok(answer) => answer,
                Err(e) => {
                    out.line(line).await?;
                    out.error(format!("traceroute: send: {e}")).await?;
                    return Ok(1);
                }
            };
            let Some((from, answer)) = answer else {
                line.push_str(" *");
                continue;
            };
            if last_from != Some(from) {
                if args.numeric {
                    line.push_str(&format!(" {from}"));
                } else {
                    line.push_str(&format!(" {from} ({from})"));
                }
                last_from = Some(from);
            }
            line.push_str(&format!("  {} ms", millis(started.elapsed())));
            match answer {
                Answer::Hop => {}
                Answer::Reached => reached = true,
                Answer::Unreachable(error) => {
                    line.push_str(&annotation(error));
                    unreachable += 1;
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

/// The socket (or, for TCP, the capture) the chosen method probes with.
async fn open_prober(
    handle: &DeviceHandle<Host>,
    args: &Args,
    dst: Ipv4Addr,
) -> Result<Prober, String> {
    if args.icmp {
        let socket = PingSocket::open(handle).map_err(|e| e.to_string())?;
        return Ok(Prober::Icmp { socket, seq: 0 });
    }
    if args.tcp {
        let port = args.port.unwrap_or(TCP_DEFAULT_PORT);
        let prober = TcpProber::open(handle, SocketAddrV4::new(dst, port))?;
        return Ok(Prober::Tcp(Box::new(prober)));
    }
    let socket = UdpSocket::bind(handle, 0).map_err(|e| e.to_string())?;
    Ok(Prober::Udp {
        socket,
        port: args.port.unwrap_or(UDP_BASE_PORT),
    })
}
