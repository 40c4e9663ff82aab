//! The TAP bridge: a Linux network namespace joins the virtual network
//! through a `tap:NAME` link end, and the real kernel's `ping` talks to vnet
//! devices (and vnet's ping to the kernel).
//!
//! Needs /dev/net/tun and CAP_NET_ADMIN (to create the namespace); without
//! them the test prints why and skips. CI runs as root with both.

mod common;

use common::{LabRun, Run, repo_path};
use std::process::Command;

fn sh(program: &str, args: &[&str]) -> Run {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"))
        .into()
}

/// A network namespace deleted on drop.
struct Netns(String);

impl Netns {
    fn create(name: &str) -> Result<Netns, String> {
        let run = sh("ip", &["netns", "add", name]);
        if run.code != 0 {
            return Err(format!(
                "cannot create a network namespace (CAP_NET_ADMIN?): {}",
                run.stderr.trim()
            ));
        }
        Ok(Netns(name.to_string()))
    }

    fn exec(&self, args: &[&str]) -> Run {
        let mut all = vec!["netns", "exec", &self.0];
        all.extend_from_slice(args);
        sh("ip", &all)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh("ip", &["netns", "del", &self.0]);
    }
}

fn missing_prerequisite() -> Option<String> {
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun does not exist".into());
    }
    for tool in ["ip", "ping"] {
        if Command::new(tool).arg("-V").output().is_err() {
            return Some(format!(
                "`{tool}` is not installed (CI installs iproute2 and iputils-ping)"
            ));
        }
    }
    None
}

#[test]
fn linux_namespace_pings_vnet_hosts_through_a_tap_device() {
    if let Some(why) = missing_prerequisite() {
        eprintln!("SKIP linux_namespace_pings_vnet_hosts_through_a_tap_device: {why}");
        return;
    }
    let pid = std::process::id();
    let ns = match Netns::create(&format!("vnet-tap-{pid}")) {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("SKIP linux_namespace_pings_vnet_hosts_through_a_tap_device: {why}");
            return;
        }
    };
    let tap = format!("vtap{}", pid % 100_000);
    // The default lab, with the kernel plugged into sw2 next to web.
    let text = std::fs::read_to_string(repo_path("configs/lab.toml")).expect("default lab");
    let text = text.replacen(
        "  { a = \"web:eth0\",    b = \"sw2:eth1\" },",
        &format!("  {{ a = \"web:eth0\",    b = \"sw2:eth1\" }},\n  {{ a = \"sw2:eth2\",    b = \"tap:{tap}\" }},"),
        1,
    );
    assert!(text.contains(&format!("tap:{tap}")), "link inserted");
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = dir.path().join("tap.toml");
    std::fs::write(&topology, text).expect("write");
    let lab = LabRun::up(&topology);

    // Move the TAP into the namespace and configure the kernel side.
    for args in [
        vec!["link", "set", tap.as_str(), "netns", ns.0.as_str()],
        vec!["-n", ns.0.as_str(), "link", "set", "lo", "up"],
        vec![
            "-n",
            ns.0.as_str(),
            "addr",
            "add",
            "10.0.3.99/24",
            "dev",
            tap.as_str(),
        ],
        vec!["-n", ns.0.as_str(), "link", "set", tap.as_str(), "up"],
        vec![
            "-n",
            ns.0.as_str(),
            "route",
            "add",
            "default",
            "via",
            "10.0.3.1",
        ],
    ] {
        let run = sh("ip", &args);
        assert_eq!(run.code, 0, "ip {args:?}: {run:?}");
    }
    let _ = ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);

    // The kernel pings web on the same LAN...
    let run = ns.exec(&["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    assert!(
        run.stdout
            .contains("3 packets transmitted, 3 received, 0% packet loss"),
        "{run:?}"
    );
    // ...and the client behind three vnet routers (TTL 64 - 3 hops on the way back).
    let run = ns.exec(&["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.1.10"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("ttl=61"), "{run:?}");
    // A 4000-byte kernel ping crosses the MTU-576 link and is reassembled by the client.
    let run = ns.exec(&["ping", "-c", "1", "-s", "4000", "-W", "2", "10.0.1.10"]);
    assert_eq!(run.code, 0, "{run:?}");
    // And vnet's ping reaches the kernel.
    let run = lab.exec("client", &["ping", "-c", "2", "-i", "0.2", "10.0.3.99"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("2 received"), "{run:?}");
    let status = lab.status("sw2");
    assert_eq!(status["interfaces"][2]["tap"], tap.as_str(), "{status}");
}
