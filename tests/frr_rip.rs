//! RIPv2 interop with FRR's ripd, the routing suite people actually run.
//!
//! A vnet router r1 has one interface on a TAP link end into a Linux
//! network namespace, where FRR's zebra and ripd run as ordinary daemons
//! (config, pid files and vty sockets in a temp dir). The namespace has a
//! stub network (192.168.77.1/24 on a veth end) for ripd to advertise;
//! behind r1 are vnet's own networks, one of them a router further (r2):
//!
//! ```text
//!  h1 ── r1 ──────────── tap ── [netns: zebra + ripd] ── 192.168.77.1/24
//! 10.0.1  │  10.0.99.1/24        10.0.99.2/24
//!         │ 10.0.12.0/30
//!        r2 ── h2 10.0.2.10
//! ```
//!
//! Asserted, each by polling with a deadline: FRR learns vnet's three
//! networks with hop-count metrics (and zebra puts them in the kernel as
//! `proto rip`); r1 and r2 learn 192.168.77.0/24 as `rip` routes with the
//! right metric and next hop; h1 and h2 ping 192.168.77.1 (the namespace
//! has no default route: its replies ride the routes ripd learned); a
//! withdrawal crosses both ways (the stub link down: r1 drops the route;
//! h2's link down: ripd and the kernel drop 10.0.2.0/24); neither side
//! counts the other's messages bad; and tshark, over a capture on the TAP
//! end, decodes RIPv2 from both sides with nothing malformed, split
//! horizon as each side does it, and good UDP checksums. The same with
//! simple-password authentication (RFC 2453 §4.1) on both sides; and with
//! different passwords, where each side rejects the other and learns
//! nothing.
//!
//! Needs root, /dev/net/tun, FRR (/usr/lib/frr/zebra, ripd, vtysh) and
//! tshark; without them the tests print why and skip (fail under CI=true).

mod common;

use common::frr::{Daemon, Frr};
use common::tap::{Netns, missing_prerequisite, sh, skip_or_fail};
use common::{LabRun, lab_variant};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The namespace's stub network, which only FRR advertises.
const STUB: &str = "192.168.77.0/24";
const STUB_HOST: &str = "192.168.77.1";
/// The namespace's address on the TAP link (r1 is 10.0.99.1).
const FRR_ADDR: &str = "10.0.99.2";
/// How long either side may take to learn the other's routes.
const LEARN_LIMIT: Duration = Duration::from_secs(30);

/// The lab; `TAP` becomes the TAP device's name.
const TOPOLOGY: &str = r#"
name = "frr-rip"
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
rip = { update_secs = 2, timeout_secs = 12, garbage_secs = 8, passive = ["eth0"]PASSWORD }

[devices.r2]
kind = "router"
interfaces.eth0 = { address = "10.0.12.2/30" }
interfaces.eth1 = { address = "10.0.2.1/24" }
rip = { update_secs = 2, timeout_secs = 12, garbage_secs = 8, passive = ["eth1"]PASSWORD }

[devices.h2]
kind = "host"
gateway = "10.0.2.1"
interfaces.eth0 = { address = "10.0.2.10/24" }
"#;

/// `vnet show DEVICE TABLE --json` rows, keyed by column name.
fn table(
    lab: &LabRun,
    device: &str,
    name: &str,
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let out = lab.vnet(&["show", device, name, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON table");
    let columns: Vec<String> = v["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().unwrap_or_default().to_string())
        .collect();
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), r[i].clone()))
                .collect()
        })
        .collect()
}

/// `device`'s route to `destination` as (source, gateway, interface,
/// metric) from `vnet show DEVICE routes`, when RIP is its source.
fn vnet_rip_route(
    lab: &LabRun,
    device: &str,
    destination: &str,
) -> Option<(String, String, String, u32)> {
    let text = |r: &serde_json::Map<String, serde_json::Value>, k: &str| {
        r.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let route = table(lab, device, "routes")
        .into_iter()
        .find(|r| text(r, "DESTINATION") == destination && text(r, "SOURCE") == "rip")?;
    Some((
        text(&route, "SOURCE"),
        text(&route, "GATEWAY"),
        text(&route, "INTERFACE"),
        text(&route, "METRIC").parse().ok()?,
    ))
}

/// Everything a test needs; dropped in the order of its fields: capture,
/// FRR, lab, then the namespace.
struct FrrLab {
    capture: Daemon,
    capture_file: std::path::PathBuf,
    frr: Frr,
    lab: LabRun,
    _variant: tempfile::TempDir,
    ns: Netns,
    tap: String,
    started: Instant,
}

/// ripd's configuration: RIPv2 with short timers (update 5 s, timeout
/// 30 s, garbage 20 s) on the TAP, the stub network advertised but
/// nothing sent there; with `password`, simple authentication on the TAP.
fn ripd_config(tap: &str, password: Option<&str>) -> String {
    let auth = password.map_or(String::new(), |p| {
        format!(
            "interface {tap}\n ip rip authentication mode text\n ip rip authentication string {p}\n"
        )
    });
    format!(
        "{auth}router rip\n version 2\n timers basic 5 30 20\n network 10.0.99.0/24\n \
         network {STUB}\n passive-interface stub0\n"
    )
}

/// Sets the lab up, or says why it cannot (after [`skip_or_fail`]); the
/// passwords are vnet's and FRR's.
fn frr_lab(test: &str, vnet_password: Option<&str>, frr_password: Option<&str>) -> Option<FrrLab> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let missing = missing_prerequisite(&["tshark", "dumpcap"]).or_else(common::frr::missing);
    if let Some(why) = missing {
        skip_or_fail(test, &why);
        return None;
    }
    let pid = std::process::id();
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 10;
    let ns = match Netns::create(&format!("vnet-frr-{pid}-{n}")) {
        Ok(ns) => ns,
        Err(why) => {
            skip_or_fail(test, &why);
            return None;
        }
    };
    let tap = format!("vfrr{}{n}", pid % 100_000);
    let password_setting = vnet_password.map_or(String::new(), |p| format!(", password = \"{p}\""));
    let text = TOPOLOGY
        .replace("TAP", &tap)
        .replace("PASSWORD", &password_setting);
    let (variant, topology) = lab_variant(&text);
    let lab = LabRun::up(&topology);
    common::frr::plug(&ns, &tap, "10.0.99.2/24");
    let capture_file = variant.path().join("rip.pcapng");
    let capture = common::frr::start_capture(&ns, &tap, &capture_file);
    let started = Instant::now();
    let frr = Frr::start_ripd(&ns, &ripd_config(&tap, frr_password));
    Some(FrrLab {
        capture,
        capture_file,
        frr,
        lab,
        _variant: variant,
        ns,
        tap,
        started,
    })
}

/// What vnet advertises, as FRR should see it: (network, RIP metric).
/// Connected networks go out with metric 1 and each hop adds 1.
const VNET_NETWORKS: [(&str, u32); 3] =
    [("10.0.1.0/24", 2), ("10.0.12.0/30", 2), ("10.0.2.0/24", 3)];

/// Polls until FRR has all of vnet's networks (right metrics, via r1) and
/// r1 and r2 have FRR's stub network; returns when each side got there.
fn wait_converged(t: &FrrLab) -> (Duration, Duration, Duration) {
    let r1 = (
        "rip".to_string(),
        FRR_ADDR.to_string(),
        "eth1".to_string(),
        2,
    );
    let r2 = (
        "rip".to_string(),
        "10.0.12.1".to_string(),
        "eth0".to_string(),
        3,
    );
    let (mut frr_at, mut r1_at, mut r2_at) = (None, None, None);
    loop {
        let elapsed = t.started.elapsed();
        let frr_seen = t.frr.rip_routes();
        let all_there = VNET_NETWORKS.iter().all(|(net, metric)| {
            frr_seen
                .iter()
                .any(|(n, via, m)| n == net && via == "10.0.99.1" && m == metric)
        });
        if all_there && frr_at.is_none() {
            frr_at = Some(elapsed);
        }
        let r1_seen = vnet_rip_route(&t.lab, "r1", STUB);
        if r1_seen.as_ref() == Some(&r1) && r1_at.is_none() {
            r1_at = Some(elapsed);
        }
        let r2_seen = vnet_rip_route(&t.lab, "r2", STUB);
        if r2_seen.as_ref() == Some(&r2) && r2_at.is_none() {
            r2_at = Some(elapsed);
        }
        if let (Some(f), Some(a), Some(b)) = (frr_at, r1_at, r2_at) {
            return (f, a, b);
        }
        assert!(
            elapsed < LEARN_LIMIT,
            "not converged after {LEARN_LIMIT:?}:\n FRR wants {VNET_NETWORKS:?} via 10.0.99.1, has {frr_seen:?}\n \
             r1 wants {r1:?}, has {r1_seen:?}\n r2 wants {r2:?}, has {r2_seen:?}\n\
             --- FRR show ip rip\n{}\n--- r1 rip\n{}\n--- r1 routes\n{}\n{}\n{}",
            t.frr.vtysh("show ip rip").stdout,
            t.lab.vnet(&["show", "r1", "rip"]).stdout,
            t.lab.vnet(&["show", "r1", "routes"]).stdout,
            t.lab.logs(),
            t.frr.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Polls until zebra has put vnet's networks into the namespace's kernel
/// table (`proto rip`, via r1 on the TAP).
fn wait_kernel_routes(t: &FrrLab) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let run = sh("ip", &["-n", &t.ns.0, "route", "show", "proto", "rip"]);
        let all = VNET_NETWORKS.iter().all(|(net, _)| {
            run.stdout.lines().any(|l| {
                l.starts_with(&format!("{net} "))
                    && l.contains("via 10.0.99.1 ")
                    && l.contains(&format!("dev {} ", t.tap))
            })
        });
        if all {
            return run.stdout;
        }
        assert!(
            Instant::now() < deadline,
            "zebra did not install vnet's networks in the kernel: {run:?}\n{}",
            t.frr.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// r1's bad-message and bad-route counts for FRR (its neighbour row in
/// `vnet show r1 rip`: "bad messages N, bad routes M").
fn vnet_bad_counts(lab: &LabRun) -> Option<(u64, u64)> {
    let row = table(lab, "r1", "rip").into_iter().find(|r| {
        r.get("DESTINATION").and_then(|d| d.as_str()) == Some(&format!("neighbour {FRR_ADDR}"))
    })?;
    let text = row.get("SOURCE")?.as_str()?;
    let (messages, routes) = text.split_once(", ")?;
    Some((
        messages.strip_prefix("bad messages ")?.parse().ok()?,
        routes.strip_prefix("bad routes ")?.parse().ok()?,
    ))
}

/// Stops the capture once it holds a RIP response from each side, and
/// reads it back with tshark. Returns how many requests FRR sent without
/// the authentication entry while `password` was set (ripd sends its
/// requests unauthenticated; RFC 2453 §4.1 has them discarded).
fn check_capture(t: &mut FrrLab, password: Option<&str>) -> u64 {
    let file = t.capture_file.display().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = sh(
            "tshark",
            &[
                "-r",
                &file,
                "-Y",
                "rip.command == 2",
                "-T",
                "fields",
                "-e",
                "ip.src",
            ],
        );
        let from = |a: &str| seen.stdout.lines().any(|l| l == a);
        if from("10.0.99.1") && from(FRR_ADDR) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no RIP response from both sides in the capture: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // SIGINT: dumpcap finishes the file.
    t.capture.stop("-INT");
    let tshark = |filter: &str, fields: &[&str]| {
        let mut args = vec![
            "-r",
            &file,
            "-o",
            "udp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
            "-Y",
            filter,
            "-T",
            "fields",
        ];
        for f in fields {
            args.extend(["-e", f]);
        }
        let run = sh("tshark", &args);
        assert_eq!(run.code, 0, "tshark -Y {filter}: {run:?}");
        run.stdout.lines().map(str::to_string).collect::<Vec<_>>()
    };
    let all = tshark("frame", &["frame.number"]);
    let malformed = tshark(
        "_ws.malformed || _ws.expert.severity == \"Error\"",
        &["frame.number"],
    );
    assert!(
        malformed.is_empty(),
        "malformed frames {malformed:?} of {}",
        all.len()
    );
    let bad = tshark(
        "udp.checksum.status == \"Bad\" || ip.checksum.status == \"Bad\"",
        &["frame.number", "ip.src"],
    );
    assert!(bad.is_empty(), "bad checksums: {bad:?}");
    let rip = tshark(
        "rip",
        &[
            "ip.src",
            "ip.dst",
            "udp.srcport",
            "rip.command",
            "rip.version",
            "rip.ip",
            "rip.metric",
            "rip.auth.passwd",
            "udp.checksum.status",
        ],
    );
    let rows: Vec<Vec<&str>> = rip.iter().map(|l| l.split('\t').collect()).collect();
    let from = |a: &str| rows.iter().filter(|r| r[0] == a).collect::<Vec<_>>();
    eprintln!(
        "capture: {} frames, {} RIP ({} from vnet's r1, {} from FRR), none malformed, no bad checksum",
        all.len(),
        rows.len(),
        from("10.0.99.1").len(),
        from(FRR_ADDR).len()
    );
    let mut unauthenticated = 0;
    for row in &rows {
        assert_eq!(row[2], "520", "RIP from port 520: {row:?}");
        assert_eq!(row[4], "2", "RIPv2 only: {row:?}");
        // A checksum was computed and verified (not absent or unverified).
        assert_eq!(row[8], "1", "UDP checksum good: {row:?}");
        let frr_request = row[0] == FRR_ADDR && row[3] == "1";
        if frr_request && password.is_some() && row[7].is_empty() {
            unauthenticated += 1;
        } else {
            assert_eq!(row[7], password.unwrap_or(""), "password in {row:?}");
        }
    }
    // Routes in the responses, as (network, metric) per sender.
    let advertised = |sender: &str| -> Vec<(String, String)> {
        from(sender)
            .into_iter()
            .filter(|r| r[3] == "2")
            .flat_map(|r| {
                r[5].split(',')
                    .zip(r[6].split(','))
                    .map(|(a, m)| (a.to_string(), m.to_string()))
            })
            .collect()
    };
    let vnet = advertised("10.0.99.1");
    let frr = advertised(FRR_ADDR);
    // ripd's start-up request for the whole table (RFC 2453 §3.9.1) is
    // answered directly, to ripd's address and port 520, unless vnet had
    // to drop it as unauthenticated.
    let answered = rows
        .iter()
        .any(|r| r[0] == "10.0.99.1" && r[1] == FRR_ADDR && r[3] == "2");
    assert_eq!(answered, unauthenticated == 0, "{rip:#?}");
    // vnet: its networks with hop counts, FRR's network poisoned back
    // (split horizon with poisoned reverse, RFC 2453 §3.4.3).
    for want in [
        ("10.0.1.0", "1"),
        ("10.0.12.0", "1"),
        ("10.0.2.0", "2"),
        ("192.168.77.0", "16"),
    ] {
        assert!(
            vnet.iter().any(|(a, m)| (a.as_str(), m.as_str()) == want),
            "vnet did not advertise {want:?}: {vnet:?}"
        );
    }
    // FRR: its stub network, and (simple split horizon) none of vnet's.
    assert!(
        frr.iter().any(|(a, m)| a == "192.168.77.0" && m == "1"),
        "{frr:?}"
    );
    assert!(
        !frr.iter()
            .any(|(a, _)| a.starts_with("10.0.1.") || a == "10.0.12.0" || a == "10.0.2.0"),
        "FRR's split horizon: {frr:?}"
    );
    unauthenticated
}

/// The deletion process across the two implementations (RFC 2453 §3.8):
/// the namespace's stub link goes down, ripd advertises it with metric 16
/// and r1 withdraws its route; h2's link goes down, r2 poisons 10.0.2.0/24,
/// r1 passes that on, and ripd and the kernel drop it.
fn withdrawals(t: &FrrLab) {
    let down = sh("ip", &["-n", &t.ns.0, "link", "set", "stub0", "down"]);
    assert_eq!(down.code, 0, "{down:?}");
    let start = Instant::now();
    loop {
        let r1 = vnet_rip_route(&t.lab, "r1", STUB);
        let rip = t.lab.vnet(&["show", "r1", "rip"]).stdout;
        let poisoned = rip
            .lines()
            .any(|l| l.starts_with(STUB) && l.split_whitespace().nth(1) == Some("16"));
        if r1.is_none() && poisoned {
            eprintln!(
                "stub0 down: r1 withdrew {STUB} (metric 16) after {:.1?}",
                start.elapsed()
            );
            break;
        }
        assert!(
            start.elapsed() < LEARN_LIMIT,
            "r1 still routes {STUB} after stub0 went down: {r1:?}\n{rip}\n{}",
            t.frr.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let down = t.lab.vnet(&["link", "down", "r2:eth1"]);
    assert_eq!(down.code, 0, "{down:?}");
    let start = Instant::now();
    loop {
        let frr = t.frr.rip_routes();
        let kernel = sh("ip", &["-n", &t.ns.0, "route", "show", "proto", "rip"]).stdout;
        let frr_gone = frr.iter().all(|(n, _, m)| n != "10.0.2.0/24" || *m == 16);
        let kernel_gone = !kernel.lines().any(|l| l.starts_with("10.0.2.0/24 "));
        if frr_gone && kernel_gone {
            eprintln!(
                "r2:eth1 down: ripd and the kernel dropped 10.0.2.0/24 after {:.1?}",
                start.elapsed()
            );
            break;
        }
        assert!(
            start.elapsed() < LEARN_LIMIT,
            "ripd still routes 10.0.2.0/24 after r2:eth1 went down: {frr:?}\n{kernel}\n{}",
            t.lab.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn interop(test: &str, password: Option<&str>) {
    let Some(mut t) = frr_lab(test, password, password) else {
        return;
    };
    let (frr_at, r1_at, r2_at) = wait_converged(&t);
    eprintln!(
        "after starting FRR: FRR had vnet's networks in {frr_at:.1?}, r1 had {STUB} in {r1_at:.1?}, r2 in {r2_at:.1?}"
    );
    eprintln!("--- FRR show ip rip\n{}", t.frr.vtysh("show ip rip").stdout);
    eprintln!(
        "--- vnet show r1 rip\n{}",
        t.lab.vnet(&["show", "r1", "rip"]).stdout
    );
    let kernel = wait_kernel_routes(&t);
    eprintln!("--- ip route show proto rip (namespace)\n{kernel}");

    // End to end: the namespace has no default route, so its replies
    // follow the routes ripd learned from vnet.
    for host in ["h1", "h2"] {
        let ping = t.lab.exec(host, &["ping", "-c", "2", "-W", "2", STUB_HOST]);
        assert!(
            ping.stdout.contains(" 0% packet loss"),
            "{host}: {ping:?}\n{}",
            t.frr.logs()
        );
    }

    if password.is_none() {
        withdrawals(&t);
    }
    let unauthenticated = check_capture(&mut t, password);
    // Neither side found anything wrong in the other's messages, except
    // that vnet drops ripd's unauthenticated requests when a password is
    // set (RFC 2453 §4.1); ripd's responses carry the password.
    let frr_bad = t.frr.rip_bad_counts("10.0.99.1");
    assert_eq!(
        frr_bad,
        Some((0, 0)),
        "FRR's bad packets/routes from r1: {}",
        t.frr.vtysh("show ip rip status").stdout
    );
    let vnet_bad = vnet_bad_counts(&t.lab);
    assert_eq!(
        vnet_bad,
        Some((unauthenticated, 0)),
        "{}",
        t.lab.vnet(&["show", "r1", "rip"]).stdout
    );
}

#[test]
fn frr_ripd_and_vnet_exchange_routes_and_carry_traffic() {
    interop("frr_ripd_and_vnet_exchange_routes_and_carry_traffic", None);
}

#[test]
fn frr_ripd_and_vnet_agree_on_simple_password_authentication() {
    interop(
        "frr_ripd_and_vnet_agree_on_simple_password_authentication",
        Some("vnet-frr"),
    );
}

/// Different passwords: each side counts the other's messages bad and
/// learns nothing from them.
#[test]
fn frr_ripd_and_vnet_with_different_passwords_learn_nothing() {
    let test = "frr_ripd_and_vnet_with_different_passwords_learn_nothing";
    let Some(t) = frr_lab(test, Some("vnet-side"), Some("frr-side")) else {
        return;
    };
    // Poll until each side has rejected at least one response of the
    // other (vnet: ripd's request and a response; ripd: a response).
    loop {
        let frr_bad = t.frr.rip_bad_counts("10.0.99.1");
        let vnet_bad = vnet_bad_counts(&t.lab);
        let rejected = frr_bad.is_some_and(|(packets, _)| packets >= 1)
            && vnet_bad.is_some_and(|(messages, _)| messages >= 2);
        if rejected {
            eprintln!(
                "after {:.1?}: FRR's bad packets/routes from r1 {frr_bad:?}, r1's from FRR {vnet_bad:?}",
                t.started.elapsed()
            );
            break;
        }
        assert!(
            t.started.elapsed() < LEARN_LIMIT,
            "not rejected after {LEARN_LIMIT:?}: FRR {frr_bad:?}, vnet {vnet_bad:?}\n{}\n{}",
            t.lab.vnet(&["show", "r1", "rip"]).stdout,
            t.frr.vtysh("show ip rip status").stdout
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        t.frr.rip_routes(),
        vec![],
        "FRR learned from a wrong password"
    );
    assert_eq!(
        vnet_rip_route(&t.lab, "r1", STUB),
        None,
        "r1 learned from a wrong password"
    );
}
