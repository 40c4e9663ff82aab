//! `vnet bench http`: HTTP requests/s host -> switch -> web over vnet's
//! TCP (`httpload` on the host, i.e. `vnet_web::load`) next to the same
//! client code against hyper 1.x on the kernel's TCP over loopback: one
//! keep-alive connection, several at once, and new connections; medians
//! of repeated runs, with the ratios.

use super::exec_lines;
use anyhow::{Context, bail};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;

const HTTP_BENCH_TOPOLOGY: &str = r#"
name = "bench-http"
links = [
  { a = "h1:eth0", b = "sw1:eth0" },
  { a = "web:eth0", b = "sw1:eth1" },
]

[devices.h1]
kind = "host"
interfaces.eth0 = { address = "10.9.1.10/24" }

[devices.sw1]
kind = "switch"

[devices.web]
kind = "web"
root = "www"
interfaces.eth0 = { address = "10.9.1.80/24" }
# Like hyper: no per-connection request cap, so keep-alive never reconnects.
max_requests_per_connection = 4000000000
"#;

const HTTP_BENCH_URL: &str = "http://10.9.1.80/";

/// A 1 KiB HTML page, the body both servers send.
fn bench_page() -> Vec<u8> {
    let head = b"<!DOCTYPE html>\n<html><head><title>vnet bench</title></head><body>\n<p>";
    let tail = b"</p>\n</body></html>\n";
    let mut page = head.to_vec();
    page.resize(1024 - tail.len(), b'x');
    page.extend_from_slice(tail);
    page
}

/// Kernel TCP for `vnet_web::load` (Nagle off, like the host's connector).
struct KernelConnector;

impl vnet_web::browser::Connector for KernelConnector {
    type Stream = tokio::net::TcpStream;

    async fn connect(&self, addr: Ipv4Addr, port: u16) -> std::io::Result<tokio::net::TcpStream> {
        let stream = tokio::net::TcpStream::connect((addr, port)).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// A hyper 1.x HTTP/1.1 server on 127.0.0.1 answering every request with
/// `page`; stops when the returned task is aborted.
async fn start_hyper(
    page: bytes::Bytes,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    use http_body_util::Full;
    use hyper::header::{CONTENT_TYPE, HeaderValue};
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let page = page.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| {
                    let mut response = hyper::Response::new(Full::new(page.clone()));
                    response.headers_mut().insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    );
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((addr, task))
}

/// The rate in an `httpload` summary line (`… in 1.234 s: 4051.9 req/s …`).
fn httpload_rate(lines: &[String], mode: &str) -> Option<f64> {
    let line = lines.iter().find(|l| l.starts_with(mode))?;
    line.split(": ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One measurement of the HTTP benchmark, on either side.
#[derive(Debug, Clone, Copy)]
enum HttpMode {
    /// Keep-alive requests on this many connections at once.
    KeepAlive(u64),
    /// One new connection per request, one after another.
    NewConnections,
}

impl HttpMode {
    /// Runs per measurement, the median reported: three for keep-alive
    /// (short runs, noisy); one for new connections, whose TIME-WAIT
    /// sockets would fill the server's 1024-socket table on a repeat.
    fn runs(self) -> usize {
        match self {
            HttpMode::KeepAlive(_) => 3,
            HttpMode::NewConnections => 1,
        }
    }

    fn summary_prefix(self) -> &'static str {
        match self {
            HttpMode::KeepAlive(_) => "keepalive",
            HttpMode::NewConnections => "new-connections",
        }
    }
}

/// Runs `httpload` on h1 and returns its rate (its summary line printed
/// unless `quiet`).
async fn vnet_httpload(
    h1: &crate::state::DeviceState,
    requests: u64,
    mode: HttpMode,
    quiet: bool,
) -> anyhow::Result<f64> {
    let count = requests.to_string();
    let mut argv = vec!["httpload", HTTP_BENCH_URL, "--requests", &count];
    let concurrency;
    match mode {
        HttpMode::KeepAlive(c) => {
            concurrency = c.to_string();
            argv.extend(["--concurrency", &concurrency]);
        }
        HttpMode::NewConnections => argv.push("--new-connections"),
    }
    let (code, lines) = exec_lines(h1, &argv).await?;
    match httpload_rate(&lines, mode.summary_prefix()) {
        Some(rate) if code == 0 => {
            for l in lines.iter().filter(|_| !quiet) {
                println!("  vnet:   {l}");
            }
            Ok(rate)
        }
        _ => bail!("httpload failed (exit {code}): {lines:?}"),
    }
}

/// The median of `runs` (the upper one of an even count; 0 for none).
fn median(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs.get(runs.len() / 2).copied().unwrap_or(0.0)
}

/// The rates of one side (medians), in [`http_bench`]'s order.
type HttpRates = [f64; 3];

/// The three measurements, in the order they are reported.
fn http_modes(concurrency: u64) -> [HttpMode; 3] {
    [
        HttpMode::KeepAlive(1),
        HttpMode::KeepAlive(concurrency),
        HttpMode::NewConnections,
    ]
}

/// The vnet half: a lab h1 ── sw1 ── web, `httpload` from h1.
async fn http_bench_vnet(
    dir: &Path,
    page: &[u8],
    requests: u64,
    connections: u64,
    concurrency: u64,
) -> anyhow::Result<(HttpRates, Option<f64>)> {
    let www = dir.join("www");
    std::fs::create_dir_all(&www)?;
    std::fs::write(www.join("index.html"), page)?;
    let topology = dir.join("bench-http.toml");
    std::fs::write(&topology, HTTP_BENCH_TOPOLOGY)?;
    let run_dir = dir.join("run");
    // No trace collector: the benchmark measures the devices, not export.
    let code =
        crate::commands::up::run_with_trace(&run_dir, &topology, 30, None, false, false, None)
            .await?;
    if code != ExitCode::SUCCESS {
        bail!("the benchmark lab did not start");
    }
    let measured = async {
        let state = crate::state::LabState::require(&run_dir)?;
        let h1 = state.device("h1")?;
        // Warm-up: ARP, the first connections, page cache.
        vnet_httpload(h1, 100.min(requests), HttpMode::KeepAlive(1), true).await?;
        let mut rates = [0.0; 3];
        for (rate, mode) in rates.iter_mut().zip(http_modes(concurrency)) {
            let mut runs = Vec::new();
            for _ in 0..mode.runs() {
                let n = match mode {
                    HttpMode::NewConnections => connections,
                    HttpMode::KeepAlive(_) => requests,
                };
                runs.push(vnet_httpload(h1, n, mode, false).await?);
            }
            *rate = median(runs);
        }
        // The same four hops without TCP or HTTP: the latency floor.
        let (_, lines) = exec_lines(
            h1,
            &[
                "ping",
                "-q",
                "-c",
                "200",
                "-i",
                "0.001",
                "-W",
                "1",
                "10.9.1.80",
            ],
        )
        .await?;
        anyhow::Ok((rates, ping_average_ms(&lines)))
    }
    .await;
    crate::commands::down::run(&run_dir).await?;
    measured
}

/// The average of ping's `rtt min/avg/max/mdev = a/b/c/d ms` line, in ms.
fn ping_average_ms(lines: &[String]) -> Option<f64> {
    let line = lines.iter().find(|l| l.starts_with("rtt min/avg/max"))?;
    line.split(" = ").nth(1)?.split('/').nth(1)?.parse().ok()
}

/// The baseline: hyper 1.x on kernel TCP over loopback, same client code.
async fn http_bench_kernel(
    page: &[u8],
    requests: u64,
    connections: u64,
    concurrency: u64,
) -> anyhow::Result<HttpRates> {
    let (addr, server) = start_hyper(bytes::Bytes::copy_from_slice(page)).await?;
    let measured = async {
        let SocketAddr::V4(v4) = addr else {
            bail!("hyper is not on IPv4: {addr}");
        };
        let host = addr.to_string();
        let to = vnet_web::load::Target {
            addr: *v4.ip(),
            port: v4.port(),
            host: &host,
            path: "/",
        };
        let c = KernelConnector;
        vnet_web::load::keepalive_total(&c, &to, 100.min(requests)).await?;
        let mut rates = [0.0; 3];
        for (rate, mode) in rates.iter_mut().zip(http_modes(concurrency)) {
            let mut runs = Vec::new();
            for _ in 0..mode.runs() {
                let (r, unit) = match mode {
                    HttpMode::KeepAlive(n) => (
                        vnet_web::load::keepalive_concurrent(&c, &to, requests, n).await?,
                        "req/s",
                    ),
                    HttpMode::NewConnections => (
                        vnet_web::load::connections(&c, &to, connections).await?,
                        "conn/s",
                    ),
                };
                println!(
                    "  kernel: {} {} requests in {:.3} s: {:.1} {unit} ({} connections, {} bytes)",
                    mode.summary_prefix(),
                    r.requests,
                    r.elapsed.as_secs_f64(),
                    r.per_second(),
                    r.connections,
                    r.bytes
                );
                runs.push(r.per_second());
            }
            *rate = median(runs);
        }
        anyhow::Ok(rates)
    }
    .await;
    server.abort();
    measured
}

pub(super) async fn http_bench(requests: u64, concurrency: u64) -> anyhow::Result<ExitCode> {
    let connections = (requests / 10).clamp(1, 800);
    let dir = std::env::temp_dir().join(format!("vnet-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let page = bench_page();
    println!(
        "vnet bench http: GET of a {} B page, {requests} keep-alive requests on 1 and on {concurrency} connections, {connections} new connections",
        page.len()
    );
    println!(
        "  vnet: h1 -> sw1 -> web, one process (one thread) per device; kernel: hyper 1.x on loopback TCP in this process (one thread)"
    );
    let vnet = http_bench_vnet(&dir, &page, requests, connections, concurrency).await;
    let _ = std::fs::remove_dir_all(&dir);
    let (vnet, ping_ms) = vnet?;
    let kernel = http_bench_kernel(&page, requests, connections, concurrency).await?;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    println!();
    println!(
        "{:<26} {:>17} {:>20} {:>7}",
        "mode", "vnet", "kernel+hyper", "ratio"
    );
    for (i, mode) in http_modes(concurrency).into_iter().enumerate() {
        let (label, unit) = match mode {
            HttpMode::KeepAlive(1) => ("keep-alive, 1 connection".to_owned(), "req/s"),
            HttpMode::KeepAlive(n) => (format!("keep-alive, {n} connections"), "req/s"),
            HttpMode::NewConnections => ("new connections".to_owned(), "conn/s"),
        };
        println!(
            "{label:<26} {:>10.1} {unit:<6} {:>13.1} {unit:<6} {:>6.2}x",
            vnet[i],
            kernel[i],
            ratio(vnet[i], kernel[i])
        );
    }
    println!(
        "goal: keep-alive >= 0.30x kernel+hyper req/s with {concurrency} connections: {}",
        if ratio(vnet[1], kernel[1]) >= 0.3 {
            "met"
        } else {
            "not met"
        }
    );
    println!(
        "note: one connection at a time measures latency: each request crosses 3 processes (4 cable hops), each a process wake-up; the kernel's loopback stays in one"
    );
    if let Some(ping) = ping_ms.filter(|_| vnet[0] > 0.0) {
        println!(
            "latency: {:.0} us per request on one connection; ping h1 -> web over the same hops: {:.0} us average",
            1e6 / vnet[0],
            ping * 1000.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_runs_and_summary_rates() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![5.0]), 5.0);
        assert_eq!(median(Vec::new()), 0.0);
        let lines = vec![
            "keepalive 100 requests in 0.010 s: 9999.5 req/s (1 connections, 5 bytes)".to_owned(),
            "other".to_owned(),
        ];
        assert_eq!(httpload_rate(&lines, "keepalive"), Some(9999.5));
        assert_eq!(httpload_rate(&lines, "new-connections"), None);
        let ping = vec![
            "200 packets transmitted, 200 received, 0% packet loss, time 400ms".to_owned(),
            "rtt min/avg/max/mdev = 0.052/0.178/3.900/0.268 ms".to_owned(),
        ];
        assert_eq!(ping_average_ms(&ping), Some(0.178));
        assert_eq!(ping_average_ms(&ping[..1]), None);
    }
}
