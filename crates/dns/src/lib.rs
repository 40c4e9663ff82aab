//! `vnet-dns`: authoritative DNS servers and a caching recursive resolver,
//! plus the stub resolver and `dig` that hosts use.
//!
//! A DNS device is a [`NetStack`] (ARP, IPv4, ICMP, UDP, TCP) with a
//! service on UDP port 53 ([`server`]) and TCP port 53 ([`tcp_server`]),
//! EDNS(0) on both ([`edns`]) and zone transfers over TCP ([`axfr`]). Its role comes from the device config:
//!
//! * **authoritative** (root, TLD or domain servers): answers from its zones
//!   ([`zone`], [`authority`]) with AA, referrals for delegations, REFUSED
//!   for names outside its zones, RA clear;
//! * **resolver**: resolves any name iteratively from the root hints
//!   ([`resolver`]) over vnet UDP ([`transport`]), with a cache ([`cache`]);
//!   RA set. Zones configured on a resolver are served authoritatively.
//!
//! `vnet show DEVICE zones` lists the records served and `vnet show DEVICE
//! cache` the resolver's cache with remaining TTLs; `vnet status` shows the
//! DNS counters ([`counters`]) under `"dns"` next to the stack's.
//!
//! For hosts: [`stub::query`] sends one query and [`dig`] formats and runs
//! `dig`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod authority;
pub mod axfr;
pub mod cache;
pub mod counters;
pub mod dig;
pub mod edns;
pub mod resolver;
pub mod server;
pub mod stub;
pub mod tcp;
pub mod tcp_server;
pub mod text;
pub mod transport;
pub mod zone;

use anyhow::Context as _;
use authority::Authority;
use cache::Cache;
use counters::DnsCounters;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use vnet_runtime::api::Table;
use vnet_runtime::net::NetDevice;
use vnet_runtime::stack_tables::build_stack;
use vnet_runtime::{DeviceKind, DeviceSpec, DnsRole};
use vnet_stack::NetStack;
use vnet_stack::time::Instant;

/// The kind this crate runs.
pub const KIND: DeviceKind = DeviceKind::Dns;

/// The DNS state of a server, shared by the device (tables, counters) and
/// the service tasks.
#[derive(Debug)]
pub struct DnsState {
    /// Authoritative server or resolver.
    pub role: DnsRole,
    /// The zones served.
    pub authority: Authority,
    /// Where a resolver starts (RFC 1034 §5.3.2 SBELT).
    pub root_hints: Vec<Ipv4Addr>,
    /// The resolver's cache (empty and unused on authoritative servers).
    pub cache: Arc<Mutex<Cache>>,
    /// DNS counters.
    pub counters: Arc<DnsCounters>,
    /// Who may transfer the zones (AXFR, [`axfr`]); empty: nobody.
    pub allow_transfer: Vec<vnet_wire::ip::Ipv4Cidr>,
}

impl DnsState {
    /// Builds the state from a device's DNS settings: parses every zone
    /// (errors name file and line).
    pub fn from_config(dns: &vnet_runtime::DnsConfig) -> anyhow::Result<DnsState> {
        let authority = Authority::from_texts(&dns.zones)?;
        Ok(DnsState {
            role: dns.role,
            authority,
            root_hints: dns.root_hints.clone(),
            cache: Arc::new(Mutex::new(Cache::new(dns.cache_capacity))),
            counters: Arc::new(DnsCounters::default()),
            allow_transfer: dns.allow_transfer.clone(),
        })
    }
}

/// A DNS server device.
pub struct DnsServer {
    stack: NetStack,
    dns: Arc<DnsState>,
}

impl DnsServer {
    /// The DNS state.
    pub fn dns(&self) -> &Arc<DnsState> {
        &self.dns
    }
}

/// A DNS server is its stack plus `zones` (served records), `cache` on a
/// resolver, and the DNS counters under `"dns"`.
impl NetDevice for DnsServer {
    fn stack(&self) -> &NetStack {
        &self.stack
    }
    fn stack_mut(&mut self) -> &mut NetStack {
        &mut self.stack
    }
    fn extra_tables(&self) -> Vec<&'static str> {
        let mut t = Vec::new();
        if !self.dns.authority.zones().is_empty() {
            t.push("zones");
        }
        if self.dns.role == DnsRole::Resolver {
            t.push("cache");
        }
        t
    }
    fn extra_table(&self, now: Instant, name: &str) -> Option<Table> {
        match name {
            "zones" => Some(zones_table(&self.dns.authority)),
            "cache" if self.dns.role == DnsRole::Resolver => {
                let cache = self.dns.cache.lock().unwrap_or_else(|p| p.into_inner());
                Some(cache_table(&cache, now))
            }
            _ => None,
        }
    }
    fn extra_counters(&self, counters: &mut serde_json::Map<String, serde_json::Value>) {
        if let Ok(dns) = serde_json::to_value(self.dns.counters.snapshot()) {
            counters.insert("dns".into(), dns);
        }
    }
}

/// `vnet show DEVICE zones`: every record served, zone by zone.
pub fn zones_table(authority: &Authority) -> Table {
    let mut t = Table::new(&["ZONE", "NAME", "TTL", "TYPE", "DATA"]);
    for z in authority.zones() {
        for r in z.records() {
            t.row(vec![
                z.origin().to_string(),
                r.name.to_string(),
                r.ttl.to_string(),
                r.rtype().to_string(),
                text::rdata(&r.data),
            ]);
        }
    }
    t
}

/// `vnet show DEVICE cache`: every live cache entry with its remaining TTL.
pub fn cache_table(cache: &Cache, now: Instant) -> Table {
    let mut t = Table::new(&["NAME", "TYPE", "TTL", "DATA"]);
    for e in cache.entries(now) {
        t.row(vec![
            e.name.to_string(),
            e.rtype.map(|r| r.to_string()).unwrap_or_else(|| "*".into()),
            e.ttl.to_string(),
            e.data,
        ]);
    }
    t
}

/// How the runtime builds a DNS server: the stack from the interfaces, the
/// zones parsed (a bad zone stops the device with `file:line: …`), and the
/// port-53 service.
pub fn spec() -> DeviceSpec<DnsServer> {
    DeviceSpec {
        kind: KIND,
        build: |config| {
            let dns = config
                .dns
                .as_ref()
                .context("a DNS device needs DNS settings (role, zones or root_hints)")?;
            let state = DnsState::from_config(dns)?;
            Ok(DnsServer {
                stack: build_stack(config, false)?,
                dns: Arc::new(state),
            })
        },
        exec: None,
        start: Some(server::start),
    }
}

/// The `vnet-dns` binary.
pub fn main() -> ExitCode {
    vnet_runtime::device_main(spec())
}
