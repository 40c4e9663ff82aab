//! `vnet capture DEVICE:IFACE -w FILE`: record an interface as pcapng.

use crate::client;
use crate::state::{StateSource, split_port};
use anyhow::Context;
use futures_util::StreamExt;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Streams the capture of `port` into `file` until `count` frames,
/// `seconds`, or Ctrl-C.
pub async fn run(
    source: &StateSource,
    port: &str,
    file: &Path,
    count: Option<u64>,
    seconds: Option<f64>,
) -> anyhow::Result<ExitCode> {
    let (device, iface) = split_port(port)?;
    let state = source.require()?;
    let d = state.device(device)?;
    let mut query = Vec::new();
    if let Some(c) = count {
        query.push(format!("count={c}"));
    }
    if let Some(s) = seconds {
        query.push(format!("seconds={s}"));
    }
    let path = format!("/capture/{iface}?{}", query.join("&"));
    let reply = client::request(d, client::AdminRequest::get(&path).streaming())
        .await?
        .check()
        .await?;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(file).with_context(|| format!("creating {}", file.display()))?,
    );
    eprintln!("capturing {port} to {} (Ctrl-C to stop)", file.display());
    let mut body = reply.body;
    let mut blocks: u64 = 0;
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            chunk = body.next() => match chunk {
                Some(Ok(bytes)) => {
                    out.write_all(&bytes).with_context(|| format!("writing {}", file.display()))?;
                    out.flush()?;
                    blocks += 1;
                }
                Some(Err(e)) => return Err(e.context("capture stream broke")),
                None => break,
            },
            _ = &mut interrupted => break,
        }
    }
    out.flush()?;
    // The first block carries the file header; the rest are one frame each.
    eprintln!(
        "{} frames written to {}",
        blocks.saturating_sub(1),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}
