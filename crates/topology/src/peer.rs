//! The far end of a cable as a device configuration names it: a fixed
//! socket address (`127.0.0.1:40001` on loopback, `172.29.0.21:40003`
//! under Compose) or a DNS name and port (`r2:40003` under Docker Swarm and
//! Kubernetes, where an orchestrator gives a restarted container a new
//! address and only its name stays the same).

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// The peer of a cable end.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CablePeer {
    /// A fixed address; datagrams from anywhere else are dropped.
    Addr(SocketAddr),
    /// A host name and port, resolved by the device (and re-resolved when
    /// the peer goes quiet, so a restarted peer is found at its new address).
    Name {
        /// DNS name (RFC 1123 §2.1 host name syntax; `_` allowed as in
        /// Kubernetes service records).
        host: String,
        /// UDP port of the peer's cable end.
        port: u16,
    },
}

impl CablePeer {
    /// The fixed address, if this peer is one.
    pub fn addr(&self) -> Option<SocketAddr> {
        match self {
            CablePeer::Addr(a) => Some(*a),
            CablePeer::Name { .. } => None,
        }
    }

    /// The port of the peer's cable end.
    pub fn port(&self) -> u16 {
        match self {
            CablePeer::Addr(a) => a.port(),
            CablePeer::Name { port, .. } => *port,
        }
    }
}

impl From<SocketAddr> for CablePeer {
    fn from(a: SocketAddr) -> Self {
        CablePeer::Addr(a)
    }
}

impl fmt::Display for CablePeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CablePeer::Addr(a) => write!(f, "{a}"),
            CablePeer::Name { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// Why a text is not a cable peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerParseError {
    /// No `:PORT` at the end.
    #[error("{0:?} should be ADDRESS:PORT or NAME:PORT, e.g. 10.0.0.2:40000 or r2:40003")]
    MissingPort(String),
    /// The port is not a number from 1 to 65535.
    #[error("{text:?}: port {port:?} is not a number from 1 to 65535")]
    BadPort {
        /// The whole text.
        text: String,
        /// The port part.
        port: String,
    },
    /// The host part is not a valid DNS name.
    #[error("{text:?}: {host:?} is not a valid host name ({reason})")]
    BadHost {
        /// The whole text.
        text: String,
        /// The host part.
        host: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl FromStr for CablePeer {
    type Err = PeerParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(CablePeer::Addr(addr));
        }
        let (host, port_text) = text
            .rsplit_once(':')
            .ok_or_else(|| PeerParseError::MissingPort(text.to_string()))?;
        let port = match port_text.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => {
                return Err(PeerParseError::BadPort {
                    text: text.to_string(),
                    port: port_text.to_string(),
                });
            }
        };
        check_host_name(host).map_err(|reason| PeerParseError::BadHost {
            text: text.to_string(),
            host: host.to_string(),
            reason,
        })?;
        Ok(CablePeer::Name {
            host: host.to_string(),
            port,
        })
    }
}

/// Checks RFC 1123 §2.1 host name syntax: labels of 1–63 letters, digits,
/// `-` (not first or last) or `_`, at most 253 characters, an optional
/// trailing dot. All-numeric names are refused (they would be a mistyped
/// address).
pub fn check_host_name(host: &str) -> Result<(), &'static str> {
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() {
        return Err("empty");
    }
    if name.len() > 253 {
        return Err("longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label");
        }
        if label.len() > 63 {
            return Err("a label is longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("only letters, digits, '-' and '_' are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label starts or ends with '-'");
        }
    }
    if name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err("all digits: not an address either");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_and_names_parse() {
        assert_eq!(
            "10.0.0.2:40000".parse::<CablePeer>().unwrap(),
            CablePeer::Addr("10.0.0.2:40000".parse().unwrap())
        );
        assert_eq!(
            "[::1]:5".parse::<CablePeer>().unwrap(),
            CablePeer::Addr("[::1]:5".parse().unwrap())
        );
        assert_eq!(
            "r2:40003".parse::<CablePeer>().unwrap(),
            CablePeer::Name {
                host: "r2".into(),
                port: 40003
            }
        );
        assert_eq!(
            "r2.lab.svc.cluster.local.:1".parse::<CablePeer>().unwrap(),
            CablePeer::Name {
                host: "r2.lab.svc.cluster.local.".into(),
                port: 1
            }
        );
    }

    #[test]
    fn mistakes_name_the_part() {
        let err = |t: &str| t.parse::<CablePeer>().unwrap_err().to_string();
        assert!(err("r2").contains("NAME:PORT"), "{}", err("r2"));
        assert!(err("r2:0").contains("port \"0\""), "{}", err("r2:0"));
        assert!(err("r2:70000").contains("port \"70000\""));
        assert!(err("r 2:1").contains("only letters"));
        assert!(err("-r2:1").contains("starts or ends"));
        assert!(err("10.0.0.300:1").contains("all digits"));
        assert!(err(":1").contains("empty"));
        assert!(err("a..b:1").contains("empty label"));
    }

    proptest! {
        #[test]
        fn display_parses_back(text in "\\PC{0,40}") {
            if let Ok(peer) = text.parse::<CablePeer>() {
                let shown = peer.to_string();
                prop_assert_eq!(shown.parse::<CablePeer>().unwrap(), peer);
            }
        }

        #[test]
        fn generated_names_round_trip(host in "[a-z][a-z0-9-]{0,20}[a-z0-9]", port in 1u16..) {
            let peer = CablePeer::Name { host, port };
            prop_assert_eq!(peer.to_string().parse::<CablePeer>().unwrap(), peer);
        }
    }
}
