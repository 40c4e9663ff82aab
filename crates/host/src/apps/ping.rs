//! `ping`: ICMP echo (RFC 792), printed like iputils ping.

use super::{millis, names, parse_args, seconds};
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
    #[arg(short = 'c', value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Number of data bytes to send.
    #[arg(short = 's', default_value_t = 56, value_parser = clap::value_parser!(u16).range(0..=65507))]
    size: u16,
    /// IP time to live.
    #[arg(short = 't', value_parser = clap::value_parser!(u8).range(1..))]
    ttl: Option<u8>,
    /// Seconds between packets (default 1; at least 0.002: the lab's
    /// owner is root, and a flood has its own pace, see -f).
    #[arg(short = 'i')]
    interval: Option<f64>,
    /// Seconds to wait for a reply after the last packet.
    #[arg(short = 'W', default_value = "2", value_parser = seconds)]
    timeout: Duration,
    /// Stop after this many seconds, whatever was sent or received.
    #[arg(short = 'w', value_parser = seconds)]
    deadline: Option<Duration>,
    /// Path MTU discovery: `do` sets Don't Fragment, `dont`/`want` leave it clear.
    #[arg(short = 'M', default_value = "dont", value_parser = ["do", "dont", "want"])]
    pmtudisc: String,
    /// Only print the summary.
    #[arg(short = 'q')]
    quiet: bool,
    /// Flood: the next request as soon as the last is answered, at least
    /// every 10 ms (bounded: 10000 packets, 60 s); a dot per request
    /// not answered.
    #[arg(short = 'f')]
    flood: bool,
    /// Numeric output only (vnet's ping never looks addresses up anyway).
    #[arg(short = 'n')]
    numeric: bool,
    /// Destination: an address or a host name.
    destination: String,
}

/// The smallest `-i`, seconds (iputils lets root go lower still).
const MIN_INTERVAL: f64 = 0.002;
/// A flood sends at least this often while replies are outstanding
/// (iputils: "as fast as they come back or one hundred times per second").
const FLOOD_GAP: Duration = Duration::from_millis(10);
/// A flood sends at most this many requests…
const FLOOD_MAX_PACKETS: u64 = 10_000;
/// …and lasts at most this long.
const FLOOD_MAX_TIME: Duration = Duration::from_secs(60);

/// When the next request goes.
#[derive(Debug, Clone, Copy)]
enum Pace {
    /// Every interval.
    Every(Duration),
    /// When nothing is outstanding, or [`FLOOD_GAP`] after the last.
    Flood,
}

#[derive(Default)]
struct Stats {
    transmitted: u64,
    received: u64,
    errors: u64,
    /// RTT figures as running sums (ms), as iputils keeps them: constant
    /// memory however long ping runs.
    rtt: RttSums,
    /// iputils' smoothed RTT (×8, ms) for a flood's `ipg/ewma`.
    ewma8: f64,
}

#[derive(Default)]
struct RttSums {
    min: f64,
    max: f64,
    sum: f64,
    sum_sq: f64,
}

impl Stats {
    fn record_rtt(&mut self, ms: f64) {
        let r = &mut self.rtt;
        r.min = if self.received == 0 {
            ms
        } else {
            r.min.min(ms)
        };
        r.max = r.max.max(ms);
        r.sum += ms;
        r.sum_sq += ms * ms;
        self.received += 1;
    }

    /// min/avg/max/mdev in ms, once a reply arrived.
    fn rtt_figures(&self) -> Option<(f64, f64, f64, f64)> {
        if self.received == 0 {
            return None;
        }
        let n = self.received as f64;
        let avg = self.rtt.sum / n;
        let mdev = (self.rtt.sum_sq / n - avg * avg).max(0.0).sqrt();
        Some((self.rtt.min, avg, self.rtt.max, mdev))
    }

    fn outstanding(&self) -> u64 {
        self.transmitted
            .saturating_sub(self.received)
            .saturating_sub(self.errors)
    }
}

/// What `ping` was asked to do, checked.
struct Plan {
    dst: Ipv4Addr,
    host: String,
    count: Option<u64>,
    pace: Pace,
    deadline: Option<Duration>,
    timeout: Duration,
    quiet: bool,
    flood: bool,
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
    let plan = match plan(&handle, &args).await {
        Ok(p) => p,
        Err(message) => {
            out.error(message).await?;
            return Ok(2);
        }
    };
    let socket: PingSocket<Host> = match PingSocket::open(&handle) {
        Ok(s) => s,
        Err(e) => {
            out.error(format!("ping: socket: {e}")).await?;
            return Ok(2);
        }
    };
    let size = usize::from(args.size);
    out.catch_interrupt();
    out.line(format!(
        "PING {} ({}) {size}({}) bytes of data.",
        plan.host,
        plan.dst,
        size + 28
    ))
    .await?;
    let payload: Vec<u8> = (0..size).map(|i| (i % 256) as u8).collect();
    let opts = SendOptions {
        ttl: args.ttl,
        dont_frag: args.pmtudisc == "do",
    };
    let start = Instant::now();
    let stats = match exchange(&socket, &plan, &payload, opts, out).await? {
        Ok(stats) => stats,
        Err(code) => return Ok(code),
    };
    summary(&plan, &stats, start.elapsed(), out).await?;
    let short = plan.deadline.is_some() && plan.count.is_some_and(|c| stats.received < c);
    Ok(if stats.received == 0 || short { 1 } else { 0 })
}

/// Checks the arguments and resolves the destination; the error is the
/// line iputils prints (exit 2).
async fn plan(handle: &DeviceHandle<Host>, args: &Args) -> Result<Plan, String> {
    let pace = match (args.interval, args.flood) {
        (Some(i), _) if !(MIN_INTERVAL..=3600.0).contains(&i) => {
            return Err(format!(
                "ping: cannot flood; minimal interval allowed is {}ms",
                MIN_INTERVAL * 1000.0
            ));
        }
        (Some(i), _) => Pace::Every(Duration::from_secs_f64(i)),
        (None, true) => Pace::Flood,
        (None, false) => Pace::Every(Duration::from_secs(1)),
    };
    let (count, deadline) = if args.flood {
        let count = args
            .count
            .unwrap_or(FLOOD_MAX_PACKETS)
            .min(FLOOD_MAX_PACKETS);
        let deadline = args.deadline.unwrap_or(FLOOD_MAX_TIME).min(FLOOD_MAX_TIME);
        (Some(count), Some(deadline))
    } else {
        (args.count, args.deadline)
    };
    let dst = names::resolve(handle, &args.destination)
        .await
        .map_err(|e| format!("ping: {}: {e}", args.destination))?;
    Ok(Plan {
        dst,
        host: args.destination.clone(),
        count,
        pace,
        deadline,
        timeout: args.timeout,
        quiet: args.quiet || args.flood,
        flood: args.flood,
    })
}

/// Sends the requests and collects the replies until the count is done,
/// the deadline passes or an interrupt arrives. `Err(code)`: a send
/// failed (message printed).
async fn exchange(
    socket: &PingSocket<Host>,
    plan: &Plan,
    payload: &[u8],
    opts: SendOptions,
    out: &ExecOutput,
) -> Result<Result<Stats, i32>, Disconnected> {
    let start = Instant::now();
    let end = plan.deadline.map(|d| start + d);
    let mut stats = Stats::default();
    let mut sent_at: HashMap<u16, Instant> = HashMap::new();
    let mut next_seq: u64 = 1;
    let mut next_send = start;
    let mut last_send = start;
    loop {
        let now = Instant::now();
        if out.is_interrupted() || end.is_some_and(|e| now >= e) {
            break;
        }
        let more_to_send = plan.count.is_none_or(|c| next_seq <= c);
        let due = match plan.pace {
            Pace::Every(_) => now >= next_send,
            Pace::Flood => stats.outstanding() == 0 || now >= last_send + FLOOD_GAP,
        };
        if more_to_send && due {
            let seq = next_seq as u16;
            // Stamped before sending, as iputils does: a thread descheduled
            // after the send must not make the round trip look shorter.
            let stamp = Instant::now();
            match socket.send(plan.dst, seq, payload, opts) {
                Ok(()) => {}
                Err(StackError::NoRoute { .. }) => {
                    out.error("ping: connect: Network is unreachable").await?;
                    return Ok(Err(2));
                }
                Err(e) => {
                    out.error(format!("ping: sendmsg: {e}")).await?;
                    return Ok(Err(2));
                }
            }
            stats.transmitted += 1;
            last_send = stamp;
            sent_at.insert(seq, stamp);
            next_seq += 1;
            if let Pace::Every(interval) = plan.pace {
                next_send += interval;
            }
            continue;
        }
        if !more_to_send && (stats.outstanding() == 0 || now >= last_send + plan.timeout) {
            break;
        }
        let mut wake = match (more_to_send, plan.pace) {
            (false, _) => last_send + plan.timeout,
            (true, Pace::Every(_)) => next_send,
            (true, Pace::Flood) => last_send + FLOOD_GAP,
        };
        if let Some(e) = end {
            wake = wake.min(e);
        }
        tokio::select! {
            event = socket.next_event() => handle_event(event, &mut sent_at, &mut stats, plan.quiet, out).await?,
            _ = tokio::time::sleep_until(wake) => {}
            _ = out.interrupted() => {}
        }
    }
    Ok(Ok(stats))
}

/// The lines iputils prints at the end (also after Ctrl-C).
async fn summary(
    plan: &Plan,
    stats: &Stats,
    elapsed: Duration,
    out: &ExecOutput,
) -> Result<(), Disconnected> {
    // A flood's dots: one per request still unanswered (each reply erased
    // its dot with a backspace on Linux; the stream carries whole lines).
    let dots = if plan.flood {
        ".".repeat(stats.outstanding().min(FLOOD_MAX_PACKETS) as usize)
    } else {
        String::new()
    };
    out.line(dots).await?;
    out.line(format!("--- {} ping statistics ---", plan.host))
        .await?;
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
        "{} packets transmitted, {} received{errors}, {}% packet loss, time {}ms",
        stats.transmitted,
        stats.received,
        format_g(loss),
        elapsed.as_millis()
    ))
    .await?;
    if let Some((min, avg, max, mdev)) = stats.rtt_figures() {
        let mut line = format!("rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms");
        if plan.flood {
            let gaps = stats.transmitted.saturating_sub(1).max(1) as f64;
            let ipg = elapsed.as_secs_f64() * 1000.0 / gaps;
            line.push_str(&format!(", ipg/ewma {ipg:.3}/{:.3} ms", stats.ewma8 / 8.0));
        }
        out.line(line).await?;
    }
    Ok(())
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
            let ms = rtt.as_secs_f64() * 1000.0;
            stats.record_rtt(ms);
            // iputils: rtt = rtt ? rtt + triptime - rtt/8 : triptime*8.
            stats.ewma8 = if stats.ewma8 == 0.0 {
                ms * 8.0
            } else {
                stats.ewma8 + ms - stats.ewma8 / 8.0
            };
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
    use super::{Stats, format_g};

    #[test]
    fn rtt_figures_come_from_running_sums() {
        let mut stats = Stats::default();
        assert_eq!(stats.rtt_figures(), None);
        for ms in [1.0, 2.0, 3.0] {
            stats.transmitted += 1;
            stats.record_rtt(ms);
        }
        let (min, avg, max, mdev) = stats.rtt_figures().expect("figures");
        assert_eq!((min, avg, max), (1.0, 2.0, 3.0));
        assert!((mdev - (2.0f64 / 3.0).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn loss_is_printed_like_printf_g() {
        assert_eq!(format_g(0.0), "0");
        assert_eq!(format_g(100.0), "100");
        assert_eq!(format_g(100.0 / 3.0), "33.3333");
        assert_eq!(format_g(50.0), "50");
    }
}
