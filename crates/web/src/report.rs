//! What `browse` prints: the decoded URL, the lookups, the connections, one
//! line per request (status, type, size, connection, phase times) with its
//! main header fields, and a summary.
//!
//! ```text
//! URL http://www.example.com/ (scheme http, host www.example.com, port 80, path /)
//! DNS www.example.com -> 10.0.3.10 in 12.41 ms
//! TCP #1 to 10.0.3.10:80: connected in 1.52 ms, 4 requests
//!  1 page        GET /             200 OK  text/html; charset=utf-8  1432 B  #1 new     connect 1.52 ms  first byte 2.10 ms  download 0.04 ms
//!                Date: Sat, 21 Nov 2026 05:00:00 GMT | Server: vnet-web | Content-Length: 1432 | Connection: keep-alive
//!  2 stylesheet  GET /style.css    200 OK  text/css; charset=utf-8    811 B  #1 reused  first byte 1.90 ms  download 0.02 ms
//! …
//! 4 requests, 4 ok, 9120 bytes in 31.77 ms over 1 TCP connection (3 requests reused it)
//! ```
//!
//! A revalidated resource (a later visit of `browse --repeat`) shows its
//! `304` and the 0 body bytes that crossed the network, like a browser's
//! network panel:
//!
//! ```text
//!  2 stylesheet  GET /style.css    304 Not Modified  0 B (not modified: cached copy of 811 B used)  #1 reused …
//! ```

use crate::browser::{BrowseReport, Resource};
use std::time::Duration;
use vnet_wire::http::{Host, Url};

/// Header fields shown under each request.
const SHOWN: [&str; 10] = [
    "Date",
    "Server",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "Location",
    "Last-Modified",
    "ETag",
    "Content-Range",
];

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The parts of a URL, as the seed notes take a URL apart.
pub fn url_parts(url: &Url) -> String {
    let mut parts = vec![format!("scheme {}", url.scheme)];
    if let Some(u) = &url.user {
        parts.push(format!("user {u}"));
    }
    if url.password.is_some() {
        parts.push("password ***".into());
    }
    if let Some(h) = &url.host {
        let kind = match h {
            Host::Ipv4(_) => " (an address: no DNS needed)",
            _ => "",
        };
        parts.push(format!("host {h}{kind}"));
    }
    match (url.port, url.scheme.default_port()) {
        (Some(p), _) => parts.push(format!("port {p}")),
        (None, Some(p)) => parts.push(format!("port {p} (default)")),
        (None, None) => {}
    }
    parts.push(format!(
        "path {}",
        if url.path.is_empty() { "/" } else { &url.path }
    ));
    if let Some(q) = &url.query {
        parts.push(format!("query {q}"));
    }
    parts.join(", ")
}

/// How a resource is named in its line: the request-target when on the
/// page's server, the whole URL otherwise.
fn shown_target(page: &Url, url: &Url) -> String {
    if url.host == page.host && url.port_or_default() == page.port_or_default() {
        url.request_target()
    } else {
        url.to_string()
    }
}

fn resource_lines(index: usize, page: &Url, r: &Resource, out: &mut Vec<String>) {
    let target = shown_target(page, &r.url);
    let mut line = format!("{index:>2} {:<10}  GET {target}", r.kind.as_str());
    match r.status {
        Some(status) => {
            line.push_str(&format!("  {status} {}", r.reason));
            if let Some(to) = &r.redirect_to {
                line.push_str(&format!(" -> {to}"));
            } else if let Some(t) = r.header("content-type") {
                line.push_str(&format!("  {t}"));
            }
            line.push_str(&format!("  {} B", r.bytes));
            if let Some(n) = r.cached {
                line.push_str(&format!(" (not modified: cached copy of {n} B used)"));
            }
        }
        None => line.push_str("  (no response)"),
    }
    if let Some(c) = r.connection {
        line.push_str(&format!(
            "  #{c} {}",
            if r.reused { "reused" } else { "new" }
        ));
    }
    let t = &r.timings;
    for (name, d) in [
        ("dns", t.dns),
        ("connect", t.connect),
        ("tls", t.tls),
        ("first byte", t.first_byte),
        ("download", t.download),
    ] {
        if let Some(d) = d {
            line.push_str(&format!("  {name} {}", ms(d)));
        }
    }
    out.push(line);
    let indent = " ".repeat(15);
    let fields: Vec<String> = SHOWN
        .iter()
        .filter_map(|n| r.header(n).map(|v| format!("{n}: {v}")))
        .collect();
    if !fields.is_empty() {
        out.push(format!("{indent}{}", fields.join(" | ")));
    }
    if let Some(p) = &r.saved {
        out.push(format!("{indent}saved to {}", p.display()));
    }
    if let Some(e) = &r.error {
        out.push(format!("{indent}error: {e}"));
    }
}

/// The lines `browse` prints for a report.
pub fn report_lines(report: &BrowseReport) -> Vec<String> {
    let mut out = vec![format!("URL {} ({})", report.url, url_parts(&report.url))];
    for l in &report.lookups {
        out.push(format!("DNS {} -> {} in {}", l.name, l.addr, ms(l.elapsed)));
    }
    for c in &report.connections {
        let tls = c.tls.as_ref().map_or_else(String::new, |n| {
            format!(", TLS handshake in {} ({n})", ms(n.elapsed))
        });
        out.push(format!(
            "TCP #{} to {}:{}: connected in {}{tls}, {} request{}",
            c.id,
            c.addr,
            c.port,
            ms(c.connect),
            c.requests,
            if c.requests == 1 { "" } else { "s" }
        ));
    }
    for (i, r) in report.resources.iter().enumerate() {
        resource_lines(i + 1, &report.url, r, &mut out);
    }
    let requests = report.resources.len();
    let ok = report.resources.iter().filter(|r| r.ok()).count();
    let reused = report.resources.iter().filter(|r| r.reused).count();
    let conns = report.connections.len();
    let revalidated = report
        .resources
        .iter()
        .filter(|r| r.cached.is_some())
        .count();
    let mut summary = format!(
        "{requests} request{}, {ok} ok, {} bytes in {} over {conns} TCP connection{} ({reused} request{} reused one)",
        if requests == 1 { "" } else { "s" },
        report.total_bytes(),
        ms(report.total),
        if conns == 1 { "" } else { "s" },
        if reused == 1 { "" } else { "s" },
    );
    if revalidated > 0 {
        summary.push_str(&format!(
            ", {revalidated} not modified (304, from the cache)"
        ));
    }
    out.push(summary);
    out
}
