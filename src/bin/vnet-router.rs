//! `vnet-router`: thin binary; all logic lives in the `vnet-router` crate.
fn main() -> std::process::ExitCode {
    vnet_runtime::device_main(vnet_router::KIND)
}
