//! The device's HTTP service: listens on the configured port (80) of vnet's
//! own TCP and runs [`Server::serve_connection`] in one task per connection.
//!
//! At most [`MAX_CONNECTIONS`] connections are served at once, at most
//! [`MAX_CONNECTIONS_PER_CLIENT`] from one address ([`crate::admission`]).
//! When all slots are taken, the connection waiting longest (idle
//! keep-alive, or a request head still incomplete) is closed to make room
//! (`evicted_idle`); when none is waiting, or the client is at its cap, the
//! new connection is reset at once (RST) and counted
//! (`connections_refused`, `refused_per_client`), the way a server at its
//! worker limit sheds load, rather than left to hang.

use crate::WebServer;
use crate::server::Server;
use tracing::Instrument;
use vnet_runtime::net_tcp::TcpListener;
use vnet_runtime::{DeviceHandle, ExecFuture};

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// Connections served at once for one client address: a quarter of the
/// slots, so one client (a slowloris attacker) cannot take them all.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = MAX_CONNECTIONS / 4;
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
        let slot = match server.admit(peer) {
            Ok(slot) => slot,
            Err(why) => {
                tracing::warn!(peer = ?peer, ?why, limit = MAX_CONNECTIONS, per_client = MAX_CONNECTIONS_PER_CLIENT, "too many connections: reset");
                stream.abort();
                continue;
            }
        };
        stream.set_nodelay(true);
        let server: Server = server.clone();
        let span = tracing::info_span!(
            "http_connection",
            peer = %peer.map_or_else(|| "-".to_owned(), |p| p.to_string())
        );
        tokio::spawn(
            async move {
                let trace = stream.trace_probe();
                server.serve_admitted(slot, stream, peer, &trace).await;
            }
            .instrument(span),
        );
    }
}
