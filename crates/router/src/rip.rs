//! RIPv2 on the router: the sans-IO [`Rip`] engine wired to the stack's
//! UDP port 520, the 224.0.0.9 group and the routing table.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use vnet_runtime::api::Table;
use vnet_runtime::stack_tables::RouteDetail;
use vnet_stack::rip::{
    Rip, RipActions, RipConfig, RipInterface, RipSource, RipTimers, RouteChange, SplitHorizon,
};
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, Route, RouteKind, Transmit, UdpEvent, UdpHandle};
use vnet_topology::device::{DeviceConfig, RipSettings};
use vnet_wire::rip;

/// RIP of one router.
pub(crate) struct RipService {
    rip: Rip,
    socket: UdpHandle,
    /// Work decided outside a call that can transmit (start-up, link
    /// changes), done at the next poll.
    pending: RipActions,
}

fn config(settings: &RipSettings, device: &DeviceConfig) -> RipConfig {
    let interfaces = device
        .interfaces
        .iter()
        .enumerate()
        .filter_map(|(port, i)| {
            Some(RipInterface {
                port,
                address: i.address?,
                cost: 1,
                passive: settings.passive.contains(&i.name),
                password: settings.password.clone(),
            })
        })
        .collect();
    RipConfig {
        timers: RipTimers {
            update: Duration::from_secs(settings.update_secs),
            timeout: Duration::from_secs(settings.timeout_secs),
            garbage: Duration::from_secs(settings.garbage_secs),
            ..RipTimers::default()
        },
        interfaces,
        split_horizon: match settings.split_horizon.as_str() {
            "simple" => SplitHorizon::Simple,
            "off" => SplitHorizon::Off,
            _ => SplitHorizon::PoisonedReverse,
        },
    }
}

impl RipService {
    /// Starts RIP when the device config asks for it: joins 224.0.0.9 and
    /// binds UDP port 520.
    pub(crate) fn start(
        device: &DeviceConfig,
        stack: &mut NetStack,
    ) -> anyhow::Result<Option<RipService>> {
        let Some(settings) = &device.rip else {
            return Ok(None);
        };
        stack.join_multicast(rip::MULTICAST)?;
        let socket = stack.udp_bind(rip::PORT)?;
        let mut pending = RipActions::default();
        let rip = Rip::new(config(settings, device), Instant::ZERO, &mut pending);
        Ok(Some(RipService {
            rip,
            socket,
            pending,
        }))
    }

    /// When [`RipService::poll`] has work.
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        if !self.pending.send.is_empty() || !self.pending.routes.is_empty() {
            return Some(Instant::ZERO);
        }
        self.rip.poll_at()
    }

    /// Runs RIP's timers and what is pending.
    pub(crate) fn poll(&mut self, now: Instant, stack: &mut NetStack, tx: &mut dyn Transmit) {
        let mut actions = std::mem::take(&mut self.pending);
        self.rip.poll(now, &mut actions);
        self.apply(now, actions, stack, tx);
    }

    /// Feeds RIP the messages that reached port 520.
    pub(crate) fn drain(&mut self, now: Instant, stack: &mut NetStack, tx: &mut dyn Transmit) {
        let mut actions = RipActions::default();
        while let Some((event, meta)) = stack.udp_recv_with_meta(self.socket) {
            let (UdpEvent::Datagram { from, payload }, Some(port)) = (event, meta.in_port) else {
                continue;
            };
            self.rip
                .receive(now, port, *from.ip(), from.port(), &payload, &mut actions);
        }
        self.apply(now, actions, stack, tx);
    }

    /// An interface went down or up.
    pub(crate) fn link_changed(&mut self, now: Instant, port: usize, up: bool) {
        self.rip.set_link(now, port, up, &mut self.pending);
    }

    fn apply(
        &mut self,
        now: Instant,
        actions: RipActions,
        stack: &mut NetStack,
        tx: &mut dyn Transmit,
    ) {
        for change in actions.routes {
            apply_route(stack, change);
        }
        for out in actions.send {
            let Some(src) = stack
                .interfaces()
                .get(out.port)
                .and_then(|i| i.address)
                .map(|a| a.address())
            else {
                continue;
            };
            let to = SocketAddrV4::new(out.to, out.to_port);
            if let Err(e) =
                stack.udp_send_via(now, self.socket, out.port, src, to, &out.message, tx)
            {
                tracing::debug!(error = %e, port = out.port, "RIP message not sent");
            }
        }
    }

    /// `vnet show ROUTER rip`: the RIP database and the neighbours.
    pub(crate) fn table(&self, now: Instant, port_names: &[String]) -> Table {
        let name = |p: usize| port_names.get(p).cloned().unwrap_or_else(|| p.to_string());
        let mut t = Table::new(&[
            "DESTINATION",
            "METRIC",
            "NEXT HOP",
            "INTERFACE",
            "SOURCE",
            "AGE",
            "STATE",
        ]);
        for r in self.rip.routes() {
            let state = match (r.expires, r.forget_at) {
                (_, Some(at)) => format!("deleted, forgotten in {}", secs(at, now)),
                (Some(at), None) => format!("expires in {}", secs(at, now)),
                (None, None) => "connected".into(),
            };
            t.row(vec![
                r.destination.to_string(),
                r.metric.to_string(),
                r.via.map_or("-".into(), |v| v.to_string()),
                name(r.port),
                match r.source {
                    RipSource::Connected => "connected".into(),
                    RipSource::Neighbour(n) => format!("rip from {n}"),
                },
                format!("{}s", now.saturating_duration_since(r.updated).as_secs()),
                state,
            ]);
        }
        for (addr, n) in self.rip.neighbours() {
            t.row(vec![
                format!("neighbour {addr}"),
                "-".into(),
                "-".into(),
                name(n.port),
                format!(
                    "bad messages {}, bad routes {}",
                    n.bad_messages, n.bad_routes
                ),
                format!("{}s", now.saturating_duration_since(n.last_heard).as_secs()),
                "heard".into(),
            ]);
        }
        t
    }

    /// The metric and age of a route RIP installed in the forwarding table.
    pub(crate) fn route_detail(&self, route: &Route, now: Instant) -> Option<RouteDetail> {
        if route.kind != RouteKind::Rip {
            return None;
        }
        let learned = self
            .rip
            .routes()
            .find(|r| r.destination.network() == route.destination)?;
        Some(RouteDetail {
            metric: learned.metric,
            age: now.saturating_duration_since(learned.updated),
        })
    }

    /// RIP's counters, for the router's counters.
    pub(crate) fn counters(&self) -> serde_json::Value {
        serde_json::to_value(self.rip.counters()).unwrap_or_default()
    }
}

fn secs(at: Instant, now: Instant) -> String {
    format!("{}s", at.saturating_duration_since(now).as_secs())
}

/// Puts a RIP decision into the forwarding table, logging each change once.
fn apply_route(stack: &mut NetStack, change: RouteChange) {
    match change {
        RouteChange::Install {
            destination,
            via,
            port,
            metric,
        } => {
            let old = stack
                .routes()
                .iter()
                .find(|r| r.destination == destination.network())
                .map(|r| format!("{:?} via {}", r.kind, show(r.via)));
            let installed = stack.install_dynamic_route(Route {
                destination,
                via: Some(via),
                port,
                kind: RouteKind::Rip,
            });
            if installed {
                announce(format!(
                    "route {destination}: {} -> rip via {via} metric {metric}",
                    old.as_deref().unwrap_or("none")
                ));
            }
        }
        RouteChange::Withdraw { destination } => {
            if stack.withdraw_dynamic_route(destination, RouteKind::Rip) {
                announce(format!("route {destination}: rip -> none (unreachable)"));
            }
        }
    }
}

/// Logs a route change once and exports it as a span of its own
/// (`route.change`, protocol rip, layer L3): `vnet trace list`, `vnet
/// trace show` and Jaeger show when each router changed its mind, next to
/// the traffic that crossed it.
fn announce(change: String) {
    crate::announce("rip", change);
}

fn show(via: Option<Ipv4Addr>) -> String {
    via.map_or("connected".into(), |v| v.to_string())
}
