//! `vnet-collector`: thin binary; the trace collector lives in the `vnet-collector` crate.
fn main() -> std::process::ExitCode {
    vnet_collector::main()
}
