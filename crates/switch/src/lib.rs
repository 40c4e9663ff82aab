//! `vnet-switch`: a learning Ethernet switch (IEEE 802.1D transparent
//! bridging without spanning tree).
//!
//! * The FCS of every frame is checked by the cable before it gets here;
//!   bad frames are dropped and counted per port.
//! * Source addresses are learned per port and age out (default 300 s,
//!   IEEE 802.1D §7.9.2).
//! * Broadcast, multicast and unknown unicast are flooded to every port
//!   that is up except the one the frame came in on; known unicast goes to
//!   exactly one port; a frame whose destination sits on its ingress port is
//!   filtered.
//! * The MAC table is bounded; when full, new addresses are not learned and
//!   frames to them are flooded (how real switches behave under CAM overflow).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;
use vnet_runtime::api::Table;
use vnet_runtime::{Device, DeviceConfig, DeviceKind, DeviceSpec};
use vnet_stack::Transmit;
use vnet_stack::bridge::{LearnOutcome, MacTable, MacTableConfig};
use vnet_stack::time::Instant;
use vnet_wire::ethernet;
use vnet_wire::trace::{Direction, TraceEvent, TraceValue};

/// The kind this crate runs.
pub const KIND: DeviceKind = DeviceKind::Switch;

/// Switch-level counters (per-port counters live on the cable ends).
#[derive(Debug, Default, Clone, Serialize)]
pub struct SwitchCounters {
    /// Frames sent to exactly one known port.
    pub forwarded: u64,
    /// Frames flooded (broadcast, multicast or unknown destination).
    pub flooded: u64,
    /// Frames dropped because the destination is on the ingress port.
    pub filtered: u64,
    /// New addresses learned.
    pub learned: u64,
    /// Addresses that moved to another port.
    pub moved: u64,
    /// Addresses not learned because the table was full.
    pub table_full: u64,
    /// Entries removed by aging.
    pub aged_out: u64,
    /// Frames too short to carry an Ethernet header.
    pub malformed: u64,
}

/// The switch device.
pub struct Switch {
    table: MacTable,
    port_names: Vec<String>,
    port_up: Vec<bool>,
    counters: SwitchCounters,
}

impl Switch {
    /// A switch with the ports and table settings of `config`.
    pub fn new(config: &DeviceConfig) -> Switch {
        Switch {
            table: MacTable::new(MacTableConfig {
                capacity: config.switch.mac_table_capacity,
                aging: Duration::from_secs(config.switch.mac_aging_secs),
            }),
            port_names: config.interfaces.iter().map(|i| i.name.clone()).collect(),
            port_up: vec![true; config.interfaces.len()],
            counters: SwitchCounters::default(),
        }
    }

    fn flood(
        &mut self,
        now: Instant,
        in_port: usize,
        frame: &[u8],
        tx: &mut dyn Transmit,
        why: &str,
    ) {
        self.counters.flooded += 1;
        if tx.trace().is_some() {
            let out: Vec<&str> = (0..self.port_names.len())
                .filter(|&p| p != in_port && self.port_up[p])
                .map(|p| self.port_names[p].as_str())
                .collect();
            let out = out.join(", ");
            record(
                tx,
                now,
                Direction::Out,
                format!("{why}: flooded out {out}"),
                vec![
                    ("switch.out_ports", out.clone().into()),
                    ("switch.flooded", 1.into()),
                ],
            );
        }
        for port in 0..self.port_names.len() {
            if port != in_port && self.port_up[port] {
                tx.transmit(port, frame);
            }
        }
    }
}

/// Records a layer-2 decision about the traced frame being switched.
fn record(
    tx: &mut dyn Transmit,
    now: Instant,
    dir: Direction,
    summary: String,
    attrs: Vec<(&'static str, TraceValue)>,
) {
    if let Some(ctx) = tx.trace() {
        tx.record(TraceEvent {
            ctx,
            at_micros: now.total_micros(),
            name: "switch",
            layer: "L2",
            proto: "eth",
            dir: Some(dir),
            summary,
            attrs,
        });
    }
}

impl Device for Switch {
    fn on_frame(&mut self, now: Instant, port: usize, frame: &mut [u8], tx: &mut dyn Transmit) {
        let Ok(view) = ethernet::EthernetFrame::new_checked(&*frame) else {
            self.counters.malformed += 1;
            return;
        };
        let (src, dst) = (view.src_addr(), view.dst_addr());
        let learn = self.table.learn(now, src, port);
        match learn {
            LearnOutcome::Learned => {
                self.counters.learned += 1;
                tracing::debug!(mac = %src, port = %self.port_names[port], "learned");
            }
            LearnOutcome::Moved { from } => {
                self.counters.moved += 1;
                tracing::info!(mac = %src, old = %self.port_names.get(from).map(String::as_str).unwrap_or("?"),
                    new = %self.port_names[port], "address moved to another port");
            }
            LearnOutcome::TableFull => self.counters.table_full += 1,
            LearnOutcome::Refreshed | LearnOutcome::Ignored => {}
        }
        if tx.trace().is_some() {
            let learned = match learn {
                LearnOutcome::Learned => "learned (new)".to_string(),
                LearnOutcome::Moved { from } => format!(
                    "moved from {}",
                    self.port_names.get(from).map(String::as_str).unwrap_or("?")
                ),
                LearnOutcome::TableFull => "not learned (table full)".to_string(),
                LearnOutcome::Refreshed => "already known (refreshed)".to_string(),
                LearnOutcome::Ignored => "not learned (not unicast)".to_string(),
            };
            record(
                tx,
                now,
                Direction::In,
                format!("in {}: source {src} {learned}", self.port_names[port]),
                vec![
                    ("switch.in_port", self.port_names[port].clone().into()),
                    ("eth.src", src.to_string().into()),
                    ("eth.dst", dst.to_string().into()),
                    ("switch.source", learned.into()),
                ],
            );
        }
        if dst.is_broadcast() || dst.is_multicast() {
            return self.flood(
                now,
                port,
                frame,
                tx,
                &format!("destination {dst} is broadcast"),
            );
        }
        match self.table.lookup(now, dst) {
            Some(out) if out == port => {
                self.counters.filtered += 1;
                if tx.trace().is_some() {
                    record(
                        tx,
                        now,
                        Direction::Out,
                        format!("destination {dst} is on the ingress port: filtered"),
                        vec![("switch.filtered", 1.into())],
                    );
                }
            }
            Some(out) if self.port_up.get(out).copied().unwrap_or(false) => {
                self.counters.forwarded += 1;
                if tx.trace().is_some() {
                    record(
                        tx,
                        now,
                        Direction::Out,
                        format!(
                            "destination {dst} known on {}: forwarded",
                            self.port_names[out]
                        ),
                        vec![("switch.out_ports", self.port_names[out].clone().into())],
                    );
                }
                tx.transmit(out, frame);
            }
            _ => self.flood(now, port, frame, tx, &format!("destination {dst} unknown")),
        }
    }

    fn poll(&mut self, now: Instant, _tx: &mut dyn Transmit) {
        let aged = self.table.expire(now);
        if aged > 0 {
            self.counters.aged_out += aged as u64;
            tracing::debug!(aged, "MAC entries aged out");
        }
    }

    fn poll_at(&self) -> Option<Instant> {
        self.table.next_expiry()
    }

    fn tables(&self) -> Vec<&'static str> {
        vec!["mac"]
    }

    fn table(&self, now: Instant, name: &str) -> Option<Table> {
        (name == "mac").then(|| {
            let mut table = Table::new(&["MAC", "PORT", "AGE"]);
            for e in self.table.entries(now) {
                table.row(vec![
                    e.mac.to_string(),
                    self.port_names
                        .get(e.port)
                        .cloned()
                        .unwrap_or_else(|| e.port.to_string()),
                    format!("{}s", e.age.as_secs()),
                ]);
            }
            table
        })
    }

    fn counters(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.counters).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert("mac_entries".into(), self.table.len().into());
        }
        value
    }

    fn link_changed(&mut self, _now: Instant, port: usize, up: bool) {
        if let Some(state) = self.port_up.get_mut(port) {
            *state = up;
        }
    }
}

/// How the runtime builds a switch.
pub fn spec() -> DeviceSpec<Switch> {
    DeviceSpec {
        kind: KIND,
        build: |config| Ok(Switch::new(config)),
        exec: None,
        start: None,
    }
}

/// The `vnet-switch` binary.
pub fn main() -> ExitCode {
    vnet_runtime::device_main(spec())
}
