//! Five DNS devices on real vnet cables (UDP on loopback), all in the
//! test's runtime: a client, a resolver and three authoritative servers.
//!
//! ```text
//!  client 10.0.1.10 ── eth0 resolver eth1 ── root    10.0.2.1
//!                      10.0.1.53   eth2 ── com     10.0.3.1
//!                                  eth3 ── example 10.0.4.1
//! ```

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use vnet_dns::DnsServer;
use vnet_runtime::{DeviceHandle, DeviceSpec, ExecFuture};
use vnet_topology::device::DeviceConfig;
use vnet_wire::dns::DnsName;

pub static HANDLES: Mutex<Vec<(String, DeviceHandle<DnsServer>)>> = Mutex::new(Vec::new());

/// Registers the device's handle for the test, then runs the DNS service.
pub fn start(handle: DeviceHandle<DnsServer>) -> ExecFuture {
    let name = handle.config().name.clone();
    HANDLES
        .lock()
        .expect("handles")
        .push((name, handle.clone()));
    vnet_dns::server::start(handle)
}

pub fn spec() -> DeviceSpec<DnsServer> {
    DeviceSpec {
        start: Some(start),
        ..vnet_dns::spec()
    }
}

pub const ROOT_ZONE: &str = ". 86400 IN SOA a.root. hostmaster.root. 1 1800 900 604800 86400
. NS a.root.
a.root. A 10.0.2.1
com. NS ns.com.
ns.com. A 10.0.3.1
";

pub const COM_ZONE: &str = "$ORIGIN com.
$TTL 3600
@ SOA ns hostmaster 1 1800 900 604800 900
@ NS ns
ns A 10.0.3.1
example NS ns.example
ns.example A 10.0.4.1
";

pub const EXAMPLE_ZONE: &str = "$ORIGIN example.com.
$TTL 300
@ SOA ns hostmaster 1 3600 900 604800 60
@ NS ns
ns A 10.0.4.1
www A 10.0.3.10
";

pub fn free_port() -> SocketAddr {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr")
}

/// One interface as device-config TOML.
pub fn iface(dev: u8, port: u8, local: SocketAddr, peer: SocketAddr, addr: [u8; 4]) -> String {
    let [a, b, c, d] = addr;
    format!(
        "[[interfaces]]\nname = \"eth{port}\"\nmac = \"02:76:6e:{dev:02x}:{port:02x}:00\"\n\
         local = \"{local}\"\npeer = \"{peer}\"\naddress = \"{a}.{b}.{c}.{d}/24\"\n"
    )
}

/// A DNS device config, loaded the way `vnet up` renders and devices load it.
pub fn device(name: &str, interfaces: &[String], dns: &str) -> DeviceConfig {
    let text = format!(
        "name = \"{name}\"\nkind = \"dns\"\nadmin = \"127.0.0.1:0\"\n{}\n{dns}",
        interfaces.concat()
    );
    DeviceConfig::load_text(&text, name).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"))
}

pub fn auth(zone: &str) -> String {
    format!(
        "[dns]\nrole = \"authoritative\"\n[[dns.zones]]\nfile = \"zone\"\ntext = '''\n{zone}'''\n"
    )
}

/// The five devices, the example.com server configured by `example_dns`
/// (a `[dns]` section; [`auth`] of a zone text for the usual one).
pub fn lab(example_dns: &str) -> Vec<DeviceConfig> {
    // One pair of cable ends per link.
    let links: Vec<(SocketAddr, SocketAddr)> = (0..4).map(|_| (free_port(), free_port())).collect();
    let client = device(
        "client",
        &[iface(1, 0, links[0].0, links[0].1, [10, 0, 1, 10])],
        "[dns]\nrole = \"authoritative\"\n",
    );
    let resolver = device(
        "resolver",
        &[
            iface(2, 0, links[0].1, links[0].0, [10, 0, 1, 53]),
            iface(2, 1, links[1].0, links[1].1, [10, 0, 2, 53]),
            iface(2, 2, links[2].0, links[2].1, [10, 0, 3, 53]),
            iface(2, 3, links[3].0, links[3].1, [10, 0, 4, 53]),
        ],
        "[dns]\nrole = \"resolver\"\nroot_hints = [\"10.0.2.1\"]\ncache_capacity = 100\n",
    );
    let root = device(
        "root",
        &[iface(3, 0, links[1].1, links[1].0, [10, 0, 2, 1])],
        &auth(ROOT_ZONE),
    );
    let com = device(
        "com",
        &[iface(4, 0, links[2].1, links[2].0, [10, 0, 3, 1])],
        &auth(COM_ZONE),
    );
    let example = device(
        "example",
        &[iface(5, 0, links[3].1, links[3].0, [10, 0, 4, 1])],
        example_dns,
    );
    vec![client, resolver, root, com, example]
}

pub async fn handles(count: usize) -> HashMap<String, DeviceHandle<DnsServer>> {
    for _ in 0..500 {
        {
            let h = HANDLES.lock().expect("handles");
            if h.len() == count {
                return h.iter().cloned().collect();
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("devices did not start");
}

pub fn n(s: &str) -> DnsName {
    s.parse().expect("name")
}
