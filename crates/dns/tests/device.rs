//! End to end over real vnet cables (UDP on loopback), all devices in this
//! test's runtime: a client asks a resolver, which iterates through three
//! authoritative servers (root, com, example.com).
//!
//! ```text
//!  client 10.0.1.10 ── eth0 resolver eth1 ── root    10.0.2.1
//!                      10.0.1.53   eth2 ── com     10.0.3.1
//!                                  eth3 ── example 10.0.4.1
//! ```

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vnet_dns::DnsServer;
use vnet_dns::stub::{self, StubOptions};
use vnet_dns::transport;
use vnet_runtime::net::UdpSocket;
use vnet_runtime::{DeviceHandle, DeviceSpec, ExecFuture};
use vnet_stack::SendOptions;
use vnet_topology::device::DeviceConfig;
use vnet_wire::dns::{DnsMessage, DnsName, Rcode, Record, RecordData, RecordType};

static HANDLES: Mutex<Vec<(String, DeviceHandle<DnsServer>)>> = Mutex::new(Vec::new());

/// Registers the device's handle for the test, then runs the DNS service.
fn start(handle: DeviceHandle<DnsServer>) -> ExecFuture {
    let name = handle.config().name.clone();
    HANDLES
        .lock()
        .expect("handles")
        .push((name, handle.clone()));
    vnet_dns::server::start(handle)
}

fn spec() -> DeviceSpec<DnsServer> {
    DeviceSpec {
        start: Some(start),
        ..vnet_dns::spec()
    }
}

const ROOT_ZONE: &str = ". 86400 IN SOA a.root. hostmaster.root. 1 1800 900 604800 86400
. NS a.root.
a.root. A 10.0.2.1
com. NS ns.com.
ns.com. A 10.0.3.1
";

const COM_ZONE: &str = "$ORIGIN com.
$TTL 3600
@ SOA ns hostmaster 1 1800 900 604800 900
@ NS ns
ns A 10.0.3.1
example NS ns.example
ns.example A 10.0.4.1
";

const EXAMPLE_ZONE: &str = "$ORIGIN example.com.
$TTL 300
@ SOA ns hostmaster 1 3600 900 604800 60
@ NS ns
ns A 10.0.4.1
www A 10.0.3.10
";

fn free_port() -> SocketAddr {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr")
}

/// One interface as device-config TOML.
fn iface(dev: u8, port: u8, local: SocketAddr, peer: SocketAddr, addr: [u8; 4]) -> String {
    let [a, b, c, d] = addr;
    format!(
        "[[interfaces]]\nname = \"eth{port}\"\nmac = \"02:76:6e:{dev:02x}:{port:02x}:00\"\n\
         local = \"{local}\"\npeer = \"{peer}\"\naddress = \"{a}.{b}.{c}.{d}/24\"\n"
    )
}

/// A DNS device config, loaded the way `vnet up` renders and devices load it.
fn device(name: &str, interfaces: &[String], dns: &str) -> DeviceConfig {
    let text = format!(
        "name = \"{name}\"\nkind = \"dns\"\nadmin = \"127.0.0.1:0\"\n{}\n{dns}",
        interfaces.concat()
    );
    DeviceConfig::load_text(&text, name).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"))
}

fn auth(zone: &str) -> String {
    format!(
        "[dns]\nrole = \"authoritative\"\n[[dns.zones]]\nfile = \"zone\"\ntext = '''\n{zone}'''\n"
    )
}

fn lab() -> Vec<DeviceConfig> {
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
        &auth(EXAMPLE_ZONE),
    );
    vec![client, resolver, root, com, example]
}

async fn handles(count: usize) -> HashMap<String, DeviceHandle<DnsServer>> {
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

fn n(s: &str) -> DnsName {
    s.parse().expect("name")
}

#[tokio::test]
async fn client_resolver_and_three_authorities() {
    let shutdown = CancellationToken::new();
    let configs = lab();
    let count = configs.len();
    let mut tasks = Vec::new();
    for config in configs {
        let stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            vnet_runtime::run(config, &spec(), stop).await
        }));
    }
    let h = handles(count).await;
    let client = &h["client"];
    let resolver = &h["resolver"];
    let resolver_ip = Ipv4Addr::new(10, 0, 1, 53);
    let opts = StubOptions {
        recurse: true,
        timeout: Duration::from_secs(5),
        tries: 1,
    };
    let counters = |h: &DeviceHandle<DnsServer>| h.with(|d, _, _| d.dns().counters.snapshot());

    // First query: the resolver iterates root → com → example.com.
    let reply = stub::query_with(
        client,
        resolver_ip,
        &n("www.example.com"),
        RecordType::A,
        &opts,
    )
    .await
    .expect("answer");
    let m = &reply.message;
    assert_eq!(m.header.rcode, Rcode::NoError);
    assert!(m.header.ra && m.header.rd && !m.header.aa);
    assert_eq!(m.answers.len(), 1);
    assert_eq!(
        m.answers[0].data,
        RecordData::A(Ipv4Addr::new(10, 0, 3, 10))
    );
    let c = counters(resolver);
    assert_eq!(
        (
            c.upstream_queries,
            c.cache_misses,
            c.cache_hits,
            c.spoofed_dropped
        ),
        (3, 1, 0, 0)
    );
    for name in ["root", "com", "example"] {
        assert_eq!(counters(&h[name]).queries, 1, "{name} was asked once");
    }
    let lines = vnet_dns::dig::format_dig(
        &n("www.example.com"),
        RecordType::A,
        m,
        reply.rtt,
        resolver_ip,
        reply.size,
    );
    assert!(lines[0].starts_with(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: "));
    assert_eq!(
        lines[1],
        ";; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0"
    );
    assert!(lines.contains(&"www.example.com.\t300\tIN\tA\t10.0.3.10".to_string()));
    assert_eq!(
        lines.last().map(String::as_str),
        Some(";; MSG SIZE  rcvd: 49")
    );

    // Second query: from the cache, no upstream query.
    let (m2, _) = stub::query(
        client,
        resolver_ip,
        &n("www.example.com"),
        RecordType::A,
        true,
        Duration::from_secs(5),
    )
    .await
    .expect("answer");
    assert_eq!(m2.answers.len(), 1);
    assert!(m2.answers[0].ttl <= 300);
    let c = counters(resolver);
    assert_eq!((c.upstream_queries, c.cache_hits), (3, 1));
    assert_eq!(counters(&h["example"]).queries, 1);

    // NXDOMAIN with the SOA; then +norecurse answers from the cache.
    let (nx, _) = stub::query(
        client,
        resolver_ip,
        &n("nope.example.com"),
        RecordType::A,
        true,
        Duration::from_secs(5),
    )
    .await
    .expect("answer");
    assert_eq!(nx.header.rcode, Rcode::NxDomain);
    assert_eq!(nx.authorities[0].rtype(), RecordType::Soa);
    let (norec, _) = stub::query(
        client,
        resolver_ip,
        &n("www.example.com"),
        RecordType::A,
        false,
        Duration::from_secs(5),
    )
    .await
    .expect("answer");
    assert!(!norec.header.rd && norec.header.ra);
    assert_eq!(norec.answers.len(), 1);
    assert_eq!(counters(resolver).upstream_queries, 4);

    // The resolver's cache table and counters JSON.
    let table = resolver
        .with(|d, now, _| vnet_runtime::Device::table(d, now, "cache"))
        .expect("cache table");
    assert_eq!(table.columns, ["NAME", "TYPE", "TTL", "DATA"]);
    assert!(
        table
            .rows
            .iter()
            .any(|r| r[0] == "www.example.com." && r[1] == "A" && r[3] == "10.0.3.10")
    );
    assert!(
        table
            .rows
            .iter()
            .any(|r| r[0] == "nope.example.com." && r[3] == "NXDOMAIN")
    );
    let json = resolver.with(|d, _, _| vnet_runtime::Device::counters(d));
    assert_eq!(json["dns"]["cache_hits"], 2);
    assert!(json.get("ip_rx").is_some(), "stack counters are there too");
    let tables = resolver.with(|d, _, _| vnet_runtime::Device::tables(d));
    assert!(tables.contains(&"cache") && !tables.contains(&"zones"));

    // An authoritative server asked directly: AA, no RA, REFUSED outside its zone.
    let (aa, _) = stub::query(
        resolver,
        Ipv4Addr::new(10, 0, 4, 1),
        &n("www.example.com"),
        RecordType::A,
        true,
        Duration::from_secs(5),
    )
    .await
    .expect("answer");
    assert!(aa.header.aa && !aa.header.ra);
    let (refused, _) = stub::query(
        resolver,
        Ipv4Addr::new(10, 0, 4, 1),
        &n("www.example.org"),
        RecordType::A,
        true,
        Duration::from_secs(5),
    )
    .await
    .expect("answer");
    assert_eq!(refused.header.rcode, Rcode::Refused);
    let zones = h["example"]
        .with(|d, now, _| vnet_runtime::Device::table(d, now, "zones"))
        .expect("zones table");
    assert!(
        zones
            .rows
            .iter()
            .any(|r| r[1] == "www.example.com." && r[3] == "A" && r[4] == "10.0.3.10")
    );

    // Spoofing on the real path: a fake server on the resolver device, port
    // 5353, answers first with a wrong ID, then from another port, then
    // correctly. Only the last one is accepted.
    let fake = UdpSocket::bind(resolver, 5353).expect("bind 5353");
    let other = UdpSocket::bind(resolver, 5354).expect("bind 5354");
    let fake_server = async {
        let (from, payload) = fake.recv_from().await;
        assert!(
            from.port() >= 49152,
            "ephemeral source port {}",
            from.port()
        );
        let q = DnsMessage::parse(&payload).expect("query");
        let answer = |last: u8| {
            let mut r = DnsMessage::response_to(&q);
            r.answers.push(Record::new(
                q.questions[0].name.clone(),
                60,
                RecordData::A(Ipv4Addr::new(10, 6, 6, last)),
            ));
            r
        };
        let mut wrong_id = answer(1);
        wrong_id.header.id ^= 0x5555;
        fake.send_to(from, &wrong_id.emit(512), SendOptions::default())
            .expect("send");
        other
            .send_to(from, &answer(2).emit(512), SendOptions::default())
            .expect("send");
        fake.send_to(from, &answer(3).emit(512), SendOptions::default())
            .expect("send");
    };
    let spoofed = AtomicU64::new(0);
    let mut query = DnsMessage::query(transport::random_id(), n("spoof.test"), RecordType::A);
    query.header.rd = false;
    let server = SocketAddrV4::new(resolver_ip, 5353);
    let (_, got) = tokio::join!(
        fake_server,
        transport::exchange(client, server, &query, Duration::from_secs(2), &spoofed)
    );
    let got = got.expect("the genuine answer");
    assert_eq!(
        got.message.answers[0].data,
        RecordData::A(Ipv4Addr::new(10, 6, 6, 3))
    );
    assert_eq!(spoofed.load(Ordering::Relaxed), 2);

    // A server that does not exist: no answer (ARP fails after the timeout).
    let err = stub::query(
        client,
        Ipv4Addr::new(10, 0, 1, 99),
        &n("x"),
        RecordType::A,
        true,
        Duration::from_millis(300),
    )
    .await
    .expect_err("no such server");
    assert!(
        matches!(
            err,
            stub::StubError::Timeout { .. } | stub::StubError::Unreachable { .. }
        ),
        "{err:?}"
    );

    shutdown.cancel();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
    }
}
