//! Batched cable I/O: many datagrams per system call, and per trip
//! through the kernel's UDP stack.
//!
//! A device reads a cable with one `recvmmsg(2)` into [`RX_SLOTS`] slots,
//! handles every frame of the batch, and sends what the batch produced
//! with one `sendmmsg(2)` per cable end (see
//! [`crate::CableEnd::recv_batch`] and [`corked`]). Runs of same-size
//! datagrams (a TCP sender's full segments) go as one UDP GSO message
//! (UDP_SEGMENT, Linux ≥ 4.18) and a batch-reading socket has UDP GRO on
//! (Linux ≥ 5.0), so on one machine such a run crosses the kernel as one
//! packet instead of one per frame: a profile of a router forwarding TCP
//! showed 82 % of its time in the kernel's per-datagram UDP path and 14 %
//! in vnet (docs/design.md, "Batching").
//!
//! Why not quinn-udp: its receive path has no way to hand back the
//! SO_RXQ_OVFL count (the kernel's per-socket drop counter that vnet shows
//! as `drop_rx_overflow`), and its send path takes one GSO run per call;
//! a cable end's batch mixes sizes (data and ACKs) and wants all its runs
//! in one `sendmmsg`, with a fallback to plain datagrams where GSO is
//! refused (a carrier MTU below the segment size). A few `libc` calls with
//! preallocated headers do exactly that with no allocation per frame.

use crate::CableEnd;
use crate::counters::DropReason;
use crate::end::MAX_DATAGRAM_LEN;
use crate::end::{Inner, Received, Transport};
use std::io;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Datagrams a cable end queues for one `sendmmsg`: 32 frames cover the
/// bursts a TCP sender makes; more buys little and costs buffer memory
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

/// Control-message room per message: SO_RXQ_OVFL and UDP_GRO on receive,
/// UDP_SEGMENT on send, each a 4-byte value with its header.
const CONTROL_LEN: usize = 64;

/// Receive slots per `recvmmsg`. Each holds one datagram or, with UDP
/// GRO, a run of same-size datagrams the kernel coalesced (up to 64 KiB).
pub const RX_SLOTS: usize = 16;
/// Bytes per receive slot: the largest GRO aggregate (and more than any
/// valid datagram, so oversize ones are detected rather than truncated).
const RX_SLOT_LEN: usize = 64 * 1024;
/// Most datagrams the kernel coalesces into one GRO aggregate.
const MAX_SEGMENTS: usize = 64;

/// Buffers for one `recvmmsg` call, allocated once per cable end reader
/// (pages are touched only as traffic fills them).
pub struct RecvBatch {
    data: Box<[u8]>,
    from: [Option<SocketAddr>; RX_SLOTS],
    /// Datagrams received: (start in `data`, length, slot).
    datagrams: Vec<(usize, usize, usize)>,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch {
            data: vec![0u8; RX_SLOTS * RX_SLOT_LEN].into_boxed_slice(),
            from: [None; RX_SLOTS],
            datagrams: Vec::with_capacity(RX_SLOTS * MAX_SEGMENTS),
        }
    }
}

impl RecvBatch {
    /// Datagrams held after the last receive.
    pub fn len(&self) -> usize {
        self.datagrams.len()
    }

    /// Whether the last receive got nothing.
    pub fn is_empty(&self) -> bool {
        self.datagrams.is_empty()
    }

    /// The bytes of datagram `i` of the last receive.
    pub fn datagram(&self, i: usize) -> &[u8] {
        let (start, len, _) = self.datagrams[i];
        &self.data[start..start + len]
    }

    /// Datagram `i`: its bytes (to be edited in place), its length and
    /// its source.
    pub(crate) fn slot(&mut self, i: usize) -> (&mut [u8], usize, Option<SocketAddr>) {
        let (start, len, slot) = self.datagrams[i];
        (&mut self.data[start..start + len], len, self.from[slot])
    }

    /// Reads up to [`RX_SLOTS`] messages from the non-blocking socket `fd`
    /// without waiting, splitting GRO aggregates into their datagrams.
    /// Returns the highest SO_RXQ_OVFL count seen (the kernel's cumulative
    /// drops for a full buffer), if any was stamped.
    pub fn receive(&mut self, fd: RawFd) -> io::Result<Option<u32>> {
        self.datagrams.clear();
        // SAFETY: all-zero bytes are valid values of these plain C structs.
        #[allow(unsafe_code)]
        let mut names: [libc::sockaddr_storage; RX_SLOTS] = unsafe { std::mem::zeroed() };
        let mut control = [[0u64; CONTROL_LEN / 8]; RX_SLOTS];
        let mut iovecs: [libc::iovec; RX_SLOTS] = std::array::from_fn(|i| libc::iovec {
            iov_base: self.data[i * RX_SLOT_LEN..].as_mut_ptr().cast(),
            iov_len: RX_SLOT_LEN,
        });
        // SAFETY: as above.
        #[allow(unsafe_code)]
        let mut headers: [libc::mmsghdr; RX_SLOTS] = unsafe { std::mem::zeroed() };
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
                RX_SLOTS as _,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut overflow = None;
        for (slot, h) in headers.iter().enumerate().take(n as usize) {
            self.from[slot] = socket_addr(&names[slot]);
            let (dropped, segment) = control_values(&h.msg_hdr);
            if dropped.is_some() {
                overflow = overflow.max(dropped);
            }
            let len = (h.msg_len as usize).min(RX_SLOT_LEN);
            let start = slot * RX_SLOT_LEN;
            match segment.filter(|&s| s > 0 && s < len) {
                Some(size) => {
                    for offset in (0..len).step_by(size) {
                        let piece = size.min(len - offset);
                        self.datagrams.push((start + offset, piece, slot));
                    }
                }
                None => self.datagrams.push((start, len, slot)),
            }
        }
        Ok(overflow)
    }
}

/// Turns on UDP GRO for `fd` (the kernel then hands over runs of same-size
/// datagrams as one message, split again by [`RecvBatch::receive`]). Only
/// for sockets read through [`RecvBatch`]: a plain `recv` into a small
/// buffer would truncate an aggregate. Returns whether the kernel agreed.
pub fn enable_gro(fd: RawFd) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: a valid fd, a pointer to a live c_int and its exact size.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_UDP,
            libc::UDP_GRO,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// SO_RXQ_OVFL (drops so far) and UDP_GRO (segment size) among the
/// control messages of `hdr`.
fn control_values(hdr: &libc::msghdr) -> (Option<u32>, Option<usize>) {
    let (mut dropped, mut segment) = (None, None);
    // SAFETY: `hdr` was filled by recvmmsg; CMSG_FIRSTHDR/NXTHDR stay
    // within msg_control/msg_controllen, and the data of both messages is
    // a 4-byte integer (read unaligned to be safe).
    #[allow(unsafe_code)]
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(hdr);
        while !cmsg.is_null() {
            let value = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<u32>());
            match ((*cmsg).cmsg_level, (*cmsg).cmsg_type) {
                (libc::SOL_SOCKET, libc::SO_RXQ_OVFL) => dropped = Some(value),
                (libc::SOL_UDP, libc::UDP_GRO) => segment = Some(value as usize),
                _ => {}
            }
            cmsg = libc::CMSG_NXTHDR(hdr, cmsg);
        }
    }
    (dropped, segment)
}

impl Inner {
    /// Queues a datagram for the next [`Inner::flush`], flushing first if
    /// the queue is full.
    pub(crate) fn enqueue(&self, bytes: &[u8], frame_start: usize) {
        let mut tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        if tx.is_full() {
            self.flush_queue(&mut tx);
        }
        tx.push(bytes, frame_start);
        self.tx_pending.store(true, Ordering::Release);
    }

    /// Sends every queued datagram with `sendmmsg`; what the kernel
    /// refuses is dropped and counted like a single send's failure.
    pub(crate) fn flush(&self) {
        if !self.tx_pending.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        self.flush_queue(&mut tx);
    }

    fn flush_queue(&self, tx: &mut TxQueue) {
        if tx.is_empty() {
            return;
        }
        let Transport::Udp { socket, peer } = &self.transport else {
            tx.clear();
            return;
        };
        let (sent, error) = match peer.current() {
            Some(to) => tx.send_to(socket.get_ref().as_raw_fd(), to, &self.gso),
            None => (0, None),
        };
        for i in 0..sent {
            let (bytes, frame_start) = tx.datagram(i);
            self.after_send(bytes, frame_start);
        }
        let reason = match &error {
            None if sent < tx.len() => DropReason::NoPeer,
            Some(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Held in order on a host, dropped on a router.
                for i in sent..tx.len() {
                    let (bytes, frame_start) = tx.datagram(i);
                    self.refused(bytes, frame_start);
                }
                tx.clear();
                return;
            }
            _ => DropReason::SendError,
        };
        for _ in sent..tx.len() {
            self.counters.drop_frame(reason);
        }
        if let Some(e) = error.filter(|e| e.kind() != io::ErrorKind::WouldBlock) {
            tracing::debug!(interface = %self.name, error = %e, "batched send failed");
        }
        tx.clear();
    }
}

impl CableEnd {
    /// Whether this end can receive in batches ([`CableEnd::recv_batch`]):
    /// UDP ends can, TAP ends read one frame at a time ([`CableEnd::recv`]).
    pub fn batches(&self) -> bool {
        matches!(self.inner.transport, Transport::Udp { .. })
    }

    /// Waits until datagrams arrive and reads up to
    /// [`crate::batch::RX_SLOTS`] messages (GRO aggregates split into
    /// their datagrams) with one `recvmmsg`; [`CableEnd::batch_frame`] then checks
    /// each. Only for ends that [`CableEnd::batches`].
    pub async fn recv_batch(&self, batch: &mut RecvBatch) -> io::Result<()> {
        let Transport::Udp { socket, .. } = &self.inner.transport else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a TAP end receives one frame at a time",
            ));
        };
        if !self.inner.gro.swap(true, Ordering::Relaxed) {
            // Only now: a plain `recv` would truncate GRO aggregates.
            crate::batch::enable_gro(socket.get_ref().as_raw_fd());
        }
        loop {
            let mut ready = socket.readable().await?;
            match ready.try_io(|s| batch.receive(s.get_ref().as_raw_fd())) {
                Ok(Ok(overflow)) => {
                    if let Some(dropped) = overflow {
                        self.inner
                            .counters
                            .drop_rx_overflow
                            .fetch_max(u64::from(dropped), Ordering::Relaxed);
                    }
                    return Ok(());
                }
                // See recv_udp: a refused earlier send says nothing here.
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
                Ok(Err(e)) => return Err(e),
                // WouldBlock: readiness cleared, wait again.
                Err(_) => continue,
            }
        }
    }

    /// Datagram `i` of `batch` as a frame for the device, or `None` when it
    /// was dropped (and counted) as [`CableEnd::recv`] would.
    pub fn batch_frame<'b>(&self, batch: &'b mut RecvBatch, i: usize) -> Option<Received<'b>> {
        let Transport::Udp { peer, .. } = &self.inner.transport else {
            return None;
        };
        let (buf, len, from) = batch.slot(i);
        let (offset, frame_len, trace) = self.accept_udp(peer, buf, len, from?)?;
        Some(Received {
            frame: &mut buf[offset..offset + frame_len],
            trace,
        })
    }

    /// Sends what was queued while corked ([`crate::batch::corked`]).
    pub(crate) fn flush(&self) {
        self.inner.flush();
    }
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
/// where its Ethernet frame starts (after the envelope). Public so
/// benchmarks drive the batched sends a device uses (`vnet bench forward`).
pub struct TxQueue {
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
    pub fn is_full(&self) -> bool {
        self.count == BATCH
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Queues a copy of `bytes`; the caller flushes a full queue first.
    ///
    /// # Panics
    /// When the queue is full or `bytes` is longer than
    /// [`MAX_DATAGRAM_LEN`] (a caller's bug, not input's).
    pub fn push(&mut self, bytes: &[u8], frame_start: usize) {
        assert!(!self.is_full() && bytes.len() <= MAX_DATAGRAM_LEN);
        let i = self.count;
        let start = i * MAX_DATAGRAM_LEN;
        self.data[start..start + bytes.len()].copy_from_slice(bytes);
        self.lens[i] = bytes.len();
        self.frame_starts[i] = frame_start;
        self.count += 1;
    }

    /// Datagram `i` and where its frame starts.
    pub fn datagram(&self, i: usize) -> (&[u8], usize) {
        let start = i * MAX_DATAGRAM_LEN;
        (
            &self.data[start..start + self.lens[i]],
            self.frame_starts[i],
        )
    }

    /// Datagrams queued.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Forgets every queued datagram.
    pub fn clear(&mut self) {
        self.count = 0;
    }

    /// Sends the queued datagrams to `to` with as few `sendmmsg` calls as
    /// the kernel allows. With `gso` set, each run of equal-size datagrams
    /// (the last may be shorter) goes as one UDP GSO message (UDP_SEGMENT):
    /// it crosses the sender's stack once and, to a GRO socket on the same
    /// machine, arrives as one. A kernel that refuses GSO (EINVAL/EIO, e.g.
    /// segments above a small carrier MTU) clears `gso` and the rest is sent
    /// datagram by datagram. Returns how many left and, if it stopped
    /// early, why (the rest were not sent).
    pub fn send_to(
        &self,
        fd: RawFd,
        to: SocketAddr,
        gso: &std::sync::atomic::AtomicBool,
    ) -> (usize, Option<io::Error>) {
        use std::sync::atomic::Ordering;
        let (name, name_len) = sockaddr(to);
        let mut iovecs: [libc::iovec; BATCH] = std::array::from_fn(|i| libc::iovec {
            iov_base: self.data[i * MAX_DATAGRAM_LEN..].as_ptr().cast_mut().cast(),
            iov_len: self.lens[i],
        });
        let mut control = [[0u64; CONTROL_LEN / 8]; BATCH];
        let mut headers: [libc::mmsghdr; BATCH] = std::array::from_fn(|_| zeroed_mmsghdr());
        let mut sent = 0;
        while sent < self.count {
            let use_gso = gso.load(Ordering::Relaxed);
            // Message k carries datagrams groups[k].0 .. groups[k].1.
            let mut groups = [(0usize, 0usize); BATCH];
            let mut messages = 0;
            let mut first = sent;
            while first < self.count {
                let last = if use_gso {
                    self.run_end(first)
                } else {
                    first + 1
                };
                groups[messages] = (first, last);
                let h = &mut headers[messages];
                *h = zeroed_mmsghdr();
                h.msg_hdr.msg_name = (&raw const name).cast_mut().cast();
                h.msg_hdr.msg_namelen = name_len;
                h.msg_hdr.msg_iov = &raw mut iovecs[first];
                h.msg_hdr.msg_iovlen = (last - first) as _;
                if last - first > 1 {
                    set_segment_size(&mut h.msg_hdr, &mut control[messages], self.lens[first]);
                }
                messages += 1;
                first = last;
            }
            // SAFETY: headers[..messages] point at live iovecs over
            // `self.data`, at `name` and at `control`, all outliving the
            // call; the kernel only reads them.
            #[allow(unsafe_code)]
            let n = unsafe {
                libc::sendmmsg(fd, headers.as_mut_ptr(), messages as _, libc::MSG_DONTWAIT)
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                let refused_gso = matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EIO));
                if use_gso && refused_gso && groups[0].1 - groups[0].0 > 1 {
                    gso.store(false, Ordering::Relaxed);
                    continue;
                }
                return (sent, Some(e));
            }
            if n == 0 {
                return (sent, Some(io::Error::from(io::ErrorKind::WouldBlock)));
            }
            sent = groups[n as usize - 1].1;
        }
        (sent, None)
    }

    /// End (exclusive) of the GSO run starting at `first`: datagrams of
    /// the same length, optionally one shorter last, at most 64 segments
    /// and 60,000 bytes in all.
    fn run_end(&self, first: usize) -> usize {
        let size = self.lens[first];
        let mut end = first + 1;
        let mut bytes = size;
        while end < self.count && end - first < MAX_SEGMENTS && bytes + self.lens[end] <= 60_000 {
            let len = self.lens[end];
            if len > size {
                break;
            }
            bytes += len;
            end += 1;
            if len < size {
                break;
            }
        }
        end
    }
}

/// An all-zero `mmsghdr`.
fn zeroed_mmsghdr() -> libc::mmsghdr {
    // SAFETY: all-zero bytes are a valid mmsghdr.
    #[allow(unsafe_code)]
    unsafe {
        std::mem::zeroed()
    }
}

/// Attaches a UDP_SEGMENT control message (segment size `size`) to `hdr`,
/// in `control`.
fn set_segment_size(hdr: &mut libc::msghdr, control: &mut [u64; CONTROL_LEN / 8], size: usize) {
    hdr.msg_control = control.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE of a u16 fits in CONTROL_LEN; CMSG_FIRSTHDR of a
    // header whose control buffer is that large is non-null and in bounds.
    #[allow(unsafe_code)]
    unsafe {
        hdr.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<u16>() as u32) as _;
        let cmsg = libc::CMSG_FIRSTHDR(hdr);
        (*cmsg).cmsg_level = libc::SOL_UDP;
        (*cmsg).cmsg_type = libc::UDP_SEGMENT;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<u16>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<u16>(), size as u16);
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
    fn a_run_of_equal_datagrams_goes_as_gso_and_comes_back_split_from_gro() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a");
        let b = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind b");
        assert!(enable_gro(b.as_raw_fd()), "this kernel has UDP GRO");
        let mut q = TxQueue::default();
        for i in 0..30u8 {
            // 29 of 1500 bytes, then a shorter last: one GSO run.
            let len = if i == 29 { 700 } else { 1500 };
            q.push(&vec![i; len], 0);
        }
        let gso = std::sync::atomic::AtomicBool::new(true);
        let (sent, err) = q.send_to(a.as_raw_fd(), b.local_addr().expect("addr"), &gso);
        assert_eq!((sent, err.map(|e| e.kind())), (30, None));
        assert!(
            gso.load(std::sync::atomic::Ordering::Relaxed),
            "GSO accepted"
        );
        let mut rx = RecvBatch::default();
        rx.receive(b.as_raw_fd()).expect("receive");
        assert_eq!(rx.len(), 30, "every datagram back, in order");
        for i in 0..30 {
            let (buf, len, _) = rx.slot(i);
            assert_eq!(len, if i == 29 { 700 } else { 1500 });
            assert!(buf[..len].iter().all(|&x| usize::from(x) == i));
        }
    }

    #[test]
    fn a_batch_of_datagrams_goes_out_in_one_call_and_comes_back_in_one() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a");
        let b = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind b");
        let mut q = TxQueue::default();
        for i in 0..20u8 {
            let d = vec![i; 60 + usize::from(i) * 50];
            q.push(&d, 4);
        }
        let gso = std::sync::atomic::AtomicBool::new(true);
        let (sent, err) = q.send_to(a.as_raw_fd(), b.local_addr().expect("addr"), &gso);
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
