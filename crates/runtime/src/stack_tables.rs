//! `vnet show` tables for devices built on [`NetStack`]: routes, ARP,
//! interfaces. Shared by routers and hosts.

use crate::api::Table;
use std::time::Duration;
use vnet_stack::NetStack;
use vnet_stack::route::Route;
use vnet_stack::time::Instant;

/// Table names every NetStack device offers.
pub const STACK_TABLES: [&str; 3] = ["routes", "arp", "interfaces"];

/// Renders one of [`STACK_TABLES`].
pub fn stack_table(stack: &NetStack, now: Instant, name: &str) -> Option<Table> {
    let port_name = |port: usize| port_name(stack, port);
    match name {
        "routes" => Some(routes_table(stack, |_| None)),
        "arp" => {
            let mut t = Table::new(&["ADDRESS", "MAC", "INTERFACE", "STATE", "EXPIRES"]);
            for e in stack.arp_entries(now) {
                t.row(vec![
                    e.ip.to_string(),
                    e.mac
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| "(incomplete)".into()),
                    port_name(e.port),
                    format!("{:?}", e.state).to_lowercase(),
                    e.expires_in
                        .map(|d| format!("{}s", d.as_secs()))
                        .unwrap_or_else(|| "-".into()),
                ]);
            }
            Some(t)
        }
        "interfaces" => {
            let mut t = Table::new(&["INTERFACE", "MAC", "ADDRESS", "MTU"]);
            for i in stack.interfaces() {
                t.row(vec![
                    i.name.clone(),
                    i.mac.to_string(),
                    i.address
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "-".into()),
                    i.mtu.to_string(),
                ]);
            }
            Some(t)
        }
        _ => None,
    }
}

/// What a routing protocol knows about one of its routes and the stack
/// does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteDetail {
    /// The protocol's metric (RIP: hops).
    pub metric: u32,
    /// How long since the route was installed or last refreshed.
    pub age: Duration,
}

/// `vnet show DEVICE routes`: one row per route with its source,
/// administrative distance, metric and age. `detail` gives the metric and
/// age of the routes a protocol learned; connected and static routes have
/// metric 0 and no age.
pub fn routes_table(stack: &NetStack, detail: impl Fn(&Route) -> Option<RouteDetail>) -> Table {
    let mut t = Table::new(&[
        "DESTINATION",
        "GATEWAY",
        "INTERFACE",
        "SOURCE",
        "DISTANCE",
        "METRIC",
        "AGE",
    ]);
    for r in stack.routes() {
        let detail = detail(r);
        t.row(vec![
            r.destination.to_string(),
            r.via.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
            port_name(stack, r.port),
            r.kind.name().into(),
            r.kind.distance().to_string(),
            detail.map_or(0, |d| d.metric).to_string(),
            detail.map_or("-".into(), |d| format!("{}s", d.age.as_secs())),
        ]);
    }
    t
}

fn port_name(stack: &NetStack, port: usize) -> String {
    stack
        .interfaces()
        .get(port)
        .map(|i| i.name.clone())
        .unwrap_or_else(|| port.to_string())
}

/// Builds the [`NetStack`] a device config describes: interfaces, static
/// routes, default gateway, static neighbours.
pub fn build_stack(config: &crate::DeviceConfig, forwarding: bool) -> anyhow::Result<NetStack> {
    use anyhow::Context;
    let interfaces = config
        .interfaces
        .iter()
        .map(|i| vnet_stack::InterfaceConfig {
            name: i.name.clone(),
            mac: i.mac,
            address: i.address,
            mtu: i.mtu,
        })
        .collect();
    let mut stack_config = vnet_stack::StackConfig {
        forwarding,
        ..Default::default()
    };
    if let Some(ttl) = config.ttl {
        stack_config.default_ttl = ttl;
    }
    // RFC 6528: the ISN hash key must be secret and unpredictable.
    // (seeded in a simulation, where runs must replay exactly)
    crate::entropy::fill(&mut stack_config.tcp.isn_secret);
    let mut stack = NetStack::new(stack_config, interfaces);
    for r in &config.routes {
        stack
            .add_route(r.to, r.via)
            .with_context(|| format!("route to {} via {}", r.to, r.via))?;
    }
    if let Some(gw) = config.gateway {
        let default = vnet_wire::ip::Ipv4Cidr::new(std::net::Ipv4Addr::UNSPECIFIED, 0)
            .map_err(|e| anyhow::anyhow!("default route: {e}"))?;
        stack
            .add_route(default, gw)
            .with_context(|| format!("default gateway {gw}"))?;
    }
    for n in &config.neighbors {
        let port = config
            .port_of(&n.interface)
            .with_context(|| format!("neighbor {}: no interface {:?}", n.ip, n.interface))?;
        stack.add_static_neighbor(port, n.ip, n.mac);
    }
    Ok(stack)
}
