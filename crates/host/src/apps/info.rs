//! `arp` and `ip`: the host's ARP cache, addresses and routes.

use super::parse_args;
use crate::Host;
use clap::{Parser, Subcommand};
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_stack::ArpState;
use vnet_stack::route::RouteKind;

#[derive(Parser, Debug)]
#[command(name = "arp", about = "Show the ARP cache (like arp -n)")]
struct ArpArgs {
    /// Numeric output (always on; accepted for familiarity).
    #[arg(short = 'n')]
    numeric: bool,
}

pub(crate) async fn arp(
    handle: DeviceHandle<Host>,
    argv: Vec<String>,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    if let Err(code) = parse_args::<ArpArgs>(&argv, out).await {
        return Ok(code);
    }
    let lines = handle.with(|host, now, _| {
        let names: Vec<String> = host
            .stack
            .interfaces()
            .iter()
            .map(|i| i.name.clone())
            .collect();
        let mut lines = vec![format!(
            "{:<24} {:<7} {:<19} {:<5} {:<15} Iface",
            "Address", "HWtype", "HWaddress", "Flags", "Mask"
        )];
        for e in host.stack.arp_entries(now) {
            let iface = names.get(e.port).cloned().unwrap_or_default();
            let (hw, flags) = match (e.mac, e.state) {
                (Some(mac), ArpState::Static) => (mac.to_string(), "CM"),
                (Some(mac), _) => (mac.to_string(), "C"),
                (None, _) => ("(incomplete)".to_string(), ""),
            };
            let hwtype = if e.mac.is_some() { "ether" } else { "" };
            lines.push(format!(
                "{:<24} {:<7} {:<19} {:<5} {:<15} {iface}",
                e.ip, hwtype, hw, flags, ""
            ));
        }
        lines
    });
    for l in lines {
        out.line(l).await?;
    }
    Ok(0)
}

#[derive(Parser, Debug)]
#[command(name = "ip", about = "Show addresses and routes (like iproute2)")]
struct IpArgs {
    #[command(subcommand)]
    object: Option<IpObject>,
}

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
enum IpObject {
    /// Interface addresses.
    #[command(alias = "a", alias = "address")]
    Addr,
    /// The routing table and learned path MTUs; `ip route get ADDR`: the
    /// route one destination takes.
    #[command(alias = "r")]
    Route {
        /// `get ADDR`, or nothing for the whole table.
        #[arg(num_args = 0..=2)]
        args: Vec<String>,
    },
    /// Links.
    #[command(alias = "l")]
    Link,
}

pub(crate) async fn ip(
    handle: DeviceHandle<Host>,
    argv: Vec<String>,
    out: &ExecOutput,
) -> Result<i32, Disconnected> {
    let args: IpArgs = match parse_args(&argv, out).await {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    let get = match &args.object {
        Some(IpObject::Route { args }) => match args.as_slice() {
            [] => None,
            [verb, addr] if verb == "get" => match addr.parse::<std::net::Ipv4Addr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    out.error(format!(
                        "Error: any valid prefix is expected rather than \"{addr}\"."
                    ))
                    .await?;
                    return Ok(1);
                }
            },
            _ => {
                out.error("usage: ip route [get ADDRESS]").await?;
                return Ok(1);
            }
        },
        _ => None,
    };
    let lines = handle.with(|host, now, _| {
        let ifaces = host.stack.interfaces().to_vec();
        let mut lines = Vec::new();
        let object = args.object.clone().unwrap_or(IpObject::Addr);
        if let Some(dst) = get {
            return route_get(host, now, dst);
        }
        match object {
            IpObject::Addr | IpObject::Link => {
                let with_addr = object == IpObject::Addr;
                for (i, iface) in ifaces.iter().enumerate() {
                    lines.push(format!(
                        "{}: {}: <BROADCAST,UP,LOWER_UP> mtu {}",
                        i + 1,
                        iface.name,
                        iface.mtu
                    ));
                    lines.push(format!(
                        "    link/ether {} brd ff:ff:ff:ff:ff:ff",
                        iface.mac
                    ));
                    if let (true, Some(a)) = (with_addr, iface.address) {
                        lines.push(format!(
                            "    inet {a} brd {} scope global {}",
                            a.broadcast(),
                            iface.name
                        ));
                    }
                }
            }
            IpObject::Route { .. } => {
                for r in host.stack.routes() {
                    let dev = ifaces.get(r.port).map(|i| i.name.as_str()).unwrap_or("?");
                    let dest = if r.destination.prefix_len() == 0 {
                        "default".to_string()
                    } else {
                        r.destination.to_string()
                    };
                    lines.push(match (r.kind, r.via) {
                        (RouteKind::Connected, _) => {
                            let src = ifaces
                                .get(r.port)
                                .and_then(|i| i.address)
                                .map(|a| a.address());
                            match src {
                                Some(src) => {
                                    format!("{dest} dev {dev} proto kernel scope link src {src}")
                                }
                                None => format!("{dest} dev {dev} proto kernel scope link"),
                            }
                        }
                        (_, Some(via)) => format!("{dest} via {via} dev {dev}"),
                        (_, None) => format!("{dest} dev {dev}"),
                    });
                }
                for p in host.stack.path_mtus(now) {
                    lines.push(format!(
                        "{} cache expires {}sec mtu {} (path MTU learned from ICMP)",
                        p.dst,
                        p.expires_in.as_secs(),
                        p.mtu
                    ));
                }
            }
        }
        lines
    });
    for l in lines {
        out.line(l).await?;
    }
    Ok(0)
}

/// `ip route get DST`, as iproute2 prints it, with the cached path MTU.
fn route_get(host: &Host, now: vnet_stack::time::Instant, dst: std::net::Ipv4Addr) -> Vec<String> {
    let ifaces = host.stack.interfaces();
    let Some(r) = host
        .stack
        .routes()
        .iter()
        .find(|r| r.destination.contains(dst))
    else {
        return vec!["RTNETLINK answers: Network is unreachable".into()];
    };
    let dev = ifaces.get(r.port).map(|i| i.name.as_str()).unwrap_or("?");
    let src = ifaces
        .get(r.port)
        .and_then(|i| i.address)
        .map(|a| format!(" src {}", a.address()))
        .unwrap_or_default();
    let via = r.via.map(|v| format!(" via {v}")).unwrap_or_default();
    let mut lines = vec![format!("{dst}{via} dev {dev}{src}")];
    if let Some(p) = host.stack.path_mtus(now).into_iter().find(|p| p.dst == dst) {
        lines.push(format!(
            "    cache expires {}sec mtu {}",
            p.expires_in.as_secs(),
            p.mtu
        ));
    }
    lines
}
