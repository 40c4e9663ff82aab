//! `vnet exec DEVICE -- APP ARGS…`: run an application on a device and
//! stream its output; the exit code is the application's.

use crate::client;
use crate::state::StateSource;
use anyhow::Context;
use futures_util::StreamExt;
use std::io::Write;
use std::process::ExitCode;
use vnet_runtime::api::{ExecEvent, ExecRequest};

/// Runs `argv` on `device`.
pub async fn run(
    source: &StateSource,
    device: &str,
    argv: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let state = source.require()?;
    let d = state.device(device)?;
    let target = super::exec_files::target(&argv);
    let mut failed_files = false;
    let request =
        client::AdminRequest::post("/exec", Some(serde_json::to_value(ExecRequest { argv })?));
    let reply = client::request(d, request.streaming())
        .await?
        .check()
        .await?;
    let mut body = reply.body;
    let mut pending: Vec<u8> = Vec::new();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut progress = super::progress::Bar::for_stdout();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.context("the application's output broke off")?;
        pending.extend_from_slice(&chunk);
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            let event: ExecEvent = serde_json::from_slice(&line).with_context(|| {
                format!(
                    "{device}: malformed exec event {:?}",
                    String::from_utf8_lossy(&line)
                )
            })?;
            match event {
                ExecEvent::Out(text) => progress.suspend(|| {
                    let mut out = stdout.lock();
                    let _ = writeln!(out, "{text}");
                    let _ = out.flush();
                }),
                ExecEvent::Err(text) => progress.suspend(|| {
                    let _ = writeln!(stderr.lock(), "{text}");
                }),
                ExecEvent::Progress { done, total } => progress.update(done, total),
                ExecEvent::File { name, data } => {
                    if let Err(e) = super::exec_files::write(target.as_ref(), &name, &data) {
                        let _ = writeln!(stderr.lock(), "vnet exec: {e:#}");
                        failed_files = true;
                    }
                }
                ExecEvent::Exit(code) => {
                    progress.finish();
                    if failed_files && code == 0 {
                        return Ok(ExitCode::FAILURE);
                    }
                    return Ok(ExitCode::from(code.clamp(0, 255) as u8));
                }
            }
        }
    }
    anyhow::bail!("{device}: the application's output ended without an exit code (device stopped?)")
}
