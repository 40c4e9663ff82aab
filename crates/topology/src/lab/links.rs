//! `links = [...]`: each link's two ends (`device:interface` or
//! `tap:NAME`), wired to the devices' interfaces (switch ports are created
//! here), with the link's MTU and impairments.

use super::raw::{RawLab, RawLink};
use super::{
    Endpoint, LabDevice, LabInterface, LabLink, Locator, TAP_ENDPOINT, TopologyError, impair,
    valid_name, valid_tap_name,
};
use crate::device::DeviceKind;
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;

/// The ends already used, with the link that uses each.
type Used = HashMap<Endpoint, (usize, Range<usize>)>;

/// Wires every link of `raw` into `devices`, in file order.
pub(super) fn wire(
    loc: &Locator<'_>,
    raw: &RawLab,
    devices: &mut [LabDevice],
) -> Result<Vec<LabLink>, TopologyError> {
    let mut links = Vec::new();
    let mut used = Used::new();
    for (index, raw_link) in raw.links.iter().enumerate() {
        let link_span = raw_link.span();
        let raw_link = raw_link.get_ref();
        let mut ends = Vec::new();
        for (side, value) in [("a", &raw_link.a), ("b", &raw_link.b)] {
            ends.push(end(loc, raw, index, side, value, devices, &mut used)?);
        }
        let (a, b) = (ends[0].clone(), ends[1].clone());
        record_taps(&a, &b, devices);
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
        link_mtu(loc, index, raw_link, [&a, &b], devices)?;
        let impairs = [&raw_link.impair, &raw_link.impair_a, &raw_link.impair_b];
        impair::apply(loc, index, impairs, [&a, &b], devices)?;
        links.push(LabLink { a, b });
    }
    Ok(links)
}

/// One end of link `index` (`side` a or b), marked used.
fn end(
    loc: &Locator<'_>,
    raw: &RawLab,
    index: usize,
    side: &str,
    value: &Spanned<String>,
    devices: &mut [LabDevice],
    used: &mut Used,
) -> Result<Endpoint, TopologyError> {
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
        return tap_end(loc, field, index, value, iface, used);
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
    attach(loc, field, index, value, device, iface)?;
    used.insert(endpoint.clone(), (index, value.span()));
    Ok(endpoint)
}

/// A `tap:NAME` end: the kernel's TAP device `NAME`.
fn tap_end(
    loc: &Locator<'_>,
    field: String,
    index: usize,
    value: &Spanned<String>,
    iface: &str,
    used: &mut Used,
) -> Result<Endpoint, TopologyError> {
    let endpoint = Endpoint {
        device: TAP_ENDPOINT.to_string(),
        interface: iface.to_string(),
    };
    if !valid_tap_name(iface) {
        return Err(loc.error(
            Some(value.span()),
            field,
            format!(
                "{iface:?} is not a valid TAP device name (1-15 letters, digits, '-', '_', '.')"
            ),
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
    Ok(endpoint)
}

/// Wires interface `iface` of `device` to link `index`: a declared
/// interface, or a new port of a switch.
fn attach(
    loc: &Locator<'_>,
    field: String,
    index: usize,
    value: &Spanned<String>,
    device: &mut LabDevice,
    iface: &str,
) -> Result<(), TopologyError> {
    match device.interfaces.iter_mut().find(|i| i.name == iface) {
        Some(i) => i.link = index,
        None if device.kind == DeviceKind::Switch => device.interfaces.push(LabInterface {
            name: iface.to_string(),
            address: None,
            mtu: 0,
            link: index,
            tap: None,
            dhcp_client: false,
            dhcp_server: None,
            impairments: None,
        }),
        None => {
            let dev = &device.name;
            let known: Vec<_> = device.interfaces.iter().map(|i| i.name.as_str()).collect();
            return Err(loc.error(Some(value.span()), field, format!(
                "{dev} has no interface {iface:?} (declared: {}); add devices.{dev}.interfaces.{iface}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// The interface of device end `end`, if there is one.
fn interface_mut<'a>(devices: &'a mut [LabDevice], end: &Endpoint) -> Option<&'a mut LabInterface> {
    devices
        .iter_mut()
        .find(|d| d.name == end.device)
        .and_then(|d| d.interfaces.iter_mut().find(|i| i.name == end.interface))
}

/// A TAP end hands the link to the kernel: record it on the device side.
fn record_taps(a: &Endpoint, b: &Endpoint, devices: &mut [LabDevice]) {
    for (tap, dev) in [(a, b), (b, a)] {
        if tap.device == TAP_ENDPOINT
            && let Some(i) = interface_mut(devices, dev)
        {
            i.tap = Some(tap.interface.clone());
        }
    }
}

/// The link's `mtu`, given to both ends unless an interface set its own.
fn link_mtu(
    loc: &Locator<'_>,
    index: usize,
    raw_link: &RawLink,
    ends: [&Endpoint; 2],
    devices: &mut [LabDevice],
) -> Result<(), TopologyError> {
    let Some(m) = &raw_link.mtu else {
        return Ok(());
    };
    if !(68..=9000).contains(m.get_ref()) {
        return Err(loc.error(
            Some(m.span()),
            format!("links[{index}].mtu"),
            format!("{} is outside 68..=9000", m.get_ref()),
        ));
    }
    for end in ends {
        if let Some(i) = interface_mut(devices, end)
            && i.mtu == 0
        {
            i.mtu = *m.get_ref();
        }
    }
    Ok(())
}
