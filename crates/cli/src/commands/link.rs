//! `vnet link down|up|impair DEVICE:IFACE`: the state of one cable end.

use crate::client;
use crate::state::{StateSource, split_port};
use clap::Subcommand;
use std::process::ExitCode;
use vnet_cable::{Direction, Impairments};
use vnet_runtime::api::{InterfaceStatus, RestoreAfter};

/// What to do to a cable end.
#[derive(Subcommand, Debug)]
pub enum LinkCommand {
    /// Cut the cable at this end (frames are dropped and counted).
    Down {
        /// DEVICE:INTERFACE, e.g. r2:eth1.
        port: String,
        /// Which direction of that end.
        #[arg(long, default_value = "both")]
        direction: Direction,
        /// Only for this long (`5s`, `500ms`): the device restores the
        /// previous state itself, unless the link is changed again first.
        #[arg(long = "for", value_name = "DURATION", value_parser = duration_ms)]
        for_ms: Option<u64>,
    },
    /// Restore the cable at this end.
    Up {
        /// DEVICE:INTERFACE.
        port: String,
        /// Which direction of that end.
        #[arg(long, default_value = "both")]
        direction: Direction,
        /// Only for this long, then the previous state is restored.
        #[arg(long = "for", value_name = "DURATION", value_parser = duration_ms)]
        for_ms: Option<u64>,
    },
    /// Impair what this end sends, like netem on an interface's egress (to
    /// impair the other direction, impair the peer's end). Options replace
    /// the current settings; `--clear` removes them all.
    Impair {
        /// DEVICE:INTERFACE.
        port: String,
        /// Frames lost, percent (`5` or `5%`).
        #[arg(long, value_parser = percent)]
        loss: Option<f64>,
        /// Added delay (`50ms`, `1s`, plain number = ms).
        #[arg(long, value_parser = millis)]
        delay: Option<f64>,
        /// ± uniform jitter around the delay (reorders frames, as netem does).
        #[arg(long, value_parser = millis)]
        jitter: Option<f64>,
        /// Frames sent twice, percent.
        #[arg(long, value_parser = percent)]
        duplicate: Option<f64>,
        /// Frames sent at once, skipping the delay, percent.
        #[arg(long, value_parser = percent)]
        reorder: Option<f64>,
        /// Frames with one bit flipped (dropped as bad FCS by the receiver), percent.
        #[arg(long, value_parser = percent)]
        corrupt: Option<f64>,
        /// Line rate (`10mbit`, `512kbit`, plain number = kbit/s).
        #[arg(long, value_parser = rate)]
        rate: Option<u64>,
        /// Most frames waiting in the delay/rate queue (default 1000).
        #[arg(long)]
        limit: Option<usize>,
        /// Seed of the random decisions: the same seed drops the same frames
        /// of the same traffic (a replayable loss pattern).
        #[arg(long)]
        seed: Option<u64>,
        /// Remove every impairment.
        #[arg(long, conflicts_with_all = ["loss", "delay", "jitter", "duplicate", "reorder", "corrupt", "rate", "limit", "seed"])]
        clear: bool,
        /// Only for this long (`10s`): the device then restores the previous
        /// impairments, unless they are changed again first.
        #[arg(long = "for", value_name = "DURATION", value_parser = duration_ms)]
        for_ms: Option<u64>,
    },
}

fn percent(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{text:?} is not a percentage (e.g. 5 or 5%)"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0..=100"))
    }
}

fn millis(text: &str) -> Result<f64, String> {
    let (num, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    num.parse::<f64>()
        .map(|v| v * scale)
        .map_err(|_| format!("{text:?} is not a duration (e.g. 50ms, 1s)"))
}

/// A duration of at least 1ms (`5s`, `500ms`, plain number = ms), in ms.
fn duration_ms(text: &str) -> Result<u64, String> {
    let ms = millis(text)?;
    if ms.is_finite() && ms >= 1.0 && ms <= RestoreAfter::MAX_MS as f64 {
        Ok(ms.round() as u64)
    } else {
        Err(format!(
            "{text:?} should be between 1ms and 7 days (e.g. 5s, 500ms)"
        ))
    }
}

/// `5s`, `1500ms`.
fn show_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn rate(text: &str) -> Result<u64, String> {
    let lower = text.to_ascii_lowercase();
    let (num, scale) = if let Some(n) = lower.strip_suffix("gbit") {
        (n.to_string(), 1_000_000.0)
    } else if let Some(n) = lower.strip_suffix("mbit") {
        (n.to_string(), 1000.0)
    } else if let Some(n) = lower.strip_suffix("kbit") {
        (n.to_string(), 1.0)
    } else {
        (lower.clone(), 1.0)
    };
    num.parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0)
        .map(|v| (v * scale).round() as u64)
        .ok_or_else(|| format!("{text:?} is not a rate (e.g. 10mbit, 512kbit)"))
}

/// Runs a link command.
pub async fn run(source: &StateSource, action: LinkCommand) -> anyhow::Result<ExitCode> {
    let port = match &action {
        LinkCommand::Down { port, .. }
        | LinkCommand::Up { port, .. }
        | LinkCommand::Impair { port, .. } => port,
    };
    // Check what the user typed before looking for a lab.
    split_port(port)?;
    let state = source.require()?;
    let (port, path, body, for_ms) = match &action {
        LinkCommand::Down {
            port,
            direction,
            for_ms,
        } => (port, format!("down?direction={direction}"), None, *for_ms),
        LinkCommand::Up {
            port,
            direction,
            for_ms,
        } => (port, format!("up?direction={direction}"), None, *for_ms),
        LinkCommand::Impair {
            port,
            loss,
            delay,
            jitter,
            duplicate,
            reorder,
            corrupt,
            rate,
            limit,
            seed,
            clear,
            for_ms,
        } => {
            let config = if *clear {
                Impairments::default()
            } else {
                Impairments {
                    loss_percent: loss.unwrap_or(0.0),
                    delay_ms: delay.unwrap_or(0.0),
                    jitter_ms: jitter.unwrap_or(0.0),
                    duplicate_percent: duplicate.unwrap_or(0.0),
                    reorder_percent: reorder.unwrap_or(0.0),
                    corrupt_percent: corrupt.unwrap_or(0.0),
                    rate_kbit: rate.unwrap_or(0),
                    queue_limit: limit.unwrap_or(0),
                    seed: *seed,
                }
            };
            (port, "impair".to_string(), Some(config), *for_ms)
        }
    };
    let (device, iface) = split_port(port)?;
    let d = state.device(device)?;
    let mut path = format!("/links/{iface}/{path}");
    if let Some(ms) = for_ms {
        let sep = if path.contains('?') { '&' } else { '?' };
        path = format!("{path}{sep}for_ms={ms}");
    }
    let body = body.as_ref().map(serde_json::to_value).transpose()?;
    let status: InterfaceStatus = client::request(d, client::AdminRequest::post(&path, body))
        .await?
        .json()
        .await?;
    let word = |b: bool| if b { "up" } else { "down" };
    let until = for_ms
        .map(|ms| format!(" (for {}, then restored)", show_ms(ms)))
        .unwrap_or_default();
    println!(
        "{device}:{iface}: in {} / out {}{}{until}",
        word(status.link.rx_up),
        word(status.link.tx_up),
        describe(&status.impairments)
    );
    Ok(ExitCode::SUCCESS)
}

/// ", impaired: loss 5%, delay 50ms" or "".
pub fn describe(i: &Impairments) -> String {
    if !i.is_active() {
        return String::new();
    }
    let mut parts = Vec::new();
    if i.loss_percent > 0.0 {
        parts.push(format!("loss {}%", i.loss_percent));
    }
    if i.delay_ms > 0.0 {
        parts.push(format!("delay {}ms", i.delay_ms));
    }
    if i.jitter_ms > 0.0 {
        parts.push(format!("jitter {}ms", i.jitter_ms));
    }
    if i.duplicate_percent > 0.0 {
        parts.push(format!("duplicate {}%", i.duplicate_percent));
    }
    if i.reorder_percent > 0.0 {
        parts.push(format!("reorder {}%", i.reorder_percent));
    }
    if i.corrupt_percent > 0.0 {
        parts.push(format!("corrupt {}%", i.corrupt_percent));
    }
    if i.rate_kbit > 0 {
        parts.push(format!("rate {}kbit", i.rate_kbit));
    }
    if let Some(seed) = i.seed {
        parts.push(format!("seed {seed}"));
    }
    format!(", impaired: {}", parts.join(", "))
}
