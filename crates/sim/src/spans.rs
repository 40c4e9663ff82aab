//! The spans of a simulation in the collector's model, so `vnet sim`
//! prints the same timeline `vnet trace show` prints for a live lab.

use opentelemetry::Value;
use opentelemetry::trace::SpanId;
use std::collections::BTreeMap;
use std::time::SystemTime;
use vnet_telemetry::simulation::SimSpan;
use vnet_timeline::model::{EventRecord, SpanRecord, TraceData, sort_spans};

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        Value::I64(i) => i.to_string(),
        Value::F64(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn attributes<'a>(
    kvs: impl Iterator<Item = &'a opentelemetry::KeyValue>,
) -> BTreeMap<String, String> {
    kvs.map(|kv| (kv.key.to_string(), text(&kv.value)))
        .collect()
}

/// One simulated span as the collector would store it.
pub fn record(span: &SimSpan) -> SpanRecord {
    let d = &span.data;
    let parent = d.parent_span_id;
    SpanRecord {
        trace_id: d.span_context.trace_id().to_string(),
        span_id: d.span_context.span_id().to_string(),
        parent_span_id: (parent != SpanId::INVALID).then(|| parent.to_string()),
        name: d.name.to_string(),
        service: span.device.clone(),
        start_unix_nanos: nanos(d.start_time),
        end_unix_nanos: nanos(d.end_time),
        attributes: attributes(d.attributes.iter()),
        events: d
            .events
            .iter()
            .map(|e| EventRecord {
                name: e.name.to_string(),
                time_unix_nanos: nanos(e.timestamp),
                attributes: attributes(e.attributes.iter()),
            })
            .collect(),
    }
}

/// Every trace of `spans`, ordered by their first span's start.
pub fn traces(spans: &[SimSpan]) -> Vec<TraceData> {
    let mut by_trace: BTreeMap<String, Vec<SpanRecord>> = BTreeMap::new();
    for span in spans {
        let r = record(span);
        by_trace.entry(r.trace_id.clone()).or_default().push(r);
    }
    let mut traces: Vec<TraceData> = by_trace
        .into_iter()
        .map(|(trace_id, mut spans)| {
            sort_spans(&mut spans);
            TraceData { trace_id, spans }
        })
        .collect();
    traces.sort_by_key(|t| (t.start_unix_nanos(), t.trace_id.clone()));
    traces
}

/// The traces whose root span ran on `device` and started at or after
/// `from_nanos`: those of a command run there.
pub fn traces_of(traces: &[TraceData], device: &str, from_nanos: u64) -> Vec<TraceData> {
    traces
        .iter()
        .filter(|t| {
            vnet_timeline::model::root_span(&t.spans)
                .is_some_and(|r| r.service == device && r.start_unix_nanos >= from_nanos)
        })
        .cloned()
        .collect()
}
