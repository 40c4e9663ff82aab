//! `vnet-switch`: thin binary; all logic lives in the `vnet-switch` crate.
fn main() -> std::process::ExitCode {
    vnet_runtime::device_main(vnet_switch::KIND)
}
