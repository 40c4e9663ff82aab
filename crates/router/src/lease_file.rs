//! The DHCP servers' lease file, `<state_dir>/<device>.leases`, so that a
//! restarted router keeps its clients' addresses (as ISC dhcpd's
//! dhcpd.leases and Kea's lease file do). One line per bound lease:
//! `INTERFACE ADDRESS MAC EXPIRES` with EXPIRES in Unix seconds, written
//! whole to a temporary file and renamed over the old one. The path comes
//! from the device's configuration only, never from the network.

use crate::dhcp::InterfaceServer;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vnet_stack::time::Instant;
use vnet_topology::device::DeviceConfig;
use vnet_wire::ethernet::EthernetAddress;

/// Where the leases of `config`'s device live, if it has a state directory.
pub(crate) fn path(config: &DeviceConfig) -> Option<PathBuf> {
    config
        .state_dir
        .as_ref()
        .map(|dir| dir.join(format!("{}.leases", config.name)))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One saved lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SavedLease {
    pub(crate) interface: String,
    pub(crate) ip: Ipv4Addr,
    pub(crate) mac: EthernetAddress,
    pub(crate) expires_unix: u64,
}

/// Parses the file; malformed lines are skipped and reported by number.
pub(crate) fn parse(text: &str) -> (Vec<SavedLease>, Vec<usize>) {
    let mut leases = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parsed = match fields[..] {
            [interface, ip, mac, expires] => (|| {
                Some(SavedLease {
                    interface: interface.to_string(),
                    ip: ip.parse().ok()?,
                    mac: mac.parse().ok()?,
                    expires_unix: expires.parse().ok()?,
                })
            })(),
            _ => None,
        };
        match parsed {
            Some(l) => leases.push(l),
            None => bad.push(n + 1),
        }
    }
    (leases, bad)
}

/// The bound leases of every server, as the file holds them.
pub(crate) fn snapshot(
    servers: &[InterfaceServer],
    names: &[String],
    now: Instant,
) -> Vec<SavedLease> {
    let unix = unix_now();
    servers
        .iter()
        .flat_map(|s| {
            let interface = names.get(s.port).cloned().unwrap_or_default();
            s.server
                .bound_leases(now)
                .into_iter()
                .map(move |(ip, mac, left)| SavedLease {
                    interface: interface.clone(),
                    ip,
                    mac,
                    expires_unix: unix + left.as_secs(),
                })
        })
        .collect()
}

/// Restores the leases of `path` into `servers`; returns how many.
pub(crate) fn load(
    path: &Path,
    servers: &mut [InterfaceServer],
    names: &[String],
    now: Instant,
) -> usize {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return 0,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "cannot read the DHCP lease file; starting without leases");
            return 0;
        }
    };
    let (leases, bad) = parse(&text);
    if !bad.is_empty() {
        tracing::warn!(file = %path.display(), lines = ?bad, "malformed lines in the DHCP lease file skipped");
    }
    let unix = unix_now();
    let mut restored = 0;
    for l in leases {
        let Some(port) = names.iter().position(|n| *n == l.interface) else {
            continue;
        };
        let Some(s) = servers.iter_mut().find(|s| s.port == port) else {
            continue;
        };
        let left = Duration::from_secs(l.expires_unix.saturating_sub(unix));
        if s.server.restore_lease(now, l.ip, l.mac, left) {
            restored += 1;
        }
    }
    restored
}

/// Writes `leases` to `path` atomically.
pub(crate) fn save(path: &Path, leases: &[SavedLease]) -> std::io::Result<()> {
    let mut text = String::from("# vnet DHCP leases: interface address mac expires(unix)\n");
    for l in leases {
        text.push_str(&format!(
            "{} {} {} {}\n",
            l.interface, l.ip, l.mac, l.expires_unix
        ));
    }
    let tmp = path.with_extension("leases.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_leases_parse_back_and_bad_lines_are_named() {
        let lease = SavedLease {
            interface: "eth0".into(),
            ip: Ipv4Addr::new(10, 0, 1, 100),
            mac: "02:76:6e:00:00:00".parse().unwrap(),
            expires_unix: 1_800_000_000,
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r1.leases");
        save(&file, std::slice::from_ref(&lease)).unwrap();
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str("eth0 10.0.1.300 02:76:6e:00:00:00 5\nrubbish\n");
        let (leases, bad) = parse(&text);
        assert_eq!(leases, vec![lease]);
        assert_eq!(bad, vec![3, 4]);
    }
}
