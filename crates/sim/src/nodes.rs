//! The devices of a simulation behind one object-safe interface, whatever
//! their type: build, drive (exec, link changes) and read (tables).

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use vnet_cable::{CableEnd, Direction, Impairments};
use vnet_runtime::api::Table;
use vnet_runtime::{
    Device, DeviceConfig, DeviceHandle, DeviceKind, DeviceSpec, ExecFn, ExecFuture, ExecOutput,
};

/// One running simulated device.
pub(crate) trait Node {
    /// Its name.
    fn name(&self) -> &str;
    /// Whether it is ready for traffic (a DHCP host holds a lease).
    fn ready(&self) -> bool;
    /// Its interface named `iface`, as a port number.
    fn port_of(&self, iface: &str) -> Option<usize>;
    /// One of its tables.
    fn table(&self, name: &str) -> Option<Table>;
    /// An application run as `vnet exec` would (None: runs none).
    fn exec(&self, args: Vec<String>, out: ExecOutput) -> Option<ExecFuture>;
    /// A handle for scripted changes, usable from another task.
    fn control(&self) -> Box<dyn Control>;
}

/// Scripted changes to a device.
pub(crate) trait Control: Send {
    /// Both directions of `port`'s link up or down.
    fn set_link(&self, port: usize, up: bool);
    /// New impairments on what `port` sends.
    fn impair(&self, port: usize, imp: Impairments);
}

struct Running<D: Device> {
    handle: DeviceHandle<D>,
    exec: Option<ExecFn<D>>,
}

impl<D: Device> Node for Running<D> {
    fn name(&self) -> &str {
        &self.handle.config().name
    }

    fn ready(&self) -> bool {
        self.handle.ready()
    }

    fn port_of(&self, iface: &str) -> Option<usize> {
        self.handle.config().port_of(iface)
    }

    fn table(&self, name: &str) -> Option<Table> {
        self.handle.table(name)
    }

    fn exec(&self, args: Vec<String>, out: ExecOutput) -> Option<ExecFuture> {
        self.exec.map(|exec| exec(self.handle.clone(), args, out))
    }

    fn control(&self) -> Box<dyn Control> {
        Box::new(self.handle.clone())
    }
}

impl<D: Device> Control for DeviceHandle<D> {
    fn set_link(&self, port: usize, up: bool) {
        DeviceHandle::set_link(self, port, &[(Direction::In, up), (Direction::Out, up)]);
    }

    fn impair(&self, port: usize, imp: Impairments) {
        if let Some(end) = self.port(port)
            && let Err(e) = end.set_impairments(imp)
        {
            tracing::warn!(port, error = %e, "scripted impairment refused");
        }
    }
}

fn start<D: Device>(
    config: DeviceConfig,
    spec: DeviceSpec<D>,
    ports: Vec<CableEnd>,
    shutdown: CancellationToken,
) -> anyhow::Result<Box<dyn Node>> {
    let name = config.name.clone();
    let handle = vnet_runtime::start_simulated(config, &spec, ports, shutdown)
        .with_context(|| format!("starting {name}"))?;
    Ok(Box::new(Running {
        handle,
        exec: spec.exec,
    }))
}

/// Builds and starts the device `config` describes, on `ports`. Call it
/// inside the device's [`vnet_telemetry::in_device`] scope.
pub(crate) fn start_node(
    config: DeviceConfig,
    ports: Vec<CableEnd>,
    shutdown: CancellationToken,
) -> anyhow::Result<Box<dyn Node>> {
    match config.kind {
        DeviceKind::Host => start(config, vnet_host::spec(), ports, shutdown),
        DeviceKind::Switch => start(config, vnet_switch::spec(), ports, shutdown),
        DeviceKind::Router => start(config, vnet_router::spec(), ports, shutdown),
        DeviceKind::Dns => start(config, vnet_dns::spec(), ports, shutdown),
        DeviceKind::Web => start(config, vnet_web::spec(), ports, shutdown),
    }
}
