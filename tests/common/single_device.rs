//! One device process whose cable peers are sockets owned by the test
//! (tests/device_robustness.rs, tests/arp_flood.rs): starting it from a
//! config with one interface per peer, and building cable datagrams.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use vnet_cable::Envelope;
use vnet_topology::device::{DeviceConfig, DeviceKind, InterfaceConfig, SwitchConfig};
use vnet_wire::ethernet::{self, EthernetAddress};

/// A running device, killed when dropped.
pub struct Device {
    pub child: Child,
    pub admin: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Device {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_tcp() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
}

/// Starts a device with one interface per peer socket.
pub fn start(
    kind: DeviceKind,
    peers: &[&UdpSocket],
    addresses: &[Option<&str>],
) -> (Device, Vec<SocketAddr>) {
    start_with_env(kind, peers, addresses, None)
}

/// Like [`start`], with `VNET__ADMIN` set to `admin_override` when given.
pub fn start_with_env(
    kind: DeviceKind,
    peers: &[&UdpSocket],
    addresses: &[Option<&str>],
    admin_override: Option<SocketAddr>,
) -> (Device, Vec<SocketAddr>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = free_tcp();
    let locals: Vec<SocketAddr> = peers
        .iter()
        .map(|_| {
            UdpSocket::bind("127.0.0.1:0")
                .expect("bind")
                .local_addr()
                .expect("addr")
        })
        .collect();
    let config = DeviceConfig {
        lab: None,
        name: "dut".into(),
        kind,
        admin,
        admin_token_file: None,
        ttl: None,
        cpus: None,
        rip: None,
        ospf: None,
        interfaces: peers
            .iter()
            .enumerate()
            .map(|(i, p)| InterfaceConfig {
                name: format!("eth{i}"),
                mac: EthernetAddress([0x02, 0, 0, 0, 0, i as u8 + 1]),
                local: locals[i],
                peer: p.local_addr().expect("addr").into(),
                address: addresses
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|a| a.parse().expect("cidr")),
                mtu: 1500,
                tap: None,
                dhcp_client: false,
                dhcp_server: None,
                impairments: None,
            })
            .collect(),
        gateway: None,
        nameservers: Vec::new(),
        routes: Vec::new(),
        neighbors: Vec::new(),
        switch: SwitchConfig::default(),
        dns: None,
        web: None,
        tls: None,
        capture_dir: None,
        state_dir: None,
    };
    let path = dir.path().join("dut.toml");
    std::fs::write(&path, toml::to_string(&config).expect("toml")).expect("write");
    let binary = Path::new(&super::bin_dir()).join(kind.binary_name());
    let mut cmd = Command::new(binary);
    cmd.arg("--config").arg(&path);
    if let Some(a) = admin_override {
        cmd.env("VNET__ADMIN", a.to_string());
    }
    let child = cmd.spawn().expect("device starts");
    let admin = admin_override.unwrap_or(admin);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(admin).is_err() {
        assert!(Instant::now() < deadline, "device did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (
        Device {
            child,
            admin,
            _dir: dir,
        },
        locals,
    )
}

/// A frame in a cable datagram (envelope, padding, FCS).
pub fn datagram(frame: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let h = Envelope {
        seq: 0,
        trace: None,
    }
    .encode(&mut buf);
    buf[h..h + frame.len()].copy_from_slice(frame);
    let n = ethernet::pad_and_append_fcs(&mut buf[h..], frame.len());
    buf.truncate(h + n);
    buf
}
