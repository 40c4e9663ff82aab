//! Async TCP over a device's sans-IO stack: [`TcpListener`] and
//! [`TcpStream`] implementing tokio's `AsyncRead`/`AsyncWrite`, so
//! applications inside a device are written as with tokio's own sockets.

use crate::handle::DeviceHandle;
use crate::net::NetDevice;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddrV4;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use vnet_stack::{StackError, TcpError, TcpHandle, TcpInfo, TcpState};

/// Maps a stack error to the `io::Error` a tokio socket would return.
pub fn io_error(e: StackError) -> io::Error {
    let kind = match &e {
        StackError::Connection(TcpError::Refused) => io::ErrorKind::ConnectionRefused,
        StackError::Connection(TcpError::Reset) => io::ErrorKind::ConnectionReset,
        StackError::Connection(TcpError::TimedOut) => io::ErrorKind::TimedOut,
        StackError::Connection(TcpError::Aborted) => io::ErrorKind::ConnectionAborted,
        StackError::Connection(TcpError::Unreachable(_)) => io::ErrorKind::HostUnreachable,
        StackError::NoRoute { .. } => io::ErrorKind::NetworkUnreachable,
        StackError::PortInUse { .. } => io::ErrorKind::AddrInUse,
        StackError::WouldBlock => io::ErrorKind::WouldBlock,
        StackError::NotConnected => io::ErrorKind::NotConnected,
        StackError::Shutdown => io::ErrorKind::BrokenPipe,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e.to_string())
}

/// A listening TCP socket.
pub struct TcpListener<D: NetDevice> {
    handle: DeviceHandle<D>,
    socket: TcpHandle,
    port: u16,
}

impl<D: NetDevice> TcpListener<D> {
    /// Listens on `port` of every address, with at most `backlog` connections waiting.
    pub fn bind(handle: &DeviceHandle<D>, port: u16, backlog: usize) -> io::Result<TcpListener<D>> {
        let socket = handle
            .with(|dev, _, _| dev.stack_mut().tcp_listen(port, backlog))
            .map_err(io_error)?;
        Ok(TcpListener {
            handle: handle.clone(),
            socket,
            port,
        })
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits for the next established connection.
    pub async fn accept(&self) -> io::Result<TcpStream<D>> {
        let socket = self.socket;
        let conn = poll_fn(|cx| {
            self.handle.with(|dev, _, _| {
                let stack = dev.stack_mut();
                match stack.tcp_accept(socket) {
                    Some(conn) => Poll::Ready(conn),
                    None => {
                        stack.tcp_register_recv_waker(socket, cx.waker());
                        Poll::Pending
                    }
                }
            })
        })
        .await;
        Ok(TcpStream {
            handle: self.handle.clone(),
            socket: conn,
        })
    }
}

impl<D: NetDevice> Drop for TcpListener<D> {
    fn drop(&mut self) {
        let socket = self.socket;
        self.handle
            .with(|dev, now, tx| dev.stack_mut().tcp_close(now, socket, tx));
    }
}

/// A TCP connection. Dropping it closes it gracefully (FIN after queued data).
pub struct TcpStream<D: NetDevice> {
    handle: DeviceHandle<D>,
    socket: TcpHandle,
}

impl<D: NetDevice> TcpStream<D> {
    /// Opens a connection to `dst` and waits for the handshake to finish.
    pub async fn connect(handle: &DeviceHandle<D>, dst: SocketAddrV4) -> io::Result<TcpStream<D>> {
        let socket = handle
            .with(|dev, now, tx| dev.stack_mut().tcp_connect(now, dst, tx))
            .map_err(io_error)?;
        let stream = TcpStream {
            handle: handle.clone(),
            socket,
        };
        poll_fn(|cx| {
            stream.handle.with(|dev, _, _| {
                let stack = dev.stack_mut();
                if let Some(e) = stack.tcp_error(socket) {
                    return Poll::Ready(Err(io_error(StackError::Connection(e))));
                }
                match stack.tcp_state(socket) {
                    Some(TcpState::SynSent | TcpState::SynReceived) => {
                        stack.tcp_register_send_waker(socket, cx.waker());
                        Poll::Pending
                    }
                    Some(TcpState::Closed) | None => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "connection closed during the handshake",
                    ))),
                    Some(_) => Poll::Ready(Ok(())),
                }
            })
        })
        .await?;
        Ok(stream)
    }

    /// A snapshot of the connection (state, cwnd, srtt, retransmissions…).
    pub fn info(&self) -> Option<TcpInfo> {
        let socket = self.socket;
        self.handle
            .with(|dev, _, _| dev.stack_mut().tcp_info(socket))
    }

    /// Disables Nagle's algorithm when `nodelay` is true.
    pub fn set_nodelay(&self, nodelay: bool) {
        let socket = self.socket;
        self.handle
            .with(|dev, _, _| dev.stack_mut().tcp_set_nodelay(socket, nodelay));
    }

    /// Local address and port.
    pub fn local_addr(&self) -> Option<SocketAddrV4> {
        self.info().map(|i| i.local)
    }

    /// Remote address and port.
    pub fn peer_addr(&self) -> Option<SocketAddrV4> {
        self.info().map(|i| i.remote)
    }

    /// The stack handle (for tables and tests).
    pub fn socket(&self) -> TcpHandle {
        self.socket
    }

    /// Reads the trace span this connection's latest work belongs to (the
    /// frame that delivered the last request, for a server), without
    /// borrowing the stream: a server continues its client's trace with it.
    pub fn trace_probe(
        &self,
    ) -> impl Fn() -> Option<vnet_wire::trace::TraceContext> + Send + Sync + 'static {
        let handle = self.handle.clone();
        let socket = self.socket;
        move || {
            handle
                .shared
                .with(None, |dev, _, _| dev.stack_mut().tcp_trace(socket))
        }
    }

    /// Resets the connection instead of closing it gracefully.
    pub fn abort(self) {
        let socket = self.socket;
        self.handle
            .with(|dev, now, tx| dev.stack_mut().tcp_abort(now, socket, tx));
        std::mem::forget(self);
    }
}

impl<D: NetDevice> AsyncRead for TcpStream<D> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let socket = self.socket;
        self.handle.with(|dev, now, tx| {
            let stack = dev.stack_mut();
            // Initialise (zero) only what can be filled now: a caller's
            // `read_buf` on a Vec's spare capacity would otherwise cost a
            // memset of all of it on every read. At least one byte, so
            // "nothing yet" (WouldBlock) stays apart from end of stream.
            let want = stack.tcp_recv_ready(socket).max(1).min(buf.remaining());
            let unfilled = buf.initialize_unfilled_to(want);
            match stack.tcp_recv(now, socket, unfilled, tx) {
                Ok(n) => {
                    buf.advance(n);
                    Poll::Ready(Ok(()))
                }
                Err(StackError::WouldBlock) => {
                    stack.tcp_register_recv_waker(socket, cx.waker());
                    Poll::Pending
                }
                Err(e) => Poll::Ready(Err(io_error(e))),
            }
        })
    }
}

impl<D: NetDevice> AsyncWrite for TcpStream<D> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let socket = self.socket;
        self.handle.with(|dev, now, tx| {
            let stack = dev.stack_mut();
            match stack.tcp_send(now, socket, data, tx) {
                Ok(n) => Poll::Ready(Ok(n)),
                Err(StackError::WouldBlock) => {
                    stack.tcp_register_send_waker(socket, cx.waker());
                    Poll::Pending
                }
                Err(e) => Poll::Ready(Err(io_error(e))),
            }
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Written data is already in the stack's send buffer, as with tokio's TcpStream.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let socket = self.socket;
        let result = self
            .handle
            .with(|dev, now, tx| dev.stack_mut().tcp_shutdown(now, socket, tx));
        Poll::Ready(match result {
            Ok(()) | Err(StackError::Shutdown) => Ok(()),
            Err(e) => Err(io_error(e)),
        })
    }
}

impl<D: NetDevice> Drop for TcpStream<D> {
    fn drop(&mut self) {
        let socket = self.socket;
        self.handle
            .with(|dev, now, tx| dev.stack_mut().tcp_close(now, socket, tx));
    }
}
