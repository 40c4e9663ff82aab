//! Pinning a device's process to the CPUs its configuration names
//! (`cpus = "0"`), before it starts any thread, so every thread it makes
//! inherits the set.

use nix::sched::{CpuSet, sched_setaffinity};
use nix::unistd::Pid;
use vnet_topology::cpus::CpuList;

/// Where Linux lists the CPUs that are online (`0-1`).
const ONLINE_CPUS: &str = "/sys/devices/system/cpu/online";

/// Why a process could not be pinned.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// A CPU this machine does not have online.
    #[error("cpus = \"{cpus}\": not online: {missing} (this machine's online CPUs: {online})")]
    NotOnline {
        /// The list asked for.
        cpus: CpuList,
        /// The CPUs of it that are not online.
        missing: CpuList,
        /// What is online.
        online: CpuList,
    },
    /// The kernel refused the set (a container's cpuset, for instance).
    #[error("cpus = \"{cpus}\": the kernel refused to pin the process: {errno}")]
    Refused {
        /// The list asked for.
        cpus: CpuList,
        /// What `sched_setaffinity` said.
        errno: nix::Error,
    },
}

/// The machine's online CPUs, or None where `/sys` does not say.
pub fn online_cpus() -> Option<CpuList> {
    std::fs::read_to_string(ONLINE_CPUS).ok()?.parse().ok()
}

/// Checks `cpus` against the online CPUs (when known), without pinning.
pub fn check(cpus: &CpuList) -> Result<(), PinError> {
    let Some(online) = online_cpus() else {
        return Ok(());
    };
    match cpus.missing_from(&online) {
        Some(missing) => Err(PinError::NotOnline {
            cpus: cpus.clone(),
            missing,
            online,
        }),
        None => Ok(()),
    }
}

/// Pins the calling thread — the process's only thread when called first
/// thing in `main` — and so every thread it starts later, to `cpus`.
pub fn pin_process(cpus: &CpuList) -> Result<(), PinError> {
    check(cpus)?;
    let refused = |errno| PinError::Refused {
        cpus: cpus.clone(),
        errno,
    };
    let mut set = CpuSet::new();
    for &cpu in cpus.cpus() {
        set.set(cpu).map_err(refused)?;
    }
    sched_setaffinity(Pid::from_raw(0), &set).map_err(refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sched::sched_getaffinity;

    #[test]
    fn a_cpu_that_is_not_online_is_named() {
        let Some(online) = online_cpus() else {
            panic!("{ONLINE_CPUS} is missing on this Linux machine");
        };
        let beyond = online.cpus().last().copied().unwrap_or(0) + 1;
        let cpus: CpuList = format!("0,{beyond}").parse().expect("list");
        let err = check(&cpus).expect_err("not online");
        assert!(
            err.to_string().contains(&format!(
                "not online: {beyond} (this machine's online CPUs: {online})"
            )),
            "{err}"
        );
    }

    #[test]
    fn a_thread_pinned_to_cpu_0_runs_only_there_and_its_children_inherit() {
        let outcome = std::thread::spawn(|| {
            pin_process(&"0".parse().expect("list")).expect("pin");
            let child = std::thread::spawn(|| sched_getaffinity(Pid::from_raw(0)).expect("get"));
            let mine = sched_getaffinity(Pid::from_raw(0)).expect("get");
            let theirs = child.join().expect("child");
            [mine, theirs].map(|set| {
                (0..CpuSet::count())
                    .filter(|&c| set.is_set(c).unwrap_or(false))
                    .collect::<Vec<_>>()
            })
        })
        .join()
        .expect("thread");
        assert_eq!(outcome, [vec![0], vec![0]]);
    }
}
