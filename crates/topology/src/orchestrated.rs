//! What Docker Swarm and Kubernetes labs share: devices find each other by
//! name (an orchestrator gives a restarted container a new address), every
//! cable end listens on all of the container's addresses, the admin API
//! stays on the container's loopback (the CLI reaches it through `docker
//! exec` / `kubectl exec`), and devices are placed on nodes in blocks of
//! neighbours.

use crate::compose::{CONTAINER_ADMIN_PORT, CONTAINER_CABLE_PORT_BASE, CONTAINER_WEB_ROOT};
use crate::device::{DeviceConfig, DeviceKind};
use crate::lab::{Lab, LabDevice};
use crate::peer::CablePeer;
use crate::render::{AddressPlan, render};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

/// Addresses by name: cable end `i` of a device binds `0.0.0.0:40000+i`
/// and is reached as `DEVICE:40000+i`.
pub(crate) struct ByNamePlan {
    names: Vec<String>,
}

impl AddressPlan for ByNamePlan {
    fn cable_end(&mut self, _device_index: usize, _device: &LabDevice, port: usize) -> SocketAddr {
        SocketAddr::from(([0, 0, 0, 0], CONTAINER_CABLE_PORT_BASE + port as u16))
    }
    fn admin(&mut self, _device_index: usize, _device: &LabDevice) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], CONTAINER_ADMIN_PORT))
    }
    fn reachable(&self, device_index: usize, bound: SocketAddr) -> CablePeer {
        CablePeer::Name {
            host: self.names[device_index].clone(),
            port: bound.port(),
        }
    }
}

/// Why a lab cannot be rendered for an orchestrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrchestratedError {
    /// TAP ends need the host's kernel.
    #[error(
        "{device}:{interface} is a TAP link end: it needs the host's kernel and cannot run in a {engine} lab"
    )]
    Tap {
        /// Device.
        device: String,
        /// Interface.
        interface: String,
        /// "Swarm" or "Kubernetes".
        engine: &'static str,
    },
    /// A device name is not usable as a service (DNS label) name.
    #[error("device {name:?} cannot be a {engine} service name: {reason}")]
    BadName {
        /// Device.
        name: String,
        /// "Swarm" or "Kubernetes".
        engine: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A Kubernetes namespace or label value (the lab's name) is invalid.
    #[error("{what} {name:?} is not valid in Kubernetes: {reason}")]
    BadK8sName {
        /// What the name is for ("namespace", "lab name").
        what: &'static str,
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A device takes the trace collector's service name.
    #[error("a device may not be called {0:?}: that service is the trace collector")]
    Reserved(String),
    /// Fewer nodes than asked for.
    #[error("--spread needs at least one node name")]
    NoNodes,
    /// Serialising a device configuration failed.
    #[error("{device}: {message}")]
    Render {
        /// Device.
        device: String,
        /// Serializer message.
        message: String,
    },
}

/// Checks that `lab` can run under `engine` and renders each device's
/// configuration with names for peers and the image's web root.
pub(crate) fn render_by_name(
    lab: &Lab,
    engine: &'static str,
    reserved: &str,
    tls: &crate::device::LabTls,
) -> Result<Vec<(DeviceConfig, String)>, OrchestratedError> {
    for d in &lab.devices {
        if d.name == reserved {
            return Err(OrchestratedError::Reserved(d.name.clone()));
        }
        check_service_name(&d.name).map_err(|reason| OrchestratedError::BadName {
            name: d.name.clone(),
            engine,
            reason,
        })?;
        if let Some(i) = d.interfaces.iter().find(|i| i.tap.is_some()) {
            return Err(OrchestratedError::Tap {
                device: d.name.clone(),
                interface: i.name.clone(),
                engine,
            });
        }
    }
    let mut plan = ByNamePlan {
        names: lab.devices.iter().map(|d| d.name.clone()).collect(),
    };
    render(lab, &mut plan, None)
        .into_iter()
        .map(|mut config| {
            if let Some(web) = config.web.as_mut() {
                // The image carries the default content at /www (deploy/docker/Dockerfile).
                web.root = CONTAINER_WEB_ROOT.into();
            }
            config.tls = tls.get(&config.name).cloned();
            let toml = toml::to_string(&config).map_err(|e| OrchestratedError::Render {
                device: config.name.clone(),
                message: e.to_string(),
            })?;
            Ok((config, toml))
        })
        .collect()
}

/// RFC 1123 labels as Kubernetes wants them for Service names (RFC 1035
/// label: lower-case letters, digits and `-`, starting with a letter, at
/// most 63), which also suits Swarm service names and DNS.
pub fn check_service_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 63 {
        return Err("a DNS label has 1 to 63 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("only lower-case letters, digits and '-' are allowed");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.ends_with('-') {
        return Err("it must start with a letter and not end with '-'");
    }
    Ok(())
}

/// The binary a device of `kind` runs in the image.
pub(crate) fn binary(kind: DeviceKind) -> String {
    format!("/{}", kind.binary_name())
}

/// Assigns devices to `nodes` in contiguous blocks of neighbours: a
/// breadth-first walk over the links from the first link's first device
/// (so a chain's consecutive routers share a node and only the cables at
/// block edges cross between nodes), cut into `nodes.len()` nearly equal
/// blocks. Returns device name → node.
pub fn spread(lab: &Lab, nodes: &[String]) -> Result<HashMap<String, String>, OrchestratedError> {
    if nodes.is_empty() {
        return Err(OrchestratedError::NoNodes);
    }
    let order = walk_order(lab);
    let per_node = order.len().div_ceil(nodes.len()).max(1);
    Ok(order
        .into_iter()
        .enumerate()
        .map(|(i, name)| (name, nodes[(i / per_node).min(nodes.len() - 1)].clone()))
        .collect())
}

/// Device names in breadth-first order over the links; devices without
/// links come last, in name order.
fn walk_order(lab: &Lab) -> Vec<String> {
    let mut neighbours: HashMap<&str, Vec<&str>> = HashMap::new();
    for l in &lab.links {
        neighbours.entry(&l.a.device).or_default().push(&l.b.device);
        neighbours.entry(&l.b.device).or_default().push(&l.a.device);
    }
    let mut seen: Vec<String> = Vec::with_capacity(lab.devices.len());
    let starts = lab
        .links
        .iter()
        .map(|l| l.a.device.as_str())
        .chain(lab.devices.iter().map(|d| d.name.as_str()));
    for start in starts {
        if seen.iter().any(|s| s == start) {
            continue;
        }
        let mut queue = VecDeque::from([start]);
        seen.push(start.to_string());
        while let Some(d) = queue.pop_front() {
            for &n in neighbours.get(d).map(Vec::as_slice).unwrap_or(&[]) {
                if !seen.iter().any(|s| s == n) {
                    seen.push(n.to_string());
                    queue.push_back(n);
                }
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn chain(n: usize) -> Lab {
        let text = crate::chain::chain_topology(n).expect("chain");
        Lab::parse(Path::new("chain.toml"), &text).expect("valid chain")
    }

    #[test]
    fn peers_are_names_and_ends_listen_everywhere() {
        let lab = chain(2);
        let configs =
            render_by_name(&lab, "Swarm", "jaeger", &Default::default()).expect("renders");
        for (config, _) in &configs {
            assert_eq!(config.admin, "127.0.0.1:7000".parse().unwrap());
            for iface in &config.interfaces {
                assert!(iface.local.ip().is_unspecified(), "{iface:?}");
                let CablePeer::Name { host, port } = &iface.peer else {
                    panic!("{iface:?}")
                };
                let peer = configs.iter().find(|(c, _)| &c.name == host).expect("peer");
                assert!(peer.0.interfaces.iter().any(|i| i.local.port() == *port));
            }
        }
    }

    #[test]
    fn service_names_follow_dns_label_rules() {
        assert!(check_service_name("r2").is_ok());
        assert!(check_service_name("dns-root").is_ok());
        assert!(check_service_name("R2").is_err());
        assert!(check_service_name("2r").is_err());
        assert!(check_service_name("a_b").is_err());
        assert!(check_service_name(&"a".repeat(64)).is_err());
    }

    #[test]
    fn spread_keeps_chain_neighbours_together() {
        let lab = chain(6);
        let nodes = vec!["n1".to_string(), "n2".to_string()];
        let placement = spread(&lab, &nodes).expect("spread");
        assert_eq!(placement.len(), lab.devices.len());
        // Walking the chain, the node changes exactly once.
        let order = walk_order(&lab);
        let changes = order
            .windows(2)
            .filter(|w| placement[&w[0]] != placement[&w[1]])
            .count();
        assert_eq!(changes, 1, "{order:?} {placement:?}");
        assert!(matches!(spread(&lab, &[]), Err(OrchestratedError::NoNodes)));
    }
}
