//! One end of a cable: a UDP socket that exchanges enveloped Ethernet frames
//! with exactly one peer, or a Linux TAP device that exchanges raw frames
//! with the kernel (so a network namespace can join the virtual network).

use crate::batch::TxQueue;
use crate::capture::CaptureTap;
use crate::counters::{DropReason, InterfaceCounters};
use crate::delay_line::{self, Emit, Scheduled};
use crate::envelope::{Envelope, MAX_HEADER_LEN, TraceContext};
use crate::hold::Hold;
use crate::impair::{Fate, Impairer, ImpairmentError, Impairments};
use crate::link::{Direction, LinkState, LinkStatus};
use crate::pcapng::CaptureDirection;
use crate::peer::{Activity, NamedPeer, PeerChange, PeerSlot, RefreshPolicy};
use crate::resolve::{ResolveError, Resolver};
use crate::socket::{bind_socket, recv_counting_overflow};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use vnet_wire::ethernet::{self, FCS_LEN};

/// Largest Ethernet frame a cable carries, without FCS: a 9000-byte jumbo
/// payload plus the 14-byte header.
pub const MAX_FRAME_LEN: usize = 9000 + ethernet::HEADER_LEN;
/// Largest datagram a cable sends: envelope, frame and FCS.
pub const MAX_DATAGRAM_LEN: usize = MAX_HEADER_LEN + MAX_FRAME_LEN + FCS_LEN;
/// Size of the receive buffer a caller should pass to [`CableEnd::recv`]:
/// larger than any valid datagram so oversize ones are detected, not truncated.
pub const RECV_BUFFER_LEN: usize = 16 * 1024;

thread_local! {
    /// Where [`CableEnd::send`] builds a datagram: one buffer per thread,
    /// reused (every byte sent is written first, so it is never cleared; a
    /// fresh array per frame cost a 9 KiB memset each).
    static SEND_BUFFER: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0u8; MAX_DATAGRAM_LEN].into_boxed_slice());
}

/// A frame accepted by [`CableEnd::recv`].
#[derive(Debug)]
pub struct Received<'b> {
    /// The Ethernet frame without its FCS (already verified), mutable so a
    /// device can forward it in place.
    pub frame: &'b mut [u8],
    /// Trace context that travelled with the frame.
    pub trace: Option<TraceContext>,
}

/// What carries the frames of a cable end.
pub(crate) enum Transport {
    /// A UDP tunnel to one peer cable end: a non-blocking `std` socket,
    /// registered with tokio's reactor for readability only (a
    /// registration for writability too would wake the device after every
    /// send, when the socket's send buffer drains). Frames are sent on it
    /// directly, never waiting for the reactor (tokio's `try_send_to`
    /// refuses until the reactor has seen the socket writable, which
    /// dropped the first frames of a new end).
    Udp {
        socket: AsyncFd<std::net::UdpSocket>,
        peer: PeerSlot,
    },
    /// A Linux TAP device: raw Ethernet frames (no FCS) to and from the kernel.
    Tap { device: tokio_tun::Tun },
    /// An in-memory queue to the other end, in the same process (the
    /// simulation, [`crate::memory`]).
    Memory(crate::memory::MemoryTransport),
}

/// The parts of a cable end the delay line needs too.
pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) transport: Transport,
    pub(crate) counters: InterfaceCounters,
    capture: CaptureTap,
    /// Datagrams sent while the thread is corked ([`crate::batch::corked`]),
    /// waiting for one `sendmmsg`.
    pub(crate) tx: Mutex<TxQueue>,
    /// Whether `tx` holds anything (checked without the lock).
    pub(crate) tx_pending: AtomicBool,
    /// Whether the kernel still takes UDP GSO sends from this end.
    pub(crate) gso: AtomicBool,
    /// Whether UDP GRO was turned on (at the first batched receive).
    pub(crate) gro: AtomicBool,
    /// Datagrams the kernel refused, kept for later ([`crate::hold`]).
    pub(crate) hold: Hold,
    /// This end itself, for the task that drains `hold`.
    pub(crate) me: Weak<Inner>,
}

impl Inner {
    /// Puts `bytes` on the wire now: an enveloped datagram (UDP) or a raw
    /// frame (TAP). Never blocks; a full queue holds ([`crate::hold`]) or
    /// drops and counts.
    fn transmit(&self, bytes: &[u8], frame_start: usize) {
        if self.hold_if_holding(bytes, frame_start) {
            return;
        }
        if let Transport::Memory(memory) = &self.transport {
            self.transmit_memory(memory, bytes, frame_start);
            return;
        }
        if crate::batch::is_corked() && matches!(self.transport, Transport::Udp { .. }) {
            self.enqueue(bytes, frame_start);
            return;
        }
        let result = match &self.transport {
            Transport::Udp { socket, peer } => match peer.current() {
                Some(to) => socket.get_ref().send_to(bytes, to),
                None => {
                    self.counters.drop_frame(DropReason::NoPeer);
                    return;
                }
            },
            Transport::Tap { device } => device.try_send(bytes),
            Transport::Memory(_) => return,
        };
        match result {
            Ok(_) => self.after_send(bytes, frame_start),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.refused(bytes, frame_start),
            Err(e) => {
                self.counters.drop_frame(DropReason::SendError);
                tracing::debug!(interface = %self.name, error = %e, "send failed");
            }
        }
    }

    pub(crate) fn after_send(&self, bytes: &[u8], frame_start: usize) {
        match &self.transport {
            Transport::Udp { .. } | Transport::Memory(_) => {
                let wire = &bytes[frame_start..];
                self.counters.count_out(wire.len());
                self.capture
                    .emit(CaptureDirection::Outbound, wire, &self.counters);
            }
            Transport::Tap { .. } => {
                self.counters.count_out(bytes.len() + FCS_LEN);
                if self.capture.is_active() {
                    let mut wire = Vec::with_capacity(bytes.len() + FCS_LEN);
                    wire.extend_from_slice(bytes);
                    wire.extend_from_slice(&ethernet::fcs(bytes).to_le_bytes());
                    self.capture
                        .emit(CaptureDirection::Outbound, &wire, &self.counters);
                }
            }
        }
    }
}

impl Emit for Inner {
    fn emit_now(&self, bytes: &[u8], frame_start: usize) {
        self.transmit(bytes, frame_start);
    }
}

/// Impairments in force and the queue of frames they hold back.
struct ImpairState {
    impairer: Impairer,
    delay_line: mpsc::Sender<Scheduled>,
    next_seq: u64,
}

/// One end of a point-to-point cable.
pub struct CableEnd {
    pub(crate) inner: Arc<Inner>,
    link: LinkState,
    /// Fast-path check: any impairment set?
    impaired: AtomicBool,
    impairment: Mutex<Option<ImpairState>>,
    /// Next sequence number to send (u32 on the wire; kept wider to avoid CAS).
    tx_seq: AtomicU64,
    /// Next sequence number expected from the peer, plus one (0 = none yet).
    rx_next_seq: AtomicU64,
}

impl std::fmt::Debug for CableEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner.transport {
            Transport::Udp { peer, .. } => match peer {
                PeerSlot::Fixed(a) => write!(f, "CableEnd({}, udp peer {a})", self.inner.name),
                PeerSlot::Named(n) => write!(
                    f,
                    "CableEnd({}, udp peer {}:{} at {:?})",
                    self.inner.name,
                    n.host,
                    n.port,
                    peer.current()
                ),
            },
            Transport::Tap { device } => {
                write!(f, "CableEnd({}, tap {})", self.inner.name, device.name())
            }
            Transport::Memory(m) => {
                write!(f, "CableEnd({}, memory {})", self.inner.name, m.label())
            }
        }
    }
}

impl CableEnd {
    /// Binds `local` and accepts frames only from `peer`.
    pub async fn bind(name: &str, local: SocketAddr, peer: SocketAddr) -> io::Result<CableEnd> {
        let socket = bind_socket(name, local)?;
        Ok(CableEnd::with_transport(
            name,
            Transport::Udp {
                socket,
                peer: PeerSlot::Fixed(peer),
            },
        ))
    }

    /// Binds `local` and exchanges frames with the cable end at
    /// `host:port`, resolved with `resolver` now and again in the
    /// background (see [`RefreshPolicy`]): when the name points somewhere
    /// new, frames go there and are accepted only from there. Until the
    /// name first resolves, frames to send are dropped and counted
    /// (`drop_no_peer`). Must be called inside a tokio runtime; the
    /// background task ends with the cable end.
    pub async fn bind_named(
        name: &str,
        local: SocketAddr,
        host: &str,
        port: u16,
        resolver: Resolver,
        policy: RefreshPolicy,
    ) -> io::Result<CableEnd> {
        let socket = bind_socket(name, local)?;
        let end = CableEnd::with_transport(
            name,
            Transport::Udp {
                socket,
                peer: PeerSlot::Named(NamedPeer::new(host, port)),
            },
        );
        tokio::spawn(refresh_loop(Arc::downgrade(&end.inner), resolver, policy));
        Ok(end)
    }

    /// Resolves a named peer now and switches to its new address if it
    /// moved. `Ok(None)`: nothing changed (or the peer is a fixed address).
    pub async fn refresh_peer(
        &self,
        resolver: &Resolver,
    ) -> Result<Option<PeerChange>, ResolveError> {
        self.inner.refresh_peer(resolver).await
    }
}

/// Re-resolves a named peer for as long as its cable end lives.
async fn refresh_loop(end: std::sync::Weak<Inner>, resolver: Resolver, policy: RefreshPolicy) {
    let mut before = Activity::default();
    let mut failing = false;
    loop {
        let wait = {
            let Some(inner) = end.upgrade() else { return };
            let result = inner.refresh_peer(&resolver).await;
            match (&result, failing) {
                (Err(e), false) => {
                    // Logged once per outage, not once per attempt.
                    tracing::warn!(interface = %inner.name, error = %e, "cannot resolve the cable peer; retrying");
                    failing = true;
                }
                (Ok(_), true) => failing = false,
                _ => {}
            }
            let now = Activity::of(&inner.counters);
            let resolved = match &inner.transport {
                Transport::Udp { peer, .. } => peer.current().is_some(),
                Transport::Tap { .. } | Transport::Memory(_) => return,
            };
            let wait = policy.next_wait(resolved, before, now);
            before = now;
            wait
        };
        tokio::time::sleep(wait).await;
    }
}

impl Inner {
    async fn refresh_peer(&self, resolver: &Resolver) -> Result<Option<PeerChange>, ResolveError> {
        let Transport::Udp {
            peer: PeerSlot::Named(named),
            ..
        } = &self.transport
        else {
            return Ok(None);
        };
        let addresses: Vec<SocketAddr> = resolver
            .lookup(&named.host)
            .await?
            .into_iter()
            .map(|ip| SocketAddr::from((ip, named.port)))
            .collect();
        let change = named.update(&addresses);
        if let Some(change) = change {
            match change.old {
                None => {
                    tracing::info!(interface = %self.name, peer = %format!("{}:{}", named.host, named.port), address = %change.new, "cable peer resolved")
                }
                Some(old) => {
                    self.counters.peer_moves.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(interface = %self.name, peer = %format!("{}:{}", named.host, named.port), %old, new = %change.new, "cable peer moved; accepting frames only from the new address");
                }
            }
        }
        Ok(change)
    }
}

impl CableEnd {
    /// Creates (or attaches to) the TAP device `tap_name` and brings it up.
    /// Needs /dev/net/tun and CAP_NET_ADMIN.
    pub fn open_tap(name: &str, tap_name: &str) -> io::Result<CableEnd> {
        let mut devices = tokio_tun::Tun::builder()
            .name(tap_name)
            .tap()
            .up()
            .build()
            .map_err(|e| {
                io::Error::other(format!(
                    "interface {name}: cannot open TAP device {tap_name:?} (needs /dev/net/tun and CAP_NET_ADMIN): {e}"
                ))
            })?;
        let device = devices.pop().ok_or_else(|| {
            io::Error::other(format!(
                "interface {name}: TAP device {tap_name:?} not created"
            ))
        })?;
        Ok(CableEnd::with_transport(name, Transport::Tap { device }))
    }

    pub(crate) fn with_transport(name: &str, transport: Transport) -> CableEnd {
        CableEnd {
            inner: Arc::new_cyclic(|me| Inner {
                name: name.to_string(),
                transport,
                counters: InterfaceCounters::default(),
                capture: CaptureTap::default(),
                tx: Mutex::new(TxQueue::default()),
                tx_pending: AtomicBool::new(false),
                gso: AtomicBool::new(true),
                gro: AtomicBool::new(false),
                hold: Hold::default(),
                me: me.clone(),
            }),
            link: LinkState::default(),
            impaired: AtomicBool::new(false),
            impairment: Mutex::new(None),
            tx_seq: AtomicU64::new(0),
            rx_next_seq: AtomicU64::new(0),
        }
    }

    /// Interface name of this end (e.g. `eth0`).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Address the socket is bound to (None for a TAP end).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.inner.transport {
            Transport::Udp { socket, .. } => socket.get_ref().local_addr().ok(),
            Transport::Tap { .. } | Transport::Memory(_) => None,
        }
    }

    /// The only address frames are accepted from and sent to now (None for
    /// a TAP end, or a named peer not resolved yet).
    pub fn peer(&self) -> Option<SocketAddr> {
        match &self.inner.transport {
            Transport::Udp { peer, .. } => peer.current(),
            Transport::Tap { .. } | Transport::Memory(_) => None,
        }
    }

    /// Name of the TAP device, for a TAP end.
    pub fn tap_name(&self) -> Option<&str> {
        match &self.inner.transport {
            Transport::Tap { device } => Some(device.name()),
            Transport::Udp { .. } | Transport::Memory(_) => None,
        }
    }

    /// Live counters.
    pub fn counters(&self) -> &InterfaceCounters {
        &self.inner.counters
    }

    /// Capture subscriptions of this end.
    pub fn capture(&self) -> &CaptureTap {
        &self.inner.capture
    }

    /// Current link state.
    pub fn link_status(&self) -> LinkStatus {
        self.link.status()
    }

    /// Brings `direction` up or down; logs the change once (old → new).
    pub fn set_link(&self, direction: Direction, up: bool) -> LinkStatus {
        let before = self.link.set(direction, up);
        let after = self.link.status();
        if before != after {
            tracing::info!(
                interface = %self.inner.name,
                %direction,
                old = %describe(before),
                new = %describe(after),
                "link state changed"
            );
        }
        after
    }

    /// The impairments in force on what this end sends.
    pub fn impairments(&self) -> Impairments {
        self.lock_impairment()
            .as_ref()
            .map(|s| s.impairer.config().clone())
            .unwrap_or_default()
    }

    /// Replaces the impairments on what this end sends (all-default clears
    /// them; frames already waiting still leave at their due time). Must be
    /// called inside a tokio runtime. Logs the change once.
    pub fn set_impairments(&self, config: Impairments) -> Result<(), ImpairmentError> {
        config.validate()?;
        let mut state = self.lock_impairment();
        let old = state
            .as_ref()
            .map(|s| s.impairer.config().clone())
            .unwrap_or_default();
        if config.is_active() {
            let delay_line = delay_line::spawn(Arc::clone(&self.inner), config.queue_limit());
            *state = Some(ImpairState {
                impairer: Impairer::new(config.clone()),
                delay_line,
                next_seq: 0,
            });
        } else {
            *state = None;
        }
        self.impaired.store(config.is_active(), Ordering::Release);
        if old != config {
            tracing::info!(interface = %self.inner.name, old = ?old, new = ?config, "impairments changed");
        }
        Ok(())
    }

    fn lock_impairment(&self) -> std::sync::MutexGuard<'_, Option<ImpairState>> {
        self.impairment
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for the next valid frame. Datagrams from other sources, bad
    /// envelopes, bad FCS and frames arriving while the inbound direction is
    /// down are dropped and counted here; they never reach the device.
    /// `buf` should be [`RECV_BUFFER_LEN`] bytes.
    pub async fn recv<'b>(&self, buf: &'b mut [u8]) -> io::Result<Received<'b>> {
        match &self.inner.transport {
            Transport::Udp { socket, peer, .. } => self.recv_udp(socket, peer, buf).await,
            Transport::Tap { device } => self.recv_tap(device, buf).await,
            Transport::Memory(memory) => self.recv_memory(memory, buf).await,
        }
    }

    async fn recv_udp<'b>(
        &self,
        socket: &AsyncFd<std::net::UdpSocket>,
        peer: &PeerSlot,
        buf: &'b mut [u8],
    ) -> io::Result<Received<'b>> {
        let counters = &self.inner.counters;
        loop {
            let received = async {
                loop {
                    let mut ready = socket.readable().await?;
                    // WouldBlock clears the readiness and waits again.
                    if let Ok(r) =
                        ready.try_io(|s| recv_counting_overflow(s.get_ref(), buf, counters))
                    {
                        return r;
                    }
                }
            };
            let (len, from) = match received.await {
                Ok(ok) => ok,
                // A previous send to a closed peer port can surface here on
                // some systems; it says nothing about this datagram.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
                Err(e) => return Err(e),
            };
            if let Some((offset, frame_len, trace)) = self.accept_udp(peer, buf, len, from) {
                return Ok(Received {
                    frame: &mut buf[offset..offset + frame_len],
                    trace,
                });
            }
        }
    }

    /// Checks one received datagram (source, size, envelope, link state,
    /// FCS), counting and capturing it; `Some((frame offset, frame length
    /// without FCS, trace))` if it carries a frame for the device.
    pub(crate) fn accept_udp(
        &self,
        peer: &PeerSlot,
        buf: &[u8],
        len: usize,
        from: SocketAddr,
    ) -> Option<(usize, usize, Option<TraceContext>)> {
        if peer.current() != Some(from) {
            self.inner.counters.drop_frame(DropReason::ForeignSource);
            tracing::debug!(interface = %self.inner.name, %from, "dropped datagram from foreign source");
            return None;
        }
        self.accept_datagram(buf, len)
    }

    /// Checks one datagram from the peer (size, envelope, link state, FCS),
    /// counting and capturing it; as [`CableEnd::accept_udp`].
    pub(crate) fn accept_datagram(
        &self,
        buf: &[u8],
        len: usize,
    ) -> Option<(usize, usize, Option<TraceContext>)> {
        let counters = &self.inner.counters;
        if len > MAX_DATAGRAM_LEN || len > buf.len() {
            counters.drop_frame(DropReason::Oversize);
            return None;
        }
        let (envelope, offset) = match Envelope::decode(&buf[..len]) {
            Ok(ok) => ok,
            Err(e) => {
                counters.drop_frame(DropReason::BadEnvelope);
                tracing::debug!(interface = %self.inner.name, error = %e, "dropped datagram with bad envelope");
                return None;
            }
        };
        if !self.link.rx_up() {
            counters.drop_frame(DropReason::LinkDownIn);
            return None;
        }
        self.track_sequence(envelope.seq);
        let wire = &buf[offset..len];
        if let Err(e) = ethernet::check_fcs(wire) {
            counters.drop_frame(DropReason::BadFcs);
            tracing::debug!(interface = %self.inner.name, error = %e, "dropped frame with bad FCS");
            return None;
        }
        counters.count_in(wire.len());
        self.inner
            .capture
            .emit(CaptureDirection::Inbound, wire, counters);
        Some((offset, wire.len() - FCS_LEN, envelope.trace))
    }

    async fn recv_tap<'b>(
        &self,
        device: &tokio_tun::Tun,
        buf: &'b mut [u8],
    ) -> io::Result<Received<'b>> {
        let counters = &self.inner.counters;
        // Leave room after the frame for the FCS the capture shows.
        let room = buf.len().saturating_sub(FCS_LEN);
        loop {
            let len = device.recv(&mut buf[..room]).await?;
            if !(ethernet::HEADER_LEN..=MAX_FRAME_LEN).contains(&len) {
                counters.drop_frame(DropReason::Oversize);
                continue;
            }
            let len = crate::runt::pad_runt(&mut buf[..room], len);
            if !self.link.rx_up() {
                counters.drop_frame(DropReason::LinkDownIn);
                continue;
            }
            // The kernel hands over frames without FCS; account and capture
            // them as they would be on a wire.
            counters.count_in(len + FCS_LEN);
            if self.inner.capture.is_active() {
                let fcs = ethernet::fcs(&buf[..len]);
                buf[len..len + FCS_LEN].copy_from_slice(&fcs.to_le_bytes());
                self.inner
                    .capture
                    .emit(CaptureDirection::Inbound, &buf[..len + FCS_LEN], counters);
            }
            return Ok(Received {
                frame: &mut buf[..len],
                trace: None,
            });
        }
    }

    fn track_sequence(&self, seq: u32) {
        // rx_next_seq holds (next expected seq) + 1 so that 0 can mean "nothing seen yet".
        let previous = self
            .rx_next_seq
            .swap(u64::from(seq.wrapping_add(1)) + 1, Ordering::Relaxed);
        if previous != 0 && (previous - 1) as u32 != seq {
            self.inner.counters.seq_gaps.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sends one frame (without FCS; padding and FCS are added here) to the
    /// peer. Never blocks: a full socket queue drops the frame and counts it.
    pub fn send(&self, frame: &[u8], trace: Option<&TraceContext>) {
        let counters = &self.inner.counters;
        if !self.link.tx_up() {
            counters.drop_frame(DropReason::LinkDownOut);
            return;
        }
        if frame.len() > MAX_FRAME_LEN || frame.len() < ethernet::HEADER_LEN {
            counters.drop_frame(DropReason::Oversize);
            tracing::warn!(interface = %self.inner.name, len = frame.len(), "refused to send a frame of invalid length");
            return;
        }
        match &self.inner.transport {
            // The kernel takes the bare frame.
            Transport::Tap { .. } => self.dispatch(frame, 0),
            Transport::Udp { .. } | Transport::Memory(_) => {
                let envelope = Envelope {
                    seq: self.tx_seq.fetch_add(1, Ordering::Relaxed) as u32,
                    trace: trace.copied(),
                };
                let build = |datagram: &mut [u8]| {
                    let header_len = envelope.encode(datagram);
                    datagram[header_len..header_len + frame.len()].copy_from_slice(frame);
                    let wire_len =
                        ethernet::pad_and_append_fcs(&mut datagram[header_len..], frame.len());
                    self.dispatch(&datagram[..header_len + wire_len], header_len);
                };
                SEND_BUFFER.with(|cell| match cell.try_borrow_mut() {
                    Ok(mut datagram) => build(&mut datagram[..]),
                    // Not reached today (nothing sends from inside a send);
                    // correct anyway.
                    Err(_) => build(&mut vec![0u8; MAX_DATAGRAM_LEN]),
                });
            }
        }
    }

    /// Sends `bytes` (a frame starting at `frame_start`) now, or through
    /// the impairments when some are set.
    fn dispatch(&self, bytes: &[u8], frame_start: usize) {
        if self.impaired.load(Ordering::Acquire) {
            self.send_impaired(bytes, frame_start);
        } else {
            self.inner.transmit(bytes, frame_start);
        }
    }

    /// The slow path under impairments (allocates for frames it delays).
    fn send_impaired(&self, bytes: &[u8], frame_start: usize) {
        let mut guard = self.lock_impairment();
        let Some(state) = guard.as_mut() else {
            drop(guard);
            return self.inner.transmit(bytes, frame_start);
        };
        let now = tokio::time::Instant::now();
        let (copies, corrupt, at) = match state.impairer.decide(now, bytes.len() - frame_start) {
            Fate::Drop => {
                self.inner.counters.drop_frame(DropReason::Impaired);
                return;
            }
            Fate::Send {
                copies,
                corrupt,
                at,
            } => (copies, corrupt, at),
        };
        let mut owned = bytes.to_vec();
        if corrupt {
            let bit = state.impairer.random_bit((owned.len() - frame_start) * 8);
            owned[frame_start + bit / 8] ^= 1 << (bit % 8);
        }
        for _ in 0..copies {
            match at {
                None => self.inner.transmit(&owned, frame_start),
                Some(due) => {
                    let seq = state.next_seq;
                    state.next_seq += 1;
                    let item = Scheduled {
                        due,
                        seq,
                        bytes: owned.clone(),
                        frame_start,
                    };
                    if state.delay_line.try_send(item).is_err() {
                        self.inner.counters.drop_frame(DropReason::QueueFull);
                    }
                }
            }
        }
    }
}

fn describe(status: LinkStatus) -> String {
    format!(
        "in {} / out {}",
        if status.rx_up { "up" } else { "down" },
        if status.tx_up { "up" } else { "down" }
    )
}
