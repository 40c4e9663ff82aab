//! Scripted changes of a simulation (`vnet sim --at`): link cuts and
//! impairments at given virtual times, counted from the start of the
//! command (after boot).
//!
//! ```text
//! 2s link down r2:eth1
//! 4500ms link up r2:eth1
//! 1s impair r2:eth1 loss=5% delay=20ms jitter=2ms
//! 3s impair r2:eth1 none
//! ```

use std::time::Duration;
use vnet_cable::Impairments;

/// Why a script step does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--at {step:?}: {reason}")]
pub struct ScriptError {
    /// The step as given.
    pub step: String,
    /// What is wrong with it.
    pub reason: String,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Both directions of the interface's link up or down.
    Link {
        /// Up (true) or down.
        up: bool,
    },
    /// New impairments on what the interface sends (all-default clears).
    Impair(Impairments),
}

/// One scripted change.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// When, counted from the start of the command.
    pub at: Duration,
    /// The device.
    pub device: String,
    /// Its interface.
    pub iface: String,
    /// The change.
    pub action: Action,
}

/// Parses a duration: `250ms`, `2s`, `1.5s`, `300us`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else {
        return None;
    };
    let value: f64 = number.trim().parse().ok()?;
    Duration::try_from_secs_f64(value * scale).ok()
}

impl Step {
    /// Parses one `--at` value: `TIME link up|down DEVICE:IFACE` or
    /// `TIME impair DEVICE:IFACE KEY=VALUE… | none`.
    pub fn parse(text: &str) -> Result<Step, ScriptError> {
        let fail = |reason: String| ScriptError {
            step: text.to_string(),
            reason,
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let at = words
            .first()
            .and_then(|w| parse_duration(w))
            .ok_or_else(|| fail("expected a time first, e.g. 2s or 500ms".into()))?;
        let (endpoint, action) = match words.get(1..) {
            Some(["link", state, endpoint]) => {
                let up = match *state {
                    "up" => true,
                    "down" => false,
                    other => return Err(fail(format!("link state {other:?} is not up or down"))),
                };
                (*endpoint, Action::Link { up })
            }
            Some(["impair", endpoint, settings @ ..]) if !settings.is_empty() => {
                let imp = parse_impairments(settings).map_err(fail)?;
                (*endpoint, Action::Impair(imp))
            }
            _ => {
                return Err(fail(
                    "expected `TIME link up|down DEVICE:IFACE` or `TIME impair DEVICE:IFACE loss=5% delay=20ms …|none`".into(),
                ));
            }
        };
        let (device, iface) = endpoint
            .split_once(':')
            .filter(|(d, i)| !d.is_empty() && !i.is_empty())
            .ok_or_else(|| fail(format!("{endpoint:?} is not DEVICE:IFACE (e.g. r2:eth1)")))?;
        Ok(Step {
            at,
            device: device.into(),
            iface: iface.into(),
            action,
        })
    }

    /// The step as the event log states it.
    pub fn describe(&self) -> String {
        match &self.action {
            Action::Link { up } => format!("link {}", if *up { "up" } else { "down" }),
            Action::Impair(i) if !i.is_active() => "impairments cleared".into(),
            Action::Impair(i) => format!(
                "impair loss={}% delay={}ms jitter={}ms duplicate={}% reorder={}% corrupt={}% rate={}kbit",
                i.loss_percent,
                i.delay_ms,
                i.jitter_ms,
                i.duplicate_percent,
                i.reorder_percent,
                i.corrupt_percent,
                i.rate_kbit
            ),
        }
    }
}

fn parse_impairments(settings: &[&str]) -> Result<Impairments, String> {
    let mut imp = Impairments::default();
    if settings == ["none"] {
        return Ok(imp);
    }
    for setting in settings {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("{setting:?} is not KEY=VALUE"))?;
        let percent = || {
            value
                .trim_end_matches('%')
                .parse::<f64>()
                .map_err(|_| format!("{key}={value:?} is not a percentage"))
        };
        let millis = || {
            parse_duration(value)
                .map(|d| d.as_secs_f64() * 1e3)
                .ok_or_else(|| format!("{key}={value:?} is not a duration (e.g. 20ms)"))
        };
        match key {
            "loss" => imp.loss_percent = percent()?,
            "duplicate" => imp.duplicate_percent = percent()?,
            "reorder" => imp.reorder_percent = percent()?,
            "corrupt" => imp.corrupt_percent = percent()?,
            "delay" => imp.delay_ms = millis()?,
            "jitter" => imp.jitter_ms = millis()?,
            "rate" => {
                imp.rate_kbit = value
                    .trim_end_matches("kbit")
                    .parse()
                    .map_err(|_| format!("rate={value:?} is not kbit/s (e.g. rate=1000kbit)"))?
            }
            other => {
                return Err(format!(
                    "unknown impairment {other:?} (loss, delay, jitter, duplicate, reorder, corrupt, rate)"
                ));
            }
        }
    }
    imp.validate().map_err(|e| e.to_string())?;
    Ok(imp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_steps_parse() {
        let s = Step::parse("2s link down r2:eth1").expect("valid");
        assert_eq!(s.at, Duration::from_secs(2));
        assert_eq!((s.device.as_str(), s.iface.as_str()), ("r2", "eth1"));
        assert_eq!(s.action, Action::Link { up: false });
        let s = Step::parse("1500ms link up r2:eth1").expect("valid");
        assert_eq!(s.at, Duration::from_millis(1500));
    }

    #[test]
    fn impair_steps_parse() {
        let s = Step::parse("1s impair r1:eth0 loss=5% delay=20ms").expect("valid");
        let Action::Impair(i) = s.action else {
            panic!("not an impairment")
        };
        assert_eq!((i.loss_percent, i.delay_ms), (5.0, 20.0));
        let s = Step::parse("3s impair r1:eth0 none").expect("valid");
        assert_eq!(s.action, Action::Impair(Impairments::default()));
    }

    #[test]
    fn bad_steps_name_the_problem() {
        let e = Step::parse("soon link down r2:eth1").expect_err("no time");
        assert!(e.to_string().contains("expected a time"), "{e}");
        let e = Step::parse("2s link sideways r2:eth1").expect_err("bad state");
        assert!(e.to_string().contains("\"sideways\""), "{e}");
        let e = Step::parse("2s link down r2").expect_err("no iface");
        assert!(e.to_string().contains("DEVICE:IFACE"), "{e}");
        let e = Step::parse("2s impair r2:eth1 wobble=3").expect_err("unknown key");
        assert!(e.to_string().contains("wobble"), "{e}");
        let e = Step::parse("2s impair r2:eth1 loss=150%").expect_err("out of range");
        assert!(e.to_string().contains("loss"), "{e}");
    }
}
