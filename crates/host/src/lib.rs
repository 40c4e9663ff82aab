//! `vnet-host`: an end host. Its stack is the shared sans-IO [`NetStack`]
//! with forwarding off; applications run inside the process through
//! `vnet exec HOST -- APP ARGS…`:
//!
//! | app | what it does |
//! |---|---|
//! | `ping [-c N] [-s SIZE] [-t TTL] [-i SECS] [-W SECS] [-M do\|dont] DEST` | ICMP echo, output as iputils `ping` |
//! | `traceroute [-m MAX] [-q N] [-w SECS] DEST` | UDP probes with rising TTL, output as Linux `traceroute` |
//! | `dig NAME [TYPE] [@SERVER] [+norecurse]` | DNS lookups through the stub resolver, printed like dig |
//! | `tcp listen PORT` / `tcp send HOST:PORT --bytes N` | bulk TCP transfer with goodput, retransmissions, SHA-256 |
//! | `ss` | TCP sockets with state, queues, cwnd, srtt, rto |
//! | `arp` | the ARP cache, as `arp -n` |
//! | `ip addr` / `ip route` | addresses and routes, as iproute2 |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod apps;
pub use apps::{BadByteCount, byte_count};
mod dhcp;

use std::process::ExitCode;
use vnet_runtime::api::Table;
use vnet_runtime::net::NetDevice;
use vnet_runtime::stack_tables::build_stack;
use vnet_runtime::{DeviceKind, DeviceSpec};
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, Transmit};

/// The kind this crate runs.
pub const KIND: DeviceKind = DeviceKind::Host;

/// The host device.
pub struct Host {
    stack: NetStack,
    /// DHCP client state when the interface is configured with `address = "dhcp"`.
    dhcp: Option<dhcp::HostDhcp>,
    /// DNS servers for the stub resolver (configured, or learned by DHCP).
    nameservers: Vec<std::net::Ipv4Addr>,
    /// TLS client settings for https (the lab CA), when configured.
    tls: Option<vnet_web::tls::TlsClient>,
}

/// The host's TLS client from its config: the lab CA it trusts and the
/// key log, if any.
fn tls_client(
    config: &vnet_topology::device::DeviceConfig,
) -> anyhow::Result<Option<vnet_web::tls::TlsClient>> {
    let Some(t) = &config.tls else {
        return Ok(None);
    };
    let Some(ca) = &t.ca else {
        return Ok(None);
    };
    let keylog = t
        .keylog
        .as_deref()
        .map(vnet_web::tls::KeyLogFile::open)
        .transpose()?;
    Ok(Some(
        vnet_web::tls::TlsClient::new(ca, keylog)
            .map_err(|e| anyhow::anyhow!("field `tls.ca`: {e}"))?,
    ))
}

/// A host is its stack plus the `sockets` table, the DHCP client's state
/// in the counters, its lease as the live address and a RELEASE on the
/// way out.
impl NetDevice for Host {
    fn stack(&self) -> &NetStack {
        &self.stack
    }

    fn stack_mut(&mut self) -> &mut NetStack {
        &mut self.stack
    }

    fn extra_tables(&self) -> Vec<&'static str> {
        vec!["sockets"]
    }

    fn extra_table(&self, _now: Instant, name: &str) -> Option<Table> {
        (name == "sockets").then(|| apps::ss::socket_table(&self.stack))
    }

    fn extra_counters(&self, counters: &mut serde_json::Map<String, serde_json::Value>) {
        if let Some(d) = &self.dhcp {
            counters.insert("dhcp_state".into(), d.client.state().name().into());
        }
    }

    fn live_address(&self, port: usize) -> Option<String> {
        let dhcp = self.dhcp.as_ref().filter(|d| d.port == port)?;
        dhcp.client.lease().map(|l| format!("{} (dhcp)", l.address))
    }

    fn ready(&self) -> bool {
        self.dhcp
            .as_ref()
            .is_none_or(|d| d.client.lease().is_some())
    }

    fn on_shutdown(&mut self, now: Instant, tx: &mut dyn Transmit) {
        dhcp::release(self, now, tx);
    }
}

/// How the runtime builds a host.
pub fn spec() -> DeviceSpec<Host> {
    DeviceSpec {
        kind: KIND,
        build: |config| {
            let dhcp = config
                .interfaces
                .iter()
                .position(|i| i.dhcp_client)
                .map(|port| dhcp::HostDhcp::new(port, config.interfaces[port].mac));
            Ok(Host {
                stack: build_stack(config, false)?,
                dhcp,
                nameservers: config.nameservers.clone(),
                tls: tls_client(config)?,
            })
        },
        exec: Some(apps::exec),
        start: Some(|handle| {
            Box::pin(async move {
                let uses_dhcp = handle.with(|host, _, _| host.dhcp.is_some());
                if uses_dhcp {
                    dhcp::run(handle).await
                } else {
                    0
                }
            })
        }),
    }
}

/// The `vnet-host` binary.
pub fn main() -> ExitCode {
    vnet_runtime::device_main(spec())
}
