//! A DNS device's settings: `role`, `zones`, `root_hints`,
//! `cache_capacity` and `allow_transfer`. Only DNS devices take them; an
//! authoritative server needs zones, a resolver root hints. Zone files are
//! read relative to the topology file and embedded.

use super::raw::RawDevice;
use super::{Locator, TopologyError};
use crate::device::{DeviceKind, DnsConfig, DnsRole, ZoneText};
use std::net::Ipv4Addr;
use std::path::Path;
use toml::Spanned;
use vnet_wire::ip::Ipv4Cidr;

/// Reads and checks the DNS settings of device `field` (`devices.NAME`).
pub(super) fn settings(
    loc: &Locator<'_>,
    field: &str,
    kind: DeviceKind,
    raw: &RawDevice,
) -> Result<Option<DnsConfig>, TopologyError> {
    if kind != DeviceKind::Dns {
        refuse_dns_keys(loc, field, raw)?;
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
    let zones = zones(loc, field, raw)?;
    let root_hints = root_hints(loc, field, raw)?;
    let allow_transfer = allow_transfer(loc, field, raw)?;
    check_role_needs(loc, field, role, role_text, &zones, &root_hints)?;
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

/// Any DNS key on a device of another kind is refused, the first one named.
fn refuse_dns_keys(loc: &Locator<'_>, field: &str, raw: &RawDevice) -> Result<(), TopologyError> {
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
    Ok(())
}

/// The zone files, read relative to the topology file.
fn zones(loc: &Locator<'_>, field: &str, raw: &RawDevice) -> Result<Vec<ZoneText>, TopologyError> {
    let base = loc.file.parent().unwrap_or(Path::new("."));
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
    Ok(zones)
}

/// The root servers a resolver starts from.
fn root_hints(
    loc: &Locator<'_>,
    field: &str,
    raw: &RawDevice,
) -> Result<Vec<Ipv4Addr>, TopologyError> {
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
    Ok(root_hints)
}

/// Who may transfer the zones: addresses (as /32) or networks.
fn allow_transfer(
    loc: &Locator<'_>,
    field: &str,
    raw: &RawDevice,
) -> Result<Vec<Ipv4Cidr>, TopologyError> {
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
    Ok(allow_transfer)
}

/// An authoritative server needs a zone, a resolver a root hint.
fn check_role_needs(
    loc: &Locator<'_>,
    field: &str,
    role: DnsRole,
    role_text: &Spanned<String>,
    zones: &[ZoneText],
    root_hints: &[Ipv4Addr],
) -> Result<(), TopologyError> {
    match role {
        DnsRole::Authoritative if zones.is_empty() => Err(loc.error(
            Some(role_text.span()),
            format!("{field}.zones"),
            "an authoritative server needs at least one zone file",
        )),
        DnsRole::Resolver if root_hints.is_empty() => Err(loc.error(
            Some(role_text.span()),
            format!("{field}.root_hints"),
            "a resolver needs at least one root server address",
        )),
        _ => Ok(()),
    }
}
