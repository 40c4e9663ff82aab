//! Rendering a lab as a Docker Compose file: one service per device, all on
//! one private bridge network with fixed addresses (a static binary in a
//! scratch image cannot resolve names), cables as UDP between containers,
//! admin APIs on each container's loopback only (no published port, so no
//! other local user and no web page can reach them): `vnet --compose`
//! finds a device's container by its `vnet.*` labels and runs the image's
//! own `vnet` in it (`docker exec`), as for Swarm.
//!
//! Each device receives its configuration in the `VNET_CONFIG` environment
//! variable, so the image needs no mounted files.
//!
//! Traces: a `jaeger` service (Jaeger v2, UI on host port 16686) sits at a
//! fixed address of the same network, [`TRACE_COLLECTOR_OCTET`], outside the
//! range devices get, and every device exports to it through
//! `OTEL_EXPORTER_OTLP_ENDPOINT`. No device depends on it: an exporter
//! without a collector drops its spans and never blocks. The offline
//! override ([`render_offline_override`]) runs vnet's own receiver
//! (`vnet-collector` from the vnet image) as that service instead, for
//! machines that cannot pull Jaeger.

use crate::device::DeviceKind;
use crate::lab::{Lab, LabDevice};
use crate::render::{AddressPlan, render};
use crate::swarm::{DEVICE_LABEL, KIND_LABEL, LAB_LABEL};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};

/// Settings of a rendered compose file.
#[derive(Debug, Clone)]
pub struct ComposeOptions {
    /// Image holding every device binary.
    pub image: String,
    /// The bridge network's /24 prefix, e.g. 172.29.0 (devices get .10, .11, …).
    pub subnet_prefix: [u8; 3],
    /// Command line that produced the file (written in its header).
    pub generated_by: String,
    /// TLS material by device (`--tls-ca`); empty: plain HTTP only.
    pub tls: crate::device::LabTls,
}

impl Default for ComposeOptions {
    fn default() -> Self {
        ComposeOptions {
            image: "vnet:latest".into(),
            subnet_prefix: [172, 29, 0],
            generated_by: "vnet gen compose configs/lab.toml".into(),
            tls: Default::default(),
        }
    }
}

/// Admin port inside every container.
pub const CONTAINER_ADMIN_PORT: u16 = 7000;
/// Where the image keeps the web content (configs/www).
pub const CONTAINER_WEB_ROOT: &str = "/www";
/// First cable port inside a container (interface i uses base + i).
pub const CONTAINER_CABLE_PORT_BASE: u16 = 40000;
/// Last octet of the device addresses: device i gets `FIRST_DEVICE_OCTET + i`.
const FIRST_DEVICE_OCTET: u8 = 10;
/// Most devices in one compose network (addresses .10 to .249).
pub const MAX_DEVICES: usize = 240;
/// Last octet of the trace collector's fixed address (Jaeger, or
/// vnet-collector with the offline override): just above the devices.
pub const TRACE_COLLECTOR_OCTET: u8 = 250;
const _: () = assert!(FIRST_DEVICE_OCTET as usize + MAX_DEVICES <= TRACE_COLLECTOR_OCTET as usize);
/// The trace collector's compose service.
pub const TRACE_SERVICE: &str = "jaeger";
/// Jaeger v2 (all-in-one: OTLP receivers, in-memory storage, UI).
pub const JAEGER_IMAGE: &str = "jaegertracing/jaeger:2";
/// Jaeger's UI, published on the same host port.
pub const JAEGER_UI_PORT: u16 = 16686;
/// OTLP/HTTP, on which devices export; with the offline override also
/// vnet-collector's JSON API, published on 127.0.0.1 for `vnet --compose trace`.
pub const OTLP_HTTP_PORT: u16 = 4318;

/// What the CLI needs to drive a compose lab (the `x-vnet` field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComposeIndex {
    /// Lab name.
    pub lab: String,
    /// Devices with their admin addresses (inside their containers).
    pub devices: Vec<ComposeDevice>,
}

/// One device of a [`ComposeIndex`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComposeDevice {
    /// Name (= compose service name).
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Admin API on the container's loopback: the CLI reaches it by
    /// running the image's `vnet` in the container (`docker exec`).
    pub admin: SocketAddr,
}

/// The key under which the index is embedded in the compose file.
pub const INDEX_KEY: &str = "x-vnet";

struct ContainerPlan {
    prefix: [u8; 3],
}

impl ContainerPlan {
    fn ip(&self, device_index: usize) -> Ipv4Addr {
        let [a, b, c] = self.prefix;
        Ipv4Addr::new(a, b, c, FIRST_DEVICE_OCTET + device_index as u8)
    }
}

/// The trace collector's address in the compose network with the /24
/// prefix `subnet_prefix`.
pub fn trace_collector_ip(subnet_prefix: [u8; 3]) -> Ipv4Addr {
    let [a, b, c] = subnet_prefix;
    Ipv4Addr::new(a, b, c, TRACE_COLLECTOR_OCTET)
}

impl AddressPlan for ContainerPlan {
    fn cable_end(&mut self, device_index: usize, _device: &LabDevice, port: usize) -> SocketAddr {
        SocketAddr::from((
            self.ip(device_index),
            CONTAINER_CABLE_PORT_BASE + port as u16,
        ))
    }
    fn admin(&mut self, _device_index: usize, _device: &LabDevice) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], CONTAINER_ADMIN_PORT))
    }
}

/// A lab that cannot run under Compose, or a compose file vnet did not
/// generate.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// More devices than one /24 network holds.
    #[error("{0} devices do not fit one /24 compose network (at most {MAX_DEVICES})")]
    TooManyDevices(usize),
    /// A device named like the collector's service.
    #[error(
        "a device may not be called {TRACE_SERVICE:?} under compose: that service is the trace collector"
    )]
    ReservedName,
    /// A TAP link end, which needs the host's kernel.
    #[error("TAP link ends need the host's kernel and cannot be rendered for compose")]
    TapEnd,
    /// No `x-vnet` index line.
    #[error("no `{INDEX_KEY}` line: was this file generated by `vnet gen compose`?")]
    NoIndex,
    /// The index line is not a single-quoted YAML string.
    #[error("the `{INDEX_KEY}` line is not a quoted string")]
    IndexNotQuoted,
    /// The index is not the JSON vnet writes.
    #[error("the `{INDEX_KEY}` index is not valid: {0}")]
    BadIndex(serde_json::Error),
    /// The index could not be written as JSON.
    #[error("writing the `{INDEX_KEY}` index: {0}")]
    WriteIndex(serde_json::Error),
    /// A device's configuration could not be written as TOML.
    #[error("{device}: {source}")]
    DeviceConfig {
        /// The device.
        device: String,
        /// What the TOML writer said.
        source: toml::ser::Error,
    },
}

/// Renders `lab` as a compose file.
pub fn render_compose(lab: &Lab, options: &ComposeOptions) -> Result<String, ComposeError> {
    if lab.devices.len() > MAX_DEVICES {
        return Err(ComposeError::TooManyDevices(lab.devices.len()));
    }
    if lab.devices.iter().any(|d| d.name == TRACE_SERVICE) {
        return Err(ComposeError::ReservedName);
    }
    if lab
        .devices
        .iter()
        .any(|d| d.interfaces.iter().any(|i| i.tap.is_some()))
    {
        return Err(ComposeError::TapEnd);
    }
    let mut plan = ContainerPlan {
        prefix: options.subnet_prefix,
    };
    let mut configs = render(lab, &mut plan, None);
    for config in &mut configs {
        config.tls = options.tls.get(&config.name).cloned();
    }
    let index = ComposeIndex {
        lab: lab.name.clone(),
        devices: lab
            .devices
            .iter()
            .map(|d| ComposeDevice {
                name: d.name.clone(),
                kind: d.kind.to_string(),
                admin: SocketAddr::from(([127, 0, 0, 1], CONTAINER_ADMIN_PORT)),
            })
            .collect(),
    };
    let index_json = serde_json::to_string(&index).map_err(ComposeError::WriteIndex)?;
    let [a, b, c] = options.subnet_prefix;
    let collector = trace_collector_ip(options.subnet_prefix);
    let mut out = String::new();
    out.push_str(&format!(
        "# Generated by `{}` — do not edit; regenerate instead.\n# Lab {}: {} devices. Control it with `vnet --compose --compose-file <this file> …`.\n",
        options.generated_by,
        lab.name,
        lab.devices.len()
    ));
    out.push_str(&format!(
        "# Traces go to Jaeger (UI http://localhost:{JAEGER_UI_PORT}). Offline, merge the override that the same\n# `vnet gen compose … --offline-override` writes: vnet's own receiver in place of Jaeger.\n"
    ));
    out.push_str(&format!(
        "{INDEX_KEY}: '{}'\n\n",
        index_json.replace('\'', "''")
    ));
    out.push_str("services:\n");
    let infrastructure: Vec<&str> = lab
        .devices
        .iter()
        .filter(|d| matches!(d.kind, DeviceKind::Switch | DeviceKind::Router))
        .map(|d| d.name.as_str())
        .collect();
    for (i, (device, config)) in lab.devices.iter().zip(&configs).enumerate() {
        let binary = format!("/{}", device.kind.binary_name());
        let mut config = config.clone();
        if let Some(web) = config.web.as_mut() {
            // The image carries the default content at /www (deploy/docker/Dockerfile).
            web.root = CONTAINER_WEB_ROOT.into();
        }
        let toml = toml::to_string(&config).map_err(|source| ComposeError::DeviceConfig {
            device: device.name.clone(),
            source,
        })?;
        out.push_str(&format!("  {}:\n", device.name));
        out.push_str(&format!("    image: {}\n", options.image));
        out.push_str(&format!("    command: [\"{binary}\"]\n"));
        out.push_str("    environment:\n");
        out.push_str("      VNET_CONFIG: |\n");
        for line in toml.lines() {
            // Compose interpolates `$NAME`; zone files use `$ORIGIN`/`$TTL`.
            out.push_str(&format!("        {}\n", line.replace('$', "$$")));
        }
        out.push_str(&format!(
            "      OTEL_EXPORTER_OTLP_ENDPOINT: http://{collector}:{OTLP_HTTP_PORT}\n"
        ));
        out.push_str("    networks:\n      cables:\n");
        out.push_str(&format!("        ipv4_address: {}\n", plan.ip(i)));
        // No published admin port: the API listens on the container's
        // loopback and `vnet --compose` finds the container by these labels.
        out.push_str(&format!(
            "    labels:\n      {LAB_LABEL}: \"{}\"\n      {DEVICE_LABEL}: \"{}\"\n      {KIND_LABEL}: \"{}\"\n",
            lab.name, device.name, device.kind
        ));
        out.push_str("    healthcheck:\n");
        out.push_str(&format!(
            "      test: [\"CMD\", \"{binary}\", \"--health\", \"127.0.0.1:{CONTAINER_ADMIN_PORT}\"]\n"
        ));
        out.push_str("      interval: 2s\n      timeout: 2s\n      retries: 30\n");
        out.push_str("    stop_grace_period: 2s\n");
        if matches!(
            device.kind,
            DeviceKind::Host | DeviceKind::Dns | DeviceKind::Web
        ) && !infrastructure.is_empty()
        {
            out.push_str("    depends_on:\n");
            for dep in &infrastructure {
                out.push_str(&format!(
                    "      {dep}:\n        condition: service_healthy\n"
                ));
            }
        }
        out.push('\n');
    }
    // The trace collector. Devices do not depend on it: spans exported
    // before it listens are dropped, and it may be absent altogether.
    out.push_str(&format!("  {TRACE_SERVICE}:\n"));
    out.push_str(&format!("    image: {JAEGER_IMAGE}\n"));
    out.push_str("    environment:\n");
    // The image's default; older 2.x images listened on localhost only.
    out.push_str("      JAEGER_LISTEN_HOST: 0.0.0.0\n");
    out.push_str("    networks:\n      cables:\n");
    out.push_str(&format!("        ipv4_address: {collector}\n"));
    out.push_str(&format!(
        "    ports:\n      - \"{JAEGER_UI_PORT}:{JAEGER_UI_PORT}\"\n"
    ));
    out.push_str("    stop_grace_period: 2s\n\n");
    out.push_str("networks:\n  cables:\n    driver: bridge\n    ipam:\n      config:\n");
    out.push_str(&format!("        - subnet: {a}.{b}.{c}.0/24\n"));
    Ok(out)
}

/// Renders the offline override of a compose file rendered with the same
/// `options`: merged after it (`-f docker-compose.yml -f
/// docker-compose.offline.yml`), it turns the `jaeger` service into vnet's
/// own trace receiver from the vnet image, so nothing needs pulling. The
/// service keeps its name and fixed address, so devices need no change and
/// switching between the two recreates that one container. Its API is
/// published on 127.0.0.1:4318, where `vnet --compose trace` looks.
///
/// Compose merges `ports` lists (it cannot drop one in an override), so the
/// Jaeger UI port stays published on this container and answers nothing.
pub fn render_offline_override(options: &ComposeOptions) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Generated by `{} --offline-override` — do not edit; regenerate instead.\n",
        options.generated_by
    ));
    out.push_str(
        "# Offline traces: vnet's own receiver (vnet-collector, in the vnet image) in place of Jaeger.\n\
         #   docker compose -f docker-compose.yml -f docker-compose.offline.yml up -d\n\
         #   vnet --compose trace show last\n\n",
    );
    out.push_str("services:\n");
    out.push_str(&format!("  {TRACE_SERVICE}:\n"));
    out.push_str(&offline_collector_run(&options.image));
    out.push_str(&format!(
        "    ports:\n      - \"127.0.0.1:{OTLP_HTTP_PORT}:{OTLP_HTTP_PORT}\"\n"
    ));
    out.push_str(&offline_collector_healthcheck());
    out
}

/// The `image` and `command` lines of vnet's own trace receiver as the
/// `jaeger` service (Compose and Swarm offline overrides).
pub(crate) fn offline_collector_run(image: &str) -> String {
    format!(
        "    image: {image}\n    command: [\"/vnet-collector\", \"--listen\", \"0.0.0.0:{OTLP_HTTP_PORT}\"]\n"
    )
}

/// Its health check: any device binary's --health probes GET /health,
/// which the collector answers.
pub(crate) fn offline_collector_healthcheck() -> String {
    format!(
        "    healthcheck:\n      test: [\"CMD\", \"/vnet-host\", \"--health\", \"127.0.0.1:{OTLP_HTTP_PORT}\"]\n      interval: 2s\n      timeout: 2s\n      retries: 30\n"
    )
}

/// Finds and parses the `x-vnet` index in a compose file we generated.
pub fn read_index(compose_text: &str) -> Result<ComposeIndex, ComposeError> {
    let prefix = format!("{INDEX_KEY}: '");
    let line = compose_text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .ok_or(ComposeError::NoIndex)?;
    let json = line[prefix.len()..]
        .strip_suffix('\'')
        .ok_or(ComposeError::IndexNotQuoted)?
        .replace("''", "'");
    serde_json::from_str(&json).map_err(ComposeError::BadIndex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_default_lab_renders_with_an_index_and_one_service_per_device() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/lab.toml");
        let lab = Lab::load(&path).expect("default lab");
        let text = render_compose(&lab, &ComposeOptions::default()).expect("renders");
        let index = read_index(&text).expect("index");
        // Compose would interpolate a bare `$` (zone files say `$ORIGIN`).
        assert!(
            !text.replace("$$", "").contains('$'),
            "unescaped $ in the compose file"
        );
        assert!(text.contains("$$ORIGIN example.com."));
        assert_eq!(index.devices.len(), lab.devices.len());
        for d in &lab.devices {
            assert!(
                text.contains(&format!("\n  {}:\n", d.name)),
                "service {}",
                d.name
            );
        }
        // Every embedded config is a valid device config.
        let mut configs = 0;
        let mut current: Option<String> = None;
        for line in text.lines() {
            if line == "      VNET_CONFIG: |" {
                current = Some(String::new());
            } else if let Some(buf) = current.as_mut() {
                if let Some(l) = line.strip_prefix("        ") {
                    // Undo the compose escaping of `$`, as Compose does.
                    buf.push_str(&l.replace("$$", "$"));
                    buf.push('\n');
                } else {
                    let cfg = crate::DeviceConfig::load_text(buf, "test").expect("valid config");
                    assert!(cfg.admin.port() == CONTAINER_ADMIN_PORT);
                    configs += 1;
                    current = None;
                }
            }
        }
        assert_eq!(configs, lab.devices.len());
    }

    #[test]
    fn every_device_exports_to_the_trace_collector_at_its_fixed_address() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/lab.toml");
        let lab = Lab::load(&path).expect("default lab");
        let options = ComposeOptions {
            subnet_prefix: [172, 29, 1],
            ..ComposeOptions::default()
        };
        let text = render_compose(&lab, &options).expect("renders");
        let endpoint = "      OTEL_EXPORTER_OTLP_ENDPOINT: http://172.29.1.250:4318\n";
        assert_eq!(text.matches(endpoint).count(), lab.devices.len());
        let jaeger = text
            .split("\n  jaeger:\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .expect("a jaeger service");
        assert!(jaeger.contains("image: jaegertracing/jaeger:2"), "{jaeger}");
        assert!(jaeger.contains("ipv4_address: 172.29.1.250"), "{jaeger}");
        assert!(jaeger.contains("\"16686:16686\""), "{jaeger}");
        // No device waits for the collector, and none shares its address.
        assert!(!text.contains("      jaeger:\n        condition"));
        assert_eq!(text.matches("ipv4_address: 172.29.1.250").count(), 1);

        let offline = render_offline_override(&options);
        assert!(
            offline.starts_with(
                "# Generated by `vnet gen compose configs/lab.toml --offline-override`"
            )
        );
        assert!(offline.contains(
            "  jaeger:\n    image: vnet:latest\n    command: [\"/vnet-collector\", \"--listen\", \"0.0.0.0:4318\"]\n"
        ));
        assert!(offline.contains("\"127.0.0.1:4318:4318\""));
        assert!(offline.contains("\"/vnet-host\", \"--health\", \"127.0.0.1:4318\""));
    }

    #[test]
    fn a_device_named_like_the_collector_service_is_refused() {
        let text = "name = \"x\"\nlinks = [{ a = \"jaeger:eth0\", b = \"h:eth0\" }]\n\
            [devices.jaeger]\nkind = \"host\"\ninterfaces.eth0 = { address = \"10.0.1.10/24\" }\n\
            [devices.h]\nkind = \"host\"\ninterfaces.eth0 = { address = \"10.0.1.11/24\" }\n";
        let lab = Lab::parse(Path::new("x.toml"), text).expect("valid topology");
        let err = render_compose(&lab, &ComposeOptions::default()).expect_err("refused");
        assert!(err.to_string().contains("\"jaeger\""), "{err}");
    }
}
