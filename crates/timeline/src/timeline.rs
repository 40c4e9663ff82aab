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
//! are shown only with [`TimelineOptions::layers`] and are kept or hidden
//! together with their span's row.
//!
//! Every row, per-layer lines included, is placed at its own time, so the
//! timeline tells the order in which things happened. A per-layer line is
//! indented past the layer column; when the row above it belongs to
//! another span, it names its span (text and start) at its end:
//!
//! ```text
//!      0.232 ms  client       L7  http  GET http://www.example.com/
//!      0.244 ms  client       L7  dns   query www.example.com A
//!      0.842 ms  client       L4  tcp   [SYN] seq=0
//!      1.204 ms  client         out L4 tcp [PSH, ACK] len=159 (of GET http://www.example.com/ at 0.232 ms)
//! ```
//!
//! Rows at the same time keep a fixed order: span starts before events,
//! then by span id, then in the order the span's events were recorded.

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
    /// Show per-layer (`vnet.dir`) events, at their own time, with their span.
    pub layers: bool,
}

/// What a row shows.
enum RowText {
    /// A span's start or one of its events: the whole line.
    Line(String),
    /// A per-layer event of the span: its detail text (time, device and,
    /// when the row above belongs to another span, the span are added at
    /// the end, once the order is known).
    Layer { detail: String },
}

struct Row<'a> {
    time: u64,
    /// 0 for a span's start, 1 for its events: at equal times a span
    /// starts before anything happens in it.
    kind: u8,
    span: &'a SpanRecord,
    /// Index of the span in the sorted list: identifies it.
    span_index: usize,
    /// Index of the event within the span (0 for the start).
    seq: usize,
    text: RowText,
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

/// The text of a per-layer event: `dir layer proto summary fields`.
fn layer_detail(event: &EventRecord, span: &SpanRecord) -> String {
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
    let line = format!("{dir} {layer} {proto} {summary} {fields}");
    line.trim_end().to_string()
}

/// A per-layer line: time, device, then the detail indented past the
/// layer column; `owner` names the span when the line is not under it.
fn layer_row_line(time: u64, t0: u64, service: &str, detail: &str, owner: Option<&str>) -> String {
    let ms = relative_ms(time, t0);
    let mut line = format!("{ms:>10.3} ms  {service:<12}   {detail}");
    if let Some(owner) = owner {
        let _ = write!(line, " (of {owner})");
    }
    line
}

/// A span's text: its summary, else its name.
fn span_text(span: &SpanRecord) -> &str {
    attr(&span.attributes, ATTR_SUMMARY).unwrap_or(&span.name)
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

    let mut rows: Vec<Row> = Vec::new();
    for (span_index, span) in spans.iter().copied().enumerate() {
        let proto = attr(&span.attributes, ATTR_PROTO);
        let layer = attr(&span.attributes, ATTR_LAYER);
        let span_kept = keep(proto);
        if span_kept {
            rows.push(Row {
                time: span.start_unix_nanos,
                kind: 0,
                span,
                span_index,
                seq: 0,
                text: RowText::Line(row_line(
                    span.start_unix_nanos,
                    t0,
                    &span.service,
                    layer.unwrap_or("-"),
                    proto.unwrap_or("-"),
                    span_text(span),
                )),
            });
        }
        for (seq, event) in span.events.iter().enumerate() {
            let text = if attr(&event.attributes, ATTR_DIR).is_some() {
                // Per-layer detail: shown with --layers, with its span.
                if !(opts.layers && span_kept) {
                    continue;
                }
                RowText::Layer {
                    detail: layer_detail(event, span),
                }
            } else {
                let event_proto = attr(&event.attributes, ATTR_PROTO).or(proto);
                if !keep(event_proto) {
                    continue;
                }
                let event_layer = attr(&event.attributes, ATTR_LAYER).or(layer);
                RowText::Line(row_line(
                    event.time_unix_nanos,
                    t0,
                    &span.service,
                    event_layer.unwrap_or("-"),
                    event_proto.unwrap_or("-"),
                    &event_text(event),
                ))
            };
            rows.push(Row {
                time: event.time_unix_nanos,
                kind: 1,
                span,
                span_index,
                seq,
                text,
            });
        }
    }
    rows.sort_by(|a, b| {
        (a.time, a.kind, a.span.span_id.as_str(), a.span_index, a.seq).cmp(&(
            b.time,
            b.kind,
            b.span.span_id.as_str(),
            b.span_index,
            b.seq,
        ))
    });

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
    let mut previous_span = None;
    for row in &rows {
        match &row.text {
            RowText::Line(line) => out.push_str(line),
            RowText::Layer { detail } => {
                let owner = (previous_span != Some(row.span_index)).then(|| {
                    format!(
                        "{} at {:.3} ms",
                        span_text(row.span),
                        relative_ms(row.span.start_unix_nanos, t0)
                    )
                });
                out.push_str(&layer_row_line(
                    row.time,
                    t0,
                    &row.span.service,
                    detail,
                    owner.as_deref(),
                ));
            }
        }
        out.push('\n');
        previous_span = Some(row.span_index);
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
    fn layers_view_places_each_line_at_its_time() {
        let opts = TimelineOptions {
            protos: Some(vec!["ip".into()]),
            layers: true,
        };
        let out = render(&trace(), &opts);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[1..],
            [
                "     1.500 ms  r1           L3  ip    frame",
                "     1.510 ms  r1             in L3 ip from eth0 ip.ttl=64",
                "     1.550 ms  r1           L3  ip    ttl ip.ttl_after=63 ip.ttl_before=64",
                "     1.590 ms  r1             out L2 eth to 02:76:6e:00:01:00 eth.type=0x0800",
            ],
            "{out}"
        );
    }

    /// Milliseconds after `base` in nanoseconds.
    fn at(base: u64, ms: f64) -> u64 {
        base + (ms * 1e6).round() as u64
    }

    fn out_layer(name: &str, time: u64, layer: &str, proto: &str, summary: &str) -> EventRecord {
        event(
            name,
            time,
            &[
                ("vnet.dir", "out"),
                ("vnet.layer", layer),
                ("vnet.proto", proto),
                ("vnet.summary", summary),
            ],
        )
    }

    /// A browse as the devices trace it: the GET span (0.232 ms) holds
    /// the per-layer events of its TCP segments, the request's
    /// `[PSH, ACK]` recorded first; the DNS lookup (0.244 ms) is a child
    /// span; the SYN leaves at 0.842 ms and r1 forwards it at 0.900 ms;
    /// the request goes out at 1.204 ms and the answer is read at 2.5 ms.
    fn browse_trace() -> TraceData {
        let base = 1_700_000_000_000_000_000;
        let app = [("vnet.kind", "app"), ("vnet.layer", "L7")];
        let browse = with(
            span("b", "1", None, "client", "browse", base, at(base, 3.0)),
            &[
                app[0],
                app[1],
                ("vnet.proto", "http"),
                ("vnet.summary", "browse http://www.example.com/"),
            ],
        );
        let mut get = with(
            span(
                "b",
                "2",
                Some("1"),
                "client",
                "http.client",
                at(base, 0.232),
                at(base, 2.6),
            ),
            &[
                app[0],
                app[1],
                ("vnet.proto", "http"),
                ("vnet.summary", "GET http://www.example.com/"),
            ],
        );
        get.events = vec![
            out_layer("tcp", at(base, 1.204), "L4", "tcp", "[PSH, ACK] len=159"),
            out_layer("tcp", at(base, 0.842), "L4", "tcp", "[SYN] seq=0"),
            event(
                "response",
                at(base, 2.5),
                &[("vnet.summary", "200 OK"), ("http.bytes", "512")],
            ),
        ];
        let mut dns = with(
            span(
                "b",
                "3",
                Some("2"),
                "client",
                "dns",
                at(base, 0.244),
                at(base, 0.7),
            ),
            &[
                app[0],
                app[1],
                ("vnet.proto", "dns"),
                ("vnet.summary", "query www.example.com A"),
            ],
        );
        dns.events = vec![out_layer(
            "udp",
            at(base, 0.250),
            "L4",
            "udp",
            "to 10.0.2.53:53",
        )];
        let mut syn = with(
            span(
                "b",
                "4",
                Some("2"),
                "r1",
                "frame",
                at(base, 0.900),
                at(base, 0.920),
            ),
            &[
                ("vnet.kind", "frame"),
                ("vnet.layer", "L4"),
                ("vnet.proto", "tcp"),
                ("vnet.summary", "[SYN] 10.0.1.100:49152 -> 10.0.3.80:80"),
            ],
        );
        syn.events = vec![
            out_layer("out", at(base, 0.910), "L2", "eth", "to eth1"),
            event(
                "in",
                at(base, 0.900),
                &[
                    ("vnet.dir", "in"),
                    ("vnet.layer", "L2"),
                    ("vnet.proto", "eth"),
                    ("vnet.summary", "from eth0"),
                ],
            ),
        ];
        TraceData {
            trace_id: format!("{:0>32}", "b"),
            spans: vec![syn, dns, get, browse],
        }
    }

    #[test]
    fn layer_lines_follow_time_not_their_span() {
        let opts = TimelineOptions {
            protos: None,
            layers: true,
        };
        let out = render(&browse_trace(), &opts);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[1..],
            [
                "     0.000 ms  client       L7  http  browse http://www.example.com/",
                "     0.232 ms  client       L7  http  GET http://www.example.com/",
                "     0.244 ms  client       L7  dns   query www.example.com A",
                "     0.250 ms  client         out L4 udp to 10.0.2.53:53",
                "     0.842 ms  client         out L4 tcp [SYN] seq=0 (of GET http://www.example.com/ at 0.232 ms)",
                "     0.900 ms  r1           L4  tcp   [SYN] 10.0.1.100:49152 -> 10.0.3.80:80",
                "     0.900 ms  r1             in L2 eth from eth0",
                "     0.910 ms  r1             out L2 eth to eth1",
                "     1.204 ms  client         out L4 tcp [PSH, ACK] len=159 (of GET http://www.example.com/ at 0.232 ms)",
                "     2.500 ms  client       L7  http  200 OK",
            ],
            "{out}"
        );
        // The issue's case in words: the request's segment comes after the
        // DNS lookup and after the SYN.
        let position = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("no {needle:?} in:\n{out}"))
        };
        let request = position("[PSH, ACK] len=159");
        assert!(position("query www.example.com A") < request);
        assert!(position("[SYN] seq=0") < request);
        // Rows are never out of time order.
        let times: Vec<f64> = lines[1..]
            .iter()
            .map(|l| l[..10].trim().parse().expect("time"))
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{out}");
    }

    #[test]
    fn layer_lines_keep_the_proto_filter_of_their_span() {
        // The GET span is http: its tcp segments go with it; r1's tcp
        // frame keeps its eth layers.
        let out = render(
            &browse_trace(),
            &TimelineOptions {
                protos: Some(vec!["tcp".into()]),
                layers: true,
            },
        );
        let texts: Vec<&str> = out.lines().skip(1).map(|l| l[27..].trim()).collect();
        assert_eq!(
            texts,
            [
                "L4  tcp   [SYN] 10.0.1.100:49152 -> 10.0.3.80:80",
                "in L2 eth from eth0",
                "out L2 eth to eth1"
            ],
            "{out}"
        );
        // Without --layers no per-layer line shows.
        let plain = render(&browse_trace(), &TimelineOptions::default());
        assert_eq!(plain.lines().count(), 1 + 5, "{plain}");
        assert!(!plain.contains("[PSH, ACK]"), "{plain}");
    }

    #[test]
    fn ties_put_span_starts_first_then_span_id_then_recorded_order() {
        let t = 1_000;
        let layer_in =
            |summary: &str| event("in", t, &[("vnet.dir", "in"), ("vnet.summary", summary)]);
        let mut b = span("x", "b", None, "dev-b", "span b", t, t + 10);
        b.events = vec![layer_in("b first"), event("b-event", t, &[])];
        let mut a = span("x", "a", None, "dev-a", "span a", t, t + 10);
        a.events = vec![event("a-event", t, &[]), layer_in("a second")];
        let trace = TraceData {
            trace_id: "x".into(),
            spans: vec![b, a],
        };
        let opts = TimelineOptions {
            protos: None,
            layers: true,
        };
        let out = render(&trace, &opts);
        let texts: Vec<&str> = out.lines().skip(1).map(|l| l[15..].trim_end()).collect();
        assert_eq!(
            texts,
            [
                "dev-a        -   -     span a",
                "dev-b        -   -     span b",
                "dev-a        -   -     a-event",
                "dev-a          in - - a second",
                "dev-b          in - - b first (of span b at 0.000 ms)",
                "dev-b        -   -     b-event",
            ],
            "{out}"
        );
        assert_eq!(render(&trace, &opts), out, "deterministic");
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
