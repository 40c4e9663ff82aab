//! The default lab's zone files (configs/zones) load, and a resolver walks
//! them root → com → example.com (simulated servers at the lab's addresses).

mod common;

use common::*;
use std::net::Ipv4Addr;
use std::sync::Arc;
use vnet_dns::resolver::ResolverConfig;
use vnet_wire::dns::{Rcode, RecordData, RecordType};

fn zone(file: &str) -> String {
    let path = format!("{}/../../configs/zones/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn lab_zones_resolve() {
    let (root, com, example) = (
        zone("root.zone"),
        zone("com.zone"),
        zone("example.com.zone"),
    );
    let net = Arc::new(
        SimNet::new()
            .auth([10, 0, 3, 20], &[&root])
            .auth([10, 0, 3, 21], &[&com])
            .auth([10, 0, 3, 22], &[&example]),
    );
    let (r, _, _) = resolver(
        Arc::clone(&net),
        &[[10, 0, 3, 20]],
        ResolverConfig::default(),
    );
    let res = r.resolve(&q("www.example.com", RecordType::A)).await;
    assert_eq!(res.rcode, Rcode::NoError, "{:?}", res.reason);
    assert_eq!(
        res.answers[0].data,
        RecordData::A(Ipv4Addr::new(10, 0, 3, 10))
    );
    let servers: Vec<Ipv4Addr> = res.upstream.iter().map(|u| u.server).collect();
    assert_eq!(
        servers,
        [
            Ipv4Addr::new(10, 0, 3, 20),
            Ipv4Addr::new(10, 0, 3, 21),
            Ipv4Addr::new(10, 0, 3, 22)
        ]
    );
    let web = r.resolve(&q("web.example.com", RecordType::A)).await;
    assert_eq!(web.answers.len(), 2, "CNAME then A");
    let mx = r.resolve(&q("example.com", RecordType::Mx)).await;
    assert_eq!(mx.answers.len(), 2);
    let nx = r.resolve(&q("nope.example.com", RecordType::A)).await;
    assert_eq!(nx.rcode, Rcode::NxDomain);
    assert_eq!(nx.authorities[0].ttl, 60);
}
