//! `[devices.NAME.interfaces.IF]`: a device's declared interfaces, their
//! addresses (or DHCP), MTU and DHCP server, and the subnets they must
//! not share.

use super::raw::{RawDevice, RawDhcp, RawInterface};
use super::{Declared, LabInterface, Locator, TopologyError, valid_name};
use crate::device::{DeviceKind, DhcpServerSettings};
use std::net::Ipv4Addr;
use toml::Spanned;
use vnet_wire::ip::Ipv4Cidr;

/// The interfaces device `dev_name` (`field` = `devices.NAME`) declares,
/// not yet wired (`link` = `usize::MAX`, `mtu` 0 until a link or the
/// default fills it); each one's span is recorded in `declared`.
pub(super) fn declared_interfaces(
    loc: &Locator<'_>,
    field: &str,
    dev_name: &str,
    kind: DeviceKind,
    raw_dev: &RawDevice,
    declared: &mut Declared,
) -> Result<Vec<LabInterface>, TopologyError> {
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
        interfaces.push(interface(loc, &if_field, if_name, kind, raw_if)?);
        declared.insert((dev_name.to_string(), if_name.clone()), raw_if.span());
    }
    check_overlaps(loc, field, dev_name, &interfaces, declared)?;
    Ok(interfaces)
}

/// One interface `if_name` (`if_field` = `devices.NAME.interfaces.IF`).
fn interface(
    loc: &Locator<'_>,
    if_field: &str,
    if_name: &str,
    kind: DeviceKind,
    raw_if: &Spanned<RawInterface>,
) -> Result<LabInterface, TopologyError> {
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
    let address = address(loc, if_field, kind, raw_if_ref, dhcp_client)?;
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
            loc,
            &format!("{if_field}.dhcp"),
            d,
            address,
        )?),
    };
    Ok(LabInterface {
        name: if_name.to_string(),
        address,
        mtu: mtu(loc, if_field, raw_if_ref)?,
        link: usize::MAX,
        tap: None,
        dhcp_client,
        dhcp_server,
        impairments: None,
    })
}

/// The static address of an interface: none for DHCP clients and for
/// interfaces without one; switch ports take none at all.
fn address(
    loc: &Locator<'_>,
    if_field: &str,
    kind: DeviceKind,
    raw_if: &RawInterface,
    dhcp_client: bool,
) -> Result<Option<Ipv4Cidr>, TopologyError> {
    Ok(match &raw_if.address {
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
    })
}

/// The interface's own MTU, or 0: filled from the link or the default later.
fn mtu(loc: &Locator<'_>, if_field: &str, raw_if: &RawInterface) -> Result<u16, TopologyError> {
    match &raw_if.mtu {
        Some(m) if !(68..=9000).contains(m.get_ref()) => Err(loc.error(
            Some(m.span()),
            format!("{if_field}.mtu"),
            format!("{} is outside 68..=9000", m.get_ref()),
        )),
        Some(m) => Ok(*m.get_ref()),
        None => Ok(0),
    }
}

/// Overlapping subnets on one device make forwarding ambiguous.
fn check_overlaps(
    loc: &Locator<'_>,
    field: &str,
    dev_name: &str,
    interfaces: &[LabInterface],
    declared: &Declared,
) -> Result<(), TopologyError> {
    for (i, x) in interfaces.iter().enumerate() {
        for y in &interfaces[..i] {
            if let (Some(ax), Some(ay)) = (x.address, y.address)
                && ax.network().overlaps(&ay.network())
            {
                return Err(loc.error(
                    declared
                        .get(&(dev_name.to_string(), x.name.clone()))
                        .cloned(),
                    format!("{field}.interfaces.{}.address", x.name),
                    format!(
                        "{ax} overlaps {ay} on interface {} of the same device",
                        y.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Reads and checks a router interface's DHCP server block:
/// `dhcp = { pool = "10.0.1.100-10.0.1.199", dns = ["10.0.2.53"], lease_secs = 3600 }`.
fn dhcp_server_settings(
    loc: &Locator<'_>,
    field: &str,
    raw: &Spanned<RawDhcp>,
    address: Option<Ipv4Cidr>,
) -> Result<DhcpServerSettings, TopologyError> {
    let d = raw.get_ref();
    let (start, end) = dhcp_pool(loc, field, d, address)?;
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
    Ok(DhcpServerSettings {
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

/// The pool `FIRST-LAST`: inside the interface's subnet, in order, and
/// without the router's own address.
fn dhcp_pool(
    loc: &Locator<'_>,
    field: &str,
    d: &RawDhcp,
    address: Option<Ipv4Cidr>,
) -> Result<(Ipv4Addr, Ipv4Addr), TopologyError> {
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
    Ok((start, end))
}
