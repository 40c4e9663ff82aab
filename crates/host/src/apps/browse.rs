//! `browse URL [-o DIR]` and `fetch URL [-o FILE | --sha256]`: the web browser of a
//! host, over the stub resolver and vnet's own TCP (the logic lives in
//! `vnet_web::browser`; this module only plugs in the host's sockets).

use super::parse_args;
use crate::Host;
use clap::Parser;
use sha2::{Digest, Sha256};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;
use tracing::Instrument;
use vnet_dns::stub::{StubOptions, lookup_a};
use vnet_runtime::net_tcp::TcpStream;
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_web::browser::{BrowseOptions, Connector, Resolver, browse, fetch};

/// Connections through the host's TCP (Nagle off, as a browser would).
pub(crate) struct HostConnector(pub(crate) DeviceHandle<Host>);

impl Connector for HostConnector {
    type Stream = TcpStream<Host>;

    fn connect(
        &self,
        addr: Ipv4Addr,
        port: u16,
    ) -> impl Future<Output = std::io::Result<Self::Stream>> + Send {
        let handle = self.0.clone();
        async move {
            let stream = TcpStream::connect(&handle, SocketAddrV4::new(addr, port)).await?;
            stream.set_nodelay(true);
            Ok(stream)
        }
    }
}

/// Names through the host's stub resolver and its configured or DHCP-learned server.
pub(crate) struct HostResolver {
    handle: DeviceHandle<Host>,
    server: Option<Ipv4Addr>,
}

impl Resolver for HostResolver {
    fn resolve(
        &self,
        name: &str,
    ) -> impl Future<Output = anyhow::Result<(Ipv4Addr, Duration)>> + Send {
        let handle = self.handle.clone();
        let server = self.server;
        let name = name.to_string();
        async move {
            let server = server.ok_or_else(|| {
                anyhow::anyhow!(
                    "no DNS server: none learned by DHCP and no `nameservers` in the topology"
                )
            })?;
            let parsed = name
                .parse()
                .map_err(|e| anyhow::anyhow!("{name:?} is not a DNS name: {e}"))?;
            let started = tokio::time::Instant::now();
            let addrs = lookup_a(&handle, server, &parsed, &StubOptions::default())
                .await
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            let first = addrs
                .first()
                .copied()
                .ok_or_else(|| anyhow::anyhow!("{name}: no A record"))?;
            Ok((first, started.elapsed()))
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "browse",
    about = "Open a URL like a browser: the page, then its images, stylesheets and scripts"
)]
struct BrowseArgs {
    /// URL, e.g. http://www.example.com/ (http only: vnet has no TLS).
    url: String,
    /// Save every resource under this directory (written by the `vnet`
    /// CLI on your side, as you; the device writes nothing).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// After the page, print the trace id and the request's timeline
    /// across every device (needs trace export: `vnet up` sets it up).
    #[arg(long)]
    trace: bool,
}

#[derive(Parser, Debug)]
#[command(name = "fetch", about = "Print the body of a URL (like curl)")]
struct FetchArgs {
    /// URL.
    url: String,
    /// Write the body to this file instead of printing it (written by the
    /// `vnet` CLI on your side, as you; the device writes nothing).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Follow redirects (up to 5).
    #[arg(short = 'L', long)]
    location: bool,
    /// Instead of the body, print `STATUS BYTES bytes sha256 HEX`: checks a
    /// download where no file can be written (e.g. in a container).
    #[arg(long, conflicts_with = "output")]
    sha256: bool,
}

/// The `fetch --sha256` line: status, body length and the body's SHA-256.
fn digest_line(status: u16, body: &[u8]) -> String {
    format!(
        "{status} {} bytes sha256 {:x}",
        body.len(),
        Sha256::digest(body)
    )
}

/// The host's connector and resolver (its configured or DHCP-learned DNS server).
pub(crate) fn parts(handle: &DeviceHandle<Host>) -> (HostConnector, HostResolver) {
    let server = handle.with(|host, _, _| host.nameservers.first().copied());
    (
        HostConnector(handle.clone()),
        HostResolver {
            handle: handle.clone(),
            server,
        },
    )
}

pub(crate) async fn run_browse(
    handle: DeviceHandle<Host>,
    argv: Vec<String>,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    let args: BrowseArgs = match parse_args(&argv, out).await {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    let (connector, resolver) = parts(&handle);
    let options = BrowseOptions {
        save_dir: args.output,
        ..BrowseOptions::default()
    };
    // The root of the request's trace: every frame the browser causes,
    // on every device, continues it.
    let span = vnet_telemetry::app_span!(
        "browse",
        proto = "http",
        layer = "L7",
        summary = format!("browse {}", args.url),
        http.url = %args.url,
    );
    let trace_id = vnet_telemetry::context_of(&span).map(|c| c.trace_id_hex());
    let outcome = browse(&connector, &resolver, &args.url, &options)
        .instrument(span)
        .await;
    let code = match outcome {
        Ok(report) => {
            // Saved bodies go back to the CLI, which writes them as the
            // calling user: the device writes no file.
            for r in &report.resources {
                if let (Some(path), Some(body)) = (&r.saved, &r.saved_body) {
                    out.file(path.to_string_lossy(), body).await?;
                }
            }
            for line in vnet_web::report::report_lines(&report) {
                out.line(line).await?;
            }
            if report.success() { 0 } else { 1 }
        }
        Err(e) => {
            out.error(format!("browse: {e}")).await?;
            2
        }
    };
    if args.trace {
        super::trace::print_trace(trace_id.as_deref(), out).await?;
    }
    Ok(code)
}

pub(crate) async fn run_fetch(
    handle: DeviceHandle<Host>,
    argv: Vec<String>,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    let args: FetchArgs = match parse_args(&argv, out).await {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    let (connector, resolver) = parts(&handle);
    let options = BrowseOptions {
        fetch_resources: false,
        max_redirects: if args.location { 5 } else { 0 },
        ..BrowseOptions::default()
    };
    let span = vnet_telemetry::app_span!(
        "fetch",
        proto = "http",
        layer = "L7",
        summary = format!("fetch {}", args.url),
        http.url = %args.url,
    );
    let fetched = match fetch(&connector, &resolver, &args.url, &options)
        .instrument(span)
        .await
    {
        Ok(f) => f,
        Err(e) => {
            out.error(format!("fetch: {e}")).await?;
            return Ok(2);
        }
    };
    let status = fetched.head.status;
    match args.output {
        Some(path) => {
            // Written by the CLI as the calling user, not here.
            out.file(path.to_string_lossy(), &fetched.body).await?;
            out.error(format!(
                "{status} {} bytes -> {}",
                fetched.body.len(),
                path.display()
            ))
            .await?;
        }
        None if args.sha256 => out.line(digest_line(status, &fetched.body)).await?,
        None => {
            for line in String::from_utf8_lossy(&fetched.body).lines() {
                out.line(line).await?;
            }
        }
    }
    Ok(if (200..400).contains(&status) { 0 } else { 22 }) // 22: curl -f's "HTTP error"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_lines() {
        assert_eq!(
            digest_line(200, b""),
            "200 0 bytes sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            digest_line(404, b"abc"),
            "404 3 bytes sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha256_excludes_output() {
        let args = FetchArgs::try_parse_from(["fetch", "http://a/", "--sha256"]).expect("parses");
        assert!(args.sha256);
        assert!(FetchArgs::try_parse_from(["fetch", "http://a/", "--sha256", "-o", "f"]).is_err());
    }
}
