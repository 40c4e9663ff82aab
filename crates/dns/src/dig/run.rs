//! Running `dig` on a device: the server (address or name), the query
//! over UDP or TCP with EDNS, the retry over TCP after TC, zone transfers,
//! and dig's output.

use super::{
    AXFR, DigRequest, EXIT_NO_REPLY, EXIT_USAGE, Reply, dig_args, format_reply, format_short, trace,
};
use crate::resolver::UpstreamError;
use crate::stub::{StubOptions, lookup_a};
use crate::tcp::{exchange_tcp, transfer};
use crate::text;
use crate::transport::{Exchange, exchange, random_id};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::AtomicU64;
use vnet_runtime::net::NetDevice;
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_wire::dns::{DnsMessage, DnsName, Edns, PORT, Rcode, RecordType};

/// dig's exit code when `@SERVER` names no address (BIND: 10).
pub const EXIT_NO_SERVER: i32 = 10;

/// A query for `name`/`qtype` as `req` asks: a fresh ID, RD as `rd`, an
/// OPT unless `+noedns`.
pub(super) fn build_query(
    req: &DigRequest,
    name: &DnsName,
    qtype: RecordType,
    rd: bool,
) -> DnsMessage {
    let mut q = DnsMessage::query(random_id(), name.clone(), qtype);
    q.header.rd = rd;
    if let Some(size) = req.edns {
        q.set_edns(Some(&Edns::with_payload_size(size)));
    }
    q
}

/// One exchange with `server` over UDP or TCP.
pub(super) async fn ask<D: NetDevice>(
    handle: &DeviceHandle<D>,
    server: Ipv4Addr,
    query: &DnsMessage,
    req: &DigRequest,
    tcp: bool,
) -> Result<Exchange, UpstreamError> {
    let to = SocketAddrV4::new(server, PORT);
    if tcp {
        exchange_tcp(handle, to, query, req.timeout).await
    } else {
        exchange(handle, to, query, req.timeout, &AtomicU64::new(0)).await
    }
}

/// The banner dig prints before the answer.
pub(super) async fn banner(out: &ExecOutput, words: &str) -> Result<(), Disconnected> {
    out.line("").await?;
    out.line(format!("; <<>> DiG (vnet) <<>> {words}")).await?;
    out.line(";; global options: +cmd").await
}

/// Runs `dig` on a device: parses `argv` (`argv[0]` = "dig"), asks
/// `@SERVER` or `default_server`, and writes dig's output to `out`. Exit
/// codes as dig: 0 when a response came (whatever its RCODE), 1 for a usage
/// error, 9 when no server answered, 10 when `@SERVER` has no address.
pub async fn run<D: NetDevice>(
    handle: &DeviceHandle<D>,
    argv: &[String],
    out: &ExecOutput,
    default_server: Option<Ipv4Addr>,
) -> Result<i32, Disconnected> {
    let args = match dig_args(argv) {
        Ok(a) => a,
        Err(e) => {
            let is_error = e.use_stderr();
            for line in e.render().to_string().lines() {
                if is_error {
                    out.error(line).await?;
                } else {
                    out.line(line).await?;
                }
            }
            return Ok(if is_error { EXIT_USAGE } else { 0 });
        }
    };
    let req = match args.request() {
        Ok(r) => r,
        Err(e) => {
            out.error(e.to_string()).await?;
            return Ok(EXIT_USAGE);
        }
    };
    let server = match (req.server, &req.server_name, default_server) {
        (Some(a), _, _) => a,
        (None, Some(name), Some(ns)) => {
            match lookup_a(handle, ns, name, &StubOptions::default()).await {
                Ok(addrs) if !addrs.is_empty() => addrs[0],
                _ => {
                    out.error(format!("dig: couldn't get address for '{name}': not found"))
                        .await?;
                    return Ok(EXIT_NO_SERVER);
                }
            }
        }
        (None, None, Some(ns)) => ns,
        (None, _, None) => {
            out.error(";; no DNS server configured on this host: give one as @SERVER")
                .await?;
            return Ok(EXIT_USAGE);
        }
    };
    let words = argv.get(1..).unwrap_or(&[]).join(" ");
    if req.trace {
        return trace::run(handle, &req, server, out, &words).await;
    }
    if req.qtype == AXFR {
        return zone_transfer(handle, &req, server, out, &words).await;
    }
    let Some((reply, tcp)) = query_with_retries(handle, &req, server, out).await? else {
        if !req.short {
            banner(out, &words).await?;
        }
        out.line(";; no servers could be reached").await?;
        return Ok(EXIT_NO_REPLY);
    };
    if req.short {
        for line in format_short(&reply.message) {
            out.line(line).await?;
        }
        return Ok(0);
    }
    banner(out, &words).await?;
    out.line(";; Got answer:").await?;
    let info = Reply {
        query_time: reply.rtt,
        server,
        msg_size: reply.size,
        tcp,
    };
    for line in format_reply(&req.name, req.qtype, &reply.message, &info) {
        out.line(line).await?;
    }
    out.line("").await?;
    Ok(0)
}

/// Asks up to `+tries` times, printing dig's communication errors; a UDP
/// answer with TC set is asked again over TCP, as dig does. The reply and
/// whether it came over TCP; `None` when nothing came.
async fn query_with_retries<D: NetDevice>(
    handle: &DeviceHandle<D>,
    req: &DigRequest,
    server: Ipv4Addr,
    out: &ExecOutput,
) -> Result<Option<(Exchange, bool)>, Disconnected> {
    for _ in 0..req.tries {
        let query = build_query(req, &req.name, req.qtype, req.recurse);
        match ask(handle, server, &query, req, req.tcp).await {
            Ok(r) if r.message.header.tc && !req.tcp && !req.ignore_tc => {
                out.line(";; Truncated, retrying in TCP mode.").await?;
                let query = build_query(req, &req.name, req.qtype, req.recurse);
                match ask(handle, server, &query, req, true).await {
                    Ok(r) => return Ok(Some((r, true))),
                    Err(e) => {
                        out.line(format!(
                            ";; communications error to {server}#53: {}",
                            reason(&e)
                        ))
                        .await?;
                        return Ok(Some((r, false)));
                    }
                }
            }
            Ok(r) => return Ok(Some((r, req.tcp))),
            Err(UpstreamError::Socket(e)) => {
                out.error(format!(";; could not send the query: {e}"))
                    .await?;
                return Ok(None);
            }
            Err(e) => {
                out.line(format!(
                    ";; communications error to {server}#53: {}",
                    reason(&e)
                ))
                .await?;
            }
        }
    }
    Ok(None)
}

/// dig's wording for a failed exchange.
pub(super) fn reason(e: &UpstreamError) -> String {
    match e {
        UpstreamError::Timeout(_) => "timed out".into(),
        UpstreamError::Unreachable(r) if r.contains("refused") => "connection refused".into(),
        UpstreamError::Unreachable(r) | UpstreamError::Socket(r) => r.clone(),
    }
}

/// `dig @SERVER ZONE AXFR`: the zone over TCP, every record as a line,
/// then dig's transfer summary; "; Transfer failed." when refused.
async fn zone_transfer<D: NetDevice>(
    handle: &DeviceHandle<D>,
    req: &DigRequest,
    server: Ipv4Addr,
    out: &ExecOutput,
    words: &str,
) -> Result<i32, Disconnected> {
    let query = build_query(req, &req.name, AXFR, false);
    let started = tokio::time::Instant::now();
    let to = SocketAddrV4::new(server, PORT);
    if !req.short {
        banner(out, words).await?;
    }
    let parts = match transfer(handle, to, &query, req.timeout).await {
        Ok(p) => p,
        Err(e) => {
            out.line(format!(
                ";; communications error to {server}#53: {}",
                reason(&e)
            ))
            .await?;
            out.line("; Transfer failed.").await?;
            return Ok(EXIT_NO_REPLY);
        }
    };
    let failed = parts.is_empty() || parts.iter().any(|(m, _)| m.header.rcode != Rcode::NoError);
    if failed {
        out.line("; Transfer failed.").await?;
        return Ok(0);
    }
    let mut records = 0;
    let mut bytes = 0;
    for (m, size) in &parts {
        bytes += size;
        for r in &m.answers {
            records += 1;
            out.line(if req.short {
                text::rdata(&r.data)
            } else {
                text::record_line(r)
            })
            .await?;
        }
    }
    if req.short {
        return Ok(0);
    }
    out.line(format!(
        ";; Query time: {} msec",
        started.elapsed().as_millis()
    ))
    .await?;
    out.line(format!(";; SERVER: {server}#53({server}) (TCP)"))
        .await?;
    out.line(format!(
        ";; XFR size: {records} records (messages {}, bytes {bytes})",
        parts.len()
    ))
    .await?;
    out.line("").await?;
    Ok(0)
}
