//! The loopback address plan of `vnet up`: every cable end and admin API
//! gets a free port on 127.0.0.1.
//!
//! Ports are found by binding port 0 and are held open until the whole plan
//! is made, so no two ends get the same port; they are released just before
//! the devices start and bind them again.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use vnet_topology::lab::LabDevice;
use vnet_topology::render::AddressPlan;

/// Allocates free loopback ports and keeps them reserved until dropped.
#[derive(Default)]
pub struct LoopbackPlan {
    udp: Vec<UdpSocket>,
    tcp: Vec<TcpListener>,
    /// The first error met, reported after rendering.
    pub error: Option<std::io::Error>,
}

const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

impl AddressPlan for LoopbackPlan {
    fn cable_end(&mut self, _device_index: usize, _device: &LabDevice, _port: usize) -> SocketAddr {
        match UdpSocket::bind(LOOPBACK).and_then(|s| {
            let addr = s.local_addr()?;
            self.udp.push(s);
            Ok(addr)
        }) {
            Ok(addr) => addr,
            Err(e) => {
                self.error.get_or_insert(e);
                LOOPBACK
            }
        }
    }

    fn admin(&mut self, _device_index: usize, _device: &LabDevice) -> SocketAddr {
        match TcpListener::bind(LOOPBACK).and_then(|s| {
            let addr = s.local_addr()?;
            self.tcp.push(s);
            Ok(addr)
        }) {
            Ok(addr) => addr,
            Err(e) => {
                self.error.get_or_insert(e);
                LOOPBACK
            }
        }
    }
}
