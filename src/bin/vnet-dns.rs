//! `vnet-dns`: thin binary; the device lives in the `vnet-dns` crate.
fn main() -> std::process::ExitCode {
    vnet_dns::main()
}
