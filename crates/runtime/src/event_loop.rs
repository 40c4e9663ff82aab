//! Running a device: cable receive loops, the timer, the admin API.

use crate::admin;
use crate::capture;
use crate::clock::Clock;
use crate::device::Device;
use crate::handle::{DeviceHandle, Shared};
use crate::spec::DeviceSpec;
use anyhow::{Context, bail};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use vnet_cable::batch::RecvBatch;
use vnet_cable::end::RECV_BUFFER_LEN;
use vnet_cable::{CableEnd, Received, RefreshPolicy};
use vnet_topology::device::{DeviceConfig, DeviceKind};
use vnet_topology::lab::impair::LinkImpairments;
use vnet_topology::peer::CablePeer;

/// How long shutdown waits for open admin connections (exec, capture) to end.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Runs a device until `shutdown` is cancelled.
pub async fn run<D: Device>(
    config: DeviceConfig,
    spec: &DeviceSpec<D>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let device = build(&config, spec, "this binary runs")?;
    let mut ports = Vec::with_capacity(config.interfaces.len());
    for iface in &config.interfaces {
        let end = match (&iface.tap, &iface.peer) {
            (Some(tap), _) => CableEnd::open_tap(&iface.name, tap)?,
            (None, CablePeer::Addr(peer)) => {
                CableEnd::bind(&iface.name, iface.local, *peer).await?
            }
            (None, CablePeer::Name { host, port }) => {
                CableEnd::bind_named(
                    &iface.name,
                    iface.local,
                    host,
                    *port,
                    crate::resolver::from_env(),
                    RefreshPolicy::default(),
                )
                .await?
            }
        };
        configure_end(&end, iface, config.kind)?;
        ports.push(Arc::new(end));
    }
    let token = match &config.admin_token_file {
        Some(path) => Some(crate::admin_auth::read_token(path)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(config.admin)
        .await
        .with_context(|| format!("binding the admin API on {}", config.admin))?;
    let admin_addr = listener.local_addr()?;
    let capture_dir = config.capture_dir.clone();
    let shared = share(device, ports, config);
    let mut tasks = Vec::new();
    if let Some(dir) = capture_dir {
        tasks.extend(
            capture::start_capture_dir(&shared.config.name, &shared.ports, &dir, shutdown.clone())
                .await?,
        );
    }
    let handle = spawn_device_tasks(&shared, spec, &shutdown, &mut tasks);
    let server = vnet_telemetry::spawn(admin::serve(
        listener,
        handle,
        spec.exec,
        token,
        shutdown.clone(),
    ));
    tracing::info!(
        device = %shared.config.name,
        kind = %shared.config.kind,
        admin = %admin_addr,
        interfaces = shared.ports.len(),
        "device up"
    );

    shutdown.cancelled().await;
    tracing::info!(device = %shared.config.name, "shutting down");
    shared.with(None, |device, now, tx| device.on_shutdown(now, tx));
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
    for task in tasks {
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
    }
    Ok(())
}

/// The state every task of a device shares.
fn share<D: Device>(device: D, ports: Vec<Arc<CableEnd>>, config: DeviceConfig) -> Arc<Shared<D>> {
    Arc::new(Shared {
        device: Mutex::new(device),
        ports,
        clock: Clock::start(),
        config,
        timer: Notify::new(),
        armed: AtomicU64::new(u64::MAX),
        tracing: crate::traced::Tracing::new(),
    })
}

/// Starts a device's receive loops, its timer and its service; returns
/// the handle applications use.
fn spawn_device_tasks<D: Device>(
    shared: &Arc<Shared<D>>,
    spec: &DeviceSpec<D>,
    shutdown: &CancellationToken,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> DeviceHandle<D> {
    for port in 0..shared.ports.len() {
        tasks.push(vnet_telemetry::spawn(receive_loop(
            Arc::clone(shared),
            port,
            shutdown.clone(),
        )));
    }
    tasks.push(vnet_telemetry::spawn(timer_loop(
        Arc::clone(shared),
        shutdown.clone(),
    )));
    let handle = DeviceHandle {
        shared: Arc::clone(shared),
    };
    if let Some(start) = spec.start {
        let service = start(handle.clone());
        let stop = shutdown.clone();
        tasks.push(vnet_telemetry::spawn(async move {
            tokio::select! {
                biased;
                _ = stop.cancelled() => {}
                code = service => {
                    if code != 0 {
                        tracing::error!(code, "device service stopped");
                    }
                }
            }
        }));
    }
    handle
}

/// Starts a device of a simulation on the given cable ends (in memory):
/// no admin API, no captures; the caller drives it through the returned
/// handle and stops it with `shutdown`. Must run inside the simulation's
/// runtime, within [`vnet_telemetry::in_device`] for the device.
pub fn start_simulated<D: Device>(
    config: DeviceConfig,
    spec: &DeviceSpec<D>,
    ports: Vec<CableEnd>,
    shutdown: CancellationToken,
) -> anyhow::Result<DeviceHandle<D>> {
    let device = build(&config, spec, "the simulation built")?;
    for (end, iface) in ports.iter().zip(&config.interfaces) {
        configure_end(end, iface, config.kind)?;
    }
    let shared = share(device, ports.into_iter().map(Arc::new).collect(), config);
    let mut tasks = Vec::new();
    Ok(spawn_device_tasks(&shared, spec, &shutdown, &mut tasks))
}

/// Builds the device `config` describes, after checking it is of the
/// kind `spec` runs (`runner` says who runs it, for the error).
fn build<D: Device>(
    config: &DeviceConfig,
    spec: &DeviceSpec<D>,
    runner: &str,
) -> anyhow::Result<D> {
    if config.kind != spec.kind {
        bail!(
            "config {} is for a {}, but {runner} a {}",
            config.name,
            config.kind,
            spec.kind
        );
    }
    (spec.build)(config).with_context(|| format!("building {} {}", config.kind, config.name))
}

/// Sets up one cable end of a device of `kind` as its interface says: a
/// device's own traffic waits for a refusing kernel (as in Linux's qdisc),
/// forwarded traffic is dropped like a real router's; the topology's
/// impairments apply to what the end sends.
fn configure_end(
    end: &CableEnd,
    iface: &vnet_topology::device::InterfaceConfig,
    kind: DeviceKind,
) -> anyhow::Result<()> {
    end.hold_when_full(originates_traffic(kind));
    if let Some(i) = &iface.impairments {
        end.set_impairments(cable_impairments(i))
            .map_err(|e| anyhow::anyhow!("{}: impairments: {e}", iface.name))?;
    }
    Ok(())
}

/// Whether a device of `kind` sends only traffic of its own (hosts and
/// servers), which its cable ends hold instead of dropping
/// ([`vnet_cable::hold`]).
fn originates_traffic(kind: DeviceKind) -> bool {
    matches!(kind, DeviceKind::Host | DeviceKind::Dns | DeviceKind::Web)
}

/// The topology's impairments of an interface as the cable's settings.
fn cable_impairments(i: &LinkImpairments) -> vnet_cable::Impairments {
    vnet_cable::Impairments {
        loss_percent: i.loss_percent,
        delay_ms: i.delay_ms,
        jitter_ms: i.jitter_ms,
        duplicate_percent: i.duplicate_percent,
        reorder_percent: i.reorder_percent,
        corrupt_percent: i.corrupt_percent,
        rate_kbit: i.rate_kbit,
        queue_limit: i.queue_limit,
        seed: i.seed,
    }
}

async fn receive_loop<D: Device>(shared: Arc<Shared<D>>, port: usize, shutdown: CancellationToken) {
    let end = Arc::clone(&shared.ports[port]);
    if end.batches() && batching_enabled() {
        return receive_batches(shared, port, shutdown).await;
    }
    let mut buf = vec![0u8; RECV_BUFFER_LEN];
    loop {
        let received = tokio::select! {
            biased;
            r = end.recv(&mut buf) => r,
            _ = shutdown.cancelled() => return,
        };
        match received {
            Ok(rx) => handle_frame(&shared, port, rx),
            Err(e) => {
                tracing::warn!(interface = end.name(), error = %e, "cable receive failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Batched cable I/O is on unless `VNET_BATCH=off` (for comparisons:
/// `vnet bench forward` measures both).
fn batching_enabled() -> bool {
    !matches!(
        std::env::var("VNET_BATCH").as_deref(),
        Ok("off" | "0" | "false")
    )
}

/// The receive loop of a UDP cable end: up to `BATCH` datagrams per
/// `recvmmsg`, all handled before the frames they produced leave, one
/// `sendmmsg` per cable end (docs/design.md "Batching").
async fn receive_batches<D: Device>(
    shared: Arc<Shared<D>>,
    port: usize,
    shutdown: CancellationToken,
) {
    let end = Arc::clone(&shared.ports[port]);
    let mut batch = RecvBatch::default();
    loop {
        let received = tokio::select! {
            biased;
            r = end.recv_batch(&mut batch) => r,
            _ = shutdown.cancelled() => return,
        };
        if let Err(e) = received {
            tracing::warn!(interface = end.name(), error = %e, "cable receive failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        vnet_cable::batch::corked(&shared.ports, || {
            for i in 0..batch.len() {
                if let Some(rx) = end.batch_frame(&mut batch, i) {
                    handle_frame(&shared, port, rx);
                }
            }
        });
    }
}

/// Hands one received frame to the device, inside a frame span when it
/// is traced.
fn handle_frame<D: Device>(shared: &Shared<D>, port: usize, rx: Received<'_>) {
    let end = &shared.ports[port];
    let span = rx.trace.as_ref().and_then(|parent| {
        shared.tracing.start_frame(
            &shared.clock,
            &shared.config.name,
            end.name(),
            parent,
            rx.frame,
        )
    });
    match span {
        Some(span) => {
            let ((), events) = shared.run(Some(span.context()), |device, now, tx| {
                device.on_frame(now, port, rx.frame, tx)
            });
            shared.tracing.finish_frame(&shared.clock, span, events);
        }
        // Untraced, over budget or not exporting: frames sent in response
        // still carry the sender's context.
        None => shared.with(rx.trace, |device, now, tx| {
            device.on_frame(now, port, rx.frame, tx)
        }),
    }
}

async fn timer_loop<D: Device>(shared: Arc<Shared<D>>, shutdown: CancellationToken) {
    loop {
        let deadline = shared.lock().poll_at();
        shared.armed.store(
            deadline.map(|d| d.total_micros()).unwrap_or(u64::MAX),
            Ordering::Release,
        );
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(shared.clock.to_tokio(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = sleep => shared.with(None, |device, now, tx| device.poll(now, tx)),
            _ = shared.timer.notified() => {}
            _ = shutdown.cancelled() => return,
        }
    }
}
