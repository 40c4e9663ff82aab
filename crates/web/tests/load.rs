//! The load generator against the vnet-web server over in-memory pipes:
//! the counts it reports, and reconnects at the per-connection limit.

mod common;

use common::{PipeConnector, site};
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use vnet_web::load::{Target, connections, keepalive, keepalive_concurrent, keepalive_total};
use vnet_web::server::Server;

const ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 10);

fn target(path: &str) -> Target<'_> {
    Target {
        addr: ADDR,
        port: 80,
        host: "www.example.com",
        path,
    }
}

#[tokio::test]
async fn keepalive_counts_requests_and_bytes() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let r = keepalive(common::connect(&server), "www.example.com", "/", 50)
        .await
        .expect("keepalive");
    assert_eq!((r.requests, r.connections), (50, 1));
    // Every response carries at least the page itself.
    assert!(r.bytes >= 50 * common::INDEX.len() as u64, "{r:?}");
    assert_eq!(server.counters().snapshot().requests, 50);
}

#[tokio::test]
async fn keepalive_stops_where_the_server_closes_and_total_reconnects() {
    let site = site();
    let mut config = common::config(&site.root);
    config.max_requests_per_connection = 10;
    let server = Server::new(config);
    let r = keepalive(common::connect(&server), "www.example.com", "/", 25)
        .await
        .expect("keepalive");
    assert_eq!(r.requests, 10, "the server's limit ends the connection");

    let connector = PipeConnector::new(server, ADDR);
    let r = keepalive_total(&connector, &target("/"), 25)
        .await
        .expect("keepalive_total");
    assert_eq!((r.requests, r.connections), (25, 3));
    assert_eq!(connector.connects.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn concurrent_keepalive_splits_the_requests_between_connections() {
    let site = site();
    let mut config = common::config(&site.root);
    config.max_requests_per_connection = 1000;
    let server = Server::new(config);
    let connector = PipeConnector::new(server.clone(), ADDR);
    let r = keepalive_concurrent(&connector, &target("/"), 103, 8)
        .await
        .expect("keepalive_concurrent");
    assert_eq!((r.requests, r.connections), (103, 8));
    assert_eq!(connector.connects.load(Ordering::SeqCst), 8);
    let snap = server.counters().snapshot();
    assert_eq!((snap.requests, snap.connections_accepted), (103, 8));
    // More connections than requests: one request each, no empty connection.
    let r = keepalive_concurrent(&connector, &target("/"), 3, 8)
        .await
        .expect("keepalive_concurrent");
    assert_eq!((r.requests, r.connections), (3, 3));
}

#[tokio::test]
async fn connections_opens_one_connection_per_request() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let connector = PipeConnector::new(server, ADDR);
    let r = connections(&connector, &target("/notes.txt"), 20)
        .await
        .expect("connections");
    assert_eq!((r.requests, r.connections), (20, 20));
    assert_eq!(connector.connects.load(Ordering::SeqCst), 20);
    assert!(r.bytes >= 20 * "notes\n".len() as u64);
}

#[tokio::test]
async fn a_missing_page_is_an_error() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let e = keepalive(common::connect(&server), "www.example.com", "/nope", 3)
        .await
        .expect_err("404");
    assert!(e.to_string().contains("404"), "{e}");
}
