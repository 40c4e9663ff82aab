//! The configuration one device process runs from.
//!
//! `vnet up` writes one TOML file per device; the device loads it with the
//! `config` crate, then applies environment overrides named
//! `VNET__<FIELD>[__<SUBFIELD>]`, e.g. `VNET__ADMIN=0.0.0.0:7000` or
//! `VNET__SWITCH__MAC_AGING_SECS=60`. (The double underscore after `VNET`
//! keeps tool settings such as `VNET_LOG` apart from config fields.)

use crate::peer::CablePeer;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use vnet_wire::ethernet::EthernetAddress;
use vnet_wire::ip::Ipv4Cidr;

/// What a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// An end host with applications (`vnet-host`).
    Host,
    /// A learning Ethernet switch (`vnet-switch`).
    Switch,
    /// An IPv4 router (`vnet-router`).
    Router,
    /// A DNS server: authoritative or recursive resolver (`vnet-dns`).
    Dns,
    /// An HTTP/1.1 web server (`vnet-web`).
    Web,
}

impl DeviceKind {
    /// Every kind, in display order.
    pub const ALL: [DeviceKind; 5] = [
        DeviceKind::Host,
        DeviceKind::Switch,
        DeviceKind::Router,
        DeviceKind::Dns,
        DeviceKind::Web,
    ];

    /// The kind's name as written in topology files.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Host => "host",
            DeviceKind::Switch => "switch",
            DeviceKind::Router => "router",
            DeviceKind::Dns => "dns",
            DeviceKind::Web => "web",
        }
    }

    /// The name of the binary that runs this kind (`vnet-router`, …).
    pub fn binary_name(self) -> String {
        format!("vnet-{}", self.as_str())
    }

    /// Parses a kind name.
    pub fn from_name(name: &str) -> Option<DeviceKind> {
        DeviceKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Full configuration of one device process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// Device name, unique in the lab (`r1`).
    pub name: String,
    /// Device kind.
    pub kind: DeviceKind,
    /// The lab this device belongs to (a trace resource attribute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab: Option<String>,
    /// Address of the admin API (HTTP + JSON). Loopback by default.
    #[serde(default = "default_admin")]
    pub admin: SocketAddr,
    /// A file holding the lab's admin token: when set, every admin request
    /// but `GET /health` must carry `Authorization: Bearer TOKEN` (`vnet up`
    /// writes `<run-dir>/admin.token`, readable by the lab's owner only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_token_file: Option<PathBuf>,
    /// Interfaces, each wired to one cable, in port order.
    #[serde(default)]
    pub interfaces: Vec<InterfaceConfig>,
    /// Initial TTL of the packets this device originates (RFC 1122
    /// §3.2.1.7; absent: 64, as Linux). Long router chains need more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
    /// The CPUs the device's process may run on (`0`, `0-3`); absent: any.
    /// Pinning a whole lab to one CPU trades throughput for latency: a
    /// frame then passes from device to device without waking another CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<crate::cpus::CpuList>,
    /// Default gateway (hosts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    /// DNS servers the host's stub resolver asks (when not learned by DHCP).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<Ipv4Addr>,
    /// Static routes (routers and hosts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteConfig>,
    /// Static ARP entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbors: Vec<NeighborConfig>,
    /// Switch settings (switches).
    #[serde(default)]
    pub switch: SwitchConfig,
    /// DNS settings (DNS servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsConfig>,
    /// Web server settings (web servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<WebConfig>,
    /// TLS trust anchors, certificate and key log (hosts and web servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSettings>,
    /// When set, every interface writes `<dir>/<device>-<iface>.pcapng` from start-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_dir: Option<PathBuf>,
    /// RIPv2 settings (routers running RIP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rip: Option<RipSettings>,
    /// OSPFv2 settings (routers running OSPF, area 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ospf: Option<OspfSettings>,
    /// Where the device keeps what must survive a restart (a DHCP server's
    /// leases: `<dir>/<device>.leases`). `vnet up` sets `<run-dir>/state`;
    /// without it, such state lives in memory only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
}

/// RIPv2 on a router (RFC 2453): timers, passive interfaces,
/// authentication. Defaults are the RFC's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RipSettings {
    /// Seconds between periodic updates (RFC 2453 §3.8: 30).
    pub update_secs: u64,
    /// Seconds after which a route not refreshed is deleted (180).
    pub timeout_secs: u64,
    /// Seconds a deleted route is still advertised as unreachable (120).
    pub garbage_secs: u64,
    /// Interfaces that learn but never send.
    pub passive: Vec<String>,
    /// Simple password (RFC 2453 §4.1), sent and required on every message.
    pub password: Option<String>,
    /// `poisoned-reverse` (RFC 2453 §3.4.3), `simple` or `off`.
    pub split_horizon: String,
}

impl Default for RipSettings {
    fn default() -> Self {
        RipSettings {
            update_secs: 30,
            timeout_secs: 180,
            garbage_secs: 120,
            passive: Vec::new(),
            password: None,
            split_horizon: "poisoned-reverse".into(),
        }
    }
}

/// OSPFv2 on a router (RFC 2328), every addressed interface in area 0.
/// Defaults are the RFC's (Appendix C.3) and FRR's cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OspfSettings {
    /// HelloInterval in seconds (10).
    pub hello_secs: u64,
    /// RouterDeadInterval in seconds (40).
    pub dead_secs: u64,
    /// RxmtInterval in seconds (5).
    pub retransmit_secs: u64,
    /// Output cost of every interface (10).
    pub cost: u16,
    /// Interfaces advertised as stub networks, with no Hellos.
    pub passive: Vec<String>,
    /// Interfaces run as point-to-point networks (no DR election).
    pub point_to_point: Vec<String>,
    /// The router ID; absent: the highest interface address.
    pub router_id: Option<Ipv4Addr>,
}

impl Default for OspfSettings {
    fn default() -> Self {
        OspfSettings {
            hello_secs: 10,
            dead_secs: 40,
            retransmit_secs: 5,
            cost: 10,
            passive: Vec::new(),
            point_to_point: Vec::new(),
            router_id: None,
        }
    }
}

fn default_admin() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// One interface and its cable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceConfig {
    /// Interface name (`eth0`).
    pub name: String,
    /// MAC address.
    #[serde(with = "crate::serde_text")]
    pub mac: EthernetAddress,
    /// Local UDP address of the cable end (unused for a TAP end).
    #[serde(default = "unspecified")]
    pub local: SocketAddr,
    /// The peer cable end, an address or `NAME:PORT` (resolved by the
    /// device); datagrams from anywhere else are dropped (unused for a TAP end).
    #[serde(default = "unspecified_peer", with = "crate::serde_text")]
    pub peer: CablePeer,
    /// When set, this interface is wired to the Linux TAP device of that
    /// name instead of a UDP cable: the kernel (e.g. a network namespace)
    /// is the other end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tap: Option<String>,
    /// IPv4 address and prefix (absent on switch ports).
    #[serde(
        default,
        with = "crate::serde_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub address: Option<Ipv4Cidr>,
    /// IP MTU of the interface.
    #[serde(default = "default_mtu")]
    pub mtu: u16,
    /// Obtain the address by DHCP (hosts; `address = "dhcp"` in the topology).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dhcp_client: bool,
    /// Run a DHCP server on this interface (routers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp_server: Option<DhcpServerSettings>,
    /// Impairments on what this interface sends, set at start-up (the
    /// topology's `impair`, `impair_a`, `impair_b` on the link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impairments: Option<crate::lab::impair::LinkImpairments>,
}

/// A DHCP server on one router interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpServerSettings {
    /// First address of the pool.
    pub pool_start: Ipv4Addr,
    /// Last address of the pool (inclusive).
    pub pool_end: Ipv4Addr,
    /// DNS servers handed out (option 6).
    #[serde(default)]
    pub dns_servers: Vec<Ipv4Addr>,
    /// Lease time in seconds (option 51).
    #[serde(default = "default_lease_secs")]
    pub lease_secs: u64,
}

fn default_lease_secs() -> u64 {
    3600
}

fn unspecified() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 0))
}

fn unspecified_peer() -> CablePeer {
    CablePeer::Addr(unspecified())
}

/// Default IP MTU: Ethernet's 1500 bytes.
pub const DEFAULT_MTU: u16 = 1500;

fn default_mtu() -> u16 {
    DEFAULT_MTU
}

/// A static route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Destination network.
    #[serde(with = "crate::serde_text")]
    pub to: Ipv4Cidr,
    /// Next hop; must be on a connected network.
    pub via: Ipv4Addr,
}

/// A static ARP entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighborConfig {
    /// Interface name.
    pub interface: String,
    /// Neighbour's IPv4 address.
    pub ip: Ipv4Addr,
    /// Neighbour's MAC address.
    #[serde(with = "crate::serde_text")]
    pub mac: EthernetAddress,
}

/// Learning-switch settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SwitchConfig {
    /// Most MAC addresses the table holds; beyond it new addresses are not
    /// learned and frames to them are flooded.
    pub mac_table_capacity: usize,
    /// Seconds an unrefreshed MAC entry lives (IEEE 802.1D default: 300).
    pub mac_aging_secs: u64,
}

impl Default for SwitchConfig {
    fn default() -> Self {
        SwitchConfig {
            mac_table_capacity: 1024,
            mac_aging_secs: 300,
        }
    }
}

/// Web server settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Directory served (absolute once rendered; `/www` in the container image).
    pub root: PathBuf,
    /// TCP port.
    #[serde(default = "default_http_port")]
    pub port: u16,
    /// Seconds an idle keep-alive connection stays open.
    #[serde(default = "default_idle_secs")]
    pub idle_timeout_secs: u64,
    /// Requests served on one connection before it is closed.
    #[serde(default = "default_max_requests")]
    pub max_requests_per_connection: u32,
    /// TCP port of HTTPS, served when the device has a certificate
    /// ([`TlsSettings::cert`]); RFC 9110 §4.2.2's 443 by default.
    #[serde(default = "default_https_port")]
    pub tls_port: u16,
}

fn default_https_port() -> u16 {
    443
}

/// The TLS settings of a whole lab, by device name (what `vnet gen …
/// --tls-ca FILE` embeds in the generated configs).
pub type LabTls = std::collections::BTreeMap<String, TlsSettings>;

/// A device's TLS material. `vnet up` fills it from the lab CA it makes
/// (`vnet-pki`): every device trusts the CA, web devices get a certificate
/// for the names the lab's zones give them. PEM text is embedded so a
/// container needs no mounted files; a config holding a key is written
/// readable by its owner only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// CA certificates (PEM) the device's TLS clients trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// The certificate chain (PEM, leaf first) a web device serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// The private key (PEM) of `cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Append TLS session secrets to this file in the NSS key log format
    /// (`SSLKEYLOGFILE`) so Wireshark can decrypt captures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keylog: Option<PathBuf>,
}

fn default_http_port() -> u16 {
    80
}

fn default_idle_secs() -> u64 {
    15
}

fn default_max_requests() -> u32 {
    100
}

/// What a DNS server does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsRole {
    /// Answers from its zones only (AA), with referrals for delegations.
    Authoritative,
    /// Resolves any name for its clients, iterating from the root, with a cache.
    Resolver,
}

/// DNS server settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// Authoritative server or recursive resolver.
    pub role: DnsRole,
    /// Zones served (authoritative), as master-file text embedded in the
    /// config so a container needs no mounted files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<ZoneText>,
    /// Root server addresses a resolver starts from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub root_hints: Vec<Ipv4Addr>,
    /// Most entries the resolver's cache holds.
    #[serde(default = "default_cache_capacity")]
    pub cache_capacity: usize,
    /// Clients (networks; an address is a /32) allowed to transfer this
    /// server's zones with AXFR (RFC 5936 §6); empty refuses every transfer.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::serde_text::vec"
    )]
    pub allow_transfer: Vec<Ipv4Cidr>,
}

fn default_cache_capacity() -> usize {
    10_000
}

/// One zone: where it came from and its master-file text (RFC 1035 §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneText {
    /// The file it was read from (for error messages).
    pub file: String,
    /// Master-file text.
    pub text: String,
}

/// Why a device configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or an override did not parse or did not match the schema.
    #[error("device config {path}: {source}")]
    Load {
        /// The file.
        path: PathBuf,
        /// What the config crate said (names the field).
        source: config::ConfigError,
    },
    /// The configuration parsed but is inconsistent.
    #[error("device config {path}: field `{field}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Field path.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl DeviceConfig {
    /// Loads `path` (TOML), applies `VNET__…` environment overrides, checks it.
    pub fn load(path: &Path) -> Result<DeviceConfig, ConfigError> {
        let source = config::File::from(path).format(config::FileFormat::Toml);
        DeviceConfig::load_from(source, path)
    }

    /// Loads configuration TOML passed as text (e.g. the `VNET_CONFIG`
    /// environment variable of a container), with the same overrides and
    /// checks; `origin` names it in errors.
    pub fn load_text(text: &str, origin: &str) -> Result<DeviceConfig, ConfigError> {
        let source = config::File::from_str(text, config::FileFormat::Toml);
        DeviceConfig::load_from(source, Path::new(origin))
    }

    fn load_from<S>(source: S, path: &Path) -> Result<DeviceConfig, ConfigError>
    where
        S: config::Source + Send + Sync + 'static,
    {
        let load_err = |source| ConfigError::Load {
            path: path.to_path_buf(),
            source,
        };
        let loaded = config::Config::builder()
            .add_source(source)
            .add_source(
                config::Environment::with_prefix("VNET")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .map_err(load_err)?;
        let cfg: DeviceConfig = loaded.try_deserialize().map_err(load_err)?;
        cfg.check()
            .map_err(|(field, message)| ConfigError::Invalid {
                path: path.to_path_buf(),
                field,
                message,
            })?;
        Ok(cfg)
    }

    /// Consistency checks the schema cannot express.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (i, iface) in self.interfaces.iter().enumerate() {
            if !(68..=9000).contains(&iface.mtu) {
                return Err((
                    format!("interfaces[{i}].mtu"),
                    format!("{} is outside 68..=9000 (RFC 791 minimum is 68)", iface.mtu),
                ));
            }
            if self.interfaces[..i].iter().any(|o| o.name == iface.name) {
                return Err((
                    format!("interfaces[{i}].name"),
                    format!("{:?} is used twice", iface.name),
                ));
            }
        }
        for (i, n) in self.neighbors.iter().enumerate() {
            if !self
                .interfaces
                .iter()
                .any(|iface| iface.name == n.interface)
            {
                return Err((
                    format!("neighbors[{i}].interface"),
                    format!("no interface named {:?}", n.interface),
                ));
            }
        }
        Ok(())
    }

    /// Index of the interface named `name`.
    pub fn port_of(&self, name: &str) -> Option<usize> {
        self.interfaces.iter().position(|i| i.name == name)
    }
}
