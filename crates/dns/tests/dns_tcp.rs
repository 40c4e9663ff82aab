//! DNS over TCP, EDNS(0) and AXFR end to end over real vnet cables (UDP on
//! loopback), all devices in this test's runtime: a 30-TXT-record RRset too
//! big for UDP reaches the client complete (the resolver retries its
//! truncated upstream answer over TCP), pipelined TCP queries, BADVERS,
//! and a zone transfer.
//!
//! ```text
//!  client 10.0.1.10 ── eth0 resolver eth1 ── root    10.0.2.1
//!                      10.0.1.53   eth2 ── com     10.0.3.1
//!                                  eth3 ── example 10.0.4.1
//! ```

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use vnet_dns::DnsServer;
use vnet_dns::tcp::FrameReader;
use vnet_dns::transport;
use vnet_runtime::net_tcp::TcpStream;
use vnet_runtime::{DeviceHandle, DeviceSpec, ExecFuture};
use vnet_topology::device::DeviceConfig;
use vnet_wire::dns::{
    DnsMessage, DnsName, Edns, EdnsOption, OPTION_COOKIE, Rcode, Record, RecordType, frame,
};

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

/// 30 TXT records of ~60 octets: ~2 KB, over the 1232 octets of EDNS UDP.
fn example_zone() -> String {
    let mut z = String::from(EXAMPLE_ZONE);
    for i in 0..30 {
        z.push_str(&format!(
            "big TXT \"record {i:02} of thirty, padded to be long enough\"\n"
        ));
    }
    z
}

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
        &auth(&example_zone()).replacen(
            "[[dns.zones]]",
            "allow_transfer = [\"10.0.4.0/24\"]\n[[dns.zones]]",
            1,
        ),
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

const BIG: &str = "big.example.com";

fn txt_query(edns: Option<Edns>) -> DnsMessage {
    let mut q = DnsMessage::query(transport::random_id(), n(BIG), RecordType::Txt);
    q.set_edns(edns.as_ref());
    q
}

#[tokio::test]
async fn big_rrsets_over_tcp_edns_and_zone_transfer() {
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
    let resolver_at = SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 53), 53);
    let example_at = SocketAddrV4::new(Ipv4Addr::new(10, 0, 4, 1), 53);
    let wait = Duration::from_secs(5);
    let counters = |h: &DeviceHandle<DnsServer>| h.with(|d, _, _| d.dns().counters.snapshot());
    let spoofed = AtomicU64::new(0);

    // Plain UDP, no EDNS: 512 octets. The resolver got the RRset complete
    // over TCP upstream (its UDP answer came truncated) and tells the
    // client TC, with no partial RRset.
    let udp = transport::exchange(client, resolver_at, &txt_query(None), wait, &spoofed)
        .await
        .expect("UDP answer");
    assert!(udp.message.header.tc, "{:?}", udp.message);
    assert!(udp.message.answers.is_empty(), "never a silent subset");
    assert!(udp.size <= 512);
    assert_eq!(
        udp.message.edns(),
        Ok(None),
        "no OPT without one in the query"
    );
    let c = counters(resolver);
    assert_eq!(
        (c.upstream_tcp_retries, c.upstream_tcp_failures),
        (1, 0),
        "{c:?}"
    );
    assert_eq!(counters(&h["example"]).tcp_queries, 1);

    // The client retries over TCP and gets all 30, from the cache.
    let tcp = vnet_dns::tcp::exchange_tcp(client, resolver_at, &txt_query(None), wait)
        .await
        .expect("TCP answer");
    assert!(!tcp.message.header.tc);
    assert_eq!(tcp.message.answers.len(), 30);
    assert!(
        tcp.message
            .answers
            .iter()
            .all(|r| r.rtype() == RecordType::Txt)
    );

    // EDNS with 4096: still over the 1232 cap, TC, and the OPT is there.
    let edns = transport::exchange(
        client,
        resolver_at,
        &txt_query(Some(Edns::with_payload_size(4096))),
        wait,
        &spoofed,
    )
    .await
    .expect("EDNS answer");
    assert!(edns.message.header.tc && edns.size <= 1232);
    let opt = edns.message.edns().expect("one OPT").expect("OPT back");
    assert_eq!((opt.version, opt.udp_payload_size), (0, 1232));

    // Unknown options (a DNS cookie) are ignored; version 1 is BADVERS.
    let cookie = Edns {
        options: vec![EdnsOption {
            code: OPTION_COOKIE,
            data: vec![1, 2, 3, 4, 5, 6, 7, 8],
        }],
        ..Edns::default()
    };
    let mut www = DnsMessage::query(transport::random_id(), n("www.example.com"), RecordType::A);
    www.set_edns(Some(&cookie));
    let ok = transport::exchange(client, resolver_at, &www, wait, &spoofed)
        .await
        .expect("answer");
    assert_eq!(ok.message.header.rcode, Rcode::NoError);
    assert_eq!(ok.message.answers.len(), 1);
    www.header.id = transport::random_id();
    www.set_edns(Some(&Edns {
        version: 1,
        ..Edns::default()
    }));
    let bad = transport::exchange(client, resolver_at, &www, wait, &spoofed)
        .await
        .expect("answer");
    assert_eq!(bad.message.full_rcode(), 16, "BADVERS");
    assert!(bad.message.answers.is_empty());

    // Pipelining: three queries in one write, three answers in order.
    let mut stream = TcpStream::connect(client, resolver_at)
        .await
        .expect("connect");
    let names = ["www.example.com", BIG, "nope.example.com"];
    let mut wire = Vec::new();
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let qtype = if i == 1 {
            RecordType::Txt
        } else {
            RecordType::A
        };
        let q = DnsMessage::query(100 + i as u16, n(name), qtype);
        ids.push(q.header.id);
        wire.extend(frame(&q.emit(512)).expect("frame"));
    }
    stream.write_all(&wire).await.expect("write");
    let mut reader = FrameReader::new(stream, 65535);
    let mut got = Vec::new();
    for _ in 0..3 {
        let bytes = tokio::time::timeout(wait, reader.next())
            .await
            .expect("in time")
            .expect("read")
            .expect("a message");
        got.push(DnsMessage::parse(&bytes).expect("parses"));
    }
    assert_eq!(got.iter().map(|m| m.header.id).collect::<Vec<_>>(), ids);
    assert_eq!(got[0].answers.len(), 1);
    assert_eq!(got[1].answers.len(), 30);
    assert_eq!(got[2].header.rcode, Rcode::NxDomain);
    drop(reader);

    // The authoritative server over TCP directly: AA, complete.
    let direct = vnet_dns::tcp::exchange_tcp(resolver, example_at, &txt_query(None), wait)
        .await
        .expect("TCP answer");
    assert!(direct.message.header.aa);
    assert_eq!(direct.message.answers.len(), 30);

    // AXFR from the resolver (10.0.4.53, inside allow_transfer): SOA first
    // and last, every record of the zone once in between.
    let axfr = DnsMessage::query(
        transport::random_id(),
        n("example.com"),
        RecordType::Unknown(252),
    );
    let parts = vnet_dns::tcp::transfer(resolver, example_at, &axfr, wait)
        .await
        .expect("transfer");
    let records: Vec<&Record> = parts.iter().flat_map(|(m, _)| &m.answers).collect();
    assert_eq!(records.len(), 4 + 30 + 1, "{records:?}");
    assert_eq!(records[0].rtype(), RecordType::Soa);
    assert_eq!(records[records.len() - 1].rtype(), RecordType::Soa);
    assert_eq!(counters(&h["example"]).axfr_served, 1);
    // Over UDP a transfer is refused.
    let udp_axfr = transport::exchange(resolver, example_at, &axfr, wait, &spoofed)
        .await
        .expect("answer");
    assert_eq!(udp_axfr.message.header.rcode, Rcode::Refused);

    let c = counters(resolver);
    assert!(c.tcp_connections >= 2 && c.tcp_queries >= 4, "{c:?}");
    shutdown.cancel();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
    }
}
