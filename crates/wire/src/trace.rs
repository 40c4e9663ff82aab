//! W3C Trace Context identifiers (W3C Trace Context §3.2) as carried beside
//! a frame in the cable envelope, so one request's path can be stitched
//! across processes while the emulated frame itself stays byte-exact.

use core::fmt;

/// The trace a frame belongs to and the span that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TraceContext {
    /// 16-byte trace id (all zero is invalid per W3C Trace Context §3.2.2.3).
    pub trace_id: [u8; 16],
    /// 8-byte id of the span that sent this frame (all zero is invalid,
    /// §3.2.2.4).
    pub span_id: [u8; 8],
    /// Trace flags; bit 0 = sampled (§3.2.2.5).
    pub flags: u8,
}

impl TraceContext {
    /// Whether both ids are non-zero, as W3C Trace Context requires.
    pub fn is_valid(&self) -> bool {
        self.trace_id != [0; 16] && self.span_id != [0; 8]
    }

    /// The same trace with another span as the sender.
    pub fn with_span(&self, span_id: [u8; 8]) -> Self {
        TraceContext { span_id, ..*self }
    }

    /// The trace id as 32 lowercase hex digits, as in a `traceparent` header.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The span id as 16 lowercase hex digits.
    pub fn span_id_hex(&self) -> String {
        hex(&self.span_id)
    }
}

/// `traceparent` form (§3.2): `00-<trace id>-<span id>-<flags>`.
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.trace_id_hex(),
            self.span_id_hex(),
            self.flags
        )
    }
}

/// Which way a per-layer decision looked at a frame, as in Packet Tracer's
/// "In Layers" and "Out Layers".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// While taking the frame in.
    In,
    /// While sending something out.
    Out,
}

impl Direction {
    /// `"in"` or `"out"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// A header field or decision attached to a trace event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceValue {
    /// A number (ports, TTLs, sequence numbers, lengths).
    Int(i64),
    /// Text (addresses, names, reasons).
    Text(String),
}

impl From<&str> for TraceValue {
    fn from(v: &str) -> Self {
        TraceValue::Text(v.to_string())
    }
}

impl From<String> for TraceValue {
    fn from(v: String) -> Self {
        TraceValue::Text(v)
    }
}

macro_rules! trace_value_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for TraceValue {
            fn from(v: $t) -> Self {
                TraceValue::Int(i64::from(v))
            }
        }
    )*};
}
trace_value_from_int!(u8, u16, u32, i32, i64, bool);

impl From<usize> for TraceValue {
    fn from(v: usize) -> Self {
        TraceValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<u64> for TraceValue {
    fn from(v: u64) -> Self {
        TraceValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl fmt::Display for TraceValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceValue::Int(v) => write!(f, "{v}"),
            TraceValue::Text(v) => f.write_str(v),
        }
    }
}

/// Something a device decided or did while handling traced traffic: a
/// sans-IO record that the device runtime turns into a span event (or a
/// small span of its own) of the span `ctx` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// The span the event belongs to.
    pub ctx: TraceContext,
    /// When, in the stack's clock (microseconds since the device started).
    pub at_micros: u64,
    /// A short, stable name such as `tcp.send` or `ip.forward`.
    pub name: &'static str,
    /// `L2`, `L3`, `L4` or `L7`.
    pub layer: &'static str,
    /// `eth`, `arp`, `ip`, `icmp`, `udp`, `tcp`, `dns`, `dhcp` or `http`.
    pub proto: &'static str,
    /// Set for per-layer decisions about one frame; `None` for events that
    /// matter on their own (a state change, a retransmission).
    pub dir: Option<Direction>,
    /// One line for humans.
    pub summary: String,
    /// The header fields that decided, e.g. `("ip.ttl_before", 64)`.
    pub attrs: Vec<(&'static str, TraceValue)>,
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_form_matches_the_w3c_example() {
        // W3C Trace Context §3.2.2.2 example header.
        let ctx = TraceContext {
            trace_id: [
                0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
                0x47, 0x36,
            ],
            span_id: [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7],
            flags: 1,
        };
        assert_eq!(
            ctx.to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert!(ctx.is_valid());
        assert!(!TraceContext::default().is_valid());
    }
}
