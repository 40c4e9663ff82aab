//! A small client for device admin APIs.

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::time::Duration;
use vnet_runtime::api::ApiError;

/// Timeout for ordinary admin requests (not streams).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Turns an error response into a readable error.
pub async fn check(device: &str, response: reqwest::Response) -> anyhow::Result<reqwest::Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ApiError>(&text) {
        Ok(e) => bail!("{device}: {}", e.error),
        Err(_) => bail!("{device}: admin API answered {status}: {text}"),
    }
}

/// GET a JSON document.
pub async fn get_json<T: DeserializeOwned>(
    device: &str,
    admin: SocketAddr,
    path: &str,
) -> anyhow::Result<T> {
    let response = http()
        .get(url(admin, path))
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .with_context(|| {
            format!(
                "{device}: admin API at {admin} does not answer (is the lab up? try `vnet status`)"
            )
        })?;
    check(device, response)
        .await?
        .json()
        .await
        .with_context(|| format!("{device}: unexpected answer to GET {path}"))
}
