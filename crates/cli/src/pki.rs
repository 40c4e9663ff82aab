//! The lab's TLS material at `vnet up`: a fresh lab CA
//! ([`vnet_pki::LabCa`]), a certificate for every web device naming what
//! the lab's zones call it, the CA as every host's trust anchor, and
//! optionally one NSS key log for the whole lab.
//!
//! Files in the run directory (private to the lab's owner, 0700):
//! `pki/ca.pem` (what `vnet ca export` prints), `pki/<web>.pem` (each web
//! device's certificate, to inspect with `openssl x509`), and with
//! `--keylog` `tls-keylog.txt`. Private keys live only in the device
//! configs; the CA's key is never written, so no further certificate the
//! lab trusts can be made.

use anyhow::Context as _;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use vnet_dns::zone::Zone;
use vnet_topology::device::{DeviceConfig, DeviceKind, LabTls, TlsSettings};
use vnet_wire::dns::RecordData;

/// The lab CA's certificate in a run directory.
pub fn ca_path(run_dir: &Path) -> PathBuf {
    run_dir.join("pki").join("ca.pem")
}

/// The key log file `vnet up --keylog` makes.
pub fn keylog_path(run_dir: &Path) -> PathBuf {
    run_dir.join("tls-keylog.txt")
}

/// Every name the lab's zones give `addrs`: owners of A records with one
/// of them, then (to a fixed point) owners of CNAMEs to those names.
/// Zones that do not parse are skipped (the DNS device reports them).
pub fn names_for(configs: &[DeviceConfig], addrs: &[Ipv4Addr]) -> Vec<String> {
    let zones: Vec<Zone> = configs
        .iter()
        .filter_map(|c| c.dns.as_ref())
        .flat_map(|d| d.zones.iter())
        .filter_map(|z| Zone::parse(&z.file, &z.text).ok())
        .collect();
    let mut names = BTreeSet::new();
    for zone in &zones {
        for r in zone.records() {
            if let RecordData::A(a) = r.data
                && addrs.contains(&a)
            {
                names.insert(
                    r.name
                        .to_string()
                        .trim_end_matches('.')
                        .to_ascii_lowercase(),
                );
            }
        }
    }
    // Aliases: `www CNAME web` makes www a name of the same server.
    for _ in 0..8 {
        let before = names.len();
        for zone in &zones {
            for r in zone.records() {
                if let RecordData::Cname(target) = &r.data {
                    let target = target
                        .to_string()
                        .trim_end_matches('.')
                        .to_ascii_lowercase();
                    if names.contains(&target) {
                        names.insert(
                            r.name
                                .to_string()
                                .trim_end_matches('.')
                                .to_ascii_lowercase(),
                        );
                    }
                }
            }
        }
        if names.len() == before {
            break;
        }
    }
    names.into_iter().filter(|n| !n.is_empty()).collect()
}

/// The `tls` settings `ca` gives every host (trust the CA) and web device
/// (its certificate and key) of the lab `configs` render; with `keylog`,
/// each appends its TLS secrets there.
pub fn issue_all(
    ca: &vnet_pki::LabCa,
    configs: &[DeviceConfig],
    keylog: Option<&Path>,
) -> anyhow::Result<LabTls> {
    let mut all = LabTls::new();
    for cfg in configs {
        let mut tls = TlsSettings {
            ca: Some(ca.cert_pem().to_owned()),
            keylog: keylog.map(Path::to_path_buf),
            ..TlsSettings::default()
        };
        match cfg.kind {
            DeviceKind::Host => {}
            DeviceKind::Web => {
                let addrs: Vec<Ipv4Addr> = cfg
                    .interfaces
                    .iter()
                    .filter_map(|i| i.address.map(|a| a.address()))
                    .collect();
                let names = names_for(configs, &addrs);
                let issued = ca
                    .issue(&names, &addrs)
                    .with_context(|| format!("the certificate of {}", cfg.name))?;
                tls.cert = Some(issued.cert_pem);
                tls.key = Some(issued.key_pem);
            }
            _ => continue,
        }
        all.insert(cfg.name.clone(), tls);
    }
    Ok(all)
}

/// Makes the lab CA, writes `pki/`, and fills the `tls` settings of every
/// host and web device ([`issue_all`]); with `keylog`, every one of them
/// appends its TLS secrets to [`keylog_path`].
pub fn equip(
    lab: &str,
    configs: &mut [DeviceConfig],
    run_dir: &Path,
    keylog: bool,
) -> anyhow::Result<()> {
    let ca = vnet_pki::LabCa::generate(lab).context("making the lab CA")?;
    let dir = run_dir.join("pki");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca_file = ca_path(run_dir);
    std::fs::write(&ca_file, ca.cert_pem())
        .with_context(|| format!("writing {}", ca_file.display()))?;
    let keylog = keylog.then(|| keylog_path(run_dir));
    let mut all = issue_all(&ca, configs, keylog.as_deref())?;
    for cfg in configs.iter_mut() {
        cfg.tls = all.remove(&cfg.name);
        if let Some(cert) = cfg.tls.as_ref().and_then(|t| t.cert.as_ref()) {
            let file = dir.join(format!("{}.pem", cfg.name));
            std::fs::write(&file, cert).with_context(|| format!("writing {}", file.display()))?;
        }
    }
    Ok(())
}

/// A plan that binds nothing: renders a lab only to read its addresses
/// and zones (`vnet gen … --tls-ca`).
struct AddressesOnly;

impl vnet_topology::render::AddressPlan for AddressesOnly {
    fn cable_end(
        &mut self,
        _: usize,
        _: &vnet_topology::lab::LabDevice,
        _: usize,
    ) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([0, 0, 0, 0], 0))
    }
    fn admin(&mut self, _: usize, _: &vnet_topology::lab::LabDevice) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([0, 0, 0, 0], 0))
    }
}

/// `vnet gen … --tls-ca FILE`: a new lab CA for `lab`, its certificate
/// written to `ca_file`, and the TLS settings to embed in the generated
/// configs (the CA's key is dropped, as with `vnet up`).
pub fn for_generated(lab: &vnet_topology::Lab, ca_file: &Path) -> anyhow::Result<LabTls> {
    let ca = vnet_pki::LabCa::generate(&lab.name).context("making the lab CA")?;
    let configs = vnet_topology::render::render(lab, &mut AddressesOnly, None);
    let all = issue_all(&ca, &configs, None)?;
    std::fs::write(ca_file, ca.cert_pem())
        .with_context(|| format!("writing {}", ca_file.display()))?;
    Ok(all)
}

/// `vnet ca export`: the CA certificate of the lab in `run_dir`.
pub fn export(run_dir: &Path) -> anyhow::Result<String> {
    let path = ca_path(run_dir);
    std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no lab CA at {} (start a lab with `vnet up`: it makes one per run)",
            path.display()
        )
    })
}
