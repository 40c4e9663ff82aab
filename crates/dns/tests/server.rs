//! What the port-53 service answers at once, and what it hands to the
//! resolver (simulated upstreams).

mod common;

use common::*;
use std::sync::{Arc, Mutex};
use vnet_dns::DnsState;
use vnet_dns::authority::Authority;
use vnet_dns::cache::Cache;
use vnet_dns::counters::DnsCounters;
use vnet_dns::resolver::{Resolver, ResolverConfig};
use vnet_dns::server::{immediate_answer, response_from};
use vnet_dns::zone::Zone;
use vnet_runtime::DnsRole;
use vnet_wire::dns::{DnsMessage, Opcode, Rcode, RecordClass, RecordType};

const LOCAL: &str = "$ORIGIN home.arpa.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 10.0.1.53\nprinter A 10.0.1.20\n";

fn state(role: DnsRole, cache: Arc<Mutex<Cache>>) -> DnsState {
    DnsState {
        role,
        authority: Authority::new(vec![Zone::parse("home", LOCAL).expect("zone")])
            .expect("authority"),
        root_hints: vec![ip(ROOT)],
        cache,
        counters: Arc::new(DnsCounters::default()),
        allow_transfer: Vec::new(),
    }
}

fn query(name: &str, qtype: RecordType, rd: bool) -> DnsMessage {
    let mut q = DnsMessage::query(99, n(name), qtype);
    q.header.rd = rd;
    q
}

#[test]
fn authoritative_role_answers_everything_at_once() {
    let st = state(DnsRole::Authoritative, Arc::new(Mutex::new(Cache::new(0))));
    let none: Option<&Resolver<Arc<SimNet>>> = None;
    let r = immediate_answer(&st, none, &query("printer.home.arpa", RecordType::A, true))
        .expect("answer");
    assert!(r.header.aa && !r.header.ra && r.header.rd);
    assert_eq!(r.answers.len(), 1);
    let r = immediate_answer(&st, none, &query("www.example.com", RecordType::A, true))
        .expect("answer");
    assert_eq!(r.header.rcode, Rcode::Refused);
}

#[tokio::test]
async fn resolver_role() {
    let net = Arc::new(internet());
    let cache = Arc::new(Mutex::new(Cache::new(100)));
    let st = state(DnsRole::Resolver, Arc::clone(&cache));
    let config = ResolverConfig {
        root_hints: st.root_hints.clone(),
        ..ResolverConfig::default()
    };
    let r = Resolver::new(
        Arc::clone(&net),
        cache,
        Arc::clone(&st.counters),
        config,
        net.clock(),
    );

    // Its own zone: authoritative, with RA.
    let resp = immediate_answer(
        &st,
        Some(&r),
        &query("printer.home.arpa", RecordType::A, true),
    )
    .expect("answer");
    assert!(resp.header.aa && resp.header.ra);
    // RD set, elsewhere: must be resolved.
    let q = query("www.example.com", RecordType::A, true);
    assert!(immediate_answer(&st, Some(&r), &q).is_none());
    let resolution = r.resolve(&q.questions[0]).await;
    let resp = response_from(&q, &resolution);
    assert!(resp.header.ra && resp.header.rd && !resp.header.aa && resp.header.qr);
    assert_eq!(
        (resp.header.id, resp.header.rcode, resp.answers.len()),
        (99, Rcode::NoError, 1)
    );
    // RD clear: from the cache only, at once.
    let resp = immediate_answer(
        &st,
        Some(&r),
        &query("www.example.com", RecordType::A, false),
    )
    .expect("answer");
    assert!(resp.header.ra && !resp.header.rd);
    assert_eq!(resp.answers.len(), 1);
    let resp = immediate_answer(
        &st,
        Some(&r),
        &query("www.example.net", RecordType::A, false),
    )
    .expect("answer");
    assert!(resp.answers.is_empty());
    assert_eq!(net.log.lock().expect("log").len(), 3);
    // Errors are answered at once.
    let mut bad = query("www.example.com", RecordType::A, true);
    bad.questions[0].qclass = RecordClass::Ch;
    assert_eq!(
        immediate_answer(&st, Some(&r), &bad)
            .expect("answer")
            .header
            .rcode,
        Rcode::Refused
    );
    let mut bad = query("www.example.com", RecordType::A, true);
    bad.header.opcode = Opcode::Notify;
    let resp = immediate_answer(&st, Some(&r), &bad).expect("answer");
    assert_eq!(resp.header.rcode, Rcode::NotImp);
    assert!(resp.header.ra);
    let mut bad = query("www.example.com", RecordType::A, true);
    bad.questions.push(bad.questions[0].clone());
    assert_eq!(
        immediate_answer(&st, Some(&r), &bad)
            .expect("answer")
            .header
            .rcode,
        Rcode::FormErr
    );
}
