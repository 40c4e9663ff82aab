//! OSPFv2 interop with FRR's ospfd.
//!
//! A vnet router r1 has one interface on a TAP link end into a Linux
//! network namespace, where FRR's zebra and ospfd run (config, pid files
//! and vty sockets in a temp dir). The namespace has a stub network
//! (192.168.77.1/24) for ospfd to advertise; behind r1 is r2 over a
//! point-to-point link, and a host LAN on each:
//!
//! ```text
//!  h1 ── r1 ──────────── tap ── [netns: zebra + ospfd] ── 192.168.77.1/24
//! 10.0.1  │  10.0.99.1/24        10.0.99.2/24 (broadcast: DR election)
//!         │ 10.0.12.0/30 (point-to-point)
//!        r2 ── h2 10.0.2.10
//! ```
//!
//! Asserted, each by polling with a deadline: ospfd reaches Full with r1
//! and r1 with ospfd; FRR installs vnet's three networks as OSPF routes
//! and r1 and r2 install 192.168.77.0/24 as `ospf` routes; h2 pings
//! 192.168.77.1 across r2, r1 and the namespace (whose replies ride the
//! routes ospfd learned); and tshark, over a capture on the TAP end,
//! decodes OSPF from both sides (Hello, DB Description, LS Request, LS
//! Update, LS Acknowledge) with nothing malformed and no checksum error.
//!
//! Needs root, /dev/net/tun, FRR (zebra, ospfd, vtysh) and tshark; without
//! them the test prints why and skips (fails under CI=true).

mod common;

use common::frr::Frr;
use common::routes::wait_route;
use common::tap::{Netns, missing_prerequisite, skip_or_fail};
use common::{LabRun, lab_variant};
use std::time::{Duration, Instant};

const TOPOLOGY: &str = r#"
name = "frr-ospf"
links = [
  { a = "h1:eth0", b = "r1:eth0" },
  { a = "r1:eth1", b = "tap:TAP" },
  { a = "r1:eth2", b = "r2:eth0" },
  { a = "r2:eth1", b = "h2:eth0" },
]

[devices.h1]
kind = "host"
gateway = "10.0.1.1"
interfaces.eth0 = { address = "10.0.1.10/24" }

[devices.r1]
kind = "router"
interfaces.eth0 = { address = "10.0.1.1/24" }
interfaces.eth1 = { address = "10.0.99.1/24" }
interfaces.eth2 = { address = "10.0.12.1/30" }
ospf = { hello_secs = 1, dead_secs = 4, retransmit_secs = 2, passive = ["eth0"], point_to_point = ["eth2"] }

[devices.r2]
kind = "router"
interfaces.eth0 = { address = "10.0.12.2/30" }
interfaces.eth1 = { address = "10.0.2.1/24" }
ospf = { hello_secs = 1, dead_secs = 4, retransmit_secs = 2, passive = ["eth1"], point_to_point = ["eth0"] }

[devices.h2]
kind = "host"
gateway = "10.0.2.1"
interfaces.eth0 = { address = "10.0.2.10/24" }
"#;

/// ospfd: area 0 on the TAP (timers matching r1's, as OSPF requires:
/// RFC 2328 §10.5) and the stub network, advertised but silent.
fn ospfd_config(tap: &str) -> String {
    format!(
        "interface {tap}\n ip ospf hello-interval 1\n ip ospf dead-interval 4\n \
         ip ospf retransmit-interval 2\n\
         router ospf\n ospf router-id 10.0.99.2\n network 10.0.99.0/24 area 0\n \
         network 192.168.77.0/24 area 0\n passive-interface stub0\n"
    )
}

/// Polls `check` until it returns `Some`, at most `limit`.
fn eventually<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn ospfd_and_a_vnet_router_reach_full_and_exchange_routes() {
    let test = "frr ospf interop";
    if let Some(why) = missing_prerequisite(&["tshark", "dumpcap"]).or_else(common::frr::missing) {
        skip_or_fail(test, &why);
        return;
    }
    let pid = std::process::id();
    let ns = match Netns::create(&format!("vnet-ospf-{pid}")) {
        Ok(ns) => ns,
        Err(why) => {
            skip_or_fail(test, &why);
            return;
        }
    };
    let tap = format!("vospf{}", pid % 100_000);
    let (variant, topology) = lab_variant(&TOPOLOGY.replace("TAP", &tap));
    let lab = LabRun::up(&topology);
    common::frr::plug(&ns, &tap, "10.0.99.2/24");
    let capture_file = variant.path().join("ospf.pcapng");
    let mut capture = common::frr::start_capture(&ns, &tap, &capture_file);
    let started = Instant::now();
    let frr = Frr::start_ospfd(&ns, &ospfd_config(&tap));
    let diagnostics = || format!("{}\n{}", frr.logs(), lab.logs());

    // Full both ways.
    eventually(Duration::from_secs(40), "ospfd Full with r1", || {
        let run = frr.vtysh("show ip ospf neighbor");
        run.stdout
            .lines()
            .any(|l| l.starts_with("10.0.99.1") && l.contains("Full"))
            .then_some(())
    });
    println!("ospfd: Full with r1 after {:?}", started.elapsed());
    eventually(Duration::from_secs(20), "r1 Full with ospfd", || {
        let run = lab.vnet(&["show", "r1", "ospf"]);
        run.stdout
            .lines()
            .any(|l| l.contains("neighbour") && l.contains("10.0.99.2") && l.contains("Full"))
            .then_some(())
    });

    // Each side installs the other's networks.
    for net in ["10.0.1.0/24", "10.0.2.0/24", "10.0.12.0/30"] {
        eventually(
            Duration::from_secs(30),
            &format!("FRR route to {net}"),
            || {
                let run = frr.vtysh("show ip route ospf");
                run.stdout
                    .lines()
                    .any(|l| l.starts_with("O>") && l.contains(net))
                    .then_some(())
            },
        );
    }
    println!("FRR has vnet's networks after {:?}", started.elapsed());
    for router in ["r1", "r2"] {
        let (route, _) = wait_route(
            &lab,
            router,
            "192.168.77.0/24",
            Duration::from_secs(30),
            |r| r.source == "ospf",
        );
        println!("{router}: {route:?} after {:?}", started.elapsed());
    }
    let (r1_route, _) = wait_route(&lab, "r1", "192.168.77.0/24", Duration::from_secs(5), |r| {
        r.source == "ospf"
    });
    assert_eq!(
        (r1_route.gateway.as_str(), r1_route.interface.as_str()),
        ("10.0.99.2", "eth1"),
        "{r1_route:?}"
    );
    let ping = lab.exec("h2", &["ping", "-c", "3", "-W", "2", "192.168.77.1"]);
    assert!(
        ping.stdout.contains(" 0% packet loss"),
        "{ping:?}\n{}",
        diagnostics()
    );

    // tshark over what crossed the TAP: every OSPF packet type, both
    // sides, nothing malformed, no checksum error.
    capture.stop("-INT");
    let tshark = |filter: &str, fields: &[&str]| -> String {
        let mut args = vec!["-r".to_string(), capture_file.display().to_string()];
        args.extend([
            "-Y".to_string(),
            filter.to_string(),
            "-T".into(),
            "fields".into(),
        ]);
        for f in fields {
            args.extend(["-e".to_string(), f.to_string()]);
        }
        let out = std::process::Command::new("tshark")
            .args(&args)
            .output()
            .expect("tshark runs");
        assert!(out.status.success(), "tshark {filter}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let packets = tshark("ospf", &["ip.src", "ospf.msg"]);
    for (src, kind) in [("10.0.99.1", "1"), ("10.0.99.2", "1")] {
        assert!(
            packets
                .lines()
                .any(|l| l.starts_with(src) && l.ends_with(kind)),
            "Hellos from {src}: {packets}"
        );
    }
    for kind in ["2", "3", "4", "5"] {
        assert!(
            packets
                .lines()
                .any(|l| l.starts_with("10.0.99.1") && l.ends_with(kind)),
            "r1 sent OSPF type {kind}: {packets}"
        );
    }
    let bad = tshark(
        "_ws.malformed || _ws.expert.severity == error",
        &["frame.number"],
    );
    assert_eq!(bad.trim(), "", "malformed or erroneous OSPF frames");
    drop(frr);
    drop(lab);
    drop(ns);
}
