//! The output side of `vnet exec`: an application writes lines, the admin
//! API streams them to the client as NDJSON events.

use crate::api::ExecEvent;
use tokio::sync::mpsc;

/// The client went away; the application should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the exec client disconnected")]
pub struct Disconnected;

/// Where an exec'd application writes its output.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    tx: mpsc::Sender<ExecEvent>,
}

impl ExecOutput {
    /// An output and the receiver the admin API streams from.
    pub fn channel(capacity: usize) -> (ExecOutput, mpsc::Receiver<ExecEvent>) {
        let (tx, rx) = mpsc::channel(capacity);
        (ExecOutput { tx }, rx)
    }

    /// Writes one line of standard output.
    pub async fn line(&self, text: impl Into<String>) -> Result<(), Disconnected> {
        self.tx
            .send(ExecEvent::Out(text.into()))
            .await
            .map_err(|_| Disconnected)
    }

    /// Writes one line of standard error.
    pub async fn error(&self, text: impl Into<String>) -> Result<(), Disconnected> {
        self.tx
            .send(ExecEvent::Err(text.into()))
            .await
            .map_err(|_| Disconnected)
    }

    /// Sends a file back to the client (see [`ExecEvent::File`]).
    pub async fn file(&self, name: impl Into<String>, bytes: &[u8]) -> Result<(), Disconnected> {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.tx
            .send(ExecEvent::File {
                name: name.into(),
                data,
            })
            .await
            .map_err(|_| Disconnected)
    }

    /// Reports progress ([`ExecEvent::Progress`]); never waits: when the
    /// stream is full the report is skipped (the next one says more).
    pub fn progress(&self, done: u64, total: Option<u64>) {
        let _ = self.tx.try_send(ExecEvent::Progress { done, total });
    }

    /// Resolves when the client has gone away.
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    pub(crate) async fn exit(&self, code: i32) {
        let _ = self.tx.send(ExecEvent::Exit(code)).await;
    }
}
