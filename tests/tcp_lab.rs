//! vnet's own TCP between real device processes: a bulk transfer survives a
//! cut cable (retransmission with backoff, then recovery), byte for byte.

mod common;

use common::{LabRun, field};
use std::time::{Duration, Instant};

#[test]
fn sixteen_mib_survive_a_five_second_link_cut_byte_exact() {
    let lab = LabRun::default_lab();
    let transfer = lab.start_transfer("server", "client", "10.0.3.30:5001", "16M");

    // Cut the middle cable once data is flowing.
    let deadline = Instant::now() + Duration::from_secs(20);
    while lab.device_counter("server", "tcp_rx") < 200 {
        assert!(
            Instant::now() < deadline,
            "the transfer never started\n{}",
            lab.logs()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let run = lab.vnet(&["link", "down", "r2:eth1"]);
    assert_eq!(run.code, 0, "{run:?}");
    let received_at_cut = lab.device_counter("server", "tcp_rx");
    std::thread::sleep(Duration::from_secs(5)); // the scenario: a 5 s outage
    let run = lab.vnet(&["link", "up", "r2:eth1"]);
    assert_eq!(run.code, 0, "{run:?}");

    let (sent_line, _) =
        transfer.finish_byte_exact(16 << 20, Duration::from_secs(120), &lab.logs());
    let retrans: u64 = field(&sent_line, "retransmissions")
        .and_then(|r| r.parse().ok())
        .expect("retransmissions");
    assert!(
        retrans > 0,
        "a 5 s outage must cost retransmissions: {sent_line}"
    );
    assert!(
        lab.device_counter("client", "tcp_rto_timeouts") > 0,
        "the outage must fire the RTO"
    );
    assert!(
        lab.device_counter("server", "tcp_rx") > received_at_cut,
        "data flowed after the cut"
    );
    assert!(lab.iface_counter("r2", "eth1", "drop_link_down_out") > 0);
}

#[test]
fn connection_refused_and_ss_show_socket_state() {
    let lab = LabRun::default_lab();
    let run = lab.exec(
        "client",
        &["tcp", "send", "10.0.3.30:5999", "--bytes", "1K"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Connection refused"), "{run:?}");

    let mut server = lab.exec_background("server", &["tcp", "listen", "--once", "5001"]);
    assert!(
        server
            .wait_for("listening on", Duration::from_secs(10))
            .is_some()
    );
    let run = lab.exec("server", &["ss"]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("LISTEN") && l.contains("0.0.0.0:5001")),
        "{run:?}"
    );
    let run = lab.exec(
        "client",
        &["tcp", "send", "10.0.3.30:5001", "--bytes", "256K"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let (code, lines) = server.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{lines:?}");
    // The client's side of the closed connection lingers in TIME-WAIT.
    let run = lab.vnet(&["show", "client", "sockets"]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("TIME-WAIT") && l.contains("10.0.3.30:5001")),
        "{run:?}"
    );
}
