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
//! * When a port's link goes down, the addresses learned on it are flushed
//!   (IEEE 802.1D §7.9), so frames to them are flooded until they are
//!   learned again elsewhere.
//!
//! The decisions are [`vnet_stack::bridge::Bridge`]'s; this crate parses the
//! frame, transmits it where the bridge says, and explains why in traces.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;
use vnet_runtime::api::Table;
use vnet_runtime::{Device, DeviceConfig, DeviceKind, DeviceSpec};
use vnet_stack::Transmit;
use vnet_stack::bridge::{
    Bridge, BridgeCounters, FloodReason, LearnOutcome, MacTableConfig, SwitchDecision,
};
use vnet_stack::time::Instant;
use vnet_wire::ethernet::{self, EthernetAddress};
use vnet_wire::trace::{Direction, TraceEvent, TraceValue};

/// The kind this crate runs.
pub const KIND: DeviceKind = DeviceKind::Switch;

/// Switch-level counters (per-port counters live on the cable ends), as
/// `vnet show` and the admin API report them: one flat JSON object.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SwitchCounters {
    /// The bridge's decisions (`forwarded`, `flooded`, `filtered`,
    /// `learned`, `moved`, `table_full`, `aged_out`, `macs_flushed`).
    #[serde(flatten)]
    pub bridge: BridgeCounters,
    /// Frames too short to carry an Ethernet header.
    pub malformed: u64,
    /// Entries in the MAC table now (expired ones not yet removed included).
    pub mac_entries: usize,
}

/// The switch device.
pub struct Switch {
    bridge: Bridge,
    port_names: Vec<String>,
    malformed: u64,
}

impl Switch {
    /// A switch with the ports and table settings of `config`.
    pub fn new(config: &DeviceConfig) -> Switch {
        Switch {
            bridge: Bridge::new(
                MacTableConfig {
                    capacity: config.switch.mac_table_capacity,
                    aging: Duration::from_secs(config.switch.mac_aging_secs),
                },
                config.interfaces.len(),
            ),
            port_names: config.interfaces.iter().map(|i| i.name.clone()).collect(),
            malformed: 0,
        }
    }

    /// The counters now.
    pub fn counters(&self) -> SwitchCounters {
        SwitchCounters {
            bridge: self.bridge.counters(),
            malformed: self.malformed,
            mac_entries: self.bridge.table().len(),
        }
    }

    /// The name of `port`, or its number if it has none.
    fn port_name(&self, port: usize) -> String {
        self.port_names
            .get(port)
            .cloned()
            .unwrap_or_else(|| port.to_string())
    }

    fn flood(&self, now: Instant, in_port: usize, frame: &[u8], tx: &mut dyn Transmit, why: &str) {
        if tx.trace().is_some() {
            let out: Vec<String> = self
                .bridge
                .flood_ports(in_port)
                .map(|p| self.port_name(p))
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
        for port in self.bridge.flood_ports(in_port) {
            tx.transmit(port, frame);
        }
    }

    /// Logs and traces what learning did with the source of a frame.
    fn note_source(
        &self,
        now: Instant,
        port: usize,
        (src, dst): (EthernetAddress, EthernetAddress),
        learn: LearnOutcome,
        tx: &mut dyn Transmit,
    ) {
        match learn {
            LearnOutcome::Learned => {
                tracing::debug!(mac = %src, port = %self.port_name(port), "learned");
            }
            LearnOutcome::Moved { from } => {
                tracing::info!(mac = %src, old = %self.port_name(from),
                    new = %self.port_name(port), "address moved to another port");
            }
            LearnOutcome::TableFull | LearnOutcome::Refreshed | LearnOutcome::Ignored => {}
        }
        if tx.trace().is_none() {
            return;
        }
        let learned = match learn {
            LearnOutcome::Learned => "learned (new)".to_string(),
            LearnOutcome::Moved { from } => format!("moved from {}", self.port_name(from)),
            LearnOutcome::TableFull => "not learned (table full)".to_string(),
            LearnOutcome::Refreshed => "already known (refreshed)".to_string(),
            LearnOutcome::Ignored => "not learned (not unicast)".to_string(),
        };
        let in_port = self.port_name(port);
        record(
            tx,
            now,
            Direction::In,
            format!("in {in_port}: source {src} {learned}"),
            vec![
                ("switch.in_port", in_port.into()),
                ("eth.src", src.to_string().into()),
                ("eth.dst", dst.to_string().into()),
                ("switch.source", learned.into()),
            ],
        );
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
            self.malformed += 1;
            return;
        };
        let (src, dst) = (view.src_addr(), view.dst_addr());
        let (decision, learn) = self.bridge.decide(now, port, dst, src);
        self.note_source(now, port, (src, dst), learn, tx);
        match decision {
            SwitchDecision::Flood(FloodReason::Group) => self.flood(
                now,
                port,
                frame,
                tx,
                &format!("destination {dst} is broadcast"),
            ),
            SwitchDecision::Flood(FloodReason::Unknown) => {
                self.flood(now, port, frame, tx, &format!("destination {dst} unknown"))
            }
            SwitchDecision::Filter => {
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
            SwitchDecision::Forward(out) => {
                if tx.trace().is_some() {
                    let out_port = self.port_name(out);
                    record(
                        tx,
                        now,
                        Direction::Out,
                        format!("destination {dst} known on {out_port}: forwarded"),
                        vec![("switch.out_ports", out_port.into())],
                    );
                }
                tx.transmit(out, frame);
            }
        }
    }

    fn poll(&mut self, now: Instant, _tx: &mut dyn Transmit) {
        let aged = self.bridge.expire(now);
        if aged > 0 {
            tracing::debug!(aged, "MAC entries aged out");
        }
    }

    fn poll_at(&self) -> Option<Instant> {
        self.bridge.next_expiry()
    }

    fn tables(&self) -> Vec<&'static str> {
        vec!["mac"]
    }

    fn table(&self, now: Instant, name: &str) -> Option<Table> {
        (name == "mac").then(|| {
            let mut table = Table::new(&["MAC", "PORT", "AGE"]);
            for e in self.bridge.table().entries(now) {
                table.row(vec![
                    e.mac.to_string(),
                    self.port_name(e.port),
                    format!("{}s", e.age.as_secs()),
                ]);
            }
            table
        })
    }

    fn counters(&self) -> serde_json::Value {
        serde_json::to_value(Switch::counters(self)).unwrap_or_default()
    }

    fn link_changed(&mut self, _now: Instant, port: usize, up: bool) {
        let flushed = self.bridge.set_port_up(port, up);
        if flushed > 0 {
            tracing::info!(port = %self.port_name(port), flushed,
                "link down: addresses learned on the port flushed");
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
