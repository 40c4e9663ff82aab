//! The host's DHCP client task: drives [`DhcpClient`] over UDP port 68 and
//! applies the lease to the stack (address, default route, DNS servers).

use crate::Host;
use std::net::{Ipv4Addr, SocketAddrV4};
use vnet_runtime::DeviceHandle;
use vnet_runtime::net::UdpSocket;
use vnet_stack::dhcp::Destination;
use vnet_stack::dhcp::client::{Action, ClientEvent, DhcpClient};
use vnet_stack::{Transmit, UdpEvent, UdpHandle};
use vnet_wire::dhcp::{CLIENT_PORT, DhcpMessage, SERVER_PORT};
use vnet_wire::ip::Ipv4Cidr;

/// DHCP state of a host whose interface is configured with `address = "dhcp"`.
pub(crate) struct HostDhcp {
    pub(crate) port: usize,
    pub(crate) client: DhcpClient,
    /// The socket bound to port 68 (for the RELEASE at shutdown).
    pub(crate) socket: Option<UdpHandle>,
}

impl HostDhcp {
    pub(crate) fn new(port: usize, mac: vnet_wire::ethernet::EthernetAddress) -> HostDhcp {
        // Transaction ids must not be predictable: seed from OS randomness
        // (from the simulation's seed in `vnet sim`).
        let seed = vnet_runtime::entropy::u64();
        HostDhcp {
            port,
            client: DhcpClient::new(mac, seed),
            socket: None,
        }
    }
}

fn default_route() -> Ipv4Cidr {
    Ipv4Cidr::new(Ipv4Addr::UNSPECIFIED, 0).unwrap_or_else(|_| unreachable!("/0 is a valid prefix"))
}

/// Applies a lease change to the host's stack.
fn apply(host: &mut Host, event: &ClientEvent) {
    let Some(port) = host.dhcp.as_ref().map(|d| d.port) else {
        return;
    };
    match event {
        ClientEvent::Bound(lease) | ClientEvent::Renewed(lease) => {
            if let Err(e) = host.stack.set_interface_address(port, Some(lease.address)) {
                tracing::error!(error = %e, "cannot configure the leased address");
                return;
            }
            if let Some(router) = lease.router {
                let _ = host.stack.remove_route(default_route());
                if let Err(e) = host.stack.add_route(default_route(), router) {
                    tracing::warn!(%router, error = %e, "cannot install the default route from DHCP");
                }
            }
            host.nameservers = lease.dns_servers.clone();
            if matches!(event, ClientEvent::Bound(_)) {
                tracing::info!(address = %lease.address, router = ?lease.router, dns = ?lease.dns_servers,
                    lease_secs = lease.lease_time.as_secs(), server = %lease.server, "DHCP lease bound");
            }
        }
        ClientEvent::Lost { address } => {
            tracing::warn!(%address, "DHCP lease lost; address removed");
            let _ = host.stack.remove_route(default_route());
            let _ = host.stack.set_interface_address(port, None);
            host.nameservers.clear();
        }
    }
}

/// Runs the client until the device stops.
pub(crate) async fn run(handle: DeviceHandle<Host>) -> i32 {
    let socket: UdpSocket<Host> = match UdpSocket::bind(&handle, CLIENT_PORT) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "DHCP client cannot bind UDP port 68");
            return 1;
        }
    };
    handle.with(|host, _, _| {
        if let Some(d) = host.dhcp.as_mut() {
            d.socket = Some(socket.handle());
        }
    });
    // The span of one exchange (DISCOVER … ACK, or a renewal): a trace of
    // its own, ended once the client is bound again.
    let mut exchange: Option<tracing::Span> = None;
    loop {
        let (actions, wake) = handle.with(|host, now, _| match host.dhcp.as_mut() {
            Some(d) => (d.client.poll(now), d.client.poll_at()),
            None => (Vec::new(), None),
        });
        perform(&handle, &socket, actions, &mut exchange);
        let event = tokio::select! {
            e = socket.next_event() => Some(e),
            _ = async {
                match wake {
                    Some(at) => handle.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => None,
        };
        if let Some(UdpEvent::Datagram { from, payload }) = event {
            if from.port() != SERVER_PORT {
                continue;
            }
            let Ok(msg) = DhcpMessage::parse(&payload) else {
                tracing::debug!(%from, "malformed DHCP message dropped");
                continue;
            };
            let actions = handle.with(|host, now, _| match host.dhcp.as_mut() {
                Some(d) => d.client.handle(now, &msg),
                None => Vec::new(),
            });
            perform(&handle, &socket, actions, &mut exchange);
        }
    }
}

fn perform(
    handle: &DeviceHandle<Host>,
    socket: &UdpSocket<Host>,
    actions: Vec<Action>,
    exchange: &mut Option<tracing::Span>,
) {
    for action in actions {
        match action {
            Action::Event(event) => {
                handle.with(|host, _, _| apply(host, &event));
                // Bound, renewed or lost: the exchange is over.
                if let Some(span) = exchange.take() {
                    span.record("dhcp.outcome", tracing::field::debug(&event));
                }
            }
            Action::Send(msg, destination) => {
                let span = exchange.get_or_insert_with(|| {
                    vnet_telemetry::app_span!(
                        "dhcp",
                        proto = "dhcp",
                        layer = "L7",
                        summary = format!("DHCP exchange ({:?} first)", msg.message_type()),
                        dhcp.outcome = tracing::field::Empty,
                    )
                });
                let _entered = span.enter();
                let (port, src) = handle.with(|host, _, _| {
                    let d = host.dhcp.as_ref();
                    let port = d.map(|d| d.port).unwrap_or(0);
                    let src = d
                        .and_then(|d| d.client.lease())
                        .map(|l| l.address.address())
                        .unwrap_or(Ipv4Addr::UNSPECIFIED);
                    (port, src)
                });
                let bytes = msg.emit();
                let sent = match destination {
                    Destination::Broadcast => socket.send_via(
                        port,
                        src,
                        SocketAddrV4::new(Ipv4Addr::BROADCAST, SERVER_PORT),
                        &bytes,
                    ),
                    Destination::Unicast(ip) => socket.send_to(
                        SocketAddrV4::new(ip, SERVER_PORT),
                        &bytes,
                        Default::default(),
                    ),
                };
                if let Err(e) = sent {
                    tracing::debug!(error = %e, "DHCP message not sent");
                }
            }
        }
    }
}

/// Sends a DHCPRELEASE for the current lease (at shutdown).
pub(crate) fn release(host: &mut Host, now: vnet_stack::time::Instant, tx: &mut dyn Transmit) {
    let Some(d) = host.dhcp.as_mut() else { return };
    let Some(socket) = d.socket else { return };
    let Some((msg, Destination::Unicast(server))) = d.client.release() else {
        return;
    };
    let bytes = msg.emit();
    let dst = SocketAddrV4::new(server, SERVER_PORT);
    match host
        .stack
        .udp_send_to(now, socket, dst, &bytes, Default::default(), tx)
    {
        Ok(()) => tracing::info!(%server, "DHCPRELEASE sent"),
        Err(e) => tracing::debug!(error = %e, "DHCPRELEASE not sent"),
    }
}
