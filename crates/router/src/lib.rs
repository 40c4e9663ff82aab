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

use std::process::ExitCode;
use vnet_runtime::api::Table;
use vnet_runtime::stack_tables::{STACK_TABLES, build_stack, stack_table};
use vnet_runtime::{Device, DeviceKind, DeviceSpec};
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
}

impl vnet_runtime::net::NetDevice for Router {
    fn stack(&mut self) -> &mut NetStack {
        &mut self.stack
    }
}

impl Device for Router {
    fn on_frame(&mut self, now: Instant, port: usize, frame: &mut [u8], tx: &mut dyn Transmit) {
        self.stack.receive(now, port, frame, tx);
    }

    fn poll(&mut self, now: Instant, tx: &mut dyn Transmit) {
        self.stack.poll(now, tx);
    }

    fn poll_at(&self) -> Option<Instant> {
        self.stack.poll_at()
    }

    fn tables(&self) -> Vec<&'static str> {
        let mut tables = STACK_TABLES.to_vec();
        if !self.dhcp.is_empty() {
            tables.push("leases");
        }
        tables
    }

    fn table(&self, now: Instant, name: &str) -> Option<Table> {
        match name {
            "leases" if !self.dhcp.is_empty() => {
                Some(dhcp::leases_table(self, now, &self.port_names))
            }
            _ => stack_table(&self.stack, now, name),
        }
    }

    fn counters(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self.stack.counters()).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            for s in &self.dhcp {
                if let Ok(serde_json::Value::Object(c)) = serde_json::to_value(s.server.counters())
                {
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
        value
    }
}

/// How the runtime builds a router.
pub fn spec() -> DeviceSpec<Router> {
    DeviceSpec {
        kind: KIND,
        build: |config| {
            Ok(Router {
                stack: build_stack(config, true)?,
                dhcp: dhcp::servers(config)?,
                port_names: config.interfaces.iter().map(|i| i.name.clone()).collect(),
                lease_file: lease_file::path(config),
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
