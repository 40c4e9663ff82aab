//! One DNS-over-TCP connection served over an in-memory pipe, in virtual
//! time: pipelined queries answered in order, the idle timeout, a frame
//! over the limit, and AXFR admission by client address.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vnet_dns::DnsState;
use vnet_dns::authority::Authority;
use vnet_dns::cache::Cache;
use vnet_dns::counters::DnsCounters;
use vnet_dns::server::DeviceResolver;
use vnet_dns::tcp::FrameReader;
use vnet_dns::tcp_server::{IDLE_TIMEOUT, serve_connection};
use vnet_dns::zone::Zone;
use vnet_runtime::DnsRole;
use vnet_wire::dns::{DnsMessage, Rcode, RecordType, frame};

const ZONE: &str = "$ORIGIN example.com.\n$TTL 300\n@ SOA ns admin 1 2 3 4 5\n@ NS ns\nns A 10.0.3.22\nwww A 10.0.3.10\n";

fn state() -> DnsState {
    DnsState {
        role: DnsRole::Authoritative,
        authority: Authority::new(vec![Zone::parse("zone", ZONE).expect("zone")])
            .expect("authority"),
        root_hints: Vec::new(),
        cache: Arc::new(Mutex::new(Cache::new(0))),
        counters: Arc::new(DnsCounters::default()),
        allow_transfer: vec!["10.0.3.0/24".parse().expect("cidr")],
    }
}

fn q(id: u16, name: &str, qtype: RecordType) -> Vec<u8> {
    let m = DnsMessage::query(id, name.parse().expect("name"), qtype);
    frame(&m.emit(512)).expect("frame")
}

fn peer(last: u8) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(10, 0, 3, last), 40000)
}

#[tokio::test(start_paused = true)]
async fn pipelined_queries_then_the_idle_timeout() {
    let state = state();
    let (client, server) = tokio::io::duplex(64 * 1024);
    let serving = serve_connection(server, peer(99), &state, None::<&DeviceResolver>);
    let talking = async {
        let mut client = client;
        let mut wire = q(1, "www.example.com", RecordType::A);
        wire.extend(q(2, "nope.example.com", RecordType::A));
        wire.extend(q(3, "example.com", RecordType::Unknown(252)));
        client.write_all(&wire).await.expect("write");
        let mut reader = FrameReader::new(client, 65535);
        let mut ids = Vec::new();
        let mut rcodes = Vec::new();
        let mut records = 0;
        // www, nope, then the transfer (one message for this small zone).
        for _ in 0..3 {
            let m = DnsMessage::parse(&reader.next().await.expect("read").expect("msg"))
                .expect("parses");
            ids.push(m.header.id);
            rcodes.push(m.header.rcode);
            records += m.answers.len();
        }
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(rcodes, [Rcode::NoError, Rcode::NxDomain, Rcode::NoError]);
        assert_eq!(records, 1 + 5, "www, then SOA NS A A SOA");
        // Silence: the server closes after the idle timeout.
        let started = tokio::time::Instant::now();
        assert_eq!(reader.next().await.expect("clean close"), None);
        assert!(started.elapsed() >= IDLE_TIMEOUT);
    };
    tokio::join!(serving, talking);
    let c = state.counters.snapshot();
    assert_eq!((c.tcp_queries, c.tcp_idle_closed, c.axfr_served), (3, 1, 1));
}

#[tokio::test(start_paused = true)]
async fn oversized_frames_close_and_outsiders_are_refused_transfers() {
    let state = state();
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let serving = serve_connection(server, peer(99), &state, None::<&DeviceResolver>);
    let talking = async {
        client
            .write_all(&[0xff, 0xff, 1, 2, 3])
            .await
            .expect("write");
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.expect("closed");
        assert!(rest.is_empty());
    };
    tokio::join!(serving, talking);
    assert_eq!(state.counters.snapshot().tcp_bad_frames, 1);

    // 10.0.1.100 is outside allow_transfer (10.0.3.0/24): REFUSED.
    let (client, server) = tokio::io::duplex(64 * 1024);
    let outsider = SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 100), 40000);
    let serving = serve_connection(server, outsider, &state, None::<&DeviceResolver>);
    let talking = async {
        let mut client = client;
        client
            .write_all(&q(9, "example.com", RecordType::Unknown(252)))
            .await
            .expect("write");
        client.shutdown().await.expect("FIN");
        let mut reader = FrameReader::new(client, 65535);
        let m =
            DnsMessage::parse(&reader.next().await.expect("read").expect("msg")).expect("parses");
        assert_eq!(m.header.rcode, Rcode::Refused);
        assert!(m.answers.is_empty());
        let _ = tokio::time::timeout(Duration::from_secs(1), reader.next()).await;
    };
    tokio::join!(serving, talking);
    assert_eq!(state.counters.snapshot().axfr_refused, 1);
}
