//! `vnet exec DEVICE -- APP ARGS…`: run an application on a device and
//! stream its output; the exit code is the application's.
//!
//! Ctrl-C (SIGINT) does not kill the CLI: the first one is passed on to the
//! application (`POST /exec/{id}/interrupt`), which ends the way its Linux
//! namesake ends on SIGINT (ping prints its statistics) while the CLI keeps
//! printing what it says until its exit event; a second Ctrl-C leaves at
//! once with 130 (dropping the stream stops the application).

use crate::client;
use crate::state::{DeviceState, StateSource};
use anyhow::Context;
use futures_util::StreamExt;
use std::io::Write;
use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};
use vnet_runtime::api::{ExecEvent, ExecRequest};

/// Exit code after a second Ctrl-C: 128 + SIGINT, as a shell reports it.
const FORCED_EXIT: u8 = 130;
/// Exit code when our stdout is closed (`| head`): 128 + SIGPIPE.
const BROKEN_PIPE_EXIT: u8 = 141;

/// Where the interrupt of this run stands.
#[derive(Default)]
struct Interrupt {
    /// The run's id, from its `started` event.
    id: Option<u64>,
    /// Ctrl-C pressed before the id was known: send it once it is.
    pending: bool,
    /// An interrupt went to the device already.
    sent: bool,
}

impl Interrupt {
    /// Sends the interrupt if it is wanted, the id known and none sent yet.
    async fn deliver(&mut self, device: &DeviceState) {
        let (Some(id), true, false) = (self.id, self.pending, self.sent) else {
            return;
        };
        self.sent = true;
        let path = format!("/exec/{id}/interrupt");
        let sent = client::request(device, client::AdminRequest::post(&path, None)).await;
        if let Err(e) = async { sent?.check().await }.await {
            let _ = writeln!(std::io::stderr(), "vnet exec: interrupt: {e:#}");
        }
    }
}

/// Runs `argv` on `device`.
pub async fn run(
    source: &StateSource,
    device: &str,
    argv: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let state = source.require()?;
    let d = state.device(device)?;
    let mut sigint = signal(SignalKind::interrupt()).context("installing the Ctrl-C handler")?;
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
    let mut interrupt = Interrupt::default();
    let mut progress = super::progress::Bar::for_stdout();
    loop {
        let chunk = tokio::select! {
            chunk = body.next() => chunk,
            _ = sigint.recv() => {
                if interrupt.pending {
                    progress.finish();
                    return Ok(ExitCode::from(FORCED_EXIT));
                }
                interrupt.pending = true;
                interrupt.deliver(d).await;
                continue;
            }
        };
        let Some(chunk) = chunk else { break };
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
                ExecEvent::Started { id } => {
                    interrupt.id = Some(id);
                    interrupt.deliver(d).await;
                }
                ExecEvent::Out(text) => {
                    if print_out(&progress, &text).is_err() {
                        // Nobody reads any more (`| head`): dropping the
                        // stream stops the application.
                        return Ok(ExitCode::from(BROKEN_PIPE_EXIT));
                    }
                }
                ExecEvent::Err(text) => progress.suspend(|| {
                    let _ = writeln!(std::io::stderr().lock(), "{text}");
                }),
                ExecEvent::Progress { done, total } => progress.update(done, total),
                ExecEvent::File { name, data } => {
                    if let Err(e) = super::exec_files::write(target.as_ref(), &name, &data) {
                        let _ = writeln!(std::io::stderr().lock(), "vnet exec: {e:#}");
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

/// Prints one line of the application's standard output.
fn print_out(progress: &super::progress::Bar, text: &str) -> std::io::Result<()> {
    progress.suspend(|| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}")?;
        out.flush()
    })
}
