//! End to end inside one process: an OTLP/HTTP export over a raw TCP
//! connection, then the JSON API through the crate's client, then the
//! timeline.

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span::Event};
use prost::Message;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use vnet_collector::client::{self, HttpResponse};
use vnet_collector::store::{StoreLimits, TraceStore};
use vnet_collector::timeline::{TimelineOptions, render};
use vnet_collector::{server, server::Collector};

const TRACE: [u8; 16] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
];
const TRACE_HEX: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const T0: u64 = 1_700_000_000_000_000_000;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

fn resource_spans(service: &str, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: vec![kv("service.name", service)],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// client: browse (root) ⊃ dns query; r1: one forwarded frame, child of the
/// query, with a TTL event and per-layer in/out events.
fn request() -> ExportTraceServiceRequest {
    let browse = Span {
        trace_id: TRACE.to_vec(),
        span_id: vec![1; 8],
        name: "browse".into(),
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 20_000_000,
        attributes: vec![
            kv("vnet.kind", "app"),
            kv("vnet.proto", "http"),
            kv("vnet.layer", "L7"),
            kv("vnet.summary", "GET http://www.example.com/"),
        ],
        events: vec![Event {
            time_unix_nano: T0 + 19_000_000,
            name: "response".into(),
            attributes: vec![kv("vnet.summary", "200 OK"), int("http.bytes", 1024)],
            ..Default::default()
        }],
        ..Default::default()
    };
    let query = Span {
        trace_id: TRACE.to_vec(),
        span_id: vec![2; 8],
        parent_span_id: vec![1; 8],
        name: "dns query".into(),
        start_time_unix_nano: T0 + 1_000_000,
        end_time_unix_nano: T0 + 4_000_000,
        attributes: vec![
            kv("vnet.kind", "app"),
            kv("vnet.proto", "dns"),
            kv("vnet.layer", "L7"),
            kv("vnet.summary", "query www.example.com A"),
        ],
        ..Default::default()
    };
    let frame = Span {
        trace_id: TRACE.to_vec(),
        span_id: vec![3; 8],
        parent_span_id: vec![2; 8],
        name: "frame".into(),
        start_time_unix_nano: T0 + 2_000_000,
        end_time_unix_nano: T0 + 2_100_000,
        attributes: vec![
            kv("vnet.kind", "frame"),
            kv("vnet.proto", "ip"),
            kv("vnet.layer", "L3"),
            kv("vnet.iface", "eth0"),
            kv("vnet.summary", "forward 10.0.1.100 -> 10.0.2.53"),
        ],
        events: vec![
            Event {
                time_unix_nano: T0 + 2_010_000,
                name: "in".into(),
                attributes: vec![
                    kv("vnet.dir", "in"),
                    kv("vnet.layer", "L2"),
                    kv("vnet.proto", "eth"),
                    kv("vnet.summary", "frame from sw1"),
                ],
                ..Default::default()
            },
            Event {
                time_unix_nano: T0 + 2_050_000,
                name: "ttl".into(),
                attributes: vec![int("ip.ttl_before", 64), int("ip.ttl_after", 63)],
                ..Default::default()
            },
            Event {
                time_unix_nano: T0 + 2_090_000,
                name: "out".into(),
                attributes: vec![
                    kv("vnet.dir", "out"),
                    kv("vnet.summary", "next hop 10.0.2.53"),
                    int("ip.ttl", 63),
                ],
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![
            resource_spans("client", vec![browse, query]),
            resource_spans("r1", vec![frame]),
        ],
    }
}

/// POSTs `body` to `/v1/traces` over a raw connection.
async fn post(addr: SocketAddr, content_type: &str, body: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    client::parse_response(&raw).expect("HTTP response")
}

#[tokio::test]
async fn export_list_fetch_and_render() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let store = Arc::new(TraceStore::new(StoreLimits::default()));
    let stop = CancellationToken::new();
    let task = tokio::spawn(server::serve(
        listener,
        store.clone(),
        stop.clone().cancelled_owned(),
    ));
    let endpoint = format!("http://{addr}/");

    client::health(&endpoint).await.expect("healthy");
    assert!(
        client::list_traces(&endpoint)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        client::fetch_trace(&endpoint, "last").await.expect("fetch"),
        None
    );

    // The export, as opentelemetry-otlp sends it.
    let response = post(addr, "application/x-protobuf", &request().encode_to_vec()).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/x-protobuf")
    );
    let decoded = ExportTraceServiceResponse::decode(response.body.as_slice()).expect("protobuf");
    assert_eq!(decoded.partial_success, None);

    // A bad body is refused with a clear message and stores nothing.
    let bad = post(addr, "application/x-protobuf", b"\xff\xff\xff\xff\xff").await;
    assert_eq!(bad.status, 400);
    assert!(String::from_utf8_lossy(&bad.body).contains("not a protobuf OTLP"));
    let json = post(addr, "application/json", b"{}").await;
    assert_eq!(json.status, 415);

    let list = client::list_traces(&endpoint).await.expect("list");
    assert_eq!(list.len(), 1);
    let summary = &list[0];
    assert_eq!(summary.trace_id, TRACE_HEX);
    assert_eq!(
        (summary.root_service.as_str(), summary.root_name.as_str()),
        ("client", "browse")
    );
    assert_eq!(summary.span_count, 3);
    assert_eq!(summary.services, vec!["client", "r1"]);
    assert_eq!(summary.start_unix_nanos, T0);
    assert_eq!(summary.duration_nanos, 20_000_000);
    assert_eq!(store.stats().spans, 3, "the store is readable directly");

    let trace = client::fetch_trace(&endpoint, TRACE_HEX)
        .await
        .expect("fetch")
        .expect("known trace");
    let names: Vec<_> = trace.spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["browse", "dns query", "frame"]);
    assert_eq!(
        trace.spans[2].parent_span_id.as_deref(),
        Some("0202020202020202")
    );
    assert_eq!(trace.spans[2].events[1].attributes["ip.ttl_before"], "64");
    let upper = client::fetch_trace(&endpoint, &TRACE_HEX.to_uppercase())
        .await
        .expect("fetch");
    assert_eq!(upper.as_ref(), Some(&trace));
    assert_eq!(
        client::fetch_trace(&endpoint, "last")
            .await
            .expect("fetch")
            .as_ref(),
        Some(&trace)
    );
    let unknown = format!("{:0>32}", "1");
    assert_eq!(
        client::fetch_trace(&endpoint, &unknown)
            .await
            .expect("fetch"),
        None
    );
    let err = client::fetch_trace(&endpoint, "nope")
        .await
        .expect_err("bad id");
    assert!(err.to_string().contains("not a trace id"), "{err}");

    let settled = client::wait_for_trace(
        &endpoint,
        "last",
        Duration::from_millis(100),
        Duration::from_secs(3),
    )
    .await
    .expect("wait");
    assert_eq!(settled.map(|t| t.spans.len()), Some(3));

    let text = render(&trace, &TimelineOptions::default());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!("trace {TRACE_HEX}  3 spans  2 services  20.000 ms")
    );
    assert_eq!(
        lines[1],
        "     0.000 ms  client       L7  http  GET http://www.example.com/"
    );
    assert_eq!(
        lines[2],
        "     1.000 ms  client       L7  dns   query www.example.com A"
    );
    assert_eq!(
        lines[3],
        "     2.000 ms  r1           L3  ip    forward 10.0.1.100 -> 10.0.2.53"
    );
    assert_eq!(
        lines[4],
        "     2.050 ms  r1           L3  ip    ttl ip.ttl_after=63 ip.ttl_before=64"
    );
    assert_eq!(lines[5], "    19.000 ms  client       L7  http  200 OK");
    assert_eq!(lines.len(), 6, "{text}");

    let layers = render(
        &trace,
        &TimelineOptions {
            protos: Some(vec!["IP".into()]),
            layers: true,
        },
    );
    let lines: Vec<&str> = layers.lines().collect();
    assert_eq!(
        lines[1],
        "     2.000 ms  r1           L3  ip    forward 10.0.1.100 -> 10.0.2.53"
    );
    // Per-layer lines at their own time: in, the TTL event, out.
    assert_eq!(
        lines[2],
        "     2.010 ms  r1             in L2 eth frame from sw1"
    );
    assert_eq!(
        lines[3],
        "     2.050 ms  r1           L3  ip    ttl ip.ttl_after=63 ip.ttl_before=64"
    );
    assert_eq!(
        lines[4],
        "     2.090 ms  r1             out L3 ip next hop 10.0.2.53 ip.ttl=63"
    );
    assert_eq!(lines.len(), 5, "{layers}");

    // A graceful stop is quick.
    let asked = Instant::now();
    stop.cancel();
    task.await.expect("join").expect("served");
    assert!(asked.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn collector_handle_serves_and_stops() {
    let collector = Collector::start("127.0.0.1:0".parse().expect("addr"), StoreLimits::default())
        .await
        .expect("start");
    let endpoint = collector.endpoint();
    let response = post(
        collector.addr(),
        "application/x-protobuf",
        &request().encode_to_vec(),
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(collector.store().summaries().len(), 1);
    let stats = client::stats(&endpoint).await.expect("stats");
    assert_eq!((stats.traces, stats.spans), (1, 3));
    collector.stop().await.expect("stop");
    assert!(client::health(&endpoint).await.is_err(), "stopped");
}
