//! Shared helpers of the protocol tests that run the default lab
//! (configs/lab.toml) as a simulation: one `simulate()` run per test, on
//! virtual time, so no test sleeps or waits on a real network.
#![allow(dead_code)] // each test file uses a different part

use std::net::Ipv4Addr;
use std::path::Path;
use vnet_runtime::api::Table;
use vnet_sim::events::{EventLog, WireEvent};
use vnet_sim::script::Step;
use vnet_sim::{Outcome, OutputLine, SimCommand, SimOptions};
use vnet_topology::lab::Lab;

/// The default lab, as `vnet up` and `vnet sim configs/lab.toml` load it.
pub fn lab() -> Lab {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/lab.toml");
    Lab::load(&path).expect("configs/lab.toml loads")
}

/// Options with `seed`, the scripted steps (`--at` syntax) and the tables
/// to read at the end.
pub fn options(seed: u64, script: &[&str], tables: &[(&str, &str)]) -> SimOptions {
    SimOptions {
        seed,
        script: script
            .iter()
            .map(|s| Step::parse(s).expect("script step parses"))
            .collect(),
        tables: tables
            .iter()
            .map(|(d, t)| (d.to_string(), t.to_string()))
            .collect(),
        ..SimOptions::default()
    }
}

/// Runs `DEVICE ARGS…` (as `vnet sim configs/lab.toml -- DEVICE ARGS…`).
pub fn run(options: &SimOptions, device: &str, args: &str) -> Outcome {
    let command = SimCommand {
        device: device.into(),
        args: args.split_whitespace().map(String::from).collect(),
    };
    vnet_sim::simulate(&lab(), options, Some(&command), &mut |_| {}).expect("simulation runs")
}

/// Runs `DEVICE ARGS…` with seed 1, no script, reading `tables`.
pub fn run_simple(device: &str, args: &str, tables: &[(&str, &str)]) -> Outcome {
    run(&options(1, &[], tables), device, args)
}

/// The command's standard output, one line each.
pub fn stdout(o: &Outcome) -> String {
    o.output
        .iter()
        .filter_map(|l| match l {
            OutputLine::Out(s) => Some(format!("{s}\n")),
            OutputLine::Err(_) => None,
        })
        .collect()
}

/// The command's whole output (stdout and stderr), for failure messages.
pub fn all_output(o: &Outcome) -> String {
    o.output
        .iter()
        .map(|l| match l {
            OutputLine::Out(s) => format!("{s}\n"),
            OutputLine::Err(s) => format!("[err] {s}\n"),
        })
        .collect()
}

/// The event log as `vnet sim --events` writes it.
pub fn log(o: &Outcome) -> String {
    EventLog::render(&o.events, o.events_dropped)
}

/// A table read at the end of the run.
pub fn table<'a>(o: &'a Outcome, device: &str, name: &str) -> &'a Table {
    o.tables
        .get(&(device.to_string(), name.to_string()))
        .expect("table was asked for")
        .as_ref()
        .unwrap_or_else(|| panic!("{device} has no table {name:?}"))
}

/// The cell of `row` under the heading `column`.
pub fn cell<'a>(table: &Table, row: &'a [String], column: &str) -> &'a str {
    let i = table
        .columns
        .iter()
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("no column {column:?} in {:?}", table.columns));
    &row[i]
}

/// Frames `from` put on its cable to `to`, in order.
pub fn sent<'a>(o: &'a Outcome, from: &str, to: &str) -> Vec<&'a WireEvent> {
    o.events
        .iter()
        .filter(|e| e.from == from && e.to == to)
        .collect()
}

/// The interface of `device` wired to `peer` in the lab (e.g. sw1's port
/// toward client).
pub fn iface_toward(device: &str, peer: &str) -> String {
    lab()
        .links
        .iter()
        .flat_map(|l| [(&l.a, &l.b), (&l.b, &l.a)])
        .find(|(mine, theirs)| mine.device == device && theirs.device == peer)
        .map(|(mine, _)| mine.interface.clone())
        .unwrap_or_else(|| panic!("{device} is not wired to {peer}"))
}

/// Every interface of `device` in the lab's links, sorted.
pub fn ifaces_of(device: &str) -> Vec<String> {
    let mut out: Vec<String> = lab()
        .links
        .iter()
        .flat_map(|l| [&l.a, &l.b])
        .filter(|end| end.device == device)
        .map(|end| end.interface.clone())
        .collect();
    out.sort();
    out
}

/// Source MAC of a frame, as `aa:bb:…` (lower case).
pub fn src_mac(e: &WireEvent) -> String {
    mac(&e.head[6..12])
}

/// Destination MAC of a frame.
pub fn dst_mac(e: &WireEvent) -> String {
    mac(&e.head[0..6])
}

fn mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn is_ipv4(e: &WireEvent) -> bool {
    e.head.len() >= 34 && e.head[12..14] == [0x08, 0x00]
}

/// IPv4 source of a frame, if it carries IPv4.
pub fn ipv4_src(e: &WireEvent) -> Option<Ipv4Addr> {
    is_ipv4(e).then(|| Ipv4Addr::new(e.head[26], e.head[27], e.head[28], e.head[29]))
}

/// IPv4 destination of a frame, if it carries IPv4.
pub fn ipv4_dst(e: &WireEvent) -> Option<Ipv4Addr> {
    is_ipv4(e).then(|| Ipv4Addr::new(e.head[30], e.head[31], e.head[32], e.head[33]))
}

/// The `seq=N` of an ICMP echo summary.
pub fn echo_seq(e: &WireEvent) -> Option<u16> {
    let rest = e.summary.split(" seq=").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// (source, destination) ports of a TCP or UDP frame over IPv4.
pub fn l4_ports(e: &WireEvent) -> Option<(u16, u16)> {
    if !is_ipv4(e) || !matches!(e.head[23], 6 | 17) {
        return None;
    }
    let at = 14 + usize::from(e.head[14] & 0x0f) * 4;
    let port = |i: usize| Some(u16::from_be_bytes([*e.head.get(i)?, *e.head.get(i + 1)?]));
    Some((port(at)?, port(at + 2)?))
}
