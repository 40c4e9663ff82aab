//! Batched cable I/O: many datagrams per system call.
//!
//! A device reads up to [`BATCH`] datagrams of a cable with one
//! `recvmmsg(2)`, handles every frame of the batch, and sends what the
//! batch produced with one `sendmmsg(2)` per cable end (see
//! [`crate::CableEnd::recv_batch`] and [`Cork`]). Per forwarded frame that
//! replaces two system calls by two shares of one, which is where a device
//! spent almost all its time (docs/design.md, "Batching").
//!
//! Why not quinn-udp: its receive path has no way to hand back the
//! SO_RXQ_OVFL count (the kernel's per-socket drop counter that vnet shows
//! as `drop_rx_overflow`), and its send path batches only through UDP GSO,
//! which needs equal-size datagrams to one destination; a cable's frames
//! vary in size from one datagram to the next. Two `libc` calls with
//! preallocated headers do what is needed with no allocation per frame.

use crate::CableEnd;
use crate::end::{MAX_DATAGRAM_LEN, RECV_BUFFER_LEN};
use std::io;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;
use std::sync::Arc;

/// Datagrams per batch, both ways. 32 frames of a window in flight cover
/// the bursts a TCP sender makes; more buys little and costs buffer memory
/// (touched only when used).
pub const BATCH: usize = 32;

thread_local! {
    /// Whether sends on this thread are being collected for one
    /// `sendmmsg` per cable end ([`corked`]).
    static CORKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside [`corked`].
pub(crate) fn is_corked() -> bool {
    CORKED.with(|c| c.get())
}

/// Runs `f` (which handles a received batch) with sends on UDP cable ends
/// queued instead of sent, then sends each end's queue with one
/// `sendmmsg` (a full queue is sent early). Sends from elsewhere (timers,
/// applications, the delay line) go out at once as before. Nested calls
/// flush at the outermost one.
pub fn corked<R>(ends: &[Arc<CableEnd>], f: impl FnOnce() -> R) -> R {
    struct Uncork<'a> {
        ends: &'a [Arc<CableEnd>],
        outer: bool,
    }
    impl Drop for Uncork<'_> {
        // Also on a panic inside `f`: nothing stays queued.
        fn drop(&mut self) {
            if self.outer {
                CORKED.with(|c| c.set(false));
                for end in self.ends {
                    end.flush();
                }
            }
        }
    }
    let outer = !CORKED.with(|c| c.replace(true));
    let _uncork = Uncork { ends, outer };
    f()
}

/// Control-message room per received datagram: one `u32` (SO_RXQ_OVFL)
/// with its header, 8-byte aligned.
const CONTROL_LEN: usize = 32;

/// Buffers for one `recvmmsg` call: [`BATCH`] slots of
/// [`RECV_BUFFER_LEN`] bytes, allocated once per cable end reader.
pub struct RecvBatch {
    data: Box<[u8]>,
    lens: [usize; BATCH],
    from: [Option<SocketAddr>; BATCH],
    count: usize,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch {
            data: vec![0u8; BATCH * RECV_BUFFER_LEN].into_boxed_slice(),
            lens: [0; BATCH],
            from: [None; BATCH],
            count: 0,
        }
    }
}

impl RecvBatch {
    /// Datagrams held after the last receive.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the last receive got nothing.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Datagram `i`: its whole slot (to be edited in place), its length
    /// and its source.
    pub(crate) fn slot(&mut self, i: usize) -> (&mut [u8], usize, Option<SocketAddr>) {
        let start = i * RECV_BUFFER_LEN;
        (
            &mut self.data[start..start + RECV_BUFFER_LEN],
            self.lens[i],
            self.from[i],
        )
    }

    /// Reads up to [`BATCH`] datagrams from the non-blocking socket `fd`
    /// without waiting. Returns the highest SO_RXQ_OVFL count seen (the
    /// kernel's cumulative drops for a full buffer), if any was stamped.
    pub(crate) fn receive(&mut self, fd: RawFd) -> io::Result<Option<u32>> {
        self.count = 0;
        // SAFETY: all-zero bytes are valid values of these plain C structs.
        #[allow(unsafe_code)]
        let mut names: [libc::sockaddr_storage; BATCH] = unsafe { std::mem::zeroed() };
        let mut control = [[0u64; CONTROL_LEN / 8]; BATCH];
        let mut iovecs: [libc::iovec; BATCH] = std::array::from_fn(|i| libc::iovec {
            iov_base: self.data[i * RECV_BUFFER_LEN..].as_mut_ptr().cast(),
            iov_len: RECV_BUFFER_LEN,
        });
        // SAFETY: as above.
        #[allow(unsafe_code)]
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for (i, h) in headers.iter_mut().enumerate() {
            h.msg_hdr.msg_name = (&raw mut names[i]).cast();
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
            h.msg_hdr.msg_iov = &raw mut iovecs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = control[i].as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = CONTROL_LEN as _;
        }
        // SAFETY: every header points at live buffers of the stated sizes
        // (names, iovecs into `self.data`, control), all outliving the call.
        #[allow(unsafe_code)]
        let n = unsafe {
            libc::recvmmsg(
                fd,
                headers.as_mut_ptr(),
                BATCH as _,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut overflow = None;
        for (i, h) in headers.iter().enumerate().take(n as usize) {
            self.lens[i] = h.msg_len as usize;
            self.from[i] = socket_addr(&names[i]);
            if let Some(dropped) = rx_overflow(&h.msg_hdr) {
                overflow = overflow.max(Some(dropped));
            }
        }
        self.count = n as usize;
        Ok(overflow)
    }
}

/// The SO_RXQ_OVFL count among the control messages of `hdr`, if any.
fn rx_overflow(hdr: &libc::msghdr) -> Option<u32> {
    // SAFETY: `hdr` was filled by recvmmsg; CMSG_FIRSTHDR/NXTHDR stay
    // within msg_control/msg_controllen, and CMSG_DATA of an SO_RXQ_OVFL
    // message holds a u32 (read unaligned to be safe).
    #[allow(unsafe_code)]
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(hdr);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SO_RXQ_OVFL {
                return Some(std::ptr::read_unaligned(
                    libc::CMSG_DATA(cmsg).cast::<u32>(),
                ));
            }
            cmsg = libc::CMSG_NXTHDR(hdr, cmsg);
        }
    }
    None
}

/// A `sockaddr_storage` filled by the kernel as a Rust address.
fn socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            #[allow(unsafe_code)]
            let a =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                u32::from_be(a.sin_addr.s_addr).into(),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            #[allow(unsafe_code)]
            let a = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            Some(SocketAddr::V6(SocketAddrV6::new(
                a.sin6_addr.s6_addr.into(),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Datagrams waiting to leave one cable end in one `sendmmsg`, each with
/// where its Ethernet frame starts (after the envelope).
pub(crate) struct TxQueue {
    data: Box<[u8]>,
    lens: [usize; BATCH],
    frame_starts: [usize; BATCH],
    count: usize,
}

impl Default for TxQueue {
    fn default() -> Self {
        TxQueue {
            data: vec![0u8; BATCH * MAX_DATAGRAM_LEN].into_boxed_slice(),
            lens: [0; BATCH],
            frame_starts: [0; BATCH],
            count: 0,
        }
    }
}

impl TxQueue {
    /// Whether no more datagrams fit.
    pub(crate) fn is_full(&self) -> bool {
        self.count == BATCH
    }

    /// Whether nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Queues a copy of `bytes`; the caller flushes a full queue first.
    pub(crate) fn push(&mut self, bytes: &[u8], frame_start: usize) {
        debug_assert!(!self.is_full() && bytes.len() <= MAX_DATAGRAM_LEN);
        let i = self.count;
        let start = i * MAX_DATAGRAM_LEN;
        self.data[start..start + bytes.len()].copy_from_slice(bytes);
        self.lens[i] = bytes.len();
        self.frame_starts[i] = frame_start;
        self.count += 1;
    }

    /// Datagram `i` and where its frame starts.
    pub(crate) fn datagram(&self, i: usize) -> (&[u8], usize) {
        let start = i * MAX_DATAGRAM_LEN;
        (
            &self.data[start..start + self.lens[i]],
            self.frame_starts[i],
        )
    }

    /// Datagrams queued.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Forgets every queued datagram.
    pub(crate) fn clear(&mut self) {
        self.count = 0;
    }

    /// Sends the queued datagrams to `to` with as few `sendmmsg` calls as
    /// the kernel allows. Returns how many left and, if it stopped early,
    /// why (the rest were not sent).
    pub(crate) fn send_to(&self, fd: RawFd, to: SocketAddr) -> (usize, Option<io::Error>) {
        let (name, name_len) = sockaddr(to);
        let mut iovecs: [libc::iovec; BATCH] = std::array::from_fn(|i| libc::iovec {
            iov_base: self.data[i * MAX_DATAGRAM_LEN..].as_ptr().cast_mut().cast(),
            iov_len: self.lens[i],
        });
        // SAFETY: all-zero bytes are a valid mmsghdr.
        #[allow(unsafe_code)]
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for (h, iov) in headers.iter_mut().zip(iovecs.iter_mut()).take(self.count) {
            h.msg_hdr.msg_name = (&raw const name).cast_mut().cast();
            h.msg_hdr.msg_namelen = name_len;
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
        }
        let mut sent = 0;
        while sent < self.count {
            // SAFETY: headers[sent..count] point at live iovecs over
            // `self.data` and at `name`, all outliving the call; the kernel
            // only reads the buffers.
            #[allow(unsafe_code)]
            let n = unsafe {
                libc::sendmmsg(
                    fd,
                    headers[sent..].as_mut_ptr(),
                    (self.count - sent) as _,
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                return (sent, Some(io::Error::last_os_error()));
            }
            if n == 0 {
                return (sent, Some(io::Error::from(io::ErrorKind::WouldBlock)));
            }
            sent += n as usize;
        }
        (sent, None)
    }
}

/// `to` as a C socket address and its length.
fn sockaddr(to: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    #[allow(unsafe_code)]
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match to {
        SocketAddr::V4(v4) => {
            let a = libc::sockaddr_in {
                sin_family: libc::AF_INET as _,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*v4.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            #[allow(unsafe_code)]
            unsafe {
                std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in>(), a)
            };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            let a = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as _,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            #[allow(unsafe_code)]
            unsafe {
                std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in6>(), a)
            };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_batch_of_datagrams_goes_out_in_one_call_and_comes_back_in_one() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a");
        let b = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind b");
        let mut q = TxQueue::default();
        for i in 0..20u8 {
            let d = vec![i; 60 + usize::from(i) * 50];
            q.push(&d, 4);
        }
        let (sent, err) = q.send_to(a.as_raw_fd(), b.local_addr().expect("addr"));
        assert_eq!((sent, err.map(|e| e.kind())), (20, None));
        let mut rx = RecvBatch::default();
        let mut got = 0;
        while got < 20 {
            match rx.receive(b.as_raw_fd()) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
            for i in 0..rx.len() {
                let (buf, len, from) = rx.slot(i);
                let n = got as u8;
                assert_eq!(len, 60 + usize::from(n) * 50, "datagram {got}");
                assert!(buf[..len].iter().all(|&x| x == n));
                assert_eq!(from, Some(a.local_addr().expect("addr")));
                got += 1;
            }
        }
    }
}
