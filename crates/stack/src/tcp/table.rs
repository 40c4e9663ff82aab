//! All TCP sockets of a stack: listeners with their bounded backlog,
//! connections demultiplexed by their 4-tuple (RFC 9293 §3.3.1: "a pair of
//! sockets uniquely identifies each connection"), ephemeral ports, resets
//! for segments that match nothing (RFC 9293 §3.10.7.1), timers and the
//! reaping of finished connections.

use super::isn::port_offset;
use super::state::{History, TcpState};
use super::syncookie;
use super::tcb::{Ctx, MIN_MSS, Segment, Tcb};
use super::timer_index::TimerIndex;
use super::{TcpConfig, TcpError, TcpHandle, TcpInfo};
use crate::counters::StackCounters;
use crate::error::StackError;
use crate::icmp::IcmpError;
use crate::socket::udp::EPHEMERAL_FIRST;
use crate::socket::{Handle, Slab};
use crate::time::Instant;
use core::task::Waker;
use core::time::Duration;
use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use vnet_wire::tcp::{TcpFlags, TcpRepr};
use vnet_wire::trace::{TraceContext, TraceEvent};

/// A socket in LISTEN (RFC 9293 §3.10.1 passive OPEN) with its backlog:
/// children still in SYN-RECEIVED and established ones not yet accepted.
#[derive(Debug)]
pub(crate) struct Listener {
    port: u16,
    backlog: usize,
    pending: Vec<Handle>,
    ready: VecDeque<Handle>,
    waker: Option<Waker>,
    history: History,
    /// When the backlog last overflowed (a SYN cookie was sent): ACKs that
    /// match no connection are checked as cookies until
    /// [`syncookie::VALID_SECS`] later (Linux `tcp_synq_no_recent_overflow`).
    last_overflow: Option<Instant>,
}

#[derive(Debug)]
enum Entry {
    Listener(Listener),
    Conn(Box<Tcb>),
}

/// The TCP socket table.
#[derive(Debug)]
pub(crate) struct TcpSockets {
    cfg: TcpConfig,
    slab: Slab<Entry>,
    conns: HashMap<(SocketAddrV4, SocketAddrV4), Handle>,
    /// Connections by next timer: [`TcpSockets::poll_at`] without a scan.
    timers: TimerIndex,
    listeners: HashMap<u16, Handle>,
    /// Connections per local port (for ephemeral port choice).
    port_refs: HashMap<u16, u32>,
    ephemeral_next: u32,
    /// Segments produced by the sockets, sent by the stack after each call.
    pub(crate) out: Vec<Segment>,
    /// Trace events the sockets produced, recorded by the stack after each call.
    pub(crate) events: Vec<TraceEvent>,
    /// The trace span of the work the stack is doing now (set by the stack
    /// before each call; `None` on timers). A connection adopts it.
    pub(crate) trace_now: Option<TraceContext>,
}

impl TcpSockets {
    pub(crate) fn new(cfg: TcpConfig) -> Self {
        Self {
            slab: Slab::new(cfg.max_sockets),
            cfg,
            conns: HashMap::new(),
            timers: TimerIndex::default(),
            listeners: HashMap::new(),
            port_refs: HashMap::new(),
            ephemeral_next: 0,
            out: Vec::new(),
            events: Vec::new(),
            trace_now: None,
        }
    }

    /// The context for work on a connection that is not in the slab yet.
    fn ctx<'a>(&'a mut self, now: Instant, counters: &'a mut StackCounters) -> Ctx<'a> {
        Ctx {
            now,
            cfg: &self.cfg,
            out: &mut self.out,
            counters,
            events: &mut self.events,
            trace: self.trace_now,
        }
    }

    /// Passive OPEN on `port` (every local address) with a backlog bounded
    /// to [`TcpConfig::max_backlog`].
    pub(crate) fn listen(&mut self, port: u16, backlog: usize) -> Result<TcpHandle, StackError> {
        if port == 0 || self.listeners.contains_key(&port) {
            return Err(StackError::PortInUse { port });
        }
        let mut history = History::new(TcpState::Closed);
        history.push(TcpState::Listen);
        tracing::debug!(port, backlog, "TCP listen");
        let h = self.slab.insert(Entry::Listener(Listener {
            port,
            backlog: backlog.clamp(1, self.cfg.max_backlog.max(1)),
            pending: Vec::new(),
            ready: VecDeque::new(),
            waker: None,
            history,
            last_overflow: None,
        }))?;
        self.listeners.insert(port, h);
        Ok(TcpHandle(h))
    }

    /// A free ephemeral port for a connection to `remote` (RFC 6056 §3.3.3:
    /// start at a secret-keyed offset, then probe sequentially).
    fn ephemeral_port(&mut self, remote: SocketAddrV4) -> Result<u16, StackError> {
        let range = u32::from(u16::MAX - EPHEMERAL_FIRST) + 1;
        let offset = port_offset(&self.cfg.isn_secret, remote, 0);
        for i in 0..range {
            let n = offset.wrapping_add(self.ephemeral_next).wrapping_add(i) % range;
            let port = EPHEMERAL_FIRST + n as u16;
            if !self.port_refs.contains_key(&port) && !self.listeners.contains_key(&port) {
                self.ephemeral_next = self.ephemeral_next.wrapping_add(i + 1);
                return Ok(port);
            }
        }
        Err(StackError::TooManySockets)
    }

    fn ref_port(&mut self, port: u16) {
        *self.port_refs.entry(port).or_insert(0) += 1;
    }

    fn unref_port(&mut self, port: u16) {
        if let Some(n) = self.port_refs.get_mut(&port) {
            *n -= 1;
            if *n == 0 {
                self.port_refs.remove(&port);
            }
        }
    }

    /// Active OPEN from `local_ip`:`local_port` (0: an ephemeral port) to
    /// `remote`. The 4-tuple must be unused (RFC 9293 §3.4).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn connect(
        &mut self,
        now: Instant,
        counters: &mut StackCounters,
        local_ip: Ipv4Addr,
        local_port: u16,
        remote: SocketAddrV4,
        our_mss: u16,
    ) -> Result<TcpHandle, StackError> {
        if self.slab.is_full() {
            return Err(StackError::TooManySockets);
        }
        let port = match local_port {
            0 => self.ephemeral_port(remote)?,
            p => p,
        };
        let local = SocketAddrV4::new(local_ip, port);
        if self.conns.contains_key(&(local, remote)) {
            return Err(StackError::PortInUse { port });
        }
        let mut ctx = self.ctx(now, counters);
        let tcb = Tcb::connect(&mut ctx, local, remote, our_mss);
        ctx.counters.tcp_conn_opened += 1;
        let h = self.slab.insert(Entry::Conn(Box::new(tcb)))?;
        self.conns.insert((local, remote), h);
        self.ref_port(port);
        self.refile(h);
        Ok(TcpHandle(h))
    }

    /// The next established connection of a listener's backlog.
    pub(crate) fn accept(&mut self, h: TcpHandle) -> Option<TcpHandle> {
        let Some(Entry::Listener(l)) = self.slab.get_mut(h.0) else {
            return None;
        };
        let child = l.ready.pop_front()?;
        if let Some(Entry::Conn(t)) = self.slab.get_mut(child) {
            t.parent = None;
        }
        Some(TcpHandle(child))
    }

    /// Runs `f` on connection `h` with a context, then does the
    /// bookkeeping its new state calls for.
    pub(crate) fn with_conn<R>(
        &mut self,
        now: Instant,
        counters: &mut StackCounters,
        h: TcpHandle,
        f: impl FnOnce(&mut Tcb, &mut Ctx<'_>) -> R,
    ) -> Result<R, StackError> {
        let Self {
            slab,
            cfg,
            out,
            events,
            trace_now,
            timers,
            ..
        } = self;
        let Some(Entry::Conn(t)) = slab.get_mut(h.0) else {
            return Err(StackError::BadHandle);
        };
        if trace_now.is_some() {
            t.trace = *trace_now;
        }
        let mut ctx = Ctx {
            now,
            cfg,
            out,
            counters,
            events,
            trace: *trace_now,
        };
        let r = f(t, &mut ctx);
        let next = t.poll_at();
        timers.refile(h.0, &mut t.timer_filed, next);
        self.settle(h.0, counters);
        Ok(r)
    }

    /// Files connection `h` in the timer index under its current deadline.
    fn refile(&mut self, h: Handle) {
        if let Some(Entry::Conn(t)) = self.slab.get_mut(h) {
            let next = t.poll_at();
            self.timers.refile(h, &mut t.timer_filed, next);
        }
    }

    /// Frees connection `h`'s slot (and its place in the timer index).
    fn free(&mut self, h: Handle) {
        if let Some(Entry::Conn(mut t)) = self.slab.remove(h) {
            self.timers.refile(h, &mut t.timer_filed, None);
        }
    }

    /// Bookkeeping after a connection changed: a CLOSED connection leaves
    /// the demultiplexing table and is freed if nobody holds it (released
    /// by the application, or never accepted); a child whose handshake
    /// completed moves to its listener's accept queue.
    fn settle(&mut self, h: Handle, counters: &mut StackCounters) {
        let Some(Entry::Conn(t)) = self.slab.get(h) else {
            return;
        };
        let (state, parent, released) = (t.state, t.parent, t.released);
        let key = (t.local, t.remote);
        if state == TcpState::Closed {
            if self.conns.get(&key) == Some(&h) {
                self.conns.remove(&key);
                self.unref_port(key.0.port());
            }
            if let Some(p) = parent {
                if let Some(Entry::Listener(l)) = self.slab.get_mut(p) {
                    l.pending.retain(|&c| c != h);
                    l.ready.retain(|&c| c != h);
                }
                self.free(h);
            } else if released {
                self.free(h);
            }
        } else if let Some(p) = parent
            && state.is_synchronized()
            && let Some(Entry::Listener(l)) = self.slab.get_mut(p)
            && let Some(i) = l.pending.iter().position(|&c| c == h)
        {
            l.pending.remove(i);
            l.ready.push_back(h);
            counters.tcp_conn_accepted += 1;
            if let Some(w) = l.waker.take() {
                w.wake();
            }
        }
    }

    /// CLOSE from the application: graceful for a connection (freed when
    /// done), immediate for a listener, whose unaccepted children are reset.
    pub(crate) fn close(&mut self, now: Instant, counters: &mut StackCounters, h: TcpHandle) {
        match self.slab.get(h.0) {
            Some(Entry::Conn(_)) => {
                let _ = self.with_conn(now, counters, h, |t, ctx| t.close(ctx));
            }
            Some(Entry::Listener(_)) => {
                let Some(Entry::Listener(l)) = self.slab.remove(h.0) else {
                    return;
                };
                self.listeners.remove(&l.port);
                tracing::debug!(port = l.port, "TCP listener closed");
                for child in l.pending.iter().chain(l.ready.iter()) {
                    let _ = self.with_conn(now, counters, TcpHandle(*child), |t, ctx| t.abort(ctx));
                }
            }
            None => {}
        }
    }

    /// ABORT from the application (a listener is simply closed).
    pub(crate) fn abort(&mut self, now: Instant, counters: &mut StackCounters, h: TcpHandle) {
        match self.slab.get(h.0) {
            Some(Entry::Conn(_)) => {
                let _ = self.with_conn(now, counters, h, |t, ctx| t.abort(ctx));
            }
            Some(Entry::Listener(_)) => self.close(now, counters, h),
            None => {}
        }
    }

    /// A segment for `local` from `remote` (checksum verified): to its
    /// connection, else to a listener on the port, else answered with a
    /// reset (RFC 9293 §3.10.7.1). `our_mss` is the MSS to announce if a
    /// listener accepts a SYN.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn input(
        &mut self,
        now: Instant,
        counters: &mut StackCounters,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        repr: &TcpRepr,
        payload: &[u8],
        our_mss: u16,
    ) {
        if let Some(&h) = self.conns.get(&(local, remote)) {
            let _ = self.with_conn(now, counters, TcpHandle(h), |t, ctx| {
                t.on_segment(ctx, repr, payload)
            });
            return;
        }
        if let Some(&lh) = self.listeners.get(&local.port()) {
            self.listener_input(now, counters, lh, (local, remote), repr, payload, our_mss);
            return;
        }
        counters.tcp_no_socket += 1;
        self.reset_reply(local, remote, repr);
    }

    /// RFC 9293 §3.10.7.1, CLOSED: "An incoming segment not containing a
    /// RST causes a RST to be sent in response": if ACK is off,
    /// `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`, else `<SEQ=SEG.ACK><CTL=RST>`.
    fn reset_reply(&mut self, local: SocketAddrV4, remote: SocketAddrV4, repr: &TcpRepr) {
        if repr.flags.contains(TcpFlags::RST) {
            return;
        }
        let mut rst = TcpRepr::new(local.port(), remote.port(), 0, TcpFlags::RST);
        match repr.ack {
            Some(a) => rst.seq = a,
            None => rst.ack = Some(repr.seq.wrapping_add(repr.segment_len() as u32)),
        }
        self.out.push(Segment {
            local,
            remote,
            repr: rst,
            payload: Vec::new(),
            trace: None,
        });
    }

    /// Whether a segment from `remote` to `local` would need the MSS we
    /// announce: it matches no connection, so a listener may turn it into
    /// one (a SYN, or an ACK carrying a SYN cookie).
    pub(crate) fn needs_our_mss(&self, local: SocketAddrV4, remote: SocketAddrV4) -> bool {
        !self.conns.contains_key(&(local, remote)) && self.listeners.contains_key(&local.port())
    }

    /// RFC 9293 §3.10.7.2, LISTEN: RSTs are ignored, anything with ACK is
    /// reset (unless it carries a valid SYN cookie), a SYN creates a
    /// SYN-RECEIVED child if the backlog has room; otherwise it is answered
    /// with a SYN cookie ([`TcpConfig::syn_cookies`]) or dropped, and
    /// counted either way.
    #[allow(clippy::too_many_arguments)]
    fn listener_input(
        &mut self,
        now: Instant,
        counters: &mut StackCounters,
        lh: Handle,
        (local, remote): (SocketAddrV4, SocketAddrV4),
        repr: &TcpRepr,
        payload: &[u8],
        our_mss: u16,
    ) {
        if repr.flags.contains(TcpFlags::RST) {
            return;
        }
        if repr.ack.is_some() {
            if !repr.flags.contains(TcpFlags::SYN) && self.cookie_expected(now, lh) {
                self.cookie_ack(now, counters, lh, (local, remote), repr, payload, our_mss);
            } else {
                self.reset_reply(local, remote, repr);
            }
            return;
        }
        if !repr.flags.contains(TcpFlags::SYN) {
            return;
        }
        let Some(Entry::Listener(l)) = self.slab.get_mut(lh) else {
            return;
        };
        if l.pending.len() + l.ready.len() >= l.backlog {
            counters.tcp_backlog_full += 1;
            if self.cfg.syn_cookies {
                l.last_overflow = Some(now);
                self.cookie_syn_ack(now, counters, local, remote, repr, our_mss);
            } else {
                tracing::debug!(port = l.port, %remote, "TCP listen backlog full, SYN dropped");
            }
            return;
        }
        if self.slab.is_full() {
            counters.tcp_socket_limit += 1;
            return;
        }
        let mut ctx = self.ctx(now, counters);
        let tcb = Tcb::accept_syn(&mut ctx, local, remote, our_mss, repr, lh);
        let Ok(h) = self.slab.insert(Entry::Conn(Box::new(tcb))) else {
            return;
        };
        self.conns.insert((local, remote), h);
        self.ref_port(local.port());
        self.refile(h);
        if let Some(Entry::Listener(l)) = self.slab.get_mut(lh) {
            l.pending.push(h);
        }
    }

    /// Whether an ACK reaching listener `lh` may carry a SYN cookie: cookies
    /// are on and one was sent recently enough to be still valid.
    fn cookie_expected(&self, now: Instant, lh: Handle) -> bool {
        let Some(Entry::Listener(l)) = self.slab.get(lh) else {
            return false;
        };
        self.cfg.syn_cookies
            && l.last_overflow.is_some_and(|t| {
                now.saturating_duration_since(t) <= Duration::from_secs(syncookie::VALID_SECS)
            })
    }

    /// Answers a SYN that found the backlog full with
    /// `<SEQ=cookie><ACK=SEG.SEQ+1><CTL=SYN,ACK>`, keeping no state. The
    /// SYN-ACK carries our MSS and the unscaled window, but no Window Scale
    /// or Timestamps option: the cookie cannot remember them, so neither
    /// side uses them (RFC 7323 §1.3, §3.2).
    fn cookie_syn_ack(
        &mut self,
        now: Instant,
        counters: &mut StackCounters,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        syn: &TcpRepr,
        our_mss: u16,
    ) {
        let cookie = syncookie::make(&self.cfg.isn_secret, now, local, remote, syn.seq, syn.mss);
        let mut repr = TcpRepr::new(
            local.port(),
            remote.port(),
            cookie,
            TcpFlags::SYN | TcpFlags::ACK,
        );
        repr.ack = Some(syn.seq.wrapping_add(1));
        repr.window = self.cfg.recv_buffer.min(65_535) as u16;
        repr.mss = Some(our_mss.max(MIN_MSS as u16));
        counters.tcp_syncookies_sent += 1;
        tracing::debug!(%local, %remote, cookie, "TCP listen backlog full, SYN cookie sent");
        self.out.push(Segment {
            local,
            remote,
            repr,
            payload: Vec::new(),
            trace: self.trace_now,
        });
    }

    /// An ACK at a listener that recently sent SYN cookies (RFC 4987
    /// §3.6): if `SEG.ACK − 1` is a valid cookie for this 4-tuple and
    /// client ISN `SEG.SEQ − 1`, the connection is created as if its
    /// SYN-ACK had been sent, and the ACK (with any data or FIN) completes
    /// the handshake; an invalid cookie is an unacceptable ACK in LISTEN
    /// and gets `<SEQ=SEG.ACK><CTL=RST>` (RFC 9293 §3.10.7.2). A valid
    /// cookie meeting a full accept queue is dropped (the client
    /// retransmits, as Linux).
    #[allow(clippy::too_many_arguments)]
    fn cookie_ack(
        &mut self,
        now: Instant,
        counters: &mut StackCounters,
        lh: Handle,
        (local, remote): (SocketAddrV4, SocketAddrV4),
        repr: &TcpRepr,
        payload: &[u8],
        our_mss: u16,
    ) {
        let Some(ack) = repr.ack else {
            return;
        };
        let client_isn = repr.seq.wrapping_sub(1);
        let cookie = ack.wrapping_sub(1);
        let Some(mss) =
            syncookie::check(&self.cfg.isn_secret, now, local, remote, client_isn, cookie)
        else {
            counters.tcp_syncookies_failed += 1;
            tracing::debug!(%local, %remote, cookie, "TCP SYN cookie invalid");
            self.reset_reply(local, remote, repr);
            return;
        };
        let Some(Entry::Listener(l)) = self.slab.get(lh) else {
            return;
        };
        if l.ready.len() >= l.backlog {
            counters.tcp_backlog_full += 1;
            return;
        }
        if self.slab.is_full() {
            counters.tcp_socket_limit += 1;
            return;
        }
        let mut ctx = self.ctx(now, counters);
        let tcb = Tcb::from_cookie(&mut ctx, local, remote, our_mss, repr, cookie, mss, lh);
        let Ok(h) = self.slab.insert(Entry::Conn(Box::new(tcb))) else {
            return;
        };
        counters.tcp_syncookies_ok += 1;
        self.conns.insert((local, remote), h);
        self.ref_port(local.port());
        if let Some(Entry::Listener(l)) = self.slab.get_mut(lh) {
            l.pending.push(h);
        }
        // The ACK itself completes the handshake (SYN-RECEIVED →
        // ESTABLISHED) and delivers its data; `settle` moves the child to
        // the accept queue.
        let _ = self.with_conn(now, counters, TcpHandle(h), |t, ctx| {
            t.on_segment(ctx, repr, payload)
        });
    }

    /// An ICMP error quoting a segment from `local` to `remote`; returns
    /// whether a connection took it.
    pub(crate) fn icmp_error(
        &mut self,
        now: Instant,
        counters: &mut StackCounters,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        error: IcmpError,
    ) -> bool {
        let Some(&h) = self.conns.get(&(local, remote)) else {
            return false;
        };
        self.with_conn(now, counters, TcpHandle(h), |t, ctx| {
            t.on_icmp_error(ctx, error)
        })
        .is_ok()
    }

    /// Runs the timers that are due.
    pub(crate) fn poll(&mut self, now: Instant, counters: &mut StackCounters) {
        for h in self.timers.due(now) {
            let _ = self.with_conn(now, counters, TcpHandle(h), |t, ctx| t.on_timer(ctx));
        }
    }

    /// The earliest timer of any connection.
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        let first = self.timers.first();
        debug_assert_eq!(first, self.scan_poll_at(), "timer index out of date");
        first
    }

    /// [`TcpSockets::poll_at`] the slow way, to check the index in debug builds.
    fn scan_poll_at(&self) -> Option<Instant> {
        self.slab
            .iter()
            .filter_map(|e| match e {
                Entry::Conn(t) => t.poll_at(),
                Entry::Listener(_) => None,
            })
            .min()
    }

    pub(crate) fn conn(&self, h: TcpHandle) -> Option<&Tcb> {
        match self.slab.get(h.0)? {
            Entry::Conn(t) => Some(t),
            Entry::Listener(_) => None,
        }
    }

    pub(crate) fn conn_mut(&mut self, h: TcpHandle) -> Option<&mut Tcb> {
        match self.slab.get_mut(h.0)? {
            Entry::Conn(t) => Some(t),
            Entry::Listener(_) => None,
        }
    }

    /// Whether `h` names a listener.
    pub(crate) fn is_listener(&self, h: TcpHandle) -> bool {
        matches!(self.slab.get(h.0), Some(Entry::Listener(_)))
    }

    /// State of any socket.
    pub(crate) fn state(&self, h: TcpHandle) -> Option<TcpState> {
        match self.slab.get(h.0)? {
            Entry::Conn(t) => Some(t.state),
            Entry::Listener(_) => Some(TcpState::Listen),
        }
    }

    /// State history of any socket.
    pub(crate) fn history(&self, h: TcpHandle) -> Vec<TcpState> {
        match self.slab.get(h.0) {
            Some(Entry::Conn(t)) => t.history(),
            Some(Entry::Listener(l)) => l.history.to_vec(),
            None => Vec::new(),
        }
    }

    /// The error of a connection.
    pub(crate) fn error(&self, h: TcpHandle) -> Option<TcpError> {
        self.conn(h)?.error
    }

    /// Registers the receive waker; for a listener, woken when a connection
    /// can be accepted.
    pub(crate) fn register_recv_waker(&mut self, h: TcpHandle, w: &Waker) {
        match self.slab.get_mut(h.0) {
            Some(Entry::Conn(t)) => t.register_recv_waker(w),
            Some(Entry::Listener(l)) => {
                if l.ready.is_empty() {
                    l.waker = Some(w.clone());
                } else {
                    w.wake_by_ref();
                }
            }
            None => {}
        }
    }

    fn listener_info(h: Handle, l: &Listener) -> TcpInfo {
        TcpInfo {
            handle: TcpHandle(h),
            state: TcpState::Listen,
            local: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, l.port),
            remote: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            send_queue: l.backlog,
            recv_queue: l.ready.len(),
            cwnd: 0,
            ssthresh: 0,
            srtt: None,
            rttvar: Duration::ZERO,
            rto: Duration::ZERO,
            mss: 0,
            snd_wnd: 0,
            rcv_wnd: 0,
            retransmissions: 0,
            bytes_acked: 0,
            bytes_received: 0,
            error: None,
            soft_error: None,
        }
    }

    /// A snapshot of one socket.
    pub(crate) fn info(&self, h: TcpHandle) -> Option<TcpInfo> {
        Some(match self.slab.get(h.0)? {
            Entry::Conn(t) => t.info(h),
            Entry::Listener(l) => Self::listener_info(h.0, l),
        })
    }

    /// Snapshots of every socket: listeners first, then connections, each
    /// sorted by local then remote address.
    pub(crate) fn all_info(&self) -> Vec<TcpInfo> {
        let mut v: Vec<TcpInfo> = self
            .slab
            .iter_handles()
            .map(|(h, e)| match e {
                Entry::Conn(t) => t.info(TcpHandle(h)),
                Entry::Listener(l) => Self::listener_info(h, l),
            })
            .collect();
        v.sort_by_key(|i| (i.state != TcpState::Listen, i.local, i.remote));
        v
    }

    /// Number of sockets (listeners, connections, TIME-WAIT).
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }
}
