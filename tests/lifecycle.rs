//! Device lifecycle with real processes: a router killed mid-transfer and
//! restarted with `vnet restart`, a DHCP server that keeps its leases
//! across a restart, a paused (SIGSTOP) device, and a `vnet down` that
//! leaves no process of the lab behind — checked by scanning the process
//! table for the run directory.

mod common;

use common::LabRun;
use std::path::Path;
use std::time::{Duration, Instant};

/// The processes whose command line mentions `dir` (the lab's run directory).
fn processes_of(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'));
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            !zombie && String::from_utf8_lossy(&cmd).contains(&needle)
        })
        .collect()
}

/// `vnet status --json` entry of `device`.
fn device_state(lab: &LabRun, device: &str) -> (String, serde_json::Value) {
    let all = lab.status_all();
    let d = all
        .as_array()
        .and_then(|a| a.iter().find(|d| d["name"] == device))
        .cloned()
        .unwrap_or_else(|| panic!("{device} in {all}"));
    (d["state"].as_str().unwrap_or_default().to_string(), d)
}

fn pid_of(lab: &LabRun, device: &str) -> i32 {
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lab.dir.path().join("state.json")).expect("state.json"),
    )
    .expect("state JSON");
    state["devices"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["name"] == device))
        .and_then(|d| d["pid"].as_i64())
        .expect("pid") as i32
}

#[test]
fn a_killed_router_restarts_and_the_transfer_completes_byte_exact() {
    let lab = LabRun::default_lab();
    assert_eq!(lab.vnet(&["status"]).code, 0, "all up at first");
    let transfer = lab.start_transfer("server", "client", "10.0.3.30:5001", "16M");
    let deadline = Instant::now() + Duration::from_secs(20);
    while lab.device_counter("server", "tcp_rx") < 200 {
        assert!(
            Instant::now() < deadline,
            "the transfer never started\n{}",
            lab.logs()
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // A crash: SIGKILL from outside, as `kill -9` would.
    let old_pid = pid_of(&lab, "r2");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(old_pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill -9 r2");
    let deadline = Instant::now() + Duration::from_secs(5);
    let (state, _) = loop {
        let s = device_state(&lab, "r2");
        if s.0 == "exited" || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(state, "exited", "a killed device is reported as exited");
    let during = lab.vnet(&["status"]);
    assert_eq!(
        during.code, 3,
        "status fails while a device is down: {during:?}"
    );
    assert!(
        during.stdout.contains("r2 exited; last lines of"),
        "{}",
        during.stdout
    );

    let restart = lab.vnet(&["restart", "r2"]);
    assert_eq!(restart.code, 0, "{restart:?}");
    assert!(restart.stdout.contains("r2: started"), "{}", restart.stdout);
    let (state, r2) = device_state(&lab, "r2");
    assert_eq!(state, "running");
    assert_eq!(r2["restarts"], 1);
    assert_ne!(pid_of(&lab, "r2"), old_pid);

    transfer.finish_byte_exact(16 << 20, Duration::from_secs(120), &lab.logs());
    assert_eq!(lab.vnet(&["status"]).code, 0, "all up again");

    // `vnet down` leaves nothing behind, even a device started by hand.
    let run_dir = std::fs::canonicalize(lab.dir.path()).expect("run dir");
    assert!(
        !processes_of(&run_dir).is_empty(),
        "the lab's processes are visible"
    );
    let down = lab.vnet(&["down"]);
    assert_eq!(down.code, 0, "{down:?}");
    assert_eq!(
        processes_of(&run_dir),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn dhcp_leases_survive_a_router_restart_and_a_paused_device_is_told_apart() {
    let lab = LabRun::default_lab();
    let leases = lab.vnet(&["show", "r1", "leases"]);
    assert!(leases.stdout.contains("10.0.1.100"), "{leases:?}");
    let stop = lab.vnet(&["stop", "r1"]);
    assert_eq!(stop.code, 0, "{stop:?}");
    assert_eq!(device_state(&lab, "r1").0, "stopped");
    let start = lab.vnet(&["start", "r1"]);
    assert_eq!(start.code, 0, "{start:?}");
    // Straight after the restart, before any renewal: the lease is back.
    let leases = lab.vnet(&["show", "r1", "leases"]);
    assert!(
        leases.stdout.contains("10.0.1.100"),
        "lease lost in the restart: {leases:?}"
    );
    assert!(leases.stdout.contains("bound"), "{leases:?}");
    let addr = lab.exec("client", &["ip", "addr"]);
    assert!(addr.stdout.contains("10.0.1.100"), "{addr:?}");
    let ping = lab.exec("client", &["ping", "-c", "2", "-i", "0.2", "10.0.1.1"]);
    assert!(ping.stdout.contains(" 0% packet loss"), "{ping:?}");

    // SIGSTOP: alive but silent; status says so at once and fails.
    let pid = nix::unistd::Pid::from_raw(pid_of(&lab, "sw2"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).expect("SIGSTOP");
    let started = Instant::now();
    let (state, _) = device_state(&lab, "sw2");
    assert_eq!(state, "paused (SIGSTOP)");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "status waited for a paused device"
    );
    assert_eq!(lab.vnet(&["status"]).code, 3);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).expect("SIGCONT");
    assert_eq!(device_state(&lab, "sw2").0, "running");

    // The collector has the same verbs; status fails while it is down.
    assert_eq!(lab.vnet(&["stop", "collector"]).code, 0);
    let status = lab.vnet(&["status"]);
    assert_eq!(status.code, 3, "{status:?}");
    assert!(status.stdout.contains("STOPPED"), "{}", status.stdout);
    assert_eq!(lab.vnet(&["start", "collector"]).code, 0);
    assert_eq!(lab.vnet(&["status"]).code, 0);
}
