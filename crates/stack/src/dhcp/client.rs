//! The DHCP client of a host (RFC 2131 §4.4, state diagram in Figure 5).
//!
//! Retransmissions start at 1 s and double up to 32 s, faster than the
//! RFC's 4 s / 64 s (§4.1) because a lab boots all devices at once and a
//! first DISCOVER lost to a router still starting should not cost 4 s.

use super::Destination;
use crate::time::Instant;
use std::net::Ipv4Addr;
use std::time::Duration;
use vnet_wire::dhcp::{DhcpMessage, DhcpMessageType, DhcpOption, option_code as code};
use vnet_wire::ethernet::EthernetAddress;
use vnet_wire::ip::Ipv4Cidr;

/// First retransmission delay.
pub const INITIAL_RETRANSMIT: Duration = Duration::from_secs(1);
/// Largest retransmission delay.
pub const MAX_RETRANSMIT: Duration = Duration::from_secs(32);

/// What the client obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Address and prefix (from option 1).
    pub address: Ipv4Cidr,
    /// Default router (option 3).
    pub router: Option<Ipv4Addr>,
    /// DNS servers (option 6).
    pub dns_servers: Vec<Ipv4Addr>,
    /// The server that granted it (option 54).
    pub server: Ipv4Addr,
    /// Lease time (option 51).
    pub lease_time: Duration,
    /// When it was granted or last renewed.
    pub acquired: Instant,
    /// Renewal time T1 (option 58, default ½ lease).
    pub t1: Duration,
    /// Rebinding time T2 (option 59, default ⅞ lease).
    pub t2: Duration,
}

/// What the device must do about the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// Configure this address, router and DNS servers.
    Bound(Lease),
    /// The lease was extended (address unchanged).
    Renewed(Lease),
    /// The lease ended (NAK or expiry): remove the address.
    Lost {
        /// The address that must no longer be used.
        address: Ipv4Cidr,
    },
}

/// One thing to do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this message from port 68 to port 67.
    Send(DhcpMessage, Destination),
    /// Apply a lease change.
    Event(ClientEvent),
}

/// RFC 2131 client states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// No address, about to send DISCOVER.
    Init,
    /// DISCOVER sent, collecting OFFERs.
    Selecting,
    /// REQUEST sent for an offer.
    Requesting,
    /// Lease in use.
    Bound,
    /// T1 passed: REQUEST unicast to the server.
    Renewing,
    /// T2 passed: REQUEST broadcast to any server.
    Rebinding,
}

impl ClientState {
    /// RFC name.
    pub fn name(self) -> &'static str {
        match self {
            ClientState::Init => "INIT",
            ClientState::Selecting => "SELECTING",
            ClientState::Requesting => "REQUESTING",
            ClientState::Bound => "BOUND",
            ClientState::Renewing => "RENEWING",
            ClientState::Rebinding => "REBINDING",
        }
    }
}

/// A DHCP client for one interface.
#[derive(Debug)]
pub struct DhcpClient {
    mac: EthernetAddress,
    state: ClientState,
    xid: u32,
    rng: u64,
    next_send: Option<Instant>,
    backoff: Duration,
    offer: Option<(Ipv4Addr, Ipv4Addr)>,
    lease: Option<Lease>,
}

impl DhcpClient {
    /// A client for interface `mac`; `seed` drives transaction ids (give it
    /// real randomness in a device, a constant in tests).
    pub fn new(mac: EthernetAddress, seed: u64) -> DhcpClient {
        let mut c = DhcpClient {
            mac,
            state: ClientState::Init,
            xid: 0,
            rng: seed | 1,
            next_send: Some(Instant::ZERO),
            backoff: INITIAL_RETRANSMIT,
            offer: None,
            lease: None,
        };
        c.xid = c.random() as u32;
        c
    }

    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// The lease in use, if any.
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// When [`DhcpClient::poll`] next has something to do.
    pub fn poll_at(&self) -> Option<Instant> {
        let expiry = self.lease.as_ref().map(|l| l.acquired + l.lease_time);
        match (self.next_send, expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn set_state(&mut self, new: ClientState) {
        if self.state != new {
            tracing::info!(mac = %self.mac, old = self.state.name(), new = new.name(), "DHCP client state");
            self.state = new;
        }
    }

    fn message(&self, kind: DhcpMessageType) -> DhcpMessage {
        let mut m = DhcpMessage::client(self.xid, self.mac, kind);
        m.options.push(DhcpOption::ParameterRequestList(vec![
            code::SUBNET_MASK,
            code::ROUTER,
            code::DNS_SERVERS,
            code::LEASE_TIME,
        ]));
        m
    }

    fn schedule_retransmit(&mut self, now: Instant) {
        self.next_send = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_RETRANSMIT);
    }

    /// Timers: (re)transmissions, T1, T2 and lease expiry.
    pub fn poll(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(lease) = &self.lease
            && now >= lease.acquired + lease.lease_time
        {
            // RFC 2131 §4.4.5: the lease expired; stop using the address.
            let address = lease.address;
            self.lease = None;
            self.set_state(ClientState::Init);
            self.next_send = Some(now);
            self.backoff = INITIAL_RETRANSMIT;
            actions.push(Action::Event(ClientEvent::Lost { address }));
        }
        if self.next_send.is_none_or(|t| now < t) {
            return actions;
        }
        match self.state {
            ClientState::Init | ClientState::Selecting => {
                if self.state == ClientState::Init {
                    self.xid = self.random() as u32;
                    self.backoff = INITIAL_RETRANSMIT;
                }
                self.set_state(ClientState::Selecting);
                let mut m = self.message(DhcpMessageType::Discover);
                m.broadcast = true;
                actions.push(Action::Send(m, Destination::Broadcast));
                self.schedule_retransmit(now);
            }
            ClientState::Requesting => {
                let Some((ip, server)) = self.offer else {
                    self.set_state(ClientState::Init);
                    return actions;
                };
                if self.backoff > MAX_RETRANSMIT / 2 {
                    // The server stopped answering: start over (RFC 2131 §4.4.1).
                    self.set_state(ClientState::Init);
                    self.next_send = Some(now);
                    return actions;
                }
                let mut m = self.message(DhcpMessageType::Request);
                m.broadcast = true;
                m.options.push(DhcpOption::RequestedIp(ip));
                m.options.push(DhcpOption::ServerIdentifier(server));
                actions.push(Action::Send(m, Destination::Broadcast));
                self.schedule_retransmit(now);
            }
            ClientState::Bound | ClientState::Renewing | ClientState::Rebinding => {
                let Some(lease) = self.lease.clone() else {
                    return actions;
                };
                let since = now - lease.acquired;
                let (state, destination) = if since >= lease.t2 {
                    (ClientState::Rebinding, Destination::Broadcast)
                } else {
                    (ClientState::Renewing, Destination::Unicast(lease.server))
                };
                self.set_state(state);
                let mut m = self.message(DhcpMessageType::Request);
                m.ciaddr = lease.address.address();
                actions.push(Action::Send(m, destination));
                // RFC 2131 §4.4.5: retry after half the time left to T2 (or
                // to expiry when rebinding), at least 1 s.
                let end = if state == ClientState::Renewing {
                    lease.t2
                } else {
                    lease.lease_time
                };
                let wait = (end.saturating_sub(since) / 2).max(Duration::from_secs(1));
                self.next_send = Some(now + wait);
            }
        }
        actions
    }

    /// Handles a message from a server.
    pub fn handle(&mut self, now: Instant, msg: &DhcpMessage) -> Vec<Action> {
        if msg.xid != self.xid || msg.chaddr != self.mac {
            return Vec::new();
        }
        match (self.state, msg.message_type()) {
            (ClientState::Selecting, Some(DhcpMessageType::Offer)) => {
                let Some(server) = msg.server_identifier() else {
                    return Vec::new();
                };
                // Take the first offer (RFC 2131 §4.4.1 lets the client choose).
                self.offer = Some((msg.yiaddr, server));
                self.set_state(ClientState::Requesting);
                self.backoff = INITIAL_RETRANSMIT;
                self.next_send = Some(now);
                self.poll(now)
            }
            (
                ClientState::Requesting | ClientState::Renewing | ClientState::Rebinding,
                Some(DhcpMessageType::Ack),
            ) => {
                let Some(lease) = lease_from(now, msg) else {
                    return Vec::new();
                };
                let renewed = self
                    .lease
                    .as_ref()
                    .is_some_and(|l| l.address == lease.address);
                self.lease = Some(lease.clone());
                self.set_state(ClientState::Bound);
                self.next_send = Some(now + lease.t1);
                self.backoff = INITIAL_RETRANSMIT;
                vec![Action::Event(if renewed {
                    ClientEvent::Renewed(lease)
                } else {
                    ClientEvent::Bound(lease)
                })]
            }
            (
                ClientState::Requesting | ClientState::Renewing | ClientState::Rebinding,
                Some(DhcpMessageType::Nak),
            ) => {
                // RFC 2131 §4.4.1: NAK → back to INIT, drop any address.
                tracing::info!(mac = %self.mac, "DHCPNAK received; restarting");
                let lost = self
                    .lease
                    .take()
                    .map(|l| Action::Event(ClientEvent::Lost { address: l.address }));
                self.offer = None;
                self.set_state(ClientState::Init);
                self.next_send = Some(now);
                lost.into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// The RELEASE to send when shutting down with a lease (RFC 2131 §4.4.6).
    pub fn release(&mut self) -> Option<(DhcpMessage, Destination)> {
        let lease = self.lease.take()?;
        let mut m = self.message(DhcpMessageType::Release);
        m.options
            .retain(|o| !matches!(o, DhcpOption::ParameterRequestList(_)));
        m.ciaddr = lease.address.address();
        m.options.push(DhcpOption::ServerIdentifier(lease.server));
        self.set_state(ClientState::Init);
        self.next_send = None;
        Some((m, Destination::Unicast(lease.server)))
    }
}

fn lease_from(now: Instant, ack: &DhcpMessage) -> Option<Lease> {
    let mask = ack.options.iter().find_map(|o| match o {
        DhcpOption::SubnetMask(m) => Some(*m),
        _ => None,
    })?;
    let prefix = u32::from(mask).leading_ones() as u8;
    let address = Ipv4Cidr::new(ack.yiaddr, prefix).ok()?;
    let secs = ack.lease_time()?;
    let lease_time = Duration::from_secs(u64::from(secs));
    let t1 = ack.options.iter().find_map(|o| match o {
        DhcpOption::RenewalTime(t) => Some(Duration::from_secs(u64::from(*t))),
        _ => None,
    });
    let t2 = ack.options.iter().find_map(|o| match o {
        DhcpOption::RebindingTime(t) => Some(Duration::from_secs(u64::from(*t))),
        _ => None,
    });
    Some(Lease {
        address,
        router: ack.options.iter().find_map(|o| match o {
            DhcpOption::Router(r) => r.first().copied(),
            _ => None,
        }),
        dns_servers: ack
            .options
            .iter()
            .find_map(|o| match o {
                DhcpOption::DnsServers(d) => Some(d.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        server: ack.server_identifier()?,
        lease_time,
        acquired: now,
        t1: t1.unwrap_or(lease_time / 2),
        t2: t2.unwrap_or(lease_time / 8 * 7),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhcp::server::{DhcpServer, DhcpServerConfig};

    fn server(lease: u64) -> DhcpServer {
        DhcpServer::new(DhcpServerConfig {
            interface: "10.0.1.1/24".parse().expect("cidr"),
            pool_start: Ipv4Addr::new(10, 0, 1, 100),
            pool_end: Ipv4Addr::new(10, 0, 1, 199),
            router: Ipv4Addr::new(10, 0, 1, 1),
            dns_servers: vec![Ipv4Addr::new(10, 0, 2, 53)],
            lease_time: Duration::from_secs(lease),
        })
        .expect("valid")
    }

    /// Runs client actions through the server until nothing is left; returns events.
    fn exchange(
        c: &mut DhcpClient,
        s: &mut DhcpServer,
        now: Instant,
        mut actions: Vec<Action>,
    ) -> Vec<ClientEvent> {
        let mut events = Vec::new();
        while let Some(action) = actions.pop() {
            match action {
                Action::Event(e) => events.push(e),
                Action::Send(msg, _) => {
                    // Through the wire codec, as on a real link.
                    let msg = DhcpMessage::parse(&msg.emit()).expect("client emits valid DHCP");
                    if let Some((reply, _)) = s.handle(now, &msg) {
                        let reply =
                            DhcpMessage::parse(&reply.emit()).expect("server emits valid DHCP");
                        actions.extend(c.handle(now, &reply));
                    }
                }
            }
        }
        events
    }

    #[test]
    fn full_exchange_binds_then_renews_at_t1_and_releases() {
        let mut s = server(100);
        let mut c = DhcpClient::new(EthernetAddress([2, 0, 0, 0, 0, 7]), 42);
        let t0 = Instant::from_secs(1);
        let first = c.poll(t0);
        let events = exchange(&mut c, &mut s, t0, first);
        let Some(ClientEvent::Bound(lease)) = events.first() else {
            panic!("{events:?}")
        };
        assert_eq!(lease.address.to_string(), "10.0.1.100/24");
        assert_eq!(lease.router, Some(Ipv4Addr::new(10, 0, 1, 1)));
        assert_eq!(lease.dns_servers, vec![Ipv4Addr::new(10, 0, 2, 53)]);
        assert_eq!(c.state(), ClientState::Bound);
        assert_eq!(
            c.poll_at(),
            Some(t0 + Duration::from_secs(50)),
            "T1 = half the lease"
        );
        // At T1 the client renews by unicast to its server.
        let t1 = t0 + Duration::from_secs(50);
        let actions = c.poll(t1);
        assert!(
            matches!(&actions[..], [Action::Send(m, Destination::Unicast(ip))] if m.ciaddr == lease.address.address() && *ip == Ipv4Addr::new(10, 0, 1, 1))
        );
        assert_eq!(c.state(), ClientState::Renewing);
        let events = exchange(&mut c, &mut s, t1, actions);
        assert!(
            matches!(events.first(), Some(ClientEvent::Renewed(_))),
            "{events:?}"
        );
        let (release, _) = c.release().expect("release");
        assert!(s.handle(t1, &release).is_none());
        assert!(s.leases(t1).is_empty());
    }

    #[test]
    fn silence_means_backoff_then_rebinding_then_expiry() {
        let mut c = DhcpClient::new(EthernetAddress([2, 0, 0, 0, 0, 8]), 7);
        let t0 = Instant::from_secs(1);
        assert_eq!(c.poll(t0).len(), 1);
        assert_eq!(c.poll_at(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(c.poll(t0 + Duration::from_secs(1)).len(), 1);
        assert_eq!(c.poll_at(), Some(t0 + Duration::from_secs(3)), "doubling");
        // Bind, then let the server vanish.
        let mut s = server(80);
        let t = t0 + Duration::from_secs(3);
        let first = c.poll(t);
        exchange(&mut c, &mut s, t, first);
        assert_eq!(c.state(), ClientState::Bound);
        let t2 = t + Duration::from_secs(70);
        let actions = c.poll(t2);
        assert!(matches!(
            &actions[..],
            [Action::Send(_, Destination::Broadcast)]
        ));
        assert_eq!(c.state(), ClientState::Rebinding);
        let actions = c.poll(t + Duration::from_secs(80));
        assert!(
            actions
                .iter()
                .any(|a| matches!(a, Action::Event(ClientEvent::Lost { .. }))),
            "{actions:?}"
        );
        assert_eq!(c.state(), ClientState::Selecting);
    }

    #[test]
    fn nak_sends_the_client_back_to_init_and_wrong_xid_is_ignored() {
        let mut s = server(100);
        let mut c = DhcpClient::new(EthernetAddress([2, 0, 0, 0, 0, 9]), 3);
        let t0 = Instant::from_secs(1);
        let first = c.poll(t0);
        exchange(&mut c, &mut s, t0, first);
        let lease = c.lease().expect("bound").clone();
        // Someone else's reply is ignored.
        let mut foreign = DhcpMessage::client(c.xid.wrapping_add(1), c.mac, DhcpMessageType::Nak);
        foreign.op = vnet_wire::dhcp::DhcpOp::BootReply;
        assert!(c.handle(t0, &foreign).is_empty());
        // A NAK while renewing drops the address.
        let t1 = t0 + Duration::from_secs(50);
        let _ = c.poll(t1);
        let mut nak = DhcpMessage::client(c.xid, c.mac, DhcpMessageType::Nak);
        nak.op = vnet_wire::dhcp::DhcpOp::BootReply;
        let actions = c.handle(t1, &nak);
        assert_eq!(
            actions,
            vec![Action::Event(ClientEvent::Lost {
                address: lease.address
            })]
        );
        assert_eq!(c.state(), ClientState::Init);
    }
}
