//! Chains of any length: a generated chain of 64 routers sets a larger
//! initial TTL (Linux's 64 would expire on the way), so ping, traceroute
//! (`-n -m 70`) and TCP cross all 64 routers and back.

mod common;

use common::{LabRun, generate_chain};
use std::time::Duration;

#[test]
fn sixty_four_routers_carry_ping_traceroute_and_tcp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = generate_chain(dir.path(), 64);
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

    lab.start_transfer("web", "client", "10.0.3.10:5001", "256K")
        .finish_byte_exact(262_144, Duration::from_secs(60), &lab.logs());
}
