//! The routing table of a router in a running lab, as `vnet show DEVICE
//! routes --json` gives it, and waiting for a route to become what a test
//! expects (RIP and OSPF labs).

use super::LabRun;
use std::time::{Duration, Instant};

/// One row of `vnet show DEVICE routes --json`.
#[derive(Debug, Clone)]
pub struct RouteRow {
    pub destination: String,
    pub gateway: String,
    pub interface: String,
    pub source: String,
    pub metric: u32,
}

pub fn routes(lab: &LabRun, device: &str) -> Vec<RouteRow> {
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
    let (d, g, i, s, m) = (
        at("DESTINATION"),
        at("GATEWAY"),
        at("INTERFACE"),
        at("SOURCE"),
        at("METRIC"),
    );
    let rows = v["rows"].as_array().expect("rows");
    rows.iter()
        .map(|r| {
            let cell = |k: usize| r[k].as_str().unwrap_or_default().to_string();
            RouteRow {
                destination: cell(d),
                gateway: cell(g),
                interface: cell(i),
                source: cell(s),
                metric: cell(m).parse().expect("METRIC is a number"),
            }
        })
        .collect()
}

/// Waits up to `limit` for `device`'s route to `destination` to satisfy
/// `ok`; returns it and how long it took.
pub fn wait_route(
    lab: &LabRun,
    device: &str,
    destination: &str,
    limit: Duration,
    ok: impl Fn(&RouteRow) -> bool,
) -> (RouteRow, Duration) {
    let start = Instant::now();
    loop {
        let found = routes(lab, device)
            .into_iter()
            .find(|r| r.destination == destination);
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

/// Waits until every router r1…rN of a generated ring of `n` has a route
/// to every subnet of the ring: its own as connected, the rest learned by
/// `protocol` (`rip`, `ospf`), each within `limit`.
pub fn wait_ring_converged(lab: &LabRun, n: usize, protocol: &str, limit: Duration) {
    for r in 1..=n {
        let device = format!("r{r}");
        for subnet in ring_subnets(n) {
            wait_route(lab, &device, &subnet, limit, |row| {
                row.source == protocol || row.source == "connected"
            });
        }
    }
}

/// Every subnet of a generated ring of `n` (`vnet gen topology --ring N`):
/// the host LANs 10.0.i.0/24 and the ring links 10.1.i.0/30.
pub fn ring_subnets(n: usize) -> Vec<String> {
    (1..=n)
        .flat_map(|i| [format!("10.0.{i}.0/24"), format!("10.1.{i}.0/30")])
        .collect()
}
