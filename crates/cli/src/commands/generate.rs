//! `vnet gen`: render a topology as a compose file, or generate topologies.

use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vnet_topology::Lab;
use vnet_topology::chain::chain_topology;
use vnet_topology::compose::{ComposeOptions, render_compose, render_offline_override};
use vnet_topology::grid::grid_topology;
use vnet_topology::k8s::{K8sOptions, render_k8s};
use vnet_topology::ring::{Routing, ring_topology};
use vnet_topology::swarm::{SwarmOptions, render_swarm, render_swarm_offline_override};

/// What every renderer of a lab takes: the lab, the image, where to write.
#[derive(Args, Debug, Clone)]
pub struct RenderArgs {
    /// Topology file (ignored with --chain).
    #[arg(default_value = "configs/lab.toml")]
    topology: PathBuf,
    /// Instead of a topology file: a chain of N routers between a client and a server.
    #[arg(long, value_name = "N")]
    chain: Option<usize>,
    /// Image holding the device binaries (for Swarm and Kubernetes: present
    /// on, or pullable by, every node).
    #[arg(long, default_value = "vnet:latest")]
    image: String,
    /// Write here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Serve HTTPS too: make a lab CA, write its certificate (PEM) to
    /// FILE (for `curl --cacert FILE`), and embed in the generated configs
    /// a certificate for every web device (the names the zones give it)
    /// and the CA as every host's trust anchor. The web devices' private
    /// keys are then in the generated file: keep it private.
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
}

/// What to generate.
#[derive(Subcommand, Debug)]
pub enum GenCommand {
    /// A Docker Compose file: one container per device, plus Jaeger for
    /// traces (the repository's docker-compose.yml is `vnet gen compose
    /// configs/lab.toml`, its docker-compose.offline.yml the same with
    /// --offline-override).
    Compose {
        #[command(flatten)]
        lab: RenderArgs,
        /// First three octets of the compose network's /24.
        #[arg(long, default_value = "172.29.0")]
        subnet: String,
        /// Instead of the compose file: its offline override, which runs
        /// vnet's own trace receiver (vnet-collector, from --image) in
        /// place of Jaeger, so nothing is pulled; its API is published on
        /// 127.0.0.1:4318 for `vnet --compose trace`. Use both files:
        /// `docker compose -f docker-compose.yml -f docker-compose.offline.yml up -d`.
        #[arg(long)]
        offline_override: bool,
    },
    /// A Docker Swarm stack file: one service per device on an overlay
    /// network, devices reaching each other by name, so the lab spans the
    /// swarm's nodes (deploy with `docker stack deploy -c FILE LAB`, drive
    /// with `vnet --swarm LAB …`).
    Swarm {
        #[command(flatten)]
        lab: RenderArgs,
        /// Spread the devices over these nodes (hostnames, comma-separated)
        /// in blocks of neighbours, so few cables cross between nodes.
        #[arg(long, value_delimiter = ',', value_name = "NODE,NODE,…")]
        spread: Vec<String>,
        /// Instead of the stack file: its offline override (vnet's own
        /// trace receiver in place of Jaeger); deploy both with
        /// `docker stack deploy -c FILE -c OVERRIDE LAB`.
        #[arg(long)]
        offline_override: bool,
    },
    /// Kubernetes manifests (`kubectl apply -f FILE`): a Namespace, per
    /// device a ConfigMap, a Deployment and a headless Service, the trace
    /// collector and NetworkPolicies; drive the lab with `vnet --k8s NS …`.
    K8s {
        #[command(flatten)]
        lab: RenderArgs,
        /// Namespace of the lab (default: the lab's name).
        #[arg(long)]
        namespace: Option<String>,
        /// Spread the devices over these nodes (`kubernetes.io/hostname`,
        /// comma-separated) in blocks of neighbours.
        #[arg(long, value_delimiter = ',', value_name = "NODE,NODE,…")]
        spread: Vec<String>,
        /// Run vnet's own trace receiver instead of Jaeger (nothing to pull;
        /// `vnet --k8s NS trace …` then reads it).
        #[arg(long)]
        offline_collector: bool,
    },
    /// A topology file: `vnet gen topology --chain 16 > chain16.toml`,
    /// `vnet gen topology --ring 6 --routing rip > ring6.toml`,
    /// `vnet gen topology --grid 3x3 --routing ospf > grid.toml`.
    #[command(group(clap::ArgGroup::new("shape").required(true).args(["chain", "ring", "grid"])))]
    #[command(group(clap::ArgGroup::new("routed").args(["ring", "grid"])))]
    Topology {
        /// A chain of N routers between a client and a server (static routes).
        #[arg(long, value_name = "N")]
        chain: Option<usize>,
        /// A ring of N routers, each with a host on its own LAN.
        #[arg(long, value_name = "N")]
        ring: Option<usize>,
        /// A grid of W×H routers (e.g. 3x3), each with a host on its own
        /// LAN and links to its east and south neighbours.
        #[arg(long, value_name = "WxH", value_parser = vnet_topology::grid::parse_shape)]
        grid: Option<(usize, usize)>,
        /// How the routers learn routes: rip or ospf (heal around a cut
        /// link) or, for a ring, static (the shorter way round; a cut
        /// stays cut).
        #[arg(
            long,
            value_name = "rip|ospf|static",
            default_value = "rip",
            requires = "routed"
        )]
        routing: Routing,
        /// Write here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn emit(text: &str, output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn subnet_prefix(text: &str) -> anyhow::Result<[u8; 3]> {
    let parts: Vec<u8> = text
        .split('.')
        .map(|p| p.parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            anyhow::anyhow!("--subnet {text:?}: expected three octets such as 172.29.0")
        })?;
    match parts[..] {
        [a, b, c] => Ok([a, b, c]),
        _ => anyhow::bail!("--subnet {text:?}: expected three octets such as 172.29.0"),
    }
}

/// The lab `args` names (a topology file, or a generated chain), with the
/// command line that names it; `Err(code)` after printing what is wrong.
fn load_lab(verb: &str, args: &RenderArgs) -> anyhow::Result<Result<(Lab, String), ExitCode>> {
    let topology = &args.topology;
    Ok(match args.chain {
        Some(n) => {
            let text = chain_topology(n)?;
            let lab = Lab::parse(Path::new(&format!("chain{n}.toml")), &text)?;
            Ok((lab, format!("vnet gen {verb} --chain {n}")))
        }
        None => match Lab::load(topology) {
            Ok(lab) => match crate::preflight::check_lab(topology, &lab).as_slice() {
                [] => Ok((lab, format!("vnet gen {verb} {}", topology.display()))),
                problems => {
                    problems.iter().for_each(|p| eprintln!("error: {p}"));
                    Err(ExitCode::from(2))
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                Err(ExitCode::from(2))
            }
        },
    })
}

/// Runs a generator.
pub fn run(what: GenCommand) -> anyhow::Result<ExitCode> {
    let (verb, args) = match &what {
        GenCommand::Topology {
            chain,
            ring,
            grid,
            routing,
            output,
        } => {
            let text = match (chain, ring, grid) {
                (Some(n), _, _) => chain_topology(*n)?,
                (None, Some(n), _) => ring_topology(*n, *routing)?,
                (None, None, Some((w, h))) => grid_topology(*w, *h, *routing)?,
                (None, None, None) => anyhow::bail!("give --chain N, --ring N or --grid WxH"),
            };
            emit(&text, output.as_deref())?;
            return Ok(ExitCode::SUCCESS);
        }
        GenCommand::Compose { lab, .. } => ("compose", lab.clone()),
        GenCommand::Swarm { lab, .. } => ("swarm", lab.clone()),
        GenCommand::K8s { lab, .. } => ("k8s", lab.clone()),
    };
    let (lab, mut generated_by) = match load_lab(verb, &args)? {
        Ok(found) => found,
        Err(code) => return Ok(code),
    };
    if let Some(file) = &args.tls_ca {
        generated_by.push_str(&format!(" --tls-ca {}", file.display()));
    }
    let image = args.image.clone();
    let tls = match &args.tls_ca {
        Some(file) => crate::pki::for_generated(&lab, file)?,
        None => Default::default(),
    };
    let text = match what {
        GenCommand::Compose {
            subnet,
            offline_override,
            ..
        } => {
            let options = ComposeOptions {
                image,
                subnet_prefix: subnet_prefix(&subnet)?,
                generated_by,
                tls,
            };
            // Rendered in both cases: the override belongs to a valid lab.
            let text = render_compose(&lab, &options)?;
            if offline_override {
                render_offline_override(&options)
            } else {
                text
            }
        }
        GenCommand::Swarm {
            spread,
            offline_override,
            ..
        } => {
            let options = SwarmOptions {
                image,
                spread,
                generated_by,
                tls,
            };
            let text = render_swarm(&lab, &options)?;
            if offline_override {
                render_swarm_offline_override(&options)
            } else {
                text
            }
        }
        GenCommand::K8s {
            namespace,
            spread,
            offline_collector,
            ..
        } => {
            let options = K8sOptions {
                image,
                namespace,
                spread,
                offline_collector,
                generated_by,
                tls,
            };
            render_k8s(&lab, &options)?
        }
        GenCommand::Topology { .. } => unreachable!("handled above"),
    };
    emit(&text, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
