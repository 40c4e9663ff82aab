//! `vnet`: the command line that starts, inspects and drives virtual labs.
fn main() -> std::process::ExitCode {
    vnet_cli::main()
}
