use super::*;
use crate::render::{AddressPlan, mac_address, render};
use std::net::SocketAddr;

fn parse(text: &str) -> Result<Lab, TopologyError> {
    Lab::parse(Path::new("test.toml"), text)
}

fn err(text: &str) -> TopologyError {
    match parse(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

const SMALL: &str = r#"
name = "small"
links = [
  { a = "h1:eth0", b = "sw:eth0" },
  { a = "r1:eth0", b = "sw:eth1" },
  { a = "r1:eth1", b = "h2:eth0", mtu = 576 },
]

[devices.h1]
kind = "host"
gateway = "10.0.1.1"
interfaces.eth0 = { address = "10.0.1.10/24" }

[devices.sw]
kind = "switch"

[devices.r1]
kind = "router"
interfaces.eth0 = { address = "10.0.1.1/24" }
interfaces.eth1 = { address = "10.0.2.1/24" }
routes = [{ to = "10.9.0.0/16", via = "10.0.2.10" }]

[devices.h2]
kind = "host"
gateway = "10.0.2.1"
interfaces.eth0 = { address = "10.0.2.10/24" }
"#;

#[test]
fn valid_lab_parses_with_ports_in_order_and_link_mtu() {
    let lab = parse(SMALL).expect("valid");
    assert_eq!(lab.name, "small");
    let sw = lab.device("sw").expect("switch exists");
    let names: Vec<_> = sw.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["eth0", "eth1"]);
    let r1 = lab.device("r1").expect("router exists");
    assert_eq!(r1.interfaces[0].mtu, 1500);
    assert_eq!(r1.interfaces[1].mtu, 576);
    assert_eq!(lab.device("h2").expect("h2").interfaces[0].mtu, 576);
    assert_eq!(r1.routes.len(), 1);
}

#[test]
fn unknown_device_in_link_names_line_and_field() {
    let text = SMALL.replace(r#"b = "h2:eth0""#, r#"b = "h9:eth0""#);
    let e = err(&text);
    assert_eq!(e.field, "links[2].b");
    assert_eq!(e.line, 6);
    assert!(e.message.contains("unknown device \"h9\""), "{}", e.message);
    assert!(e.to_string().starts_with("test.toml:6:"), "{e}");
}

#[test]
fn port_used_twice_is_rejected() {
    let text = SMALL.replace(
        r#"{ a = "r1:eth0", b = "sw:eth1" }"#,
        r#"{ a = "r1:eth0", b = "sw:eth0" }"#,
    );
    let e = err(&text);
    assert_eq!(e.field, "links[1].b");
    assert!(
        e.message.contains("sw:eth0 is already used by links[0]"),
        "{}",
        e.message
    );
}

#[test]
fn overlapping_subnets_on_one_router_are_rejected() {
    let text = SMALL
        .replace(r#"address = "10.0.2.1/24""#, r#"address = "10.0.1.129/25""#)
        .replace(r#"gateway = "10.0.2.1""#, r#"gateway = "10.0.1.129""#)
        .replace("10.0.2.10", "10.0.1.130");
    let e = err(&text);
    assert_eq!(e.field, "devices.r1.interfaces.eth1.address");
    assert!(e.message.contains("overlaps"), "{}", e.message);
}

#[test]
fn missing_field_is_reported_with_its_name_and_line() {
    let text = SMALL.replace("kind = \"switch\"\n", "");
    let e = err(&text);
    assert!(e.message.contains("missing field `kind`"), "{}", e.message);
    assert!(e.line > 0, "{e}");
}

#[test]
fn unknown_kind_and_bad_address_name_the_value() {
    let e = err(&SMALL.replace(r#"kind = "router""#, r#"kind = "ruoter""#));
    assert_eq!(e.field, "devices.r1.kind");
    assert!(e.message.contains("\"ruoter\""));
    let e = err(&SMALL.replace("10.0.1.10/24", "10.0.1.300/24"));
    assert_eq!(e.field, "devices.h1.interfaces.eth0.address");
    assert!(e.message.contains("10.0.1.300/24"));
}

#[test]
fn unlinked_interface_and_off_net_gateway_are_rejected() {
    let e = err(&SMALL.replace(
        "interfaces.eth1 = { address = \"10.0.2.1/24\" }",
        "interfaces.eth1 = { address = \"10.0.2.1/24\" }\ninterfaces.eth2 = { address = \"10.0.3.1/24\" }",
    ));
    assert_eq!(e.field, "devices.r1.interfaces.eth2");
    let e = err(&SMALL.replace(r#"gateway = "10.0.1.1""#, r#"gateway = "10.0.5.1""#));
    assert_eq!(e.field, "devices.h1.gateway");
}

#[test]
fn duplicate_address_and_unknown_field_are_rejected() {
    let e = err(&SMALL
        .replace("10.0.2.10/24", "10.0.2.1/24")
        .replace("via = \"10.0.2.10\"", "via = \"10.0.2.1\""));
    assert!(e.message.contains("also assigned"), "{}", e.message);
    let e = err(&SMALL.replace("kind = \"switch\"", "kind = \"switch\"\ncolour = \"blue\""));
    assert!(e.message.contains("colour"), "{}", e.message);
}

struct Counting(u16);
impl AddressPlan for Counting {
    fn cable_end(&mut self, _: usize, _: &LabDevice, _: usize) -> SocketAddr {
        self.0 += 1;
        SocketAddr::from(([127, 0, 0, 1], 20000 + self.0))
    }
    fn admin(&mut self, _: usize, _: &LabDevice) -> SocketAddr {
        self.0 += 1;
        SocketAddr::from(([127, 0, 0, 1], 30000 + self.0))
    }
}

#[test]
fn render_wires_each_end_to_its_peer() {
    let lab = parse(SMALL).expect("valid");
    let configs = render(&lab, &mut Counting(0), None);
    let find = |dev: &str, iface: &str| {
        configs
            .iter()
            .find(|c| c.name == dev)
            .and_then(|c| c.interfaces.iter().find(|i| i.name == iface))
            .cloned()
            .expect("interface rendered")
    };
    for link in &lab.links {
        let a = find(&link.a.device, &link.a.interface);
        let b = find(&link.b.device, &link.b.interface);
        assert_eq!(a.peer, b.local.into(), "{link:?}");
        assert_eq!(b.peer, a.local.into(), "{link:?}");
    }
    let h1 = configs.iter().find(|c| c.name == "h1").expect("h1");
    assert_eq!(h1.gateway, Some("10.0.1.1".parse().expect("ip")));
    let di = lab
        .devices
        .iter()
        .position(|d| d.name == "h1")
        .expect("index");
    assert_eq!(h1.interfaces[0].mac, mac_address(di, 0));
    // Rendered configs round-trip through TOML.
    for c in &configs {
        let text = toml::to_string(c).expect("serializes");
        let back: crate::DeviceConfig = toml::from_str(&text).expect("parses back");
        assert_eq!(&back, c);
    }
}

#[test]
fn the_default_lab_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/lab.toml");
    let lab = Lab::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(lab.devices.len() >= 7);
}

#[test]
fn web_settings_parse_and_belong_to_web_servers_only() {
    let root = std::env::temp_dir();
    let web = format!(
        "{SMALL}\n[devices.web]\nkind = \"web\"\nroot = {:?}\ninterfaces.eth0 = {{ address = \"10.0.1.80/24\" }}\n",
        root.display().to_string()
    )
    .replace(
        "{ a = \"h1:eth0\", b = \"sw:eth0\" },",
        "{ a = \"h1:eth0\", b = \"sw:eth0\" },\n  { a = \"web:eth0\", b = \"sw:eth2\" },",
    );
    let lab = parse(&web).expect("defaults");
    let find = |lab: &Lab| {
        let d = lab.devices.iter().find(|d| d.name == "web").expect("web");
        d.web.clone().expect("web settings")
    };
    let settings = find(&lab);
    assert_eq!(
        (
            settings.idle_timeout_secs,
            settings.max_requests_per_connection
        ),
        (15, 100)
    );
    let tuned = web.replace(
        "kind = \"web\"",
        "kind = \"web\"\nidle_timeout_secs = 60\nmax_requests_per_connection = 5000",
    );
    let settings = find(&parse(&tuned).expect("tuned"));
    assert_eq!(
        (
            settings.idle_timeout_secs,
            settings.max_requests_per_connection
        ),
        (60, 5000)
    );
    let e = err(&web.replace(
        "kind = \"web\"",
        "kind = \"web\"\nmax_requests_per_connection = 0",
    ));
    assert_eq!(e.field, "devices.web.max_requests_per_connection");
    let e = err(&web.replace("kind = \"web\"", "kind = \"web\"\nidle_timeout_secs = 0"));
    assert_eq!(e.field, "devices.web.idle_timeout_secs");
    let e = err(&SMALL.replace(
        "kind = \"switch\"",
        "kind = \"switch\"\nidle_timeout_secs = 5",
    ));
    assert_eq!(e.field, "devices.sw.idle_timeout_secs");
    assert!(e.message.contains("only web servers"), "{}", e.message);
}

#[test]
fn type_errors_name_the_field_path_line_and_column() {
    let text = SMALL.replace("mtu = 576", "mtu = 100000");
    let e = err(&text);
    assert_eq!(e.field, "links[2].mtu", "{e}");
    assert!(
        e.message
            .contains("invalid value: integer `100000`, expected u16"),
        "{e}"
    );
    let at = text.find("100000").expect("value");
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    assert_eq!((e.line, e.column), (line, column), "{e}");
    assert_eq!(
        e.to_string(),
        format!("test.toml:{line}:{column}: links[2].mtu: {}", e.message)
    );

    let e = err(&SMALL.replace(
        r#"interfaces.eth1 = { address = "10.0.2.1/24" }"#,
        r#"interfaces.eth1 = { address = "10.0.2.1/24", mtu = "big" }"#,
    ));
    assert_eq!(e.field, "devices.r1.interfaces.eth1.mtu", "{e}");
    assert!(e.line > 0, "{e}");
    let e = err(&SMALL.replace("kind = \"switch\"\n", ""));
    assert_eq!(e.field, "devices.sw", "{e}");
}

#[test]
fn a_topology_without_devices_is_refused() {
    for text in ["", "name = \"empty\"\n", "name = \"x\"\nlinks = []\n"] {
        let e = err(text);
        assert_eq!((e.line, e.field.as_str()), (0, ""), "{e}");
        assert!(
            e.to_string()
                .starts_with("test.toml: the topology has no devices: add a [devices.NAME] table"),
            "{e}"
        );
    }
}
