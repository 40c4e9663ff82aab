//! Slowloris (issue 14, finding 4): request heads that never complete get
//! 408 at the head deadline, one client address cannot take more than its
//! share of the slots, and when every slot is taken by a waiting
//! connection the oldest makes room, so a new client is still served.
//! Paused tokio time: the server's deadlines are tokio deadlines.

mod common;

use common::site;
use std::net::SocketAddrV4;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use vnet_web::server::{CloseReason, ConnectionSummary, Refusal, Server};
use vnet_web::service::{MAX_CONNECTIONS, MAX_CONNECTIONS_PER_CLIENT};

const PARTIAL: &[u8] = b"GET / HTTP/1.1\r\nHost: www.example.com\r\nX-a: ";

fn peer(host: u8, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new([10, 0, 1, host].into(), port)
}

/// Runs `server` for a connection from `from` over a pipe of `capacity`
/// bytes; the client end and the server's summary.
fn connect_from(
    server: &Server,
    from: SocketAddrV4,
    capacity: usize,
) -> (DuplexStream, JoinHandle<ConnectionSummary>) {
    let (client, end) = tokio::io::duplex(capacity);
    let server = server.clone();
    let task = tokio::spawn(async move { server.serve_connection(end, Some(from)).await });
    (client, task)
}

/// Lets every spawned task run (paused time: nothing else moves).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(10)).await;
}

async fn read_all(c: &mut DuplexStream) -> String {
    let mut out = Vec::new();
    c.read_to_end(&mut out).await.expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

/// One GET with `Connection: close` from `from`: the whole answer.
async fn get_from(server: &Server, from: SocketAddrV4) -> String {
    let (mut c, _) = connect_from(server, from, 64 * 1024);
    c.write_all(b"GET /notes.txt HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    read_all(&mut c).await
}

#[tokio::test(start_paused = true)]
async fn a_head_that_never_completes_gets_408_at_the_deadline() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    assert_eq!(server.config().head_timeout, Duration::from_secs(10));

    // A fresh connection: 10 s from its first byte, though bytes trickle in.
    let (mut c, task) = connect_from(&server, peer(66, 1000), 64 * 1024);
    let start = Instant::now();
    c.write_all(PARTIAL).await.expect("write");
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        c.write_all(b"a").await.expect("trickle");
    }
    let out = read_all(&mut c).await;
    let waited = start.elapsed();
    assert!(
        out.starts_with("HTTP/1.1 408 Request Timeout\r\n") && out.contains("Connection: close"),
        "{out}"
    );
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
        "{waited:?}"
    );
    assert_eq!(
        task.await.expect("task").reason,
        CloseReason::RequestTimeout
    );

    // On keep-alive: a response, then a head that starts at once and stalls.
    let (mut c, _) = connect_from(&server, peer(66, 1001), 64 * 1024);
    c.write_all(b"GET /notes.txt HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 4096];
    let n = c.read(&mut buf).await.expect("response");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
    let start = Instant::now();
    c.write_all(PARTIAL).await.expect("write");
    let out = read_all(&mut c).await;
    let waited = start.elapsed();
    assert!(out.starts_with("HTTP/1.1 408 "), "{out}");
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
        "{waited:?}"
    );
    let snap = server.counters().snapshot();
    assert_eq!(snap.head_timeouts, 2);
    assert_eq!(snap.responses_2xx, 1);
}

#[tokio::test(start_paused = true)]
async fn one_client_cannot_take_more_than_its_share() {
    let site = site();
    let mut config = common::config(&site.root);
    config.max_connections = 8;
    config.max_connections_per_client = 2;
    let server = Server::new(config);
    let mut held = Vec::new();
    for port in 0..2 {
        let (mut c, task) = connect_from(&server, peer(66, 1000 + port), 4096);
        c.write_all(PARTIAL).await.expect("write");
        held.push((c, task));
    }
    settle().await;
    // A third from the same address: dropped unserved.
    let (mut third, task) = connect_from(&server, peer(66, 1002), 4096);
    assert_eq!(
        task.await.expect("task").reason,
        CloseReason::Refused(Refusal::PerClient)
    );
    assert_eq!(read_all(&mut third).await, "");
    // Another address is served meanwhile.
    let out = get_from(&server, peer(100, 2000)).await;
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    let snap = server.counters().snapshot();
    assert_eq!(snap.refused_per_client, 1);
    assert_eq!(snap.connections_refused, 0);
    assert_eq!(
        server.slots_taken(),
        2,
        "the two slow ones still hold theirs"
    );
    // The held ones time out (408) and free their slots for the address.
    for (c, task) in &mut held {
        assert!(read_all(c).await.starts_with("HTTP/1.1 408 "));
        assert_eq!(
            task.await.expect("task").reason,
            CloseReason::RequestTimeout
        );
    }
    let out = get_from(&server, peer(66, 1003)).await;
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn full_slots_evict_the_oldest_waiting_connection_never_a_busy_one() {
    let site = site();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(site.root.join("big.bin"), &big).expect("write");
    let mut config = common::config(&site.root);
    config.max_connections = 3;
    let server = Server::new(config);

    // Busy: a response larger than the pipe, which its client does not read yet.
    let (mut busy, busy_task) = connect_from(&server, peer(1, 1), 1024);
    busy.write_all(b"GET /big.bin HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    settle().await;
    // Two incomplete heads, the older first.
    let (mut older, older_task) = connect_from(&server, peer(2, 1), 4096);
    older.write_all(PARTIAL).await.expect("write");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (mut newer, newer_task) = connect_from(&server, peer(3, 1), 4096);
    newer.write_all(PARTIAL).await.expect("write");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(server.slots_taken(), 3);

    // A new client: served; the older slow head made room, closed unanswered.
    let (mut fresh, _) = connect_from(&server, peer(4, 1), 64 * 1024);
    fresh
        .write_all(b"GET /notes.txt HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 4096];
    let n = fresh.read(&mut buf).await.expect("response");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert_eq!(read_all(&mut older).await, "");
    assert_eq!(older_task.await.expect("task").reason, CloseReason::Evicted);
    assert_eq!(server.counters().snapshot().evicted_idle, 1);

    // The next newcomer evicts the next-oldest waiter: the newer slow head
    // (waiting since t=1 s), not the keep-alive connection idle since now.
    let out = get_from(&server, peer(5, 1)).await;
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert_eq!(newer_task.await.expect("task").reason, CloseReason::Evicted);
    assert_eq!(read_all(&mut newer).await, "");
    // Then the idle keep-alive connection (older than a new slow head)
    // goes for the one after.
    settle().await;
    let (mut slow, _) = connect_from(&server, peer(7, 1), 4096);
    slow.write_all(PARTIAL).await.expect("write");
    settle().await;
    assert_eq!(server.slots_taken(), 3);
    let out = get_from(&server, peer(6, 1)).await;
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert_eq!(
        fresh.read(&mut buf).await.expect("eof"),
        0,
        "idle one closed"
    );
    assert_eq!(server.counters().snapshot().evicted_idle, 3);

    // Only the busy one is left, and it was never touched: its response is whole.
    let mut got = Vec::new();
    busy.read_to_end(&mut got).await.expect("read");
    assert!(got.ends_with(&big), "the whole file after the head");
    assert_eq!(
        busy_task.await.expect("task").reason,
        CloseReason::NotPersistent
    );
}

#[tokio::test(start_paused = true)]
async fn when_every_slot_is_busy_a_newcomer_is_refused() {
    let site = site();
    let big: Vec<u8> = vec![7u8; 300_000];
    std::fs::write(site.root.join("big.bin"), &big).expect("write");
    let mut config = common::config(&site.root);
    config.max_connections = 1;
    let server = Server::new(config);
    let (mut busy, _) = connect_from(&server, peer(1, 1), 1024);
    busy.write_all(b"GET /big.bin HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
        .await
        .expect("write");
    settle().await;
    let (_, task) = connect_from(&server, peer(2, 1), 1024);
    assert_eq!(
        task.await.expect("task").reason,
        CloseReason::Refused(Refusal::Full)
    );
    assert_eq!(server.counters().snapshot().connections_refused, 1);
}

/// The finding's attack at the default numbers: 1,100 slow connections
/// from one address hold at most 64 slots; even with four addresses
/// filling all 256, a new client is served at once.
#[tokio::test(start_paused = true)]
async fn slowloris_at_the_default_limits_leaves_room_for_others() {
    assert_eq!((MAX_CONNECTIONS, MAX_CONNECTIONS_PER_CLIENT), (256, 64));
    let site = site();
    let server = Server::new(common::config(&site.root));
    let mut attack = Vec::new();
    for i in 0..1100u16 {
        let (mut c, task) = connect_from(&server, peer(66, 10_000 + i), 1024);
        c.write_all(PARTIAL).await.expect("write");
        attack.push((c, task));
    }
    settle().await;
    assert_eq!(server.slots_taken(), 64);
    assert_eq!(server.counters().snapshot().refused_per_client, 1100 - 64);
    let out = get_from(&server, peer(100, 1)).await;
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");

    // Three more attacking addresses: all 256 slots held by slow heads.
    for host in 67..70u8 {
        for i in 0..64u16 {
            let (mut c, task) = connect_from(&server, peer(host, 10_000 + i), 1024);
            c.write_all(PARTIAL).await.expect("write");
            attack.push((c, task));
        }
    }
    settle().await;
    assert_eq!(server.slots_taken(), 256);
    let started = Instant::now();
    let out = get_from(&server, peer(100, 2)).await;
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(1), "served at once");
    let snap = server.counters().snapshot();
    assert_eq!(snap.evicted_idle, 1);
    assert_eq!(snap.connections_refused, 0);
}
