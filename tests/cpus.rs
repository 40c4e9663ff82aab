//! Pinning devices to CPUs: `vnet up --cpus LIST` pins every device (each
//! of its threads), a topology's per-device `cpus` pins one, a restarted
//! device keeps its CPUs, and CPUs the machine does not have are refused
//! before anything starts.

mod common;

use common::{LabRun, generate_chain, vnet_bin};
use std::path::Path;
use std::process::Command;

/// The devices' pids from the lab's state.json, by name.
fn pids(lab: &LabRun) -> Vec<(String, u32)> {
    let text = std::fs::read_to_string(lab.dir.path().join("state.json")).expect("state.json");
    let state: serde_json::Value = serde_json::from_str(&text).expect("state JSON");
    state["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| {
            let name = d["name"].as_str().expect("name").to_string();
            (name, d["pid"].as_u64().expect("pid") as u32)
        })
        .collect()
}

/// `Cpus_allowed_list` of every thread of `pid`, deduplicated.
fn allowed_cpus(pid: u32) -> Vec<String> {
    let mut lists: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("tasks")
        .filter_map(|task| {
            let status = std::fs::read_to_string(task.ok()?.path().join("status")).ok()?;
            status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(|v| v.trim().to_string())
        })
        .collect();
    lists.sort();
    lists.dedup();
    lists
}

fn own_cpus() -> String {
    allowed_cpus(std::process::id())
        .pop()
        .expect("this test's own CPU list")
}

#[test]
fn vnet_up_cpus_pins_every_thread_of_every_device() {
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = generate_chain(dir.path(), 2);
    let lab = LabRun::up_flags(&topology, &["--cpus", "0"]);
    let devices = pids(&lab);
    assert_eq!(devices.len(), 6, "client, sw1, c1, c2, sw2, web");
    for (name, pid) in &devices {
        assert_eq!(allowed_cpus(*pid), vec!["0"], "{name} (pid {pid})");
    }
    let ping = lab.exec("client", &["ping", "-c", "2", "-i", "0.2", "10.0.3.10"]);
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");
    let status = lab.vnet(&["status"]);
    assert!(
        status
            .stdout
            .contains("\ncpus       every device on CPUs 0\n"),
        "{status:?}"
    );
}

#[test]
fn a_device_pinned_in_the_topology_keeps_its_cpu_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = generate_chain(dir.path(), 2);
    let text = std::fs::read_to_string(&topology).expect("topology");
    let pinned = text.replacen(
        "[devices.c1]\nkind = \"router\"\n",
        "[devices.c1]\nkind = \"router\"\ncpus = \"0\"\n",
        1,
    );
    assert_ne!(pinned, text, "the chain has a c1 to pin");
    std::fs::write(&topology, pinned).expect("write");
    let lab = LabRun::up(&topology);
    let everyone = own_cpus();
    for (name, pid) in pids(&lab) {
        let expected = if name == "c1" { "0" } else { everyone.as_str() };
        assert_eq!(allowed_cpus(pid), vec![expected], "{name}");
    }
    let status = lab.vnet(&["status"]);
    assert!(
        status
            .stdout
            .contains("\ncpus       c1 on 0; the others on any\n"),
        "{status:?}"
    );
    let restart = lab.vnet(&["restart", "c1"]);
    assert_eq!(restart.code, 0, "{restart:?}");
    let (_, c1) = pids(&lab).into_iter().find(|(n, _)| n == "c1").expect("c1");
    assert_eq!(allowed_cpus(c1), vec!["0"], "c1 after its restart");
}

/// `vnet up ARGS` in a fresh run directory.
fn up(topology: &Path, args: &[&str]) -> (tempfile::TempDir, common::Run) {
    let run_dir = tempfile::tempdir().expect("run dir");
    let run = Command::new(vnet_bin())
        .arg("--run-dir")
        .arg(run_dir.path())
        .arg("up")
        .arg(topology)
        .args(args)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()
        .expect("vnet runs")
        .into();
    (run_dir, run)
}

#[test]
fn cpus_the_machine_lacks_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = generate_chain(dir.path(), 1);

    let (run_dir, run) = up(&topology, &["--cpus", "0,1000"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "error: --cpus: cpus = \"0,1000\": not online: 1000 (this machine's online CPUs: "
        ),
        "{run:?}"
    );
    assert!(run.stderr.contains("nothing was started"), "{run:?}");
    assert!(!run_dir.path().join("state.json").exists());

    let (_, run) = up(&topology, &["--cpus", "2-1"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("the range \"2-1\" runs backwards"),
        "{run:?}"
    );

    let text = std::fs::read_to_string(&topology).expect("topology");
    let bad = text.replacen(
        "[devices.c1]\nkind = \"router\"\n",
        "[devices.c1]\nkind = \"router\"\ncpus = \"zero\"\n",
        1,
    );
    std::fs::write(&topology, bad).expect("write");
    let (_, run) = up(&topology, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("devices.c1.cpus")
            && run.stderr.contains("\"zero\" is not a CPU number or range"),
        "{run:?}"
    );
}
