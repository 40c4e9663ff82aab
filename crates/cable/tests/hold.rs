//! A host's end holds what the kernel refuses; a router's end drops it.
//!
//! Loopback never refuses a UDP send (the skb goes straight to the
//! receiver), so the test runs itself again inside a fresh network
//! namespace whose `lo` has a slow token-bucket qdisc: datagrams wait in the
//! qdisc, charged to the sender's socket, until its send buffer is full and
//! `sendto` says `EAGAIN` — what a cable over a real network (Swarm overlay,
//! Kubernetes) meets.

use std::process::Command;
use std::time::Duration;
use vnet_cable::CableEnd;
use vnet_cable::end::RECV_BUFFER_LEN;

const INNER: &str = "VNET_HOLD_TEST_INNER";
/// Frames sent in one burst: ~8.5 MB, more than the 8 MiB the kernel
/// grants a 4 MiB SO_SNDBUF.
const FRAMES: u32 = 6000;

/// Runs `test` inside a namespace with a slow `lo`; prints why it skipped
/// (or fails under CI=true) without root or `ip`/`tc`.
fn in_slow_namespace(test: &str) {
    // One namespace per test: the tests of this file run in parallel.
    let tag: String = test.split('_').filter_map(|w| w.chars().next()).collect();
    let ns = format!("vnet-hold-{}-{tag}", std::process::id());
    let setup = format!(
        "ip netns add {ns} && ip netns exec {ns} ip link set lo up && \
         ip netns exec {ns} tc qdisc add dev lo root tbf rate 100mbit burst 32kb limit 64mb"
    );
    let ok = Command::new("sh")
        .args(["-c", &setup])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        let why = "needs root, iproute2 and tc to build a namespace with a slow loopback";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: {why}"
        );
        eprintln!("SKIPPED {test}: {why}");
        return;
    }
    let exe = std::env::current_exe().expect("test executable");
    let output = Command::new("ip")
        .args(["netns", "exec", &ns])
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--include-ignored"])
        .env(INNER, "1")
        .output()
        .expect("run the test inside the namespace");
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    print!("{out}");
    eprint!("{err}");
    assert!(output.status.success(), "inner run of {test} failed");
    assert!(
        out.contains("1 passed"),
        "the inner test did not run: {out}"
    );
}

/// Sends FRAMES numbered frames in one burst; returns what arrived (in
/// order of arrival) and the sender's counters.
async fn burst(hold: bool) -> (Vec<u32>, vnet_cable::CountersSnapshot) {
    // The namespace is the test's own: fixed ports cannot collide.
    let (rx_addr, tx_addr) = (
        "127.0.0.1:40001".parse().unwrap(),
        "127.0.0.1:40002".parse().unwrap(),
    );
    let receiver = CableEnd::bind("rx", rx_addr, tx_addr).await.unwrap();
    let sender = CableEnd::bind("tx", tx_addr, rx_addr).await.unwrap();
    sender.hold_when_full(hold);
    let mut frame = [0u8; 1400];
    frame[12..14].copy_from_slice(&[0x88, 0xb5]); // local experimental EtherType
    for n in 0..FRAMES {
        frame[14..18].copy_from_slice(&n.to_be_bytes());
        sender.send(&frame, None);
    }
    let mut got = Vec::new();
    let mut buf = vec![0u8; RECV_BUFFER_LEN];
    while let Ok(Ok(rx)) =
        tokio::time::timeout(Duration::from_millis(500), receiver.recv(&mut buf)).await
    {
        let n = u32::from_be_bytes(rx.frame[14..18].try_into().unwrap());
        got.push(n);
    }
    (got, sender.counters().snapshot())
}

#[tokio::test]
async fn a_host_end_holds_refused_datagrams_and_sends_them_in_order() {
    if std::env::var(INNER).is_err() {
        return in_slow_namespace("a_host_end_holds_refused_datagrams_and_sends_them_in_order");
    }
    let (got, counters) = burst(true).await;
    println!(
        "held {} of {FRAMES}, received {}, dropped {}",
        counters.held,
        got.len(),
        counters.drop_queue_full
    );
    assert!(counters.held > 0, "the kernel never refused: {counters:?}");
    assert_eq!(counters.drop_queue_full, 0, "{counters:?}");
    assert_eq!(
        got,
        (0..FRAMES).collect::<Vec<_>>(),
        "every frame, in order"
    );
}

#[tokio::test]
async fn a_router_end_drops_what_the_kernel_refuses() {
    if std::env::var(INNER).is_err() {
        return in_slow_namespace("a_router_end_drops_what_the_kernel_refuses");
    }
    let (got, counters) = burst(false).await;
    println!(
        "dropped {} of {FRAMES}, received {}",
        counters.drop_queue_full,
        got.len()
    );
    assert!(counters.drop_queue_full > 0, "{counters:?}");
    assert_eq!(counters.held, 0);
    assert_eq!(
        got.len() as u64 + counters.drop_queue_full,
        u64::from(FRAMES)
    );
}
