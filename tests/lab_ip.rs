//! The default lab end to end: real device processes on loopback, driven
//! through the `vnet` CLI exactly as a user would. Protocol behaviour
//! (forwarding and TTL, ICMP errors, fragmentation, switch learning) is
//! tested in the simulation (crates/sim/tests); what stays here needs
//! processes: `vnet link`, `vnet show`/`status`, impairments on sockets.

mod common;

use common::LabRun;

/// `N packets transmitted, M received, …` → (N, M).
fn ping_counts(stdout: &str) -> (u64, u64) {
    let line = stdout
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    (nums[0], nums[1])
}

#[test]
fn link_down_loses_everything_and_link_up_restores() {
    let lab = LabRun::default_lab();
    let run = lab.exec("client", &["ping", "-c", "2", "-i", "0.2", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}");

    let run = lab.vnet(&["link", "down", "r2:eth1"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("r2:eth1: in down / out down"),
        "{run:?}"
    );
    let run = lab.exec(
        "client",
        &["ping", "-c", "3", "-i", "0.2", "-W", "1", "10.0.3.10"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(ping_counts(&run.stdout), (3, 0), "{run:?}");
    assert!(run.stdout.contains("100% packet loss"), "{run:?}");
    assert!(lab.iface_counter("r2", "eth1", "drop_link_down_out") >= 3);

    let run = lab.vnet(&["link", "up", "r2:eth1"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = lab.exec("client", &["ping", "-c", "3", "-i", "0.2", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(ping_counts(&run.stdout), (3, 3), "{run:?}");

    // One direction only: replies are lost on the way back.
    let run = lab.vnet(&["link", "down", "r2:eth1", "--direction", "in"]);
    assert!(run.stdout.contains("in down / out up"), "{run:?}");
    let run = lab.exec(
        "client",
        &["ping", "-c", "2", "-i", "0.2", "-W", "1", "10.0.3.10"],
    );
    assert_eq!(ping_counts(&run.stdout), (2, 0), "{run:?}");
    assert!(lab.iface_counter("r2", "eth1", "drop_link_down_in") >= 2);
}

#[test]
fn show_status_and_host_tools_print_tables() {
    let lab = LabRun::default_lab();
    // No device dropped a frame for lack of send-queue room while booting
    // (the first DHCP DISCOVER of a fresh cable end used to be lost this way).
    for device in lab.status_all().as_array().expect("devices") {
        for iface in device["status"]["interfaces"]
            .as_array()
            .expect("interfaces")
        {
            assert_eq!(
                iface["counters"]["drop_queue_full"], 0,
                "{}: {}",
                device["name"], iface["name"]
            );
        }
    }
    let run = lab.exec("client", &["ping", "-c", "1", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}");

    let run = lab.vnet(&["show", "r1", "routes"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.lines().any(|l| l.starts_with("10.0.0.0/8")
            && l.contains("10.0.12.2")
            && l.contains("static")),
        "{run:?}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("10.0.1.0/24") && l.contains("connected")),
        "{run:?}"
    );

    let run = lab.vnet(&["show", "r1", "arp"]);
    assert!(
        run.stdout.contains("10.0.1.100") && run.stdout.contains("10.0.12.2"),
        "{run:?}"
    );

    let run = lab.exec("client", &["arp"]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("10.0.1.1 ") && l.contains("eth0")),
        "{run:?}"
    );
    let run = lab.vnet(&["show", "r1", "leases"]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("10.0.1.100") && l.contains("bound") && l.contains("eth0")),
        "{run:?}"
    );
    let run = lab.exec("client", &["ip", "route"]);
    assert!(
        run.stdout.contains("default via 10.0.1.1 dev eth0"),
        "{run:?}"
    );
    let run = lab.exec("client", &["ip", "addr"]);
    assert!(run.stdout.contains("inet 10.0.1.100/24"), "{run:?}");

    let run = lab.vnet(&["status"]);
    assert_eq!(run.code, 0, "{run:?}");
    for dev in ["client", "laptop", "sw1", "r1", "r2", "r3", "sw2", "web"] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(dev) && l.contains("running")),
            "{dev} missing: {run:?}"
        );
    }

    let run = lab.exec("client", &["nosuchtool"]);
    assert_eq!(run.code, 127, "{run:?}");
    assert!(run.stderr.contains("command not found"), "{run:?}");
    let run = lab.exec("sw1", &["ping", "10.0.1.1"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("runs no applications"), "{run:?}");
    let run = lab.vnet(&["show", "nosuch", "mac"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("no device named \"nosuch\""), "{run:?}");
}

/// The `rtt min/avg/max/mdev` minimum, in ms.
fn rtt_min(stdout: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("rtt min/avg/max/mdev"))
        .unwrap_or_else(|| panic!("no rtt line in:\n{stdout}"));
    line.split(" = ")
        .nth(1)
        .and_then(|v| v.split('/').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("bad rtt line {line:?}"))
}

#[test]
fn impairments_delay_corrupt_duplicate_and_lose_frames() {
    let lab = LabRun::default_lab();
    let run = lab.exec("client", &["ping", "-c", "1", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}");

    // 40 ms each way on the r2 <-> r3 cable: no reply can come back sooner than 80 ms.
    for port in ["r2:eth1", "r3:eth0"] {
        let run = lab.vnet(&["link", "impair", port, "--delay", "40ms"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("impaired: delay 40ms"), "{run:?}");
    }
    let run = lab.exec("client", &["ping", "-c", "3", "-i", "0.2", "10.0.3.10"]);
    assert_eq!(ping_counts(&run.stdout), (3, 3), "{run:?}");
    assert!(rtt_min(&run.stdout) >= 80.0, "delay not applied: {run:?}");
    let run = lab.vnet(&["link", "impair", "r3:eth0", "--clear"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("impaired"), "{run:?}");

    // Every frame r2 sends towards r3 gets a flipped bit: r3 drops them all as bad FCS.
    let bad_before = lab.iface_counter("r3", "eth0", "drop_bad_fcs");
    let run = lab.vnet(&["link", "impair", "r2:eth1", "--corrupt", "100%"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = lab.exec(
        "client",
        &["ping", "-c", "3", "-i", "0.2", "-W", "1", "10.0.3.10"],
    );
    assert_eq!(ping_counts(&run.stdout), (3, 0), "{run:?}");
    assert!(lab.iface_counter("r3", "eth0", "drop_bad_fcs") >= bad_before + 3);

    // Every frame sent twice: ping reports duplicates.
    let run = lab.vnet(&["link", "impair", "r2:eth1", "--duplicate", "100"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = lab.exec("client", &["ping", "-c", "3", "-i", "0.2", "10.0.3.10"]);
    assert_eq!(ping_counts(&run.stdout), (3, 3), "{run:?}");
    assert!(run.stdout.contains("(DUP!)"), "{run:?}");

    // Half the requests lost: some replies, not all (P(all or none) ~ 2e-6).
    let run = lab.vnet(&["link", "impair", "r2:eth1", "--loss", "50%"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = lab.exec(
        "client",
        &["ping", "-c", "20", "-i", "0.05", "-W", "1", "10.0.3.10"],
    );
    let (sent, received) = ping_counts(&run.stdout);
    assert_eq!(sent, 20, "{run:?}");
    assert!(received > 0 && received < 20, "{run:?}");
    assert!(lab.iface_counter("r2", "eth1", "drop_impaired") > 0);
    let status = lab.status("r2");
    assert_eq!(
        status["interfaces"][1]["impairments"]["loss_percent"], 50.0,
        "{status}"
    );

    let run = lab.vnet(&["link", "impair", "r2:eth1", "--clear"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = lab.exec("client", &["ping", "-c", "5", "-i", "0.1", "10.0.3.10"]);
    assert_eq!(ping_counts(&run.stdout), (5, 5), "{run:?}");

    let run = lab.vnet(&["link", "impair", "r2:eth1", "--loss", "150"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("150 is outside 0..=100"), "{run:?}");
}
