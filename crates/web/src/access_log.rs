//! The access log: one Common Log Format line per response, logged by
//! the server through `tracing` (target `vnet_web::access`).

use vnet_wire::http::date;

/// One line of the Common Log Format (NCSA httpd, Apache's `common`):
/// `host ident authuser [date] "request line" status bytes`, e.g.
/// `10.0.1.100 - - [21/Nov/2026:05:00:00 +0000] "GET / HTTP/1.1" 200 1234`.
/// Unknown fields are `-`, as is a body of 0 bytes.
pub fn access_log_line(
    peer: Option<std::net::Ipv4Addr>,
    request_line: Option<&str>,
    status: u16,
    body_bytes: u64,
    unix_secs: u64,
) -> String {
    let host = peer.map_or_else(|| "-".to_owned(), |p| p.to_string());
    let bytes = if body_bytes == 0 {
        "-".to_owned()
    } else {
        body_bytes.to_string()
    };
    format!(
        "{host} - - [{}] \"{}\" {status} {bytes}",
        date::clf_timestamp(unix_secs),
        request_line.unwrap_or("-")
    )
}
