//! The topology file as written: TOML deserialised into spanned values,
//! before any check. Type errors (a string where a number belongs, an
//! unknown key) are reported here, with the field path.

use super::{Locator, TopologyError, impair, ospf, rip};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLab {
    pub(super) name: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) links: Vec<Spanned<RawLink>>,
    #[serde(default)]
    pub(super) devices: BTreeMap<String, Spanned<RawDevice>>,
    pub(super) capture_dir: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLink {
    pub(super) a: Spanned<String>,
    pub(super) b: Spanned<String>,
    pub(super) mtu: Option<Spanned<u16>>,
    pub(super) impair: Option<Spanned<impair::RawImpair>>,
    pub(super) impair_a: Option<Spanned<impair::RawImpair>>,
    pub(super) impair_b: Option<Spanned<impair::RawImpair>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDevice {
    pub(super) kind: Spanned<String>,
    #[serde(default)]
    pub(super) interfaces: BTreeMap<String, Spanned<RawInterface>>,
    pub(super) gateway: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) nameservers: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) routes: Vec<Spanned<RawRoute>>,
    pub(super) mac_table_capacity: Option<Spanned<usize>>,
    pub(super) mac_aging_secs: Option<Spanned<u64>>,
    pub(super) role: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) zones: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) root_hints: Vec<Spanned<String>>,
    pub(super) cache_capacity: Option<Spanned<usize>>,
    #[serde(default)]
    pub(super) allow_transfer: Vec<Spanned<String>>,
    pub(super) root: Option<Spanned<String>>,
    pub(super) idle_timeout_secs: Option<Spanned<u64>>,
    pub(super) max_requests_per_connection: Option<Spanned<u32>>,
    pub(super) ttl: Option<Spanned<u8>>,
    pub(super) cpus: Option<Spanned<String>>,
    pub(super) rip: Option<Spanned<rip::RawRip>>,
    pub(super) ospf: Option<Spanned<ospf::RawOspf>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInterface {
    pub(super) address: Option<Spanned<String>>,
    pub(super) mtu: Option<Spanned<u16>>,
    pub(super) dhcp: Option<Spanned<RawDhcp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDhcp {
    pub(super) pool: Spanned<String>,
    #[serde(default)]
    pub(super) dns: Vec<Spanned<String>>,
    pub(super) lease_secs: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub(super) to: Spanned<String>,
    pub(super) via: Spanned<String>,
}

/// Parses the TOML of `loc` and deserialises it, every error located.
pub(super) fn read(loc: &Locator<'_>) -> Result<RawLab, TopologyError> {
    let de = toml::Deserializer::parse(loc.text)
        .map_err(|e| loc.error(e.span(), "", e.message().to_string()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = field_path(e.path());
        let e = e.into_inner();
        loc.error(e.span(), field, e.message().to_string())
    })
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
