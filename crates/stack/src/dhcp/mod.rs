//! DHCP (RFC 2131, options RFC 2132) as sans-IO state machines: a
//! [`server::DhcpServer`] for a router's LAN interface and a
//! [`client::DhcpClient`] for hosts configured with `address = "dhcp"`.
//!
//! Both consume parsed [`vnet_wire::dhcp::DhcpMessage`]s and produce
//! messages to send; the device runtime moves them through UDP ports 67/68.
//! Time is passed in; nothing here reads a clock or a socket.

pub mod client;
pub mod server;

pub use client::{ClientEvent, DhcpClient, Lease};
pub use server::{DhcpPoolError, DhcpServer, DhcpServerConfig, LeaseEntry};

/// Where a DHCP message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The limited broadcast 255.255.255.255 on the interface.
    Broadcast,
    /// A unicast address (renewal to the server, reply to a bound client).
    Unicast(std::net::Ipv4Addr),
}
