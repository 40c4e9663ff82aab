//! Errors returned synchronously by the stack's API.

use std::net::Ipv4Addr;
use thiserror::Error;

/// Why an operation on a [`crate::NetStack`] failed.
///
/// Asynchronous failures (an ARP resolution that times out, an ICMP error
/// coming back) are not errors of the call: they are delivered to the socket
/// as events ([`crate::PingEvent::Error`], [`crate::UdpEvent::Error`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StackError {
    /// No route matches the destination (RFC 1812 §5.2.4.3; Linux `ENETUNREACH`).
    #[error("no route to {dst}")]
    NoRoute {
        /// The destination that has no route.
        dst: Ipv4Addr,
    },
    /// The egress interface has no IPv4 address to use as source.
    #[error("interface {port} has no IPv4 address")]
    NoAddress {
        /// The interface index.
        port: usize,
    },
    /// A route's gateway is not on any directly connected network
    /// (RFC 1812 §5.2.4.1: a next hop must be reachable on an attached network).
    #[error("gateway {via} is not on a directly connected network")]
    GatewayUnreachable {
        /// The unreachable gateway.
        via: Ipv4Addr,
    },
    /// The interface index does not exist.
    #[error("no interface with index {port}")]
    NoSuchPort {
        /// The bad index.
        port: usize,
    },
    /// The UDP port is already bound.
    #[error("UDP port {port} is already in use")]
    PortInUse {
        /// The port.
        port: u16,
    },
    /// The socket table is full (or no ephemeral port is free).
    #[error("too many sockets")]
    TooManySockets,
    /// A raw socket cannot be opened for this IP protocol.
    #[error("no raw socket for IP protocol {proto}: {reason}")]
    RawProtocol {
        /// The protocol number.
        proto: u8,
        /// Why.
        reason: &'static str,
    },
    /// The handle does not name an open socket.
    #[error("bad socket handle")]
    BadHandle,
    /// The payload cannot fit in one IPv4 datagram (RFC 791: total length ≤ 65535).
    #[error("payload of {len} bytes exceeds the maximum of {max}")]
    PayloadTooLarge {
        /// Payload bytes requested.
        len: usize,
        /// Largest payload allowed.
        max: usize,
    },
    /// The datagram is larger than the egress MTU and Don't Fragment was
    /// requested (Linux `EMSGSIZE`, "message too long, mtu=1500").
    #[error("message too long ({len} bytes), mtu={mtu}")]
    MessageTooLong {
        /// Datagram size (IP header included).
        len: usize,
        /// The egress MTU.
        mtu: u16,
    },
    /// The operation cannot complete now (Linux `EAGAIN`): no data to read
    /// yet, or the send buffer is full. Register a waker and retry.
    #[error("operation would block")]
    WouldBlock,
    /// The socket is not connected (a listener, or a connection that never
    /// opened; Linux `ENOTCONN`).
    #[error("transport endpoint is not connected")]
    NotConnected,
    /// The sending side was shut down (RFC 9293 §3.10.2: "error: connection
    /// closing"; Linux `EPIPE`).
    #[error("cannot send after transport endpoint shutdown")]
    Shutdown,
    /// The connection failed: reset, refused, timed out or aborted.
    #[error("{0}")]
    Connection(crate::tcp::TcpError),
    /// A group to join is not an IPv4 multicast address (224.0.0.0/4).
    #[error("{group} is not a multicast group")]
    NotMulticast {
        /// The address given.
        group: Ipv4Addr,
    },
    /// The stack has joined as many multicast groups as it keeps.
    #[error("at most {limit} multicast groups")]
    TooManyGroups {
        /// The limit.
        limit: usize,
    },
}
