//! `ping`: ICMP echo (RFC 792), printed like iputils ping.

use super::{millis, parse_args, seconds};
use crate::Host;
use clap::Parser;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::time::Instant;
use vnet_runtime::net::PingSocket;
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_stack::{PingEvent, SendOptions, StackError};

#[derive(Parser, Debug)]
#[command(name = "ping", about = "Send ICMP ECHO_REQUEST to a host")]
struct Args {
    /// Stop after sending COUNT packets (default: until interrupted).
    #[arg(short = 'c')]
    count: Option<u64>,
    /// Number of data bytes to send.
    #[arg(short = 's', default_value_t = 56, value_parser = clap::value_parser!(u16).range(0..=65507))]
    size: u16,
    /// IP time to live.
    #[arg(short = 't', value_parser = clap::value_parser!(u8).range(1..))]
    ttl: Option<u8>,
    /// Seconds between packets.
    #[arg(short = 'i', default_value = "1", value_parser = seconds)]
    interval: Duration,
    /// Seconds to wait for a reply after the last packet.
    #[arg(short = 'W', default_value = "2", value_parser = seconds)]
    timeout: Duration,
    /// Path MTU discovery: `do` sets Don't Fragment, `dont`/`want` leave it clear.
    #[arg(short = 'M', default_value = "dont", value_parser = ["do", "dont", "want"])]
    pmtudisc: String,
    /// Only print the summary.
    #[arg(short = 'q')]
    quiet: bool,
    /// Destination address.
    destination: String,
}

#[derive(Default)]
struct Stats {
    transmitted: u64,
    received: u64,
    errors: u64,
    rtts: Vec<f64>,
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
    let Ok(dst) = args.destination.parse::<Ipv4Addr>() else {
        out.error(format!(
            "ping: {}: Name or service not known",
            args.destination
        ))
        .await?;
        return Ok(2);
    };
    let socket: PingSocket<Host> = match PingSocket::open(&handle) {
        Ok(s) => s,
        Err(e) => {
            out.error(format!("ping: socket: {e}")).await?;
            return Ok(2);
        }
    };
    let size = usize::from(args.size);
    out.line(format!(
        "PING {dst} ({dst}) {size}({}) bytes of data.",
        size + 28
    ))
    .await?;
    let payload: Vec<u8> = (0..size).map(|i| (i % 256) as u8).collect();
    let opts = SendOptions {
        ttl: args.ttl,
        dont_frag: args.pmtudisc == "do",
    };

    let start = Instant::now();
    let mut stats = Stats::default();
    let mut sent_at: HashMap<u16, Instant> = HashMap::new();
    let mut next_seq: u64 = 1;
    let mut next_send = start;
    let mut last_send = start;
    loop {
        let more_to_send = args.count.is_none_or(|c| next_seq <= c);
        if more_to_send && Instant::now() >= next_send {
            let seq = next_seq as u16;
            let sent = socket.send(dst, seq, &payload, opts);
            match sent {
                Ok(()) => {}
                Err(StackError::NoRoute { .. }) => {
                    out.error("ping: connect: Network is unreachable").await?;
                    return Ok(2);
                }
                Err(e) => {
                    out.error(format!("ping: sendmsg: {e}")).await?;
                    return Ok(2);
                }
            }
            stats.transmitted += 1;
            last_send = Instant::now();
            sent_at.insert(seq, last_send);
            next_seq += 1;
            next_send += args.interval;
            continue;
        }
        let outstanding = stats.transmitted - stats.received - stats.errors;
        let more_to_send = args.count.is_none_or(|c| next_seq <= c);
        if !more_to_send && (outstanding == 0 || Instant::now() >= last_send + args.timeout) {
            break;
        }
        let wake = if more_to_send {
            next_send
        } else {
            last_send + args.timeout
        };
        tokio::select! {
            event = socket.next_event() => handle_event(event, &mut sent_at, &mut stats, args.quiet, out).await?,
            _ = tokio::time::sleep_until(wake) => {}
        }
    }

    let elapsed = last_send.duration_since(start).as_millis();
    out.line("").await?;
    out.line(format!("--- {dst} ping statistics ---")).await?;
    let loss = if stats.transmitted == 0 {
        0.0
    } else {
        (stats.transmitted - stats.received.min(stats.transmitted)) as f64 * 100.0
            / stats.transmitted as f64
    };
    let errors = if stats.errors > 0 {
        format!(", +{} errors", stats.errors)
    } else {
        String::new()
    };
    out.line(format!(
        "{} packets transmitted, {} received{errors}, {}% packet loss, time {elapsed}ms",
        stats.transmitted,
        stats.received,
        format_g(loss)
    ))
    .await?;
    if !stats.rtts.is_empty() {
        let n = stats.rtts.len() as f64;
        let min = stats.rtts.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = stats.rtts.iter().cloned().fold(0.0, f64::max);
        let avg = stats.rtts.iter().sum::<f64>() / n;
        let mdev = (stats.rtts.iter().map(|r| (r - avg).powi(2)).sum::<f64>() / n).sqrt();
        out.line(format!(
            "rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms"
        ))
        .await?;
    }
    Ok(if stats.received > 0 { 0 } else { 1 })
}

async fn handle_event(
    event: PingEvent,
    sent_at: &mut HashMap<u16, Instant>,
    stats: &mut Stats,
    quiet: bool,
    out: &ExecOutput,
) -> Result<(), Disconnected> {
    match event {
        PingEvent::Reply {
            from,
            seq,
            ttl,
            len,
        } => {
            let Some(at) = sent_at.remove(&seq) else {
                if !quiet {
                    out.line(format!(
                        "{} bytes from {from}: icmp_seq={seq} ttl={ttl} (DUP!)",
                        len + 8
                    ))
                    .await?;
                }
                return Ok(());
            };
            let rtt = at.elapsed();
            stats.received += 1;
            stats.rtts.push(rtt.as_secs_f64() * 1000.0);
            if !quiet {
                out.line(format!(
                    "{} bytes from {from}: icmp_seq={seq} ttl={ttl} time={} ms",
                    len + 8,
                    millis(rtt)
                ))
                .await?;
            }
        }
        PingEvent::Error { from, seq, error } => {
            if sent_at.remove(&seq).is_some() {
                stats.errors += 1;
            }
            if !quiet {
                out.line(format!("From {from} icmp_seq={seq} {error}"))
                    .await?;
            }
        }
    }
    Ok(())
}

/// printf's `%g` for a percentage: `0`, `100`, `33.3333`.
fn format_g(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::format_g;

    #[test]
    fn loss_is_printed_like_printf_g() {
        assert_eq!(format_g(0.0), "0");
        assert_eq!(format_g(100.0), "100");
        assert_eq!(format_g(100.0 / 3.0), "33.3333");
        assert_eq!(format_g(50.0), "50");
    }
}
