//! UDP sockets (RFC 768), bound to a local port on every address of the
//! stack.

use super::{EventQueue, Handle, Slab};
use crate::error::StackError;
use crate::icmp::IcmpError;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};

/// First port of the dynamic range used for ephemeral binds (RFC 6335 §6:
/// 49152–65535).
pub const EPHEMERAL_FIRST: u16 = 49152;

/// Names an open UDP socket of a [`crate::NetStack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UdpHandle(pub(crate) Handle);

/// What a UDP socket receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpEvent {
    /// A datagram.
    Datagram {
        /// Sender address and port.
        from: SocketAddrV4,
        /// The payload.
        payload: Vec<u8>,
    },
    /// An ICMP error quoting a datagram this socket sent (RFC 1122 §4.1.3.3:
    /// "UDP MUST pass to the application layer all ICMP error messages").
    Error {
        /// Who reported it (source of the ICMP error, or our own address for
        /// a local ARP failure).
        from: Ipv4Addr,
        /// The destination of the datagram that failed.
        original_dst: SocketAddrV4,
        /// The error.
        error: IcmpError,
    },
}

/// Where a received datagram arrived (for servers that answer per
/// interface, such as DHCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdpMeta {
    /// The interface it arrived on (None for locally generated events).
    pub in_port: Option<usize>,
    /// Its destination address (e.g. 255.255.255.255 for a broadcast).
    pub dst: Option<Ipv4Addr>,
    /// The trace span of the frame that carried it, if traced: a server
    /// continues the sender's trace with it.
    pub trace: Option<vnet_wire::trace::TraceContext>,
}

#[derive(Debug)]
pub(crate) struct UdpSocket {
    pub(crate) port: u16,
    pub(crate) queue: EventQueue<(UdpEvent, UdpMeta)>,
}

/// All UDP sockets of a stack, indexed by local port.
#[derive(Debug)]
pub(crate) struct UdpSockets {
    slab: Slab<UdpSocket>,
    by_port: HashMap<u16, Handle>,
    next_ephemeral: u16,
    queue_len: usize,
}

impl UdpSockets {
    pub(crate) fn new(max_sockets: usize, queue_len: usize) -> Self {
        Self {
            slab: Slab::new(max_sockets),
            by_port: HashMap::new(),
            next_ephemeral: EPHEMERAL_FIRST,
            queue_len,
        }
    }

    fn ephemeral(&mut self) -> Result<u16, StackError> {
        let range = usize::from(u16::MAX - EPHEMERAL_FIRST) + 1;
        for _ in 0..range {
            let p = self.next_ephemeral;
            self.next_ephemeral = if p == u16::MAX {
                EPHEMERAL_FIRST
            } else {
                p + 1
            };
            if !self.by_port.contains_key(&p) {
                return Ok(p);
            }
        }
        Err(StackError::TooManySockets)
    }

    pub(crate) fn bind(&mut self, port: u16) -> Result<UdpHandle, StackError> {
        if self.slab.len() >= self.slab_capacity() {
            return Err(StackError::TooManySockets);
        }
        let port = if port == 0 { self.ephemeral()? } else { port };
        if self.by_port.contains_key(&port) {
            return Err(StackError::PortInUse { port });
        }
        let h = self.slab.insert(UdpSocket {
            port,
            queue: EventQueue::new(self.queue_len),
        })?;
        self.by_port.insert(port, h);
        Ok(UdpHandle(h))
    }

    fn slab_capacity(&self) -> usize {
        self.slab.capacity
    }

    pub(crate) fn get(&self, h: UdpHandle) -> Result<&UdpSocket, StackError> {
        self.slab.get(h.0).ok_or(StackError::BadHandle)
    }

    pub(crate) fn get_mut(&mut self, h: UdpHandle) -> Result<&mut UdpSocket, StackError> {
        self.slab.get_mut(h.0).ok_or(StackError::BadHandle)
    }

    pub(crate) fn close(&mut self, h: UdpHandle) {
        if let Some(s) = self.slab.remove(h.0) {
            self.by_port.remove(&s.port);
        }
    }

    pub(crate) fn by_port(&mut self, port: u16) -> Option<&mut UdpSocket> {
        let h = *self.by_port.get(&port)?;
        self.slab.get_mut(h)
    }

    /// Bound local ports, ascending.
    pub(crate) fn ports(&self) -> Vec<u16> {
        let mut v: Vec<u16> = self.slab.iter().map(|s| s.port).collect();
        v.sort_unstable();
        v
    }
}
