//! Raw IP sockets on the stack ([`crate::socket::raw`]): receive every
//! datagram of a protocol the stack does not implement, send datagrams of
//! it out of one interface (a routing protocol's link-local multicast or a
//! neighbour's unicast).

use super::NetStack;
use super::output::{Egress, Outgoing};
use crate::error::StackError;
use crate::socket::raw::{RawDatagram, RawHandle};
use crate::time::Instant;
use crate::transmit::Transmit;
use std::net::Ipv4Addr;
use std::task::Waker;
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4::Ipv4Packet;

impl NetStack {
    /// Opens the raw socket of IP protocol `proto` (not 1, 6 or 17; one
    /// socket per protocol).
    pub fn raw_open(&mut self, proto: u8) -> Result<RawHandle, StackError> {
        self.raws.open(proto)
    }

    /// The next datagram of a raw socket, if any.
    pub fn raw_recv(&mut self, h: RawHandle) -> Option<RawDatagram> {
        self.raws.get_mut(h).ok()?.queue.pop()
    }

    /// Datagrams waiting on a raw socket.
    pub fn raw_pending(&self, h: RawHandle) -> usize {
        self.raws.get(h).map_or(0, |s| s.queue.len())
    }

    /// Registers a waker woken when the socket has a datagram.
    pub fn raw_register_waker(&mut self, h: RawHandle, waker: &Waker) {
        if let Ok(s) = self.raws.get_mut(h) {
            s.queue.register_waker(waker);
        }
    }

    /// Closes a raw socket; waiting datagrams are discarded.
    pub fn raw_close(&mut self, h: RawHandle) {
        self.raws.close(h);
    }

    /// Sends `payload` as one datagram of the socket's protocol out of
    /// interface `port`, from that interface's address, to `dst` (a
    /// multicast group, or a neighbour on the link: resolved with ARP),
    /// with `ttl` (1 for link-local protocols, RFC 2328 §A.1), bypassing
    /// the routing table.
    #[allow(clippy::too_many_arguments)]
    pub fn raw_send_via(
        &mut self,
        now: Instant,
        h: RawHandle,
        port: usize,
        dst: Ipv4Addr,
        ttl: u8,
        payload: &[u8],
        tx: &mut dyn Transmit,
    ) -> Result<(), StackError> {
        let proto = self.raws.get(h)?.proto;
        let Some(iface) = self.interfaces.get(port) else {
            return Err(StackError::NoSuchPort { port });
        };
        let src = iface
            .address
            .map(|a| a.address())
            .ok_or(StackError::NoAddress { port })?;
        let eg = Egress {
            dst,
            port,
            next_hop: dst,
            src,
            mtu: usize::from(iface.mtu),
            local: false,
        };
        let out = Outgoing {
            proto: IpProtocol::Unknown(proto),
            ttl,
            dont_frag: false,
            payload,
        };
        self.send_datagram(now, &eg, out, tx)?;
        self.counters.raw_tx += 1;
        Ok(())
    }

    /// Queues a datagram of protocol `proto` on its raw socket; false when
    /// none is open (the caller answers Protocol Unreachable).
    pub(super) fn raw_input(&mut self, in_port: usize, proto: u8, packet: &[u8]) -> bool {
        let Some(socket) = self.raws.by_proto(proto) else {
            return false;
        };
        let ip = Ipv4Packet::new_unchecked(packet);
        let datagram = RawDatagram {
            src: ip.src_addr(),
            dst: ip.dst_addr(),
            in_port,
            ttl: ip.hop_limit(),
            payload: ip.payload().to_vec(),
        };
        if socket.queue.push(datagram) {
            self.counters.raw_rx += 1;
        } else {
            self.counters.raw_queue_full += 1;
        }
        true
    }
}
