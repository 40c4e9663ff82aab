//! Telemetry of a simulated lab (`vnet sim`): every device runs in one
//! process, so spans are kept in memory, attributed to the device whose
//! task ended them ([`in_device`], [`spawn`]), stamped with the
//! simulation's virtual clock and given ids from a seeded generator, so
//! the same seed yields the same trace.

use crate::TRACE_TARGET;
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{IdGenerator, SdkTracerProvider, SpanData, SpanProcessor};
use std::cell::RefCell;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tracing::span;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// What every task of one simulated device carries: its name and the
/// world it belongs to (several simulations may share a process, e.g. in
/// tests).
#[derive(Clone)]
pub struct SimScope {
    /// The device (`service.name` of a real lab).
    pub device: Arc<str>,
    /// The simulation.
    pub world: Arc<SimWorld>,
}

/// The per-simulation state telemetry and entropy read: the spans kept,
/// the seeded generators and the virtual clock.
pub struct SimWorld {
    /// Spans ended by the world's devices.
    pub spans: SimSpans,
    /// Trace and span ids.
    ids: Mutex<fastrand::Rng>,
    /// Randomness of device code (`vnet_runtime::entropy`).
    entropy: Mutex<fastrand::Rng>,
    /// The virtual clock as wall-clock time.
    now: VirtualNow,
}

impl std::fmt::Debug for SimWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimWorld").finish_non_exhaustive()
    }
}

impl SimWorld {
    /// A world whose randomness comes from `seed` and whose clock is `now`.
    pub fn new(seed: u64, now: VirtualNow) -> Arc<SimWorld> {
        Arc::new(SimWorld {
            spans: SimSpans::default(),
            ids: Mutex::new(fastrand::Rng::with_seed(seed)),
            entropy: Mutex::new(fastrand::Rng::with_seed(seed ^ 0x0005_eed0_fe17_7090)),
            now,
        })
    }

    /// The virtual time now, as wall-clock time.
    pub fn now(&self) -> SystemTime {
        (self.now)()
    }

    /// Fills `buf` from the world's seeded generator.
    pub fn fill(&self, buf: &mut [u8]) {
        self.entropy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fill(buf);
    }
}

tokio::task_local! {
    static SCOPE: SimScope;
}

/// Runs `fut` as work of a simulated device: spans it ends are that
/// device's, and tasks it starts with [`spawn`] inherit the scope.
pub fn in_device<F: Future>(scope: SimScope, fut: F) -> impl Future<Output = F::Output> {
    SCOPE.scope(scope, fut)
}

/// The simulated device whose work runs now, if any.
pub fn current_scope() -> Option<SimScope> {
    SCOPE.try_with(Clone::clone).ok()
}

/// The name of the simulated device whose work runs now, if any.
pub fn current_device() -> Option<Arc<str>> {
    SCOPE.try_with(|s| Arc::clone(&s.device)).ok()
}

/// `tokio::spawn`, keeping the spawning task's simulation scope
/// ([`in_device`]) for the new task. Device code spawns through this so a
/// simulation can tell whose spans are whose; outside a simulation it is
/// `tokio::spawn`.
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match current_scope() {
        Some(scope) => tokio::spawn(SCOPE.scope(scope, fut)),
        None => tokio::spawn(fut),
    }
}

/// The clock of a simulation as wall-clock time.
pub type VirtualNow = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// One span a simulated device ended.
#[derive(Debug, Clone)]
pub struct SimSpan {
    /// The device (`service.name` of a real lab).
    pub device: String,
    /// The span as the SDK hands it to exporters.
    pub data: SpanData,
}

/// The spans of a simulation, in the order they ended (bounded).
#[derive(Debug, Default)]
pub struct SimSpans {
    spans: Mutex<Vec<SimSpan>>,
    /// Spans not kept because the bound was reached.
    pub dropped: std::sync::atomic::AtomicU64,
}

/// Spans a simulation keeps at most.
pub const MAX_SIM_SPANS: usize = 500_000;

impl SimSpans {
    /// Takes every span collected so far.
    pub fn take(&self) -> Vec<SimSpan> {
        std::mem::take(&mut *self.spans.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A copy of every span collected so far.
    pub fn snapshot(&self) -> Vec<SimSpan> {
        self.spans.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn push(&self, span: SimSpan) {
        let mut spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
        if spans.len() < MAX_SIM_SPANS {
            spans.push(span);
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

thread_local! {
    /// The virtual (start, end) of the `tracing` span closing now, set by
    /// [`VirtualTimes`] just before the OpenTelemetry layer exports it.
    static CLOSING: RefCell<Option<(String, SystemTime, SystemTime)>> = const { RefCell::new(None) };
}

/// Hands each ended span to the simulation of the device that ended it.
#[derive(Debug)]
struct Collect;

impl SpanProcessor for Collect {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, mut data: SpanData) {
        // Spans of `tracing` carry wall-clock stamps; use the virtual ones.
        if let Some((name, start, end)) = CLOSING.with(|c| c.borrow_mut().take())
            && name == data.name
        {
            data.start_time = start;
            data.end_time = end;
        }
        if let Some(scope) = current_scope() {
            scope.world.spans.push(SimSpan {
                device: scope.device.to_string(),
                data,
            });
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Trace and span ids from the current simulation's seeded generator
/// (random outside one).
#[derive(Debug)]
struct SeededIds;

impl SeededIds {
    fn draw<T>(f: impl FnOnce(&mut fastrand::Rng) -> T) -> T {
        match current_scope() {
            Some(scope) => f(&mut scope.world.ids.lock().unwrap_or_else(|p| p.into_inner())),
            None => f(&mut fastrand::Rng::new()),
        }
    }
}

impl IdGenerator for SeededIds {
    fn new_trace_id(&self) -> TraceId {
        TraceId::from(Self::draw(|rng| rng.u128(1..)))
    }

    fn new_span_id(&self) -> SpanId {
        SpanId::from(Self::draw(|rng| rng.u64(1..)))
    }
}

/// Virtual start of a `tracing` span.
struct VirtualStart(SystemTime);

/// Stamps `tracing` spans with the virtual clock: their start when they
/// are created, their end when they close (handed to [`Collect`]).
struct VirtualTimes;

/// The current simulation's virtual time (wall-clock time outside one).
fn virtual_now() -> SystemTime {
    current_scope().map_or_else(SystemTime::now, |s| s.world.now())
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for VirtualTimes {
    fn on_new_span(&self, _attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(VirtualStart(virtual_now()));
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let start = span.extensions().get::<VirtualStart>().map(|s| s.0);
        if let Some(start) = start {
            let closing = (span.name().to_string(), start, virtual_now());
            CLOSING.with(|c| *c.borrow_mut() = Some(closing));
        }
    }
}

/// Installs the process's telemetry for simulations: spans of every
/// simulated device are kept in its [`SimWorld`], with ids from the
/// world's seed and times from its clock; logs at `default_filter` (or
/// `VNET_LOG`) go to standard error. Idempotent; must come before any
/// other global subscriber is installed. Returns whether spans are
/// exported (false when another subscriber was installed first).
pub fn init_simulation(default_filter: &str) -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let provider = SdkTracerProvider::builder()
            .with_span_processor(Collect)
            .with_id_generator(SeededIds)
            .build();
        let tracer = provider.tracer("vnet");
        let is_trace = |meta: &tracing::Metadata<'_>| meta.target() == TRACE_TARGET;
        let fmt_layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(true)
            .with_filter(crate::device_log_filter(default_filter));
        let installed = tracing_subscriber::registry()
            .with(VirtualTimes.with_filter(filter_fn(is_trace)))
            .with(
                tracing_opentelemetry::layer()
                    .with_tracer(tracer.clone())
                    .with_filter(filter_fn(is_trace)),
            )
            .with(fmt_layer)
            .try_init()
            .is_ok();
        if installed {
            crate::export::install_simulated(tracer, provider);
        }
        installed
    })
}
