//! Sans-IO network stack: ARP cache, IPv4 forwarding, fragmentation and
//! reassembly, ICMP, UDP and TCP sockets, learning bridge.
//!
//! * [`NetStack`] is one IPv4 stack, used by end hosts (forwarding off) and
//!   routers (forwarding on, RFC 1812), like Linux with `ip_forward`.
//! * [`bridge`] is the layer-2 learning bridge of the switch (IEEE 802.1D).
//!
//! Nothing here touches a socket, a clock or a runtime: time is an argument
//! ([`time::Instant`]), input is `&mut [u8]` Ethernet frames (without FCS)
//! with their port, output goes to a [`Transmit`]. Every table and queue is
//! bounded. The code never panics on input bytes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arp;
pub mod bridge;
pub mod config;
pub mod counters;
pub mod dhcp;
pub mod error;
pub mod frag;
pub mod icmp;
mod netstack;
pub mod ospf;
pub mod pmtu;
pub mod rip;
pub mod route;
pub mod socket;
pub mod tcp;
pub mod time;
pub mod transmit;

pub use arp::{ArpConfig, ArpEntry, ArpState};
pub use config::{InterfaceConfig, SendOptions, StackConfig};
pub use counters::StackCounters;
pub use error::{StackError, TcpError};
pub use frag::ReassemblyConfig;
pub use icmp::IcmpError;
pub use netstack::NetStack;
pub use route::{Route, RouteKind, RoutingTable};
pub use socket::ping::{PingEvent, PingHandle};
pub use socket::raw::{RawDatagram, RawHandle};
pub use socket::udp::{UdpEvent, UdpHandle, UdpMeta};
pub use tcp::{TcpConfig, TcpHandle, TcpInfo, TcpState};
pub use transmit::Transmit;
