//! `vnet-host`: thin binary; all logic lives in the `vnet-host` crate.
fn main() -> std::process::ExitCode {
    vnet_runtime::device_main(vnet_host::KIND)
}
