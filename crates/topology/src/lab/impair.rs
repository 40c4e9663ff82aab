//! Impairments declared per link in the topology file, netem-like, applied
//! by each device to what its cable end sends from start-up:
//!
//! ```toml
//! links = [
//!   # both directions: each end impairs what it sends
//!   { a = "r2:eth1", b = "r3:eth0", impair = { loss = "5%", delay = "20ms", seed = 7 } },
//!   # one direction: only what r1:eth1 sends (impair_b: what the b end sends)
//!   { a = "r1:eth1", b = "r2:eth0", impair_a = { rate = "10mbit", limit = 100 } },
//! ]
//! ```
//!
//! Keys (all optional, like `vnet link impair`'s options): `loss`,
//! `duplicate`, `reorder`, `corrupt` (percent: `5`, `"5%"`), `delay`,
//! `jitter` (`"20ms"`, `"1s"`, a number = ms), `rate` (`"10mbit"`,
//! `"512kbit"`, a number = kbit/s), `limit` (frames queued) and `seed`, which
//! makes the random decisions replayable: the same seed drops the same
//! frames of the same traffic. Under `impair` the a end uses `seed` and the
//! b end `seed + 1`, so the two directions lose different frames.
//! A link sets either `impair` or `impair_a`/`impair_b`; a `tap:NAME` end
//! (the kernel sends there) cannot be impaired.

use super::{Endpoint, LabDevice, Locator, TAP_ENDPOINT, TopologyError};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Impairments of one cable end as rendered into its device's config: the
/// fields of the cable's `Impairments` (`vnet_cable::Impairments`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkImpairments {
    /// Percent of frames dropped.
    pub loss_percent: f64,
    /// Fixed delay, milliseconds.
    pub delay_ms: f64,
    /// Uniform jitter (±) around the delay, milliseconds.
    pub jitter_ms: f64,
    /// Percent of frames sent twice.
    pub duplicate_percent: f64,
    /// Percent of frames sent at once, skipping the delay.
    pub reorder_percent: f64,
    /// Percent of frames with one bit flipped.
    pub corrupt_percent: f64,
    /// Line rate in kbit/s (0 = unlimited).
    pub rate_kbit: u64,
    /// Most frames waiting (0 = the cable's default).
    pub queue_limit: usize,
    /// Seed of the random decisions (None = random).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// An `impair` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImpair {
    loss: Option<Spanned<toml::Value>>,
    delay: Option<Spanned<toml::Value>>,
    jitter: Option<Spanned<toml::Value>>,
    duplicate: Option<Spanned<toml::Value>>,
    reorder: Option<Spanned<toml::Value>>,
    corrupt: Option<Spanned<toml::Value>>,
    rate: Option<Spanned<toml::Value>>,
    limit: Option<Spanned<toml::Value>>,
    seed: Option<Spanned<toml::Value>>,
}

/// Largest delay or jitter, milliseconds (as the cable accepts).
const MAX_DELAY_MS: f64 = 60_000.0;

/// A number, or a number followed by one of `units` (suffix, scale); a
/// bare number has scale 1.
fn scaled(value: &toml::Value, units: &[(&str, f64)]) -> Option<f64> {
    match value {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        toml::Value::String(s) => {
            let lower = s.trim().to_ascii_lowercase();
            let (num, scale) = units
                .iter()
                .find_map(|(unit, scale)| lower.strip_suffix(unit).map(|n| (n, *scale)))
                .unwrap_or((&lower, 1.0));
            num.trim().parse::<f64>().ok().map(|v| v * scale)
        }
        _ => None,
    }
    .filter(|v| v.is_finite())
}

fn read(
    loc: &Locator<'_>,
    field: &str,
    raw: &RawImpair,
    seed_offset: u64,
) -> Result<LinkImpairments, TopologyError> {
    let mut out = LinkImpairments::default();
    let bad = |v: &Spanned<toml::Value>, key: &str, message: String| {
        loc.error(Some(v.span()), format!("{field}.{key}"), message)
    };
    for (key, value, slot) in [
        ("loss", &raw.loss, &mut out.loss_percent),
        ("duplicate", &raw.duplicate, &mut out.duplicate_percent),
        ("reorder", &raw.reorder, &mut out.reorder_percent),
        ("corrupt", &raw.corrupt, &mut out.corrupt_percent),
    ] {
        let Some(v) = value else { continue };
        *slot = scaled(v.get_ref(), &[("%", 1.0)])
            .filter(|p| (0.0..=100.0).contains(p))
            .ok_or_else(|| {
                bad(
                    v,
                    key,
                    format!(
                        "{} should be a percentage in 0..=100, e.g. \"5%\"",
                        v.get_ref()
                    ),
                )
            })?;
    }
    for (key, value, slot) in [
        ("delay", &raw.delay, &mut out.delay_ms),
        ("jitter", &raw.jitter, &mut out.jitter_ms),
    ] {
        let Some(v) = value else { continue };
        *slot = scaled(v.get_ref(), &[("ms", 1.0), ("us", 0.001), ("s", 1000.0)])
            .filter(|ms| (0.0..=MAX_DELAY_MS).contains(ms))
            .ok_or_else(|| {
                bad(v, key, format!(
                    "{} should be a duration up to 60s, e.g. \"20ms\" (a number is milliseconds)",
                    v.get_ref()
                ))
            })?;
    }
    if let Some(v) = &raw.rate {
        let units = [("gbit", 1e6), ("mbit", 1e3), ("kbit", 1.0)];
        out.rate_kbit = scaled(v.get_ref(), &units)
            .filter(|k| *k >= 1.0 && *k <= 1e9)
            .map(|k| k.round() as u64)
            .ok_or_else(|| {
                bad(v, "rate", format!(
                    "{} should be a rate of at least 1kbit, e.g. \"10mbit\" (a number is kbit/s)",
                    v.get_ref()
                ))
            })?;
    }
    let integer =
        |v: &Spanned<toml::Value>, key: &str, range: std::ops::RangeInclusive<i64>| match v
            .get_ref()
        {
            toml::Value::Integer(i) if range.contains(i) => Ok(*i),
            other => Err(bad(
                v,
                key,
                format!(
                    "{other} should be an integer in {}..={}",
                    range.start(),
                    range.end()
                ),
            )),
        };
    if let Some(v) = &raw.limit {
        out.queue_limit = integer(v, "limit", 1..=1_000_000)? as usize;
    }
    if let Some(v) = &raw.seed {
        out.seed = Some((integer(v, "seed", 0..=i64::MAX)? as u64).wrapping_add(seed_offset));
    }
    Ok(out)
}

/// Checks a link's `impair`, `impair_a` and `impair_b` tables and sets the
/// impairments of the interfaces at its ends.
pub(super) fn apply(
    loc: &Locator<'_>,
    index: usize,
    [both, only_a, only_b]: [&Option<Spanned<RawImpair>>; 3],
    ends: [&Endpoint; 2],
    devices: &mut [LabDevice],
) -> Result<(), TopologyError> {
    if let (Some(_), Some(one)) = (both, only_a.as_ref().or(only_b.as_ref())) {
        let side = if only_a.is_some() { "a" } else { "b" };
        return Err(loc.error(
            Some(one.span()),
            format!("links[{index}].impair_{side}"),
            "impair already impairs both ends: use either impair or impair_a/impair_b",
        ));
    }
    let per_end = [
        both.as_ref()
            .map(|r| (r, "impair", 0))
            .or(only_a.as_ref().map(|r| (r, "impair_a", 0))),
        both.as_ref()
            .map(|r| (r, "impair", 1))
            .or(only_b.as_ref().map(|r| (r, "impair_b", 0))),
    ];
    for (end, raw) in ends.into_iter().zip(per_end) {
        let Some((raw, key, seed_offset)) = raw else {
            continue;
        };
        let field = format!("links[{index}].{key}");
        if end.device == TAP_ENDPOINT {
            return Err(loc.error(
                Some(raw.span()),
                field,
                format!("{end} is the kernel's end and cannot be impaired; impair only the device's end (impair_a or impair_b)"),
            ));
        }
        let config = read(loc, &field, raw.get_ref(), seed_offset)?;
        if let Some(i) = devices
            .iter_mut()
            .find(|d| d.name == end.device)
            .and_then(|d| d.interfaces.iter_mut().find(|i| i.name == end.interface))
            && config != LinkImpairments::default()
        {
            i.impairments = Some(config);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Lab;
    use crate::render::{AddressPlan, render};
    use std::net::SocketAddr;
    use std::path::Path;

    const LAB: &str = r#"
links = [
  { a = "h1:eth0", b = "r1:eth0" },
  { a = "r1:eth1", b = "h2:eth0", impair = { loss = "5%", delay = "20ms", jitter = 2, seed = 7 } },
]

[devices.h1]
kind = "host"
gateway = "10.0.1.1"
interfaces.eth0 = { address = "10.0.1.10/24" }

[devices.r1]
kind = "router"
interfaces.eth0 = { address = "10.0.1.1/24" }
interfaces.eth1 = { address = "10.0.2.1/24" }

[devices.h2]
kind = "host"
gateway = "10.0.2.1"
interfaces.eth0 = { address = "10.0.2.10/24" }
"#;

    fn parse(text: &str) -> Result<Lab, TopologyError> {
        Lab::parse(Path::new("test.toml"), text)
    }

    fn err(text: &str) -> TopologyError {
        match parse(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e,
        }
    }

    fn impairments(lab: &Lab, device: &str, iface: &str) -> Option<LinkImpairments> {
        lab.device(device)
            .and_then(|d| d.interfaces.iter().find(|i| i.name == iface))
            .expect("interface exists")
            .impairments
            .clone()
    }

    struct Loopback(u16);
    impl AddressPlan for Loopback {
        fn cable_end(&mut self, _: usize, _: &LabDevice, _: usize) -> SocketAddr {
            self.0 += 1;
            SocketAddr::from(([127, 0, 0, 1], 20000 + self.0))
        }
        fn admin(&mut self, _: usize, _: &LabDevice) -> SocketAddr {
            self.0 += 1;
            SocketAddr::from(([127, 0, 0, 1], 30000 + self.0))
        }
    }

    #[test]
    fn link_impairments_parse_and_apply_to_both_ends() {
        let lab = parse(LAB).expect("valid");
        let expected = LinkImpairments {
            loss_percent: 5.0,
            delay_ms: 20.0,
            jitter_ms: 2.0,
            seed: Some(7),
            ..Default::default()
        };
        assert_eq!(impairments(&lab, "r1", "eth1"), Some(expected.clone()));
        // The b end draws from the next seed: the directions lose different frames.
        let b = LinkImpairments {
            seed: Some(8),
            ..expected.clone()
        };
        assert_eq!(impairments(&lab, "h2", "eth0"), Some(b.clone()));
        assert_eq!(impairments(&lab, "h1", "eth0"), None);

        // Rendered into both ends' configs, and round-tripping through TOML.
        let configs = render(&lab, &mut Loopback(0), None);
        let rendered = |dev: &str, iface: &str| {
            configs
                .iter()
                .find(|c| c.name == dev)
                .and_then(|c| c.interfaces.iter().find(|i| i.name == iface))
                .expect("rendered")
                .impairments
                .clone()
        };
        assert_eq!(rendered("r1", "eth1"), Some(expected));
        assert_eq!(rendered("h2", "eth0"), Some(b));
        assert_eq!(rendered("r1", "eth0"), None);
        for c in &configs {
            let text = toml::to_string(c).expect("serializes");
            assert_eq!(text.contains("impairments"), c.name != "h1", "{text}");
            let back: crate::DeviceConfig = toml::from_str(&text).expect("parses back");
            assert_eq!(&back, c);
        }
    }

    #[test]
    fn one_end_only_with_units() {
        let text = LAB.replace(
            r#"impair = { loss = "5%", delay = "20ms", jitter = 2, seed = 7 }"#,
            r#"impair_b = { rate = "10mbit", limit = 50, delay = "0.5s", duplicate = 1.5, reorder = "2", corrupt = "0.1%" }"#,
        );
        let lab = parse(&text).expect("valid");
        assert_eq!(impairments(&lab, "r1", "eth1"), None);
        assert_eq!(
            impairments(&lab, "h2", "eth0"),
            Some(LinkImpairments {
                rate_kbit: 10_000,
                queue_limit: 50,
                delay_ms: 500.0,
                duplicate_percent: 1.5,
                reorder_percent: 2.0,
                corrupt_percent: 0.1,
                ..Default::default()
            })
        );
    }

    #[test]
    fn bad_values_name_file_line_column_and_field() {
        let with = |impair: &str| {
            LAB.replace(
                r#"impair = { loss = "5%", delay = "20ms", jitter = 2, seed = 7 }"#,
                impair,
            )
        };
        let e = err(&with(r#"impair = { loss = "150%" }"#));
        assert_eq!(e.field, "links[1].impair.loss");
        assert_eq!((e.line, e.column), (4, 53), "{e}");
        assert!(
            e.to_string()
                .starts_with("test.toml:4:53: links[1].impair.loss: "),
            "{e}"
        );
        assert!(e.message.contains("150%"), "{e}");

        let e = err(&with(r#"impair_a = { delay = "fast" }"#));
        assert_eq!(e.field, "links[1].impair_a.delay", "{e}");
        assert!(e.message.contains("\"20ms\""), "{e}");
        assert_eq!(
            err(&with(r#"impair = { delay = "61s" }"#)).field,
            "links[1].impair.delay"
        );
        assert_eq!(
            err(&with(r#"impair = { rate = "0kbit" }"#)).field,
            "links[1].impair.rate"
        );
        assert_eq!(
            err(&with(r#"impair = { limit = 0 }"#)).field,
            "links[1].impair.limit"
        );
        assert_eq!(
            err(&with(r#"impair = { seed = -1 }"#)).field,
            "links[1].impair.seed"
        );
        assert_eq!(
            err(&with(r#"impair = { seed = "x" }"#)).field,
            "links[1].impair.seed"
        );

        let e = err(&with(r#"impair = { loss = 1 }, impair_b = { loss = 2 }"#));
        assert_eq!(e.field, "links[1].impair_b", "{e}");
        assert!(e.message.contains("either"), "{e}");

        // Unknown keys are refused with their line.
        let e = err(&with(r#"impair = { lost = 1 }"#));
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("lost"), "{e}");
    }

    #[test]
    fn the_kernel_end_of_a_tap_link_cannot_be_impaired() {
        let text = LAB.replace(
            r#"{ a = "r1:eth1", b = "h2:eth0", impair = { loss = "5%", delay = "20ms", jitter = 2, seed = 7 } },"#,
            r#"{ a = "r1:eth1", b = "tap:vnet0", impair_b = { loss = 1 } },"#,
        )
        .replace("[devices.h2]\nkind = \"host\"\ngateway = \"10.0.2.1\"\ninterfaces.eth0 = { address = \"10.0.2.10/24\" }\n", "");
        let e = err(&text);
        assert_eq!(e.field, "links[1].impair_b", "{e}");
        let ok =
            parse(&text.replace("impair_b", "impair_a")).expect("the device end may be impaired");
        assert!(impairments(&ok, "r1", "eth1").is_some());
    }
}
