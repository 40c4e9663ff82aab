//! The last pass, once every link is wired: every declared interface must
//! be connected, no address may be used twice, default MTUs are filled
//! and ports are put in order.

use super::{Declared, LabDevice, Locator, TopologyError, natural_key};
use crate::device::DEFAULT_MTU;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// Checks and completes `devices` (interfaces declared at `declared`).
pub(super) fn finish(
    loc: &Locator<'_>,
    declared: &Declared,
    devices: &mut [LabDevice],
) -> Result<(), TopologyError> {
    let mut addresses: HashMap<Ipv4Addr, String> = HashMap::new();
    for device in devices {
        for i in &mut device.interfaces {
            let span = || {
                declared
                    .get(&(device.name.clone(), i.name.clone()))
                    .cloned()
            };
            if i.link == usize::MAX {
                return Err(loc.error(
                    span(),
                    format!("devices.{}.interfaces.{}", device.name, i.name),
                    "is not connected: add a link such as { a = \"<this>\", b = \"<peer>\" }",
                ));
            }
            if i.mtu == 0 {
                i.mtu = DEFAULT_MTU;
            }
            if let Some(a) = i.address {
                let here = format!("{}:{}", device.name, i.name);
                if let Some(other) = addresses.insert(a.address(), here) {
                    return Err(loc.error(
                        span(),
                        format!("devices.{}.interfaces.{}.address", device.name, i.name),
                        format!("{} is also assigned to {other}", a.address()),
                    ));
                }
            }
        }
        device.interfaces.sort_by_key(|i| natural_key(&i.name));
    }
    Ok(())
}
