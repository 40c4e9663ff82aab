//! Async access to the host stack's sockets, for applications.
//!
//! The stack is sans-IO; a socket keeps a waker and the stack wakes it when
//! an event is queued. These wrappers poll under the device lock and close
//! the socket when dropped (also when the exec client disconnects).

use crate::Host;
use std::future::poll_fn;
use std::task::Poll;
use vnet_runtime::DeviceHandle;
use vnet_stack::{PingEvent, PingHandle, StackError, UdpEvent, UdpHandle};

/// An ICMP echo socket owned by an application.
pub(crate) struct PingSocket {
    handle: DeviceHandle<Host>,
    socket: PingHandle,
}

impl PingSocket {
    pub(crate) fn open(handle: &DeviceHandle<Host>) -> Result<PingSocket, StackError> {
        let socket = handle.with(|host, _, _| host.stack.ping_open())?;
        Ok(PingSocket {
            handle: handle.clone(),
            socket,
        })
    }

    pub(crate) fn handle(&self) -> PingHandle {
        self.socket
    }

    /// Waits for the next reply or error.
    pub(crate) async fn next_event(&self) -> PingEvent {
        poll_fn(|cx| {
            self.handle
                .with(|host, _, _| match host.stack.ping_recv(self.socket) {
                    Some(event) => Poll::Ready(event),
                    None => {
                        host.stack.ping_register_waker(self.socket, cx.waker());
                        Poll::Pending
                    }
                })
        })
        .await
    }
}

impl Drop for PingSocket {
    fn drop(&mut self) {
        let socket = self.socket;
        self.handle.with(|host, _, _| host.stack.ping_close(socket));
    }
}

/// A UDP socket owned by an application.
pub(crate) struct UdpSocket {
    handle: DeviceHandle<Host>,
    socket: UdpHandle,
}

impl UdpSocket {
    pub(crate) fn bind(handle: &DeviceHandle<Host>, port: u16) -> Result<UdpSocket, StackError> {
        let socket = handle.with(|host, _, _| host.stack.udp_bind(port))?;
        Ok(UdpSocket {
            handle: handle.clone(),
            socket,
        })
    }

    pub(crate) fn handle(&self) -> UdpHandle {
        self.socket
    }

    /// Waits for the next datagram or ICMP error.
    pub(crate) async fn next_event(&self) -> UdpEvent {
        poll_fn(|cx| {
            self.handle
                .with(|host, _, _| match host.stack.udp_recv(self.socket) {
                    Some(event) => Poll::Ready(event),
                    None => {
                        host.stack.udp_register_waker(self.socket, cx.waker());
                        Poll::Pending
                    }
                })
        })
        .await
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let socket = self.socket;
        self.handle.with(|host, _, _| host.stack.udp_close(socket));
    }
}
