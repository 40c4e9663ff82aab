//! One trace per request across every device: a real `vnet up` lab exports
//! to an OTLP receiver running inside this test, and the trace of one
//! `browse` is checked for its services, its causality and its order.

mod common;

use common::{LabRun, lab_variant, repo_path};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};
use vnet_collector::model::{SpanRecord, TraceData};
use vnet_collector::server::Collector;
use vnet_collector::store::StoreLimits;

/// The OTLP/HTTP receiver of this test.
struct Receiver {
    runtime: tokio::runtime::Runtime,
    collector: Option<Collector>,
}

impl Receiver {
    fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let collector = runtime
            .block_on(Collector::start(
                "127.0.0.1:0".parse().expect("addr"),
                StoreLimits::default(),
            ))
            .expect("receiver listens");
        Receiver {
            runtime,
            collector: Some(collector),
        }
    }

    fn collector(&self) -> &Collector {
        self.collector.as_ref().expect("running")
    }

    fn endpoint(&self) -> String {
        self.collector().endpoint()
    }

    /// The trace `id` once it has stopped growing (devices export every 200 ms).
    fn settled(&self, id: &str) -> TraceData {
        let store = self.collector().store();
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = (0, Instant::now());
        loop {
            let n = store.trace(id).map_or(0, |t| t.spans.len());
            if n != last.0 {
                last = (n, Instant::now());
            } else if n > 0 && last.1.elapsed() > Duration::from_millis(1500) {
                return store.trace(id).expect("trace");
            }
            assert!(
                Instant::now() < deadline,
                "trace {id} never settled ({n} spans)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every trace whose root span is named `root`, once there is one
    /// (a root span is exported when it ends, after its children).
    fn traces_rooted_at(&self, root: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ids: Vec<String> = self
                .collector()
                .store()
                .summaries()
                .into_iter()
                .filter(|s| s.root_name == root)
                .map(|s| s.trace_id)
                .collect();
            if !ids.is_empty() || Instant::now() > deadline {
                return ids;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(c) = self.collector.take() {
            let _ = self.runtime.block_on(c.stop());
        }
    }
}

/// A lab exporting to `receiver`.
fn lab_exporting_to(receiver: &Receiver, topology: &std::path::Path) -> LabRun {
    LabRun::up_env(
        topology,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint().as_str())],
    )
}

/// `trace <id>` as `browse --trace` prints it.
fn trace_id_in(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("trace ")
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
        })
        .filter(|id| id.len() == 32)
        .unwrap_or_else(|| panic!("no trace id in:\n{stdout}"))
}

/// One thing that happened: a span event, or an event exported as a span.
#[derive(Debug, Clone)]
struct Happening {
    at: u64,
    service: String,
    name: String,
    attrs: BTreeMap<String, String>,
}

fn happenings(trace: &TraceData) -> Vec<Happening> {
    let mut out = Vec::new();
    for span in &trace.spans {
        if span.attributes.get("vnet.kind").map(String::as_str) == Some("event") {
            out.push(Happening {
                at: span.start_unix_nanos,
                service: span.service.clone(),
                name: span.name.clone(),
                attrs: span.attributes.clone(),
            });
        }
        for ev in &span.events {
            out.push(Happening {
                at: ev.time_unix_nanos,
                service: span.service.clone(),
                name: ev.name.clone(),
                attrs: ev.attributes.clone(),
            });
        }
    }
    out.sort_by_key(|h| h.at);
    out
}

/// The time of the first `name` event on `service` with these TCP flags,
/// after `after`.
fn first_tcp(h: &[Happening], service: &str, name: &str, flags: &str, after: u64) -> u64 {
    h.iter()
        .find(|e| {
            e.service == service
                && e.name == name
                && e.at >= after
                && e.attrs.get("tcp.flags").map(String::as_str) == Some(flags)
        })
        .map(|e| e.at)
        .unwrap_or_else(|| {
            let seen: Vec<String> = h
                .iter()
                .filter(|e| e.service == service && e.name.starts_with("tcp."))
                .map(|e| format!("{} {:?}", e.name, e.attrs.get("tcp.flags")))
                .collect();
            panic!("no {name} [{flags}] on {service} after {after}; saw {seen:?}")
        })
}

fn services(trace: &TraceData) -> BTreeSet<String> {
    trace.spans.iter().map(|s| s.service.clone()).collect()
}

fn spans_named<'a>(trace: &'a TraceData, service: &str, name: &str) -> Vec<&'a SpanRecord> {
    trace
        .spans
        .iter()
        .filter(|s| s.service == service && s.name == name)
        .collect()
}

#[test]
fn one_browse_is_one_causal_trace_through_every_device() {
    let receiver = Receiver::start();
    let lab = lab_exporting_to(&receiver, &repo_path("configs/lab.toml"));

    let run = lab.exec("client", &["browse", "http://www.example.com/", "--trace"]);
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    let id = trace_id_in(&run.stdout);
    let trace = receiver.settled(&id);

    // Spans from the client, both switches, the routers on the path, the
    // resolver, the three authoritative servers and the web server.
    let seen = services(&trace);
    for device in [
        "client",
        "sw1",
        "r1",
        "r2",
        "r3",
        "sw2",
        "resolver",
        "dns-root",
        "dns-com",
        "dns-example",
        "web",
    ] {
        assert!(seen.contains(device), "no span from {device}: {seen:?}");
    }
    assert!(seen.len() >= 7);

    // No orphans: every parent is in the trace; the one root is `browse`.
    let ids: HashSet<&str> = trace.spans.iter().map(|s| s.span_id.as_str()).collect();
    let roots: Vec<&SpanRecord> = trace
        .spans
        .iter()
        .filter(|s| s.parent_span_id.is_none())
        .collect();
    assert_eq!(roots.len(), 1, "roots: {roots:?}");
    assert_eq!(roots[0].name, "browse");
    assert_eq!(roots[0].service, "client");
    for span in &trace.spans {
        if let Some(parent) = &span.parent_span_id {
            assert!(
                ids.contains(parent.as_str()),
                "orphan span {} on {} (parent {parent})",
                span.name,
                span.service
            );
        }
    }

    // The handshake, on both ends, in order.
    let h = happenings(&trace);
    let syn = first_tcp(&h, "client", "tcp.send", "SYN", 0);
    let syn_ack = first_tcp(&h, "client", "tcp.in", "SYN, ACK", syn);
    first_tcp(&h, "client", "tcp.send", "ACK", syn_ack);
    let syn_in = first_tcp(&h, "web", "tcp.in", "SYN", 0);
    let syn_ack_out = first_tcp(&h, "web", "tcp.send", "SYN, ACK", syn_in);
    first_tcp(&h, "web", "tcp.in", "ACK", syn_ack_out);
    assert!(
        syn <= syn_in && syn_ack_out <= syn_ack,
        "causal order across devices"
    );

    // The resolver recursed root → com → example.com, one span per query.
    let mut upstream = spans_named(&trace, "resolver", "dns.upstream");
    upstream.sort_by_key(|s| s.start_unix_nanos);
    let servers: Vec<&str> = upstream
        .iter()
        .map(|s| {
            s.attributes
                .get("dns.server")
                .map(String::as_str)
                .unwrap_or("?")
        })
        .collect();
    assert_eq!(servers, ["10.0.3.20", "10.0.3.21", "10.0.3.22"]);

    // Layer decisions: a router's TTL, a switch's port choice.
    assert!(
        h.iter().any(|e| e.service == "r2"
            && e.name == "ip.forward"
            && e.attrs.contains_key("ip.ttl_before")
            && e.attrs.contains_key("ip.ttl_after")),
        "r2 explains its forwarding decision"
    );
    assert!(
        h.iter().any(|e| e.service == "sw1" && e.name == "switch"),
        "sw1 explains its switching decision"
    );
    // HTTP on both sides.
    assert!(!spans_named(&trace, "client", "http.request").is_empty());
    let served = spans_named(&trace, "web", "http.server");
    assert_eq!(served.len(), 5, "page + 4 resources served in this trace");
    // The timeline printed after the page names the devices.
    assert!(run.stdout.contains("dns-root"), "{}", run.stdout);
    // Both ends of the connection close in the trace: the web server's
    // last change (LAST-ACK → CLOSED, on the final ACK) sends nothing, and
    // is in the trace all the same.
    let closed = |service: &str| {
        h.iter().any(|e| {
            e.service == service
                && e.name == "tcp.state"
                && e.attrs.get("tcp.new_state").map(String::as_str) == Some("Closed")
        })
    };
    assert!(closed("web"), "the web server's close is not in the trace");
    // Spans end when their work ends: the browse took milliseconds, and
    // so does its trace.
    let took = trace.summary().duration_nanos;
    assert!(took < 5_000_000_000, "the browse's trace lasts {took} ns");

    // A second browse: the resolver answers from its cache, the root is
    // not asked again.
    let run = lab.exec("client", &["browse", "http://www.example.com/", "--trace"]);
    assert_eq!(run.code, 0, "{run:?}");
    let second = receiver.settled(&trace_id_in(&run.stdout));
    assert_ne!(second.trace_id, trace.trace_id);
    let seen = services(&second);
    assert!(
        !seen.contains("dns-root"),
        "the root was asked again: {seen:?}"
    );
    assert!(spans_named(&second, "resolver", "dns.upstream").is_empty());
    // The second browse's work released nothing the first one's devices
    // still held back: the first trace is as it was.
    let again = receiver.settled(&trace.trace_id);
    assert_eq!(
        again.spans.len(),
        trace.spans.len(),
        "the first trace grew after the second browse"
    );
    assert_eq!(again.summary().duration_nanos, took);
    let queries = spans_named(&second, "resolver", "dns.query");
    assert!(
        queries
            .iter()
            .any(|s| s.attributes.get("dns.source").map(String::as_str) == Some("cache hit")),
        "{queries:?}"
    );

    // DHCP at boot is a trace of its own: client and r1.
    let dhcp = receiver.traces_rooted_at("dhcp");
    assert!(!dhcp.is_empty(), "no DHCP trace");
    let dhcp = receiver.settled(&dhcp[0]);
    let seen = services(&dhcp);
    assert!(seen.contains("client") && seen.contains("r1"), "{seen:?}");
}

#[test]
fn a_link_cut_during_a_download_shows_retransmissions_in_its_trace() {
    let receiver = Receiver::start();
    let text = std::fs::read_to_string(repo_path("configs/lab.toml")).expect("lab");
    let (variant, topology) = lab_variant(&text);
    let big: Vec<u8> = (0..2 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(variant.path().join("www/big.bin"), &big).expect("write big.bin");
    let lab = lab_exporting_to(&receiver, &topology);
    let out = lab.dir.path().join("big.bin");
    let download = lab.exec_background(
        "client",
        &[
            "fetch",
            "http://www.example.com/big.bin",
            "-o",
            out.to_str().expect("utf8"),
        ],
    );
    // Cut the middle link once data flows, for 2 s.
    let deadline = Instant::now() + Duration::from_secs(20);
    while lab.device_counter("web", "tcp_tx") < 50 {
        assert!(Instant::now() < deadline, "the download never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(lab.vnet(&["link", "down", "r2:eth1"]).code, 0);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(lab.vnet(&["link", "up", "r2:eth1"]).code, 0);
    let (code, lines) = download.finish(Duration::from_secs(60));
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(std::fs::read(&out).expect("saved"), big, "byte-exact");

    let ids = receiver.traces_rooted_at("fetch");
    assert_eq!(ids.len(), 1, "one fetch trace");
    let trace = receiver.settled(&ids[0]);
    let h = happenings(&trace);
    let rtx: Vec<&Happening> = h.iter().filter(|e| e.name == "tcp.retransmit").collect();
    assert!(!rtx.is_empty(), "no retransmission in the trace");
    assert!(
        rtx.iter().any(|e| e.attrs.contains_key("tcp.rto_ms")),
        "a retransmission names the RTO that fired: {rtx:?}"
    );
    // The frame budget bounds the trace: no device emits more than ~200
    // frame spans for it.
    for service in services(&trace) {
        let frames = trace
            .spans
            .iter()
            .filter(|s| {
                s.service == service
                    && s.attributes.get("vnet.kind").map(String::as_str) == Some("frame")
            })
            .count();
        assert!(frames <= 200, "{service} emitted {frames} frame spans");
    }
    let status = lab.status("web");
    assert!(
        status["tracing"]["frames_over_budget"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "the web server hit its frame budget: {}",
        status["tracing"]
    );
}

#[test]
fn trace_show_last_prints_the_handshake_and_the_close_in_order() {
    // The embedded collector `vnet up` starts.
    let lab = LabRun::default_lab();
    let run = lab.exec("client", &["browse", "http://www.example.com/", "--trace"]);
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    let id = trace_id_in(&run.stdout);

    let list = lab.vnet(&["trace", "list"]);
    assert_eq!(list.code, 0, "{list:?}");
    assert!(list.stdout.contains(&id), "{list:?}");

    let show = lab.vnet(&["trace", "show", "last", "--proto", "tcp"]);
    assert_eq!(show.code, 0, "{show:?}");
    assert!(show.stdout.contains(&id), "{show:?}");
    let lines: Vec<&str> = show.stdout.lines().collect();
    let position = |needle: &str, from: usize| {
        lines
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, l)| l.contains("client") && l.contains(needle))
            .map(|(i, _)| i)
            .unwrap_or_else(|| {
                panic!(
                    "no client line with {needle:?} after line {from}:\n{}",
                    show.stdout
                )
            })
    };
    let syn = position("[SYN]", 0);
    let syn_ack = position("[SYN, ACK]", syn);
    let fin = position("FIN", syn_ack);
    assert!(syn < syn_ack && syn_ack < fin);
    // The filter keeps TCP only.
    assert!(
        !lines.iter().any(|l| l.contains(" dns ")),
        "DNS rows in a --proto tcp timeline:\n{}",
        show.stdout
    );
    // --layers adds the per-device In/Out decisions.
    let layers = lab.vnet(&["trace", "show", &id, "--layers"]);
    assert_eq!(layers.code, 0, "{layers:?}");
    assert!(layers.stdout.contains(" in "), "{}", layers.stdout);
    assert!(layers.stdout.contains("TTL"), "{}", layers.stdout);
}
