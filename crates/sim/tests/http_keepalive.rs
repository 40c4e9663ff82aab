//! HTTP/1.1 keep-alive in the default lab, simulated: `browse` fetches a
//! page and its four resources over one TCP connection.

mod simlab;

use simlab::*;
use std::collections::{BTreeMap, BTreeSet};
use vnet_sim::events::WireEvent;

/// `client browse http://www.example.com/`: five GETs (the page, its
/// stylesheet and three images) all answered 200, over one connection:
/// the client sends exactly one SYN, the web server one SYN-ACK, and every
/// request leaves from the port of that SYN; browse says so.
#[test]
fn browse_makes_five_requests_over_one_connection() {
    let o = run_simple("client", "browse http://www.example.com/", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let out = stdout(&o);
    assert!(
        out.contains("5 requests, 5 ok") && out.contains("over 1 TCP connection"),
        "{out}"
    );
    assert!(out.contains("TCP #1 to 10.0.3.10:80: connected"), "{out}");
    assert!(!out.contains("TCP #2"), "{out}");

    let from_client = sent(&o, "client", "sw1");
    let syns: Vec<&&WireEvent> = from_client
        .iter()
        .filter(|e| e.proto == "tcp" && e.summary.contains("[SYN]"))
        .collect();
    assert_eq!(syns.len(), 1, "one SYN from the client\n{}", log(&o));
    let syn_acks = sent(&o, "web", "sw2")
        .into_iter()
        .filter(|e| e.summary.contains("[SYN, ACK]"))
        .count();
    assert_eq!(syn_acks, 1, "one SYN-ACK from web");

    let gets: Vec<&&WireEvent> = from_client
        .iter()
        .filter(|e| e.proto == "http" && e.summary.starts_with("HTTP GET "))
        .collect();
    let paths: Vec<&str> = gets
        .iter()
        .map(|e| e.summary.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(paths.len(), 5, "{}", log(&o));
    assert_eq!(paths[0], "/", "the page first");
    assert!(paths[1..].iter().all(|p| *p != "/"), "{paths:?}");
    let ports = l4_ports(syns[0]).expect("the SYN is TCP");
    assert_eq!(ports.1, 80);
    assert!(
        gets.iter().all(|g| l4_ports(g) == Some(ports)),
        "every GET on the SYN's connection ({ports:?})"
    );
    // Each request after the first follows the previous response: the
    // connection is reused, one request at a time.
    let oks: Vec<&WireEvent> = sent(&o, "sw1", "client")
        .into_iter()
        .filter(|e| e.proto == "http" && e.summary.starts_with("HTTP 200 OK"))
        .collect();
    assert_eq!(oks.len(), 5, "{}", log(&o));
    for i in 1..5 {
        assert!(
            gets[i].index > oks[i - 1].index,
            "GET {} after response {}",
            i + 1,
            i
        );
    }
    // No FIN or RST from the client before its last request.
    assert!(
        !from_client
            .iter()
            .any(|e| e.index < gets[4].index
                && (e.summary.contains("FIN") || e.summary.contains("RST"))),
        "{}",
        log(&o)
    );
}

/// `client httpload http://www.example.com/ -n 60 -c 4`: sixty requests
/// on exactly four connections (four SYNs from four client ports), each
/// connection kept alive for several requests.
#[test]
fn httpload_spreads_sixty_requests_over_four_kept_alive_connections() {
    let o = run_simple("client", "httpload http://www.example.com/ -n 60 -c 4", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("keepalive 60 requests in ") && out.contains("(4 connections,"),
        "{out}"
    );
    let from_client = sent(&o, "client", "sw1");
    let syn_ports: BTreeSet<u16> = from_client
        .iter()
        .filter(|e| e.proto == "tcp" && e.summary.contains("[SYN]"))
        .map(|e| l4_ports(e).expect("TCP").0)
        .collect();
    let syns = from_client
        .iter()
        .filter(|e| e.proto == "tcp" && e.summary.contains("[SYN]"))
        .count();
    assert_eq!((syns, syn_ports.len()), (4, 4), "{}", log(&o));
    let mut per_connection: BTreeMap<u16, usize> = BTreeMap::new();
    for get in from_client
        .iter()
        .filter(|e| e.proto == "http" && e.summary.starts_with("HTTP GET "))
    {
        *per_connection
            .entry(l4_ports(get).expect("TCP").0)
            .or_default() += 1;
    }
    assert_eq!(
        per_connection.keys().copied().collect::<BTreeSet<_>>(),
        syn_ports
    );
    assert_eq!(per_connection.values().sum::<usize>(), 60);
    assert!(
        per_connection.values().all(|n| *n > 1),
        "every connection reused: {per_connection:?}"
    );
}

/// The repository's web root, as web serves it.
fn served(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs/www")
        .join(file);
    std::fs::read_to_string(path).expect("served file")
}

/// `client fetch http://www.example.com/style.css` prints the file web
/// serves, byte for byte (as curl would).
#[test]
fn fetch_prints_the_served_body() {
    let o = run_simple("client", "fetch http://www.example.com/style.css", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    assert_eq!(stdout(&o).trim_end(), served("style.css").trim_end());
    assert!(
        o.events
            .iter()
            .any(|e| e.from == "web" && e.summary.starts_with("HTTP 200 OK")),
        "{}",
        log(&o)
    );
}

/// A missing page: web answers 404, fetch prints its body and exits 0
/// (curl's behaviour without -f).
#[test]
fn fetch_of_a_missing_page_is_a_404_with_exit_zero() {
    let o = run_simple("client", "fetch http://www.example.com/nothere.html", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    assert!(stdout(&o).contains("404 Not Found"), "{}", all_output(&o));
    assert!(
        o.events
            .iter()
            .any(|e| e.from == "web" && e.summary.starts_with("HTTP 404")),
        "{}",
        log(&o)
    );
}
