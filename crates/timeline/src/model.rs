//! The collector's data model, which is also its JSON API.
//!
//! Span and event attributes are kept as strings (every OTLP `AnyValue` is
//! stringified by the collector's `decode` module), which is all a timeline needs and keeps
//! the JSON flat.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One span as the collector stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanRecord {
    /// Trace id: 32 lowercase hex digits.
    pub trace_id: String,
    /// Span id: 16 lowercase hex digits.
    pub span_id: String,
    /// Parent span id (16 hex digits); `None` for a span without a parent.
    pub parent_span_id: Option<String>,
    /// Span name.
    pub name: String,
    /// The exporting process: resource attribute `service.name`, `"unknown"` if absent.
    pub service: String,
    /// Start time, nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// End time, nanoseconds since the Unix epoch.
    pub end_unix_nanos: u64,
    /// Span attributes, every value stringified.
    pub attributes: BTreeMap<String, String>,
    /// Events recorded on the span, in the order the exporter sent them.
    pub events: Vec<EventRecord>,
}

/// One event of a span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Event name.
    pub name: String,
    /// Time, nanoseconds since the Unix epoch.
    pub time_unix_nanos: u64,
    /// Event attributes, every value stringified.
    pub attributes: BTreeMap<String, String>,
}

/// One line of `GET /api/traces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceSummary {
    /// Trace id (32 hex digits).
    pub trace_id: String,
    /// Name of the root span (the earliest span whose parent is absent or unknown).
    pub root_name: String,
    /// Service of the root span.
    pub root_service: String,
    /// Earliest start of any span, nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// Latest end minus earliest start.
    pub duration_nanos: u64,
    /// Number of spans.
    pub span_count: usize,
    /// Distinct services, sorted.
    pub services: Vec<String>,
}

/// One whole trace, as `GET /api/traces/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceData {
    /// Trace id (32 hex digits).
    pub trace_id: String,
    /// Spans sorted by start time (then span id).
    pub spans: Vec<SpanRecord>,
}

/// Counters of the collector's store, as `GET /api/stats` returns them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Traces held.
    pub traces: usize,
    /// Spans held.
    pub spans: usize,
    /// Approximate bytes held.
    pub bytes: usize,
    /// Spans received (including duplicates and drops).
    pub received_spans: u64,
    /// Traces evicted to make room.
    pub evicted_traces: u64,
    /// Spans evicted with them.
    pub evicted_spans: u64,
    /// Spans dropped because their own trace alone filled the store.
    pub dropped_spans: u64,
    /// Spans ignored because the same span id was already held.
    pub duplicate_spans: u64,
}

/// The error body of the JSON API: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong.
    pub error: String,
}

impl SpanRecord {
    /// The bytes this span costs in memory, as the allocator sees them:
    /// the record itself, every string's allocation (capacity rounded up to
    /// malloc's 16-byte granule, plus its 16-byte chunk header) and the
    /// maps' per-entry node overhead. Calibrated against the collector's
    /// RSS (docs/design.md "Traces"): the first estimate counted string
    /// lengths only and undercounted the heap by half.
    pub fn approx_bytes(&self) -> usize {
        let events: usize = self
            .events
            .iter()
            .map(|e| heap(&e.name) + map_bytes(&e.attributes))
            .sum();
        std::mem::size_of::<SpanRecord>()
            + heap(&self.trace_id)
            + heap(&self.span_id)
            + self.parent_span_id.as_ref().map_or(0, heap)
            + heap(&self.name)
            + heap(&self.service)
            + map_bytes(&self.attributes)
            + allocation(self.events.capacity() * std::mem::size_of::<EventRecord>())
            + events
    }
}

/// What the allocator hands out for `n` requested bytes (0 for none).
fn allocation(n: usize) -> usize {
    if n == 0 { 0 } else { n.div_ceil(16) * 16 + 16 }
}

/// A string's heap allocation.
fn heap(s: &String) -> usize {
    allocation(s.capacity())
}

/// A map of strings: per entry two `String` headers and about a third of
/// a B-tree node slot besides, plus both strings' allocations.
fn map_bytes(m: &BTreeMap<String, String>) -> usize {
    m.iter().map(|(k, v)| 72 + heap(k) + heap(v)).sum()
}

/// Sorts spans by start time, then span id (a stable, deterministic order).
pub fn sort_spans(spans: &mut [SpanRecord]) {
    spans.sort_by(|a, b| {
        a.start_unix_nanos
            .cmp(&b.start_unix_nanos)
            .then_with(|| a.span_id.cmp(&b.span_id))
    });
}

/// The root span of `spans`: the earliest span whose parent is `None` or not
/// among `spans`.
pub fn root_span(spans: &[SpanRecord]) -> Option<&SpanRecord> {
    let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    spans
        .iter()
        .filter(|s| s.parent_span_id.as_deref().is_none_or(|p| !ids.contains(p)))
        .min_by(|a, b| {
            a.start_unix_nanos
                .cmp(&b.start_unix_nanos)
                .then_with(|| a.span_id.cmp(&b.span_id))
        })
}

impl TraceData {
    /// The summary of this trace.
    pub fn summary(&self) -> TraceSummary {
        summarize(&self.trace_id, &self.spans)
    }

    /// Earliest span start (0 for an empty trace).
    pub fn start_unix_nanos(&self) -> u64 {
        self.spans
            .iter()
            .map(|s| s.start_unix_nanos)
            .min()
            .unwrap_or(0)
    }
}

/// Summarises the spans of one trace (in any order).
pub fn summarize(trace_id: &str, spans: &[SpanRecord]) -> TraceSummary {
    let start = spans.iter().map(|s| s.start_unix_nanos).min().unwrap_or(0);
    let end = spans
        .iter()
        .map(|s| s.end_unix_nanos.max(s.start_unix_nanos))
        .max()
        .unwrap_or(0);
    let services: BTreeSet<&str> = spans.iter().map(|s| s.service.as_str()).collect();
    let root = root_span(spans);
    TraceSummary {
        trace_id: trace_id.to_string(),
        root_name: root.map(|r| r.name.clone()).unwrap_or_default(),
        root_service: root.map(|r| r.service.clone()).unwrap_or_default(),
        start_unix_nanos: start,
        duration_nanos: end.saturating_sub(start),
        span_count: spans.len(),
        services: services.into_iter().map(str::to_string).collect(),
    }
}

/// Whether `text` is a trace id as the API spells it: 32 hex digits.
pub fn is_trace_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A span for tests: `id` and `parent` are short names padded to hex ids.
    pub fn span(
        trace: &str,
        id: &str,
        parent: Option<&str>,
        service: &str,
        name: &str,
        start: u64,
        end: u64,
    ) -> SpanRecord {
        SpanRecord {
            trace_id: format!("{trace:0>32}"),
            span_id: format!("{id:0>16}"),
            parent_span_id: parent.map(|p| format!("{p:0>16}")),
            name: name.to_string(),
            service: service.to_string(),
            start_unix_nanos: start,
            end_unix_nanos: end,
            attributes: BTreeMap::new(),
            events: Vec::new(),
        }
    }

    #[test]
    fn summary_picks_the_earliest_root_and_sorted_services() {
        let spans = vec![
            span("a", "2", Some("1"), "r1", "forward", 150, 160),
            // Parent not in the trace: a root too, but a later one.
            span("a", "3", Some("ff"), "web", "serve", 300, 900),
            span("a", "1", None, "client", "browse", 100, 1000),
        ];
        let s = summarize(&format!("{:0>32}", "a"), &spans);
        assert_eq!(s.root_name, "browse");
        assert_eq!(s.root_service, "client");
        assert_eq!(s.start_unix_nanos, 100);
        assert_eq!(s.duration_nanos, 900);
        assert_eq!(s.span_count, 3);
        assert_eq!(s.services, vec!["client", "r1", "web"]);
    }

    #[test]
    fn orphan_spans_count_as_roots() {
        let spans = vec![span("a", "2", Some("1"), "r1", "forward", 150, 160)];
        assert_eq!(root_span(&spans).map(|s| s.name.as_str()), Some("forward"));
        assert!(root_span(&[]).is_none());
    }

    #[test]
    fn trace_ids() {
        assert!(is_trace_id("0123456789abcdef0123456789ABCDEF"));
        assert!(!is_trace_id("last"));
        assert!(!is_trace_id("0123456789abcdef0123456789abcdeg"));
    }
}
