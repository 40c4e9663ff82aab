//! Faults scheduled ahead (`vnet link down|impair … --for`, undone by the
//! device) and seeded impairments declared in the topology (a replayable
//! loss pattern).

mod common;

use common::{LabRun, lab_variant};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use vnet_cable::Impairments;
use vnet_cable::impair::{Fate, Impairer};

/// One interface of one device's `/status`.
fn interface(lab: &LabRun, device: &str, iface: &str) -> serde_json::Value {
    let status = lab.status(device);
    status["interfaces"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == iface))
        .cloned()
        .unwrap_or_else(|| panic!("no {device}:{iface} in {status}"))
}

/// Runs `check` until it holds or `limit` passes; whether it held.
fn poll(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ping_once(lab: &LabRun) -> bool {
    let run = lab.exec("client", &["ping", "-c", "1", "-W", "0.3", "10.0.3.10"]);
    run.code == 0
}

#[test]
fn link_down_for_a_while_is_restored_by_the_device() {
    let lab = LabRun::default_lab();
    assert!(
        poll(Duration::from_secs(5), || ping_once(&lab)),
        "lab works"
    );

    let t0 = Instant::now();
    let run = lab.vnet(&["link", "down", "r2:eth1", "--for", "1s"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("r2:eth1: in down / out down (for 1s, then restored)"),
        "{run:?}"
    );
    // Cut right after…
    let run = lab.exec(
        "client",
        &["ping", "-c", "2", "-i", "0.1", "-W", "0.3", "10.0.3.10"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("100% packet loss"), "{run:?}");
    // …and back after the deadline, with no other command.
    assert!(
        poll(Duration::from_secs(8), || ping_once(&lab)),
        "the link never came back\n{}",
        lab.logs()
    );
    assert!(t0.elapsed() >= Duration::from_secs(1), "restored early");
    let link = &interface(&lab, "r2", "eth1")["link"];
    assert_eq!(
        (link["rx_up"].as_bool(), link["tx_up"].as_bool()),
        (Some(true), Some(true))
    );

    // A later change cancels the pending restore.
    let run = lab.vnet(&[
        "link",
        "down",
        "r2:eth1",
        "--direction",
        "in",
        "--for",
        "300ms",
    ]);
    assert!(
        run.stdout
            .contains("in down / out up (for 300ms, then restored)"),
        "{run:?}"
    );
    let run = lab.vnet(&["link", "down", "r2:eth1", "--direction", "out"]);
    assert!(run.stdout.contains("in down / out down"), "{run:?}");
    std::thread::sleep(Duration::from_millis(700));
    let link = &interface(&lab, "r2", "eth1")["link"];
    assert_eq!(
        (link["rx_up"].as_bool(), link["tx_up"].as_bool()),
        (Some(false), Some(false)),
        "the cancelled restore ran"
    );
    assert_eq!(lab.vnet(&["link", "up", "r2:eth1"]).code, 0);

    // Impairments for a while: cleared by the device afterwards.
    let t0 = Instant::now();
    let run = lab.vnet(&[
        "link", "impair", "r2:eth1", "--loss", "100%", "--for", "500ms",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("impaired: loss 100% (for 500ms, then restored)"),
        "{run:?}"
    );
    assert!(
        poll(Duration::from_secs(5), || {
            interface(&lab, "r2", "eth1")["impairments"]["loss_percent"].as_f64() == Some(0.0)
        }),
        "impairments never cleared"
    );
    assert!(t0.elapsed() >= Duration::from_millis(500), "cleared early");
    assert!(ping_once(&lab));
}

const SEEDED: &str = r#"
name = "seeded"
links = [ { a = "h1:eth0", b = "h2:eth0", impair = { loss = "20%", seed = SEED } } ]

[devices.h1]
kind = "host"
interfaces.eth0 = { address = "10.0.9.1/24" }

[devices.h2]
kind = "host"
interfaces.eth0 = { address = "10.0.9.2/24" }
"#;

const PINGS: u16 = 50;

fn seeded_impairer(seed: u64) -> Impairer {
    Impairer::new(Impairments {
        loss_percent: 20.0,
        seed: Some(seed),
        ..Default::default()
    })
}

/// The icmp_seq values the seeded link must lose: h1's end (seed) sends the
/// ARP request then echo requests 1..=PINGS; h2's end (seed + 1) the ARP
/// reply then one echo reply per request that arrived.
fn predicted_losses(seed: u64) -> BTreeSet<u16> {
    let now = tokio::time::Instant::now();
    let (mut a, mut b) = (seeded_impairer(seed), seeded_impairer(seed + 1));
    assert_ne!(a.decide(now, 42), Fate::Drop);
    assert_ne!(b.decide(now, 42), Fate::Drop);
    (1..=PINGS)
        .filter(|_| a.decide(now, 98) == Fate::Drop || b.decide(now, 98) == Fate::Drop)
        .collect()
}

/// Lost icmp_seq values and the two ends' `drop_impaired` counters.
fn run_seeded(topology: &std::path::Path) -> (BTreeSet<u16>, u64, u64) {
    let lab = LabRun::up(topology);
    let count = PINGS.to_string();
    let run = lab.exec(
        "h1",
        &["ping", "-c", &count, "-i", "0.05", "-W", "0.5", "10.0.9.2"],
    );
    let received: BTreeSet<u16> = run
        .stdout
        .lines()
        .filter(|l| l.contains("bytes from"))
        .filter_map(|l| l.split("icmp_seq=").nth(1)?.split(' ').next())
        .filter_map(|s| s.parse().ok())
        .collect();
    let lost = (1..=PINGS).filter(|s| !received.contains(s)).collect();
    let h2_impair = &interface(&lab, "h2", "eth0")["impairments"];
    assert_eq!(
        h2_impair["seed"].as_u64(),
        Some(topology_seed(topology) + 1)
    );
    (
        lost,
        lab.iface_counter("h1", "eth0", "drop_impaired"),
        lab.iface_counter("h2", "eth0", "drop_impaired"),
    )
}

fn topology_seed(topology: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(topology).expect("topology");
    let after = text.split("seed = ").nth(1).expect("a seed");
    after
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|s| s.parse().ok())
        .expect("seed number")
}

#[test]
fn a_seeded_impairment_in_the_topology_loses_the_same_frames_every_run() {
    // A seed whose first decision on each end keeps the ARP exchange, so the
    // frame sequence is the pings alone.
    let seed = (1..)
        .find(|s| {
            let now = tokio::time::Instant::now();
            seeded_impairer(*s).decide(now, 42) != Fate::Drop
                && seeded_impairer(s + 1).decide(now, 42) != Fate::Drop
        })
        .expect("a seed");
    let expected = predicted_losses(seed);
    assert!(!expected.is_empty() && expected.len() < 40, "{expected:?}");
    let (_dir, topology) = lab_variant(&SEEDED.replace("SEED", &seed.to_string()));

    let first = run_seeded(&topology);
    let second = run_seeded(&topology);
    assert_eq!(first, second, "two runs of the same seed differ");
    assert_eq!(first.0, expected, "lost icmp_seq values (seed {seed})");
    assert_eq!(
        first.1 + first.2,
        expected.len() as u64,
        "each lost ping is one frame dropped on one end"
    );
}
