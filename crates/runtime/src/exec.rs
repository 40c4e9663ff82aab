//! The output side of `vnet exec`: an application writes lines, the admin
//! API streams them to the client as NDJSON events; and the one signal the
//! client can send back, an interrupt (Ctrl-C, `POST /exec/{id}/interrupt`).

use crate::api::ExecEvent;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The client went away; the application should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the exec client disconnected")]
pub struct Disconnected;

/// Where an exec'd application writes its output, and where it learns of
/// an interrupt.
///
/// An interrupt works like SIGINT on Linux: an application that called
/// [`ExecOutput::catch_interrupt`] (installed a handler) sees it through
/// [`ExecOutput::interrupted`] and ends its own way (ping prints its
/// statistics); any other application is stopped by the runtime and exits
/// 130 (128 + SIGINT), as a process killed by the default action.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    tx: mpsc::Sender<ExecEvent>,
    interrupt: CancellationToken,
    caught: Arc<AtomicBool>,
}

impl ExecOutput {
    /// An output and the receiver the admin API streams from.
    pub fn channel(capacity: usize) -> (ExecOutput, mpsc::Receiver<ExecEvent>) {
        let (tx, rx) = mpsc::channel(capacity);
        let output = ExecOutput {
            tx,
            interrupt: CancellationToken::new(),
            caught: Arc::new(AtomicBool::new(false)),
        };
        (output, rx)
    }

    /// Says the application handles interrupts itself (like installing a
    /// SIGINT handler); call it before the work that an interrupt ends.
    pub fn catch_interrupt(&self) {
        self.caught.store(true, Ordering::SeqCst);
    }

    /// Whether an interrupt arrived.
    pub fn is_interrupted(&self) -> bool {
        self.interrupt.is_cancelled()
    }

    /// Resolves once an interrupt arrived (at once if one already did).
    pub async fn interrupted(&self) {
        self.interrupt.cancelled().await
    }

    /// Delivers an interrupt (the admin API's `POST /exec/{id}/interrupt`).
    pub fn interrupt(&self) {
        self.interrupt.cancel();
    }

    /// Resolves when an interrupt arrived that the application does not
    /// catch: the runtime then stops it (exit 130).
    pub(crate) async fn uncaught_interrupt(&self) {
        self.interrupt.cancelled().await;
        if self.caught.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
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

    pub(crate) async fn started(&self, id: u64) {
        let _ = self.tx.send(ExecEvent::Started { id }).await;
    }

    pub(crate) async fn exit(&self, code: i32) {
        let _ = self.tx.send(ExecEvent::Exit(code)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::ExecOutput;
    use std::time::Duration;

    #[tokio::test]
    async fn an_uncaught_interrupt_stops_and_a_caught_one_does_not() {
        let (out, _rx) = ExecOutput::channel(4);
        out.interrupt();
        assert!(out.is_interrupted());
        // Not caught: resolves at once.
        tokio::time::timeout(Duration::from_secs(1), out.uncaught_interrupt())
            .await
            .expect("uncaught interrupt resolves");
        let (out, _rx) = ExecOutput::channel(4);
        out.catch_interrupt();
        out.interrupt();
        out.interrupted().await;
        let waited =
            tokio::time::timeout(Duration::from_millis(50), out.uncaught_interrupt()).await;
        assert!(waited.is_err(), "a caught interrupt is the application's");
    }
}
