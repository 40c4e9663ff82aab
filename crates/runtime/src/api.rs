//! The admin API's JSON types, shared by devices and the `vnet` CLI.
//!
//! | method | path | body / query | answer |
//! |---|---|---|---|
//! | GET | `/health` | | `ok` |
//! | GET | `/status` | | [`DeviceStatus`] |
//! | GET | `/tables` | | list of table names |
//! | GET | `/tables/{name}` | | [`Table`] |
//! | POST | `/links/{iface}/{up\|down}` | `?direction=in\|out\|both&for_ms=N` | [`InterfaceStatus`] |
//! | POST | `/links/{iface}/impair` | [`vnet_cable::Impairments`] (all zero clears); `?for_ms=N` | [`InterfaceStatus`] |
//! | GET | `/capture/{iface}` | `?count=N&seconds=S` | a pcapng stream |
//! | POST | `/exec` | [`ExecRequest`] | NDJSON stream of [`ExecEvent`] |
//! | POST | `/exec/{id}/interrupt` | | `204` (the id of [`ExecEvent::Started`]) |
//!
//! Errors come back with a 4xx/5xx status and an [`ApiError`] body.
//!
//! `for_ms` ([`RestoreAfter`]) makes a link change temporary: the device
//! itself restores the previous state after that long, unless the link
//! state (or the impairments) changed again in between.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use vnet_cable::{CountersSnapshot, LinkStatus};

/// `GET /status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// Device name.
    pub name: String,
    /// Device kind.
    pub kind: String,
    /// OS process id.
    pub pid: u32,
    /// Milliseconds since start.
    pub uptime_ms: u64,
    /// The CPUs the device is pinned to (its `cpus` setting); absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<vnet_topology::cpus::CpuList>,
    /// Ready for traffic (a DHCP host holds its lease); `/health` is 503 until then.
    #[serde(default = "ready_default")]
    pub ready: bool,
    /// Interfaces in port order.
    pub interfaces: Vec<InterfaceStatus>,
    /// Device-level counters.
    pub device: serde_json::Value,
    /// Tables `vnet show` can print.
    pub tables: Vec<String>,
    /// Trace export: whether spans are exported, the per-trace frame
    /// budget and what was traced or left out.
    #[serde(default)]
    pub tracing: serde_json::Value,
}

fn ready_default() -> bool {
    true
}

/// One interface in [`DeviceStatus`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InterfaceStatus {
    /// Name (`eth0`).
    pub name: String,
    /// MAC address.
    pub mac: String,
    /// IPv4 address/prefix, if any.
    pub address: Option<String>,
    /// IP MTU.
    pub mtu: u16,
    /// Local cable socket.
    pub local: SocketAddr,
    /// Peer cable end as configured: an address, or `NAME:PORT`.
    pub peer: String,
    /// The address the peer's frames are accepted from and sent to now
    /// (for a named peer: the last resolution; absent until it resolves).
    #[serde(default)]
    pub peer_addr: Option<SocketAddr>,
    /// TAP device, when the interface is bridged to the kernel.
    #[serde(default)]
    pub tap: Option<String>,
    /// Administrative state per direction.
    pub link: LinkStatus,
    /// Counters.
    pub counters: CountersSnapshot,
    /// Impairments on what this interface sends.
    #[serde(default)]
    pub impairments: vnet_cable::Impairments,
    /// Live capture subscribers.
    pub captures: usize,
}

/// Query of `POST /links/{iface}/{up|down|impair}`: undo the change after
/// `for_ms` milliseconds (absent: keep it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreAfter {
    /// Milliseconds until the previous state is restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_ms: Option<u64>,
}

impl RestoreAfter {
    /// Longest scheduled restore: a week.
    pub const MAX_MS: u64 = 7 * 24 * 3600 * 1000;
}

/// A table for `vnet show`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows of cells, as text.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headings and no rows.
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Renders aligned columns, as `vnet show` prints them.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.len()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(cell.len());
                }
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                if i + 1 == cells.len() {
                    out.push_str(cell);
                } else {
                    out.push_str(&format!("{cell:<width$}  "));
                }
            }
            out.trim_end().to_string()
        };
        let mut out = line(&self.columns);
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }
}

/// `POST /exec` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecRequest {
    /// Program and arguments, e.g. `["ping", "-c", "3", "10.0.3.10"]`.
    pub argv: Vec<String>,
}

/// One line of the `POST /exec` stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecEvent {
    /// The application started (first event): `id` names it for
    /// `POST /exec/{id}/interrupt`, the Ctrl-C of `vnet exec`.
    Started {
        /// The run's id on this device.
        id: u64,
    },
    /// A line of standard output.
    Out(String),
    /// A line of standard error.
    Err(String),
    /// A file the application produced (`fetch -o`, `browse -o`): sent
    /// back for the CLI to write as the calling user, never written on the
    /// device's side. `name` is the path the user gave (for `browse`, that
    /// directory joined with the resource's mirrored path); `data` is the
    /// content in standard base64 (RFC 4648 §4).
    File {
        /// Path as requested.
        name: String,
        /// Base64 content.
        data: String,
    },
    /// How far a long transfer is (`tcp send`): the CLI draws a progress
    /// bar from these when its stdout is a terminal and ignores them
    /// otherwise. At most four a second; dropped rather than waited for
    /// when the client reads slowly.
    Progress {
        /// Bytes done so far.
        done: u64,
        /// Bytes in all, when known.
        total: Option<u64>,
    },
    /// The application finished with this exit code (last event).
    Exit(i32),
}

/// Error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong.
    pub error: String,
}
