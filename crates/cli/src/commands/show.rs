//! `vnet show DEVICE [TABLE]`: print one of a device's tables.

use crate::client;
use crate::state::StateSource;
use std::process::ExitCode;
use vnet_runtime::api::Table;

/// Prints `table` of `device`, or the list of its tables.
pub async fn run(
    source: &StateSource,
    device: &str,
    table: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let state = source.require()?;
    let d = state.device(device)?;
    let Some(table) = table else {
        let names: Vec<String> = client::get_json(d, "/tables").await?;
        println!("{device} tables: {}", names.join(", "));
        return Ok(ExitCode::SUCCESS);
    };
    let t: Table = client::get_json(d, &format!("/tables/{table}")).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&t)?);
    } else {
        print!("{}", t.render());
    }
    Ok(ExitCode::SUCCESS)
}
