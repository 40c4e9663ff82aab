//! RIPv2 across real router processes: the ring of configs/routing.toml
//! converges with no static route, heals around a cut link while a TCP
//! transfer rides it out, and takes the short way again when the link
//! returns.

mod common;

use common::routes::{routes, wait_ring_converged, wait_route};
use common::{LabRun, generate_topology, repo_path};
use std::time::{Duration, Instant};

#[test]
fn a_rip_ring_converges_heals_around_a_cut_and_returns() {
    let lab = LabRun::up(&repo_path("configs/routing.toml"));
    // Convergence: r1 learns the server's network (2 routers away).
    let (first, took) = wait_route(&lab, "r1", "10.0.3.0/24", Duration::from_secs(15), |r| {
        r.source == "rip"
    });
    println!(
        "r1 learned 10.0.3.0/24 via {} after {took:?}",
        first.gateway
    );
    // The replies need the way back: r3 learns the client's network on its
    // own schedule.
    wait_route(&lab, "r3", "10.0.1.0/24", Duration::from_secs(15), |r| {
        r.source == "rip"
    });
    let ping = lab.exec("client", &["ping", "-c", "2", "-W", "2", "10.0.3.10"]);
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");
    let table = lab.vnet(&["show", "r1", "rip"]);
    assert!(table.stdout.contains("rip from"), "{table:?}");

    // Cut the link r1 uses, in the middle of a transfer.
    let (cut, other) = if first.interface == "eth1" {
        ("r1:eth1", "eth2")
    } else {
        ("r1:eth2", "eth1")
    };
    let transfer = lab.start_transfer("server", "client", "10.0.3.10:5001", "16M");
    let down = lab.vnet(&["link", "down", cut]);
    assert_eq!(down.code, 0, "{down:?}");
    let (moved, took) = wait_route(&lab, "r1", "10.0.3.0/24", Duration::from_secs(20), |r| {
        r.interface == other
    });
    println!(
        "after cutting {cut}: via {} on {other} after {took:?}",
        moved.gateway
    );
    let (sent, _) = transfer.finish_byte_exact(16 << 20, Duration::from_secs(90), &lab.logs());
    println!("{sent}");

    // The cut link's own network is reachable only the long way now.
    let far = if cut == "r1:eth1" {
        "10.0.12.0/30"
    } else {
        "10.0.14.0/30"
    };
    let up = lab.vnet(&["link", "up", cut]);
    assert_eq!(up.code, 0, "{up:?}");
    let (back, took) = wait_route(&lab, "r1", far, Duration::from_secs(20), |r| {
        r.source == "connected"
    });
    println!(
        "link up: {far} connected again on {} after {took:?}",
        back.interface
    );
    let ping = lab.exec("client", &["ping", "-c", "2", "-W", "2", "10.0.3.10"]);
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");
}

/// Every LAN and ring link of a generated ring of `n` (10.0.i.0/24 and
/// 10.1.i.0/30).
#[test]
fn a_generated_ring_of_six_converges_and_counts_hops_both_ways_round() {
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = generate_topology(dir.path(), "ring6.toml", &["--ring", "6"]);
    let lab = LabRun::up(&topology);
    let start = Instant::now();
    // Every router reaches every subnet: its own as connected, the rest
    // learned by RIP.
    wait_ring_converged(&lab, 6, "rip", Duration::from_secs(30));
    println!("ring of 6 converged after {:?}", start.elapsed());
    // r1 → h2's LAN: r2 is one hop clockwise, so metric 2 (RFC 2453 §3.6:
    // a directly connected network costs 1 at r2, r1 adds 1).
    let (near, _) = wait_route(&lab, "r1", "10.0.2.0/24", Duration::from_secs(5), |r| {
        r.source == "rip"
    });
    assert_eq!(
        (near.interface.as_str(), near.metric),
        ("eth1", 2),
        "{near:?}"
    );
    let ping = lab.exec("h1", &["ping", "-c", "2", "-W", "2", "10.0.4.10"]);
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");

    // Cut r1–r2: the way to r2's LAN is now five routers the other way
    // round (r6, r5, r4, r3, r2): metric 6 on eth2.
    let down = lab.vnet(&["link", "down", "r1:eth1"]);
    assert_eq!(down.code, 0, "{down:?}");
    let (far, took) = wait_route(&lab, "r1", "10.0.2.0/24", Duration::from_secs(30), |r| {
        r.interface == "eth2" && r.metric == 6
    });
    println!("after cutting r1:eth1: {far:?} after {took:?}");
    // r2's end of the cut link stays up, so r2 keeps sending towards r1
    // until its route times out (12 s) and r3 offers the other way.
    let (reply_way, took) = wait_route(&lab, "r2", "10.0.1.0/24", Duration::from_secs(40), |r| {
        r.interface == "eth1" && r.metric == 6
    });
    println!("r2 back to h1: {reply_way:?} after {took:?}");
    let ping = lab.exec("h1", &["ping", "-c", "2", "-W", "2", "10.0.2.10"]);
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");

    let up = lab.vnet(&["link", "up", "r1:eth1"]);
    assert_eq!(up.code, 0, "{up:?}");
    let (back, took) = wait_route(&lab, "r1", "10.0.2.0/24", Duration::from_secs(30), |r| {
        r.interface == "eth1" && r.metric == 2
    });
    println!("link up: {back:?} after {took:?}");
    // Each change is a span of its own in the collector (convergence, the
    // cut, r2's timeout and the link's return each exported some; a
    // batch an exporter could not deliver under load is dropped, by
    // design, so any one of them will do).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = lab.vnet(&["trace", "list"]);
        if list.stdout.lines().any(|l| l.contains("r1: route.change")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no route.change trace from r1: {list:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_static_ring_reaches_every_host_the_shorter_way_round() {
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = generate_topology(
        dir.path(),
        "ring5.toml",
        &["--ring", "5", "--routing", "static"],
    );
    let lab = LabRun::up(&topology);
    let table = routes(&lab, "r1");
    assert!(table.iter().all(|r| r.source != "rip"), "{table:?}");
    for j in 2..=5 {
        let ping = lab.exec(
            "h1",
            &["ping", "-c", "1", "-W", "2", &format!("10.0.{j}.10")],
        );
        assert!(ping.stdout.contains(" 0% packet loss"), "h{j}: {ping:?}");
    }
    // h4 is two routers back (r5, r4), three forward: the route says eth2.
    let to_h4 = table
        .iter()
        .find(|r| r.destination == "10.0.4.0/24")
        .expect("a route to h4's LAN");
    assert_eq!(
        (to_h4.interface.as_str(), to_h4.source.as_str()),
        ("eth2", "static")
    );
}
