//! `vnet-router`: an IPv4 router (RFC 1812).
//!
//! The forwarding logic is the shared sans-IO [`NetStack`] with forwarding
//! on: longest-prefix match over connected and static routes, TTL decrement
//! with ICMP Time Exceeded, ICMP Net/Host Unreachable, fragmentation to a
//! smaller egress MTU or ICMP Fragmentation Needed when DF is set, ARP with
//! a bounded queue of packets waiting for resolution. This crate only wires
//! it to the runtime and exposes its tables.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod dhcp;
mod lease_file;
mod ospf;
mod rip;

use std::process::ExitCode;
use vnet_runtime::api::Table;
use vnet_runtime::net::NetDevice;
use vnet_runtime::stack_tables::{build_stack, routes_table};
use vnet_runtime::{DeviceKind, DeviceSpec};
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, Transmit};

/// The kind this crate runs.
pub const KIND: DeviceKind = DeviceKind::Router;

/// The router device.
pub struct Router {
    stack: NetStack,
    dhcp: Vec<dhcp::InterfaceServer>,
    port_names: Vec<String>,
    /// Where the DHCP leases are kept across restarts (`state_dir`).
    lease_file: Option<std::path::PathBuf>,
    /// RIPv2, when configured.
    rip: Option<rip::RipService>,
    /// OSPFv2, when configured.
    ospf: Option<ospf::OspfService>,
}

/// Logs a route change once and exports it as a span of its own
/// (`route.change`, the protocol's name, layer L3): `vnet trace list`,
/// `vnet trace show` and Jaeger show when each router changed its mind,
/// next to the traffic that crossed it.
pub(crate) fn announce(protocol: &str, change: String) {
    tracing::info!("{change}");
    let span = if protocol == "ospf" {
        vnet_telemetry::app_span!(
            "route.change",
            proto = "ospf",
            layer = "L3",
            summary = change
        )
    } else {
        vnet_telemetry::app_span!(
            "route.change",
            proto = "rip",
            layer = "L3",
            summary = change
        )
    };
    drop(span);
}

/// A router is its stack (forwarding on) plus RIP and OSPF, which read
/// their sockets after every frame and run their timers after the stack's,
/// the DHCP servers' `leases`, the protocols' tables and counters, and
/// `routes` with the protocols' metrics and ages.
impl NetDevice for Router {
    fn stack(&self) -> &NetStack {
        &self.stack
    }

    fn stack_mut(&mut self) -> &mut NetStack {
        &mut self.stack
    }

    fn after_frame(&mut self, now: Instant, tx: &mut dyn Transmit) {
        if let Some(rip) = &mut self.rip {
            rip.drain(now, &mut self.stack, tx);
        }
        if let Some(ospf) = &mut self.ospf {
            ospf.drain(now, &mut self.stack, tx);
        }
    }

    fn after_poll(&mut self, now: Instant, tx: &mut dyn Transmit) {
        if let Some(rip) = &mut self.rip {
            rip.poll(now, &mut self.stack, tx);
        }
        if let Some(ospf) = &mut self.ospf {
            ospf.poll(now, &mut self.stack, tx);
        }
    }

    fn extra_poll_at(&self) -> Option<Instant> {
        let rip = self.rip.as_ref().and_then(rip::RipService::poll_at);
        let ospf = self.ospf.as_ref().and_then(ospf::OspfService::poll_at);
        rip.into_iter().chain(ospf).min()
    }

    fn link_changed(&mut self, now: Instant, port: usize, up: bool) {
        if let Some(rip) = &mut self.rip {
            rip.link_changed(now, port, up);
        }
        if let Some(ospf) = &mut self.ospf {
            ospf.link_changed(now, port, up);
        }
    }

    fn extra_tables(&self) -> Vec<&'static str> {
        let mut tables = Vec::new();
        if !self.dhcp.is_empty() {
            tables.push("leases");
        }
        if self.rip.is_some() {
            tables.push("rip");
        }
        if self.ospf.is_some() {
            tables.push("ospf");
        }
        tables
    }

    fn extra_table(&self, now: Instant, name: &str) -> Option<Table> {
        match name {
            "leases" if !self.dhcp.is_empty() => {
                Some(dhcp::leases_table(self, now, &self.port_names))
            }
            "rip" => self.rip.as_ref().map(|r| r.table(now, &self.port_names)),
            "ospf" => self.ospf.as_ref().map(|o| o.table(now, &self.port_names)),
            "routes" => Some(routes_table(&self.stack, |route| match route.kind {
                vnet_stack::RouteKind::Ospf => self.ospf.as_ref()?.route_detail(route, now),
                _ => self.rip.as_ref()?.route_detail(route, now),
            })),
            _ => None,
        }
    }

    fn extra_counters(&self, map: &mut serde_json::Map<String, serde_json::Value>) {
        if let Some(rip) = &self.rip
            && let serde_json::Value::Object(c) = rip.counters()
        {
            for (k, v) in c {
                map.insert(format!("rip_{k}"), v);
            }
        }
        if let Some(ospf) = &self.ospf
            && let serde_json::Value::Object(c) = ospf.counters()
        {
            for (k, v) in c {
                map.insert(format!("ospf_{k}"), v);
            }
        }
        for s in &self.dhcp {
            if let Ok(serde_json::Value::Object(c)) = serde_json::to_value(s.server.counters()) {
                for (k, v) in c {
                    let total = map
                        .get(&format!("dhcp_{k}"))
                        .and_then(|x| x.as_u64())
                        .unwrap_or(0)
                        + v.as_u64().unwrap_or(0);
                    map.insert(format!("dhcp_{k}"), total.into());
                }
            }
        }
    }
}

/// How the runtime builds a router.
pub fn spec() -> DeviceSpec<Router> {
    DeviceSpec {
        kind: KIND,
        build: |config| {
            let mut stack = build_stack(config, true)?;
            let rip = rip::RipService::start(config, &mut stack)?;
            let ospf = ospf::OspfService::start(config, &mut stack)?;
            Ok(Router {
                stack,
                dhcp: dhcp::servers(config)?,
                port_names: config.interfaces.iter().map(|i| i.name.clone()).collect(),
                lease_file: lease_file::path(config),
                rip,
                ospf,
            })
        },
        exec: None,
        start: Some(|handle| {
            Box::pin(async move {
                let serves_dhcp = handle.with(|router, _, _| !router.dhcp.is_empty());
                if serves_dhcp {
                    dhcp::serve(handle).await
                } else {
                    0
                }
            })
        }),
    }
}

/// The `vnet-router` binary.
pub fn main() -> ExitCode {
    vnet_runtime::device_main(spec())
}
