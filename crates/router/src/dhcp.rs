//! The router's DHCP servers (one per interface configured with `dhcp`),
//! served on UDP port 67 by a background task.

use crate::Router;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use vnet_runtime::DeviceHandle;
use vnet_runtime::api::Table;
use vnet_runtime::net::UdpSocket;
use vnet_stack::UdpEvent;
use vnet_stack::dhcp::Destination;
use vnet_stack::dhcp::server::{DhcpServer, DhcpServerConfig};
use vnet_stack::time::Instant;
use vnet_topology::device::DeviceConfig;
use vnet_wire::dhcp::{CLIENT_PORT, DhcpMessage, SERVER_PORT};

/// The DHCP server of one interface.
pub(crate) struct InterfaceServer {
    pub(crate) port: usize,
    pub(crate) address: Ipv4Addr,
    pub(crate) server: DhcpServer,
}

/// Builds the servers the configuration asks for.
pub(crate) fn servers(config: &DeviceConfig) -> anyhow::Result<Vec<InterfaceServer>> {
    let mut out = Vec::new();
    for (port, iface) in config.interfaces.iter().enumerate() {
        let Some(settings) = &iface.dhcp_server else {
            continue;
        };
        let Some(address) = iface.address else {
            anyhow::bail!(
                "interface {}: a DHCP server needs the interface's address",
                iface.name
            );
        };
        let server = DhcpServer::new(DhcpServerConfig {
            interface: address,
            pool_start: settings.pool_start,
            pool_end: settings.pool_end,
            router: address.address(),
            dns_servers: settings.dns_servers.clone(),
            lease_time: Duration::from_secs(settings.lease_secs),
        })
        .map_err(|e| anyhow::anyhow!("interface {}: DHCP: {e}", iface.name))?;
        out.push(InterfaceServer {
            port,
            address: address.address(),
            server,
        });
    }
    Ok(out)
}

/// `vnet show r1 leases`.
pub(crate) fn leases_table(router: &Router, now: Instant, names: &[String]) -> Table {
    let mut t = Table::new(&["ADDRESS", "MAC", "INTERFACE", "STATE", "EXPIRES"]);
    for s in &router.dhcp {
        for l in s.server.leases(now) {
            t.row(vec![
                l.ip.to_string(),
                l.mac.to_string(),
                names.get(s.port).cloned().unwrap_or_default(),
                l.state.to_string(),
                format!("{}s", l.expires_in.as_secs()),
            ]);
        }
    }
    t
}

/// Serves DHCP on port 67 until the device stops.
pub(crate) async fn serve(handle: DeviceHandle<Router>) -> i32 {
    let socket: UdpSocket<Router> = match UdpSocket::bind(&handle, SERVER_PORT) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "DHCP server cannot bind UDP port 67");
            return 1;
        }
    };
    let lease_file = handle.with(|router, now, _| {
        let path = router.lease_file.clone()?;
        let restored = crate::lease_file::load(&path, &mut router.dhcp, &router.port_names, now);
        if restored > 0 {
            tracing::info!(file = %path.display(), restored, "DHCP leases restored");
        }
        Some(path)
    });
    let mut saved = Vec::new();
    loop {
        if let Some(path) = &lease_file {
            persist(&handle, path, &mut saved);
        }
        let (event, meta) = socket.next_event_with_meta().await;
        let UdpEvent::Datagram { from, payload } = event else {
            continue;
        };
        let Some(port) = meta.in_port else { continue };
        let request = match DhcpMessage::parse(&payload) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(%from, error = %e, "malformed DHCP message dropped");
                continue;
            }
        };
        let reply = handle.with(|router, now, _| {
            let s = router.dhcp.iter_mut().find(|s| s.port == port)?;
            let address = s.address;
            s.server.handle(now, &request).map(|r| (r, address))
        });
        let Some(((reply, destination), address)) = reply else {
            continue;
        };
        let bytes = reply.emit();
        let span = vnet_telemetry::continue_remote(meta.trace, || {
            vnet_telemetry::app_span!(
                "dhcp.server",
                proto = "dhcp",
                layer = "L7",
                summary = format!(
                    "{:?} from {} → {:?} {}",
                    request.message_type(),
                    request.chaddr,
                    reply.message_type(),
                    reply.yiaddr
                ),
            )
        });
        let _entered = span.enter();
        let sent = match destination {
            Destination::Broadcast => socket.send_via(
                port,
                address,
                SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT),
                &bytes,
            ),
            Destination::Unicast(ip) => socket.send_to(
                SocketAddrV4::new(ip, CLIENT_PORT),
                &bytes,
                Default::default(),
            ),
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, "DHCP reply not sent");
        }
    }
}

/// Writes the lease file when the set of bound leases changed since the
/// last write (renewals that only move an expiry are written too: the
/// file's expiry must not fall behind the client's).
fn persist(
    handle: &DeviceHandle<Router>,
    path: &std::path::Path,
    saved: &mut Vec<(String, Ipv4Addr, u64)>,
) {
    let leases = handle
        .with(|router, now, _| crate::lease_file::snapshot(&router.dhcp, &router.port_names, now));
    // Expiries are compared to the minute: the clock moves on every call.
    let key: Vec<(String, Ipv4Addr, u64)> = leases
        .iter()
        .map(|l| (l.mac.to_string(), l.ip, l.expires_unix / 60))
        .collect();
    if key == *saved {
        return;
    }
    match crate::lease_file::save(path, &leases) {
        Ok(()) => *saved = key,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "cannot write the DHCP lease file")
        }
    }
}
