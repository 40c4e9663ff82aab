//! `vnet-host`: thin binary; the device lives in the `vnet-host` crate.
fn main() -> std::process::ExitCode {
    vnet_host::main()
}
