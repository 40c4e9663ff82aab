//! OSPFv2 on the router: the sans-IO [`Ospf`] engine wired to the stack's
//! raw socket for IP protocol 89, the AllSPFRouters/AllDRouters groups and
//! the routing table (distance 110).

use std::net::Ipv4Addr;
use std::time::Duration;
use vnet_runtime::api::Table;
use vnet_runtime::stack_tables::RouteDetail;
use vnet_stack::ospf::{NetworkType, Ospf, OspfActions, OspfConfig, OspfInterface, RouteChange};
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, RawHandle, Route, RouteKind, Transmit};
use vnet_topology::device::{DeviceConfig, OspfSettings};
use vnet_wire::ospf as wire;

/// OSPF of one router.
pub(crate) struct OspfService {
    ospf: Ospf,
    socket: RawHandle,
    /// Work decided outside a call that can transmit (start-up, link
    /// changes), done at the next poll.
    pending: OspfActions,
    /// When each installed route was last changed (for `vnet show routes`).
    changed: std::collections::HashMap<vnet_wire::ip::Ipv4Cidr, Instant>,
}

fn config(settings: &OspfSettings, device: &DeviceConfig) -> OspfConfig {
    let interfaces: Vec<OspfInterface> = device
        .interfaces
        .iter()
        .enumerate()
        .filter_map(|(port, i)| {
            let mut o = OspfInterface::new(port, i.address?);
            o.cost = settings.cost;
            o.hello_interval = u16::try_from(settings.hello_secs).unwrap_or(u16::MAX);
            o.dead_interval = u32::try_from(settings.dead_secs).unwrap_or(u32::MAX);
            o.rxmt_interval = u16::try_from(settings.retransmit_secs).unwrap_or(u16::MAX);
            o.mtu = i.mtu;
            o.passive = settings.passive.contains(&i.name);
            if settings.point_to_point.contains(&i.name) {
                o.network = NetworkType::PointToPoint;
            }
            Some(o)
        })
        .collect();
    // RFC 2328 §C.1: any unique address of the router; FRR and IOS take
    // the highest.
    let router_id = settings.router_id.unwrap_or_else(|| {
        interfaces
            .iter()
            .map(|i| i.address.address())
            .max()
            .unwrap_or(Ipv4Addr::UNSPECIFIED)
    });
    let mut c = OspfConfig::new(router_id, interfaces);
    c.ack_delay = Duration::from_secs(1).min(Duration::from_secs(settings.retransmit_secs) / 2);
    c
}

impl OspfService {
    /// Starts OSPF when the device config asks for it: joins
    /// AllSPFRouters and AllDRouters, opens the protocol-89 socket.
    pub(crate) fn start(
        device: &DeviceConfig,
        stack: &mut NetStack,
    ) -> anyhow::Result<Option<OspfService>> {
        let Some(settings) = &device.ospf else {
            return Ok(None);
        };
        stack.join_multicast(wire::ALL_SPF_ROUTERS)?;
        stack.join_multicast(wire::ALL_D_ROUTERS)?;
        let socket = stack.raw_open(wire::IP_PROTOCOL)?;
        let mut pending = OspfActions::default();
        let ospf = Ospf::new(config(settings, device), Instant::ZERO, &mut pending);
        Ok(Some(OspfService {
            ospf,
            socket,
            pending,
            changed: Default::default(),
        }))
    }

    /// When [`OspfService::poll`] has work.
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        if !self.pending.send.is_empty() || !self.pending.routes.is_empty() {
            return Some(Instant::ZERO);
        }
        self.ospf.poll_at()
    }

    /// Runs OSPF's timers and what is pending.
    pub(crate) fn poll(&mut self, now: Instant, stack: &mut NetStack, tx: &mut dyn Transmit) {
        let mut actions = std::mem::take(&mut self.pending);
        self.ospf.poll(now, &mut actions);
        self.apply(now, actions, stack, tx);
    }

    /// Feeds OSPF the packets of protocol 89 that reached the router.
    pub(crate) fn drain(&mut self, now: Instant, stack: &mut NetStack, tx: &mut dyn Transmit) {
        if stack.raw_pending(self.socket) == 0 {
            return;
        }
        let mut actions = OspfActions::default();
        while let Some(d) = stack.raw_recv(self.socket) {
            self.ospf
                .receive(now, d.in_port, d.src, d.dst, &d.payload, &mut actions);
        }
        self.apply(now, actions, stack, tx);
    }

    /// An interface went down or up.
    pub(crate) fn link_changed(&mut self, now: Instant, port: usize, up: bool) {
        self.ospf.set_link(now, port, up, &mut self.pending);
    }

    fn apply(
        &mut self,
        now: Instant,
        actions: OspfActions,
        stack: &mut NetStack,
        tx: &mut dyn Transmit,
    ) {
        for change in actions.routes {
            if let Some(destination) = apply_route(stack, change) {
                self.changed.insert(destination, now);
            }
        }
        for out in actions.send {
            // RFC 2328 §A.1: TTL 1, never forwarded.
            if let Err(e) =
                stack.raw_send_via(now, self.socket, out.port, out.to, 1, &out.packet, tx)
            {
                tracing::debug!(error = %e, port = out.port, "OSPF packet not sent");
            }
        }
    }

    /// `vnet show ROUTER ospf`: interfaces (state, DR, BDR), neighbours
    /// (state, role, dead timer) and the link state database.
    pub(crate) fn table(&self, now: Instant, port_names: &[String]) -> Table {
        let name = |p: usize| port_names.get(p).cloned().unwrap_or_else(|| p.to_string());
        let mut t = Table::new(&["WHAT", "INTERFACE", "ID / ADDRESS", "STATE", "DETAIL"]);
        t.row(vec![
            "router".into(),
            "-".into(),
            self.ospf.router_id().to_string(),
            "area 0".into(),
            format!("{} SPF runs", self.ospf.counters().spf_runs),
        ]);
        for i in self.ospf.interfaces() {
            t.row(vec![
                "interface".into(),
                name(i.port),
                i.address.to_string(),
                format!("{:?}", i.state),
                format!(
                    "{:?} cost {} DR {} BDR {}, {} neighbours ({} full)",
                    i.network, i.cost, i.dr, i.bdr, i.neighbours, i.adjacent
                ),
            ]);
        }
        for n in self.ospf.neighbours(now) {
            t.row(vec![
                "neighbour".into(),
                name(n.port),
                format!("{} ({})", n.router_id, n.address),
                format!("{:?}", n.state),
                format!(
                    "{} priority {}, dead in {}s, {} to retransmit, {} requested",
                    n.role,
                    n.priority,
                    n.dead_in.as_secs(),
                    n.retransmit,
                    n.requests
                ),
            ]);
        }
        for h in self.ospf.lsdb(now) {
            t.row(vec![
                "lsa".into(),
                "-".into(),
                format!("{:?} {} adv {}", h.ls_type, h.id, h.adv_router),
                format!("seq {:#010x}", h.seq),
                format!("age {}s, checksum {:#06x}", h.age, h.checksum),
            ]);
        }
        t
    }

    /// The metric and age of a route OSPF installed in the forwarding table.
    pub(crate) fn route_detail(&self, route: &Route, now: Instant) -> Option<RouteDetail> {
        if route.kind != RouteKind::Ospf {
            return None;
        }
        let learned = self
            .ospf
            .routes()
            .find(|r| r.destination.network() == route.destination)?;
        let since = self
            .changed
            .get(&route.destination)
            .copied()
            .unwrap_or(Instant::ZERO);
        Some(RouteDetail {
            metric: learned.cost,
            age: now.saturating_duration_since(since),
        })
    }

    /// OSPF's counters, for the router's counters.
    pub(crate) fn counters(&self) -> serde_json::Value {
        serde_json::to_value(self.ospf.counters()).unwrap_or_default()
    }
}

/// Puts an OSPF decision into the forwarding table, logging each change
/// once; returns the destination when the table changed.
fn apply_route(stack: &mut NetStack, change: RouteChange) -> Option<vnet_wire::ip::Ipv4Cidr> {
    match change {
        RouteChange::Install {
            destination,
            via,
            port,
            cost,
        } => {
            let old = stack
                .routes()
                .iter()
                .find(|r| r.destination == destination.network())
                .map(|r| format!("{} via {}", r.kind.name(), show(r.via)));
            let installed = stack.install_dynamic_route(Route {
                destination,
                via: Some(via),
                port,
                kind: RouteKind::Ospf,
            });
            installed.then(|| {
                crate::announce(
                    "ospf",
                    format!(
                        "route {destination}: {} -> ospf via {via} cost {cost}",
                        old.as_deref().unwrap_or("none")
                    ),
                );
                destination.network()
            })
        }
        RouteChange::Withdraw { destination } => stack
            .withdraw_dynamic_route(destination, RouteKind::Ospf)
            .then(|| {
                crate::announce(
                    "ospf",
                    format!("route {destination}: ospf -> none (unreachable)"),
                );
                destination.network()
            }),
    }
}

fn show(via: Option<Ipv4Addr>) -> String {
    via.map_or("connected".into(), |v| v.to_string())
}
