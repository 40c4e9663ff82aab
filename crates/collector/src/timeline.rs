//! The terminal timeline of one trace (`vnet trace show`), in the spirit of
//! Packet Tracer's event list.
//!
//! One row per span (at its start) and one per event, in time order:
//!
//! ```text
//! trace 4bf92f3577b34da6a3ce929d0e0e4736  5 spans  3 services  12.345 ms
//!      0.000 ms  client       L7  dns   query www.example.com A
//!      0.120 ms  r1           L3  ip    forward 10.0.1.100 -> 10.0.2.53 ttl 64->63
//! ```
//!
//! Conventions of the devices: span attributes `vnet.kind`, `vnet.proto`,
//! `vnet.layer`, `vnet.summary`, `vnet.iface`; events may carry
//! `vnet.proto`, `vnet.layer`, `vnet.summary`, and `vnet.dir` (`in`/`out`)
//! on per-layer detail events (Packet Tracer's "In Layers / Out Layers").
//! An event without a proto or layer inherits its span's. Per-layer events
//! are shown only with [`TimelineOptions::layers`], indented under their
//! span's row and kept or hidden together with it.

use crate::model::{EventRecord, SpanRecord, TraceData};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Span or event attribute: one-line human text.
pub const ATTR_SUMMARY: &str = "vnet.summary";
/// Span or event attribute: protocol (arp, ip, icmp, udp, tcp, dns, http, dhcp).
pub const ATTR_PROTO: &str = "vnet.proto";
/// Span or event attribute: layer (`L2`, `L3`, `L4`, `L7`).
pub const ATTR_LAYER: &str = "vnet.layer";
/// Event attribute: `in` or `out` on per-layer detail events.
pub const ATTR_DIR: &str = "vnet.dir";
/// Span attribute: `frame` or `app`.
pub const ATTR_KIND: &str = "vnet.kind";
/// Span attribute: the interface a frame span is about.
pub const ATTR_IFACE: &str = "vnet.iface";

/// What [`render`] shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineOptions {
    /// Keep only rows whose (own or inherited) protocol is one of these
    /// (case-insensitive); `None` keeps every row.
    pub protos: Option<Vec<String>>,
    /// Show per-layer (`vnet.dir`) events under their span.
    pub layers: bool,
}

struct Row {
    time: u64,
    order: usize,
    line: String,
    layer_lines: Vec<String>,
}

fn attr<'a>(attributes: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    attributes
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// `k=v` pairs, values with spaces (or empty) quoted.
fn pairs<'a>(items: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    let mut out = String::new();
    for (k, v) in items {
        if !out.is_empty() {
            out.push(' ');
        }
        if v.is_empty() || v.chars().any(char::is_whitespace) {
            let _ = write!(out, "{k}={v:?}");
        } else {
            let _ = write!(out, "{k}={v}");
        }
    }
    out
}

fn event_text(event: &EventRecord) -> String {
    if let Some(summary) = attr(&event.attributes, ATTR_SUMMARY) {
        return summary.to_string();
    }
    let fields = pairs(
        event
            .attributes
            .iter()
            .filter(|(k, _)| !k.starts_with("vnet.")),
    );
    if fields.is_empty() {
        event.name.clone()
    } else {
        format!("{} {fields}", event.name)
    }
}

fn layer_line(event: &EventRecord, span: &SpanRecord) -> String {
    let a = &event.attributes;
    let inherited = |key| attr(a, key).or_else(|| attr(&span.attributes, key));
    let dir = attr(a, ATTR_DIR).unwrap_or("-");
    let layer = inherited(ATTR_LAYER).unwrap_or("-");
    let proto = inherited(ATTR_PROTO).unwrap_or("-");
    let summary = attr(a, ATTR_SUMMARY).unwrap_or(&event.name);
    let fields =
        pairs(a.iter().filter(|(k, _)| {
            ![ATTR_DIR, ATTR_LAYER, ATTR_PROTO, ATTR_SUMMARY].contains(&k.as_str())
        }));
    let line = format!("             {dir} {layer} {proto} {summary} {fields}");
    line.trim_end().to_string()
}

fn relative_ms(time: u64, t0: u64) -> f64 {
    (i128::from(time) - i128::from(t0)) as f64 / 1e6
}

fn row_line(time: u64, t0: u64, service: &str, layer: &str, proto: &str, text: &str) -> String {
    let ms = relative_ms(time, t0);
    format!("{ms:>10.3} ms  {service:<12} {layer:<3} {proto:<5} {text}")
        .trim_end()
        .to_string()
}

/// Renders `trace` as a timeline (see the module docs); ends with a newline.
pub fn render(trace: &TraceData, opts: &TimelineOptions) -> String {
    let wanted: Option<BTreeSet<String>> = opts.protos.as_ref().map(|protos| {
        protos
            .iter()
            .map(|p| p.trim().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect()
    });
    let keep = |proto: Option<&str>| match &wanted {
        None => true,
        Some(set) => proto.is_some_and(|p| set.contains(&p.to_ascii_lowercase())),
    };

    let mut spans: Vec<&SpanRecord> = trace.spans.iter().collect();
    spans.sort_by(|a, b| {
        a.start_unix_nanos
            .cmp(&b.start_unix_nanos)
            .then_with(|| a.span_id.cmp(&b.span_id))
    });
    let t0 = trace.start_unix_nanos();
    let end = spans
        .iter()
        .map(|s| s.end_unix_nanos.max(s.start_unix_nanos))
        .max()
        .unwrap_or(t0);
    let services: BTreeSet<&str> = spans.iter().map(|s| s.service.as_str()).collect();

    let mut rows = Vec::new();
    for span in &spans {
        let proto = attr(&span.attributes, ATTR_PROTO);
        let layer = attr(&span.attributes, ATTR_LAYER);
        if keep(proto) {
            let text = attr(&span.attributes, ATTR_SUMMARY).unwrap_or(&span.name);
            let mut layer_events: Vec<&EventRecord> = if opts.layers {
                span.events
                    .iter()
                    .filter(|e| attr(&e.attributes, ATTR_DIR).is_some())
                    .collect()
            } else {
                Vec::new()
            };
            layer_events.sort_by_key(|e| e.time_unix_nanos);
            rows.push(Row {
                time: span.start_unix_nanos,
                order: rows.len(),
                line: row_line(
                    span.start_unix_nanos,
                    t0,
                    &span.service,
                    layer.unwrap_or("-"),
                    proto.unwrap_or("-"),
                    text,
                ),
                layer_lines: layer_events.iter().map(|e| layer_line(e, span)).collect(),
            });
        }
        for event in &span.events {
            if attr(&event.attributes, ATTR_DIR).is_some() {
                continue;
            }
            let event_proto = attr(&event.attributes, ATTR_PROTO).or(proto);
            if !keep(event_proto) {
                continue;
            }
            let event_layer = attr(&event.attributes, ATTR_LAYER).or(layer);
            rows.push(Row {
                time: event.time_unix_nanos,
                order: rows.len(),
                line: row_line(
                    event.time_unix_nanos,
                    t0,
                    &span.service,
                    event_layer.unwrap_or("-"),
                    event_proto.unwrap_or("-"),
                    &event_text(event),
                ),
                layer_lines: Vec::new(),
            });
        }
    }
    rows.sort_by_key(|r| (r.time, r.order));

    let mut out = format!(
        "trace {}  {} spans  {} services  {:.3} ms\n",
        trace.trace_id,
        spans.len(),
        services.len(),
        relative_ms(end, t0)
    );
    if rows.is_empty()
        && let Some(set) = &wanted
    {
        let list: Vec<&str> = set.iter().map(String::as_str).collect();
        let _ = writeln!(out, "(no rows for protocol {})", list.join(", "));
    }
    for row in rows {
        out.push_str(&row.line);
        out.push('\n');
        for line in row.layer_lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::span;

    fn with(mut s: SpanRecord, attrs: &[(&str, &str)]) -> SpanRecord {
        for (k, v) in attrs {
            s.attributes.insert(k.to_string(), v.to_string());
        }
        s
    }

    fn event(name: &str, time: u64, attrs: &[(&str, &str)]) -> EventRecord {
        EventRecord {
            name: name.to_string(),
            time_unix_nanos: time,
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// client browse (app, http) ⊃ client dns query; r1 forwards a frame
    /// with per-layer events; a TTL event on r1 without proto.
    fn trace() -> TraceData {
        let base = 1_700_000_000_000_000_000;
        let mut browse = with(
            span("t", "1", None, "client", "browse", base, base + 9_000_000),
            &[
                ("vnet.kind", "app"),
                ("vnet.proto", "http"),
                ("vnet.layer", "L7"),
            ],
        );
        browse.events.push(event(
            "response",
            base + 8_000_000,
            &[("vnet.summary", "200 OK"), ("http.bytes", "512")],
        ));
        let dns = with(
            span(
                "t",
                "2",
                Some("1"),
                "client",
                "dns",
                base + 1_000_000,
                base + 3_000_000,
            ),
            &[
                ("vnet.proto", "DNS"),
                ("vnet.layer", "L7"),
                ("vnet.summary", "query www.example.com A"),
            ],
        );
        let mut fwd = with(
            span(
                "t",
                "3",
                Some("2"),
                "r1",
                "frame",
                base + 1_500_000,
                base + 1_600_000,
            ),
            &[
                ("vnet.kind", "frame"),
                ("vnet.proto", "ip"),
                ("vnet.layer", "L3"),
                ("vnet.iface", "eth0"),
            ],
        );
        fwd.events.push(event(
            "ttl",
            base + 1_550_000,
            &[
                ("ip.ttl_before", "64"),
                ("ip.ttl_after", "63"),
                ("vnet.x", "hidden"),
            ],
        ));
        fwd.events.push(event(
            "out",
            base + 1_590_000,
            &[
                ("vnet.dir", "out"),
                ("vnet.layer", "L2"),
                ("vnet.proto", "eth"),
                ("vnet.summary", "to 02:76:6e:00:01:00"),
                ("eth.type", "0x0800"),
            ],
        ));
        fwd.events.push(event(
            "in",
            base + 1_510_000,
            &[
                ("vnet.dir", "in"),
                ("vnet.summary", "from eth0"),
                ("ip.ttl", "64"),
            ],
        ));
        TraceData {
            trace_id: format!("{:0>32}", "t"),
            spans: vec![fwd, browse, dns],
        }
    }

    #[test]
    fn rows_are_in_time_order_with_header() {
        let out = render(&trace(), &TimelineOptions::default());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            format!("trace {:0>32}  3 spans  2 services  9.000 ms", "t")
        );
        assert_eq!(lines[1], "     0.000 ms  client       L7  http  browse");
        assert_eq!(
            lines[2],
            "     1.000 ms  client       L7  DNS   query www.example.com A"
        );
        assert_eq!(lines[3], "     1.500 ms  r1           L3  ip    frame");
        assert_eq!(
            lines[4],
            "     1.550 ms  r1           L3  ip    ttl ip.ttl_after=63 ip.ttl_before=64"
        );
        assert_eq!(lines[5], "     8.000 ms  client       L7  http  200 OK");
        assert_eq!(lines.len(), 6, "per-layer events hidden by default:\n{out}");
    }

    #[test]
    fn proto_filter_is_case_insensitive_and_inherited() {
        let opts = TimelineOptions {
            protos: Some(vec!["dns".into(), "IP".into()]),
            layers: false,
        };
        let out = render(&trace(), &opts);
        let texts: Vec<&str> = out.lines().skip(1).map(|l| &l[38..]).collect();
        assert_eq!(
            texts,
            vec![
                "query www.example.com A",
                "frame",
                "ttl ip.ttl_after=63 ip.ttl_before=64"
            ]
        );
        let none = render(
            &trace(),
            &TimelineOptions {
                protos: Some(vec!["arp".into()]),
                layers: true,
            },
        );
        assert_eq!(none.lines().nth(1), Some("(no rows for protocol arp)"));
    }

    #[test]
    fn layers_view_indents_under_the_span() {
        let opts = TimelineOptions {
            protos: Some(vec!["ip".into()]),
            layers: true,
        };
        let out = render(&trace(), &opts);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], "     1.500 ms  r1           L3  ip    frame");
        assert_eq!(lines[2], "             in L3 ip from eth0 ip.ttl=64");
        assert_eq!(
            lines[3],
            "             out L2 eth to 02:76:6e:00:01:00 eth.type=0x0800"
        );
        assert!(lines[4].contains("ttl ip.ttl_after=63"), "{out}");
        assert_eq!(lines.len(), 5, "{out}");
    }

    #[test]
    fn missing_fields_print_dashes() {
        let t = TraceData {
            trace_id: format!("{:0>32}", "e"),
            spans: vec![span("e", "1", None, "a-very-long-service", "plain", 5, 5)],
        };
        let out = render(&t, &TimelineOptions::default());
        assert_eq!(
            out.lines().nth(1),
            Some("     0.000 ms  a-very-long-service -   -     plain")
        );
        let empty = TraceData {
            trace_id: "x".into(),
            spans: Vec::new(),
        };
        assert_eq!(
            render(&empty, &TimelineOptions::default()),
            "trace x  0 spans  0 services  0.000 ms\n"
        );
    }
}
