//! `browse URL [-o DIR] [--repeat N]` and `fetch URL [-I] [-i] [-r RANGE] [-H FIELD]
//! [-w FORMAT] [-f] [-s] [-o FILE | --sha256]` (curl's flags): the web browser of a
//! host, over the stub resolver and vnet's own TCP (the logic lives in
//! `vnet_web::browser`; this module only plugs in the host's sockets).

use super::parse_args;
use crate::Host;
use clap::Parser;
use sha2::{Digest, Sha256};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;
use vnet_dns::stub::{StubOptions, lookup_a};
use vnet_runtime::net_tcp::TcpStream;
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_web::browser::{
    BrowseError, BrowseOptions, Connector, Fetched, HttpCache, Progress, Resolver, browse_cached,
    fetch,
};
use vnet_wire::http::ResponseHead;

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
    /// Names answered without a lookup (`fetch --resolve`), lowercase.
    overrides: Vec<(String, Ipv4Addr)>,
}

impl Resolver for HostResolver {
    fn resolve(
        &self,
        name: &str,
    ) -> impl Future<Output = anyhow::Result<(Ipv4Addr, Duration)>> + Send {
        let handle = self.handle.clone();
        let server = self.server;
        let name = name.to_string();
        let forced = self
            .overrides
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim_end_matches('.')))
            .map(|(_, a)| *a);
        async move {
            if let Some(addr) = forced {
                return Ok((addr, Duration::ZERO));
            }
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
    /// URL, e.g. http://www.example.com/ or https://www.example.com/
    /// (https trusts the lab CA only).
    url: String,
    /// Save every resource under this directory (written by the `vnet`
    /// CLI on your side, as you; the device writes nothing).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// After the page, print the trace id and the request's timeline
    /// across every device (needs trace export: `vnet up` sets it up).
    #[arg(long)]
    trace: bool,
    /// Visit the URL this many times in one browser session: later visits
    /// revalidate what the first cached (If-None-Match /
    /// If-Modified-Since) and show the server's 304s.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10))]
    repeat: u32,
}

#[derive(Parser, Debug)]
#[command(
    name = "fetch",
    about = "Transfer a URL, like curl: print the body (or headers), exit 22 on an HTTP error only with -f"
)]
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
    /// HEAD request: print the status line and header fields only.
    #[arg(short = 'I', long = "head")]
    head: bool,
    /// Print the status line and header fields before the body.
    #[arg(short = 'i', long)]
    include: bool,
    /// Ask for a byte range only: `0-99`, `500-`, `-100` (sent as
    /// `Range: bytes=RANGE`).
    #[arg(short = 'r', long, value_parser = range_arg)]
    range: Option<String>,
    /// Extra request header `Name: value` (repeatable; replaces a default
    /// field of the same name).
    #[arg(short = 'H', long = "header", value_parser = header_arg)]
    headers: Vec<(String, String)>,
    /// After the transfer, print FORMAT with curl's variables replaced:
    /// %{http_code} %{time_namelookup} %{time_connect}
    /// %{time_appconnect} (the TLS handshake's end) %{time_starttransfer} %{time_total} %{size_download}
    /// %{size_header} %{content_type} %{url_effective} %{num_redirects};
    /// \n and \t are newline and tab.
    #[arg(short = 'w', long = "write-out")]
    write_out: Option<String>,
    /// Fail on HTTP errors (status >= 400): print no body, exit 22.
    #[arg(short = 'f', long)]
    fail: bool,
    /// Silent: no progress and no messages on stderr.
    #[arg(short = 's', long)]
    silent: bool,
    /// Use ADDR for HOST (and PORT) instead of asking DNS, as curl's
    /// `--resolve HOST:PORT:ADDR` (repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = resolve_arg)]
    resolve: Vec<(String, u16, Ipv4Addr)>,
}

/// `--resolve`'s argument: `HOST:PORT:ADDR`.
fn resolve_arg(text: &str) -> Result<(String, u16, Ipv4Addr), String> {
    let mut parts = text.splitn(3, ':');
    let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "{text:?} is not HOST:PORT:ADDR (e.g. www.example.org:443:10.0.3.10)"
        ));
    };
    let port = port
        .parse()
        .map_err(|_| format!("{text:?}: port {port:?} is not a number from 0 to 65535"))?;
    let addr = addr
        .parse()
        .map_err(|_| format!("{text:?}: {addr:?} is not an IPv4 address"))?;
    if host.is_empty() {
        return Err(format!("{text:?}: the host is empty"));
    }
    Ok((host.to_ascii_lowercase(), port, addr))
}

/// `-r`'s argument, checked against RFC 9110's range grammar.
fn range_arg(text: &str) -> Result<String, String> {
    let value = format!("bytes={text}");
    vnet_wire::http::parse_range(value.as_bytes())
        .map(|_| value)
        .map_err(|e| format!("{text:?}: {e} (e.g. 0-99, 500-, -100)"))
}

/// `-H`'s argument: `Name: value`.
fn header_arg(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not `Name: value`"))?;
    let mut check = vnet_wire::http::Headers::new();
    check
        .append(name, value)
        .map_err(|e| format!("{text:?}: {e}"))?;
    Ok((name.to_owned(), value.trim().to_owned()))
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
            overrides: Vec::new(),
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
        tls: handle.with(|host, _, _| host.tls.clone()),
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
    let mut cache = HttpCache::default();
    let mut code = 0;
    for visit in 1..=args.repeat {
        if args.repeat > 1 {
            let note = if visit == 1 {
                String::new()
            } else {
                format!(" ({} cached responses to revalidate)", cache.len())
            };
            out.line(format!("visit {visit} of {}{note}", args.repeat))
                .await?;
        }
        // Every visit inside the one `browse` span: one trace.
        let outcome = browse_cached(&connector, &resolver, &args.url, &options, &mut cache)
            .instrument(span.clone())
            .await;
        match outcome {
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
                if !report.success() {
                    code = 1;
                }
            }
            Err(e) => {
                out.error(format!("browse: {e}")).await?;
                code = 2;
                break;
            }
        }
    }
    drop(span);
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
    let (connector, mut resolver) = parts(&handle);
    // curl matches HOST and PORT; vnet's resolver is asked names only, so
    // an entry applies when its port is the URL's.
    let url_port = vnet_wire::http::Url::parse(&args.url)
        .ok()
        .and_then(|u| u.port_or_default());
    resolver.overrides = args
        .resolve
        .iter()
        .filter(|(_, port, _)| Some(*port) == url_port)
        .map(|(host, _, addr)| (host.clone(), *addr))
        .collect();
    let mut headers = args.headers.clone();
    if let Some(range) = &args.range {
        headers.push(("Range".into(), range.clone()));
    }
    let progress = (!args.silent).then(|| {
        let out = out.clone();
        Progress(Arc::new(move |done, total| out.progress(done, total)))
    });
    let options = BrowseOptions {
        fetch_resources: false,
        max_redirects: if args.location { 5 } else { 0 },
        head_only: args.head,
        headers,
        progress,
        tls: handle.with(|host, _, _| host.tls.clone()),
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
            let code = curl_exit_code(&e);
            if !args.silent {
                out.error(format!("fetch: ({code}) {e}")).await?;
            }
            return Ok(code);
        }
    };
    let status = fetched.head.status;
    let failed = args.fail && status >= 400;
    if (args.include || args.head) && !failed {
        for line in head_lines(&fetched.head) {
            out.line(line).await?;
        }
    }
    if failed {
        if !args.silent {
            let msg = format!("fetch: (22) The requested URL returned error: {status}");
            out.error(msg).await?;
        }
    } else if args.head {
    } else if let Some(path) = &args.output {
        // Written by the CLI as the calling user, not here.
        out.file(path.to_string_lossy(), &fetched.body).await?;
        if !args.silent {
            let n = fetched.body.len();
            out.error(format!("{status} {n} bytes -> {}", path.display()))
                .await?;
        }
    } else if args.sha256 {
        out.line(digest_line(status, &fetched.body)).await?;
    } else {
        for line in String::from_utf8_lossy(&fetched.body).lines() {
            out.line(line).await?;
        }
    }
    if let Some(format) = &args.write_out {
        let text = write_out(format, &fetched);
        for line in text.lines() {
            out.line(line).await?;
        }
    }
    // curl exits 0 for any HTTP status unless -f (then 22 for >= 400).
    Ok(if failed { 22 } else { 0 })
}

/// curl's exit codes for a transfer that failed before a response.
fn curl_exit_code(e: &BrowseError) -> i32 {
    match e {
        BrowseError::Url(_) => 3,
        BrowseError::Resolve { .. } => 6,
        BrowseError::Connect { .. } => 7,
        BrowseError::TooManyRedirects(_) => 47,
        // curl: 60 for a certificate it cannot verify, 35 for other
        // handshake failures.
        BrowseError::Tls { reason, .. } if reason.contains("certificate") => 60,
        BrowseError::Tls { .. } => 35,
        BrowseError::Http(m) if m.contains("timed out") => 28,
        BrowseError::Http(_) => 56,
    }
}

/// The status line and header fields, as `curl -i` prints them.
fn head_lines(head: &ResponseHead) -> Vec<String> {
    let mut lines = vec![format!("{} {} {}", head.version, head.status, head.reason)];
    lines.extend(
        head.headers
            .iter()
            .map(|h| format!("{}: {}", h.name, String::from_utf8_lossy(&h.value))),
    );
    lines.push(String::new());
    lines
}

/// curl's `-w` format with its variables replaced (seconds with six
/// decimals, cumulative from the start as curl counts them).
fn write_out(format: &str, f: &Fetched) -> String {
    let secs = |d: Duration| format!("{:.6}", d.as_secs_f64());
    let before: Duration = f
        .resources
        .iter()
        .rev()
        .skip(1)
        .map(|r| r.timings.total)
        .sum();
    let last = f.resources.last();
    let t = last.map(|r| r.timings).unwrap_or_default();
    let lookup = before + t.dns.unwrap_or_default();
    let connect = lookup + t.connect.unwrap_or_default();
    let appconnect = connect + t.tls.unwrap_or_default();
    let start = appconnect + t.first_byte.unwrap_or_default();
    let header_size = f.head.to_bytes().len();
    let value = |name: &str| -> Option<String> {
        Some(match name {
            "http_code" | "response_code" => format!("{:03}", f.head.status),
            "time_namelookup" => secs(lookup),
            "time_connect" => secs(connect),
            // curl: 0 when no TLS handshake was made.
            "time_appconnect" if t.tls.is_some() => secs(appconnect),
            "time_appconnect" => secs(Duration::ZERO),
            "time_starttransfer" => secs(start),
            "time_total" => secs(before + t.total),
            "size_download" => f.body.len().to_string(),
            "size_header" => header_size.to_string(),
            "content_type" => f.head.headers.get_str("content-type").unwrap_or("").into(),
            "url_effective" => f.url.to_string(),
            "num_redirects" => f.resources.len().saturating_sub(1).to_string(),
            _ => return None,
        })
    };
    let mut out = String::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("%{")
            && let Some(end) = after.find('}')
        {
            out.push_str(&value(&after[..end]).unwrap_or_default());
            rest = &after[end + 1..];
            continue;
        }
        let (text, skip) = match (c, rest.get(1..2)) {
            ('\\', Some("n")) => ("\n", 2),
            ('\\', Some("t")) => ("\t", 2),
            ('\\', Some("\\")) => ("\\", 2),
            ('%', Some("%")) => ("%", 2),
            _ => ("", 0),
        };
        if skip > 0 {
            out.push_str(text);
            rest = &rest[skip..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
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
    fn curl_flags_parse() {
        let a = FetchArgs::try_parse_from([
            "fetch",
            "-I",
            "-i",
            "-f",
            "-s",
            "-r",
            "0-99",
            "-H",
            "X-A: 1",
            "-H",
            "Accept:  */*",
            "-w",
            "%{http_code}",
            "http://a/",
        ])
        .expect("parses");
        assert!(a.head && a.include && a.fail && a.silent);
        assert_eq!(a.range.as_deref(), Some("bytes=0-99"));
        assert_eq!(
            a.headers,
            vec![("X-A".into(), "1".into()), ("Accept".into(), "*/*".into())]
        );
        assert!(FetchArgs::try_parse_from(["fetch", "-r", "9-1", "http://a/"]).is_err());
        assert!(FetchArgs::try_parse_from(["fetch", "-H", "no colon", "http://a/"]).is_err());
        assert!(FetchArgs::try_parse_from(["fetch", "-H", "X: a\r\nY: b", "http://a/"]).is_err());
    }

    #[test]
    fn write_out_variables() {
        let mut head = ResponseHead::new(404);
        head.headers.append("Content-Type", "text/html").unwrap();
        let url = vnet_wire::http::Url::parse("http://a/x").unwrap();
        let mut r = vnet_web::browser::Resource {
            url: url.clone(),
            kind: vnet_web::browser::ResourceKind::Page,
            status: Some(404),
            reason: String::new(),
            headers: Vec::new(),
            bytes: 3,
            connection: None,
            reused: false,
            timings: Default::default(),
            redirect_to: None,
            saved: None,
            saved_body: None,
            cached: None,
            error: None,
        };
        r.timings.dns = Some(Duration::from_millis(2));
        r.timings.connect = Some(Duration::from_millis(3));
        r.timings.first_byte = Some(Duration::from_millis(5));
        r.timings.total = Duration::from_millis(11);
        let f = Fetched {
            url,
            head,
            body: b"abc".to_vec(),
            resources: vec![r],
        };
        assert_eq!(
            write_out(
                "%{http_code} %{time_namelookup} %{time_connect} %{time_starttransfer} %{time_total} %{size_download}\\n%{content_type}%{nope} 100%%",
                &f
            ),
            "404 0.002000 0.005000 0.010000 0.011000 3\ntext/html 100%"
        );
    }

    #[test]
    fn sha256_excludes_output() {
        let args = FetchArgs::try_parse_from(["fetch", "http://a/", "--sha256"]).expect("parses");
        assert!(args.sha256);
        assert!(FetchArgs::try_parse_from(["fetch", "http://a/", "--sha256", "-o", "f"]).is_err());
    }
}
