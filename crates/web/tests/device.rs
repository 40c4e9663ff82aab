//! End to end over real vnet cables (UDP on loopback) and vnet's own TCP:
//! a web device serving a document root, and a second device running the
//! browser through `TcpStream::connect`.
//!
//! ```text
//!  client 10.0.3.20 ── eth0 ─── eth0 web 10.0.3.10 (port 80)
//! ```

mod common;

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Mutex;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vnet_runtime::net_tcp::TcpStream;
use vnet_runtime::{Device, DeviceHandle, DeviceSpec, ExecFuture};
use vnet_topology::device::DeviceConfig;
use vnet_web::WebServer;
use vnet_web::browser::{BrowseOptions, Connector, StaticResolver, browse, fetch};
use vnet_web::report::report_lines;

static HANDLES: Mutex<Vec<(String, DeviceHandle<WebServer>)>> = Mutex::new(Vec::new());

fn start(handle: DeviceHandle<WebServer>) -> ExecFuture {
    let name = handle.config().name.clone();
    HANDLES
        .lock()
        .expect("handles")
        .push((name, handle.clone()));
    vnet_web::service::start(handle)
}

fn spec() -> DeviceSpec<WebServer> {
    DeviceSpec {
        start: Some(start),
        ..vnet_web::spec()
    }
}

/// Connects with vnet's own TCP from inside a device.
struct VnetConnector(DeviceHandle<WebServer>);

impl Connector for VnetConnector {
    type Stream = TcpStream<WebServer>;
    async fn connect(&self, addr: Ipv4Addr, port: u16) -> io::Result<TcpStream<WebServer>> {
        let s = TcpStream::connect(&self.0, SocketAddrV4::new(addr, port)).await?;
        s.set_nodelay(true);
        Ok(s)
    }
}

fn free_port() -> SocketAddr {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr")
}

fn device(
    name: &str,
    mac: u8,
    local: SocketAddr,
    peer: SocketAddr,
    addr: &str,
    web: &str,
) -> DeviceConfig {
    let text = format!(
        "name = \"{name}\"\nkind = \"web\"\nadmin = \"127.0.0.1:0\"\n\
         [[interfaces]]\nname = \"eth0\"\nmac = \"02:76:6e:{mac:02x}:00:00\"\n\
         local = \"{local}\"\npeer = \"{peer}\"\naddress = \"{addr}/24\"\n{web}"
    );
    DeviceConfig::load_text(&text, name).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"))
}

async fn handles(count: usize) -> HashMap<String, DeviceHandle<WebServer>> {
    for _ in 0..500 {
        {
            let h = HANDLES.lock().expect("handles");
            if h.len() == count {
                return h.iter().cloned().collect();
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("devices did not start");
}

#[tokio::test]
async fn browse_over_vnet_tcp() {
    let site = common::site();
    let big: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(site.root.join("big.bin"), &big).expect("big");
    let (a, b) = (free_port(), free_port());
    let web = device(
        "web",
        1,
        a,
        b,
        "10.0.3.10",
        &format!(
            "[web]\nroot = {:?}\nidle_timeout_secs = 5\n",
            site.root.display().to_string()
        ),
    );
    let client = device("client", 2, b, a, "10.0.3.20", "");
    let shutdown = CancellationToken::new();
    let mut tasks = Vec::new();
    for config in [web, client] {
        let stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            vnet_runtime::run(config, &spec(), stop).await
        }));
    }
    let h = handles(2).await;
    let connector = VnetConnector(h["client"].clone());
    let resolver = StaticResolver::default().with("www.example.com", Ipv4Addr::new(10, 0, 3, 10));

    let report = browse(
        &connector,
        &resolver,
        "http://www.example.com/",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    let lines = report_lines(&report);
    assert!(report.success(), "{lines:#?}");
    assert_eq!(report.resources.len(), 5);
    assert_eq!(report.connections.len(), 1, "{lines:#?}");

    let f = fetch(
        &connector,
        &resolver,
        "http://10.0.3.10/big.bin",
        &BrowseOptions::default(),
    )
    .await
    .expect("fetch");
    assert_eq!(f.head.status, 200);
    assert!(f.body == big, "big.bin arrived intact");

    // The web device's counters and table.
    let web = &h["web"];
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (snapshot, json, tables) = web.with(|d, _, _| {
        let http = d.http().expect("web settings");
        (http.server.counters().snapshot(), d.counters(), d.tables())
    });
    assert_eq!(snapshot.connections_accepted, 2);
    assert_eq!((snapshot.requests, snapshot.responses_2xx), (6, 6));
    assert!(snapshot.bytes_sent > big.len() as u64);
    assert_eq!(json["web"]["requests"], 6);
    // The slowloris defences' counters are in the status JSON too.
    for name in ["refused_per_client", "evicted_idle", "head_timeouts"] {
        assert_eq!(json["web"][name], 0, "{name} in {json}");
    }
    assert!(
        json.as_object().is_some_and(|o| o.len() > 1),
        "stack counters next to \"web\""
    );
    assert!(tables.contains(&"connections"));
    // The client device has no web settings: no HTTP side.
    assert!(h["client"].with(|d, _, _| d.http().is_none()));

    shutdown.cancel();
    for t in tasks {
        t.await.expect("join").expect("device ran");
    }
}
