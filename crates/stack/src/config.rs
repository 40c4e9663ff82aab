//! Configuration of a [`crate::NetStack`] and of its interfaces.

use crate::arp::ArpConfig;
use crate::frag::ReassemblyConfig;
use crate::tcp::TcpConfig;
use vnet_wire::ethernet::EthernetAddress;
use vnet_wire::ip::Ipv4Cidr;

/// Smallest MTU an IPv4 interface may have: "Every internet module must be
/// able to forward a datagram of 68 octets without further fragmentation"
/// (RFC 791 §3.2, "Total Length").
pub const MIN_MTU: u16 = 68;

/// Default MTU of an Ethernet interface (RFC 894).
pub const ETHERNET_MTU: u16 = 1500;

/// One interface ("port") of a stack; its index in the list given to
/// [`crate::NetStack::new`] is the port number used everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// Name, e.g. `eth0`.
    pub name: String,
    /// Hardware address.
    pub mac: EthernetAddress,
    /// IPv4 address and prefix; `None` for an unnumbered port (e.g. before DHCP).
    pub address: Option<Ipv4Cidr>,
    /// MTU: the largest IP datagram sent without fragmentation. Values below
    /// [`MIN_MTU`] are raised to it.
    pub mtu: u16,
}

impl InterfaceConfig {
    /// An Ethernet interface with the default MTU of 1500.
    pub fn new(name: impl Into<String>, mac: EthernetAddress, address: Option<Ipv4Cidr>) -> Self {
        Self {
            name: name.into(),
            mac,
            address,
            mtu: ETHERNET_MTU,
        }
    }
}

/// Configuration of a [`crate::NetStack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackConfig {
    /// Forward datagrams not addressed to us (a router; Linux `ip_forward`),
    /// per RFC 1812. A host (false) drops them.
    pub forwarding: bool,
    /// TTL of datagrams this stack originates. Default 64 (RFC 1700 / Linux).
    pub default_ttl: u8,
    /// ARP cache tunables.
    pub arp: ArpConfig,
    /// Reassembly tunables.
    pub reassembly: ReassemblyConfig,
    /// Maximum number of open ping sockets. Default 64.
    pub max_ping_sockets: usize,
    /// Maximum number of open UDP sockets. Default 256.
    pub max_udp_sockets: usize,
    /// Events (datagrams, replies, errors) queued per socket before new ones
    /// are dropped. Default 64.
    pub socket_queue_len: usize,
    /// TCP tunables, including the ISN secret (RFC 6528) the runtime fills
    /// from OS randomness.
    pub tcp: TcpConfig,
}

impl Default for StackConfig {
    fn default() -> Self {
        Self {
            forwarding: false,
            default_ttl: 64,
            arp: ArpConfig::default(),
            reassembly: ReassemblyConfig::default(),
            max_ping_sockets: 64,
            max_udp_sockets: 256,
            socket_queue_len: 64,
            tcp: TcpConfig::default(),
        }
    }
}

impl StackConfig {
    /// The default configuration of a router (forwarding on).
    pub fn router() -> Self {
        Self {
            forwarding: true,
            ..Self::default()
        }
    }
}

/// Per-send options of the socket send functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendOptions {
    /// TTL; `None` uses [`StackConfig::default_ttl`] (`ping -t`).
    pub ttl: Option<u8>,
    /// Set the Don't Fragment flag (RFC 791 §3.1; `ping -M do`): a datagram
    /// larger than the egress MTU fails with
    /// [`crate::StackError::MessageTooLong`] instead of being fragmented.
    pub dont_frag: bool,
}
