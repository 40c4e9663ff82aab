//! The public TCP socket API of [`NetStack`] (the user interface of
//! RFC 9293 §3.9.1 and §3.10: OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS)
//! and the glue between the TCP sockets and IP: segment input with
//! checksum verification, output with the IPv4 pseudo-header checksum,
//! and the MSS derived from the egress interface.

use super::NetStack;
use super::output::Outgoing;
use crate::error::StackError;
use crate::tcp::{TcpError, TcpHandle, TcpInfo, TcpState};
use crate::time::Instant;
use crate::transmit::{Scoped, Transmit, trace_event};
use core::task::Waker;
use std::net::{Ipv4Addr, SocketAddrV4};
use vnet_wire::WireError;
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4::{self, Ipv4Packet};
use vnet_wire::tcp::{self as wire_tcp, TcpFlags, TcpPacket, TcpRepr};
use vnet_wire::trace::Direction;

/// The MSS for an egress MTU: MTU − 20 (IPv4 header) − 20 (TCP header)
/// (RFC 9293 §3.7.1, RFC 879).
fn mss_for_mtu(mtu: usize) -> u16 {
    mtu.saturating_sub(ipv4::HEADER_LEN + wire_tcp::HEADER_LEN)
        .min(usize::from(u16::MAX)) as u16
}

/// TCP flags as in a capture tool's summary: `SYN, ACK`.
fn flag_names(flags: TcpFlags) -> String {
    let names = [
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
    ];
    let mut out = String::new();
    for (flag, name) in names {
        if flags.contains(flag) {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(name);
        }
    }
    out
}

impl NetStack {
    /// The MSS to announce to `remote`: from the MTU of the interface that
    /// routes to it (loopback: 65535 − 40), at least the RFC default 536.
    fn tcp_mss_for(&mut self, now: Instant, remote: Ipv4Addr) -> u16 {
        match self.egress(remote) {
            Ok(eg) => mss_for_mtu(self.path_mtu(now, remote, eg.mtu)),
            Err(_) => 536,
        }
    }

    /// The MTU towards `dst`: the egress interface's, or a smaller path
    /// MTU learned from ICMP (RFC 1191 §6.3).
    fn path_mtu(&self, now: Instant, dst: Ipv4Addr, interface_mtu: usize) -> usize {
        match self.pmtu.get(now, dst) {
            Some(pmtu) => interface_mtu.min(usize::from(pmtu)),
            None => interface_mtu,
        }
    }

    /// A TCP segment for us: `packet` is a whole, checked IPv4 datagram.
    /// Segments to broadcast or multicast addresses are dropped (RFC 1122
    /// §4.2.3.10), bad checksums are counted and dropped (RFC 9293 §3.1).
    pub(super) fn tcp_input(
        &mut self,
        now: Instant,
        packet: &[u8],
        broadcast: bool,
        tx: &mut dyn Transmit,
    ) {
        self.counters.tcp_rx += 1;
        let ip = Ipv4Packet::new_unchecked(packet);
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        if broadcast || dst.is_multicast() {
            self.counters.tcp_malformed += 1;
            return;
        }
        let seg = match TcpPacket::new_checked(ip.payload()) {
            Ok(s) => s,
            Err(_) => {
                self.counters.tcp_malformed += 1;
                return;
            }
        };
        let repr = match TcpRepr::parse(&seg, src, dst) {
            Ok(r) => r,
            Err(WireError::BadChecksum { .. }) => {
                self.counters.tcp_bad_checksum += 1;
                return;
            }
            Err(_) => {
                self.counters.tcp_malformed += 1;
                return;
            }
        };
        if repr.src_port == 0 || repr.dst_port == 0 {
            self.counters.tcp_malformed += 1;
            return;
        }
        let local = SocketAddrV4::new(dst, repr.dst_port);
        let remote = SocketAddrV4::new(src, repr.src_port);
        // A SYN, or an ACK that may carry a SYN cookie, can create a
        // connection, which needs the MSS we announce.
        let opens = (repr.flags.contains(TcpFlags::SYN) && repr.ack.is_none())
            || (repr.ack.is_some()
                && !repr.flags.intersects(TcpFlags::SYN | TcpFlags::RST)
                && self.tcp.needs_our_mss(local, remote));
        let mss = if opens { self.tcp_mss_for(now, src) } else { 0 };
        tracing::trace!(%remote, %local, seg = %repr, "TCP in");
        if tx.trace().is_some() {
            let flags = flag_names(repr.flags);
            let control = repr
                .flags
                .intersects(TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST);
            trace_event!(
                tx,
                now,
                "tcp.in",
                "L4",
                "tcp",
                if control { None } else { Some(Direction::In) },
                format!(
                    "{remote} → {local} [{flags}] seq={}{} len={}",
                    repr.seq,
                    repr.ack.map(|a| format!(" ack={a}")).unwrap_or_default(),
                    seg.payload().len()
                ),
                [
                    ("tcp.flags", flags),
                    ("tcp.seq", repr.seq),
                    ("tcp.ack", repr.ack.unwrap_or(0)),
                    ("tcp.len", seg.payload().len()),
                    ("tcp.src_port", repr.src_port),
                    ("tcp.dst_port", repr.dst_port)
                ]
            );
        }
        self.tcp.trace_now = tx.trace();
        self.tcp.input(
            now,
            &mut self.counters,
            local,
            remote,
            &repr,
            seg.payload(),
            mss,
        );
        self.flush_tcp(now, tx);
    }

    /// Sends the segments the TCP sockets produced: each gets its header,
    /// its checksum over the IPv4 pseudo-header (RFC 9293 §3.1) and an IP
    /// header with DF set (Path MTU Discovery, RFC 1191; the MSS already
    /// fits the egress MTU).
    ///
    /// The events the call recorded go to `tx` first, segments or not: a
    /// state change that sends nothing (LAST-ACK → CLOSED on the final ACK,
    /// the end of TIME-WAIT) belongs to this call's work and time, not to
    /// whichever later call happens to send a segment. The work's trace
    /// ends here too, so the next call (a timer) does not inherit it.
    pub(super) fn flush_tcp(&mut self, now: Instant, tx: &mut dyn Transmit) {
        for event in self.tcp.events.drain(..) {
            tx.record(event);
        }
        self.tcp.trace_now = None;
        if self.tcp.out.is_empty() {
            return;
        }
        let mut segs = core::mem::take(&mut self.tcp.out);
        let mut buf = Vec::new();
        for seg in segs.drain(..) {
            let tx = &mut Scoped::new(&mut *tx, seg.trace);
            if tx.trace().is_some() {
                let flags = flag_names(seg.repr.flags);
                let control = seg
                    .repr
                    .flags
                    .intersects(TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST);
                trace_event!(
                    tx,
                    now,
                    "tcp.send",
                    "L4",
                    "tcp",
                    if control { None } else { Some(Direction::Out) },
                    format!(
                        "{} → {} [{flags}] seq={}{} len={}",
                        seg.local,
                        seg.remote,
                        seg.repr.seq,
                        seg.repr
                            .ack
                            .map(|a| format!(" ack={a}"))
                            .unwrap_or_default(),
                        seg.payload.len()
                    ),
                    [
                        ("tcp.flags", flags),
                        ("tcp.seq", seg.repr.seq),
                        ("tcp.ack", seg.repr.ack.unwrap_or(0)),
                        ("tcp.len", seg.payload.len()),
                        ("tcp.src_port", seg.repr.src_port),
                        ("tcp.dst_port", seg.repr.dst_port)
                    ]
                );
            }
            self.counters.tcp_tx += 1;
            if seg.repr.flags.contains(TcpFlags::RST) {
                self.counters.tcp_rst_sent += 1;
            }
            tracing::trace!(local = %seg.local, remote = %seg.remote, seg = %seg.repr, "TCP out");
            let Ok(mut eg) = self.egress(*seg.remote.ip()) else {
                continue;
            };
            if !eg.local {
                eg.src = *seg.local.ip();
            }
            buf.clear();
            buf.resize(seg.repr.buffer_len(), 0);
            seg.repr.emit_with_payload(
                &mut TcpPacket::new_unchecked(&mut buf[..]),
                *seg.local.ip(),
                *seg.remote.ip(),
                &seg.payload,
            );
            let out = Outgoing {
                proto: IpProtocol::Tcp,
                ttl: self.config.default_ttl,
                dont_frag: true,
                payload: &buf,
            };
            if let Err(e) = self.send_datagram(now, &eg, out, tx) {
                tracing::debug!(remote = %seg.remote, error = %e, "TCP segment not sent");
            }
        }
        if self.tcp.out.is_empty() {
            self.tcp.out = segs;
        }
    }

    /// Marks the work the next TCP call does as belonging to `tx`'s trace.
    fn tcp_begin(&mut self, tx: &dyn Transmit) {
        self.tcp.trace_now = tx.trace();
    }

    /// Sends what the last call produced and delivers looped-back packets.
    fn tcp_finish(&mut self, now: Instant, tx: &mut dyn Transmit) {
        self.flush_tcp(now, tx);
        self.drain_loopback(now, tx);
    }

    /// Passive OPEN (RFC 9293 §3.10.1): listens on `port` on every address.
    /// At most `backlog` connections (bounded by
    /// [`crate::TcpConfig::max_backlog`]) wait to be accepted, handshakes
    /// in progress included; further SYNs are counted (`tcp_backlog_full`)
    /// and answered statelessly with a SYN cookie (RFC 4987 §3.6,
    /// `tcp_syncookies_*`), or dropped if [`crate::TcpConfig::syn_cookies`]
    /// is off. Errors: [`StackError::PortInUse`] (also for port 0),
    /// [`StackError::TooManySockets`].
    pub fn tcp_listen(&mut self, port: u16, backlog: usize) -> Result<TcpHandle, StackError> {
        self.tcp.listen(port, backlog)
    }

    /// The next established connection waiting on a listener, if any (the
    /// listener's receive waker fires when one arrives).
    pub fn tcp_accept(&mut self, h: TcpHandle) -> Option<TcpHandle> {
        self.tcp.accept(h)
    }

    /// Active OPEN (RFC 9293 §3.10.1): sends a SYN to `dst` from the egress
    /// interface's address and an ephemeral port (RFC 6056), returning at
    /// once in SYN-SENT. Completion shows as [`TcpState::Established`];
    /// failure as [`NetStack::tcp_error`] (`Refused`, `TimedOut`). Errors:
    /// [`StackError::NoRoute`], [`StackError::NoAddress`],
    /// [`StackError::TooManySockets`].
    pub fn tcp_connect(
        &mut self,
        now: Instant,
        dst: SocketAddrV4,
        tx: &mut dyn Transmit,
    ) -> Result<TcpHandle, StackError> {
        self.tcp_connect_from(now, 0, dst, tx)
    }

    /// [`NetStack::tcp_connect`] from a chosen local port (0: ephemeral),
    /// like `bind()` before `connect()`; needed e.g. for a simultaneous
    /// open (RFC 9293 §3.5, Figure 7). [`StackError::PortInUse`] if that
    /// connection already exists.
    pub fn tcp_connect_from(
        &mut self,
        now: Instant,
        local_port: u16,
        dst: SocketAddrV4,
        tx: &mut dyn Transmit,
    ) -> Result<TcpHandle, StackError> {
        let eg = self.egress(*dst.ip())?;
        let mss = mss_for_mtu(self.path_mtu(now, *dst.ip(), eg.mtu));
        self.tcp_begin(tx);
        let h = self
            .tcp
            .connect(now, &mut self.counters, eg.src, local_port, dst, mss)?;
        self.tcp_finish(now, tx);
        Ok(h)
    }

    /// SEND (RFC 9293 §3.10.2): copies as much of `data` as fits in the
    /// bounded send buffer and returns how much; [`StackError::WouldBlock`]
    /// if none fits (register a send waker). Data written before the
    /// handshake completes is sent once ESTABLISHED. Errors after a
    /// shutdown: [`StackError::Shutdown`]; after a failure:
    /// [`StackError::Connection`].
    pub fn tcp_send(
        &mut self,
        now: Instant,
        h: TcpHandle,
        data: &[u8],
        tx: &mut dyn Transmit,
    ) -> Result<usize, StackError> {
        if self.tcp.is_listener(h) {
            return Err(StackError::NotConnected);
        }
        self.tcp_begin(tx);
        let r = self
            .tcp
            .with_conn(now, &mut self.counters, h, |t, ctx| t.send(ctx, data))?;
        self.tcp_finish(now, tx);
        r
    }

    /// RECEIVE (RFC 9293 §3.10.3): copies received in-order data into
    /// `buf`. `Ok(0)` means end of stream (the peer's FIN was read, or
    /// `buf` is empty); [`StackError::WouldBlock`] means nothing yet;
    /// [`StackError::Connection`] reports a reset or timeout. Reading may
    /// send a window update (RFC 1122 §4.2.3.3).
    pub fn tcp_recv(
        &mut self,
        now: Instant,
        h: TcpHandle,
        buf: &mut [u8],
        tx: &mut dyn Transmit,
    ) -> Result<usize, StackError> {
        if self.tcp.is_listener(h) {
            return Err(StackError::NotConnected);
        }
        self.tcp_begin(tx);
        let r = self
            .tcp
            .with_conn(now, &mut self.counters, h, |t, ctx| t.recv(ctx, buf))?;
        self.tcp_finish(now, tx);
        r
    }

    /// In-order bytes a [`NetStack::tcp_recv`] would return now (0 for a
    /// bad handle, a listener, or nothing yet): lets a caller size (and
    /// initialise) only the buffer it needs.
    pub fn tcp_recv_ready(&self, h: TcpHandle) -> usize {
        self.tcp.conn(h).map_or(0, |t| t.readable_len())
    }

    /// Shuts down the sending side (half close): a FIN follows the data
    /// already queued (RFC 9293 §3.10.4); the socket keeps receiving.
    pub fn tcp_shutdown(
        &mut self,
        now: Instant,
        h: TcpHandle,
        tx: &mut dyn Transmit,
    ) -> Result<(), StackError> {
        if self.tcp.is_listener(h) {
            return Err(StackError::NotConnected);
        }
        self.tcp_begin(tx);
        let r = self
            .tcp
            .with_conn(now, &mut self.counters, h, |t, ctx| t.shutdown(ctx))?;
        self.tcp_finish(now, tx);
        r
    }

    /// CLOSE (RFC 9293 §3.10.4) and release of the handle: a connection
    /// sends its FIN after the queued data and finishes the close on its
    /// own (reset instead if received data was left unread, RFC 1122
    /// §4.2.2.13); a listener stops and resets its unaccepted connections.
    /// The handle is invalid afterwards.
    pub fn tcp_close(&mut self, now: Instant, h: TcpHandle, tx: &mut dyn Transmit) {
        self.tcp_begin(tx);
        self.tcp.close(now, &mut self.counters, h);
        self.tcp_finish(now, tx);
    }

    /// ABORT (RFC 9293 §3.10.5): sends a reset, discards both buffers and
    /// releases the handle.
    pub fn tcp_abort(&mut self, now: Instant, h: TcpHandle, tx: &mut dyn Transmit) {
        self.tcp_begin(tx);
        self.tcp.abort(now, &mut self.counters, h);
        self.tcp_finish(now, tx);
    }

    /// Disables (true) or enables (false, the default) Nagle's algorithm
    /// (RFC 1122 §4.2.3.4: "a TCP SHOULD implement ... a way for a user to
    /// disable the Nagle algorithm"; Linux `TCP_NODELAY`).
    pub fn tcp_set_nodelay(&mut self, h: TcpHandle, nodelay: bool) {
        if let Some(t) = self.tcp.conn_mut(h) {
            t.nodelay = nodelay;
        }
    }

    /// The state of a socket (RFC 9293 §3.3.2), `None` for a bad handle.
    pub fn tcp_state(&self, h: TcpHandle) -> Option<TcpState> {
        self.tcp.state(h)
    }

    /// The states a socket went through, oldest first (at most
    /// [`crate::tcp::HISTORY_LEN`]); a test hook and a teaching aid.
    pub fn tcp_state_history(&self, h: TcpHandle) -> Vec<TcpState> {
        self.tcp.history(h)
    }

    /// The trace span a connection's work belongs to (see
    /// [`Transmit::trace`]): a server continues its client's trace with it.
    pub fn tcp_trace(&self, h: TcpHandle) -> Option<vnet_wire::trace::TraceContext> {
        self.tcp.conn(h).and_then(|t| t.trace)
    }

    /// The error that ended a connection, if any.
    pub fn tcp_error(&self, h: TcpHandle) -> Option<TcpError> {
        self.tcp.error(h)
    }

    /// A snapshot of one socket (RFC 9293 §3.10.6 STATUS; Linux `tcp_info`).
    pub fn tcp_info(&self, h: TcpHandle) -> Option<TcpInfo> {
        self.tcp.info(h)
    }

    /// Every TCP socket, listeners first (what `ss -ta` prints).
    pub fn tcp_sockets(&self) -> Vec<TcpInfo> {
        self.tcp.all_info()
    }

    /// Number of TCP sockets, TIME-WAIT and closing ones included.
    pub fn tcp_socket_count(&self) -> usize {
        self.tcp.len()
    }

    /// Registers a waker woken when the socket becomes readable (data,
    /// end of stream, error), on every state change, and for a listener
    /// when a connection can be accepted. Woken at once if already ready.
    pub fn tcp_register_recv_waker(&mut self, h: TcpHandle, waker: &Waker) {
        self.tcp.register_recv_waker(h, waker);
    }

    /// Registers a waker woken when send-buffer space frees and on every
    /// state change (e.g. the handshake completing). Woken at once if
    /// `tcp_send` would not block on an established connection.
    pub fn tcp_register_send_waker(&mut self, h: TcpHandle, waker: &Waker) {
        if let Some(t) = self.tcp.conn_mut(h) {
            t.register_send_waker(waker);
        }
    }
}
