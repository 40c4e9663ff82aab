//! `[devices.NAME.rip]`: RIPv2 on a router (RFC 2453).
//!
//! ```toml
//! [devices.r1.rip]          # or `rip = {}` for the RFC defaults
//! update_secs = 5           # periodic updates (RFC: 30)
//! timeout_secs = 30         # a silent route is deleted (RFC: 180)
//! garbage_secs = 20         # then forgotten (RFC: 120)
//! passive = ["eth2"]        # learn there, never send (stub networks)
//! password = "lab"          # simple authentication (RFC 2453 §4.1)
//! split_horizon = "poisoned-reverse"  # or "simple", "off"
//! ```

use super::Locator;
use crate::TopologyError;
use crate::device::{DeviceKind, RipSettings};
use serde::Deserialize;
use toml::Spanned;

/// The settings as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRip {
    update_secs: Option<Spanned<u64>>,
    timeout_secs: Option<Spanned<u64>>,
    garbage_secs: Option<Spanned<u64>>,
    #[serde(default)]
    passive: Vec<Spanned<String>>,
    password: Option<Spanned<String>>,
    split_horizon: Option<Spanned<String>>,
}

/// Checks `raw` for device `field` (`devices.r1`) of `kind` whose
/// interfaces are named `interfaces`.
pub(super) fn settings(
    loc: &Locator<'_>,
    field: &str,
    kind: DeviceKind,
    raw: &Spanned<RawRip>,
    interfaces: &[String],
) -> Result<RipSettings, TopologyError> {
    let f = format!("{field}.rip");
    if kind != DeviceKind::Router {
        return Err(loc.error(Some(raw.span()), f, "only routers run RIP"));
    }
    let r = raw.get_ref();
    let defaults = RipSettings::default();
    let secs = |v: &Option<Spanned<u64>>, name: &str, default: u64| match v {
        Some(v) if !(1..=86_400).contains(v.get_ref()) => Err(loc.error(
            Some(v.span()),
            format!("{f}.{name}"),
            format!("{} is outside 1..=86400 seconds", v.get_ref()),
        )),
        Some(v) => Ok(*v.get_ref()),
        None => Ok(default),
    };
    let update_secs = secs(&r.update_secs, "update_secs", defaults.update_secs)?;
    let timeout_secs = secs(&r.timeout_secs, "timeout_secs", defaults.timeout_secs)?;
    let garbage_secs = secs(&r.garbage_secs, "garbage_secs", defaults.garbage_secs)?;
    if timeout_secs <= update_secs {
        let span = r.timeout_secs.as_ref().map(Spanned::span);
        return Err(loc.error(
            span.or(Some(raw.span())),
            format!("{f}.timeout_secs"),
            format!(
                "{timeout_secs} s must exceed update_secs ({update_secs} s): routes would time out between updates (RFC 2453 uses 180 and 30)"
            ),
        ));
    }
    let mut passive = Vec::new();
    for p in &r.passive {
        if !interfaces.iter().any(|i| i == p.get_ref()) {
            return Err(loc.error(
                Some(p.span()),
                format!("{f}.passive"),
                format!(
                    "no interface {} on this router (it has {})",
                    p.get_ref(),
                    interfaces.join(", ")
                ),
            ));
        }
        passive.push(p.get_ref().clone());
    }
    let password = match &r.password {
        Some(p) if p.get_ref().is_empty() || p.get_ref().len() > 16 => {
            return Err(loc.error(
                Some(p.span()),
                format!("{f}.password"),
                "a RIP password is 1 to 16 bytes (RFC 2453 §4.1)",
            ));
        }
        Some(p) => Some(p.get_ref().clone()),
        None => None,
    };
    let split_horizon = match &r.split_horizon {
        Some(s) => match s.get_ref().as_str() {
            "poisoned-reverse" | "simple" | "off" => s.get_ref().clone(),
            other => {
                return Err(loc.error(
                    Some(s.span()),
                    format!("{f}.split_horizon"),
                    format!("{other:?}: use \"poisoned-reverse\", \"simple\" or \"off\""),
                ));
            }
        },
        None => defaults.split_horizon,
    };
    Ok(RipSettings {
        update_secs,
        timeout_secs,
        garbage_secs,
        passive,
        password,
        split_horizon,
    })
}
