//! Loss in the kernel's socket buffer is counted, not silent: a cable end
//! that falls behind reports the datagrams the kernel dropped
//! (SO_RXQ_OVFL) as `drop_rx_overflow`.

use std::time::Duration;
use vnet_cable::CableEnd;
use vnet_cable::end::RECV_BUFFER_LEN;

#[tokio::test]
async fn kernel_drops_for_a_full_receive_buffer_are_counted() {
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let end = CableEnd::bind(
        "eth0",
        "127.0.0.1:0".parse().unwrap(),
        sender.local_addr().unwrap(),
    )
    .await
    .unwrap();
    let to = end.local_addr().unwrap();
    // Far more than the (enlarged) receive buffer holds, while the end
    // reads nothing.
    let datagram = [0u8; 1400];
    for _ in 0..20_000 {
        let _ = sender.send_to(&datagram, to);
    }
    assert_eq!(
        end.counters().snapshot().drop_rx_overflow,
        0,
        "nothing read yet"
    );
    // Reading drains the queue (garbage: bad envelopes). The kernel stamps
    // its drop count on datagrams queued after a drop: the next one tells.
    let mut buf = vec![0u8; RECV_BUFFER_LEN];
    let _ = tokio::time::timeout(Duration::from_millis(300), end.recv(&mut buf)).await;
    sender.send_to(&datagram, to).unwrap();
    let _ = tokio::time::timeout(Duration::from_millis(300), end.recv(&mut buf)).await;
    let c = end.counters().snapshot();
    assert!(c.drop_bad_envelope > 0, "{c:?}");
    assert!(
        c.drop_rx_overflow > 0,
        "the kernel's drops are counted: {c:?}"
    );
    assert_eq!(
        c.drop_bad_envelope + c.drop_rx_overflow,
        20_001,
        "every datagram is accounted for: {c:?}"
    );
}
