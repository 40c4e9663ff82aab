//! A cable end whose peer is a name: it follows the name to a new address
//! and from then on accepts frames only from there.

use std::net::SocketAddr;
use std::time::Duration;
use vnet_cable::end::RECV_BUFFER_LEN;
use vnet_cable::{CableEnd, RefreshPolicy, Resolver};

/// A broadcast Ethernet frame with a recognisable payload.
fn frame(tag: u8) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    f.extend_from_slice(&[0x88, 0xb5]);
    f.extend_from_slice(&[tag; 46]);
    f
}

async fn next_tag(end: &CableEnd) -> u8 {
    let mut buf = vec![0u8; RECV_BUFFER_LEN];
    let got = tokio::time::timeout(Duration::from_secs(2), end.recv(&mut buf))
        .await
        .expect("a frame within 2 s")
        .expect("recv");
    got.frame[14]
}

/// Only explicit `refresh_peer` calls move the peer in this test.
const MANUAL: RefreshPolicy = RefreshPolicy {
    suspicious: Duration::from_secs(3600),
    steady: Duration::from_secs(3600),
};

#[tokio::test]
async fn re_resolution_switches_the_accepted_peer() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    let resolver = Resolver {
        hosts_file: hosts.clone(),
        resolv_conf: dir.path().join("no-resolv.conf"),
        max_timeout: Duration::from_millis(200),
    };
    // The peer starts at 127.0.0.2 on some port; it will come back at
    // 127.0.0.3 on the same port, as a restarted container does.
    let old_peer_socket = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
    let port = old_peer_socket.local_addr().unwrap().port();
    drop(old_peer_socket);
    std::fs::write(&hosts, "127.0.0.2 peer.test\n").unwrap();

    let named = CableEnd::bind_named(
        "eth0",
        "127.0.0.1:0".parse().unwrap(),
        "peer.test",
        port,
        resolver.clone(),
        MANUAL,
    )
    .await
    .unwrap();
    let named_addr = named.local_addr().unwrap();
    // The first resolution happens at once, in the background; make sure.
    let _ = named.refresh_peer(&resolver).await.unwrap();
    assert_eq!(named.peer(), Some(SocketAddr::from(([127, 0, 0, 2], port))));

    let old = CableEnd::bind("eth0", SocketAddr::from(([127, 0, 0, 2], port)), named_addr)
        .await
        .unwrap();
    old.send(&frame(1), None);
    assert_eq!(next_tag(&named).await, 1);

    // The peer moves: the old process is gone, a new one listens elsewhere.
    drop(old);
    std::fs::write(&hosts, "# moved\n127.0.0.3 peer.test\n").unwrap();
    let new = CableEnd::bind("eth0", SocketAddr::from(([127, 0, 0, 3], port)), named_addr)
        .await
        .unwrap();
    let change = named.refresh_peer(&resolver).await.unwrap().expect("moved");
    assert_eq!(change.old, Some(SocketAddr::from(([127, 0, 0, 2], port))));
    assert_eq!(change.new, SocketAddr::from(([127, 0, 0, 3], port)));
    assert_eq!(named.counters().snapshot().peer_moves, 1);
    assert_eq!(
        named.refresh_peer(&resolver).await.unwrap(),
        None,
        "stable now"
    );

    // A straggler from the old address is dropped and counted...
    let straggler = CableEnd::bind("eth0", SocketAddr::from(([127, 0, 0, 2], port)), named_addr)
        .await
        .unwrap();
    straggler.send(&frame(2), None);
    // ...the new peer's frames get through, both ways.
    new.send(&frame(3), None);
    assert_eq!(next_tag(&named).await, 3);
    assert_eq!(named.counters().snapshot().drop_foreign_source, 1);
    named.send(&frame(4), None);
    assert_eq!(next_tag(&new).await, 4);
}

#[tokio::test]
async fn an_unresolved_peer_drops_and_counts_what_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "").unwrap();
    // resolv.conf pointing at a loopback port where nothing answers.
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(
        &resolv,
        "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
    )
    .unwrap();
    let resolver = Resolver {
        hosts_file: hosts,
        resolv_conf: resolv,
        max_timeout: Duration::from_millis(100),
    };
    let end = CableEnd::bind_named(
        "eth0",
        "127.0.0.1:0".parse().unwrap(),
        "nowhere.test",
        9,
        resolver.clone(),
        MANUAL,
    )
    .await
    .unwrap();
    assert!(end.refresh_peer(&resolver).await.is_err());
    assert_eq!(end.peer(), None);
    end.send(&frame(1), None);
    assert_eq!(end.counters().snapshot().drop_no_peer, 1);
    assert_eq!(end.counters().snapshot().frames_out, 0);
}
