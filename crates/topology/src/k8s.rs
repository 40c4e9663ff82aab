//! Rendering a lab as Kubernetes manifests (`kubectl apply -f`): the lab
//! gets its own namespace; every device is a one-replica `Deployment`
//! (recreated, never rolled: two copies of a device would both answer its
//! cables) whose configuration comes from a `ConfigMap`, mounted at
//! `/etc/vnet/config.toml`, and is health checked through the admin API
//! inside the pod (`kubectl exec`, like the CLI).
//!
//! Devices reach each other by name: every device has a headless `Service`
//! called like the device, so the cable peer `r2:40003` resolves, through
//! the pod's DNS search list, to `r2.<namespace>.svc.cluster.local` and
//! from there to the pod's own address (a cluster IP would hide the
//! sender's address, which a cable end checks). Not-ready pods are
//! published too: a DHCP host is not ready before its cable works.
//!
//! Traces go to a `jaeger` Deployment and Service (cluster IP, so its name
//! stays valid across restarts); with [`K8sOptions::offline_collector`] it
//! runs vnet's own receiver from the vnet image instead. Two
//! `NetworkPolicy`s admit cables and OTLP from the lab's namespace only,
//! and the Jaeger UI from anywhere.

use crate::compose::{
    CONTAINER_ADMIN_PORT, CONTAINER_CABLE_PORT_BASE, JAEGER_IMAGE, JAEGER_UI_PORT, OTLP_HTTP_PORT,
    TRACE_SERVICE,
};
use crate::device::DeviceConfig;
use crate::lab::{Lab, LabDevice};
use crate::orchestrated::{OrchestratedError, binary, check_service_name, render_by_name, spread};
use crate::swarm::{DEVICE_LABEL, KIND_LABEL};
use std::collections::HashMap;

/// Settings of rendered manifests.
#[derive(Debug, Clone)]
pub struct K8sOptions {
    /// Image holding every device binary (pullable by, or loaded into, every node).
    pub image: String,
    /// Namespace of the lab; `None`: the lab's name.
    pub namespace: Option<String>,
    /// Nodes (`kubernetes.io/hostname`) to spread the devices over in
    /// blocks of neighbours; empty: the scheduler decides.
    pub spread: Vec<String>,
    /// Run vnet's own trace receiver (`vnet-collector`, from the vnet
    /// image) as the `jaeger` service instead of Jaeger, so nothing is pulled.
    pub offline_collector: bool,
    /// Command line that produced the manifests (written in the header).
    pub generated_by: String,
    /// TLS material by device (`--tls-ca`); empty: plain HTTP only.
    pub tls: crate::device::LabTls,
}

impl Default for K8sOptions {
    fn default() -> Self {
        K8sOptions {
            image: "vnet:latest".into(),
            namespace: None,
            spread: Vec::new(),
            offline_collector: false,
            generated_by: "vnet gen k8s configs/lab.toml".into(),
            tls: Default::default(),
        }
    }
}

/// Name of the container in every device pod (and in the offline
/// collector's pod): `kubectl exec -n NS deploy/DEV -c device -- /vnet …`.
pub const CONTAINER_NAME: &str = "device";
/// Where the configuration is mounted in a device container.
pub const CONFIG_DIR: &str = "/etc/vnet";
/// The ConfigMap key (and file name under [`CONFIG_DIR`]) of a device's configuration.
pub const CONFIG_KEY: &str = "config.toml";
/// Label with the application's name, `vnet`, on every object.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// Label with the lab's name on every object.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// Label telling devices (`device`) from the trace collector (`trace-collector`).
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// Pod annotation with a hash of the configuration, so that `kubectl
/// apply` of regenerated manifests recreates the devices whose configuration changed.
pub const CONFIG_HASH_ANNOTATION: &str = "vnet.config-fnv1a";
/// The user of the vnet image (`USER 65534:65534`, nobody).
const IMAGE_USER: u32 = 65534;
const COLLECTOR_COMPONENT: &str = "trace-collector";

/// A label (or annotation): key and value.
type Label = (&'static str, String);
/// Labels, written in order.
type Labels = Vec<Label>;

/// Renders `lab` as one multi-document YAML file.
pub fn render_k8s(lab: &Lab, options: &K8sOptions) -> Result<String, OrchestratedError> {
    let namespace = options.namespace.as_deref().unwrap_or(&lab.name);
    check_k8s_name("namespace (the lab's name unless one is given)", namespace)?;
    check_k8s_name("lab name (the app.kubernetes.io/instance label)", &lab.name)?;
    let configs = render_by_name(lab, "Kubernetes", TRACE_SERVICE, &options.tls)?;
    let placement: HashMap<String, String> = if options.spread.is_empty() {
        HashMap::new()
    } else {
        spread(lab, &options.spread)?
    };
    let k = Context {
        lab,
        namespace,
        options,
    };
    let mut out = header(&k);
    namespace_doc(&mut out, &k);
    for (device, (config, toml)) in lab.devices.iter().zip(&configs) {
        config_map(&mut out, &k, device, toml);
        device_deployment(
            &mut out,
            &k,
            device,
            config,
            toml,
            placement.get(&device.name),
        );
        device_service(&mut out, &k, device, config);
    }
    collector_deployment(&mut out, &k);
    collector_service(&mut out, &k);
    let max_interfaces = configs
        .iter()
        .map(|(c, _)| c.interfaces.len())
        .max()
        .unwrap_or(0);
    network_policies(&mut out, &k, max_interfaces);
    Ok(out)
}

/// What every object needs to know.
struct Context<'a> {
    lab: &'a Lab,
    namespace: &'a str,
    options: &'a K8sOptions,
}

impl Context<'_> {
    /// Labels of every object of the lab.
    fn common_labels(&self) -> Labels {
        vec![
            (NAME_LABEL, "vnet".into()),
            (INSTANCE_LABEL, self.lab.name.clone()),
        ]
    }

    fn device_labels(&self, device: &LabDevice) -> Labels {
        let mut labels = self.common_labels();
        labels.push((COMPONENT_LABEL, "device".into()));
        labels.push((DEVICE_LABEL, device.name.clone()));
        labels.push((KIND_LABEL, device.kind.to_string()));
        labels
    }

    fn collector_labels(&self) -> Labels {
        let mut labels = self.common_labels();
        labels.push((COMPONENT_LABEL, COLLECTOR_COMPONENT.into()));
        if self.options.offline_collector {
            // Like the swarm override: `vnet --k8s NS trace` execs into it.
            labels.push((DEVICE_LABEL, TRACE_SERVICE.into()));
            labels.push((KIND_LABEL, "collector".into()));
        }
        labels
    }
}

/// The labels a device's Deployment and Service select its pod by.
fn device_selector(k: &Context, device: &LabDevice) -> Labels {
    vec![
        (INSTANCE_LABEL, k.lab.name.clone()),
        (DEVICE_LABEL, device.name.clone()),
    ]
}

fn collector_selector(k: &Context) -> Labels {
    vec![
        (INSTANCE_LABEL, k.lab.name.clone()),
        (COMPONENT_LABEL, COLLECTOR_COMPONENT.into()),
    ]
}

/// Namespaces and label values are DNS labels here (stricter than label
/// values need, which keeps one rule for both).
fn check_k8s_name(what: &'static str, name: &str) -> Result<(), OrchestratedError> {
    check_service_name(name).map_err(|reason| OrchestratedError::BadK8sName {
        what,
        name: name.to_string(),
        reason,
    })
}

fn header(k: &Context) -> String {
    let (lab, ns) = (&k.lab.name, k.namespace);
    let mut out = format!(
        "# Generated by `{}` — do not edit; regenerate instead.\n",
        one_line(&k.options.generated_by)
    );
    out.push_str(&format!(
        "# Lab {lab}: {n} devices as Kubernetes Deployments in namespace {ns}, each with a\n\
         # headless Service of its name (cables reach PEER:{CONTAINER_CABLE_PORT_BASE}+i) and a ConfigMap.\n\
         #   kubectl apply -f {lab}-k8s.yaml\n\
         #   kubectl -n {ns} wait --for=condition=Available deployment --all --timeout=120s\n\
         #   vnet --k8s {ns} status\n\
         #   kubectl delete namespace {ns}\n\
         # The image ({image}) must be pullable by every node or loaded into it\n\
         # (kind load docker-image, k3s ctr images import).\n",
        n = k.lab.devices.len(),
        image = one_line(&k.options.image),
    ));
    if k.options.offline_collector {
        out.push_str(&format!(
            "# Traces go to vnet-collector (service {TRACE_SERVICE}): vnet --k8s {ns} trace show last\n"
        ));
    } else {
        out.push_str(&format!(
            "# Traces go to Jaeger: kubectl -n {ns} port-forward svc/{TRACE_SERVICE} {JAEGER_UI_PORT},\n\
             # then http://localhost:{JAEGER_UI_PORT}.\n"
        ));
    }
    out
}

/// `text` fit for a comment line: line breaks become spaces.
fn one_line(text: &str) -> String {
    text.replace(|c: char| c == '\n' || c == '\r' || special(c), " ")
}

/// Starts a document: separator, kind and the name in the metadata.
fn document(out: &mut String, api_version: &str, kind: &str, name: &str) {
    out.push_str(&format!(
        "---\napiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {}\n",
        quoted(name)
    ));
}

/// The rest of a namespaced object's metadata (after [`document`]).
fn namespaced(out: &mut String, k: &Context, labels: &[Label]) {
    out.push_str(&format!("  namespace: {}\n", quoted(k.namespace)));
    write_map(out, 2, "labels", labels);
}

fn namespace_doc(out: &mut String, k: &Context) {
    document(out, "v1", "Namespace", k.namespace);
    write_map(out, 2, "labels", &k.common_labels());
}

/// The device's configuration as the ConfigMap `<device>-config`.
fn config_map(out: &mut String, k: &Context, device: &LabDevice, toml: &str) {
    let labels = k.device_labels(device);
    document(out, "v1", "ConfigMap", &config_map_name(device));
    namespaced(out, k, &labels);
    out.push_str("data:\n");
    out.push_str(&format!("  {CONFIG_KEY}: {}", yaml_text(toml, 4)));
}

fn config_map_name(device: &LabDevice) -> String {
    format!("{}-config", device.name)
}

fn device_deployment(
    out: &mut String,
    k: &Context,
    device: &LabDevice,
    config: &DeviceConfig,
    toml: &str,
    node: Option<&String>,
) {
    let labels = k.device_labels(device);
    document(out, "apps/v1", "Deployment", &device.name);
    namespaced(out, k, &labels);
    deployment_spec_start(out, &device_selector(k, device), &labels);
    out.push_str(&format!(
        "      annotations:\n        {CONFIG_HASH_ANNOTATION}: \"{:016x}\"\n",
        fnv1a(toml.as_bytes())
    ));
    pod_spec_start(out, true);
    if let Some(node) = node {
        out.push_str(&format!(
            "      nodeSelector:\n        kubernetes.io/hostname: {}\n",
            quoted(node)
        ));
    }
    out.push_str("      containers:\n");
    device_container(out, k, device, config);
    out.push_str("      volumes:\n        - name: config\n          configMap:\n");
    out.push_str(&format!(
        "            name: {}\n",
        quoted(&config_map_name(device))
    ));
}

/// The device's container: its binary on the mounted configuration,
/// one UDP port per cable, health checked through the admin API.
fn device_container(out: &mut String, k: &Context, device: &LabDevice, config: &DeviceConfig) {
    let binary = binary(device.kind);
    let config_file = format!("{CONFIG_DIR}/{CONFIG_KEY}");
    container_start(out, CONTAINER_NAME, &quoted(&k.options.image));
    out.push_str(&format!(
        "          command: {}\n",
        flow_list(&[&binary, "--config", &config_file])
    ));
    out.push_str("          env:\n            - name: OTEL_EXPORTER_OTLP_ENDPOINT\n");
    out.push_str(&format!(
        "              value: \"http://{TRACE_SERVICE}:{OTLP_HTTP_PORT}\"\n"
    ));
    if !config.interfaces.is_empty() {
        out.push_str("          ports:\n");
        for (i, iface) in config.interfaces.iter().enumerate() {
            out.push_str(&format!(
                "            - name: cable-{i}\n              containerPort: {}\n              protocol: UDP\n",
                iface.local.port()
            ));
        }
    }
    let admin = format!("127.0.0.1:{CONTAINER_ADMIN_PORT}");
    probes(out, &[&binary, "--health", &admin], true);
    container_security(out, true);
    out.push_str("          volumeMounts:\n            - name: config\n");
    out.push_str(&format!(
        "              mountPath: {CONFIG_DIR}\n              readOnly: true\n"
    ));
}

/// A container's name, image (already quoted if need be) and pull policy.
fn container_start(out: &mut String, name: &str, image: &str) {
    out.push_str(&format!(
        "        - name: {name}\n          image: {image}\n"
    ));
    out.push_str("          imagePullPolicy: IfNotPresent\n");
}

/// `spec:` of a one-replica, recreated Deployment, up to the pod
/// template's labels.
fn deployment_spec_start(out: &mut String, selector: &[Label], labels: &[Label]) {
    out.push_str("spec:\n  replicas: 1\n  strategy:\n    type: Recreate\n  selector:\n");
    write_map(out, 4, "matchLabels", selector);
    out.push_str("  template:\n    metadata:\n");
    write_map(out, 6, "labels", labels);
}

/// The pod template's `spec:` up to its containers. Pods of the vnet
/// image run as its user, nobody.
fn pod_spec_start(out: &mut String, vnet_image: bool) {
    out.push_str("    spec:\n      terminationGracePeriodSeconds: 2\n");
    // No service environment variables (a long chain has many services)
    // and no API token: devices never talk to the API server.
    out.push_str("      enableServiceLinks: false\n      automountServiceAccountToken: false\n");
    out.push_str("      securityContext:\n");
    if vnet_image {
        out.push_str(&format!(
            "        runAsNonRoot: true\n        runAsUser: {IMAGE_USER}\n        runAsGroup: {IMAGE_USER}\n"
        ));
    }
    out.push_str("        seccompProfile:\n          type: RuntimeDefault\n");
}

/// Readiness (and with `liveness`, liveness) probes running `command` in the container.
fn probes(out: &mut String, command: &[&str], liveness: bool) {
    let exec = |command: &[&str]| {
        format!(
            "            exec:\n              command: {}\n            periodSeconds: 2\n            timeoutSeconds: 2\n",
            flow_list(command)
        )
    };
    out.push_str("          readinessProbe:\n");
    out.push_str(&exec(command));
    if liveness {
        // Alive = the admin API answers, ready or still starting (a DHCP
        // client is not ready until it has a lease; that is no reason to
        // restart it).
        let alive: Vec<&str> = command
            .iter()
            .map(|a| if *a == "--health" { "--alive" } else { a })
            .collect();
        out.push_str("          livenessProbe:\n");
        out.push_str(&exec(&alive));
        out.push_str("            initialDelaySeconds: 5\n            failureThreshold: 15\n");
    }
}

/// Containers write nothing: no privileges, no writable root (devices
/// write captures only to a configured `capture_dir`, never set here).
fn container_security(out: &mut String, read_only_root: bool) {
    out.push_str("          securityContext:\n            allowPrivilegeEscalation: false\n");
    if read_only_root {
        out.push_str("            readOnlyRootFilesystem: true\n");
    }
    out.push_str("            capabilities:\n              drop: [\"ALL\"]\n");
}

/// The headless Service named like the device: its name resolves to the
/// pod's address, ready or not.
fn device_service(out: &mut String, k: &Context, device: &LabDevice, config: &DeviceConfig) {
    let labels = k.device_labels(device);
    document(out, "v1", "Service", &device.name);
    namespaced(out, k, &labels);
    out.push_str("spec:\n  clusterIP: None\n  publishNotReadyAddresses: true\n");
    write_map(out, 2, "selector", &device_selector(k, device));
    if !config.interfaces.is_empty() {
        out.push_str("  ports:\n");
        for (i, iface) in config.interfaces.iter().enumerate() {
            let port = iface.local.port();
            out.push_str(&format!(
                "    - name: cable-{i}\n      protocol: UDP\n      port: {port}\n      targetPort: {port}\n"
            ));
        }
    }
}

/// The trace collector: Jaeger, or vnet-collector when offline.
fn collector_deployment(out: &mut String, k: &Context) {
    let labels = k.collector_labels();
    document(out, "apps/v1", "Deployment", TRACE_SERVICE);
    namespaced(out, k, &labels);
    deployment_spec_start(out, &collector_selector(k), &labels);
    let offline = k.options.offline_collector;
    pod_spec_start(out, offline);
    out.push_str("      containers:\n");
    if offline {
        container_start(out, CONTAINER_NAME, &quoted(&k.options.image));
        let listen = format!("0.0.0.0:{OTLP_HTTP_PORT}");
        out.push_str(&format!(
            "          command: {}\n",
            flow_list(&["/vnet-collector", "--listen", &listen])
        ));
    } else {
        container_start(out, TRACE_SERVICE, JAEGER_IMAGE);
        // The image's default; older 2.x images listened on localhost only.
        out.push_str("          env:\n            - name: JAEGER_LISTEN_HOST\n              value: \"0.0.0.0\"\n");
    }
    out.push_str("          ports:\n");
    for (name, port) in collector_ports(offline) {
        out.push_str(&format!(
            "            - name: {name}\n              containerPort: {port}\n              protocol: TCP\n"
        ));
    }
    if offline {
        // Any device binary's --health probes GET /health, which the collector answers.
        let target = format!("127.0.0.1:{OTLP_HTTP_PORT}");
        probes(out, &["/vnet-host", "--health", &target], false);
    }
    container_security(out, offline);
}

/// The collector's ports: OTLP/HTTP, and Jaeger's UI.
fn collector_ports(offline: bool) -> Vec<(&'static str, u16)> {
    let mut ports = vec![("otlp-http", OTLP_HTTP_PORT)];
    if !offline {
        ports.push(("ui", JAEGER_UI_PORT));
    }
    ports
}

fn collector_service(out: &mut String, k: &Context) {
    let labels = k.collector_labels();
    document(out, "v1", "Service", TRACE_SERVICE);
    namespaced(out, k, &labels);
    out.push_str("spec:\n  type: ClusterIP\n");
    write_map(out, 2, "selector", &collector_selector(k));
    out.push_str("  ports:\n");
    for (name, port) in collector_ports(k.options.offline_collector) {
        out.push_str(&format!(
            "    - name: {name}\n      protocol: TCP\n      port: {port}\n      targetPort: {port}\n"
        ));
    }
}

/// Ingress to the lab's pods: cables (UDP 40000 up to the most
/// interfaces any device has) and OTLP (TCP 4318) from pods of the same
/// namespace only; Jaeger's UI (TCP 16686) from anywhere, through a second
/// policy on the collector (policies add up). Egress stays open (DNS).
fn network_policies(out: &mut String, k: &Context, max_interfaces: usize) {
    let labels = k.common_labels();
    document(out, "networking.k8s.io/v1", "NetworkPolicy", "vnet-lab");
    namespaced(out, k, &labels);
    out.push_str("# Cables and OTLP from this namespace only; egress (DNS included) stays open.\n");
    out.push_str("spec:\n  podSelector:\n");
    write_map(
        out,
        4,
        "matchLabels",
        &[(INSTANCE_LABEL, k.lab.name.clone())],
    );
    out.push_str("  policyTypes: [\"Ingress\"]\n  ingress:\n    - from:\n        - podSelector: {}\n      ports:\n");
    if max_interfaces > 0 {
        out.push_str(&format!(
            "        - protocol: UDP\n          port: {CONTAINER_CABLE_PORT_BASE}\n"
        ));
        if max_interfaces > 1 {
            out.push_str(&format!(
                "          endPort: {}\n",
                CONTAINER_CABLE_PORT_BASE as usize + max_interfaces - 1
            ));
        }
    }
    out.push_str(&format!(
        "        - protocol: TCP\n          port: {OTLP_HTTP_PORT}\n"
    ));
    if k.options.offline_collector {
        return;
    }
    document(
        out,
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "vnet-jaeger-ui",
    );
    namespaced(out, k, &labels);
    out.push_str(
        "# Jaeger's UI from anywhere (a port-forward needs no policy; an Ingress does).\n",
    );
    out.push_str("spec:\n  podSelector:\n");
    write_map(out, 4, "matchLabels", &collector_selector(k));
    out.push_str(&format!(
        "  policyTypes: [\"Ingress\"]\n  ingress:\n    - ports:\n        - protocol: TCP\n          port: {JAEGER_UI_PORT}\n"
    ));
}

/// Writes `key:` and the string map `entries` below it, at `indent`.
fn write_map(out: &mut String, indent: usize, key: &str, entries: &[Label]) {
    let pad = " ".repeat(indent);
    out.push_str(&format!("{pad}{key}:\n"));
    for (k, v) in entries {
        out.push_str(&format!("{pad}  {k}: {}\n", quoted(v)));
    }
}

/// A flow sequence of quoted strings: `["a", "b"]`.
fn flow_list(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A YAML double-quoted scalar: never read as a number, a boolean (`on`,
/// `no`, `y`) or null, whatever the text.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if special(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters a YAML reader does not take literally: controls (`\r`,
/// NEL), the Unicode line and paragraph separators, the byte order mark.
fn special(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// A multi-line string as the value of a mapping key written at `indent
/// - 2` (the text after `key: `, up to and including the last line
/// break): a literal block scalar with its lines at `indent`, or a quoted scalar when the text
/// holds what a block scalar cannot (control characters, `\r`).
///
/// Blank lines stay empty (valid inside a block scalar); the indentation
/// is explicit when the first line starts with a space (else YAML would
/// take that line's indentation as the block's); the chomping indicator
/// keeps the text's line breaks at the end exactly.
fn yaml_text(text: &str, indent: usize) -> String {
    let printable = |c: char| c == '\n' || c == '\t' || !special(c);
    if text.is_empty() || !text.chars().all(printable) {
        return format!("{}\n", quoted(text));
    }
    let body = text.trim_end_matches('\n');
    let chomp = match text.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let first = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let explicit = if body.starts_with([' ', '\t', '\n']) || first.starts_with([' ', '\t']) {
        // Relative to the key's indentation, two less than the content's.
        "2"
    } else {
        ""
    };
    let pad = " ".repeat(indent);
    let mut out = format!("|{explicit}{chomp}\n");
    for line in text.split_terminator('\n') {
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// FNV-1a, 64 bits: a hash that stays the same across Rust releases (the
/// committed manifests depend on it).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
