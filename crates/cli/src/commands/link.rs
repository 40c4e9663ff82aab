//! `vnet link down|up DEVICE:IFACE`: administrative link state of a cable end.

use crate::client;
use crate::state::{LabState, split_port};
use std::path::Path;
use std::process::ExitCode;
use vnet_cable::Direction;
use vnet_runtime::api::InterfaceStatus;

/// Sets the link state of one cable end.
pub async fn run(
    run_dir: &Path,
    port: &str,
    up: bool,
    direction: Direction,
) -> anyhow::Result<ExitCode> {
    let (device, iface) = split_port(port)?;
    let state = LabState::require(run_dir)?;
    let d = state.device(device)?;
    let verb = if up { "up" } else { "down" };
    let status: InterfaceStatus = client::post_json(
        device,
        d.admin,
        &format!("/links/{iface}/{verb}?direction={direction}"),
    )
    .await?;
    let word = |b: bool| if b { "up" } else { "down" };
    println!(
        "{device}:{iface}: in {} / out {}",
        word(status.link.rx_up),
        word(status.link.tx_up)
    );
    Ok(ExitCode::SUCCESS)
}
