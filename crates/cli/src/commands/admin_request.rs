//! `vnet admin-request` (hidden): runs inside a device's container for
//! `vnet --swarm`/`--k8s`, makes one request to the admin API on the
//! container's loopback and writes `HTTP <status>\n` and then the body, as
//! it arrives, to stdout. Exit 0 once the answer is written; 1 when the
//! API cannot be reached (the message goes to stderr).

use crate::client;
use anyhow::Context;
use futures_util::StreamExt;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

/// Makes the request and frames the answer on stdout.
pub async fn run(
    admin: SocketAddr,
    method: &str,
    path: &str,
    body: Option<String>,
) -> anyhow::Result<ExitCode> {
    if !path.starts_with('/') {
        anyhow::bail!("path {path:?} must start with '/'");
    }
    let mut request = match method {
        "GET" => client::http().get(client::url(admin, path)),
        "POST" => client::http().post(client::url(admin, path)),
        other => anyhow::bail!("method {other:?}: expected GET or POST"),
    };
    if let Some(body) = body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("admin API at {admin} does not answer"))?;
    // Plain blocking writes: this process does nothing else meanwhile.
    let mut out = std::io::stdout().lock();
    writeln!(out, "HTTP {}", response.status().as_u16())?;
    out.flush()?;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.context("the admin API's answer broke off")?;
        // A closed stdout means the caller went away: stop quietly.
        if out.write_all(&chunk).is_err() || out.flush().is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}
