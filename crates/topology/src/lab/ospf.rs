//! `[devices.NAME.ospf]`: OSPFv2 on a router (RFC 2328), area 0.
//!
//! ```toml
//! [devices.r1.ospf]         # or `ospf = {}` for the RFC's defaults
//! hello_secs = 1            # HelloInterval (RFC 2328 §C.3: 10)
//! dead_secs = 4             # RouterDeadInterval (40)
//! retransmit_secs = 2       # RxmtInterval (5)
//! cost = 10                 # interface output cost (FRR's default)
//! passive = ["eth2"]        # advertised, but no Hellos (stub networks)
//! point_to_point = ["eth1"] # no DR election on these links
//! router_id = "10.0.0.1"    # default: the highest interface address
//! ```

use super::Locator;
use crate::TopologyError;
use crate::device::{DeviceKind, OspfSettings};
use serde::Deserialize;
use std::net::Ipv4Addr;
use toml::Spanned;

/// The settings as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOspf {
    hello_secs: Option<Spanned<u64>>,
    dead_secs: Option<Spanned<u64>>,
    retransmit_secs: Option<Spanned<u64>>,
    cost: Option<Spanned<u16>>,
    #[serde(default)]
    passive: Vec<Spanned<String>>,
    #[serde(default)]
    point_to_point: Vec<Spanned<String>>,
    router_id: Option<Spanned<String>>,
}

/// Checks `raw` for device `field` (`devices.r1`) of `kind` whose
/// interfaces are named `interfaces`.
pub(super) fn settings(
    loc: &Locator<'_>,
    field: &str,
    kind: DeviceKind,
    raw: &Spanned<RawOspf>,
    interfaces: &[String],
) -> Result<OspfSettings, TopologyError> {
    let f = format!("{field}.ospf");
    if kind != DeviceKind::Router {
        return Err(loc.error(Some(raw.span()), f, "only routers run OSPF"));
    }
    let r = raw.get_ref();
    let defaults = OspfSettings::default();
    let secs = |v: &Option<Spanned<u64>>, name: &str, default: u64| match v {
        // RFC 2328 §A.3.2: HelloInterval is 16 bits, RouterDeadInterval 32.
        Some(v) if !(1..=65_535).contains(v.get_ref()) => Err(loc.error(
            Some(v.span()),
            format!("{f}.{name}"),
            format!("{} is outside 1..=65535 seconds", v.get_ref()),
        )),
        Some(v) => Ok(*v.get_ref()),
        None => Ok(default),
    };
    let hello_secs = secs(&r.hello_secs, "hello_secs", defaults.hello_secs)?;
    let dead_secs = secs(&r.dead_secs, "dead_secs", defaults.dead_secs)?;
    let retransmit_secs = secs(
        &r.retransmit_secs,
        "retransmit_secs",
        defaults.retransmit_secs,
    )?;
    if dead_secs <= hello_secs {
        let span = r.dead_secs.as_ref().map(Spanned::span);
        return Err(loc.error(
            span.or(Some(raw.span())),
            format!("{f}.dead_secs"),
            format!(
                "{dead_secs} s must exceed hello_secs ({hello_secs} s): neighbours would die between Hellos (RFC 2328 uses 40 and 10)"
            ),
        ));
    }
    let cost = match &r.cost {
        Some(c) if *c.get_ref() == 0 => {
            return Err(loc.error(
                Some(c.span()),
                format!("{f}.cost"),
                "an interface cost is 1 to 65535 (RFC 2328 §C.3)",
            ));
        }
        Some(c) => *c.get_ref(),
        None => defaults.cost,
    };
    let names = |list: &[Spanned<String>], name: &str| -> Result<Vec<String>, TopologyError> {
        list.iter()
            .map(|p| {
                if interfaces.iter().any(|i| i == p.get_ref()) {
                    Ok(p.get_ref().clone())
                } else {
                    Err(loc.error(
                        Some(p.span()),
                        format!("{f}.{name}"),
                        format!(
                            "no interface {} on this router (it has {})",
                            p.get_ref(),
                            interfaces.join(", ")
                        ),
                    ))
                }
            })
            .collect()
    };
    let router_id = match &r.router_id {
        Some(id) => Some(id.get_ref().parse::<Ipv4Addr>().map_err(|_| {
            loc.error(
                Some(id.span()),
                format!("{f}.router_id"),
                format!("{:?} is not a dotted-quad router ID", id.get_ref()),
            )
        })?),
        None => None,
    };
    Ok(OspfSettings {
        hello_secs,
        dead_secs,
        retransmit_secs,
        cost,
        passive: names(&r.passive, "passive")?,
        point_to_point: names(&r.point_to_point, "point_to_point")?,
        router_id,
    })
}
