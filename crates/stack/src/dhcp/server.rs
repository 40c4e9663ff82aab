//! The DHCP server of a router's LAN interface (RFC 2131 §4.3).

use super::Destination;
use crate::time::Instant;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;
use vnet_wire::dhcp::{DhcpMessage, DhcpMessageType, DhcpOp, DhcpOption};
use vnet_wire::ethernet::EthernetAddress;
use vnet_wire::ip::Ipv4Cidr;

/// Server settings for one interface.
#[derive(Debug, Clone, PartialEq)]
pub struct DhcpServerConfig {
    /// The server's own address and the subnet it serves.
    pub interface: Ipv4Cidr,
    /// First address of the pool.
    pub pool_start: Ipv4Addr,
    /// Last address of the pool (inclusive).
    pub pool_end: Ipv4Addr,
    /// Default router handed out (option 3).
    pub router: Ipv4Addr,
    /// DNS servers handed out (option 6).
    pub dns_servers: Vec<Ipv4Addr>,
    /// Lease time (option 51).
    pub lease_time: Duration,
}

/// A pool that does not fit its interface.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhcpPoolError {
    /// `pool_start` or `pool_end` is not in the interface's subnet.
    #[error("{field} {address} is outside {network}")]
    Outside {
        /// `pool_start` or `pool_end`.
        field: &'static str,
        /// The address given.
        address: Ipv4Addr,
        /// The interface's subnet.
        network: Ipv4Cidr,
    },
    /// The pool ends before it starts.
    #[error("pool_start {start} is after pool_end {end}")]
    Reversed {
        /// `pool_start`.
        start: Ipv4Addr,
        /// `pool_end`.
        end: Ipv4Addr,
    },
}

/// How long an offer stays reserved for the client it was made to.
pub const OFFER_HOLD: Duration = Duration::from_secs(60);

/// A lease as `vnet show r1 leases` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseEntry {
    /// Leased address.
    pub ip: Ipv4Addr,
    /// Client hardware address.
    pub mac: EthernetAddress,
    /// `offered` or `bound`.
    pub state: &'static str,
    /// Time left.
    pub expires_in: Duration,
}

#[derive(Debug, Clone)]
struct Lease {
    mac: EthernetAddress,
    bound: bool,
    expires: Instant,
}

/// Counters of a DHCP server.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DhcpServerCounters {
    /// DISCOVERs received.
    pub discovers: u64,
    /// OFFERs sent.
    pub offers: u64,
    /// REQUESTs received.
    pub requests: u64,
    /// ACKs sent.
    pub acks: u64,
    /// NAKs sent.
    pub naks: u64,
    /// RELEASEs received.
    pub releases: u64,
    /// DISCOVERs left unanswered because the pool was exhausted.
    pub pool_exhausted: u64,
    /// Messages ignored (not for us, malformed, wrong op).
    pub ignored: u64,
}

/// A DHCP server for one subnet, with a bounded pool.
#[derive(Debug)]
pub struct DhcpServer {
    config: DhcpServerConfig,
    leases: BTreeMap<Ipv4Addr, Lease>,
    counters: DhcpServerCounters,
}

impl DhcpServer {
    /// A server; the pool must lie in the interface's subnet.
    pub fn new(config: DhcpServerConfig) -> Result<DhcpServer, DhcpPoolError> {
        let net = config.interface.network();
        for (field, address) in [
            ("pool_start", config.pool_start),
            ("pool_end", config.pool_end),
        ] {
            if !net.contains(address) {
                return Err(DhcpPoolError::Outside {
                    field,
                    address,
                    network: net,
                });
            }
        }
        if u32::from(config.pool_start) > u32::from(config.pool_end) {
            return Err(DhcpPoolError::Reversed {
                start: config.pool_start,
                end: config.pool_end,
            });
        }
        Ok(DhcpServer {
            config,
            leases: BTreeMap::new(),
            counters: DhcpServerCounters::default(),
        })
    }

    /// Counters.
    pub fn counters(&self) -> &DhcpServerCounters {
        &self.counters
    }

    /// Live leases and offers.
    pub fn leases(&self, now: Instant) -> Vec<LeaseEntry> {
        self.leases
            .iter()
            .filter(|(_, l)| l.expires > now)
            .map(|(ip, l)| LeaseEntry {
                ip: *ip,
                mac: l.mac,
                state: if l.bound { "bound" } else { "offered" },
                expires_in: l.expires - now,
            })
            .collect()
    }

    /// Bound leases with their time left: what a server persists so that a
    /// restart keeps its clients' addresses (as ISC dhcpd's and Kea's lease
    /// files do). Offers are not kept.
    pub fn bound_leases(&self, now: Instant) -> Vec<(Ipv4Addr, EthernetAddress, Duration)> {
        self.leases
            .iter()
            .filter(|(_, l)| l.bound && l.expires > now)
            .map(|(ip, l)| (*ip, l.mac, l.expires - now))
            .collect()
    }

    /// Restores a bound lease saved by [`bound_leases`](Self::bound_leases)
    /// before a restart. Refused (false) when the address is outside the
    /// pool, the time left is zero, or the address is leased to another
    /// client; a lease is never longer than the configured lease time.
    pub fn restore_lease(
        &mut self,
        now: Instant,
        ip: Ipv4Addr,
        mac: EthernetAddress,
        left: Duration,
    ) -> bool {
        if !self.in_pool(ip) || left.is_zero() {
            return false;
        }
        if self
            .leases
            .get(&ip)
            .is_some_and(|l| l.mac != mac && l.expires > now)
        {
            return false;
        }
        self.leases.retain(|_, l| l.mac != mac);
        let left = left.min(self.config.lease_time);
        self.leases.insert(
            ip,
            Lease {
                mac,
                bound: true,
                expires: now + left,
            },
        );
        true
    }

    fn server_id(&self) -> Ipv4Addr {
        self.config.interface.address()
    }

    fn in_pool(&self, ip: Ipv4Addr) -> bool {
        (u32::from(self.config.pool_start)..=u32::from(self.config.pool_end))
            .contains(&u32::from(ip))
    }

    /// The address `mac` should get: its current lease, the one it asks for
    /// if free, or the lowest free address of the pool.
    fn choose(
        &self,
        now: Instant,
        mac: EthernetAddress,
        requested: Option<Ipv4Addr>,
    ) -> Option<Ipv4Addr> {
        if let Some((ip, _)) = self.leases.iter().find(|(_, l)| l.mac == mac) {
            return Some(*ip);
        }
        let free = |ip: Ipv4Addr| {
            self.leases
                .get(&ip)
                .is_none_or(|l| l.expires <= now || l.mac == mac)
        };
        if let Some(ip) = requested.filter(|ip| self.in_pool(*ip) && free(*ip)) {
            return Some(ip);
        }
        (u32::from(self.config.pool_start)..=u32::from(self.config.pool_end))
            .map(Ipv4Addr::from)
            .find(|ip| free(*ip))
    }

    fn options(&self, kind: DhcpMessageType, lease: bool) -> Vec<DhcpOption> {
        let mut options = vec![
            DhcpOption::MessageType(kind),
            DhcpOption::ServerIdentifier(self.server_id()),
        ];
        if kind == DhcpMessageType::Nak {
            return options;
        }
        options.push(DhcpOption::SubnetMask(self.config.interface.netmask()));
        options.push(DhcpOption::Router(vec![self.config.router]));
        if !self.config.dns_servers.is_empty() {
            options.push(DhcpOption::DnsServers(self.config.dns_servers.clone()));
        }
        if lease {
            let secs = self.config.lease_time.as_secs().min(u64::from(u32::MAX)) as u32;
            options.push(DhcpOption::LeaseTime(secs));
            // RFC 2131 §4.4.5: T1 = 0.5 × lease, T2 = 0.875 × lease.
            options.push(DhcpOption::RenewalTime(secs / 2));
            options.push(DhcpOption::RebindingTime(secs / 8 * 7));
        }
        options
    }

    fn reply(
        &self,
        request: &DhcpMessage,
        kind: DhcpMessageType,
        yiaddr: Ipv4Addr,
    ) -> (DhcpMessage, Destination) {
        let mut reply = DhcpMessage::reply_to(request, kind);
        reply.yiaddr = yiaddr;
        reply.siaddr = self.server_id();
        reply.options = self.options(kind, kind != DhcpMessageType::Nak);
        // RFC 2131 §4.1: a client with an address (ciaddr) gets unicast; a
        // client without one may not answer ARP, so we broadcast.
        let destination = if request.ciaddr != Ipv4Addr::UNSPECIFIED && kind != DhcpMessageType::Nak
        {
            Destination::Unicast(request.ciaddr)
        } else {
            Destination::Broadcast
        };
        (reply, destination)
    }

    /// Handles one client message; returns the reply to send, if any.
    pub fn handle(
        &mut self,
        now: Instant,
        msg: &DhcpMessage,
    ) -> Option<(DhcpMessage, Destination)> {
        self.leases.retain(|_, l| l.expires > now);
        if msg.op != DhcpOp::BootRequest {
            self.counters.ignored += 1;
            return None;
        }
        let mac = msg.chaddr;
        match msg.message_type()? {
            DhcpMessageType::Discover => {
                self.counters.discovers += 1;
                let Some(ip) = self.choose(now, mac, msg.requested_ip()) else {
                    // RFC 2131 §4.3.1: a server with no address to offer stays silent.
                    self.counters.pool_exhausted += 1;
                    tracing::warn!(%mac, pool_start = %self.config.pool_start, pool_end = %self.config.pool_end, "DHCP pool exhausted; DISCOVER not answered");
                    return None;
                };
                let bound = self
                    .leases
                    .get(&ip)
                    .is_some_and(|l| l.bound && l.mac == mac);
                let expires = if bound {
                    self.leases[&ip].expires
                } else {
                    now + OFFER_HOLD
                };
                self.leases.insert(
                    ip,
                    Lease {
                        mac,
                        bound,
                        expires,
                    },
                );
                self.counters.offers += 1;
                tracing::info!(%mac, %ip, "DHCPOFFER");
                Some(self.reply(msg, DhcpMessageType::Offer, ip))
            }
            DhcpMessageType::Request => {
                self.counters.requests += 1;
                // SELECTING: the client names the server it chose.
                if let Some(server) = msg.server_identifier()
                    && server != self.server_id()
                {
                    self.leases.retain(|_, l| l.bound || l.mac != mac);
                    return None;
                }
                let wanted = msg
                    .requested_ip()
                    .or((msg.ciaddr != Ipv4Addr::UNSPECIFIED).then_some(msg.ciaddr));
                let ours = wanted.filter(|ip| {
                    self.in_pool(*ip)
                        && self
                            .leases
                            .get(ip)
                            .is_none_or(|l| l.mac == mac || l.expires <= now)
                });
                match ours {
                    Some(ip) => {
                        self.leases.insert(
                            ip,
                            Lease {
                                mac,
                                bound: true,
                                expires: now + self.config.lease_time,
                            },
                        );
                        self.counters.acks += 1;
                        tracing::info!(%mac, %ip, lease_secs = self.config.lease_time.as_secs(), "DHCPACK");
                        Some(self.reply(msg, DhcpMessageType::Ack, ip))
                    }
                    None => {
                        self.counters.naks += 1;
                        tracing::info!(%mac, requested = ?wanted, "DHCPNAK");
                        Some(self.reply(msg, DhcpMessageType::Nak, Ipv4Addr::UNSPECIFIED))
                    }
                }
            }
            DhcpMessageType::Release => {
                self.counters.releases += 1;
                if self.leases.get(&msg.ciaddr).is_some_and(|l| l.mac == mac) {
                    self.leases.remove(&msg.ciaddr);
                    tracing::info!(%mac, ip = %msg.ciaddr, "DHCPRELEASE");
                }
                None
            }
            DhcpMessageType::Decline => {
                // The address is in use by someone else: keep it out of the pool for a while.
                if let Some(ip) = msg.requested_ip() {
                    self.leases.insert(
                        ip,
                        Lease {
                            mac: EthernetAddress([0; 6]),
                            bound: true,
                            expires: now + self.config.lease_time,
                        },
                    );
                }
                None
            }
            DhcpMessageType::Inform => {
                self.counters.acks += 1;
                let mut reply = DhcpMessage::reply_to(msg, DhcpMessageType::Ack);
                reply.options = self.options(DhcpMessageType::Ack, false);
                Some((reply, Destination::Unicast(msg.ciaddr)))
            }
            _ => {
                self.counters.ignored += 1;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(pool: (u8, u8)) -> DhcpServer {
        DhcpServer::new(DhcpServerConfig {
            interface: "10.0.1.1/24".parse().expect("cidr"),
            pool_start: Ipv4Addr::new(10, 0, 1, pool.0),
            pool_end: Ipv4Addr::new(10, 0, 1, pool.1),
            router: Ipv4Addr::new(10, 0, 1, 1),
            dns_servers: vec![Ipv4Addr::new(10, 0, 2, 53)],
            lease_time: Duration::from_secs(3600),
        })
        .expect("valid")
    }

    fn mac(n: u8) -> EthernetAddress {
        EthernetAddress([2, 0, 0, 0, 0, n])
    }

    #[test]
    fn a_pool_outside_the_subnet_or_reversed_is_refused() {
        let config = |start: Ipv4Addr, end: Ipv4Addr| DhcpServerConfig {
            interface: "10.0.1.1/24".parse().expect("cidr"),
            pool_start: start,
            pool_end: end,
            router: Ipv4Addr::new(10, 0, 1, 1),
            dns_servers: Vec::new(),
            lease_time: Duration::from_secs(60),
        };
        let refused = |start, end| match DhcpServer::new(config(start, end)) {
            Ok(_) => panic!("pool {start}..{end} accepted"),
            Err(e) => e,
        };
        assert_eq!(
            refused(Ipv4Addr::new(10, 0, 1, 100), Ipv4Addr::new(10, 0, 2, 9)).to_string(),
            "pool_end 10.0.2.9 is outside 10.0.1.0/24"
        );
        assert_eq!(
            refused(Ipv4Addr::new(10, 0, 1, 200), Ipv4Addr::new(10, 0, 1, 100)),
            DhcpPoolError::Reversed {
                start: Ipv4Addr::new(10, 0, 1, 200),
                end: Ipv4Addr::new(10, 0, 1, 100),
            }
        );
    }

    fn request(n: u8, kind: DhcpMessageType, options: Vec<DhcpOption>) -> DhcpMessage {
        let mut m = DhcpMessage::client(0x1000 + u32::from(n), mac(n), kind);
        m.options.extend(options);
        m
    }

    /// A lease saved before a restart and restored after it: the client
    /// keeps its address, a DISCOVER from it is offered the same one and
    /// another client never gets it.
    #[test]
    fn restored_leases_keep_their_clients_addresses() {
        let mut before = server((100, 110));
        let t = Instant::from_secs(10);
        let offer = before
            .handle(t, &request(1, DhcpMessageType::Discover, vec![]))
            .expect("offer")
            .0;
        let req = request(
            1,
            DhcpMessageType::Request,
            vec![
                DhcpOption::RequestedIp(offer.yiaddr),
                DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 1, 1)),
            ],
        );
        before.handle(t, &req).expect("ack");
        let saved = before.bound_leases(t + Duration::from_secs(100));
        assert_eq!(
            saved,
            vec![(offer.yiaddr, mac(1), Duration::from_secs(3500))]
        );

        // The restarted server's clock starts again at zero.
        let mut after = server((100, 110));
        let t0 = Instant::ZERO;
        for (ip, m, left) in &saved {
            assert!(after.restore_lease(t0, *ip, *m, *left));
        }
        let other = after
            .handle(
                t0,
                &request(
                    2,
                    DhcpMessageType::Discover,
                    vec![DhcpOption::RequestedIp(offer.yiaddr)],
                ),
            )
            .expect("offer to another client")
            .0;
        assert_ne!(
            other.yiaddr, offer.yiaddr,
            "a restored lease is not given away"
        );
        let again = after
            .handle(t0, &request(1, DhcpMessageType::Discover, vec![]))
            .expect("offer")
            .0;
        assert_eq!(again.yiaddr, offer.yiaddr);
        assert_eq!(after.leases(t0)[0].expires_in, Duration::from_secs(3500));
        // Outside the pool, expired, or taken by someone else: refused.
        assert!(!after.restore_lease(
            t0,
            Ipv4Addr::new(10, 0, 1, 200),
            mac(3),
            Duration::from_secs(9)
        ));
        assert!(!after.restore_lease(t0, Ipv4Addr::new(10, 0, 1, 105), mac(3), Duration::ZERO));
        assert!(!after.restore_lease(t0, offer.yiaddr, mac(3), Duration::from_secs(9)));
        // Never longer than the lease time.
        assert!(after.restore_lease(
            t0,
            Ipv4Addr::new(10, 0, 1, 106),
            mac(4),
            Duration::from_secs(99_999)
        ));
        assert!(
            after
                .leases(t0)
                .iter()
                .all(|l| l.expires_in <= Duration::from_secs(3600))
        );
    }

    #[test]
    fn discover_offer_request_ack_with_every_option() {
        let mut s = server((100, 110));
        let t = Instant::from_secs(1);
        let (offer, dst) = s
            .handle(t, &request(1, DhcpMessageType::Discover, vec![]))
            .expect("offer");
        assert_eq!(dst, Destination::Broadcast);
        assert_eq!(offer.message_type(), Some(DhcpMessageType::Offer));
        assert_eq!(offer.yiaddr, Ipv4Addr::new(10, 0, 1, 100));
        let req = request(
            1,
            DhcpMessageType::Request,
            vec![
                DhcpOption::RequestedIp(offer.yiaddr),
                DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 1, 1)),
            ],
        );
        let (ack, _) = s.handle(t, &req).expect("ack");
        assert_eq!(ack.message_type(), Some(DhcpMessageType::Ack));
        assert_eq!(ack.yiaddr, offer.yiaddr);
        assert_eq!(ack.lease_time(), Some(3600));
        assert!(
            ack.options
                .contains(&DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
        );
        assert!(
            ack.options
                .contains(&DhcpOption::Router(vec![Ipv4Addr::new(10, 0, 1, 1)]))
        );
        assert!(
            ack.options
                .contains(&DhcpOption::DnsServers(vec![Ipv4Addr::new(10, 0, 2, 53)]))
        );
        assert!(ack.options.contains(&DhcpOption::RenewalTime(1800)));
        assert_eq!(s.leases(t)[0].state, "bound");
    }

    #[test]
    fn pool_exhaustion_is_silent_and_counted_and_leases_expire() {
        let mut s = server((100, 101));
        let t = Instant::from_secs(1);
        for n in 1..=2 {
            let (offer, _) = s
                .handle(t, &request(n, DhcpMessageType::Discover, vec![]))
                .expect("offer");
            s.handle(
                t,
                &request(
                    n,
                    DhcpMessageType::Request,
                    vec![DhcpOption::RequestedIp(offer.yiaddr)],
                ),
            )
            .expect("ack");
        }
        assert!(
            s.handle(t, &request(3, DhcpMessageType::Discover, vec![]))
                .is_none()
        );
        assert_eq!(s.counters().pool_exhausted, 1);
        // After the lease time, addresses return to the pool.
        let later = t + Duration::from_secs(3601);
        assert!(
            s.handle(later, &request(3, DhcpMessageType::Discover, vec![]))
                .is_some()
        );
    }

    #[test]
    fn request_for_a_foreign_or_taken_address_gets_nak_and_release_frees() {
        let mut s = server((100, 110));
        let t = Instant::from_secs(1);
        let (nak, dst) = s
            .handle(
                t,
                &request(
                    1,
                    DhcpMessageType::Request,
                    vec![DhcpOption::RequestedIp(Ipv4Addr::new(10, 0, 9, 9))],
                ),
            )
            .expect("nak");
        assert_eq!(nak.message_type(), Some(DhcpMessageType::Nak));
        assert_eq!(dst, Destination::Broadcast);
        let (offer, _) = s
            .handle(t, &request(1, DhcpMessageType::Discover, vec![]))
            .expect("offer");
        s.handle(
            t,
            &request(
                1,
                DhcpMessageType::Request,
                vec![DhcpOption::RequestedIp(offer.yiaddr)],
            ),
        )
        .expect("ack");
        let (nak, _) = s
            .handle(
                t,
                &request(
                    2,
                    DhcpMessageType::Request,
                    vec![DhcpOption::RequestedIp(offer.yiaddr)],
                ),
            )
            .expect("nak");
        assert_eq!(nak.message_type(), Some(DhcpMessageType::Nak));
        let mut release = request(1, DhcpMessageType::Release, vec![]);
        release.ciaddr = offer.yiaddr;
        assert!(s.handle(t, &release).is_none());
        assert!(s.leases(t).is_empty());
    }

    #[test]
    fn a_client_keeps_its_address_and_another_servers_choice_frees_the_offer() {
        let mut s = server((100, 110));
        let t = Instant::from_secs(1);
        let (first, _) = s
            .handle(t, &request(1, DhcpMessageType::Discover, vec![]))
            .expect("offer");
        let (again, _) = s
            .handle(t, &request(1, DhcpMessageType::Discover, vec![]))
            .expect("offer");
        assert_eq!(first.yiaddr, again.yiaddr);
        let other = request(
            1,
            DhcpMessageType::Request,
            vec![
                DhcpOption::RequestedIp(first.yiaddr),
                DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 1, 254)),
            ],
        );
        assert!(s.handle(t, &other).is_none());
        assert!(s.leases(t).is_empty());
    }
}
