//! `vnet-web`: an HTTP/1.1 web server over vnet's own TCP, and the browser
//! logic hosts use.
//!
//! * [`server`]: the HTTP/1.1 server loop, generic over any
//!   `AsyncRead + AsyncWrite` stream (GET/HEAD of files, `POST /echo`,
//!   keep-alive, limits, Common Log Format access log);
//!   [`files`] keeps every path inside the document root.
//! * [`service`]: the device's start hook — `TcpListener` on port 80, one
//!   task per connection, at most [`service::MAX_CONNECTIONS`];
//!   [`admission`] shares the slots out (per-client cap, eviction of the
//!   longest-waiting connection when full).
//! * [`browser`]: what `vnet exec HOST -- browse URL` does — parse the URL,
//!   resolve the name, connect, GET the page and every image, stylesheet
//!   and script it references over the same keep-alive connection, with
//!   per-phase timings ([`report`] formats them); [`browser::fetch`] for a
//!   curl-like app. Generic over a [`browser::Connector`] and a
//!   [`browser::Resolver`], so the host wires in vnet TCP and its DNS stub.
//! * [`load`]: a keep-alive and new-connection HTTP load generator for
//!   benchmarks (`httpload`, `vnet bench http`).
//!
//! The device's status JSON holds the stack's counters plus the web
//! counters under `"web"` ([`counters::WebCountersSnapshot`]); `vnet show
//! web connections` lists open HTTP connections.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access_log;
pub mod admission;
pub mod browser;
mod client;
pub mod conditional;
pub mod counters;
pub mod file_cache;
pub mod files;
pub mod html;
pub mod load;
pub mod report;
mod response;
pub mod server;
pub mod service;
pub mod tls;

use anyhow::Context as _;
use std::process::ExitCode;
use std::sync::Arc;
use vnet_runtime::api::Table;
use vnet_runtime::net::NetDevice;
use vnet_runtime::stack_tables::build_stack;
use vnet_runtime::{DeviceKind, DeviceSpec};
use vnet_stack::NetStack;
use vnet_stack::time::Instant;

/// The kind this crate runs.
pub const KIND: DeviceKind = DeviceKind::Web;

/// The HTTP side of a web device.
#[derive(Debug, Clone)]
pub struct Http {
    /// The server (configuration and counters).
    pub server: server::Server,
    /// The TCP port listened on.
    pub port: u16,
    /// HTTPS, when the device has a certificate: the TLS settings and
    /// their port (443).
    pub tls: Option<(tls::TlsServer, u16)>,
}

/// The device's HTTPS settings from its config: a certificate and key
/// make a [`tls::TlsServer`] (with the key log if asked); neither, none.
fn tls_server(
    config: &vnet_topology::device::DeviceConfig,
) -> anyhow::Result<Option<tls::TlsServer>> {
    let Some(t) = &config.tls else {
        return Ok(None);
    };
    let (cert, key) = match (&t.cert, &t.key) {
        (Some(c), Some(k)) => (c, k),
        (None, None) => return Ok(None),
        _ => anyhow::bail!(
            "field `tls`: a certificate needs its key (`tls.cert` and `tls.key` together)"
        ),
    };
    let keylog = t.keylog.as_deref().map(tls::KeyLogFile::open).transpose()?;
    Ok(Some(
        tls::TlsServer::new(cert, key, keylog).context("field `tls`")?,
    ))
}

/// A web server device: a [`NetStack`] plus the HTTP service.
pub struct WebServer {
    stack: NetStack,
    http: Option<Arc<Http>>,
}

impl WebServer {
    /// The HTTP side, if the device has web settings.
    pub fn http(&self) -> Option<&Http> {
        self.http.as_deref()
    }
}

/// A web server is its stack plus `connections` (open HTTP connections)
/// and the web counters under `"web"`, when it serves HTTP.
impl NetDevice for WebServer {
    fn stack(&self) -> &NetStack {
        &self.stack
    }
    fn stack_mut(&mut self) -> &mut NetStack {
        &mut self.stack
    }
    fn extra_tables(&self) -> Vec<&'static str> {
        if self.http.is_some() {
            vec!["connections"]
        } else {
            Vec::new()
        }
    }
    fn extra_table(&self, _now: Instant, name: &str) -> Option<Table> {
        match (name, &self.http) {
            ("connections", Some(h)) => Some(h.server.counters().connections_table()),
            _ => None,
        }
    }
    fn extra_counters(&self, counters: &mut serde_json::Map<String, serde_json::Value>) {
        if let Some(h) = &self.http
            && let Ok(web) = serde_json::to_value(h.server.counters().snapshot())
        {
            counters.insert("web".into(), web);
        }
    }
}

/// How the runtime builds a web server: the stack from the interfaces and,
/// with web settings, the HTTP service (a missing document root stops the
/// device with the path in the error).
pub fn spec() -> DeviceSpec<WebServer> {
    DeviceSpec {
        kind: KIND,
        build: |config| {
            let http = match &config.web {
                Some(web) => {
                    let cfg = server::ServerConfig::from_web_config(web)
                        .with_context(|| format!("web settings of {}", config.name))?;
                    let tls = tls_server(config)
                        .with_context(|| format!("TLS settings of {}", config.name))?;
                    Some(Arc::new(Http {
                        server: server::Server::new(cfg),
                        port: web.port,
                        tls: tls.map(|t| (t, web.tls_port)),
                    }))
                }
                None => None,
            };
            Ok(WebServer {
                stack: build_stack(config, false)?,
                http,
            })
        },
        exec: None,
        start: Some(service::start),
    }
}

/// The `vnet-web` binary.
pub fn main() -> ExitCode {
    vnet_runtime::device_main(spec())
}
