//! The device's HTTP service: listens on the configured port (80) of vnet's
//! own TCP and runs [`Server::serve_connection`] in one task per connection;
//! with a certificate, HTTPS on the TLS port (443) the same way, each
//! connection's TLS handshake first ([`crate::tls::TlsServer::accept`]).
//! Both share the connection slots.
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
use crate::tls::TlsServer;
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

/// Listens and serves until the device stops: HTTP on the configured
/// port, and HTTPS on the TLS port when the device has a certificate.
/// Returns at once if the device has no web settings.
pub async fn serve(handle: DeviceHandle<WebServer>) -> anyhow::Result<()> {
    let Some(http) = handle.with(|dev, _, _| dev.http().cloned()) else {
        tracing::warn!("no web settings: the HTTP service is not started");
        return Ok(());
    };
    let server = http.server.clone();
    let listener = TcpListener::bind(&handle, http.port, BACKLOG)
        .map_err(|e| anyhow::anyhow!("listening on TCP port {}: {e}", http.port))?;
    tracing::info!(
        port = http.port,
        root = %server.config().root.display(),
        idle_timeout_secs = server.config().idle_timeout.as_secs(),
        max_requests_per_connection = server.config().max_requests_per_connection,
        "HTTP service listening"
    );
    let https = match http.tls.clone() {
        Some((tls, port)) => {
            let listener = TcpListener::bind(&handle, port, BACKLOG)
                .map_err(|e| anyhow::anyhow!("listening on TCP port {port} (HTTPS): {e}"))?;
            tracing::info!(port, "HTTPS service listening");
            Some(vnet_telemetry::spawn(accept_loop(
                listener,
                server.clone(),
                Some(tls),
            )))
        }
        None => None,
    };
    let result = accept_loop(listener, server, None).await;
    if let Some(task) = https {
        task.abort();
    }
    result
}

/// Accepts connections on `listener` and serves each in its own task,
/// over TLS when `tls` is set.
async fn accept_loop(
    listener: TcpListener<WebServer>,
    server: Server,
    tls: Option<TlsServer>,
) -> anyhow::Result<()> {
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
            peer = %peer.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            tls = tls.is_some(),
        );
        let tls = tls.clone();
        vnet_telemetry::spawn(
            async move {
                let trace = stream.trace_probe();
                let Some(tls) = tls else {
                    server.serve_admitted(slot, stream, peer, &trace).await;
                    return;
                };
                // The handshake has the time a request head has (10 s).
                let wait = server.config().head_timeout;
                match tls.accept(stream, wait, &trace).await {
                    Ok((stream, negotiated)) => {
                        tracing::debug!(%negotiated, "TLS handshake done");
                        server.counters().tls_handshake_done();
                        server.serve_admitted(slot, stream, peer, &trace).await;
                    }
                    Err(e) => {
                        server.counters().tls_handshake_failed();
                        tracing::info!(peer = ?peer, error = %e, "TLS handshake failed");
                    }
                }
            }
            .instrument(span),
        );
    }
}
