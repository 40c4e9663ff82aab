//! `vnet down`: stop every device of the running lab, then its trace collector.

use crate::procs;
use crate::state::LabState;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Stops the lab running from `run_dir`.
pub async fn run(run_dir: &Path) -> anyhow::Result<ExitCode> {
    let Some(state) = LabState::read(run_dir)? else {
        println!("no lab is running from {}", run_dir.display());
        return Ok(ExitCode::SUCCESS);
    };
    // Signal everyone first so they stop in parallel, then wait.
    let devices = state.devices.clone();
    let collector = state.collector.clone();
    let killed = tokio::task::spawn_blocking(move || {
        let mut killed = Vec::new();
        for d in &devices {
            if procs::is_our_device(d.pid, &d.config) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(d.pid as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        for d in &devices {
            if procs::stop(d.pid, &d.config, Duration::from_secs(5)) {
                killed.push(d.name.clone());
            }
        }
        // After the devices, so the spans they flush while stopping arrive.
        if let Some(c) = &collector
            && super::up::stop_collector(c)
        {
            killed.push("collector".to_string());
        }
        killed
    })
    .await?;
    std::fs::remove_file(LabState::path(run_dir))?;
    if !killed.is_empty() {
        eprintln!("warning: had to SIGKILL: {}", killed.join(", "));
    }
    println!(
        "lab {} stopped ({} devices{}); logs kept in {}",
        state.lab,
        state.devices.len(),
        if state.collector.is_some() {
            " and the trace collector"
        } else {
            ""
        },
        run_dir.join("logs").display()
    );
    Ok(ExitCode::SUCCESS)
}
