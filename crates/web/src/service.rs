//! The device's HTTP service: listens on the configured port (80) of vnet's
//! own TCP and runs [`Server::serve_connection`] in one task per connection.
//!
//! At most [`MAX_CONNECTIONS`] connections are served at once; one more is
//! reset at once (RST) and counted as `connections_refused`, the way a
//! server at its worker limit sheds load, rather than left to hang.

use crate::WebServer;
use crate::counters::bump;
use crate::server::Server;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tracing::Instrument;
use vnet_runtime::net_tcp::TcpListener;
use vnet_runtime::{DeviceHandle, ExecFuture};

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// Established connections waiting to be accepted (the listen backlog).
pub const BACKLOG: usize = 128;

/// The device's start hook: runs [`serve`] until the device stops.
pub fn start(handle: DeviceHandle<WebServer>) -> ExecFuture {
    Box::pin(async move {
        match serve(handle).await {
            Ok(()) => 0,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "HTTP service stopped");
                1
            }
        }
    })
}

/// Listens and serves until the device stops. Returns at once if the
/// device has no web settings.
pub async fn serve(handle: DeviceHandle<WebServer>) -> anyhow::Result<()> {
    let Some((server, port)) =
        handle.with(|dev, _, _| dev.http().map(|h| (h.server.clone(), h.port)))
    else {
        tracing::warn!("no web settings: the HTTP service is not started");
        return Ok(());
    };
    let listener = TcpListener::bind(&handle, port, BACKLOG)
        .map_err(|e| anyhow::anyhow!("listening on TCP port {port}: {e}"))?;
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tracing::info!(
        port,
        root = %server.config().root.display(),
        idle_timeout_secs = server.config().idle_timeout.as_secs(),
        max_requests_per_connection = server.config().max_requests_per_connection,
        "HTTP service listening"
    );
    loop {
        let stream = listener.accept().await?;
        let peer = stream.peer_addr();
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            bump(&server.counters().connections_refused);
            tracing::warn!(peer = ?peer, limit = MAX_CONNECTIONS, "too many connections: reset");
            stream.abort();
            continue;
        };
        stream.set_nodelay(true);
        let server: Server = server.clone();
        let span = tracing::info_span!(
            "http_connection",
            peer = %peer.map_or_else(|| "-".to_owned(), |p| p.to_string())
        );
        tokio::spawn(
            async move {
                let _slot = slot;
                let trace = stream.trace_probe();
                server.serve_connection_traced(stream, peer, &trace).await;
            }
            .instrument(span),
        );
    }
}
