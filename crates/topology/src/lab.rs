//! The topology file: which devices exist and how cables join them.
//!
//! ```toml
//! name = "lab"
//! links = [
//!   { a = "client:eth0", b = "sw1:eth0" },
//!   { a = "r2:eth1", b = "r3:eth0", mtu = 576 },
//! ]
//!
//! [devices.client]
//! kind = "host"
//! gateway = "10.0.1.1"
//! interfaces.eth0 = { address = "10.0.1.10/24" }
//!
//! [devices.sw1]
//! kind = "switch"            # ports come from the links
//!
//! [devices.r1]
//! kind = "router"
//! interfaces.eth0 = { address = "10.0.1.1/24" }
//! routes = [{ to = "10.0.0.0/8", via = "10.0.12.2" }]
//! ```
//!
//! Every error names the file, line, column and field, and nothing starts
//! until the whole file is valid.

use crate::device::{DEFAULT_MTU, DeviceKind, DnsConfig, DnsRole, SwitchConfig, ZoneText};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use vnet_wire::ip::Ipv4Cidr;

/// A topology error located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TopologyError {
    /// The topology file.
    pub file: PathBuf,
    /// 1-based line (0 when the error is about the file as a whole).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Field path, e.g. `links[3].b` or `devices.r1.routes[0].via`.
    pub field: String,
    /// What is wrong and, where it helps, what would be right.
    pub message: String,
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLab {
    name: Option<Spanned<String>>,
    #[serde(default)]
    links: Vec<Spanned<RawLink>>,
    #[serde(default)]
    devices: BTreeMap<String, Spanned<RawDevice>>,
    capture_dir: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    a: Spanned<String>,
    b: Spanned<String>,
    mtu: Option<Spanned<u16>>,
    impair: Option<Spanned<impair::RawImpair>>,
    impair_a: Option<Spanned<impair::RawImpair>>,
    impair_b: Option<Spanned<impair::RawImpair>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    kind: Spanned<String>,
    #[serde(default)]
    interfaces: BTreeMap<String, Spanned<RawInterface>>,
    gateway: Option<Spanned<String>>,
    #[serde(default)]
    nameservers: Vec<Spanned<String>>,
    #[serde(default)]
    routes: Vec<Spanned<RawRoute>>,
    mac_table_capacity: Option<Spanned<usize>>,
    mac_aging_secs: Option<Spanned<u64>>,
    role: Option<Spanned<String>>,
    #[serde(default)]
    zones: Vec<Spanned<String>>,
    #[serde(default)]
    root_hints: Vec<Spanned<String>>,
    cache_capacity: Option<Spanned<usize>>,
    #[serde(default)]
    allow_transfer: Vec<Spanned<String>>,
    root: Option<Spanned<String>>,
    idle_timeout_secs: Option<Spanned<u64>>,
    max_requests_per_connection: Option<Spanned<u32>>,
    ttl: Option<Spanned<u8>>,
    rip: Option<Spanned<rip::RawRip>>,
    ospf: Option<Spanned<ospf::RawOspf>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawInterface {
    address: Option<Spanned<String>>,
    mtu: Option<Spanned<u16>>,
    dhcp: Option<Spanned<RawDhcp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDhcp {
    pool: Spanned<String>,
    #[serde(default)]
    dns: Vec<Spanned<String>>,
    lease_secs: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    to: Spanned<String>,
    via: Spanned<String>,
}

/// One end of a link: `device:interface`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Device name.
    pub device: String,
    /// Interface name.
    pub interface: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.device, self.interface)
    }
}

/// A validated interface.
#[derive(Debug, Clone, PartialEq)]
pub struct LabInterface {
    /// Name (`eth0`).
    pub name: String,
    /// Address, if any (switch ports have none).
    pub address: Option<Ipv4Cidr>,
    /// IP MTU.
    pub mtu: u16,
    /// Index of the link it is wired to.
    pub link: usize,
    /// The TAP device this interface is wired to, when the link's other end is `tap:NAME`.
    pub tap: Option<String>,
    /// The address comes from DHCP (`address = "dhcp"`).
    pub dhcp_client: bool,
    /// A DHCP server runs on this interface.
    pub dhcp_server: Option<crate::device::DhcpServerSettings>,
    /// Impairments on what this interface sends (the link's `impair`).
    pub impairments: Option<impair::LinkImpairments>,
}

/// A validated device.
#[derive(Debug, Clone, PartialEq)]
pub struct LabDevice {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: DeviceKind,
    /// Interfaces in port order (sorted by name, `eth2` before `eth10`).
    pub interfaces: Vec<LabInterface>,
    /// Default gateway.
    pub gateway: Option<Ipv4Addr>,
    /// DNS servers for the host's stub resolver.
    pub nameservers: Vec<Ipv4Addr>,
    /// Static routes.
    pub routes: Vec<(Ipv4Cidr, Ipv4Addr)>,
    /// Switch settings.
    pub switch: SwitchConfig,
    /// DNS settings (DNS servers), zone files already read.
    pub dns: Option<DnsConfig>,
    /// Web settings (web servers); the root is absolute.
    pub web: Option<crate::device::WebConfig>,
    /// Initial TTL of the packets the device originates (None: 64).
    pub ttl: Option<u8>,
    /// RIPv2 settings (routers).
    pub rip: Option<crate::device::RipSettings>,
    /// OSPFv2 settings (routers).
    pub ospf: Option<crate::device::OspfSettings>,
}

/// A validated link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabLink {
    /// First end.
    pub a: Endpoint,
    /// Second end.
    pub b: Endpoint,
}

/// A validated topology.
#[derive(Debug, Clone, PartialEq)]
pub struct Lab {
    /// Lab name (the file stem when not given).
    pub name: String,
    /// Devices sorted by name.
    pub devices: Vec<LabDevice>,
    /// Links in file order.
    pub links: Vec<LabLink>,
    /// Capture directory for every interface, if set.
    pub capture_dir: Option<PathBuf>,
}

struct Locator<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Locator<'_> {
    /// The value of `v` when it is at least 1, else an error naming `field`
    /// and saying what the value means.
    fn at_least_one<T: Copy + Into<u64>>(
        &self,
        v: &Spanned<T>,
        field: String,
        meaning: &str,
    ) -> Result<T, TopologyError> {
        let value = *v.get_ref();
        if value.into() == 0 {
            return Err(self.error(
                Some(v.span()),
                field,
                format!("must be at least 1 ({meaning})"),
            ));
        }
        Ok(value)
    }

    fn error(
        &self,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> TopologyError {
        let (line, column) = match span {
            Some(span) => {
                let start = span.start.min(self.text.len());
                let before = &self.text[..start];
                let line = before.matches('\n').count() + 1;
                let column = start - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
                (line, column)
            }
            None => (0, 0),
        };
        TopologyError {
            file: self.file.to_path_buf(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The field a deserialisation error belongs to, as validation errors name
/// it (`links[2].mtu`, `devices.r1.interfaces.eth0`), without the private
/// keys of `toml::Spanned`.
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } if key.starts_with("$__serde_spanned_private") => {}
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// The pseudo-device of `tap:NAME` link ends: a Linux TAP device.
pub const TAP_ENDPOINT: &str = "tap";

/// Linux interface names: at most 15 bytes (IFNAMSIZ - 1).
fn valid_tap_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Sort key that orders `eth2` before `eth10`.
fn natural_key(name: &str) -> (String, u64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, num) = name.split_at(name.len() - digits);
    (stem.to_string(), num.parse().unwrap_or(0))
}

/// Reads and checks a router interface's DHCP server block:
/// `dhcp = { pool = "10.0.1.100-10.0.1.199", dns = ["10.0.2.53"], lease_secs = 3600 }`.
fn dhcp_server_settings(
    loc: &Locator<'_>,
    field: &str,
    raw: &Spanned<RawDhcp>,
    address: Option<Ipv4Cidr>,
) -> Result<crate::device::DhcpServerSettings, TopologyError> {
    let d = raw.get_ref();
    let bad_pool = || {
        loc.error(Some(d.pool.span()), format!("{field}.pool"), format!(
            "{:?} should be FIRST-LAST inside the interface's subnet, e.g. \"10.0.1.100-10.0.1.199\"",
            d.pool.get_ref()
        ))
    };
    let (a, b) = d.pool.get_ref().split_once('-').ok_or_else(bad_pool)?;
    let start: Ipv4Addr = a.trim().parse().map_err(|_| bad_pool())?;
    let end: Ipv4Addr = b.trim().parse().map_err(|_| bad_pool())?;
    let subnet = address.map(|a| a.network());
    if u32::from(start) > u32::from(end)
        || !subnet.is_some_and(|n| n.contains(start) && n.contains(end))
    {
        return Err(bad_pool());
    }
    if address
        .is_some_and(|a| (u32::from(start)..=u32::from(end)).contains(&u32::from(a.address())))
    {
        return Err(loc.error(
            Some(d.pool.span()),
            format!("{field}.pool"),
            "the pool contains the router's own address",
        ));
    }
    let mut dns_servers = Vec::new();
    for (i, s) in d.dns.iter().enumerate() {
        dns_servers.push(s.get_ref().parse::<Ipv4Addr>().map_err(|e| {
            loc.error(
                Some(s.span()),
                format!("{field}.dns[{i}]"),
                format!("{:?}: {e}", s.get_ref()),
            )
        })?);
    }
    Ok(crate::device::DhcpServerSettings {
        pool_start: start,
        pool_end: end,
        dns_servers,
        lease_secs: d
            .lease_secs
            .as_ref()
            .map(|l| *l.get_ref())
            .unwrap_or(3600)
            .max(10),
    })
}

/// Reads and checks the DNS settings of a device: only DNS devices have
/// them; an authoritative server needs zones, a resolver root hints. Zone
/// files are read relative to the topology file and embedded.
fn dns_settings(
    loc: &Locator<'_>,
    file: &Path,
    field: &str,
    kind: DeviceKind,
    raw: &RawDevice,
) -> Result<Option<DnsConfig>, TopologyError> {
    if kind != DeviceKind::Dns {
        for (name, span) in [
            ("role", raw.role.as_ref().map(|r| r.span())),
            ("zones", raw.zones.first().map(|z| z.span())),
            ("root_hints", raw.root_hints.first().map(|z| z.span())),
            (
                "cache_capacity",
                raw.cache_capacity.as_ref().map(|z| z.span()),
            ),
            (
                "allow_transfer",
                raw.allow_transfer.first().map(|z| z.span()),
            ),
        ] {
            if let Some(span) = span {
                return Err(loc.error(
                    Some(span),
                    format!("{field}.{name}"),
                    format!("only DNS devices (kind = \"dns\") take `{name}`"),
                ));
            }
        }
        return Ok(None);
    }
    let Some(role_text) = &raw.role else {
        return Err(loc.error(
            Some(raw.kind.span()),
            format!("{field}.role"),
            "missing: a DNS device needs role = \"authoritative\" or \"resolver\"",
        ));
    };
    let role = match role_text.get_ref().as_str() {
        "authoritative" => DnsRole::Authoritative,
        "resolver" => DnsRole::Resolver,
        other => {
            return Err(loc.error(
                Some(role_text.span()),
                format!("{field}.role"),
                format!("{other:?} is not a role (authoritative or resolver)"),
            ));
        }
    };
    let base = file.parent().unwrap_or(Path::new("."));
    let mut zones = Vec::new();
    for (i, z) in raw.zones.iter().enumerate() {
        let path = base.join(z.get_ref());
        let text = std::fs::read_to_string(&path).map_err(|e| {
            loc.error(
                Some(z.span()),
                format!("{field}.zones[{i}]"),
                format!("cannot read zone file {}: {e}", path.display()),
            )
        })?;
        zones.push(ZoneText {
            file: z.get_ref().clone(),
            text,
        });
    }
    let mut root_hints = Vec::new();
    for (i, h) in raw.root_hints.iter().enumerate() {
        root_hints.push(h.get_ref().parse::<Ipv4Addr>().map_err(|e| {
            loc.error(
                Some(h.span()),
                format!("{field}.root_hints[{i}]"),
                format!("{:?}: {e}", h.get_ref()),
            )
        })?);
    }
    let mut allow_transfer = Vec::new();
    for (i, a) in raw.allow_transfer.iter().enumerate() {
        let text = a.get_ref();
        let parsed = match text.parse::<Ipv4Addr>() {
            Ok(addr) => Ipv4Cidr::new(addr, 32).map_err(|e| e.to_string()),
            Err(_) => text.parse::<Ipv4Cidr>().map_err(|e| e.to_string()),
        };
        allow_transfer.push(parsed.map_err(|e| {
            loc.error(
                Some(a.span()),
                format!("{field}.allow_transfer[{i}]"),
                format!("{text:?} is not an address or a network ({e})"),
            )
        })?);
    }
    match role {
        DnsRole::Authoritative if zones.is_empty() => {
            return Err(loc.error(
                Some(role_text.span()),
                format!("{field}.zones"),
                "an authoritative server needs at least one zone file",
            ));
        }
        DnsRole::Resolver if root_hints.is_empty() => {
            return Err(loc.error(
                Some(role_text.span()),
                format!("{field}.root_hints"),
                "a resolver needs at least one root server address",
            ));
        }
        _ => {}
    }
    Ok(Some(DnsConfig {
        role,
        zones,
        root_hints,
        cache_capacity: raw
            .cache_capacity
            .as_ref()
            .map(|c| *c.get_ref())
            .unwrap_or(10_000),
        allow_transfer,
    }))
}

impl Lab {
    /// Reads and validates a topology file.
    pub fn load(path: &Path) -> Result<Lab, TopologyError> {
        let text = std::fs::read_to_string(path).map_err(|e| TopologyError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read the topology file: {e}"),
        })?;
        Lab::parse(path, &text)
    }

    /// Validates topology `text` that came from `file`.
    pub fn parse(file: &Path, text: &str) -> Result<Lab, TopologyError> {
        let loc = Locator { file, text };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| loc.error(e.span(), "", e.message().to_string()))?;
        let raw: RawLab = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = field_path(e.path());
            let e = e.into_inner();
            loc.error(e.span(), field, e.message().to_string())
        })?;
        if raw.devices.is_empty() {
            let kinds: Vec<_> = DeviceKind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(loc.error(None, "", format!(
                "the topology has no devices: add a [devices.NAME] table with kind = one of {}, and links joining them",
                kinds.join(", ")
            )));
        }
        let name = match &raw.name {
            Some(n) if !valid_name(n.get_ref()) => {
                return Err(loc.error(Some(n.span()), "name", format!(
                    "{:?} is not a valid lab name (lowercase letters, digits and '-', starting with a letter, at most 32)",
                    n.get_ref()
                )));
            }
            Some(n) => n.get_ref().clone(),
            None => file
                .file_stem()
                .map(|s| s.to_string_lossy().to_lowercase())
                .unwrap_or_else(|| "lab".into()),
        };

        // Devices and their declared interfaces.
        let mut devices: Vec<LabDevice> = Vec::new();
        let mut declared: HashMap<(String, String), Range<usize>> = HashMap::new();
        for (dev_name, raw_dev) in &raw.devices {
            let span = raw_dev.span();
            let raw_dev = raw_dev.get_ref();
            let field = format!("devices.{dev_name}");
            if dev_name == TAP_ENDPOINT {
                return Err(loc.error(Some(span), field, "\"tap\" is reserved for TAP link ends (\"tap:NAME\"); pick another device name"));
            }
            if !valid_name(dev_name) {
                return Err(loc.error(Some(span), field, format!(
                    "{dev_name:?} is not a valid device name (lowercase letters, digits and '-', starting with a letter, at most 32)"
                )));
            }
            let kind = DeviceKind::from_name(raw_dev.kind.get_ref()).ok_or_else(|| {
                let known: Vec<_> = DeviceKind::ALL.iter().map(|k| k.as_str()).collect();
                loc.error(
                    Some(raw_dev.kind.span()),
                    format!("{field}.kind"),
                    format!(
                        "unknown kind {:?} (expected one of: {})",
                        raw_dev.kind.get_ref(),
                        known.join(", ")
                    ),
                )
            })?;
            let mut interfaces = Vec::new();
            for (if_name, raw_if) in &raw_dev.interfaces {
                let if_field = format!("{field}.interfaces.{if_name}");
                if !valid_name(if_name) {
                    return Err(loc.error(
                        Some(raw_if.span()),
                        if_field,
                        format!("{if_name:?} is not a valid interface name"),
                    ));
                }
                let raw_if_ref = raw_if.get_ref();
                let dhcp_client = raw_if_ref
                    .address
                    .as_ref()
                    .is_some_and(|a| a.get_ref() == "dhcp");
                if dhcp_client && kind != DeviceKind::Host {
                    let span = raw_if_ref.address.as_ref().map(|a| a.span());
                    return Err(loc.error(
                        span,
                        format!("{if_field}.address"),
                        "only hosts obtain their address by DHCP",
                    ));
                }
                let address = match &raw_if_ref.address {
                    None => None,
                    Some(_) if dhcp_client => None,
                    Some(a) if kind == DeviceKind::Switch => {
                        return Err(loc.error(
                            Some(a.span()),
                            format!("{if_field}.address"),
                            "switch ports carry no IP address",
                        ));
                    }
                    Some(a) => Some(a.get_ref().parse::<Ipv4Cidr>().map_err(|e| {
                        loc.error(
                            Some(a.span()),
                            format!("{if_field}.address"),
                            format!("{:?}: {e} (expected e.g. \"10.0.1.1/24\")", a.get_ref()),
                        )
                    })?),
                };
                if kind != DeviceKind::Switch && address.is_none() && !dhcp_client {
                    return Err(loc.error(
                        Some(raw_if.span()),
                        format!("{if_field}.address"),
                        "missing: hosts and routers need an address such as \"10.0.1.10/24\" (hosts may use \"dhcp\")",
                    ));
                }
                let dhcp_server = match &raw_if_ref.dhcp {
                    None => None,
                    Some(d) if kind != DeviceKind::Router => {
                        return Err(loc.error(
                            Some(d.span()),
                            format!("{if_field}.dhcp"),
                            "only routers run DHCP servers",
                        ));
                    }
                    Some(d) => Some(dhcp_server_settings(
                        &loc,
                        &format!("{if_field}.dhcp"),
                        d,
                        address,
                    )?),
                };
                let mtu = match &raw_if_ref.mtu {
                    Some(m) if !(68..=9000).contains(m.get_ref()) => {
                        return Err(loc.error(
                            Some(m.span()),
                            format!("{if_field}.mtu"),
                            format!("{} is outside 68..=9000", m.get_ref()),
                        ));
                    }
                    Some(m) => *m.get_ref(),
                    None => 0, // filled from the link or the default below
                };
                declared.insert((dev_name.clone(), if_name.clone()), raw_if.span());
                interfaces.push(LabInterface {
                    name: if_name.clone(),
                    address,
                    mtu,
                    link: usize::MAX,
                    tap: None,
                    dhcp_client,
                    dhcp_server,
                    impairments: None,
                });
            }
            // Overlapping subnets on one device make forwarding ambiguous.
            for (i, x) in interfaces.iter().enumerate() {
                for y in &interfaces[..i] {
                    if let (Some(ax), Some(ay)) = (x.address, y.address)
                        && ax.network().overlaps(&ay.network())
                    {
                        return Err(loc.error(
                            declared.get(&(dev_name.clone(), x.name.clone())).cloned(),
                            format!("{field}.interfaces.{}.address", x.name),
                            format!(
                                "{ax} overlaps {ay} on interface {} of the same device",
                                y.name
                            ),
                        ));
                    }
                }
            }
            let gateway = match &raw_dev.gateway {
                None => None,
                Some(g) => Some(g.get_ref().parse::<Ipv4Addr>().map_err(|e| {
                    loc.error(
                        Some(g.span()),
                        format!("{field}.gateway"),
                        format!("{:?}: {e}", g.get_ref()),
                    )
                })?),
            };
            let mut nameservers = Vec::new();
            for (i, n) in raw_dev.nameservers.iter().enumerate() {
                if kind != DeviceKind::Host {
                    return Err(loc.error(
                        Some(n.span()),
                        format!("{field}.nameservers"),
                        "only hosts take nameservers",
                    ));
                }
                nameservers.push(n.get_ref().parse::<Ipv4Addr>().map_err(|e| {
                    loc.error(
                        Some(n.span()),
                        format!("{field}.nameservers[{i}]"),
                        format!("{:?}: {e}", n.get_ref()),
                    )
                })?);
            }
            let mut routes = Vec::new();
            for (i, r) in raw_dev.routes.iter().enumerate() {
                let r = r.get_ref();
                let to = r.to.get_ref().parse::<Ipv4Cidr>().map_err(|e| {
                    loc.error(
                        Some(r.to.span()),
                        format!("{field}.routes[{i}].to"),
                        format!("{:?}: {e}", r.to.get_ref()),
                    )
                })?;
                let via = r.via.get_ref().parse::<Ipv4Addr>().map_err(|e| {
                    loc.error(
                        Some(r.via.span()),
                        format!("{field}.routes[{i}].via"),
                        format!("{:?}: {e}", r.via.get_ref()),
                    )
                })?;
                if !interfaces
                    .iter()
                    .filter_map(|i| i.address)
                    .any(|a| a.contains(via))
                {
                    return Err(loc.error(
                        Some(r.via.span()),
                        format!("{field}.routes[{i}].via"),
                        format!("next hop {via} is not on any network of {dev_name}'s interfaces"),
                    ));
                }
                routes.push((to.network(), via));
            }
            if let Some(g) = &raw_dev.gateway {
                let gw = gateway.unwrap_or(Ipv4Addr::UNSPECIFIED);
                if !interfaces
                    .iter()
                    .filter_map(|i| i.address)
                    .any(|a| a.contains(gw))
                {
                    return Err(loc.error(
                        Some(g.span()),
                        format!("{field}.gateway"),
                        format!("gateway {gw} is not on any network of {dev_name}'s interfaces"),
                    ));
                }
            }
            let mut switch = SwitchConfig::default();
            if let Some(c) = &raw_dev.mac_table_capacity {
                switch.mac_table_capacity = *c.get_ref();
            }
            if let Some(a) = &raw_dev.mac_aging_secs {
                switch.mac_aging_secs = *a.get_ref();
            }
            let dns = dns_settings(&loc, file, &field, kind, raw_dev)?;
            let web_only = [
                (
                    "idle_timeout_secs",
                    raw_dev.idle_timeout_secs.as_ref().map(|v| v.span()),
                ),
                (
                    "max_requests_per_connection",
                    raw_dev
                        .max_requests_per_connection
                        .as_ref()
                        .map(|v| v.span()),
                ),
            ];
            if kind != DeviceKind::Web
                && let Some((key, Some(span))) = web_only.into_iter().find(|(_, s)| s.is_some())
            {
                return Err(loc.error(
                    Some(span),
                    format!("{field}.{key}"),
                    format!("only web servers (kind = \"web\") take `{key}`"),
                ));
            }
            let web = match (&raw_dev.root, kind) {
                (Some(root), DeviceKind::Web) => {
                    let base = file.parent().unwrap_or(Path::new("."));
                    let path = base.join(root.get_ref());
                    let path = std::fs::canonicalize(&path).map_err(|e| {
                        loc.error(
                            Some(root.span()),
                            format!("{field}.root"),
                            format!("cannot open {}: {e}", path.display()),
                        )
                    })?;
                    if !path.is_dir() {
                        return Err(loc.error(
                            Some(root.span()),
                            format!("{field}.root"),
                            format!("{} is not a directory", path.display()),
                        ));
                    }
                    let mut web = crate::device::WebConfig {
                        root: path,
                        port: 80,
                        idle_timeout_secs: 15,
                        max_requests_per_connection: 100,
                        tls_port: 443,
                    };
                    if let Some(v) = &raw_dev.idle_timeout_secs {
                        web.idle_timeout_secs = loc.at_least_one(
                            v,
                            format!("{field}.idle_timeout_secs"),
                            "seconds an idle keep-alive connection stays open",
                        )?;
                    }
                    if let Some(v) = &raw_dev.max_requests_per_connection {
                        web.max_requests_per_connection = loc.at_least_one(
                            v,
                            format!("{field}.max_requests_per_connection"),
                            "requests served on one connection before it is closed",
                        )?;
                    }
                    Some(web)
                }
                (None, DeviceKind::Web) => {
                    return Err(loc.error(Some(raw_dev.kind.span()), format!("{field}.root"), "missing: a web server needs root = \"www\" (a directory, relative to the topology file)"));
                }
                (Some(root), _) => {
                    return Err(loc.error(
                        Some(root.span()),
                        format!("{field}.root"),
                        "only web servers (kind = \"web\") take `root`",
                    ));
                }
                (None, _) => None,
            };
            let ttl = match &raw_dev.ttl {
                Some(t) => Some(loc.at_least_one(
                    t,
                    format!("{field}.ttl"),
                    "the initial TTL of packets the device sends; 64 as Linux when absent",
                )?),
                None => None,
            };
            let rip = match &raw_dev.rip {
                Some(r) => {
                    let names: Vec<String> = interfaces.iter().map(|i| i.name.clone()).collect();
                    Some(rip::settings(&loc, &field, kind, r, &names)?)
                }
                None => None,
            };
            let ospf = match &raw_dev.ospf {
                Some(o) => {
                    let names: Vec<String> = interfaces.iter().map(|i| i.name.clone()).collect();
                    Some(ospf::settings(&loc, &field, kind, o, &names)?)
                }
                None => None,
            };
            devices.push(LabDevice {
                ttl,
                rip,
                ospf,
                name: dev_name.clone(),
                kind,
                interfaces,
                gateway,
                nameservers,
                routes,
                switch,
                dns,
                web,
            });
        }

        // Links.
        let mut links = Vec::new();
        let mut used: HashMap<Endpoint, (usize, Range<usize>)> = HashMap::new();
        for (index, raw_link) in raw.links.iter().enumerate() {
            let link_span = raw_link.span();
            let raw_link = raw_link.get_ref();
            let mut ends = Vec::new();
            for (side, value) in [("a", &raw_link.a), ("b", &raw_link.b)] {
                let field = format!("links[{index}].{side}");
                let text = value.get_ref();
                let Some((dev, iface)) = text.split_once(':') else {
                    return Err(loc.error(
                        Some(value.span()),
                        field,
                        format!("{text:?} should be \"device:interface\", e.g. \"r1:eth0\""),
                    ));
                };
                if dev == TAP_ENDPOINT {
                    let endpoint = Endpoint {
                        device: TAP_ENDPOINT.to_string(),
                        interface: iface.to_string(),
                    };
                    if !valid_tap_name(iface) {
                        return Err(loc.error(
                            Some(value.span()),
                            field,
                            format!("{iface:?} is not a valid TAP device name (1-15 letters, digits, '-', '_', '.')"),
                        ));
                    }
                    if let Some((other, _)) = used.get(&endpoint) {
                        return Err(loc.error(
                            Some(value.span()),
                            field,
                            format!("{endpoint} is already used by links[{other}]"),
                        ));
                    }
                    used.insert(endpoint.clone(), (index, value.span()));
                    ends.push(endpoint);
                    continue;
                }
                let Some(device) = devices.iter_mut().find(|d| d.name == dev) else {
                    let known: Vec<_> = raw.devices.keys().map(String::as_str).collect();
                    return Err(loc.error(
                        Some(value.span()),
                        field,
                        format!("unknown device {dev:?} (devices: {})", known.join(", ")),
                    ));
                };
                if !valid_name(iface) {
                    return Err(loc.error(
                        Some(value.span()),
                        field,
                        format!("{iface:?} is not a valid interface name"),
                    ));
                }
                let endpoint = Endpoint {
                    device: dev.to_string(),
                    interface: iface.to_string(),
                };
                if let Some((other, _)) = used.get(&endpoint) {
                    return Err(loc.error(
                        Some(value.span()),
                        field,
                        format!("port {endpoint} is already used by links[{other}]"),
                    ));
                }
                match device.interfaces.iter_mut().find(|i| i.name == iface) {
                    Some(i) => i.link = index,
                    None if device.kind == DeviceKind::Switch => {
                        device.interfaces.push(LabInterface {
                            name: iface.to_string(),
                            address: None,
                            mtu: 0,
                            link: index,
                            tap: None,
                            dhcp_client: false,
                            dhcp_server: None,
                            impairments: None,
                        })
                    }
                    None => {
                        let known: Vec<_> =
                            device.interfaces.iter().map(|i| i.name.as_str()).collect();
                        return Err(loc.error(Some(value.span()), field, format!(
                            "{dev} has no interface {iface:?} (declared: {}); add devices.{dev}.interfaces.{iface}",
                            known.join(", ")
                        )));
                    }
                }
                used.insert(endpoint.clone(), (index, value.span()));
                ends.push(endpoint);
            }
            let (a, b) = (ends[0].clone(), ends[1].clone());
            // A TAP end hands the link to the kernel: record it on the device side.
            for (tap, dev) in [(&a, &b), (&b, &a)] {
                if tap.device == TAP_ENDPOINT
                    && let Some(i) = devices
                        .iter_mut()
                        .find(|d| d.name == dev.device)
                        .and_then(|d| d.interfaces.iter_mut().find(|i| i.name == dev.interface))
                {
                    i.tap = Some(tap.interface.clone());
                }
            }
            if a.device == b.device {
                return Err(loc.error(
                    Some(link_span),
                    format!("links[{index}]"),
                    format!(
                        "a link must join two different devices, both ends are on {}",
                        a.device
                    ),
                ));
            }
            if let Some(m) = &raw_link.mtu {
                if !(68..=9000).contains(m.get_ref()) {
                    return Err(loc.error(
                        Some(m.span()),
                        format!("links[{index}].mtu"),
                        format!("{} is outside 68..=9000", m.get_ref()),
                    ));
                }
                for end in [&a, &b] {
                    if let Some(i) = devices
                        .iter_mut()
                        .find(|d| d.name == end.device)
                        .and_then(|d| d.interfaces.iter_mut().find(|i| i.name == end.interface))
                        && i.mtu == 0
                    {
                        i.mtu = *m.get_ref();
                    }
                }
            }
            let impairs = [&raw_link.impair, &raw_link.impair_a, &raw_link.impair_b];
            impair::apply(&loc, index, impairs, [&a, &b], &mut devices)?;
            links.push(LabLink { a, b });
        }

        // Every declared interface must be wired; fill default MTUs; port order.
        let mut addresses: HashMap<Ipv4Addr, String> = HashMap::new();
        for device in &mut devices {
            for i in &mut device.interfaces {
                if i.link == usize::MAX {
                    let span = declared
                        .get(&(device.name.clone(), i.name.clone()))
                        .cloned();
                    return Err(loc.error(
                        span,
                        format!("devices.{}.interfaces.{}", device.name, i.name),
                        "is not connected: add a link such as { a = \"<this>\", b = \"<peer>\" }",
                    ));
                }
                if i.mtu == 0 {
                    i.mtu = DEFAULT_MTU;
                }
                if let Some(a) = i.address {
                    let here = format!("{}:{}", device.name, i.name);
                    if let Some(other) = addresses.insert(a.address(), here.clone()) {
                        let span = declared
                            .get(&(device.name.clone(), i.name.clone()))
                            .cloned();
                        return Err(loc.error(
                            span,
                            format!("devices.{}.interfaces.{}.address", device.name, i.name),
                            format!("{} is also assigned to {other}", a.address()),
                        ));
                    }
                }
            }
            device.interfaces.sort_by_key(|i| natural_key(&i.name));
        }

        Ok(Lab {
            name,
            devices,
            links,
            capture_dir: raw.capture_dir.map(|c| PathBuf::from(c.into_inner())),
        })
    }

    /// The device named `name`.
    pub fn device(&self, name: &str) -> Option<&LabDevice> {
        self.devices.iter().find(|d| d.name == name)
    }
}

pub mod impair;
mod ospf;
mod rip;
#[cfg(test)]
mod tests;
