//! `ss`: the host's TCP sockets with state, queues and congestion state,
//! like `ss -tni`.

use super::parse_args;
use crate::Host;
use clap::Parser;
use vnet_runtime::api::Table;
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};

#[derive(Parser, Debug)]
#[command(name = "ss", about = "Show TCP sockets (like ss -tani)")]
struct Args {
    /// Accepted for familiarity (all sockets are always shown).
    #[arg(short = 't', long)]
    tcp: bool,
    /// Accepted for familiarity.
    #[arg(short = 'a')]
    all: bool,
    /// Accepted for familiarity (addresses are always numeric).
    #[arg(short = 'n')]
    numeric: bool,
}

pub(crate) async fn run(
    handle: DeviceHandle<Host>,
    argv: Vec<String>,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    if let Err(code) = parse_args::<Args>(&argv, out).await {
        return Ok(code);
    }
    let table = handle.with(|host, _, _| socket_table(&host.stack));
    for line in table.render().lines() {
        out.line(line).await?;
    }
    Ok(0)
}

/// The TCP socket table shared by `ss` and `vnet show HOST sockets`.
pub(crate) fn socket_table(stack: &vnet_stack::NetStack) -> Table {
    let mut t = Table::new(&[
        "STATE", "RECV-Q", "SEND-Q", "LOCAL", "PEER", "CWND", "SSTHRESH", "SRTT", "RTO", "RETRANS",
    ]);
    for s in stack.tcp_sockets() {
        let listening = s.state == vnet_stack::TcpState::Listen;
        t.row(vec![
            s.state.to_string(),
            s.recv_queue.to_string(),
            s.send_queue.to_string(),
            s.local.to_string(),
            if listening {
                "*:*".into()
            } else {
                s.remote.to_string()
            },
            if listening {
                "-".into()
            } else {
                s.cwnd.to_string()
            },
            if s.ssthresh == usize::MAX || listening {
                "-".into()
            } else {
                s.ssthresh.to_string()
            },
            s.srtt
                .map(|d| format!("{:.1}ms", d.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| "-".into()),
            if listening {
                "-".into()
            } else {
                format!("{}ms", s.rto.as_millis())
            },
            s.retransmissions.to_string(),
        ]);
    }
    t
}
