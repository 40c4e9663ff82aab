//! Chains of any length: a generated chain of 64 routers sets a larger
//! initial TTL (Linux's 64 would expire on the way), so ping, traceroute
//! (`-n -m 70`) and TCP cross all 64 routers and back.

mod common;

use common::{LabRun, field, vnet_bin};
use std::process::Command;
use std::time::Duration;

#[test]
fn sixty_four_routers_carry_ping_traceroute_and_tcp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = dir.path().join("chain64.toml");
    let out = Command::new(vnet_bin())
        .args(["gen", "topology", "--chain", "64", "-o"])
        .arg(&topology)
        .output()
        .expect("vnet gen topology runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&topology).expect("topology");
    assert!(text.contains("ttl = 128"), "the generator raises the TTL");

    let lab = LabRun::up(&topology);
    let ping = lab.exec(
        "client",
        &["ping", "-c", "2", "-i", "0.2", "-W", "3", "10.0.3.10"],
    );
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");
    // 128 - 64 routers: the reply arrives with TTL 64.
    assert!(ping.stdout.contains("ttl=64"), "{ping:?}");

    let trace = lab.exec(
        "client",
        &[
            "traceroute",
            "-n",
            "-q",
            "1",
            "-w",
            "3",
            "-m",
            "70",
            "10.0.3.10",
        ],
    );
    assert_eq!(trace.code, 0, "{trace:?}");
    let hops: Vec<&str> = trace.stdout.lines().skip(1).collect();
    assert_eq!(hops.len(), 65, "64 routers, then web: {trace:?}");
    assert!(
        hops[64].trim_start().starts_with("65  10.0.3.10  "),
        "numeric: {}",
        hops[64]
    );

    let mut server = lab.exec_background("web", &["tcp", "listen", "5001"]);
    assert!(
        server
            .wait_for("listening on", Duration::from_secs(10))
            .is_some()
    );
    let client = lab.exec_background(
        "client",
        &["tcp", "send", "10.0.3.10:5001", "--bytes", "256K"],
    );
    let (code, sent) = client.finish(Duration::from_secs(60));
    assert_eq!(code, 0, "{sent:?}");
    let (code, received) = server.finish(Duration::from_secs(20));
    assert_eq!(code, 0, "{received:?}");
    let sent_line = sent
        .iter()
        .find(|l| l.starts_with("sent "))
        .expect("sender summary");
    let recv_line = received
        .iter()
        .find(|l| l.starts_with("received "))
        .expect("receiver summary");
    assert!(
        recv_line.starts_with("received 262144 bytes"),
        "{recv_line}"
    );
    assert_eq!(field(sent_line, "sha256"), field(recv_line, "sha256"));
}
