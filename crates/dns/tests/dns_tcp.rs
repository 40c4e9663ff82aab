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

mod device_lab;

use device_lab::{EXAMPLE_ZONE, auth, handles, lab, n, spec};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use vnet_dns::DnsServer;
use vnet_dns::tcp::FrameReader;
use vnet_dns::transport;
use vnet_runtime::DeviceHandle;
use vnet_runtime::net_tcp::TcpStream;
use vnet_wire::dns::{
    DnsMessage, Edns, EdnsOption, OPTION_COOKIE, Rcode, Record, RecordType, frame,
};

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

const BIG: &str = "big.example.com";

fn txt_query(edns: Option<Edns>) -> DnsMessage {
    let mut q = DnsMessage::query(transport::random_id(), n(BIG), RecordType::Txt);
    q.set_edns(edns.as_ref());
    q
}

#[tokio::test]
async fn big_rrsets_over_tcp_edns_and_zone_transfer() {
    let shutdown = CancellationToken::new();
    let configs = lab(&auth(&example_zone()).replacen(
        "[[dns.zones]]",
        "allow_transfer = [\"10.0.4.0/24\"]\n[[dns.zones]]",
        1,
    ));
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
