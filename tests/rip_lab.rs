//! RIPv2 across real router processes: the ring of configs/routing.toml
//! converges with no static route, heals around a cut link while a TCP
//! transfer rides it out, and takes the short way again when the link
//! returns.

mod common;

use common::{LabRun, repo_path};
use std::time::{Duration, Instant};

/// `vnet show DEVICE routes --json` rows as (destination, gateway,
/// interface, type).
fn routes(lab: &LabRun, device: &str) -> Vec<(String, String, String, String)> {
    let out = lab.vnet(&["show", device, "routes", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON table");
    let columns: Vec<&str> = v["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().unwrap_or_default())
        .collect();
    let at = |name: &str| columns.iter().position(|c| *c == name).expect(name);
    let (d, g, i, t) = (
        at("DESTINATION"),
        at("GATEWAY"),
        at("INTERFACE"),
        at("TYPE"),
    );
    let rows = v["rows"].as_array().expect("rows");
    rows.iter()
        .map(|r| {
            let cell = |k: usize| r[k].as_str().unwrap_or_default().to_string();
            (cell(d), cell(g), cell(i), cell(t))
        })
        .collect()
}

/// Waits up to `limit` for `device`'s route to `destination` to satisfy
/// `ok`; returns it and how long it took.
fn wait_route(
    lab: &LabRun,
    device: &str,
    destination: &str,
    limit: Duration,
    ok: impl Fn(&(String, String, String, String)) -> bool,
) -> ((String, String, String, String), Duration) {
    let start = Instant::now();
    loop {
        let found = routes(lab, device).into_iter().find(|r| r.0 == destination);
        if let Some(r) = found.filter(|r| ok(r)) {
            return (r, start.elapsed());
        }
        assert!(
            start.elapsed() < limit,
            "{device}: no suitable route to {destination} after {limit:?}: {:?}\n{}",
            routes(lab, device),
            lab.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_rip_ring_converges_heals_around_a_cut_and_returns() {
    let lab = LabRun::up(&repo_path("configs/routing.toml"));
    // Convergence: r1 learns the server's network (2 routers away).
    let (first, took) = wait_route(&lab, "r1", "10.0.3.0/24", Duration::from_secs(15), |r| {
        r.3 == "rip"
    });
    println!("r1 learned 10.0.3.0/24 via {} after {took:?}", first.1);
    let ping = lab.exec("client", &["ping", "-c", "2", "-W", "2", "10.0.3.10"]);
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");
    let table = lab.vnet(&["show", "r1", "rip"]);
    assert!(table.stdout.contains("rip from"), "{table:?}");

    // Cut the link r1 uses, in the middle of a transfer.
    let (cut, other) = if first.2 == "eth1" {
        ("r1:eth1", "eth2")
    } else {
        ("r1:eth2", "eth1")
    };
    let transfer = lab.start_transfer("server", "client", "10.0.3.10:5001", "16M");
    let down = lab.vnet(&["link", "down", cut]);
    assert_eq!(down.code, 0, "{down:?}");
    let (moved, took) = wait_route(&lab, "r1", "10.0.3.0/24", Duration::from_secs(20), |r| {
        r.2 == other
    });
    println!(
        "after cutting {cut}: via {} on {other} after {took:?}",
        moved.1
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
        r.3 == "connected"
    });
    println!(
        "link up: {far} connected again on {} after {took:?}",
        back.2
    );
    let ping = lab.exec("client", &["ping", "-c", "2", "-W", "2", "10.0.3.10"]);
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");
}
