//! `vnet-web`: thin binary; the device lives in the `vnet-web` crate.
fn main() -> std::process::ExitCode {
    vnet_web::main()
}
