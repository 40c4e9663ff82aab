//! Rendering a validated [`Lab`] into one [`DeviceConfig`] per device.
//!
//! Where the cable ends and admin APIs listen is decided by an
//! [`AddressPlan`]: `vnet up` uses free loopback ports, `vnet gen compose`
//! uses fixed container addresses.

use crate::device::{DeviceConfig, InterfaceConfig, RouteConfig};
use crate::lab::{Endpoint, Lab, LabDevice};
use crate::peer::CablePeer;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use vnet_wire::ethernet::EthernetAddress;

/// Decides the socket addresses of a lab.
pub trait AddressPlan {
    /// Where the cable end of `device`'s interface number `port` binds.
    fn cable_end(&mut self, device_index: usize, device: &LabDevice, port: usize) -> SocketAddr;
    /// Where `device`'s admin API listens.
    fn admin(&mut self, device_index: usize, device: &LabDevice) -> SocketAddr;
    /// The address a peer sends to in order to reach the cable end bound at
    /// `bound` by device number `device_index` (identity on loopback; a
    /// container address under compose; the device's name under Swarm and
    /// Kubernetes).
    fn reachable(&self, device_index: usize, bound: SocketAddr) -> CablePeer {
        let _ = device_index;
        CablePeer::Addr(bound)
    }
}

/// The MAC address vnet gives interface `port` of device number `device_index`:
/// locally administered, `02:76:6e` ("vn"), device index (16 bits), port.
pub fn mac_address(device_index: usize, port: usize) -> EthernetAddress {
    EthernetAddress([
        0x02,
        0x76,
        0x6e,
        (device_index >> 8) as u8,
        device_index as u8,
        port as u8,
    ])
}

/// Renders every device's configuration.
pub fn render(
    lab: &Lab,
    plan: &mut dyn AddressPlan,
    capture_dir: Option<&Path>,
) -> Vec<DeviceConfig> {
    let mut bound: HashMap<Endpoint, (usize, SocketAddr)> = HashMap::new();
    for (di, device) in lab.devices.iter().enumerate() {
        for (port, iface) in device.interfaces.iter().enumerate() {
            if iface.tap.is_some() {
                continue; // the kernel is the other end: no socket to plan
            }
            let endpoint = Endpoint {
                device: device.name.clone(),
                interface: iface.name.clone(),
            };
            bound.insert(endpoint, (di, plan.cable_end(di, device, port)));
        }
    }
    let mut configs = Vec::with_capacity(lab.devices.len());
    for (di, device) in lab.devices.iter().enumerate() {
        let interfaces = device
            .interfaces
            .iter()
            .enumerate()
            .map(|(port, iface)| {
                let endpoint = Endpoint {
                    device: device.name.clone(),
                    interface: iface.name.clone(),
                };
                if let Some(tap) = &iface.tap {
                    return InterfaceConfig {
                        name: iface.name.clone(),
                        mac: mac_address(di, port),
                        local: SocketAddr::from(([0, 0, 0, 0], 0)),
                        peer: CablePeer::Addr(SocketAddr::from(([0, 0, 0, 0], 0))),
                        tap: Some(tap.clone()),
                        address: iface.address,
                        mtu: iface.mtu,
                        dhcp_client: iface.dhcp_client,
                        dhcp_server: iface.dhcp_server.clone(),
                        impairments: iface.impairments.clone(),
                    };
                }
                let local = bound[&endpoint].1;
                // A validated lab wires every interface, so the peer exists.
                let (peer_index, peer_bound) = lab
                    .links
                    .iter()
                    .find(|l| l.a == endpoint || l.b == endpoint)
                    .map(|l| if l.a == endpoint { &l.b } else { &l.a })
                    .and_then(|other| bound.get(other).copied())
                    .unwrap_or((di, local));
                InterfaceConfig {
                    name: iface.name.clone(),
                    mac: mac_address(di, port),
                    local,
                    peer: plan.reachable(peer_index, peer_bound),
                    tap: None,
                    dhcp_client: iface.dhcp_client,
                    dhcp_server: iface.dhcp_server.clone(),
                    address: iface.address,
                    mtu: iface.mtu,
                    impairments: iface.impairments.clone(),
                }
            })
            .collect();
        configs.push(DeviceConfig {
            name: device.name.clone(),
            kind: device.kind,
            lab: Some(lab.name.clone()),
            admin: plan.admin(di, device),
            admin_token_file: None,
            ttl: device.ttl,
            cpus: device.cpus.clone(),
            rip: device.rip.clone(),
            ospf: device.ospf.clone(),
            interfaces,
            gateway: device.gateway,
            nameservers: device.nameservers.clone(),
            routes: device
                .routes
                .iter()
                .map(|(to, via)| RouteConfig { to: *to, via: *via })
                .collect(),
            neighbors: Vec::new(),
            switch: device.switch.clone(),
            dns: device.dns.clone(),
            web: device.web.clone(),
            tls: None,
            capture_dir: capture_dir.map(Path::to_path_buf),
            state_dir: None,
        });
    }
    configs
}
