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
//!
//! Checking goes in passes, one submodule each: `raw` reads the TOML,
//! `devices` checks each device (`interfaces`, then its gateway, name
//! servers and routes, then the settings of its kind: `dns`, `web`, `rip`,
//! `ospf`), `links` wires the links (with `impair`), and `validate` checks
//! what needs everything wired.

use crate::device::{DeviceKind, DnsConfig, SwitchConfig};
use std::collections::HashMap;
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
    /// CPUs the device's process may run on (None: any).
    pub cpus: Option<crate::cpus::CpuList>,
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

/// Where each declared interface (device, interface) is written.
type Declared = HashMap<(String, String), Range<usize>>;

/// The lab's `name`, else the file's stem in lowercase.
fn lab_name(loc: &Locator<'_>, raw: &raw::RawLab) -> Result<String, TopologyError> {
    Ok(match &raw.name {
        Some(n) if !valid_name(n.get_ref()) => {
            return Err(loc.error(Some(n.span()), "name", format!(
                "{:?} is not a valid lab name (lowercase letters, digits and '-', starting with a letter, at most 32)",
                n.get_ref()
            )));
        }
        Some(n) => n.get_ref().clone(),
        None => loc
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_else(|| "lab".into()),
    })
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
        let raw = raw::read(&loc)?;
        if raw.devices.is_empty() {
            let kinds: Vec<_> = DeviceKind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(loc.error(None, "", format!(
                "the topology has no devices: add a [devices.NAME] table with kind = one of {}, and links joining them",
                kinds.join(", ")
            )));
        }
        let name = lab_name(&loc, &raw)?;
        let mut declared = Declared::new();
        let mut devices = Vec::new();
        for (dev_name, raw_dev) in &raw.devices {
            devices.push(devices::device(&loc, dev_name, raw_dev, &mut declared)?);
        }
        let links = links::wire(&loc, &raw, &mut devices)?;
        validate::finish(&loc, &declared, &mut devices)?;
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

mod devices;
mod dns;
pub mod impair;
mod interfaces;
mod links;
mod ospf;
mod raw;
mod rip;
#[cfg(test)]
mod tests;
mod validate;
mod web;
