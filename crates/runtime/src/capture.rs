//! Captures: pcapng streams for `vnet capture` and per-interface files for a
//! topology's capture directory.

use bytes::Bytes;
use futures_util::Stream;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vnet_cable::CableEnd;
use vnet_cable::capture::{CapturedFrame, DEFAULT_CAPTURE_QUEUE};
use vnet_cable::pcapng;

fn header(label: &str) -> Vec<u8> {
    let mut out = pcapng::section_header(&format!("vnet capture of {label}"));
    out.extend(pcapng::interface_description(label));
    out
}

fn packet(frame: &CapturedFrame) -> Vec<u8> {
    pcapng::enhanced_packet(frame.timestamp_micros, frame.direction, &frame.data)
}

/// A pcapng byte stream of `end`'s traffic: header first, then one block per
/// frame, until `count` frames or `limit` time (if given) or the client leaves.
pub(crate) fn pcapng_stream(
    end: &CableEnd,
    label: &str,
    count: Option<u64>,
    limit: Option<Duration>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let rx = end.capture().subscribe(DEFAULT_CAPTURE_QUEUE);
    let deadline = limit.map(|l| tokio::time::Instant::now() + l);
    let first = Some(Bytes::from(header(label)));
    futures_util::stream::unfold(
        (rx, first, count, deadline),
        |(mut rx, first, remaining, deadline)| async move {
            if let Some(h) = first {
                return Some((Ok(h), (rx, None, remaining, deadline)));
            }
            if remaining == Some(0) {
                return None;
            }
            let frame = match deadline {
                Some(d) => tokio::time::timeout_at(d, rx.recv()).await.ok().flatten()?,
                None => rx.recv().await?,
            };
            let remaining = remaining.map(|r| r - 1);
            Some((
                Ok(Bytes::from(packet(&frame))),
                (rx, None, remaining, deadline),
            ))
        },
    )
}

/// Starts one writer per interface: `<dir>/<device>-<iface>.pcapng`.
pub(crate) async fn start_capture_dir(
    device: &str,
    ports: &[Arc<CableEnd>],
    dir: &Path,
    shutdown: CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| anyhow::anyhow!("creating capture directory {}: {e}", dir.display()))?;
    let mut tasks = Vec::new();
    for end in ports {
        let label = format!("{device}:{}", end.name());
        let path = dir.join(format!("{device}-{}.pcapng", end.name()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| anyhow::anyhow!("creating capture file {}: {e}", path.display()))?;
        let mut rx = end.capture().subscribe(DEFAULT_CAPTURE_QUEUE);
        let shutdown = shutdown.clone();
        tasks.push(vnet_telemetry::spawn(async move {
            let mut out = tokio::io::BufWriter::new(file);
            let mut ok = out.write_all(&header(&label)).await.is_ok();
            while ok {
                let frame = tokio::select! {
                    f = rx.recv() => f,
                    _ = shutdown.cancelled() => None,
                };
                let Some(frame) = frame else { break };
                ok = out.write_all(&packet(&frame)).await.is_ok();
                // Flush whenever the queue is drained so the file is readable live.
                if ok && rx.is_empty() {
                    ok = out.flush().await.is_ok();
                }
            }
            if !ok {
                tracing::warn!(file = %path.display(), "capture file write failed; capture stopped");
            }
            let _ = out.flush().await;
        }));
    }
    Ok(tasks)
}
