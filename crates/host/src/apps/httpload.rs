//! `httpload URL --requests N [--concurrency C] [--new-connections]`: an HTTP load generator
//! over vnet's own TCP (the logic lives in `vnet_web::load`; this module
//! plugs in the host's sockets and stub resolver). Prints one line of
//! requests (or connections) per second.

use super::browse::{HostConnector, parts};
use super::parse_args;
use crate::Host;
use clap::Parser;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_web::browser::{Connector, PROGRESS_EVERY, Resolver};
use vnet_web::load::{self, LoadResult};
use vnet_web::tls::TlsConnector;
use vnet_wire::http::{Host as UrlHost, Url};

#[derive(Parser, Debug)]
#[command(
    name = "httpload",
    about = "HTTP load: GETs over keep-alive (one connection, or several at once), or one new connection each"
)]
struct Args {
    /// URL, e.g. http://10.0.3.10/ or https://www.example.com/ (a 200
    /// response framed by Content-Length).
    url: String,
    /// Requests to send.
    #[arg(short = 'n', long, default_value_t = 1000)]
    requests: u64,
    /// Open a new connection for every request (`Connection: close`).
    #[arg(long)]
    new_connections: bool,
    /// Keep-alive connections at once, the requests split between them
    /// (each waits for its response before the next request).
    #[arg(short = 'c', long, default_value_t = 1, conflicts_with = "new_connections", value_parser = clap::value_parser!(u64).range(1..=256))]
    concurrency: u64,
}

/// The summary line `vnet bench http` parses.
fn summary(mode: &str, r: &LoadResult, unit: &str) -> String {
    format!(
        "{mode} {} requests in {:.3} s: {:.1} {unit} ({} connections, {} bytes)",
        r.requests,
        r.elapsed.as_secs_f64(),
        r.per_second(),
        r.connections,
        r.bytes
    )
}

/// Runs `load`, reporting `done` of `total` requests every
/// [`PROGRESS_EVERY`] (the `vnet exec` progress bar, as `tcp send` does).
async fn with_progress<T>(
    load: impl Future<Output = T>,
    done: &AtomicU64,
    total: u64,
    out: &ExecOutput,
) -> T {
    let mut load = std::pin::pin!(load);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            r = &mut load => return r,
            _ = tick.tick() => out.progress(done.load(Ordering::Relaxed), Some(total)),
        }
    }
}

/// The load `args` ask for, through `connector`.
async fn generate<C: Connector>(
    connector: &C,
    to: &load::Target<'_>,
    args: &Args,
    done: &AtomicU64,
) -> std::io::Result<LoadResult> {
    if args.new_connections {
        load::connections_counted(connector, to, args.requests, done).await
    } else {
        load::keepalive_concurrent_counted(connector, to, args.requests, args.concurrency, done)
            .await
    }
}

/// The URL's host as a TLS server name (no port, no trailing dot).
fn host_name(url: &Url) -> String {
    match &url.host {
        Some(UrlHost::Name(n)) => n.trim_end_matches('.').to_owned(),
        Some(UrlHost::Ipv4(a)) => a.to_string(),
        Some(UrlHost::Ipv6(a)) => a.clone(),
        None => String::new(),
    }
}

async fn address(handle: &DeviceHandle<Host>, url: &Url) -> anyhow::Result<Ipv4Addr> {
    match &url.host {
        Some(UrlHost::Ipv4(a)) => Ok(*a),
        Some(UrlHost::Name(name)) => {
            let (_, resolver) = parts(handle);
            resolver.resolve(name).await.map(|(addr, _)| addr)
        }
        _ => anyhow::bail!("{}: only IPv4 hosts", url.host_header()),
    }
}

pub(crate) async fn run(
    handle: DeviceHandle<Host>,
    argv: Vec<String>,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    let args: Args = match parse_args(&argv, out).await {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    let url = match Url::parse_http(&args.url) {
        Ok(u) => u,
        Err(e) => {
            out.error(format!("httpload: {}: {e}", args.url)).await?;
            return Ok(2);
        }
    };
    let addr = match address(&handle, &url).await {
        Ok(a) => a,
        Err(e) => {
            out.error(format!("httpload: {e}")).await?;
            return Ok(2);
        }
    };
    let (host, path) = (url.host_header(), url.request_target());
    let to = load::Target {
        addr,
        port: url.port_or_default().unwrap_or(80),
        host: &host,
        path: &path,
    };
    let tls = if url.is_https() {
        match handle.with(|h, _, _| h.tls.clone()) {
            Some(tls) => Some(tls),
            None => {
                out.error(
                    "httpload: https needs TLS settings (the lab CA to trust): this host has none",
                )
                .await?;
                return Ok(2);
            }
        }
    } else {
        None
    };
    let connector = HostConnector(handle);
    let done = AtomicU64::new(0);
    let result = match tls {
        None => {
            let load = generate(&connector, &to, &args, &done);
            with_progress(load, &done, args.requests, out).await
        }
        Some(tls) => {
            let connector = TlsConnector {
                inner: connector,
                tls,
                server_name: host_name(&url),
                wait: load::STEP_TIMEOUT,
            };
            let load = generate(&connector, &to, &args, &done);
            with_progress(load, &done, args.requests, out).await
        }
    };
    match result {
        Ok(r) if args.new_connections => {
            out.line(summary("new-connections", &r, "conn/s")).await?;
            Ok(0)
        }
        Ok(r) => {
            out.line(summary("keepalive", &r, "req/s")).await?;
            Ok(0)
        }
        Err(e) => {
            out.error(format!("httpload: {}: {e}", args.url)).await?;
            Ok(1)
        }
    }
}
