//! OSPFv2 across real router processes: a generated ring of six routers
//! (`vnet gen topology --ring 6 --routing ospf`) reaches Full adjacencies
//! and a route to every subnet, moves its routes the other way round when
//! a ring link is cut while a TCP transfer rides it out, and takes the
//! short way again when the link returns.

mod common;

use common::routes::{wait_ring_converged, wait_route};
use common::{LabRun, generate_topology};
use std::time::{Duration, Instant};

#[test]
fn an_ospf_ring_of_six_converges_heals_around_a_cut_and_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = generate_topology(
        dir.path(),
        "ring6-ospf.toml",
        &["--ring", "6", "--routing", "ospf"],
    );
    let lab = LabRun::up(&topology);
    let start = Instant::now();
    wait_ring_converged(&lab, 6, "ospf", Duration::from_secs(30));
    println!("OSPF ring of 6 converged after {:?}", start.elapsed());
    // r1 → h2's LAN: out of eth1 (cost 10) to r2, whose LAN is a stub of
    // cost 10 (RFC 2328 §16.1: the sum of the outgoing interface costs).
    let (near, _) = wait_route(&lab, "r1", "10.0.2.0/24", Duration::from_secs(5), |r| {
        r.source == "ospf"
    });
    assert_eq!(
        (near.interface.as_str(), near.metric),
        ("eth1", 20),
        "{near:?}"
    );
    let table = lab.vnet(&["show", "r1", "ospf"]);
    assert_eq!(table.code, 0, "{table:?}");
    assert_eq!(
        table
            .stdout
            .lines()
            .filter(|l| l.contains("neighbour") && l.contains("Full"))
            .count(),
        2,
        "r1 is Full with r2 and r6: {}",
        table.stdout
    );
    let ping = lab.exec("h1", &["ping", "-c", "2", "-W", "2", "10.0.4.10"]);
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");

    // A transfer from h1 to h2 across the link about to be cut.
    let transfer = lab.start_transfer("h2", "h1", "10.0.2.10:5001", "32M");
    let down = lab.vnet(&["link", "down", "r1:eth1"]);
    assert_eq!(down.code, 0, "{down:?}");
    // r1 sees its own link go: a new Router-LSA at once; the way to r2's
    // LAN is now five routers the other way round: 5 × 10 + 10.
    let (far, took) = wait_route(&lab, "r1", "10.0.2.0/24", Duration::from_secs(20), |r| {
        r.interface == "eth2" && r.metric == 60
    });
    println!("after cutting r1:eth1: {far:?} after {took:?}");
    // r2's end stays up: it notices after the dead interval (4 s).
    let (reply_way, took) = wait_route(&lab, "r2", "10.0.1.0/24", Duration::from_secs(30), |r| {
        r.interface == "eth1" && r.metric == 60
    });
    println!("r2 back to h1: {reply_way:?} after {took:?}");
    let (sent, received) =
        transfer.finish_byte_exact(32 * 1024 * 1024, Duration::from_secs(120), &lab.logs());
    println!("transfer across the cut: {sent} / {received}");

    let up = lab.vnet(&["link", "up", "r1:eth1"]);
    assert_eq!(up.code, 0, "{up:?}");
    let (back, took) = wait_route(&lab, "r1", "10.0.2.0/24", Duration::from_secs(30), |r| {
        r.interface == "eth1" && r.metric == 20
    });
    println!("link up: {back:?} after {took:?}");
}
