//! End to end over real vnet cables (UDP on loopback), all devices in this
//! test's runtime: a client asks a resolver, which iterates through three
//! authoritative servers (root, com, example.com).
//!
//! ```text
//!  client 10.0.1.10 ── eth0 resolver eth1 ── root    10.0.2.1
//!                      10.0.1.53   eth2 ── com     10.0.3.1
//!                                  eth3 ── example 10.0.4.1
//! ```

mod device_lab;

use device_lab::{EXAMPLE_ZONE, auth, handles, lab, n, spec};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vnet_dns::DnsServer;
use vnet_dns::stub::{self, StubOptions};
use vnet_dns::transport;
use vnet_runtime::DeviceHandle;
use vnet_runtime::net::UdpSocket;
use vnet_stack::SendOptions;
use vnet_wire::dns::{DnsMessage, Rcode, Record, RecordData, RecordType};

#[tokio::test]
async fn client_resolver_and_three_authorities() {
    let shutdown = CancellationToken::new();
    let configs = lab(&auth(EXAMPLE_ZONE));
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
