//! Tests of the Kubernetes renderer.
use super::*;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn default_lab() -> Lab {
    Lab::load(&root().join("configs/lab.toml")).expect("default lab")
}

fn chain16() -> Lab {
    let text = crate::chain::chain_topology(16).expect("chain");
    Lab::parse(Path::new("chain16.toml"), &text).expect("valid chain")
}

/// The committed manifests and how they are rendered.
fn committed() -> Vec<(&'static str, String)> {
    let chain = K8sOptions {
        generated_by: "vnet gen k8s --chain 16".into(),
        ..K8sOptions::default()
    };
    vec![
        (
            "deploy/k8s/lab-k8s.yaml",
            render_k8s(&default_lab(), &K8sOptions::default()).expect("renders"),
        ),
        (
            "deploy/k8s/chain16-k8s.yaml",
            render_k8s(&chain16(), &chain).expect("renders"),
        ),
    ]
}

/// deploy/k8s/*.yaml are these renderings; regenerate them with
/// `VNET_BLESS=1 cargo test -p vnet-topology k8s` (or `vnet gen k8s`),
/// then check them with deploy/k8s/validate.sh.
#[test]
fn the_committed_manifests_are_current() {
    let bless = std::env::var_os("VNET_BLESS").is_some_and(|v| v == "1");
    for (path, text) in committed() {
        let file = root().join(path);
        if bless {
            std::fs::write(&file, &text).expect("write");
        }
        let on_disk = std::fs::read_to_string(&file).expect(path);
        assert_eq!(text, on_disk, "regenerate {path} (VNET_BLESS=1)");
    }
}

/// YAML documents after the header (a `---` in a block scalar is indented).
fn documents(text: &str) -> Vec<&str> {
    text.split("\n---\n").skip(1).collect()
}

fn kind_of(doc: &str) -> &str {
    doc.lines()
        .find_map(|l| l.strip_prefix("kind: "))
        .expect("kind")
}

fn name_of(doc: &str) -> &str {
    doc.lines()
        .find_map(|l| l.strip_prefix("  name: "))
        .expect("name")
        .trim_matches('"')
}

/// Reads a ConfigMap's `config.toml` block back by indentation.
fn config_text(doc: &str) -> String {
    let mut lines = doc.lines().skip_while(|l| *l != "  config.toml: |");
    assert!(lines.next().is_some(), "no block scalar in {doc}");
    let mut text = String::new();
    for line in lines.take_while(|l| l.is_empty() || l.starts_with("    ")) {
        text.push_str(line.get(4..).unwrap_or(""));
        text.push('\n');
    }
    text
}

#[test]
fn every_config_map_holds_a_loadable_configuration() {
    for lab in [default_lab(), chain16()] {
        let text = render_k8s(&lab, &K8sOptions::default()).expect("renders");
        let maps: Vec<&str> = documents(&text)
            .into_iter()
            .filter(|d| kind_of(d) == "ConfigMap")
            .collect();
        assert_eq!(maps.len(), lab.devices.len());
        for (doc, device) in maps.iter().zip(&lab.devices) {
            assert_eq!(name_of(doc), format!("{}-config", device.name));
            let config = DeviceConfig::load_text(&config_text(doc), "test")
                .unwrap_or_else(|e| panic!("{}: {e}\n{doc}", device.name));
            assert_eq!(config.name, device.name);
            assert_eq!(config.interfaces.len(), device.interfaces.len());
        }
    }
    // Zone files ($ORIGIN, indented continuation lines) arrive unchanged.
    let text = render_k8s(&default_lab(), &K8sOptions::default()).expect("renders");
    assert!(text.contains("$ORIGIN") && !text.contains("$$"));
}

#[test]
fn one_deployment_and_one_service_per_device_plus_the_collector() {
    let lab = default_lab();
    let text = render_k8s(&lab, &K8sOptions::default()).expect("renders");
    let docs = documents(&text);
    let count = |kind: &str| docs.iter().filter(|d| kind_of(d) == kind).count();
    assert_eq!(count("Namespace"), 1);
    assert_eq!(count("Deployment"), lab.devices.len() + 1);
    assert_eq!(count("Service"), lab.devices.len() + 1);
    assert_eq!(count("NetworkPolicy"), 2);
    for doc in docs.iter().filter(|d| kind_of(d) == "Service") {
        let name = name_of(doc);
        let headless = doc.contains("  clusterIP: None\n  publishNotReadyAddresses: true\n");
        assert_eq!(headless, name != TRACE_SERVICE, "{doc}");
    }
    assert!(text.contains(
        "          command: [\"/vnet-router\", \"--config\", \"/etc/vnet/config.toml\"]\n"
    ));
    assert!(
        text.contains("peer = \"sw1:40000\""),
        "client's cable goes to sw1 by name"
    );
    assert!(text.contains("              value: \"http://jaeger:4318\"\n"));
    assert!(text.contains("          image: jaegertracing/jaeger:2\n"));
    // sw2 has six ports: the policy admits UDP 40000-40005.
    assert!(text.contains("          port: 40000\n          endPort: 40005\n"));
    assert!(!text.contains("nodeSelector"));
}

#[test]
fn spread_pins_blocks_of_neighbours_to_nodes() {
    let lab = chain16();
    let options = K8sOptions {
        spread: vec!["node-a".into(), "node-b".into()],
        ..K8sOptions::default()
    };
    let text = render_k8s(&lab, &options).expect("renders");
    assert_eq!(
        text.matches("      nodeSelector:\n").count(),
        lab.devices.len()
    );
    let a = text.matches("kubernetes.io/hostname: \"node-a\"").count();
    let b = text.matches("kubernetes.io/hostname: \"node-b\"").count();
    assert_eq!(a + b, lab.devices.len());
    assert!(a.abs_diff(b) <= 1, "{a} vs {b}");
}

#[test]
fn the_offline_collector_runs_from_the_vnet_image() {
    let options = K8sOptions {
        offline_collector: true,
        namespace: Some("lab-offline".into()),
        ..K8sOptions::default()
    };
    let text = render_k8s(&default_lab(), &options).expect("renders");
    let docs = documents(&text);
    let collector = docs
        .iter()
        .find(|d| kind_of(d) == "Deployment" && name_of(d) == TRACE_SERVICE)
        .expect("collector");
    assert!(collector.contains("        - name: device\n          image: \"vnet:latest\"\n"));
    assert!(collector.contains("[\"/vnet-collector\", \"--listen\", \"0.0.0.0:4318\"]"));
    assert!(collector.contains("[\"/vnet-host\", \"--health\", \"127.0.0.1:4318\"]"));
    assert!(!text.contains(JAEGER_IMAGE) && !text.contains("16686\n"));
    assert!(text.contains("  namespace: \"lab-offline\"\n"));
    assert_eq!(
        docs.iter()
            .filter(|d| kind_of(d) == "NetworkPolicy")
            .count(),
        1
    );
}

#[test]
fn bad_namespaces_are_refused() {
    for bad in ["Lab", "my_lab", "-lab", ""] {
        let options = K8sOptions {
            namespace: Some(bad.into()),
            ..K8sOptions::default()
        };
        let err = render_k8s(&default_lab(), &options).expect_err(bad);
        assert!(matches!(err, OrchestratedError::BadK8sName { .. }), "{err}");
    }
}

#[test]
fn text_becomes_a_block_scalar_or_a_quoted_string() {
    assert_eq!(
        yaml_text("a = 1\n\nb = 2\n", 4),
        "|\n    a = 1\n\n    b = 2\n"
    );
    assert_eq!(yaml_text("a\n", 4), "|\n    a\n");
    assert_eq!(yaml_text("a", 4), "|-\n    a\n");
    assert_eq!(yaml_text("a\n\n", 4), "|+\n    a\n\n");
    assert_eq!(yaml_text("  a\nb\n", 4), "|2\n      a\n    b\n");
    assert_eq!(yaml_text("a\r\n", 4), "\"a\\u000d\\n\"\n");
    assert_eq!(yaml_text("", 4), "\"\"\n");
    assert_eq!(quoted("on"), "\"on\"");
    assert_eq!(one_line("vnet gen k8s\n--- a"), "vnet gen k8s --- a");
    assert_eq!(quoted("a\"b\\"), "\"a\\\"b\\\\\"");
}
