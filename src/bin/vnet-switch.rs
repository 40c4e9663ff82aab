//! `vnet-switch`: thin binary; the device lives in the `vnet-switch` crate.
fn main() -> std::process::ExitCode {
    vnet_switch::main()
}
