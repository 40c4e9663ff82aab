//! The CLI never panics on a closed pipe (`vnet status | head -1`): it ends
//! quietly with 141 (128 + SIGPIPE), the status a shell shows for a C tool
//! killed by SIGPIPE, not with Rust's "failed printing to stdout" (101).

mod common;

use common::{LabRun, vnet_bin};
use std::process::{Command, Stdio};

/// Runs `vnet --run-dir DIR ARGS…` with a stdout nobody reads: the read
/// end of its pipe is closed before it starts, so its first write fails
/// with EPIPE every time. Returns the exit code and stderr.
fn with_closed_stdout(lab: &LabRun, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = Command::new(vnet_bin())
        .arg("--run-dir")
        .arg(lab.dir.path())
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("vnet runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_the_cli_quietly() {
    let lab = LabRun::default_lab();
    for args in [
        &["status"][..],
        &["show", "r1", "routes"],
        &[
            "exec",
            "client",
            "--",
            "ping",
            "-c",
            "3",
            "-i",
            "0.2",
            "10.0.3.10",
        ],
        // The ping above leaves a trace at the lab's collector (exported
        // within 200 ms: --wait until it is there).
        &["trace", "show", "last", "--wait", "10"],
    ] {
        let (code, stderr) = with_closed_stdout(&lab, args);
        assert_eq!(code, Some(141), "vnet {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "vnet {args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "vnet {args:?}: {stderr}");
    }

    // The shell pipeline of the issue, as a user types it.
    let script = format!(
        "'{}' --run-dir '{}' status | head -1; echo \"status=${{PIPESTATUS[0]}}\"",
        vnet_bin(),
        lab.dir.path().display()
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.starts_with("lab "), "{stdout}{stderr}");
    assert!(!stdout.contains("status=101"), "{stdout}{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
