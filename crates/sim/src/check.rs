//! Graded labs (`vnet check LAB.toml CHECKS.toml`): a scenario (a command
//! on one device, scripted changes) and assertions on what happened — the
//! frames on the cables, the trace's spans, the devices' tables, the
//! command's output and exit code. The evaluation is the same for a
//! simulation and for a running lab (`--live`); only how the [`Evidence`]
//! is gathered differs.
//!
//! ```toml
//! [scenario]
//! seed = 7
//! run = ["client", "browse", "http://www.example.com/"]
//! at = ["2s link down r2:eth1"]          # optional
//!
//! [[check]]
//! name = "client's DNS query reached dns-root"
//! frame = { to = "dns-root", proto = "dns", contains = "www.example.com" }
//!
//! [[check]]
//! name = "r2 forwarded with TTL 63"
//! frame = { from = "r2", to = "r3", proto = "dns", ttl = 62 }
//!
//! [[check]]
//! name = "exactly one TCP handshake"
//! frame = { from = "client", contains = "[SYN]", min = 1, max = 1 }
//!
//! [[check]]
//! name = "route to 10.0.3.0/24 via r2"
//! table = { device = "r1", table = "routes", row = ["10.0.3.0/24", "10.0.12.2"] }
//!
//! [[check]]
//! name = "the TCP handshake completed"
//! span = { device = "client", name = "tcp.connect" }
//!
//! [[check]]
//! name = "the page loaded"
//! output = { contains = "5 ok" }
//!
//! [[check]]
//! name = "browse succeeded"
//! exit = 0
//! ```

use crate::events::WireEvent;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use vnet_runtime::api::Table;
use vnet_timeline::model::SpanRecord;

/// Why a checks file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ChecksError {
    /// Not valid TOML, or fields of the wrong shape.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What the TOML parser said (with line and column).
        message: String,
    },
    /// A check does not say what to assert, or says two things.
    #[error("{file}: check {index} ({name:?}): {reason}")]
    Check {
        /// The file.
        file: String,
        /// 1-based position of the check.
        index: usize,
        /// Its name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// The scenario a checks file runs.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed of the simulation (ignored with `--live`).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// DEVICE APP ARGS…: what runs after boot.
    #[serde(default)]
    pub run: Vec<String>,
    /// Scripted changes (`2s link down r2:eth1`), as `vnet sim --at`.
    #[serde(default)]
    pub at: Vec<String>,
}

fn default_seed() -> u64 {
    1
}

/// Which frames a frame check counts.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrameMatch {
    /// Sent by this device.
    pub from: Option<String>,
    /// Received by this device.
    pub to: Option<String>,
    /// Highest protocol (`arp`, `ip`, `icmp`, `udp`, `tcp`, `dns`, `dhcp`, `http`, `tls`).
    pub proto: Option<String>,
    /// The summary contains this text.
    pub contains: Option<String>,
    /// IPv4 TTL of the frame.
    pub ttl: Option<u8>,
    /// At least this many frames match (default 1).
    pub min: Option<usize>,
    /// At most this many frames match.
    pub max: Option<usize>,
}

/// Which table rows a table check looks for.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableMatch {
    /// The device.
    pub device: String,
    /// The table (`vnet show DEVICE TABLE`).
    pub table: String,
    /// A row containing each of these cells.
    #[serde(default)]
    pub row: Vec<String>,
    /// With `absent = true`, no row may contain them.
    #[serde(default)]
    pub absent: bool,
}

/// Which spans a span check looks for.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpanMatch {
    /// The device that ended the span.
    pub device: Option<String>,
    /// Span name (`tcp.connect`, `dns.query`, `http.request`…).
    pub name: Option<String>,
    /// Its summary contains this text.
    pub contains: Option<String>,
}

/// What the command printed.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputMatch {
    /// A line contains this text.
    pub contains: String,
}

/// One assertion as written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// What it asserts, in the teacher's words.
    #[serde(default)]
    pub name: String,
    /// Frames on the cables.
    pub frame: Option<FrameMatch>,
    /// A device table.
    pub table: Option<TableMatch>,
    /// A span of the trace.
    pub span: Option<SpanMatch>,
    /// The command's output.
    pub output: Option<OutputMatch>,
    /// The command's exit code.
    pub exit: Option<i32>,
}

/// A checks file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    /// What runs.
    #[serde(default)]
    pub scenario: Scenario,
    /// What must hold.
    #[serde(default, rename = "check")]
    pub checks: Vec<CheckSpec>,
}

impl Checks {
    /// Parses a checks file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Checks, ChecksError> {
        let checks: Checks = toml::from_str(text).map_err(|e| ChecksError::Parse {
            file: file.into(),
            message: e.to_string(),
        })?;
        for (i, c) in checks.checks.iter().enumerate() {
            let kinds = [
                c.frame.is_some(),
                c.table.is_some(),
                c.span.is_some(),
                c.output.is_some(),
                c.exit.is_some(),
            ]
            .iter()
            .filter(|k| **k)
            .count();
            if kinds != 1 {
                return Err(ChecksError::Check {
                    file: file.into(),
                    index: i + 1,
                    name: c.name.clone(),
                    reason: format!(
                        "a check asserts exactly one of frame, table, span, output, exit (this one: {kinds})"
                    ),
                });
            }
        }
        if checks.checks.is_empty() {
            return Err(ChecksError::Parse {
                file: file.into(),
                message: "no [[check]] entries".into(),
            });
        }
        Ok(checks)
    }

    /// The tables the checks read: (device, table).
    pub fn tables(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .checks
            .iter()
            .filter_map(|c| c.table.as_ref())
            .map(|t| (t.device.clone(), t.table.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// One frame as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSeen {
    /// Sender (None when the source cannot tell).
    pub from: Option<String>,
    /// Receiver.
    pub to: String,
    /// Highest protocol.
    pub proto: String,
    /// One-line summary.
    pub summary: String,
    /// IPv4 TTL, when known.
    pub ttl: Option<u8>,
}

impl From<&WireEvent> for FrameSeen {
    fn from(e: &WireEvent) -> Self {
        FrameSeen {
            from: Some(e.from.clone()),
            to: e.to.clone(),
            proto: e.proto.clone(),
            summary: e.summary.clone(),
            ttl: e.ipv4_ttl(),
        }
    }
}

/// Everything the checks are evaluated on.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Frames (the event log, or a live lab's traced frames).
    pub frames: Vec<FrameSeen>,
    /// Spans of the run.
    pub spans: Vec<SpanRecord>,
    /// Tables read at the end (None: the device has no such table).
    pub tables: BTreeMap<(String, String), Option<Table>>,
    /// The command's output lines.
    pub output: Vec<String>,
    /// Its exit code.
    pub exit: Option<i32>,
}

/// The verdict on one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The check's name.
    pub name: String,
    /// Whether it holds.
    pub pass: bool,
    /// What was found (the count, the closest row, the actual code).
    pub detail: String,
}

fn matches_frame(m: &FrameMatch, f: &FrameSeen) -> bool {
    m.from.as_ref().is_none_or(|d| f.from.as_ref() == Some(d))
        && m.to.as_ref().is_none_or(|d| &f.to == d)
        && m.proto
            .as_ref()
            .is_none_or(|p| f.proto.eq_ignore_ascii_case(p))
        && m.contains
            .as_ref()
            .is_none_or(|t| f.summary.contains(t.as_str()))
        && m.ttl.is_none_or(|t| f.ttl == Some(t))
}

fn check_frames(m: &FrameMatch, ev: &Evidence) -> (bool, String) {
    let found: Vec<&FrameSeen> = ev.frames.iter().filter(|f| matches_frame(m, f)).collect();
    let min = m.min.unwrap_or(1);
    let pass = found.len() >= min && m.max.is_none_or(|max| found.len() <= max);
    let mut detail = format!("{} matching frame(s)", found.len());
    if let Some(first) = found.first() {
        let _ = write!(
            detail,
            ", first: {} → {}: {}",
            first.from.as_deref().unwrap_or("?"),
            first.to,
            first.summary
        );
    }
    (pass, detail)
}

fn check_table(m: &TableMatch, ev: &Evidence) -> (bool, String) {
    let Some(table) = ev
        .tables
        .get(&(m.device.clone(), m.table.clone()))
        .and_then(Option::as_ref)
    else {
        return (false, format!("{} has no table {:?}", m.device, m.table));
    };
    let hit = table
        .rows
        .iter()
        .find(|row| m.row.iter().all(|cell| row.iter().any(|c| c == cell)));
    match (hit, m.absent) {
        (Some(row), false) => (true, format!("row: {}", row.join("  "))),
        (None, false) => (
            false,
            format!("no row with {:?} among {} rows", m.row, table.rows.len()),
        ),
        (Some(row), true) => (false, format!("unexpected row: {}", row.join("  "))),
        (None, true) => (true, format!("no row with {:?}", m.row)),
    }
}

fn check_span(m: &SpanMatch, ev: &Evidence) -> (bool, String) {
    let found = ev.spans.iter().find(|s| {
        m.device.as_ref().is_none_or(|d| &s.service == d)
            && m.name.as_ref().is_none_or(|n| &s.name == n)
            && m.contains.as_ref().is_none_or(|t| {
                s.attributes
                    .get("vnet.summary")
                    .is_some_and(|v| v.contains(t.as_str()))
            })
    });
    match found {
        Some(s) => (true, format!("{} on {}", s.name, s.service)),
        None => (false, format!("no such span among {}", ev.spans.len())),
    }
}

/// Evaluates every check on `evidence`, in order.
pub fn evaluate(checks: &Checks, evidence: &Evidence) -> Vec<Verdict> {
    checks
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (pass, detail) = if let Some(m) = &c.frame {
                check_frames(m, evidence)
            } else if let Some(m) = &c.table {
                check_table(m, evidence)
            } else if let Some(m) = &c.span {
                check_span(m, evidence)
            } else if let Some(m) = &c.output {
                let hit = evidence
                    .output
                    .iter()
                    .find(|l| l.contains(m.contains.as_str()));
                (
                    hit.is_some(),
                    hit.map_or("no such line".into(), |l| l.clone()),
                )
            } else {
                let want = c.exit.unwrap_or(0);
                (
                    evidence.exit == Some(want),
                    format!(
                        "exit code {}",
                        evidence.exit.map_or("none".into(), |e| e.to_string())
                    ),
                )
            };
            let name = if c.name.is_empty() {
                format!("check {}", i + 1)
            } else {
                c.name.clone()
            };
            Verdict { name, pass, detail }
        })
        .collect()
}

/// The verdicts as `vnet check` prints them, with a last line counting them.
pub fn report(verdicts: &[Verdict]) -> String {
    let mut out = String::new();
    for v in verdicts {
        let mark = if v.pass { "PASS" } else { "FAIL" };
        let _ = writeln!(out, "{mark}  {}  ({})", v.name, v.detail);
    }
    let passed = verdicts.iter().filter(|v| v.pass).count();
    let _ = writeln!(out, "{passed}/{} checks passed", verdicts.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(from: &str, to: &str, proto: &str, summary: &str, ttl: Option<u8>) -> FrameSeen {
        FrameSeen {
            from: Some(from.into()),
            to: to.into(),
            proto: proto.into(),
            summary: summary.into(),
            ttl,
        }
    }

    #[test]
    fn every_kind_of_check_passes_and_fails() {
        let checks = Checks::parse(
            "t.toml",
            r#"
            [[check]]
            name = "dns reached root"
            frame = { to = "dns-root", proto = "dns" }
            [[check]]
            name = "ttl 63 out of r2"
            frame = { from = "r2", ttl = 63 }
            [[check]]
            name = "one SYN"
            frame = { contains = "[SYN]", max = 1 }
            [[check]]
            table = { device = "r1", table = "routes", row = ["10.0.3.0/24", "10.0.12.2"] }
            [[check]]
            span = { device = "client", name = "tcp.connect" }
            [[check]]
            output = { contains = "5 ok" }
            [[check]]
            exit = 0
            "#,
        )
        .expect("valid");
        let mut table = Table::new(&["destination", "gateway"]);
        table.row(vec!["10.0.3.0/24".into(), "10.0.12.2".into()]);
        let mut ev = Evidence {
            frames: vec![
                frame("r3", "dns-root", "dns", "DNS query", Some(62)),
                frame("r2", "r3", "dns", "DNS query", Some(63)),
                frame("client", "sw1", "tcp", "[SYN] seq=1", Some(64)),
            ],
            output: vec!["5 requests, 5 ok".into()],
            exit: Some(0),
            ..Evidence::default()
        };
        ev.tables
            .insert(("r1".into(), "routes".into()), Some(table));
        let verdicts = evaluate(&checks, &ev);
        let passed: Vec<bool> = verdicts.iter().map(|v| v.pass).collect();
        // No spans were given: only the span check fails.
        assert_eq!(
            passed,
            [true, true, true, true, false, true, true],
            "{verdicts:?}"
        );
        assert!(report(&verdicts).ends_with("6/7 checks passed\n"));

        ev.frames
            .push(frame("client", "sw1", "tcp", "[SYN] seq=9", Some(64)));
        ev.exit = Some(7);
        let verdicts = evaluate(&checks, &ev);
        assert!(!verdicts[2].pass, "two SYNs exceed max = 1");
        assert!(!verdicts[6].pass);
        assert_eq!(verdicts[6].detail, "exit code 7");
    }

    #[test]
    fn a_check_must_assert_exactly_one_thing() {
        let e = Checks::parse(
            "c.toml",
            "[[check]]\nname = \"x\"\nexit = 0\noutput = { contains = \"a\" }\n",
        )
        .expect_err("two kinds");
        assert!(e.to_string().contains("check 1 (\"x\")"), "{e}");
        let e = Checks::parse("c.toml", "[[check]]\nname = \"x\"\n").expect_err("no kind");
        assert!(e.to_string().contains("exactly one"), "{e}");
        let e =
            Checks::parse("c.toml", "[[check]]\nframe = { hops = 3 }\n").expect_err("bad field");
        assert!(e.to_string().contains("hops"), "{e}");
        let e = Checks::parse("c.toml", "").expect_err("empty");
        assert!(e.to_string().contains("no [[check]]"), "{e}");
    }
}
