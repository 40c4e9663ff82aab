//! The loopback address plan of `vnet up`: every cable end and admin API
//! gets a free port on 127.0.0.1.
//!
//! Ports come from 20000..32768, below Linux's default ephemeral range
//! (32768..61000), so outgoing connections of other programs can never take
//! one between the moment it is chosen and the moment its device binds it.
//! The search starts at a random offset so labs started in parallel rarely
//! probe the same ports, and every chosen port is held open until the whole
//! plan is made, then released just before the devices start.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use vnet_topology::lab::LabDevice;
use vnet_topology::render::AddressPlan;

/// First port of the lab range.
pub const PORT_RANGE_START: u16 = 20000;
/// One past the last port of the lab range.
pub const PORT_RANGE_END: u16 = 32768;

/// Allocates free loopback ports and keeps them reserved until dropped.
pub struct LoopbackPlan {
    udp: Vec<UdpSocket>,
    tcp: Vec<TcpListener>,
    next: u16,
    /// The first error met, reported after rendering.
    pub error: Option<std::io::Error>,
}

impl Default for LoopbackPlan {
    fn default() -> Self {
        let span = PORT_RANGE_END - PORT_RANGE_START;
        LoopbackPlan {
            udp: Vec::new(),
            tcp: Vec::new(),
            next: PORT_RANGE_START + fastrand::u16(..span),
            error: None,
        }
    }
}

impl LoopbackPlan {
    /// Tries ports from `next` on, wrapping once around the range.
    fn take<T>(
        &mut self,
        bind: impl Fn(SocketAddr) -> std::io::Result<T>,
    ) -> Option<(SocketAddr, T)> {
        let span = PORT_RANGE_END - PORT_RANGE_START;
        for _ in 0..span {
            let port = self.next;
            self.next = if self.next + 1 >= PORT_RANGE_END {
                PORT_RANGE_START
            } else {
                self.next + 1
            };
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            if let Ok(socket) = bind(addr) {
                return Some((addr, socket));
            }
        }
        self.error.get_or_insert_with(|| {
            std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("no free loopback port in {PORT_RANGE_START}..{PORT_RANGE_END}"),
            )
        });
        None
    }
}

impl LoopbackPlan {
    /// Picks a free loopback TCP port from the lab range (the trace
    /// collector's). The listener holds it: drop it right before the
    /// process that binds the port starts.
    pub fn tcp_port(&mut self) -> std::io::Result<(SocketAddr, TcpListener)> {
        match self.take(TcpListener::bind) {
            Some(taken) => Ok(taken),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("no free loopback port in {PORT_RANGE_START}..{PORT_RANGE_END}"),
            )),
        }
    }
}

const UNSPECIFIED: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

impl AddressPlan for LoopbackPlan {
    fn cable_end(&mut self, _device_index: usize, _device: &LabDevice, _port: usize) -> SocketAddr {
        match self.take(UdpSocket::bind) {
            Some((addr, socket)) => {
                self.udp.push(socket);
                addr
            }
            None => UNSPECIFIED,
        }
    }

    fn admin(&mut self, _device_index: usize, _device: &LabDevice) -> SocketAddr {
        match self.take(TcpListener::bind) {
            Some((addr, socket)) => {
                self.tcp.push(socket);
                addr
            }
            None => UNSPECIFIED,
        }
    }
}
