//! Errors returned synchronously by the stack's API.
//!
//! This module is a leaf of the crate (it uses only [`crate::icmp`]):
//! [`TcpError`] lives here rather than in [`crate::tcp`], which re-exports
//! it, so that sockets and TCP can both return [`StackError`] without a
//! circle between `error`, `tcp` and `socket`.

use crate::icmp::IcmpError;
use core::fmt;
use serde::Serialize;
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
    Connection(TcpError),
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

/// Why a connection failed; kept on the socket and returned by
/// [`crate::NetStack::tcp_error`] and as [`StackError::Connection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TcpError {
    /// The peer answered our SYN with a RST (RFC 9293 §3.10.7.3: "error:
    /// connection reset"; Linux `ECONNREFUSED`).
    Refused,
    /// The peer reset an established connection (RFC 9293 §3.10.7.4,
    /// "connection reset"; `ECONNRESET`).
    Reset,
    /// Retransmissions were exhausted (RFC 1122 §4.2.3.5 R2; `ETIMEDOUT`).
    TimedOut,
    /// The application aborted the connection (RFC 9293 §3.10.5 ABORT).
    Aborted,
    /// A hard ICMP error while connecting (RFC 1122 §4.2.3.9: protocol or
    /// port unreachable).
    Unreachable(IcmpError),
}

impl fmt::Display for TcpError {
    /// Wording of the matching `strerror`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpError::Refused => f.write_str("Connection refused"),
            TcpError::Reset => f.write_str("Connection reset by peer"),
            TcpError::TimedOut => f.write_str("Connection timed out"),
            TcpError::Aborted => f.write_str("Software caused connection abort"),
            TcpError::Unreachable(e) => write!(f, "{e}"),
        }
    }
}
