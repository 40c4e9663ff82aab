//! A small client for device admin APIs, reached directly over HTTP (labs
//! of `vnet up` and Compose) or through `docker exec` / `kubectl exec` into
//! the device's container (Swarm and Kubernetes labs, whose admin APIs stay
//! on the container's loopback), where the image's own `vnet` makes the
//! request (`vnet admin-request`) and frames the answer on its stdout.

use crate::state::DeviceState;
use anyhow::{Context, bail};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use vnet_runtime::api::ApiError;

/// Timeout for ordinary admin requests (not streams).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Budget of an ordinary request through `docker exec`/`kubectl exec`,
/// which start a process in the container first.
const EXEC_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// An HTTP client for admin APIs.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .unwrap_or_default()
}

/// The URL of `path` on the admin API at `admin`.
pub fn url(admin: SocketAddr, path: &str) -> String {
    format!("http://{admin}{path}")
}

/// An admin API's answer: the status, then the body as it arrives.
pub struct AdminReply {
    device: String,
    /// HTTP status code.
    pub status: u16,
    /// The body, chunk by chunk.
    pub body: BoxStream<'static, anyhow::Result<Bytes>>,
    /// The `docker exec`/`kubectl exec` carrying the answer, killed when
    /// the reply is dropped.
    _carrier: Option<tokio::process::Child>,
}

/// A request to a device's admin API.
pub struct AdminRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// Path and query.
    pub path: &'a str,
    /// JSON body.
    pub body: Option<serde_json::Value>,
    /// Whole-request timeout (None for streams).
    pub timeout: Option<Duration>,
}

impl<'a> AdminRequest<'a> {
    /// `GET path` with the ordinary timeout.
    pub fn get(path: &'a str) -> Self {
        AdminRequest {
            method: "GET",
            path,
            body: None,
            timeout: Some(REQUEST_TIMEOUT),
        }
    }

    /// `POST path` with an optional JSON body and the ordinary timeout.
    pub fn post(path: &'a str, body: Option<serde_json::Value>) -> Self {
        AdminRequest {
            method: "POST",
            path,
            body,
            timeout: Some(REQUEST_TIMEOUT),
        }
    }

    /// The same request without a timeout (exec output, captures).
    pub fn streaming(self) -> Self {
        AdminRequest {
            timeout: None,
            ..self
        }
    }
}

/// Sends `request` to `device`'s admin API.
pub async fn request(
    device: &DeviceState,
    request: AdminRequest<'_>,
) -> anyhow::Result<AdminReply> {
    match &device.via {
        None => request_http(device, request).await,
        Some(prefix) => request_through(device, prefix, request).await,
    }
}

async fn request_http(d: &DeviceState, r: AdminRequest<'_>) -> anyhow::Result<AdminReply> {
    let mut builder = match r.method {
        "POST" => http().post(url(d.admin, r.path)),
        _ => http().get(url(d.admin, r.path)),
    };
    if let Some(body) = &r.body {
        builder = builder.json(body);
    }
    if let Some(t) = r.timeout {
        builder = builder.timeout(t);
    }
    if let Some(token) = &d.token {
        builder = builder.bearer_auth(token);
    }
    let response = builder.send().await.with_context(|| {
        format!(
            "{}: admin API at {} does not answer (is the lab up? try `vnet status`)",
            d.name, d.admin
        )
    })?;
    let status = response.status().as_u16();
    let name = d.name.clone();
    let body = response
        .bytes_stream()
        .map(move |c| c.with_context(|| format!("{name}: connection to the device lost")))
        .boxed();
    Ok(AdminReply {
        device: d.name.clone(),
        status,
        body,
        _carrier: None,
    })
}

/// The arguments after the `vnet` of `prefix` that make the request.
pub fn admin_request_args(admin: SocketAddr, r: &AdminRequest<'_>) -> Vec<String> {
    let mut args = vec![
        "admin-request".to_string(),
        "--admin".to_string(),
        admin.to_string(),
        r.method.to_string(),
        r.path.to_string(),
    ];
    if let Some(body) = &r.body {
        args.push("--body".into());
        args.push(body.to_string());
    }
    args
}

async fn request_through(
    d: &DeviceState,
    prefix: &[String],
    r: AdminRequest<'_>,
) -> anyhow::Result<AdminReply> {
    let (program, first_args) = prefix
        .split_first()
        .context("empty command to reach the device")?;
    let mut child = tokio::process::Command::new(program)
        .args(first_args)
        .args(admin_request_args(d.admin, &r))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("{}: cannot run {program} (is it installed?)", d.name))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut reader = tokio::io::BufReader::new(stdout);
    let mut first = String::new();
    let read_status = reader.read_line(&mut first);
    // Even a stream's status line comes at once; only its body may last.
    let timeout = EXEC_REQUEST_TIMEOUT;
    let n = tokio::time::timeout(timeout, read_status)
        .await
        .with_context(|| {
            format!(
                "{}: no answer through `{}` within {timeout:?}",
                d.name,
                prefix.join(" ")
            )
        })??;
    let status = first
        .strip_prefix("HTTP ")
        .and_then(|s| s.trim().parse::<u16>().ok());
    let Some(status) = status.filter(|_| n > 0) else {
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ =
                tokio::time::timeout(Duration::from_secs(2), e.read_to_string(&mut stderr)).await;
        }
        bail!(
            "{}: cannot reach the device through `{}`: {}",
            d.name,
            prefix.join(" "),
            stderr.trim().lines().last().unwrap_or("no answer")
        );
    };
    let name = d.name.clone();
    let body = tokio_util::io::ReaderStream::new(reader)
        .map(move |c| c.with_context(|| format!("{name}: the exec stream broke")))
        .boxed();
    Ok(AdminReply {
        device: d.name.clone(),
        status,
        body,
        _carrier: Some(child),
    })
}

impl AdminReply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The whole body (bounded to 64 MiB).
    pub async fn bytes(mut self) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(chunk) = self.body.next().await {
            out.extend_from_slice(&chunk?);
            if out.len() > 64 << 20 {
                bail!("{}: answer larger than 64 MiB", self.device);
            }
        }
        Ok(out)
    }

    /// Fails with the API's error message unless the status is 2xx.
    pub async fn check(self) -> anyhow::Result<AdminReply> {
        if self.is_success() {
            return Ok(self);
        }
        let (device, status) = (self.device.clone(), self.status);
        let text = String::from_utf8_lossy(&self.bytes().await.unwrap_or_default()).into_owned();
        match serde_json::from_str::<ApiError>(&text) {
            Ok(e) => bail!("{device}: {}", e.error),
            Err(_) => bail!("{device}: admin API answered {status}: {text}"),
        }
    }

    /// The body of a 2xx answer as JSON.
    pub async fn json<T: DeserializeOwned>(self) -> anyhow::Result<T> {
        let device = self.device.clone();
        let bytes = self.check().await?.bytes().await?;
        serde_json::from_slice(&bytes).with_context(|| format!("{device}: unexpected answer"))
    }
}

/// GET a JSON document from `device`.
pub async fn get_json<T: DeserializeOwned>(device: &DeviceState, path: &str) -> anyhow::Result<T> {
    request(device, AdminRequest::get(path)).await?.json().await
}
