//! The user calls of RFC 9293 §3.10 on one connection: SEND (§3.10.2),
//! RECEIVE (§3.10.3), CLOSE (§3.10.4, plus shutdown of the send side),
//! ABORT (§3.10.5).

use super::TcpError;
use super::state::TcpState;
use super::tcb::{Ctx, Tcb};
use crate::error::StackError;

impl Tcb {
    /// SEND: copies what fits in the send buffer and sends what the windows
    /// allow. In SYN-SENT and SYN-RECEIVED the data is queued "for
    /// transmission after entering ESTABLISHED state".
    pub(crate) fn send(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> Result<usize, StackError> {
        if let Some(e) = self.error {
            return Err(StackError::Connection(e));
        }
        match self.state {
            TcpState::SynSent
            | TcpState::SynReceived
            | TcpState::Established
            | TcpState::CloseWait => {}
            TcpState::Closed | TcpState::Listen => return Err(StackError::NotConnected),
            // "error: connection closing"
            _ => return Err(StackError::Shutdown),
        }
        if self.fin_queued {
            return Err(StackError::Shutdown);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let n = self.tx.write(data);
        if n == 0 {
            return Err(StackError::WouldBlock);
        }
        self.output(ctx);
        Ok(n)
    }

    /// RECEIVE: in-order data first; then the error that ended the
    /// connection; then `Ok(0)` once the peer's FIN has been read
    /// ("connection closing"); otherwise [`StackError::WouldBlock`]. Reading
    /// may open the window enough to send a window update (RFC 1122
    /// §4.2.3.3).
    pub(crate) fn recv(&mut self, ctx: &mut Ctx<'_>, buf: &mut [u8]) -> Result<usize, StackError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.rx.len() > 0 {
            let n = self.rx.read(buf);
            let before = self.rcv_wnd();
            if self.state.is_synchronized()
                && self.update_rcv_window()
                && before < self.rx.capacity() / 2
            {
                self.ack_now = true;
                self.output(ctx);
            }
            return Ok(n);
        }
        if let Some(e) = self.error {
            return Err(StackError::Connection(e));
        }
        if self.fin_received || self.state == TcpState::Closed {
            return Ok(0);
        }
        Err(StackError::WouldBlock)
    }

    /// Shutdown of the sending side (half close): a FIN follows the queued
    /// data (RFC 9293 §3.10.4: "Queue this until all preceding SENDs have
    /// been segmentized, then form a FIN segment and send it"); the
    /// connection keeps receiving.
    pub(crate) fn shutdown(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StackError> {
        if let Some(e) = self.error {
            return Err(StackError::Connection(e));
        }
        match self.state {
            TcpState::Closed | TcpState::Listen => Err(StackError::NotConnected),
            TcpState::SynSent
            | TcpState::SynReceived
            | TcpState::Established
            | TcpState::CloseWait => {
                self.fin_queued = true;
                self.output(ctx);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// CLOSE by the application, which gives up its handle. SYN-SENT:
    /// "Delete the TCB"; unread data: reset (RFC 1122 §4.2.2.13, RFC 2525
    /// §2.17); otherwise a graceful FIN after the queued data, the TCB
    /// living on until CLOSED.
    pub(crate) fn close(&mut self, ctx: &mut Ctx<'_>) {
        self.released = true;
        self.recv_waker = None;
        self.send_waker = None;
        match self.state {
            TcpState::Closed | TcpState::Listen => {}
            TcpState::SynSent => self.set_state(ctx, TcpState::Closed),
            TcpState::SynReceived
            | TcpState::Established
            | TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::CloseWait
                if self.rx.len() > 0 =>
            {
                self.abort(ctx)
            }
            TcpState::SynReceived | TcpState::Established | TcpState::CloseWait => {
                self.fin_queued = true;
                self.output(ctx);
            }
            TcpState::FinWait2 => {
                self.finwait2_at = Some(ctx.now + ctx.cfg.fin_wait2_timeout);
            }
            _ => {}
        }
    }

    /// ABORT: "send a reset segment: <SEQ=SND.NXT><CTL=RST>" in the
    /// synchronized states (with ACK, as Linux does, so a peer in SYN-SENT
    /// accepts it too), flush everything, enter CLOSED.
    pub(crate) fn abort(&mut self, ctx: &mut Ctx<'_>) {
        self.released = true;
        if matches!(
            self.state,
            TcpState::SynReceived
                | TcpState::Established
                | TcpState::FinWait1
                | TcpState::FinWait2
                | TcpState::CloseWait
        ) {
            let seq = self.ack_seq();
            self.emit_rst(ctx, seq, Some(self.rcv_nxt));
        }
        if self.state != TcpState::Closed {
            self.fail(ctx, TcpError::Aborted);
        }
    }
}
