//! The UDP socket under a cable end: bound non-blocking, registered with
//! the reactor for readability only, large buffers, SO_RXQ_OVFL on, and
//! fragmentation allowed so a carrier network with a small MTU still
//! carries full-size frames.

use crate::counters::InterfaceCounters;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use tokio::io::unix::AsyncFd;

/// Binds a non-blocking UDP socket registered with the reactor for
/// readability only; its datagrams may be fragmented by the kernel.
pub(crate) fn bind_socket(
    name: &str,
    local: SocketAddr,
) -> io::Result<AsyncFd<std::net::UdpSocket>> {
    let context = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!("interface {name}: cannot bind cable socket {local}: {e}"),
        )
    };
    let std_socket = std::net::UdpSocket::bind(local).map_err(context)?;
    std_socket.set_nonblocking(true).map_err(context)?;
    allow_fragmentation(&std_socket).map_err(context)?;
    size_buffers(&std_socket);
    // SAFETY: `register_with_interest` needs the fd to stay open and
    // the same for the AsyncFd's lifetime: the AsyncFd owns the socket,
    // which owns its fd and never changes it.
    #[allow(unsafe_code)]
    let socket =
        unsafe { AsyncFd::register_with_interest(std_socket, tokio::io::Interest::READABLE) }
            .map_err(|e| context(e.into()))?;
    Ok(socket)
}

/// Socket buffers of a cable end: room for bursts (a TCP window of
/// full-size frames) so the kernel does not drop what the device has not
/// read yet. Raised above the system limit where the process may
/// (SO_RCVBUFFORCE needs CAP_NET_ADMIN), else as far as the limit allows.
const SOCKET_BUFFER: usize = 4 << 20;

fn size_buffers(socket: &std::net::UdpSocket) {
    use nix::sys::socket::{setsockopt, sockopt};
    if setsockopt(socket, sockopt::RcvBufForce, &SOCKET_BUFFER).is_err() {
        let _ = setsockopt(socket, sockopt::RcvBuf, &SOCKET_BUFFER);
    }
    if setsockopt(socket, sockopt::SndBufForce, &SOCKET_BUFFER).is_err() {
        let _ = setsockopt(socket, sockopt::SndBuf, &SOCKET_BUFFER);
    }
    // The kernel's count of datagrams dropped for a full receive buffer,
    // stamped on every datagram queued after a drop (recv_counting_overflow).
    let _ = setsockopt(socket, sockopt::RxqOvfl, &1);
}

/// `recv_from` that also reads SO_RXQ_OVFL, the socket's cumulative count of
/// datagrams the kernel dropped for lack of buffer, into `drop_rx_overflow`.
/// The control buffer lives on the stack: no allocation per datagram.
pub(crate) fn recv_counting_overflow(
    socket: &std::net::UdpSocket,
    buf: &mut [u8],
    counters: &InterfaceCounters,
) -> io::Result<(usize, SocketAddr)> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg};
    use std::os::fd::AsRawFd;
    let mut iov = [std::io::IoSliceMut::new(buf)];
    let mut control = nix::cmsg_space!(u32);
    let msg = recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut control),
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    let from = msg
        .address
        .and_then(|a| {
            a.as_sockaddr_in()
                .map(|v4| SocketAddr::from(std::net::SocketAddrV4::from(*v4)))
                .or_else(|| {
                    a.as_sockaddr_in6()
                        .map(|v6| SocketAddr::from(std::net::SocketAddrV6::from(*v6)))
                })
        })
        .ok_or_else(|| io::Error::other("datagram without a source address"))?;
    if let Ok(cmsgs) = msg.cmsgs() {
        for cmsg in cmsgs {
            if let ControlMessageOwned::RxqOvfl(dropped) = cmsg {
                counters
                    .drop_rx_overflow
                    .fetch_max(u64::from(dropped), Ordering::Relaxed);
            }
        }
    }
    Ok((msg.bytes, from))
}

/// Carrier MTU: an emulated 1500-byte frame plus the envelope (≈1550
/// bytes) does not fit an overlay network's 1450-byte MTU (VXLAN). The
/// cable lets the kernel fragment such datagrams (IP_PMTUDISC_DONT: DF
/// never set, fragmented locally and by any router on the way) instead of
/// refusing them or relying on path-MTU discovery, whose first datagrams
/// are lost; the far kernel reassembles them. See docs/design.md.
fn allow_fragmentation(socket: &std::net::UdpSocket) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (level, option) = match socket.local_addr()? {
        SocketAddr::V4(_) => (libc::IPPROTO_IP, libc::IP_MTU_DISCOVER),
        SocketAddr::V6(_) => (libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER),
    };
    let value: libc::c_int = libc::IP_PMTUDISC_DONT;
    // SAFETY: a valid open fd (borrowed from `socket` for the call), a
    // pointer to a live c_int and its exact size.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            option,
            (&raw const value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
