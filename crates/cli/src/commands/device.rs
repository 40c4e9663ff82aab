//! `vnet device KIND --config FILE`: run one device inside this process.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use vnet_topology::DeviceKind;

/// Runs the device kind named `kind` from `config`.
pub fn run(kind: &str, config: &Path) -> ExitCode {
    let Some(kind) = DeviceKind::from_name(kind) else {
        eprintln!("error: unknown device kind {kind:?} (host, switch, router, dns, web)");
        return ExitCode::from(2);
    };
    let args: Vec<OsString> = vec![kind.binary_name().into(), "--config".into(), config.into()];
    match kind {
        DeviceKind::Host => vnet_runtime::device_main_with_args(vnet_host::spec(), args),
        DeviceKind::Switch => vnet_runtime::device_main_with_args(vnet_switch::spec(), args),
        DeviceKind::Router => vnet_runtime::device_main_with_args(vnet_router::spec(), args),
        DeviceKind::Dns => vnet_runtime::device_main_with_args(vnet_dns::spec(), args),
        DeviceKind::Web => vnet_runtime::device_main_with_args(vnet_web::spec(), args),
    }
}
