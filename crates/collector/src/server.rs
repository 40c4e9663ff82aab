//! The HTTP side: the OTLP/HTTP receiver and the JSON API.
//!
//! | route | answer |
//! |---|---|
//! | `POST /v1/traces` | OTLP/HTTP protobuf export (body ≤ 16 MiB); 200 with an `ExportTraceServiceResponse` |
//! | `GET /api/traces` | JSON `Vec<TraceSummary>`, oldest first |
//! | `GET /api/traces/{id}` | JSON `TraceData`; `id` is 32 hex digits or `last`; 404 `{"error": …}` if unknown |
//! | `GET /api/stats` | JSON [`StoreStats`](crate::store::StoreStats) |
//! | `GET /health` | 200 `ok` |

use crate::decode;
use crate::model::{ApiError, is_trace_id};
use crate::store::{StoreLimits, TraceStore};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Largest export body accepted (16 MiB).
pub const MAX_BODY_BYTES: usize = 16 << 20;

const PROTOBUF: &str = "application/x-protobuf";

/// The collector's routes over `store`.
pub fn router(store: Arc<TraceStore>) -> Router {
    Router::new()
        .route("/v1/traces", post(export))
        .route("/api/traces", get(list))
        .route("/api/traces/{id}", get(one))
        .route("/api/stats", get(stats))
        .route("/health", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(store)
}

/// Serves the collector on `listener` until `shutdown` completes, then
/// stops accepting and lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    store: Arc<TraceStore>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(store))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A collector running as a task of the current runtime: its address, its
/// store (readable directly) and a way to stop it.
#[derive(Debug)]
pub struct Collector {
    addr: SocketAddr,
    store: Arc<TraceStore>,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl Collector {
    /// Binds `listen` (port 0 picks a free port) and starts serving a new
    /// store with `limits`.
    pub async fn start(listen: SocketAddr, limits: StoreLimits) -> std::io::Result<Collector> {
        let listener = TcpListener::bind(listen).await?;
        Collector::spawn(listener, Arc::new(TraceStore::new(limits)))
    }

    /// Starts serving `store` on an already bound `listener`.
    pub fn spawn(listener: TcpListener, store: Arc<TraceStore>) -> std::io::Result<Collector> {
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(
            listener,
            store.clone(),
            shutdown.clone().cancelled_owned(),
        ));
        Ok(Collector {
            addr,
            store,
            shutdown,
            task,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OTLP endpoint to export to (`OTEL_EXPORTER_OTLP_ENDPOINT`), also
    /// the base URL of the JSON API: `http://ADDR`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The store, to read spans without HTTP.
    pub fn store(&self) -> &Arc<TraceStore> {
        &self.store
    }

    /// Stops serving and waits for the server task.
    pub async fn stop(self) -> std::io::Result<()> {
        self.shutdown.cancel();
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(format!("collector task failed: {e}"))),
        }
    }
}

fn text(status: StatusCode, message: String) -> Response {
    tracing::debug!(%status, message, "export refused");
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

fn json_error(status: StatusCode, error: String) -> Response {
    (status, axum::Json(ApiError { error })).into_response()
}

async fn export(
    State(store): State<Arc<TraceStore>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let header_text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if let Some(kind) = header_text(header::CONTENT_TYPE)
        && !kind.starts_with(PROTOBUF)
    {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "content-type {kind:?} is not supported: send OTLP/HTTP protobuf ({PROTOBUF}); OTLP/JSON is not accepted"
            ),
        );
    }
    if let Some(encoding) = header_text(header::CONTENT_ENCODING)
        && encoding != "identity"
    {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content-encoding {encoding:?} is not supported: export without compression"),
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "export body larger than {} MiB; lower the exporter's batch size",
                    MAX_BODY_BYTES >> 20
                ),
            );
        }
        Err(e) => return text(e.status(), format!("cannot read the export body: {e}")),
    };
    let decoded = match decode::decode_request(&body) {
        Ok(decoded) => decoded,
        Err(e) => return text(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let rejected = decoded.rejected;
    let received = decoded.spans.len();
    let stored = store.insert(decoded.spans);
    tracing::debug!(received, stored, rejected, "export");
    let response = ExportTraceServiceResponse {
        partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(rejected).unwrap_or(i64::MAX),
            error_message: format!(
                "{rejected} spans with an invalid trace id or span id were rejected"
            ),
        }),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, PROTOBUF)],
        response.encode_to_vec(),
    )
        .into_response()
}

async fn list(State(store): State<Arc<TraceStore>>) -> Response {
    axum::Json(store.summaries()).into_response()
}

async fn one(State(store): State<Arc<TraceStore>>, Path(id): Path<String>) -> Response {
    let trace = if id == "last" {
        match store.last() {
            Some(trace) => trace,
            None => {
                return json_error(
                    StatusCode::NOT_FOUND,
                    "the collector holds no traces yet".into(),
                );
            }
        }
    } else if is_trace_id(&id) {
        match store.trace(&id) {
            Some(trace) => trace,
            None => return json_error(StatusCode::NOT_FOUND, format!("no trace {id}")),
        }
    } else {
        return json_error(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a trace id: expected 32 hex digits or `last`"),
        );
    };
    axum::Json(trace).into_response()
}

async fn stats(State(store): State<Arc<TraceStore>>) -> Response {
    axum::Json(store.stats()).into_response()
}
