//! `vnet-router`: thin binary; the device lives in the `vnet-router` crate.
fn main() -> std::process::ExitCode {
    vnet_router::main()
}
