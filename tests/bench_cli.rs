//! `vnet bench chain` as a user runs it, on short chains: every column is
//! measured (vnet, the bare relay processes that are the floor of a
//! process hop, and the kernel's netns chain), the per-router slope is
//! printed, and an unimpaired path retransmits nothing. Figures are not
//! judged here: benchmarks print them, tests check they exist.

mod common;

use common::vnet_bin;
use std::process::Command;

/// The tokens of the table row for chain length `n`.
fn row(stdout: &str, n: usize) -> Vec<String> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .find(|t| t.first().map(String::as_str) == Some(&n.to_string()) && t.len() > 12)
        .unwrap_or_else(|| panic!("no row for N = {n} in:\n{stdout}"))
}

/// The number just before the `nth` (0-based) occurrence of `unit`.
fn before_unit(tokens: &[String], unit: &str, nth: usize) -> f64 {
    let at = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.as_str() == unit)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no {unit} #{nth} in {tokens:?}"));
    tokens[at - 1]
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{:?} before {unit}: {e}", tokens[at - 1]))
}

#[test]
fn bench_chain_measures_vnet_the_relay_floor_and_the_kernel_side_by_side() {
    let out = Command::new(vnet_bin())
        .args(["bench", "chain", "--routers", "1,2", "--bytes", "1M"])
        .output()
        .expect("vnet bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench failed:\n{stdout}\n{stderr}");
    for n in [1, 2] {
        let tokens = row(&stdout, n);
        let vnet_rtt = before_unit(&tokens, "ms", 0);
        let goodput = before_unit(&tokens, "Mbit/s", 0);
        // The columns after the PSS (second "MiB"): relay RTT in ms.
        let relay_rtt = before_unit(&tokens, "ms", 1);
        assert!(vnet_rtt > 0.0 && relay_rtt > 0.0, "{tokens:?}");
        assert!(goodput > 0.0, "{tokens:?}");
        // A clean path: no retransmissions (the column after Mbit/s).
        let mbit_at = tokens.iter().position(|t| t == "Mbit/s").unwrap_or(0);
        assert_eq!(
            tokens[mbit_at + 1],
            "0",
            "retransmissions on a clean path: {tokens:?}"
        );
    }
    assert!(
        stdout.contains("added RTT per router (N 1 -> 2): vnet ")
            && stdout.contains(" us, bare relay processes "),
        "no per-router slope:\n{stdout}"
    );
    let kernel_left_out = stdout.contains("kernel column left out");
    if kernel_left_out {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs as root with ip, ping and nc:\n{stdout}"
        );
        eprintln!("skipping the kernel column's checks: {stdout}");
    } else {
        assert!(stdout.contains(", kernel "), "{stdout}");
    }
}

#[test]
fn bench_chain_runs_on_the_cpus_it_is_given_and_refuses_missing_ones() {
    let out = Command::new(vnet_bin())
        .args([
            "bench",
            "chain",
            "--routers",
            "1",
            "--bytes",
            "256K",
            "--cpus",
            "0",
        ])
        .output()
        .expect("vnet bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("everything on CPUs 0 (--cpus)"),
        "the header names the CPUs:\n{stdout}"
    );
    assert!(before_unit(&row(&stdout, 1), "Mbit/s", 0) > 0.0, "{stdout}");

    let out = Command::new(vnet_bin())
        .args(["bench", "chain", "--routers", "1", "--cpus", "0,1000"])
        .output()
        .expect("vnet bench runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "CPU 1000 accepted: {stderr}");
    assert!(
        stderr.contains("--cpus") && stderr.contains("not online: 1000"),
        "{stderr}"
    );
}
