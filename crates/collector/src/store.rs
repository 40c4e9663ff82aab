//! The bounded in-memory span store.
//!
//! Spans are grouped by trace. Three limits bound memory: spans, traces and
//! (approximate) bytes ([`StoreLimits`]). When one would be exceeded, the
//! trace seen first is evicted as a whole (never the trace being added to);
//! a single trace larger than the limits keeps its first spans and drops the
//! rest. Evictions and drops are counted ([`StoreStats`]). A span sent twice
//! (an exporter's retry) is stored once.

use crate::model::{self, SpanRecord, TraceData, TraceSummary};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

/// The store's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Most spans held (default 200 000).
    pub max_spans: usize,
    /// Most traces held (default 10 000).
    pub max_traces: usize,
    /// Most bytes held, as [`SpanRecord::approx_bytes`] counts them
    /// (default 96 MiB: with the process's own ~5 MiB and allocator slack
    /// the collector stays under 128 MiB resident).
    pub max_bytes: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_spans: 200_000,
            max_traces: 10_000,
            max_bytes: 96 << 20,
        }
    }
}

/// Counters of the store (`GET /api/stats`); the type lives in
/// [`vnet_timeline::model`] so the client can read it without the collector.
pub use crate::model::StoreStats;

#[derive(Debug, Default)]
struct Trace {
    /// When the trace was first seen (a counter).
    seen: u64,
    spans: Vec<SpanRecord>,
    ids: HashSet<String>,
    bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    traces: HashMap<String, Trace>,
    /// First-seen counter → trace id, oldest first.
    order: BTreeMap<u64, String>,
    next_seen: u64,
    stats: StoreStats,
}

/// The collector's span store; share it as `Arc<TraceStore>`.
#[derive(Debug, Default)]
pub struct TraceStore {
    limits: StoreLimits,
    inner: Mutex<Inner>,
}

impl TraceStore {
    /// An empty store with these limits.
    pub fn new(limits: StoreLimits) -> TraceStore {
        TraceStore {
            limits,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The limits this store was made with.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent
        // in a way that matters for reading; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds spans; returns how many were stored.
    pub fn insert(&self, spans: Vec<SpanRecord>) -> usize {
        let mut inner = self.lock();
        let mut stored = 0;
        for span in spans {
            inner.stats.received_spans += 1;
            if self.insert_one(&mut inner, span) {
                stored += 1;
            }
        }
        stored
    }

    fn insert_one(&self, inner: &mut Inner, span: SpanRecord) -> bool {
        if inner
            .traces
            .get(&span.trace_id)
            .is_some_and(|t| t.ids.contains(&span.span_id))
        {
            inner.stats.duplicate_spans += 1;
            return false;
        }
        let bytes = span.approx_bytes();
        let is_new = !inner.traces.contains_key(&span.trace_id);
        if is_new {
            while inner.traces.len() >= self.limits.max_traces.max(1) {
                if !evict_oldest(inner, None) {
                    break;
                }
            }
        }
        while inner.stats.spans + 1 > self.limits.max_spans
            || inner.stats.bytes + bytes > self.limits.max_bytes
        {
            if !evict_oldest(inner, Some(&span.trace_id)) {
                inner.stats.dropped_spans += 1;
                return false;
            }
        }
        if is_new {
            let seen = inner.next_seen;
            inner.next_seen += 1;
            inner.order.insert(seen, span.trace_id.clone());
            inner.traces.insert(
                span.trace_id.clone(),
                Trace {
                    seen,
                    ..Trace::default()
                },
            );
        }
        let Some(trace) = inner.traces.get_mut(&span.trace_id) else {
            return false;
        };
        trace.ids.insert(span.span_id.clone());
        trace.bytes += bytes;
        trace.spans.push(span);
        inner.stats.spans += 1;
        inner.stats.bytes += bytes;
        true
    }

    /// Summaries of every trace, oldest start first.
    pub fn summaries(&self) -> Vec<TraceSummary> {
        let inner = self.lock();
        let mut out: Vec<TraceSummary> = inner
            .traces
            .iter()
            .map(|(id, t)| model::summarize(id, &t.spans))
            .collect();
        out.sort_by(|a, b| {
            a.start_unix_nanos
                .cmp(&b.start_unix_nanos)
                .then_with(|| a.trace_id.cmp(&b.trace_id))
        });
        out
    }

    /// One trace by id (32 hex digits, any case), spans sorted by start.
    pub fn trace(&self, trace_id: &str) -> Option<TraceData> {
        let id = trace_id.to_ascii_lowercase();
        let inner = self.lock();
        let trace = inner.traces.get(&id)?;
        let mut spans = trace.spans.clone();
        model::sort_spans(&mut spans);
        Some(TraceData {
            trace_id: id,
            spans,
        })
    }

    /// The trace whose root span started latest.
    pub fn last(&self) -> Option<TraceData> {
        let id = {
            let inner = self.lock();
            inner
                .traces
                .iter()
                .filter_map(|(id, t)| {
                    model::root_span(&t.spans).map(|r| (r.start_unix_nanos, t.seen, id.clone()))
                })
                .max()
                .map(|(_, _, id)| id)?
        };
        self.trace(&id)
    }

    /// The counters.
    pub fn stats(&self) -> StoreStats {
        let inner = self.lock();
        StoreStats {
            traces: inner.traces.len(),
            ..inner.stats
        }
    }
}

/// Evicts the trace seen first, other than `keep`; false if there is none.
fn evict_oldest(inner: &mut Inner, keep: Option<&str>) -> bool {
    let victim = inner
        .order
        .iter()
        .find(|(_, id)| Some(id.as_str()) != keep)
        .map(|(&seen, id)| (seen, id.clone()));
    let Some((seen, id)) = victim else {
        return false;
    };
    inner.order.remove(&seen);
    if let Some(trace) = inner.traces.remove(&id) {
        inner.stats.spans -= trace.spans.len();
        inner.stats.bytes -= trace.bytes;
        inner.stats.evicted_traces += 1;
        inner.stats.evicted_spans += trace.spans.len() as u64;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A span for tests: `id` and `parent` are short names padded to hex ids.
    fn span(
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

    fn id(t: &str) -> String {
        format!("{t:0>32}")
    }

    #[test]
    fn groups_sorts_and_summarises() {
        let store = TraceStore::default();
        store.insert(vec![
            span("b", "3", None, "client", "dig", 500, 900),
            span("a", "2", Some("1"), "r1", "forward", 150, 160),
            span("a", "1", None, "client", "ping", 100, 1000),
        ]);
        let list = store.summaries();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].trace_id, id("a"), "oldest start first");
        assert_eq!(list[0].span_count, 2);
        assert_eq!(list[1].root_name, "dig");
        let a = store.trace(&id("a")).expect("trace a");
        let names: Vec<_> = a.spans.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["ping", "forward"], "sorted by start");
        assert!(store.trace(&id("c")).is_none());
        assert_eq!(store.trace(&id("A")).map(|t| t.spans.len()), Some(2));
    }

    #[test]
    fn last_is_the_latest_root() {
        let store = TraceStore::default();
        store.insert(vec![
            span("a", "1", None, "client", "late root", 700, 800),
            span("b", "2", None, "client", "early root", 100, 1000),
            // A late child does not make b the last trace.
            span("b", "3", Some("2"), "r1", "child", 900, 950),
        ]);
        assert_eq!(store.last().map(|t| t.trace_id), Some(id("a")));
        assert!(TraceStore::default().last().is_none());
    }

    #[test]
    fn duplicates_are_stored_once() {
        let store = TraceStore::default();
        let s = span("a", "1", None, "client", "ping", 100, 1000);
        assert_eq!(store.insert(vec![s.clone(), s.clone()]), 1);
        assert_eq!(store.insert(vec![s]), 0);
        let stats = store.stats();
        assert_eq!(
            (stats.spans, stats.duplicate_spans, stats.received_spans),
            (1, 2, 3)
        );
    }

    #[test]
    fn trace_limit_evicts_the_first_seen_trace() {
        let store = TraceStore::new(StoreLimits {
            max_traces: 2,
            ..StoreLimits::default()
        });
        // Seen order: c, a, b (start times do not matter).
        store.insert(vec![span("c", "1", None, "x", "c", 900, 901)]);
        store.insert(vec![span("a", "2", None, "x", "a", 100, 101)]);
        store.insert(vec![span("b", "3", None, "x", "b", 500, 501)]);
        let ids: Vec<_> = store.summaries().into_iter().map(|s| s.trace_id).collect();
        assert_eq!(ids, vec![id("a"), id("b")]);
        let stats = store.stats();
        assert_eq!(
            (stats.traces, stats.evicted_traces, stats.evicted_spans),
            (2, 1, 1)
        );
    }

    #[test]
    fn span_limit_evicts_whole_traces_but_never_the_one_growing() {
        let store = TraceStore::new(StoreLimits {
            max_spans: 3,
            ..StoreLimits::default()
        });
        store.insert(vec![
            span("a", "1", None, "x", "a", 1, 2),
            span("a", "2", Some("1"), "x", "a2", 1, 2),
            span("b", "3", None, "x", "b", 3, 4),
        ]);
        // A fourth span: trace a (2 spans) goes.
        store.insert(vec![span("b", "4", Some("3"), "x", "b2", 5, 6)]);
        let stats = store.stats();
        assert_eq!((stats.traces, stats.spans, stats.evicted_traces), (1, 2, 1));
        // Trace b grows alone past the limit: its extra spans are dropped.
        store.insert(vec![
            span("b", "5", Some("3"), "x", "b3", 7, 8),
            span("b", "6", Some("3"), "x", "b4", 9, 10),
        ]);
        let stats = store.stats();
        assert_eq!((stats.spans, stats.dropped_spans), (3, 1));
        assert_eq!(store.trace(&id("b")).map(|t| t.spans.len()), Some(3));
    }

    #[test]
    fn byte_limit_evicts() {
        let one = span("a", "1", None, "x", "a", 1, 2);
        let store = TraceStore::new(StoreLimits {
            max_bytes: one.approx_bytes() * 2,
            ..StoreLimits::default()
        });
        store.insert(vec![one]);
        store.insert(vec![span("b", "2", None, "x", "b", 1, 2)]);
        store.insert(vec![span("c", "3", None, "x", "c", 1, 2)]);
        let stats = store.stats();
        assert_eq!((stats.traces, stats.evicted_traces), (2, 1));
        assert!(stats.bytes <= store.limits().max_bytes);
        assert!(store.trace(&id("a")).is_none());
    }
}
