//! OTLP/protobuf → [`SpanRecord`]s.
//!
//! The body of `POST /v1/traces` is an `ExportTraceServiceRequest`
//! (opentelemetry-proto's prost types). Every attribute value is turned
//! into text: strings as they are, integers, doubles and booleans through
//! `Display`, bytes as hex, arrays and key-value lists as JSON text.
//!
//! Memory per span is bounded: names and values longer than
//! [`MAX_TEXT_BYTES`] are cut (ending in `…`), and at most
//! [`MAX_ATTRIBUTES`] attributes and [`MAX_EVENTS`] events are kept.
//! A span whose trace id is not 16 bytes or whose span id is not 8 bytes
//! (or either is all zero, which OTLP forbids) is rejected and counted.

use crate::model::{EventRecord, SpanRecord};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use prost::Message;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Longest name or attribute value kept, in bytes.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Most attributes kept per span or event.
pub const MAX_ATTRIBUTES: usize = 128;
/// Most events kept per span.
pub const MAX_EVENTS: usize = 256;

/// Why a request body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The body is not a protobuf `ExportTraceServiceRequest`.
    #[error("the body is not a protobuf OTLP ExportTraceServiceRequest: {0}")]
    Protobuf(#[from] prost::DecodeError),
}

/// The spans of one export request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Valid spans.
    pub spans: Vec<SpanRecord>,
    /// Spans rejected for an invalid trace or span id.
    pub rejected: usize,
}

/// Decodes a protobuf `ExportTraceServiceRequest` body.
pub fn decode_request(body: &[u8]) -> Result<Decoded, DecodeError> {
    let request = ExportTraceServiceRequest::decode(body)?;
    Ok(spans_from_request(&request))
}

/// Turns a decoded request into span records.
pub fn spans_from_request(request: &ExportTraceServiceRequest) -> Decoded {
    let mut out = Decoded::default();
    for resource_spans in &request.resource_spans {
        let service = resource_spans
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
            .and_then(|kv| kv.value.as_ref())
            .map(stringify)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_string());
        for scope_spans in &resource_spans.scope_spans {
            for span in &scope_spans.spans {
                let (Some(trace_id), Some(span_id)) =
                    (id_hex(&span.trace_id, 16), id_hex(&span.span_id, 8))
                else {
                    out.rejected += 1;
                    continue;
                };
                out.spans.push(SpanRecord {
                    trace_id,
                    span_id,
                    parent_span_id: id_hex(&span.parent_span_id, 8),
                    name: truncate(&span.name),
                    service: service.clone(),
                    start_unix_nanos: span.start_time_unix_nano,
                    end_unix_nanos: span.end_time_unix_nano,
                    attributes: attributes(&span.attributes),
                    events: span
                        .events
                        .iter()
                        .take(MAX_EVENTS)
                        .map(|e| EventRecord {
                            name: truncate(&e.name),
                            time_unix_nanos: e.time_unix_nano,
                            attributes: attributes(&e.attributes),
                        })
                        .collect(),
                });
            }
        }
    }
    out
}

/// Lowercase hex of an id of exactly `len` bytes that is not all zero.
fn id_hex(bytes: &[u8], len: usize) -> Option<String> {
    (bytes.len() == len && bytes.iter().any(|&b| b != 0)).then(|| hex(bytes))
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .take(MAX_ATTRIBUTES)
        .map(|kv| {
            (
                truncate(&kv.key),
                kv.value.as_ref().map(stringify).unwrap_or_default(),
            )
        })
        .collect()
}

/// Cuts `text` to at most [`MAX_TEXT_BYTES`] on a character boundary.
fn truncate(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_string();
    }
    let mut end = MAX_TEXT_BYTES - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// An OTLP value as text (see the module docs).
pub fn stringify(value: &AnyValue) -> String {
    let text = match &value.value {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BytesValue(b)) => hex(b),
        Some(Value::StringValueStrindex(i)) => format!("strindex:{i}"),
        Some(Value::ArrayValue(_) | Value::KvlistValue(_)) => to_json(value).to_string(),
    };
    truncate(&text)
}

/// An OTLP value as JSON (for arrays and key-value lists). Nesting depth is
/// bounded by prost's decoder (100 levels).
fn to_json(value: &AnyValue) -> serde_json::Value {
    use serde_json::Value as J;
    match &value.value {
        None => J::Null,
        Some(Value::StringValue(s)) => J::String(s.clone()),
        Some(Value::BoolValue(b)) => J::Bool(*b),
        Some(Value::IntValue(i)) => J::from(*i),
        Some(Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(J::Number)
            .unwrap_or_else(|| J::String(d.to_string())),
        Some(Value::BytesValue(b)) => J::String(hex(b)),
        Some(Value::StringValueStrindex(i)) => J::String(format!("strindex:{i}")),
        Some(Value::ArrayValue(a)) => J::Array(a.values.iter().map(to_json).collect()),
        Some(Value::KvlistValue(kv)) => J::Object(
            kv.values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        kv.value.as_ref().map(to_json).unwrap_or(J::Null),
                    )
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span::Event};
    use proptest::prelude::*;

    pub fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.to_string(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    pub fn s(text: &str) -> Value {
        Value::StringValue(text.to_string())
    }

    fn request() -> ExportTraceServiceRequest {
        let span = Span {
            trace_id: (1..=16).collect(),
            span_id: vec![0xaa; 8],
            parent_span_id: vec![0xbb; 8],
            name: "frame".into(),
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 2_000,
            attributes: vec![
                kv("vnet.proto", s("icmp")),
                kv("ip.ttl", Value::IntValue(64)),
                kv("ratio", Value::DoubleValue(0.5)),
                kv("df", Value::BoolValue(true)),
                kv(
                    "list",
                    Value::ArrayValue(ArrayValue {
                        values: vec![
                            AnyValue {
                                value: Some(s("a")),
                            },
                            AnyValue {
                                value: Some(Value::IntValue(2)),
                            },
                        ],
                    }),
                ),
                kv(
                    "map",
                    Value::KvlistValue(KeyValueList {
                        values: vec![kv("k", Value::BoolValue(false))],
                    }),
                ),
                kv("raw", Value::BytesValue(vec![0xde, 0xad])),
            ],
            events: vec![Event {
                time_unix_nano: 1_500,
                name: "ttl".into(),
                attributes: vec![kv("ip.ttl_before", Value::IntValue(64))],
                dropped_attributes_count: 0,
            }],
            ..Default::default()
        };
        let root = Span {
            trace_id: (1..=16).collect(),
            span_id: vec![0xbb; 8],
            name: "ping".into(),
            ..Default::default()
        };
        let bad = Span {
            trace_id: vec![0; 16],
            span_id: vec![1; 8],
            ..Default::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![kv("service.name", s("r1"))],
                        ..Default::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![span, bad],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                ResourceSpans {
                    resource: None,
                    scope_spans: vec![ScopeSpans {
                        spans: vec![root],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn known_answer() {
        let body = request().encode_to_vec();
        let decoded = decode_request(&body).expect("valid request");
        assert_eq!(decoded.rejected, 1, "the all-zero trace id is rejected");
        assert_eq!(decoded.spans.len(), 2);
        let frame = &decoded.spans[0];
        assert_eq!(frame.trace_id, "0102030405060708090a0b0c0d0e0f10");
        assert_eq!(frame.span_id, "aaaaaaaaaaaaaaaa");
        assert_eq!(frame.parent_span_id.as_deref(), Some("bbbbbbbbbbbbbbbb"));
        assert_eq!(frame.service, "r1");
        assert_eq!(frame.name, "frame");
        assert_eq!(
            (frame.start_unix_nanos, frame.end_unix_nanos),
            (1_000, 2_000)
        );
        let a = &frame.attributes;
        assert_eq!(a["vnet.proto"], "icmp");
        assert_eq!(a["ip.ttl"], "64");
        assert_eq!(a["ratio"], "0.5");
        assert_eq!(a["df"], "true");
        assert_eq!(a["list"], r#"["a",2]"#);
        assert_eq!(a["map"], r#"{"k":false}"#);
        assert_eq!(a["raw"], "dead");
        assert_eq!(frame.events.len(), 1);
        assert_eq!(frame.events[0].name, "ttl");
        assert_eq!(frame.events[0].time_unix_nanos, 1_500);
        assert_eq!(frame.events[0].attributes["ip.ttl_before"], "64");
        let root = &decoded.spans[1];
        assert_eq!(root.service, "unknown");
        assert_eq!(root.parent_span_id, None);
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_TEXT_BYTES);
        let cut = truncate(&long);
        assert!(cut.len() <= MAX_TEXT_BYTES);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short"), "short");
    }

    #[test]
    fn garbage_is_an_error() {
        let err = decode_request(b"\xff\xff\xff\xff").expect_err("not protobuf");
        assert!(
            err.to_string().contains("ExportTraceServiceRequest"),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_request(&body);
        }

        #[test]
        fn mutated_requests_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let mut body = request().encode_to_vec();
            for (at, byte) in flips {
                let i = at % body.len();
                body[i] ^= byte;
            }
            if let Ok(decoded) = decode_request(&body) {
                for span in decoded.spans {
                    prop_assert_eq!(span.trace_id.len(), 32);
                    prop_assert_eq!(span.span_id.len(), 16);
                }
            }
        }
    }
}
