//! The admin API server (HTTP + JSON). Routes are listed in [`crate::api`].

use crate::api::{ApiError, DeviceStatus, ExecEvent, ExecRequest, InterfaceStatus, Table};
use crate::capture;
use crate::device::{Device, ExecFn};
use crate::exec::ExecOutput;
use crate::handle::DeviceHandle;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vnet_cable::Direction;

struct AdminState<D: Device> {
    handle: DeviceHandle<D>,
    exec: Option<ExecFn<D>>,
    started: std::time::Instant,
}

impl<D: Device> Clone for AdminState<D> {
    fn clone(&self) -> Self {
        AdminState {
            handle: self.handle.clone(),
            exec: self.exec,
            started: self.started,
        }
    }
}

type ApiResult<T> = Result<T, (StatusCode, Json<ApiError>)>;

fn api_error(status: StatusCode, error: impl Into<String>) -> (StatusCode, Json<ApiError>) {
    (
        status,
        Json(ApiError {
            error: error.into(),
        }),
    )
}

pub(crate) async fn serve<D: Device>(
    listener: tokio::net::TcpListener,
    handle: DeviceHandle<D>,
    exec: Option<ExecFn<D>>,
    shutdown: CancellationToken,
) {
    let state = AdminState {
        handle,
        exec,
        started: std::time::Instant::now(),
    };
    let app = Router::new()
        .route("/health", get(health::<D>))
        .route("/status", get(status::<D>))
        .route("/tables", get(tables::<D>))
        .route("/tables/{name}", get(table::<D>))
        .route("/links/{iface}/impair", post(set_impairments::<D>))
        .route("/links/{iface}/{state}", post(set_link::<D>))
        .route("/capture/{iface}", get(capture_stream::<D>))
        .route("/exec", post(run_exec::<D>))
        .with_state(state);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "admin API stopped");
    }
}

async fn health<D: Device>(State(s): State<AdminState<D>>) -> (StatusCode, &'static str) {
    if s.handle.shared.lock().ready() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}

fn interface_status<D: Device>(handle: &DeviceHandle<D>, port: usize) -> InterfaceStatus {
    let end = &handle.shared.ports[port];
    let cfg = &handle.shared.config.interfaces[port];
    let live = handle.shared.lock().live_address(port);
    InterfaceStatus {
        name: cfg.name.clone(),
        mac: cfg.mac.to_string(),
        address: live.or_else(|| cfg.address.map(|a| a.to_string())),
        mtu: cfg.mtu,
        local: cfg.local,
        peer: cfg.peer.to_string(),
        peer_addr: end.peer(),
        tap: cfg.tap.clone(),
        link: end.link_status(),
        counters: end.counters().snapshot(),
        impairments: end.impairments(),
        captures: end.capture().subscriber_count(),
    }
}

async fn status<D: Device>(State(s): State<AdminState<D>>) -> Json<DeviceStatus> {
    let (device, tables, ready) = {
        let dev = s.handle.shared.lock();
        (dev.counters(), dev.tables(), dev.ready())
    };
    let cfg = &s.handle.shared.config;
    Json(DeviceStatus {
        name: cfg.name.clone(),
        kind: cfg.kind.to_string(),
        pid: std::process::id(),
        uptime_ms: s.started.elapsed().as_millis() as u64,
        ready,
        interfaces: (0..cfg.interfaces.len())
            .map(|p| interface_status(&s.handle, p))
            .collect(),
        device,
        tables: tables.into_iter().map(String::from).collect(),
        tracing: s.handle.shared.tracing.counters(),
    })
}

async fn tables<D: Device>(State(s): State<AdminState<D>>) -> Json<Vec<String>> {
    Json(
        s.handle
            .shared
            .lock()
            .tables()
            .into_iter()
            .map(String::from)
            .collect(),
    )
}

async fn table<D: Device>(
    State(s): State<AdminState<D>>,
    Path(name): Path<String>,
) -> ApiResult<Json<Table>> {
    let now = s.handle.now();
    let dev = s.handle.shared.lock();
    dev.table(now, &name).map(Json).ok_or_else(|| {
        api_error(
            StatusCode::NOT_FOUND,
            format!(
                "{} has no table {name:?}; tables: {}",
                s.handle.shared.config.name,
                dev.tables().join(", ")
            ),
        )
    })
}

fn port_of<D: Device>(s: &AdminState<D>, iface: &str) -> ApiResult<usize> {
    s.handle.shared.config.port_of(iface).ok_or_else(|| {
        let names: Vec<_> = s
            .handle
            .shared
            .config
            .interfaces
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        api_error(
            StatusCode::NOT_FOUND,
            format!(
                "{} has no interface {iface:?}; interfaces: {}",
                s.handle.shared.config.name,
                names.join(", ")
            ),
        )
    })
}

#[derive(Deserialize)]
struct LinkQuery {
    #[serde(default)]
    direction: Direction,
}

async fn set_link<D: Device>(
    State(s): State<AdminState<D>>,
    Path((iface, state)): Path<(String, String)>,
    Query(q): Query<LinkQuery>,
) -> ApiResult<Json<InterfaceStatus>> {
    let port = port_of(&s, &iface)?;
    let up = match state.as_str() {
        "up" => true,
        "down" => false,
        other => {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                format!("link state must be up or down, not {other:?}"),
            ));
        }
    };
    let status = s.handle.shared.ports[port].set_link(q.direction, up);
    let fully_up = status.rx_up && status.tx_up;
    s.handle
        .shared
        .with(None, |dev, now, _tx| dev.link_changed(now, port, fully_up));
    Ok(Json(interface_status(&s.handle, port)))
}

async fn set_impairments<D: Device>(
    State(s): State<AdminState<D>>,
    Path(iface): Path<String>,
    Json(config): Json<vnet_cable::Impairments>,
) -> ApiResult<Json<InterfaceStatus>> {
    let port = port_of(&s, &iface)?;
    s.handle.shared.ports[port]
        .set_impairments(config)
        .map_err(|e| api_error(StatusCode::BAD_REQUEST, format!("{iface}: {e}")))?;
    Ok(Json(interface_status(&s.handle, port)))
}

#[derive(Deserialize)]
struct CaptureQuery {
    count: Option<u64>,
    seconds: Option<f64>,
}

async fn capture_stream<D: Device>(
    State(s): State<AdminState<D>>,
    Path(iface): Path<String>,
    Query(q): Query<CaptureQuery>,
) -> ApiResult<Response> {
    let port = port_of(&s, &iface)?;
    let label = format!("{}:{}", s.handle.shared.config.name, iface);
    let limit = q
        .seconds
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64);
    let stream = capture::pcapng_stream(&s.handle.shared.ports[port], &label, q.count, limit);
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "application/x-pcapng")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

async fn run_exec<D: Device>(
    State(s): State<AdminState<D>>,
    Json(req): Json<ExecRequest>,
) -> ApiResult<Response> {
    let Some(exec) = s.exec else {
        return Err(api_error(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "{} is a {}: it runs no applications (exec works on hosts)",
                s.handle.shared.config.name, s.handle.shared.config.kind
            ),
        ));
    };
    if req.argv.is_empty() {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            "argv is empty: name a program, e.g. [\"ping\", \"10.0.3.10\"]",
        ));
    }
    tracing::info!(argv = ?req.argv, "exec");
    let (output, mut rx) = ExecOutput::channel(256);
    let app = exec(s.handle.clone(), req.argv, output.clone());
    tokio::spawn(async move {
        tokio::select! {
            code = app => output.exit(code).await,
            _ = output.closed() => tracing::info!("exec client disconnected; application stopped"),
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|event| {
            event.map(|event: ExecEvent| {
                let mut line = serde_json::to_vec(&event).unwrap_or_default();
                line.push(b'\n');
                Ok::<Bytes, Infallible>(Bytes::from(line))
            })
        })
    });
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}
