//! `vnet sim` and `vnet check` as a user runs them: the same seed replays
//! byte for byte, scripted cuts show in the log and in the application's
//! output, and a checks file grades a lab in the simulation and live.

mod common;

use common::{LabRun, repo_path, vnet_bin};
use std::process::Command;

fn vnet(args: &[&str]) -> common::Run {
    Command::new(vnet_bin())
        .args(args)
        .output()
        .expect("vnet runs")
        .into()
}

fn lab() -> String {
    repo_path("configs/lab.toml").display().to_string()
}

#[test]
fn the_same_seed_replays_a_browse_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = |n: u32| dir.path().join(format!("events-{n}.txt"));
    let run = |seed: &str, n: u32| {
        let path = log(n).display().to_string();
        let args = [
            "sim",
            &lab(),
            "--seed",
            seed,
            "--events",
            &path,
            "--",
            "client",
            "browse",
            "http://www.example.com/",
        ];
        let run = vnet(&args);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let events = std::fs::read_to_string(log(n)).expect("event log written");
        (run.stdout, events)
    };
    let (out1, ev1) = run("7", 1);
    let (out2, ev2) = run("7", 2);
    let (_, ev3) = run("8", 3);
    assert!(out1.contains("5 requests, 5 ok"), "{out1}");
    // The timeline of the browse's trace, as `vnet trace show` prints it.
    assert!(
        out1.contains("trace ")
            && out1.contains("client       L7  http  browse http://www.example.com/"),
        "{out1}"
    );
    assert!(ev1.lines().count() > 100, "{ev1}");
    assert!(
        ev1.contains("DHCP DISCOVER") && ev1.contains("dns-root"),
        "{ev1}"
    );
    assert_eq!(out1, out2, "same seed, different output");
    assert_eq!(ev1, ev2, "same seed, different event log");
    assert_ne!(
        ev1, ev3,
        "another seed draws other ids (DHCP xid, ISNs, DNS ids)"
    );
}

#[test]
fn a_scripted_cut_loses_pings_until_the_link_comes_back() {
    let run = vnet(&[
        "sim",
        &lab(),
        "--no-timeline",
        "--events",
        "-",
        "--at",
        "1500ms link down r2:eth1",
        "--at",
        "4500ms link up r2:eth1",
        "--",
        "client",
        "ping",
        "-c",
        "8",
        "10.0.3.10",
    ]);
    // Some replies came back: ping exits 0, as Linux's does with -c.
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("8 packets transmitted"),
        "{}",
        run.stdout
    );
    let received: u32 = run
        .stdout
        .lines()
        .find_map(|l| {
            l.split(", ")
                .nth(1)?
                .strip_suffix(" received")?
                .parse()
                .ok()
        })
        .expect("a statistics line");
    assert!((3..8).contains(&received), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("script -         -> r2 eth1          --  script link down"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("link up"), "{}", run.stdout);
}

#[test]
fn check_grades_a_lab_and_fails_a_wrong_expectation() {
    let checks = repo_path("configs/checks/browse.toml")
        .display()
        .to_string();
    let run = vnet(&["check", &lab(), &checks]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("8/8 checks passed"), "{}", run.stdout);
    assert!(!run.stdout.contains("FAIL"), "{}", run.stdout);

    let dir = tempfile::tempdir().expect("tempdir");
    let wrong = dir.path().join("wrong.toml");
    std::fs::write(
        &wrong,
        "[scenario]\nrun = [\"client\", \"browse\", \"http://www.example.com/\"]\n\
         [[check]]\nname = \"r2 forwarded with TTL 63\"\nframe = { from = \"r2\", to = \"r3\", proto = \"dns\", ttl = 63 }\n\
         [[check]]\nname = \"browse succeeded\"\nexit = 0\n",
    )
    .expect("write");
    let run = vnet(&["check", &lab(), &wrong.display().to_string()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("FAIL  r2 forwarded with TTL 63  (0 matching frame(s))"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("PASS  browse succeeded"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1/2 checks passed"), "{}", run.stdout);
}

#[test]
fn check_live_grades_the_running_lab_from_its_trace() {
    let lab_run = LabRun::default_lab();
    let dir = tempfile::tempdir().expect("tempdir");
    let checks = dir.path().join("live.toml");
    std::fs::write(
        &checks,
        "[scenario]\nrun = [\"client\", \"browse\", \"http://www.example.com/\"]\n\
         [[check]]\nname = \"the resolver asked dns-root\"\nframe = { to = \"dns-root\", proto = \"dns\" }\n\
         [[check]]\nname = \"r2 forwarded the resolver's query\"\nframe = { from = \"r2\", to = \"r3\", proto = \"dns\" }\n\
         [[check]]\nname = \"handshake\"\nspan = { device = \"client\", name = \"tcp.connect\" }\n\
         [[check]]\ntable = { device = \"r1\", table = \"routes\", row = [\"10.0.0.0/8\", \"10.0.12.2\"] }\n\
         [[check]]\noutput = { contains = \"5 ok\" }\n",
    )
    .expect("write");
    let run = lab_run.vnet(&["check", "--live", &lab(), &checks.display().to_string()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("5/5 checks passed"), "{}", run.stdout);
}

/// The first row of `timeline` shown for `device` whose text contains
/// `needle` (rows: `TIME ms  DEVICE  LAYER PROTO TEXT`).
fn row_of(timeline: &str, device: &str, needle: &str) -> Option<usize> {
    timeline
        .lines()
        .position(|line| line.split_whitespace().nth(2) == Some(device) && line.contains(needle))
}

/// The rows of one browse's milestones, which must come in this order.
fn milestones(timeline: &str) -> Vec<usize> {
    [
        ("r1", "DNS query A www.example.com"),
        ("resolver", "ask 10.0.3.20"),
        ("web", "[SYN]"),
        ("web", "GET / HTTP/1.1"),
        ("web", "GET /style.css"),
        ("web", "[FIN, ACK]"),
    ]
    .iter()
    .map(|(device, needle)| {
        row_of(timeline, device, needle)
            .unwrap_or_else(|| panic!("no {device} row with {needle:?} in\n{timeline}"))
    })
    .collect()
}

#[test]
fn live_timeline_and_simulation_agree_on_the_order_of_a_browse() {
    let sim = vnet(&[
        "sim",
        &lab(),
        "--",
        "client",
        "browse",
        "http://www.example.com/",
    ]);
    assert_eq!(sim.code, 0, "{}{}", sim.stdout, sim.stderr);
    let lab_run = LabRun::default_lab();
    let browse = lab_run.exec("client", &["browse", "http://www.example.com/"]);
    assert_eq!(browse.code, 0, "{browse:?}");
    let live = lab_run.vnet(&["trace", "show", "last", "--wait", "5"]);
    assert_eq!(live.code, 0, "{live:?}");
    let (in_sim, in_live) = (milestones(&sim.stdout), milestones(&live.stdout));
    assert!(
        in_sim.windows(2).all(|w| w[0] < w[1]),
        "simulation out of order: {in_sim:?}\n{}",
        sim.stdout
    );
    assert!(
        in_live.windows(2).all(|w| w[0] < w[1]),
        "live timeline out of order: {in_live:?}\n{}",
        live.stdout
    );
}
