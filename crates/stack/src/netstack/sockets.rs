//! The public socket API of [`NetStack`]: ICMP echo ("ping") sockets and
//! UDP sockets.

use super::NetStack;
use super::output::Outgoing;
use crate::config::SendOptions;
use crate::error::StackError;
use crate::socket::ping::{PingEvent, PingHandle};
use crate::socket::udp::{UdpEvent, UdpHandle};
use crate::time::Instant;
use crate::transmit::Transmit;
use core::task::Waker;
use std::net::{Ipv4Addr, SocketAddrV4};
use vnet_wire::icmpv4::{self, Icmpv4Packet, Icmpv4Repr};
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4;
use vnet_wire::udp::{self, UdpPacket, UdpRepr};

/// Largest payload of one datagram after a header of `transport` bytes
/// (RFC 791: Total Length ≤ 65535).
const fn max_payload(transport: usize) -> usize {
    65_535 - ipv4::HEADER_LEN - transport
}

impl NetStack {
    /// Opens a ping socket with its own ICMP identifier.
    pub fn ping_open(&mut self) -> Result<PingHandle, StackError> {
        self.pings.open()
    }

    /// The ICMP identifier used by a ping socket.
    pub fn ping_ident(&self, h: PingHandle) -> Option<u16> {
        self.pings.get(h).ok().map(|s| s.ident)
    }

    /// Sends an ICMP Echo Request (RFC 792) with this socket's identifier,
    /// sequence number `seq` and `payload` as data.
    ///
    /// Synchronous errors: [`StackError::NoRoute`], [`StackError::NoAddress`],
    /// [`StackError::PayloadTooLarge`], [`StackError::MessageTooLong`] (DF set
    /// and larger than the egress MTU), [`StackError::BadHandle`]. An ARP
    /// failure later arrives as [`PingEvent::Error`] with `HostUnreachable`.
    #[allow(clippy::too_many_arguments)]
    pub fn ping_send(
        &mut self,
        now: Instant,
        h: PingHandle,
        dst: Ipv4Addr,
        seq: u16,
        payload: &[u8],
        opts: SendOptions,
        tx: &mut dyn Transmit,
    ) -> Result<(), StackError> {
        let ident = self.pings.get_mut(h)?.ident;
        let max = max_payload(icmpv4::HEADER_LEN);
        if payload.len() > max {
            return Err(StackError::PayloadTooLarge {
                len: payload.len(),
                max,
            });
        }
        let eg = self.egress(dst)?;
        let repr = Icmpv4Repr::EchoRequest {
            ident,
            seq_no: seq,
            data: payload,
        };
        let mut msg = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut msg[..]));
        let out = Outgoing {
            proto: IpProtocol::Icmp,
            ttl: opts.ttl.unwrap_or(self.config.default_ttl),
            dont_frag: opts.dont_frag,
            payload: &msg,
        };
        self.send_datagram(now, &eg, out, tx)?;
        self.counters.icmp_tx += 1;
        self.drain_loopback(now, tx);
        Ok(())
    }

    /// The next event of a ping socket, if any.
    pub fn ping_recv(&mut self, h: PingHandle) -> Option<PingEvent> {
        self.pings.get_mut(h).ok()?.queue.pop()
    }

    /// Registers a waker woken when the socket has an event (woken at once
    /// if one is already waiting). Ignored for a bad handle.
    pub fn ping_register_waker(&mut self, h: PingHandle, waker: &Waker) {
        if let Ok(s) = self.pings.get_mut(h) {
            s.queue.register_waker(waker);
        }
    }

    /// Closes a ping socket; its pending events are discarded.
    pub fn ping_close(&mut self, h: PingHandle) {
        self.pings.close(h);
    }

    /// Binds a UDP socket to `port` on every address of the stack; port 0
    /// picks a free ephemeral port in 49152..=65535 (RFC 6335 §6).
    pub fn udp_bind(&mut self, port: u16) -> Result<UdpHandle, StackError> {
        self.udps.bind(port)
    }

    /// The local port of a UDP socket.
    pub fn udp_local_port(&self, h: UdpHandle) -> Option<u16> {
        self.udps.get(h).ok().map(|s| s.port)
    }

    /// Sends one UDP datagram (RFC 768) to `dst`, with a checksum.
    ///
    /// Synchronous errors as for [`NetStack::ping_send`]; ICMP errors about
    /// the datagram later arrive as [`UdpEvent::Error`].
    pub fn udp_send_to(
        &mut self,
        now: Instant,
        h: UdpHandle,
        dst: SocketAddrV4,
        payload: &[u8],
        opts: SendOptions,
        tx: &mut dyn Transmit,
    ) -> Result<(), StackError> {
        let src_port = self.udp_source_port(h, payload)?;
        let eg = self.egress(*dst.ip())?;
        self.udp_emit(now, &eg, src_port, dst, payload, opts, tx)?;
        self.drain_loopback(now, tx);
        Ok(())
    }

    /// The local port of socket `h`, once `payload` is known to fit a datagram.
    fn udp_source_port(&self, h: UdpHandle, payload: &[u8]) -> Result<u16, StackError> {
        let src_port = self.udps.get(h)?.port;
        let max = max_payload(udp::HEADER_LEN);
        if payload.len() > max {
            return Err(StackError::PayloadTooLarge {
                len: payload.len(),
                max,
            });
        }
        Ok(src_port)
    }

    /// Builds the UDP datagram (checksum over `eg.src`) and sends it along `eg`.
    #[allow(clippy::too_many_arguments)]
    fn udp_emit(
        &mut self,
        now: Instant,
        eg: &super::output::Egress,
        src_port: u16,
        dst: SocketAddrV4,
        payload: &[u8],
        opts: SendOptions,
        tx: &mut dyn Transmit,
    ) -> Result<(), StackError> {
        let repr = UdpRepr {
            src_port,
            dst_port: dst.port(),
        };
        let mut msg = vec![0u8; repr.buffer_len(payload.len())];
        repr.emit_with_payload(
            &mut UdpPacket::new_unchecked(&mut msg[..]),
            eg.src,
            *dst.ip(),
            payload,
        );
        let out = Outgoing {
            proto: IpProtocol::Udp,
            // Multicast stays on the link unless asked otherwise (RFC 1112
            // §6.1; Linux's IP_MULTICAST_TTL defaults to 1).
            ttl: opts.ttl.unwrap_or(if dst.ip().is_multicast() {
                1
            } else {
                self.config.default_ttl
            }),
            dont_frag: opts.dont_frag,
            payload: &msg,
        };
        self.send_datagram(now, eg, out, tx)?;
        self.counters.udp_tx += 1;
        Ok(())
    }

    /// The next event of a UDP socket, if any.
    pub fn udp_recv(&mut self, h: UdpHandle) -> Option<UdpEvent> {
        self.udp_recv_with_meta(h).map(|(event, _)| event)
    }

    /// The next event of a UDP socket with where it arrived (interface and
    /// destination address), for servers such as DHCP that answer per interface.
    pub fn udp_recv_with_meta(
        &mut self,
        h: UdpHandle,
    ) -> Option<(UdpEvent, crate::socket::udp::UdpMeta)> {
        self.udps.get_mut(h).ok()?.queue.pop()
    }

    /// Sends a datagram out of interface `port` from source address `src`
    /// (0.0.0.0 is allowed: a DHCP client without an address, RFC 2131
    /// §4.1) to `dst`, bypassing the routing table. A limited broadcast goes
    /// to the Ethernet broadcast address; a unicast `dst` must be on the
    /// interface's link (it is resolved with ARP).
    #[allow(clippy::too_many_arguments)]
    pub fn udp_send_via(
        &mut self,
        now: Instant,
        h: UdpHandle,
        port: usize,
        src: Ipv4Addr,
        dst: SocketAddrV4,
        payload: &[u8],
        tx: &mut dyn Transmit,
    ) -> Result<(), StackError> {
        let src_port = self.udp_source_port(h, payload)?;
        let Some(iface) = self.interfaces.get(port) else {
            return Err(StackError::NoSuchPort { port });
        };
        let eg = super::output::Egress {
            dst: *dst.ip(),
            port,
            next_hop: *dst.ip(),
            src,
            mtu: usize::from(iface.mtu),
            local: false,
        };
        self.udp_emit(now, &eg, src_port, dst, payload, SendOptions::default(), tx)
    }

    /// Registers a waker woken when the socket has an event (woken at once
    /// if one is already waiting). Ignored for a bad handle.
    pub fn udp_register_waker(&mut self, h: UdpHandle, waker: &Waker) {
        if let Ok(s) = self.udps.get_mut(h) {
            s.queue.register_waker(waker);
        }
    }

    /// Closes a UDP socket, freeing its port; pending events are discarded.
    pub fn udp_close(&mut self, h: UdpHandle) {
        self.udps.close(h);
    }

    /// Events waiting on a UDP socket.
    pub fn udp_pending(&self, h: UdpHandle) -> usize {
        self.udps.get(h).map_or(0, |s| s.queue.len())
    }
}
