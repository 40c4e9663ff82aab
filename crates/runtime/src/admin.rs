//! The admin API server (HTTP + JSON). Routes are listed in [`crate::api`].

use crate::api::{
    ApiError, DeviceStatus, ExecEvent, ExecRequest, InterfaceStatus, RestoreAfter, Table,
};
use crate::capture;
use crate::device::Device;
use crate::exec::ExecOutput;
use crate::handle::DeviceHandle;
use crate::spec::ExecFn;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vnet_cable::Direction;

struct AdminState<D: Device> {
    handle: DeviceHandle<D>,
    exec: Option<ExecFn<D>>,
    started: std::time::Instant,
    /// Per port: counts of link-state and impairment changes.
    generations: Arc<Vec<Generations>>,
    /// Applications running under `POST /exec`, by id, for interrupts.
    running: Arc<Mutex<Running>>,
}

/// At most this many applications run at once under `POST /exec`.
const MAX_RUNNING: usize = 256;

/// The applications started by `POST /exec` that are still running.
#[derive(Default)]
struct Running {
    next_id: u64,
    outputs: std::collections::HashMap<u64, ExecOutput>,
}

fn lock_running(running: &Mutex<Running>) -> std::sync::MutexGuard<'_, Running> {
    running.lock().unwrap_or_else(|p| p.into_inner())
}

/// How many times a port's link state ([`LINK`]) and impairments
/// ([`IMPAIR`]) were set: a scheduled restore (`for_ms`) happens only while
/// its change is the latest, so a later change cancels it. Held while
/// changing, so a restore and a change never interleave.
type Generations = [Mutex<u64>; 2];
const LINK: usize = 0;
const IMPAIR: usize = 1;

fn lock_generation(counter: &Mutex<u64>) -> std::sync::MutexGuard<'_, u64> {
    counter.lock().unwrap_or_else(|p| p.into_inner())
}

/// The delay of a `for_ms` query, checked.
fn restore_delay(q: RestoreAfter) -> ApiResult<Option<Duration>> {
    match q.for_ms {
        None => Ok(None),
        Some(ms) if (1..=RestoreAfter::MAX_MS).contains(&ms) => Ok(Some(Duration::from_millis(ms))),
        Some(ms) => Err(api_error(
            StatusCode::BAD_REQUEST,
            format!("for_ms = {ms} is outside 1..={}", RestoreAfter::MAX_MS),
        )),
    }
}

/// Runs `restore` after `after`, unless generation `which` of `port`
/// moved past `generation` meanwhile.
fn schedule_restore(
    generations: Arc<Vec<Generations>>,
    port: usize,
    which: usize,
    generation: u64,
    after: Duration,
    restore: impl FnOnce() + Send + 'static,
) {
    vnet_telemetry::spawn(async move {
        tokio::time::sleep(after).await;
        let current = lock_generation(&generations[port][which]);
        if *current == generation {
            restore();
        }
    });
}

impl<D: Device> Clone for AdminState<D> {
    fn clone(&self) -> Self {
        AdminState {
            handle: self.handle.clone(),
            exec: self.exec,
            started: self.started,
            generations: Arc::clone(&self.generations),
            running: Arc::clone(&self.running),
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
    token: Option<String>,
    shutdown: CancellationToken,
) {
    let generations = (0..handle.shared.ports.len())
        .map(|_| Generations::default())
        .collect();
    let state = AdminState {
        handle,
        exec,
        started: std::time::Instant::now(),
        generations: Arc::new(generations),
        running: Arc::default(),
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
        .route("/exec/{id}/interrupt", post(interrupt_exec::<D>))
        .with_state(state);
    let app = match token {
        Some(token) => {
            let token = Arc::new(token);
            app.layer(axum::middleware::from_fn(move |request, next| {
                crate::admin_auth::require_token(Arc::clone(&token), request, next)
            }))
        }
        None => app,
    };
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
        cpus: cfg.cpus.clone(),
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
    Query(restore): Query<RestoreAfter>,
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
    let after = restore_delay(restore)?;
    {
        let mut generation = lock_generation(&s.generations[port][LINK]);
        *generation += 1;
        let before = s.handle.shared.ports[port].link_status();
        set_link_state(&s.handle, port, &[(q.direction, up)]);
        if let Some(after) = after {
            let handle = s.handle.clone();
            schedule_restore(
                s.generations.clone(),
                port,
                LINK,
                *generation,
                after,
                move || {
                    tracing::info!(port, ?after, "scheduled link change over: restoring");
                    let previous = [
                        (Direction::In, before.rx_up),
                        (Direction::Out, before.tx_up),
                    ];
                    set_link_state(&handle, port, &previous);
                },
            );
        }
    }
    Ok(Json(interface_status(&s.handle, port)))
}

/// Sets directions of `port`'s cable end up or down and tells the device.
fn set_link_state<D: Device>(handle: &DeviceHandle<D>, port: usize, changes: &[(Direction, bool)]) {
    handle.set_link(port, changes);
}

async fn set_impairments<D: Device>(
    State(s): State<AdminState<D>>,
    Path(iface): Path<String>,
    Query(restore): Query<RestoreAfter>,
    Json(config): Json<vnet_cable::Impairments>,
) -> ApiResult<Json<InterfaceStatus>> {
    let port = port_of(&s, &iface)?;
    let after = restore_delay(restore)?;
    {
        let mut generation = lock_generation(&s.generations[port][IMPAIR]);
        let end = &s.handle.shared.ports[port];
        let before = end.impairments();
        end.set_impairments(config)
            .map_err(|e| api_error(StatusCode::BAD_REQUEST, format!("{iface}: {e}")))?;
        *generation += 1;
        if let Some(after) = after {
            let handle = s.handle.clone();
            schedule_restore(
                s.generations.clone(),
                port,
                IMPAIR,
                *generation,
                after,
                move || {
                    tracing::info!(port, ?after, "scheduled impairments over: restoring");
                    if let Err(e) = handle.shared.ports[port].set_impairments(before) {
                        tracing::warn!(port, error = %e, "restoring impairments failed");
                    }
                },
            );
        }
    }
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

/// `POST /exec/{id}/interrupt`: the Ctrl-C of `vnet exec` (see
/// [`ExecOutput`] for what the application does with it).
async fn interrupt_exec<D: Device>(
    State(s): State<AdminState<D>>,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    let output = lock_running(&s.running).outputs.get(&id).cloned();
    match output {
        Some(output) => {
            tracing::info!(id, "exec interrupt");
            output.interrupt();
            Ok(StatusCode::NO_CONTENT)
        }
        None => Err(api_error(
            StatusCode::NOT_FOUND,
            format!("no application {id} is running"),
        )),
    }
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
    let (output, mut rx) = ExecOutput::channel(256);
    let id = {
        let mut running = lock_running(&s.running);
        if running.outputs.len() >= MAX_RUNNING {
            return Err(api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{MAX_RUNNING} applications are running already"),
            ));
        }
        running.next_id += 1;
        let id = running.next_id;
        running.outputs.insert(id, output.clone());
        id
    };
    tracing::info!(argv = ?req.argv, id, "exec");
    let app = exec(s.handle.clone(), req.argv, output.clone());
    let running = Arc::clone(&s.running);
    vnet_telemetry::spawn(async move {
        output.started(id).await;
        tokio::select! {
            code = app => output.exit(code).await,
            _ = output.uncaught_interrupt() => {
                tracing::info!(id, "exec interrupted; application stopped");
                output.exit(130).await;
            }
            _ = output.closed() => tracing::info!("exec client disconnected; application stopped"),
        }
        lock_running(&running).outputs.remove(&id);
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
