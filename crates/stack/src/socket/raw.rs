//! Raw IPv4 protocol sockets: every datagram of one IP protocol number the
//! stack does not handle itself (OSPF's 89, RFC 2328 §A.1), delivered with
//! the header fields a routing daemon needs, like a Linux
//! `socket(AF_INET, SOCK_RAW, proto)`. ICMP, TCP and UDP stay the stack's.

use super::{EventQueue, Handle, Slab};
use crate::error::StackError;
use std::net::Ipv4Addr;

/// Names an open raw socket of a [`crate::NetStack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawHandle(pub(crate) Handle);

/// One datagram received on a raw socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDatagram {
    /// The IP source address.
    pub src: Ipv4Addr,
    /// The IP destination address (a multicast group, or ours).
    pub dst: Ipv4Addr,
    /// The interface it arrived on.
    pub in_port: usize,
    /// Its TTL as received.
    pub ttl: u8,
    /// The IP payload (the protocol's packet).
    pub payload: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct RawSocket {
    pub(crate) proto: u8,
    pub(crate) queue: EventQueue<RawDatagram>,
}

/// The raw sockets of a stack: at most one per protocol.
#[derive(Debug)]
pub(crate) struct RawSockets {
    slab: Slab<RawSocket>,
    queue_len: usize,
}

/// Protocols the stack implements itself.
const OWN: [u8; 3] = [1, 6, 17];
/// Raw sockets a stack holds at most.
const MAX_RAW: usize = 8;

impl RawSockets {
    pub(crate) fn new(queue_len: usize) -> Self {
        RawSockets {
            slab: Slab::new(MAX_RAW),
            queue_len,
        }
    }

    pub(crate) fn open(&mut self, proto: u8) -> Result<RawHandle, StackError> {
        if OWN.contains(&proto) {
            return Err(StackError::RawProtocol {
                proto,
                reason: "the stack itself handles ICMP, TCP and UDP",
            });
        }
        if self.slab.iter().any(|s| s.proto == proto) {
            return Err(StackError::RawProtocol {
                proto,
                reason: "a raw socket is already open for it",
            });
        }
        let h = self.slab.insert(RawSocket {
            proto,
            queue: EventQueue::new(self.queue_len),
        })?;
        Ok(RawHandle(h))
    }

    pub(crate) fn get_mut(&mut self, h: RawHandle) -> Result<&mut RawSocket, StackError> {
        self.slab.get_mut(h.0).ok_or(StackError::BadHandle)
    }

    pub(crate) fn get(&self, h: RawHandle) -> Result<&RawSocket, StackError> {
        self.slab.get(h.0).ok_or(StackError::BadHandle)
    }

    pub(crate) fn close(&mut self, h: RawHandle) {
        self.slab.remove(h.0);
    }

    pub(crate) fn by_proto(&mut self, proto: u8) -> Option<&mut RawSocket> {
        let h = self
            .slab
            .iter_handles()
            .find(|(_, s)| s.proto == proto)
            .map(|(h, _)| h)?;
        self.slab.get_mut(h)
    }
}
