//! `[devices.NAME]`: one device's name and kind, its interfaces, its
//! gateway, name servers and static routes, and the settings of its kind.

use super::raw::RawDevice;
use super::{
    Declared, LabDevice, LabInterface, Locator, TAP_ENDPOINT, TopologyError, dns, interfaces, ospf,
    rip, valid_name, web,
};
use crate::device::{DeviceKind, SwitchConfig};
use std::net::Ipv4Addr;
use std::ops::Range;
use toml::Spanned;
use vnet_wire::ip::Ipv4Cidr;

/// Checks device `dev_name` and its interfaces (recorded in `declared`);
/// links are wired later.
pub(super) fn device(
    loc: &Locator<'_>,
    dev_name: &str,
    raw_dev: &Spanned<RawDevice>,
    declared: &mut Declared,
) -> Result<LabDevice, TopologyError> {
    let field = format!("devices.{dev_name}");
    let kind = name_and_kind(loc, &field, dev_name, raw_dev.span(), raw_dev.get_ref())?;
    let raw_dev = raw_dev.get_ref();
    let interfaces =
        interfaces::declared_interfaces(loc, &field, dev_name, kind, raw_dev, declared)?;
    let gateway = gateway(loc, &field, raw_dev)?;
    let nameservers = nameservers(loc, &field, kind, raw_dev)?;
    let routes = routes(loc, &field, dev_name, raw_dev, &interfaces)?;
    if let Some(g) = &raw_dev.gateway {
        let gw = gateway.unwrap_or(Ipv4Addr::UNSPECIFIED);
        if !on_a_network_of(&interfaces, gw) {
            return Err(loc.error(
                Some(g.span()),
                format!("{field}.gateway"),
                format!("gateway {gw} is not on any network of {dev_name}'s interfaces"),
            ));
        }
    }
    let mut device = LabDevice {
        name: dev_name.to_string(),
        kind,
        interfaces,
        gateway,
        nameservers,
        routes,
        switch: switch_settings(raw_dev),
        dns: None,
        web: None,
        ttl: None,
        cpus: cpus(loc, &field, raw_dev)?,
        rip: None,
        ospf: None,
    };
    kind_settings(loc, &field, raw_dev, &mut device)?;
    Ok(device)
}

/// The device's kind, once its name is a valid one.
fn name_and_kind(
    loc: &Locator<'_>,
    field: &str,
    dev_name: &str,
    span: Range<usize>,
    raw_dev: &RawDevice,
) -> Result<DeviceKind, TopologyError> {
    if dev_name == TAP_ENDPOINT {
        return Err(loc.error(
            Some(span),
            field,
            "\"tap\" is reserved for TAP link ends (\"tap:NAME\"); pick another device name",
        ));
    }
    if !valid_name(dev_name) {
        return Err(loc.error(Some(span), field, format!(
            "{dev_name:?} is not a valid device name (lowercase letters, digits and '-', starting with a letter, at most 32)"
        )));
    }
    DeviceKind::from_name(raw_dev.kind.get_ref()).ok_or_else(|| {
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
    })
}

/// The CPUs the device is pinned to, any kind (`cpus = "0-1"`).
fn cpus(
    loc: &Locator<'_>,
    field: &str,
    raw_dev: &RawDevice,
) -> Result<Option<crate::cpus::CpuList>, TopologyError> {
    let Some(c) = &raw_dev.cpus else {
        return Ok(None);
    };
    c.get_ref()
        .parse()
        .map(Some)
        .map_err(|e| loc.error(Some(c.span()), format!("{field}.cpus"), format!("{e}")))
}

/// The default gateway as written (checked against the interfaces later).
fn gateway(
    loc: &Locator<'_>,
    field: &str,
    raw_dev: &RawDevice,
) -> Result<Option<Ipv4Addr>, TopologyError> {
    let Some(g) = &raw_dev.gateway else {
        return Ok(None);
    };
    g.get_ref().parse::<Ipv4Addr>().map(Some).map_err(|e| {
        loc.error(
            Some(g.span()),
            format!("{field}.gateway"),
            format!("{:?}: {e}", g.get_ref()),
        )
    })
}

/// The stub resolver's servers: hosts only.
fn nameservers(
    loc: &Locator<'_>,
    field: &str,
    kind: DeviceKind,
    raw_dev: &RawDevice,
) -> Result<Vec<Ipv4Addr>, TopologyError> {
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
    Ok(nameservers)
}

/// Static routes; each next hop must be on a network of the device.
fn routes(
    loc: &Locator<'_>,
    field: &str,
    dev_name: &str,
    raw_dev: &RawDevice,
    interfaces: &[LabInterface],
) -> Result<Vec<(Ipv4Cidr, Ipv4Addr)>, TopologyError> {
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
        if !on_a_network_of(interfaces, via) {
            return Err(loc.error(
                Some(r.via.span()),
                format!("{field}.routes[{i}].via"),
                format!("next hop {via} is not on any network of {dev_name}'s interfaces"),
            ));
        }
        routes.push((to.network(), via));
    }
    Ok(routes)
}

/// Whether `addr` is on the network of one of `interfaces`.
fn on_a_network_of(interfaces: &[LabInterface], addr: Ipv4Addr) -> bool {
    interfaces
        .iter()
        .filter_map(|i| i.address)
        .any(|a| a.contains(addr))
}

/// The MAC table settings (every kind may set them; switches use them).
fn switch_settings(raw_dev: &RawDevice) -> SwitchConfig {
    let mut switch = SwitchConfig::default();
    if let Some(c) = &raw_dev.mac_table_capacity {
        switch.mac_table_capacity = *c.get_ref();
    }
    if let Some(a) = &raw_dev.mac_aging_secs {
        switch.mac_aging_secs = *a.get_ref();
    }
    switch
}

/// The settings only some kinds take: DNS, web, TTL, RIP and OSPF, in
/// that order of checking.
fn kind_settings(
    loc: &Locator<'_>,
    field: &str,
    raw_dev: &RawDevice,
    device: &mut LabDevice,
) -> Result<(), TopologyError> {
    let kind = device.kind;
    device.dns = dns::settings(loc, field, kind, raw_dev)?;
    device.web = web::settings(loc, field, kind, raw_dev)?;
    if let Some(t) = &raw_dev.ttl {
        device.ttl = Some(loc.at_least_one(
            t,
            format!("{field}.ttl"),
            "the initial TTL of packets the device sends; 64 as Linux when absent",
        )?);
    }
    let names = || -> Vec<String> { device.interfaces.iter().map(|i| i.name.clone()).collect() };
    if let Some(r) = &raw_dev.rip {
        let rip = rip::settings(loc, field, kind, r, &names())?;
        device.rip = Some(rip);
    }
    if let Some(o) = &raw_dev.ospf {
        let ospf = ospf::settings(loc, field, kind, o, &names())?;
        device.ospf = Some(ospf);
    }
    Ok(())
}
