//! FRR (the routing suite: zebra and its protocol daemons) run inside a
//! network namespace as plain child processes, for interop tests.
//!
//! Each daemon gets its config, pid file, log and vty socket in one temp
//! dir (`-f`, `-i`, `--vty_socket`, `-z` for zebra's zserv socket, no TCP
//! vty), so several instances and a system FRR never meet. The daemons
//! drop root for the `frr` user, which owns the temp dir. `vtysh
//! --vty_socket DIR` talks to them. Dropping [`Frr`] stops them (SIGTERM,
//! then SIGKILL): drop it before the namespace.

use super::Run;
use super::tap::{Netns, sh};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// zebra, which every protocol daemon talks to.
pub const ZEBRA: &str = "/usr/lib/frr/zebra";
/// The RIP daemon.
pub const RIPD: &str = "/usr/lib/frr/ripd";
/// The OSPFv2 daemon.
pub const OSPFD: &str = "/usr/lib/frr/ospfd";

/// Why FRR cannot run here, if it cannot: a missing binary or user.
pub fn missing() -> Option<String> {
    for binary in [ZEBRA, RIPD, OSPFD] {
        if !std::path::Path::new(binary).exists() {
            return Some(format!(
                "{binary} is missing (.ci/run installs the frr package)"
            ));
        }
    }
    if std::process::Command::new("vtysh")
        .arg("--help")
        .output()
        .is_err()
    {
        return Some("vtysh is missing (.ci/run installs the frr package)".into());
    }
    if sh("id", &["frr"]).code != 0 {
        return Some("user `frr` does not exist (the frr package creates it)".into());
    }
    None
}

/// A child process stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Daemon {
    pub name: &'static str,
    pub child: Child,
}

impl Daemon {
    /// Sends `signal` (`-TERM`, `-INT`) and waits up to 5 s for an exit,
    /// then kills it.
    pub fn stop(&mut self, signal: &str) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id().to_string();
        let _ = sh("kill", &[signal, &pid]);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} ignored {signal}; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop("-TERM");
    }
}

/// zebra and a protocol daemon in a namespace, with everything they
/// write in `dir`.
pub struct Frr {
    pub dir: tempfile::TempDir,
    /// The protocol daemon, then zebra: stopped in this order.
    daemons: Vec<Daemon>,
    ns: String,
}

impl Frr {
    /// Starts zebra, waits for its zserv socket, then ripd with
    /// `ripd_config` (the `router rip` section and any `interface`
    /// sections; logging is added here).
    pub fn start_ripd(ns: &Netns, ripd_config: &str) -> Frr {
        Frr::start(
            ns,
            "ripd",
            RIPD,
            &format!("debug rip events\ndebug rip packet\n{ripd_config}"),
        )
    }

    /// Starts zebra, then ospfd with `ospfd_config` (the `router ospf`
    /// section and any `interface` sections).
    pub fn start_ospfd(ns: &Netns, ospfd_config: &str) -> Frr {
        Frr::start(
            ns,
            "ospfd",
            OSPFD,
            &format!("debug ospf event\ndebug ospf ism\ndebug ospf nsm\n{ospfd_config}"),
        )
    }

    fn start(ns: &Netns, daemon: &'static str, binary: &str, config: &str) -> Frr {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().display().to_string();
        let chown = sh("chown", &["frr:frr", &path]);
        assert_eq!(chown.code, 0, "{chown:?}");
        let files = [
            (
                "zebra.conf".to_string(),
                format!("hostname ns-zebra\nlog file {path}/zebra.log informational\n"),
            ),
            (
                format!("{daemon}.conf"),
                format!("hostname ns-{daemon}\nlog file {path}/{daemon}.log debugging\n{config}"),
            ),
        ];
        for (name, text) in &files {
            std::fs::write(dir.path().join(name), text).expect("write FRR config");
        }
        let mut frr = Frr {
            dir,
            daemons: Vec::new(),
            ns: ns.0.clone(),
        };
        let zebra = frr.spawn(ns, "zebra", ZEBRA);
        let zserv = frr.dir.path().join("zserv.api");
        let deadline = Instant::now() + Duration::from_secs(15);
        while !zserv.exists() {
            assert!(
                Instant::now() < deadline,
                "zebra never opened {}:\n{}",
                zserv.display(),
                frr.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        frr.daemons.push(zebra);
        let protocol = frr.spawn(ns, daemon, binary);
        frr.daemons.insert(0, protocol);
        frr
    }

    fn spawn(&self, ns: &Netns, name: &'static str, binary: &str) -> Daemon {
        let dir = self.dir.path();
        let file = |suffix: &str| dir.join(format!("{name}{suffix}")).display().to_string();
        let (config, pid, out) = (file(".conf"), file(".pid"), file(".out"));
        let zserv = dir.join("zserv.api").display().to_string();
        let vty = dir.display().to_string();
        let stdout = std::fs::File::create(&out).expect("daemon output file");
        let stderr = stdout.try_clone().expect("daemon output file");
        // `ip netns exec` execs the daemon: the child's pid is the daemon's.
        let child = ns
            .command(&[
                binary,
                "-f",
                &config,
                "-i",
                &pid,
                "-z",
                &zserv,
                "--vty_socket",
                &vty,
                // No TCP vty: only the socket in the temp dir.
                "-P",
                "0",
            ])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("{binary} starts: {e}"));
        Daemon { name, child }
    }

    /// `vtysh -c COMMAND` against these daemons.
    pub fn vtysh(&self, command: &str) -> Run {
        let vty = self.dir.path().display().to_string();
        sh(
            "ip",
            &[
                "netns",
                "exec",
                &self.ns,
                "vtysh",
                "--vty_socket",
                &vty,
                "-c",
                command,
            ],
        )
    }

    /// The routes ripd learned (`R(n)` rows of `show ip rip`), as
    /// (network, next hop, metric).
    pub fn rip_routes(&self) -> Vec<(String, String, u32)> {
        let run = self.vtysh("show ip rip");
        run.stdout
            .lines()
            .filter(|l| l.starts_with("R(n)"))
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some((
                    f.get(1)?.to_string(),
                    f.get(2)?.to_string(),
                    f.get(3)?.parse().ok()?,
                ))
            })
            .collect()
    }

    /// ripd's bad-packet and bad-route counts for the neighbour `peer`
    /// (its "Routing Information Sources" in `show ip rip status`).
    pub fn rip_bad_counts(&self, peer: &str) -> Option<(u64, u64)> {
        let run = self.vtysh("show ip rip status");
        run.stdout.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.first() != Some(&peer) {
                return None;
            }
            Some((f.get(1)?.parse().ok()?, f.get(2)?.parse().ok()?))
        })
    }

    /// The tails of the daemons' output and logs, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for name in [
            "zebra.out",
            "ripd.out",
            "ospfd.out",
            "zebra.log",
            "ripd.log",
            "ospfd.log",
        ] {
            if !self.dir.path().join(name).exists() {
                continue;
            }
            let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(25).collect();
            out.push_str(&format!("=== FRR {name}\n"));
            for line in tail.into_iter().rev() {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// Moves the TAP end `tap` into `ns` with address `addr` (the FRR side of
/// the link), and gives the namespace a stub network 192.168.77.1/24 on a
/// veth pair (no dummy interfaces in every kernel) for FRR to advertise.
pub fn plug(ns: &Netns, tap: &str, addr: &str) {
    let name = ns.0.as_str();
    for args in [
        vec!["link", "set", tap, "netns", name],
        vec!["-n", name, "link", "set", "lo", "up"],
        vec!["-n", name, "addr", "add", addr, "dev", tap],
        vec!["-n", name, "link", "set", tap, "up"],
        vec![
            "-n", name, "link", "add", "stub0", "type", "veth", "peer", "name", "stub1",
        ],
        vec!["-n", name, "addr", "add", "192.168.77.1/24", "dev", "stub0"],
        vec!["-n", name, "link", "set", "stub0", "up"],
        vec!["-n", name, "link", "set", "stub1", "up"],
    ] {
        let run = sh("ip", &args);
        assert_eq!(run.code, 0, "ip {args:?}: {run:?}");
    }
    let _ = ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
}

/// dumpcap on the TAP end inside the namespace, once it is capturing.
/// `-p`: no promiscuous mode (a TAP hands the kernel every frame anyway).
/// Leaving promiscuous mode when the capture stops changes the TAP's
/// flags, zebra reports the interface changed, and ripd sends a new
/// (unauthenticated) request that the capture would not hold.
pub fn start_capture(ns: &Netns, tap: &str, file: &std::path::Path) -> Daemon {
    use std::io::{BufRead, BufReader};
    let file = file.display().to_string();
    let mut child = ns
        .command(&["dumpcap", "-p", "-i", tap, "-w", &file])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dumpcap starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let capture = Daemon {
        name: "dumpcap",
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("File:") => return capture,
            Ok(_) => {}
            Err(e) => panic!("dumpcap did not start capturing: {e}"),
        }
    }
}
