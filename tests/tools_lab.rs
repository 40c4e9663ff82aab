//! The Linux tools' common flags on vnet's apps, in the default lab: host
//! names where addresses go, ping's Linux exit codes and its statistics
//! after Ctrl-C (SIGINT to `vnet exec`), traceroute's probe methods, and
//! `tcp listen` serving connection after connection.

mod common;

use common::{Background, LabRun};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::time::Duration;

/// Sends SIGINT to a `vnet exec` running in the background, as Ctrl-C does.
fn interrupt(background: &Background) {
    let pid = Pid::from_raw(background.child.id() as i32);
    kill(pid, Signal::SIGINT).expect("SIGINT to vnet exec");
}

#[test]
fn ping_takes_names_and_exits_like_linux() {
    let lab = LabRun::default_lab();
    let run = lab.exec("client", &["ping", "www.example.com", "-c", "2"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.lines().next(),
        Some("PING www.example.com (10.0.3.10) 56(84) bytes of data."),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("--- www.example.com ping statistics ---"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("2 packets transmitted, 2 received, 0% packet loss"),
        "{run:?}"
    );

    let run = lab.exec("client", &["ping", "-c", "1", "nosuch.example"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr.trim_end(),
        "ping: nosuch.example: Name or service not known",
        "{run:?}"
    );
    assert_eq!(run.stdout, "", "{run:?}");

    let run = lab.exec("client", &["ping", "-i", "0.001", "10.0.3.10"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("minimal interval"), "{run:?}");

    // A bounded flood: every request answered, the flood's ipg/ewma figures.
    let run = lab.exec("client", &["ping", "-f", "-c", "200", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("200 packets transmitted, 200 received"),
        "{run:?}"
    );
    assert!(run.stdout.contains(" ms, ipg/ewma "), "{run:?}");
    assert!(
        !run.stdout.contains("icmp_seq="),
        "a flood is quiet: {run:?}"
    );

    // -q: the summary only; -w: a deadline ends ping (exit 1: fewer replies than asked).
    let run = lab.exec(
        "client",
        &[
            "ping",
            "-q",
            "-c",
            "100",
            "-i",
            "0.2",
            "-w",
            "1",
            "10.0.3.10",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(!run.stdout.contains("icmp_seq="), "{run:?}");
    assert!(run.stdout.contains("ping statistics"), "{run:?}");
}

#[test]
fn ping_without_count_prints_statistics_on_ctrl_c() {
    let lab = LabRun::default_lab();
    let mut ping = lab.exec_background("client", &["ping", "-i", "0.2", "10.0.3.10"]);
    assert!(
        ping.wait_for("icmp_seq=3 ", Duration::from_secs(10))
            .is_some(),
        "{:?}",
        ping.seen
    );
    interrupt(&ping);
    let (code, lines) = ping.finish(Duration::from_secs(10));
    assert_eq!(code, 0, "{lines:?}\n{}", lab.logs());
    assert!(
        lines
            .iter()
            .any(|l| l == "--- 10.0.3.10 ping statistics ---"),
        "{lines:?}"
    );
    let totals = lines
        .iter()
        .find(|l| l.contains("packets transmitted"))
        .expect("totals line");
    assert!(totals.contains("0% packet loss"), "{totals}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("rtt min/avg/max/mdev = ")),
        "{lines:?}"
    );

    // No reply at all before Ctrl-C: exit 1, as Linux.
    let mut ping = lab.exec_background("client", &["ping", "192.0.2.1"]);
    assert!(
        ping.wait_for("Destination Net Unreachable", Duration::from_secs(10))
            .is_some(),
        "{:?}",
        ping.seen
    );
    interrupt(&ping);
    let (code, lines) = ping.finish(Duration::from_secs(10));
    assert_eq!(code, 1, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("0 received, +1 errors") || l.contains("0 received, +2 errors")),
        "{lines:?}"
    );
}

/// The hop lines of a traceroute run (after its header).
fn hops(stdout: &str) -> Vec<String> {
    stdout.lines().skip(1).map(str::to_string).collect()
}

#[test]
fn traceroute_probe_methods_find_the_same_hops() {
    let lab = LabRun::default_lab();
    let udp = lab.exec("client", &["traceroute", "-n", "www.example.com"]);
    assert_eq!(udp.code, 0, "{udp:?}");
    assert_eq!(
        udp.stdout.lines().next(),
        Some("traceroute to www.example.com (10.0.3.10), 30 hops max, 60 byte packets"),
        "{udp:?}"
    );
    let udp_hops = hops(&udp.stdout);
    // client -> r1 -> r2 -> r3 -> web.
    assert_eq!(udp_hops.len(), 4, "{udp:?}");
    assert!(udp_hops[3].starts_with(" 4  10.0.3.10  "), "{udp:?}");
    for method in ["-I", "-T"] {
        let run = lab.exec("client", &["traceroute", "-n", method, "www.example.com"]);
        assert_eq!(run.code, 0, "{method}: {run:?}\n{}", lab.logs());
        let got = hops(&run.stdout);
        assert_eq!(got.len(), udp_hops.len(), "{method}: {run:?}");
        for (ours, theirs) in got.iter().zip(&udp_hops) {
            let first = |l: &str| l.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            assert_eq!(first(ours), first(theirs), "{method}: {run:?}");
        }
    }
    // -T to a port nobody listens on: the RST ends the trace as well.
    let run = lab.exec(
        "client",
        &["traceroute", "-n", "-T", "-p", "5999", "10.0.3.30"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let last = run.stdout.lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with(" 4  10.0.3.30  "), "{run:?}");

    let run = lab.exec("client", &["traceroute", "nosuch.example"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .starts_with("nosuch.example: Name or service not known"),
        "{run:?}"
    );
}

#[test]
fn tcp_listen_serves_connections_until_interrupted() {
    let lab = LabRun::default_lab();
    let mut server = lab.exec_background("server", &["tcp", "listen", "5001"]);
    assert!(
        server
            .wait_for("listening on 0.0.0.0:5001", Duration::from_secs(10))
            .is_some(),
        "{:?}",
        server.seen
    );
    for bytes in ["64K", "1K"] {
        let run = lab.exec(
            "client",
            &["tcp", "send", "10.0.3.30:5001", "--bytes", bytes],
        );
        assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    }
    assert!(
        server
            .wait_for("received 1024 bytes", Duration::from_secs(10))
            .is_some(),
        "{:?}",
        server.seen
    );
    interrupt(&server);
    let (code, lines) = server.finish(Duration::from_secs(10));
    // nc has no SIGINT handler: 128 + SIGINT.
    assert_eq!(code, 130, "{lines:?}");
    let received: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("received "))
        .collect();
    assert_eq!(received.len(), 2, "{lines:?}");
    assert!(received[0].starts_with("received 65536 bytes"), "{lines:?}");

    // A name where the address goes; an unknown one fails like getaddrinfo.
    let run = lab.exec(
        "client",
        &["tcp", "send", "nosuch.example:5001", "--bytes", "1K"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("nosuch.example: Name or service not known"),
        "{run:?}"
    );
    let mut server = lab.exec_background(
        "server",
        &["tcp", "listen", "--once", "-s", "10.0.3.30", "5002"],
    );
    assert!(
        server
            .wait_for("listening on 10.0.3.30:5002", Duration::from_secs(10))
            .is_some(),
        "{:?}",
        server.seen
    );
    let run = lab.exec(
        "client",
        &["tcp", "send", "www.example.com:80", "--bytes", "1"],
    );
    assert_eq!(
        run.code, 0,
        "a name where tcp send takes an address: {run:?}"
    );
    let run = lab.exec(
        "client",
        &["tcp", "send", "10.0.3.30:5002", "--bytes", "2K"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let (code, lines) = server.finish(Duration::from_secs(10));
    assert_eq!(code, 0, "--once exits after one connection: {lines:?}");
}
