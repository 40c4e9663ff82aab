//! ICMP echo sockets (what `ping` uses; like Linux `SOCK_DGRAM` +
//! `IPPROTO_ICMP` sockets). Each socket owns one ICMP identifier (RFC 792
//! "Echo or Echo Reply Message": "an identifier ... to aid in matching
//! echos and replies").

use super::{EventQueue, Handle, Slab};
use crate::error::StackError;
use crate::icmp::IcmpError;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// Names an open ping socket of a [`crate::NetStack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PingHandle(pub(crate) Handle);

/// What a ping socket receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingEvent {
    /// An Echo Reply with this socket's identifier.
    Reply {
        /// Source address of the reply.
        from: Ipv4Addr,
        /// Its sequence number.
        seq: u16,
        /// TTL of the reply's IP header (what `ping` prints as `ttl=`).
        ttl: u8,
        /// ICMP payload bytes (the echoed data, header excluded).
        len: usize,
    },
    /// An ICMP error quoting one of this socket's echo requests, or a local
    /// failure (ARP resolution failed: `HostUnreachable` from our own address).
    Error {
        /// Who reported it (source of the ICMP error).
        from: Ipv4Addr,
        /// Sequence number of the request that failed.
        seq: u16,
        /// The error.
        error: IcmpError,
    },
}

#[derive(Debug)]
pub(crate) struct PingSocket {
    pub(crate) ident: u16,
    pub(crate) queue: EventQueue<PingEvent>,
}

/// All ping sockets of a stack, indexed by ICMP identifier.
#[derive(Debug)]
pub(crate) struct PingSockets {
    slab: Slab<PingSocket>,
    by_ident: HashMap<u16, Handle>,
    next_ident: u16,
    queue_len: usize,
}

impl PingSockets {
    pub(crate) fn new(max_sockets: usize, queue_len: usize) -> Self {
        Self {
            slab: Slab::new(max_sockets.min(usize::from(u16::MAX))),
            by_ident: HashMap::new(),
            next_ident: 0x7601,
            queue_len,
        }
    }

    pub(crate) fn open(&mut self) -> Result<PingHandle, StackError> {
        if self.slab.len() >= usize::from(u16::MAX) {
            return Err(StackError::TooManySockets);
        }
        let mut ident = self.next_ident;
        while self.by_ident.contains_key(&ident) {
            ident = ident.wrapping_add(1);
        }
        let h = self.slab.insert(PingSocket {
            ident,
            queue: EventQueue::new(self.queue_len),
        })?;
        self.next_ident = ident.wrapping_add(1);
        self.by_ident.insert(ident, h);
        Ok(PingHandle(h))
    }

    pub(crate) fn get(&self, h: PingHandle) -> Result<&PingSocket, StackError> {
        self.slab.get(h.0).ok_or(StackError::BadHandle)
    }

    pub(crate) fn get_mut(&mut self, h: PingHandle) -> Result<&mut PingSocket, StackError> {
        self.slab.get_mut(h.0).ok_or(StackError::BadHandle)
    }

    pub(crate) fn close(&mut self, h: PingHandle) {
        if let Some(s) = self.slab.remove(h.0) {
            self.by_ident.remove(&s.ident);
        }
    }

    pub(crate) fn by_ident(&mut self, ident: u16) -> Option<&mut PingSocket> {
        let h = *self.by_ident.get(&ident)?;
        self.slab.get_mut(h)
    }
}
