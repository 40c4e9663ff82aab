//! Name resolution for cable peers, without the C library.
//!
//! The container images are `FROM scratch` with static glibc binaries, and
//! a static glibc cannot load the NSS modules `getaddrinfo` needs. So vnet
//! resolves names itself, the way a stub resolver does: `/etc/hosts` first,
//! then the nameservers of `/etc/resolv.conf` (Docker's embedded DNS at
//! 127.0.0.11, or the cluster DNS of Kubernetes) over UDP, with the search
//! list and `ndots` rules (resolv.conf(5)). Both files are read again on
//! every resolution: Docker rewrites them while a container lives, and a
//! test can change a hosts file to move a peer.
//!
//! The messages are vnet's own DNS codec ([`vnet_wire::dns`]); see
//! docs/design.md for why not hickory-resolver.

pub mod conf;

use conf::{Answer, ResolvConf};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Why a name did not resolve.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Every server answered that the name (with every search domain) does
    /// not exist or has no IPv4 address.
    #[error("{name}: no such host (asked {asked} name(s) of the search list)")]
    NoSuchHost {
        /// The name asked for.
        name: String,
        /// How many candidate names were tried.
        asked: usize,
    },
    /// No server gave a usable answer in time.
    #[error("{name}: no answer from {servers} (timeout {timeout:?}, {attempts} attempt(s))")]
    NoAnswer {
        /// The name asked for.
        name: String,
        /// The servers asked, comma-separated.
        servers: String,
        /// Per-query timeout.
        timeout: Duration,
        /// Rounds over the servers.
        attempts: usize,
    },
    /// The name cannot be put in a query.
    #[error("{0:?} is not a valid DNS name")]
    InvalidName(String),
    /// A socket failed.
    #[error("{name}: {source}")]
    Io {
        /// The name asked for.
        name: String,
        /// The error.
        source: io::Error,
    },
}

/// Where the resolver reads its configuration.
#[derive(Debug, Clone)]
pub struct Resolver {
    /// hosts(5) file, `/etc/hosts` by default.
    pub hosts_file: PathBuf,
    /// resolv.conf(5) file, `/etc/resolv.conf` by default.
    pub resolv_conf: PathBuf,
    /// Upper bound on one query's wait, whatever resolv.conf says: a cable
    /// end re-resolves often and must not hang on a dead server.
    pub max_timeout: Duration,
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver {
            hosts_file: PathBuf::from("/etc/hosts"),
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            max_timeout: Duration::from_secs(1),
        }
    }
}

impl Resolver {
    /// The IPv4 addresses of `name`: from the hosts file if it lists the
    /// name, else from DNS. An IPv4 literal resolves to itself.
    pub async fn lookup(&self, name: &str) -> Result<Vec<Ipv4Addr>, ResolveError> {
        if let Ok(ip) = name.parse::<Ipv4Addr>() {
            return Ok(vec![ip]);
        }
        // A missing or unreadable file counts as empty, as for the C library.
        let hosts = std::fs::read_to_string(&self.hosts_file).unwrap_or_default();
        let found = conf::hosts_lookup(&hosts, name);
        if !found.is_empty() {
            return Ok(found);
        }
        let conf = match std::fs::read_to_string(&self.resolv_conf) {
            Ok(text) => ResolvConf::parse(&text),
            Err(_) => ResolvConf::default(),
        };
        self.ask_dns(&conf, name).await
    }

    async fn ask_dns(&self, conf: &ResolvConf, name: &str) -> Result<Vec<Ipv4Addr>, ResolveError> {
        let timeout = conf.timeout.min(self.max_timeout);
        let candidates = conf.candidates(name);
        let io_error = |source| ResolveError::Io {
            name: name.to_string(),
            source,
        };
        let mut answered = false;
        for candidate in &candidates {
            let id = fastrand::u16(..);
            let query = conf::a_query(id, candidate)
                .ok_or_else(|| ResolveError::InvalidName(name.into()))?;
            'servers: for _ in 0..conf.attempts {
                for server in &conf.nameservers {
                    let bind: SocketAddr = if server.is_ipv4() {
                        SocketAddr::from(([0, 0, 0, 0], 0))
                    } else {
                        SocketAddr::from(([0u16; 8], 0))
                    };
                    let socket = tokio::net::UdpSocket::bind(bind).await.map_err(io_error)?;
                    if socket.send_to(&query, server).await.is_err() {
                        continue;
                    }
                    match ask_one(&socket, *server, id, candidate, timeout).await {
                        Some(Answer::Addresses(a)) => return Ok(a),
                        Some(Answer::NoSuchName) => {
                            answered = true;
                            break 'servers;
                        }
                        Some(Answer::Failed(_)) | None => {}
                    }
                }
            }
        }
        if answered {
            Err(ResolveError::NoSuchHost {
                name: name.to_string(),
                asked: candidates.len(),
            })
        } else {
            Err(ResolveError::NoAnswer {
                name: name.to_string(),
                servers: conf
                    .nameservers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                timeout,
                attempts: conf.attempts,
            })
        }
    }
}

/// Waits up to `timeout` for the answer from `server`; datagrams from
/// elsewhere or not matching the query are ignored.
async fn ask_one(
    socket: &tokio::net::UdpSocket,
    server: SocketAddr,
    id: u16,
    name: &str,
    timeout: Duration,
) -> Option<Answer> {
    let mut buf = [0u8; 1500];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let (len, from) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        if from != server {
            continue;
        }
        if let Some(answer) = conf::read_answer(&buf[..len], id, name) {
            return Some(answer);
        }
    }
}
