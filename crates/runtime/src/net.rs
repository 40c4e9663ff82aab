//! Async sockets over a device's sans-IO [`NetStack`](vnet_stack::NetStack),
//! for applications and servers running inside a device process (ping,
//! traceroute, DNS, …).
//!
//! The stack keeps a waker per socket and wakes it when an event is queued;
//! these wrappers poll under the device lock, transmit through the device's
//! cables, and close their socket when dropped (also when an exec client
//! disconnects and the application future is dropped).

use crate::handle::DeviceHandle;
use std::future::poll_fn;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::task::Poll;
use vnet_stack::{PingEvent, PingHandle, SendOptions, StackError, UdpEvent, UdpHandle, UdpMeta};

pub use crate::net_device::NetDevice;

/// An ICMP echo socket.
pub struct PingSocket<D: NetDevice> {
    handle: DeviceHandle<D>,
    socket: PingHandle,
}

impl<D: NetDevice> PingSocket<D> {
    /// Opens an echo socket with its own identifier.
    pub fn open(handle: &DeviceHandle<D>) -> Result<PingSocket<D>, StackError> {
        let socket = handle.with(|dev, _, _| dev.stack_mut().ping_open())?;
        Ok(PingSocket {
            handle: handle.clone(),
            socket,
        })
    }

    /// Sends one echo request.
    pub fn send(
        &self,
        dst: Ipv4Addr,
        seq: u16,
        payload: &[u8],
        opts: SendOptions,
    ) -> Result<(), StackError> {
        let socket = self.socket;
        self.handle.with(|dev, now, tx| {
            dev.stack_mut()
                .ping_send(now, socket, dst, seq, payload, opts, tx)
        })
    }

    /// Waits for the next reply or error.
    pub async fn next_event(&self) -> PingEvent {
        let socket = self.socket;
        poll_fn(|cx| {
            self.handle
                .with(|dev, _, _| match dev.stack_mut().ping_recv(socket) {
                    Some(event) => Poll::Ready(event),
                    None => {
                        dev.stack_mut().ping_register_waker(socket, cx.waker());
                        Poll::Pending
                    }
                })
        })
        .await
    }
}

impl<D: NetDevice> Drop for PingSocket<D> {
    fn drop(&mut self) {
        let socket = self.socket;
        self.handle
            .with(|dev, _, _| dev.stack_mut().ping_close(socket));
    }
}

/// A UDP socket.
pub struct UdpSocket<D: NetDevice> {
    handle: DeviceHandle<D>,
    socket: UdpHandle,
}

impl<D: NetDevice> UdpSocket<D> {
    /// Binds `port` (0 = the stack's next free ephemeral port in 49152..=65535, handed out in sequence; code that needs an unpredictable port, such as a DNS client, picks a random one itself).
    pub fn bind(handle: &DeviceHandle<D>, port: u16) -> Result<UdpSocket<D>, StackError> {
        let socket = handle.with(|dev, _, _| dev.stack_mut().udp_bind(port))?;
        Ok(UdpSocket {
            handle: handle.clone(),
            socket,
        })
    }

    /// The bound local port.
    pub fn local_port(&self) -> u16 {
        let socket = self.socket;
        self.handle
            .with(|dev, _, _| dev.stack_mut().udp_local_port(socket))
            .unwrap_or(0)
    }

    /// Sends one datagram.
    pub fn send_to(
        &self,
        dst: SocketAddrV4,
        payload: &[u8],
        opts: SendOptions,
    ) -> Result<(), StackError> {
        let socket = self.socket;
        self.handle.with(|dev, now, tx| {
            dev.stack_mut()
                .udp_send_to(now, socket, dst, payload, opts, tx)
        })
    }

    /// Waits for the next datagram or ICMP error.
    pub async fn next_event(&self) -> UdpEvent {
        let socket = self.socket;
        poll_fn(|cx| {
            self.handle
                .with(|dev, _, _| match dev.stack_mut().udp_recv(socket) {
                    Some(event) => Poll::Ready(event),
                    None => {
                        dev.stack_mut().udp_register_waker(socket, cx.waker());
                        Poll::Pending
                    }
                })
        })
        .await
    }

    /// Waits for the next event with where it arrived (interface, destination).
    pub async fn next_event_with_meta(&self) -> (UdpEvent, UdpMeta) {
        let socket = self.socket;
        poll_fn(|cx| {
            self.handle.with(
                |dev, _, _| match dev.stack_mut().udp_recv_with_meta(socket) {
                    Some(event) => Poll::Ready(event),
                    None => {
                        dev.stack_mut().udp_register_waker(socket, cx.waker());
                        Poll::Pending
                    }
                },
            )
        })
        .await
    }

    /// Sends out of interface `port` from `src` (0.0.0.0 allowed), bypassing routing (DHCP).
    pub fn send_via(
        &self,
        port: usize,
        src: Ipv4Addr,
        dst: SocketAddrV4,
        payload: &[u8],
    ) -> Result<(), StackError> {
        let socket = self.socket;
        self.handle.with(|dev, now, tx| {
            dev.stack_mut()
                .udp_send_via(now, socket, port, src, dst, payload, tx)
        })
    }

    /// The stack handle of this socket.
    pub fn handle(&self) -> UdpHandle {
        self.socket
    }

    /// Waits for the next datagram, skipping ICMP errors.
    pub async fn recv_from(&self) -> (SocketAddrV4, Vec<u8>) {
        loop {
            if let UdpEvent::Datagram { from, payload } = self.next_event().await {
                return (from, payload);
            }
        }
    }

    /// Like [`UdpSocket::recv_from`], with the trace span of the frame that
    /// carried the datagram: a server makes its span a child of it.
    pub async fn recv_from_traced(
        &self,
    ) -> (
        SocketAddrV4,
        Vec<u8>,
        Option<vnet_wire::trace::TraceContext>,
    ) {
        loop {
            if let (UdpEvent::Datagram { from, payload }, meta) = self.next_event_with_meta().await
            {
                return (from, payload, meta.trace);
            }
        }
    }
}

impl<D: NetDevice> Drop for UdpSocket<D> {
    fn drop(&mut self) {
        let socket = self.socket;
        self.handle
            .with(|dev, _, _| dev.stack_mut().udp_close(socket));
    }
}
