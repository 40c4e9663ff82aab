//! The `vnet` CLI as a user meets it: errors before anything starts,
//! captures that Wireshark reads, devices run as `vnet device KIND`.

mod common;

use common::{LabRun, Run, repo_path, vnet_bin};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn vnet_in(dir: &std::path::Path, args: &[&str]) -> Run {
    Command::new(vnet_bin())
        .arg("--run-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("vnet runs")
        .into()
}

#[test]
fn topology_errors_name_file_line_and_field_and_start_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original = std::fs::read_to_string(repo_path("configs/lab.toml")).expect("default lab");
    let cases = [
        (
            original.replace(r#"b = "r3:eth0", mtu = 576"#, r#"b = "r9:eth0", mtu = 576"#),
            "links[5].b",
            "unknown device \"r9\"",
        ),
        (
            original.replace(
                r#"{ a = "laptop:eth0",      b = "sw1:eth1" }"#,
                r#"{ a = "laptop:eth0",      b = "sw1:eth0" }"#,
            ),
            "links[1].b",
            "already used",
        ),
        (
            original.replace(
                r#"interfaces.eth1 = { address = "10.0.12.1/30" }"#,
                r#"interfaces.eth1 = { address = "10.0.1.200/30" }"#,
            ),
            "devices.r1.interfaces.eth1.address",
            "overlaps",
        ),
        (
            original.replacen("kind = \"switch\"\n", "\n", 1),
            "",
            "missing field `kind`",
        ),
        (
            original.replace(
                r#"zones = ["zones/com.zone"]"#,
                r#"zones = ["zones/con.zone"]"#,
            ),
            "devices.dns-com.zones[0]",
            "cannot read zone file",
        ),
    ];
    for (text, field, message) in cases {
        assert_ne!(
            text, original,
            "the case must change the lab (field {field:?})"
        );
        let (_variant, file) = common::lab_variant(&text);
        let run = vnet_in(
            &dir.path().join("run"),
            &["up", file.to_str().expect("utf8")],
        );
        assert_eq!(run.code, 2, "{run:?}");
        let first = run.stderr.lines().next().unwrap_or_default();
        let prefix = format!("error: {}:", file.display());
        assert!(
            first.starts_with(&prefix),
            "error must start with the file and line: {first:?}"
        );
        let line_no: usize = first[prefix.len()..]
            .split(':')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(line_no > 0, "no line number in {first:?}");
        assert!(
            first.contains(field) && first.contains(message),
            "{first:?} should name {field:?} and say {message:?}"
        );
        assert!(run.stderr.contains("nothing was started"), "{run:?}");
        assert!(
            !dir.path().join("run/state.json").exists(),
            "no lab may be recorded"
        );
    }
}

#[test]
fn every_bad_zone_file_is_reported_before_anything_starts() {
    let original = std::fs::read_to_string(repo_path("configs/lab.toml")).expect("default lab");
    let (variant, file) = common::lab_variant(&original);
    let zones = variant.path().join("zones");
    for (name, from, to) in [
        (
            "com.zone",
            "ns          IN A    10.0.3.21",
            "ns          IN A    10.0.3",
        ),
        (
            "example.com.zone",
            "www         IN A    10.0.3.10",
            "www         IN A    10.0.3.300",
        ),
    ] {
        let path = zones.join(name);
        let text = std::fs::read_to_string(&path).expect("zone");
        assert!(text.contains(from), "{name} changed: update this test");
        std::fs::write(&path, text.replace(from, to)).expect("write zone");
    }
    let run_dir = variant.path().join("run");
    let run = vnet_in(&run_dir, &["up", file.to_str().expect("utf8")]);
    assert_eq!(run.code, 2, "{run:?}");
    for (zone, line, field, bad) in [
        ("com.zone", 7, "devices.dns-com.zones[0]", "10.0.3"),
        (
            "example.com.zone",
            12,
            "devices.dns-example.zones[0]",
            "10.0.3.300",
        ),
    ] {
        let prefix = format!("error: {}:{line}: {field}: ", zones.join(zone).display());
        let found = run.stderr.lines().find(|l| l.starts_with(&prefix));
        assert!(
            found.is_some_and(|l| l.contains(&format!("{bad:?}"))),
            "expected a line starting {prefix:?} naming {bad:?}: {run:?}"
        );
    }
    assert!(run.stderr.contains("nothing was started"), "{run:?}");
    assert!(
        !run_dir.join("state.json").exists(),
        "no lab may be recorded"
    );
    assert!(
        !run_dir.join("logs").exists(),
        "no device may have been started (it would have a log): {run:?}"
    );
}

#[test]
fn type_errors_name_the_field_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original = std::fs::read_to_string(repo_path("configs/lab.toml")).expect("default lab");
    let text = original.replace(
        r#"b = "r3:eth0", mtu = 576"#,
        r#"b = "r3:eth0", mtu = 100000"#,
    );
    assert_ne!(text, original, "links[5] changed: update this test");
    let at = text.find("100000").expect("value");
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    let (_variant, file) = common::lab_variant(&text);
    let run = vnet_in(
        &dir.path().join("run"),
        &["up", file.to_str().expect("utf8")],
    );
    assert_eq!(run.code, 2, "{run:?}");
    let expected = format!(
        "error: {}:{line}:{column}: links[5].mtu: invalid value: integer `100000`, expected u16",
        file.display()
    );
    assert_eq!(
        run.stderr.lines().next(),
        Some(expected.as_str()),
        "{run:?}"
    );
    assert!(run.stderr.contains("nothing was started"), "{run:?}");
}

#[test]
fn a_topology_without_devices_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for text in ["", "name = \"empty\"\nlinks = []\n"] {
        let (_variant, file) = common::lab_variant(text);
        let run = vnet_in(
            &dir.path().join("run"),
            &["up", file.to_str().expect("utf8")],
        );
        assert_eq!(run.code, 2, "{run:?}");
        let expected = format!(
            "error: {}: the topology has no devices: add a [devices.NAME] table",
            file.display()
        );
        assert!(
            run.stderr
                .lines()
                .next()
                .is_some_and(|l| l.starts_with(&expected)),
            "{run:?}"
        );
        assert!(run.stderr.contains("nothing was started"), "{run:?}");
        assert!(!dir.path().join("run/state.json").exists(), "{run:?}");
    }
}

#[test]
fn commands_without_a_lab_explain_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = vnet_in(dir.path(), &["status"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("no lab is running") && run.stderr.contains("vnet up"),
        "{run:?}"
    );
    let run = vnet_in(dir.path(), &["down"]);
    assert_eq!(run.code, 0, "down without a lab is a no-op: {run:?}");
    let run = vnet_in(dir.path(), &["link", "down", "r2"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("DEVICE:INTERFACE"), "{run:?}");
}

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn capture_writes_pcapng_that_tshark_reads_cleanly() {
    // Devices run as `vnet device KIND` here (no --bin-dir): the default path.
    let lab = LabRun::up_with(&repo_path("configs/lab.toml"), false);
    let file = lab.dir.path().join("r1-eth1.pcapng");
    let mut capture = Command::new(vnet_bin())
        .arg("--run-dir")
        .arg(lab.dir.path())
        .args([
            "capture",
            "r1:eth1",
            "-w",
            file.to_str().expect("utf8"),
            "-c",
            "10",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("capture starts");
    // Wait until the device reports the capture subscriber.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = lab.status("r1");
        if status["interfaces"][1]["captures"].as_u64() == Some(1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "capture never attached: {status}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = lab.exec("client", &["ping", "-c", "5", "-i", "0.1", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}");
    let status = capture.wait().expect("capture ends after 10 frames");
    assert!(status.success());
    let bytes = std::fs::read(&file).expect("capture file");
    assert!(
        bytes.len() > 10 * 60,
        "capture too small: {} bytes",
        bytes.len()
    );

    if !tshark_available() {
        common::tap::skip_or_fail("tshark check", "tshark is not installed (CI installs it)");
        return;
    }
    let out = Command::new("tshark")
        .args(["-o", "eth.check_fcs:TRUE", "-r"])
        .arg(&file)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.protocols",
            "-e",
            "eth.fcs.status",
            "-e",
            "_ws.malformed",
        ])
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10, "{text}");
    let icmp = lines
        .iter()
        .filter(|l| l.starts_with("eth:ethertype:ip:icmp"))
        .count();
    assert!(icmp >= 6, "expected the pings in the capture: {text}");
    for line in &lines {
        let known =
            line.starts_with("eth:ethertype:ip:icmp") || line.starts_with("eth:ethertype:arp");
        assert!(known, "unexpected frame: {line}");
        assert!(
            !line.to_lowercase().contains("malformed"),
            "malformed frame: {line}"
        );
        let fcs_status = line.split('\t').nth(1).unwrap_or_default();
        assert_eq!(
            fcs_status, "1",
            "FCS must verify as good (status 1): {line}"
        );
    }
}

#[test]
fn capture_dir_in_the_topology_records_every_interface() {
    let text = std::fs::read_to_string(repo_path("configs/lab.toml"))
        .expect("default lab")
        .replacen(
            "name = \"lab\"",
            "name = \"lab\"\ncapture_dir = \"captures\"",
            1,
        );
    let (_variant, topology) = common::lab_variant(&text);
    let lab = LabRun::up(&topology);
    let run = lab.exec("client", &["ping", "-c", "2", "-i", "0.2", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}");
    let captures = lab.dir.path().join("captures");
    // Every interface of every device has its own file.
    for name in [
        "client-eth0",
        "sw1-eth0",
        "sw1-eth1",
        "sw1-eth2",
        "r1-eth0",
        "r1-eth1",
        "r2-eth0",
        "r2-eth1",
        "r3-eth0",
        "r3-eth1",
        "sw2-eth0",
        "sw2-eth1",
        "web-eth0",
        "laptop-eth0",
    ] {
        assert!(
            captures.join(format!("{name}.pcapng")).is_file(),
            "{name}.pcapng missing"
        );
    }
    // Files are flushed as frames arrive: r2-eth1 already holds the pings.
    let file = captures.join("r2-eth1.pcapng");
    let deadline = Instant::now() + Duration::from_secs(5);
    let frames = loop {
        let bytes = std::fs::read(&file).expect("capture file");
        let mut reader = pcap_file::pcapng::PcapNgReader::new(&bytes[..]).expect("pcapng header");
        let mut frames = 0;
        while let Some(Ok(block)) = reader.next_block() {
            if matches!(block, pcap_file::pcapng::Block::EnhancedPacket(_)) {
                frames += 1;
            }
        }
        if frames >= 4 || Instant::now() > deadline {
            break frames;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        frames >= 4,
        "two echo requests and two replies cross r2:eth1, saw {frames} frames"
    );
}

#[test]
fn committed_compose_file_is_the_generated_default_lab() {
    let out = Command::new(vnet_bin())
        .args(["gen", "compose"])
        .arg(repo_path("configs/lab.toml"))
        .output()
        .expect("vnet gen compose runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).expect("utf8");
    let committed = std::fs::read_to_string(repo_path("docker-compose.yml"))
        .expect("docker-compose.yml exists");
    // The header records the command line; the rest must match exactly.
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        body(&committed),
        body(&generated),
        "docker-compose.yml is stale: run `vnet gen compose configs/lab.toml -o docker-compose.yml`"
    );
}

#[test]
fn committed_offline_override_is_the_generated_one() {
    let out = Command::new(vnet_bin())
        .args(["gen", "compose", "--offline-override"])
        .arg(repo_path("configs/lab.toml"))
        .output()
        .expect("vnet gen compose runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        generated.contains("command: [\"/vnet-collector\", \"--listen\", \"0.0.0.0:4318\"]"),
        "{generated}"
    );
    let committed = std::fs::read_to_string(repo_path("docker-compose.offline.yml"))
        .expect("docker-compose.offline.yml exists");
    // The header records the command line; the rest must match exactly.
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        body(&committed),
        body(&generated),
        "docker-compose.offline.yml is stale: run \
         `vnet gen compose configs/lab.toml --offline-override -o docker-compose.offline.yml`"
    );
}

#[test]
fn generated_chain_topology_runs_locally() {
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = common::generate_chain(dir.path(), 5);
    let lab = LabRun::up(&topology);
    let run = lab.exec("client", &["traceroute", "-w", "2", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.lines().skip(1).count(),
        6,
        "five routers, then web: {run:?}"
    );
    assert!(
        run.stdout
            .lines()
            .last()
            .unwrap_or_default()
            .contains("10.0.3.10 (10.0.3.10)"),
        "{run:?}"
    );
}
