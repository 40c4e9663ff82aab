//! Cable peers by name, with real device processes and no Docker: two hosts
//! whose cables name each other through a hosts file (as Swarm and
//! Kubernetes DNS would), then one of them "restarts" at another address
//! — the name moves, the other end follows it, and traffic resumes. The
//! ping runs through `vnet admin-request`, the command `vnet --swarm` and
//! `--k8s` run inside containers.

mod common;

use common::{bin_dir, http, vnet_bin};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free UDP port on `ip` (bound, then released).
fn free_udp_port(ip: &str) -> u16 {
    let s = UdpSocket::bind((ip, 0)).expect("bind");
    s.local_addr().expect("addr").port()
}

/// A free TCP port on 127.0.0.1.
fn free_tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn host_config(name: &str, address: &str, admin: u16, local: SocketAddr, peer: &str) -> String {
    let last_octet = &address
        [address.rfind('.').map_or(0, |i| i + 1)..address.find('/').unwrap_or(address.len())];
    format!(
        "name = \"{name}\"\nkind = \"host\"\nadmin = \"127.0.0.1:{admin}\"\n\n\
         [[interfaces]]\nname = \"eth0\"\nmac = \"02:76:6e:00:00:{last_octet:0>2}\"\n\
         local = \"{local}\"\npeer = \"{peer}\"\naddress = \"{address}\"\n"
    )
}

fn start(dir: &Path, name: &str, config: &str, hosts: &Path) -> Child {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config).expect("config written");
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("log");
    Command::new(bin_dir().join("vnet-host"))
        .arg("--config")
        .arg(&path)
        .env("VNET_HOSTS_FILE", hosts)
        // Nothing to ask: every name is in the hosts file.
        .env("VNET_RESOLV_CONF", dir.join("no-resolv.conf"))
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stderr(log)
        .spawn()
        .expect("vnet-host starts")
}

fn wait_healthy(admin: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], admin));
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            && http("GET", addr, "/health").0 == 200
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("device at {addr} did not become healthy");
}

/// `ping -c 3` from the device at `admin`, through `vnet admin-request`.
fn ping(admin: u16, target: &str) -> String {
    let out = Command::new(vnet_bin())
        .args(["admin-request", "--admin", &format!("127.0.0.1:{admin}")])
        .args(["POST", "/exec", "--body"])
        .arg(format!(
            "{{\"argv\":[\"ping\",\"-c\",\"3\",\"-i\",\"0.2\",\"-W\",\"1\",\"{target}\"]}}"
        ))
        .stdin(Stdio::null())
        .output()
        .expect("vnet admin-request runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("HTTP 200\n"), "framed answer: {text}");
    text
}

struct Kill(Vec<Child>);
impl Drop for Kill {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn a_peer_that_moves_to_another_address_is_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hosts = dir.path().join("hosts");
    let (p1, p2) = (free_udp_port("127.0.0.1"), free_udp_port("127.0.0.2"));
    let (a1, a2) = (free_tcp_port(), free_tcp_port());
    std::fs::write(&hosts, "127.0.0.1 h1.lab.test\n127.0.0.2 h2.lab.test\n").expect("hosts");
    let h1_config = host_config(
        "h1",
        "10.0.0.1/24",
        a1,
        SocketAddr::from(([127, 0, 0, 1], p1)),
        &format!("h2.lab.test:{p2}"),
    );
    let h2_config = |ip: [u8; 4]| {
        host_config(
            "h2",
            "10.0.0.2/24",
            a2,
            SocketAddr::from((ip, p2)),
            &format!("h1.lab.test:{p1}"),
        )
    };
    let mut devices = Kill(vec![
        start(dir.path(), "h1", &h1_config, &hosts),
        start(dir.path(), "h2", &h2_config([127, 0, 0, 2]), &hosts),
    ]);
    wait_healthy(a1);
    wait_healthy(a2);
    let before = ping(a1, "10.0.0.2");
    assert!(before.contains(" 0% packet loss"), "{before}");

    // h2 dies and comes back at 127.0.0.3: only its name stays the same.
    let mut old = devices.0.remove(1);
    old.kill().expect("kill h2");
    old.wait().expect("h2 reaped");
    std::fs::write(&hosts, "127.0.0.1 h1.lab.test\n127.0.0.3 h2.lab.test\n").expect("hosts");
    devices
        .0
        .push(start(dir.path(), "h2", &h2_config([127, 0, 0, 3]), &hosts));
    wait_healthy(a2);

    // h1 talks into silence, re-resolves within a second or two, and the
    // conversation resumes; ping until it does (bounded).
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    while Instant::now() < deadline {
        last = ping(a1, "10.0.0.2");
        if last.contains(" 0% packet loss") {
            break;
        }
    }
    assert!(
        last.contains(" 0% packet loss"),
        "traffic never resumed: {last}"
    );
    let (_, status) = http("GET", SocketAddr::from(([127, 0, 0, 1], a1)), "/status");
    let status: serde_json::Value = serde_json::from_str(&status).expect("status JSON");
    let eth0 = &status["interfaces"][0];
    assert_eq!(eth0["peer"], format!("h2.lab.test:{p2}"));
    assert_eq!(eth0["peer_addr"], format!("127.0.0.3:{p2}"));
    assert_eq!(eth0["counters"]["peer_moves"], 1, "{eth0}");
}
