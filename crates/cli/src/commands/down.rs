//! `vnet down`: stop every device of the running lab, then its trace
//! collector. Devices are found by their config files in the run
//! directory, not only by the recorded pids, so one restarted by hand is
//! stopped too; devices that had already died are listed.

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
    let devices = state.devices.clone();
    let collector = state.collector.clone();
    let (killed, dead) = tokio::task::spawn_blocking(move || {
        // Every process of every device, found by its config file.
        let targets: Vec<(String, u32, std::path::PathBuf)> = devices
            .iter()
            .flat_map(|d| {
                procs::find_device(d.pid, &d.config)
                    .into_iter()
                    .map(move |pid| (d.name.clone(), pid, d.config.clone()))
            })
            .collect();
        let dead: Vec<String> = devices
            .iter()
            .filter(|d| !d.stopped && !targets.iter().any(|(n, _, _)| *n == d.name))
            .map(|d| d.name.clone())
            .collect();
        // Signal everyone first so they stop in parallel, then wait.
        for (_, pid, _) in &targets {
            let pid = nix::unistd::Pid::from_raw(*pid as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT);
        }
        let mut killed = Vec::new();
        for (name, pid, config) in &targets {
            if procs::stop(*pid, config, Duration::from_secs(5)) {
                killed.push(name.clone());
            }
        }
        // After the devices, so the spans they flush while stopping arrive.
        if let Some(c) = &collector
            && super::up::stop_collector(c)
        {
            killed.push("collector".to_string());
        }
        (killed, dead)
    })
    .await?;
    std::fs::remove_file(LabState::path(run_dir))?;
    if !dead.is_empty() {
        eprintln!(
            "note: already dead before `vnet down`: {} (their logs are in {})",
            dead.join(", "),
            run_dir.join("logs").display()
        );
    }
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
