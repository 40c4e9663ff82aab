//! A Linux network namespace plugged into the default lab through a
//! `tap:NAME` link end on sw2 (10.0.3.99/24, default route via r3), for
//! tests where the real kernel and real tools (ping, nc, curl, dig, hping3)
//! talk to vnet devices.
//!
//! Needs /dev/net/tun, CAP_NET_ADMIN and the tools; without them a test
//! prints why and skips, except under `CI=true`, where it fails: CI's
//! machine has everything (see [`skip_or_fail`]).

use super::{LabRun, Run, repo_path};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs a program and collects its output.
pub fn sh(program: &str, args: &[&str]) -> Run {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"))
        .into()
}

/// Prints why `test` skips, or panics under `CI=true`, where a missing
/// prerequisite is a broken CI machine rather than a reason to skip.
pub fn skip_or_fail(test: &str, why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test} cannot run: {why} (CI=true: the CI machine must have it)");
    }
    eprintln!("SKIP {test}: {why}");
}

/// A network namespace deleted on drop.
pub struct Netns(pub String);

impl Netns {
    /// Creates the namespace `name`.
    pub fn create(name: &str) -> Result<Netns, String> {
        let run = sh("ip", &["netns", "add", name]);
        if run.code != 0 {
            return Err(format!(
                "cannot create a network namespace (CAP_NET_ADMIN?): {}",
                run.stderr.trim()
            ));
        }
        Ok(Netns(name.to_string()))
    }

    /// Runs `args` inside the namespace and waits for it.
    pub fn exec(&self, args: &[&str]) -> Run {
        let mut all = vec!["netns", "exec", &self.0];
        all.extend_from_slice(args);
        sh("ip", &all)
    }

    /// A command that runs `args` inside the namespace, to spawn.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0]).args(args);
        cmd
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh("ip", &["netns", "del", &self.0]);
    }
}

/// The first missing prerequisite among /dev/net/tun and `tools`.
pub fn missing_prerequisite(tools: &[&str]) -> Option<String> {
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun does not exist".into());
    }
    for tool in ["ip", "ping", "nc", "sha256sum"].iter().chain(tools) {
        if Command::new(tool).arg("--version").output().is_err() {
            return Some(format!(
                "`{tool}` is not installed (.ci/run installs it with apt-get)"
            ));
        }
    }
    None
}

/// The default lab with a Linux namespace plugged into sw2 (next to web)
/// as 10.0.3.99/24; `None` (after [`skip_or_fail`]) when this machine
/// cannot. The temp dir holds the lab variant and must outlive the lab.
pub fn tap_lab(test: &str, tools: &[&str]) -> Option<(LabRun, Netns, String, tempfile::TempDir)> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    if let Some(why) = missing_prerequisite(tools) {
        skip_or_fail(test, &why);
        return None;
    }
    let pid = std::process::id();
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 10;
    let ns = match Netns::create(&format!("vnet-tap-{pid}-{n}")) {
        Ok(ns) => ns,
        Err(why) => {
            skip_or_fail(test, &why);
            return None;
        }
    };
    let tap = format!("vtap{}{n}", pid % 10_000);
    let text = std::fs::read_to_string(repo_path("configs/lab.toml")).expect("default lab");
    let text = text.replacen(
        "  { a = \"dns-example:eth0\", b = \"sw2:eth4\" },",
        &format!("  {{ a = \"dns-example:eth0\", b = \"sw2:eth4\" }},\n  {{ a = \"sw2:eth9\", b = \"tap:{tap}\" }},"),
        1,
    );
    assert!(text.contains(&format!("tap:{tap}")), "link inserted");
    let (variant, topology) = super::lab_variant(&text);
    let lab = LabRun::up(&topology);
    let name = ns.0.as_str();
    for args in [
        vec!["link", "set", tap.as_str(), "netns", name],
        vec!["-n", name, "link", "set", "lo", "up"],
        vec![
            "-n",
            name,
            "addr",
            "add",
            "10.0.3.99/24",
            "dev",
            tap.as_str(),
        ],
        vec!["-n", name, "link", "set", tap.as_str(), "up"],
        vec!["-n", name, "route", "add", "default", "via", "10.0.3.1"],
    ] {
        let run = sh("ip", &args);
        assert_eq!(run.code, 0, "ip {args:?}: {run:?}");
    }
    let _ = ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
    Some((lab, ns, tap, variant))
}
