//! HTTPS over in-memory pipes: the browser's TLS client against the web
//! server's TLS acceptor, with certificates from the lab CA code `vnet up`
//! uses (vnet-pki). Byte-exact bodies over one keep-alive TLS connection,
//! the browser's words for refused certificates, the key log's format.

mod common;

use common::{INDEX, site};
use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::DuplexStream;
use vnet_pki::{LabCa, Validity};
use vnet_web::browser::{BrowseError, BrowseOptions, Connector, StaticResolver, browse, fetch};
use vnet_web::server::Server;
use vnet_web::tls::{KeyLogFile, TlsClient, TlsServer};

const WEB: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 10);

/// Connects to `server` behind `tls` on port 443 of [`WEB`].
struct TlsPipe {
    server: Server,
    tls: TlsServer,
    connects: AtomicUsize,
}

impl Connector for TlsPipe {
    type Stream = DuplexStream;
    async fn connect(&self, addr: Ipv4Addr, port: u16) -> io::Result<DuplexStream> {
        if (addr, port) != (WEB, 443) {
            return Err(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        }
        self.connects.fetch_add(1, Ordering::SeqCst);
        let (client, end) = tokio::io::duplex(256 * 1024);
        let (server, tls) = (self.server.clone(), self.tls.clone());
        tokio::spawn(async move {
            if let Ok((stream, _)) = tls.accept(end, Duration::from_secs(5), &|| None).await {
                server.serve_connection(stream, None).await;
            }
        });
        Ok(client)
    }
}

fn resolver() -> StaticResolver {
    StaticResolver::default()
        .with("www.example.com", WEB)
        .with("www.example.org", WEB)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

struct Setup {
    _site: common::Site,
    connector: TlsPipe,
    options: BrowseOptions,
}

fn setup(ca: &LabCa, leaf: &vnet_pki::Issued, keylog: Option<Arc<KeyLogFile>>) -> Setup {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let tls = TlsServer::new(&leaf.cert_pem, &leaf.key_pem, None).expect("server TLS");
    let client = TlsClient::new(ca.cert_pem(), keylog).expect("client TLS");
    Setup {
        _site: site,
        connector: TlsPipe {
            server,
            tls,
            connects: AtomicUsize::new(0),
        },
        options: BrowseOptions {
            tls: Some(client),
            ..BrowseOptions::default()
        },
    }
}

#[tokio::test]
async fn a_page_and_its_resources_over_one_tls_connection() {
    let ca = LabCa::generate("t").expect("CA");
    let leaf = ca
        .issue(&names(&["www.example.com"]), &[WEB])
        .expect("leaf");
    let s = setup(&ca, &leaf, None);
    let report = browse(
        &s.connector,
        &resolver(),
        "https://www.example.com/",
        &s.options,
    )
    .await
    .expect("browse");
    assert!(report.success(), "{report:#?}");
    assert!(report.resources.len() > 1, "page and resources");
    assert_eq!(s.connector.connects.load(Ordering::SeqCst), 1, "keep-alive");
    assert_eq!(report.connections.len(), 1);
    let negotiated = report.connections[0].tls.as_ref().expect("TLS info");
    assert_eq!(negotiated.version, "TLS 1.3");
    assert!(negotiated.suite.starts_with("TLS_"), "{negotiated:?}");
    assert_eq!(negotiated.alpn.as_deref(), Some("http/1.1"));
    let page = &report.resources[0];
    assert!(page.timings.tls.is_some(), "the TLS phase is timed");
    assert!(report.resources[1..].iter().all(|r| r.reused));
    let lines = vnet_web::report::report_lines(&report).join("\n");
    assert!(lines.contains("TLS handshake in"), "{lines}");
    assert!(lines.contains("  tls "), "{lines}");

    // The body, byte for byte.
    let fetched = fetch(
        &s.connector,
        &resolver(),
        "https://www.example.com/",
        &s.options,
    )
    .await
    .expect("fetch");
    assert_eq!(fetched.head.status, 200);
    assert_eq!(fetched.body, INDEX.as_bytes());
}

#[tokio::test]
async fn a_large_body_arrives_byte_exact() {
    let ca = LabCa::generate("t").expect("CA");
    let leaf = ca.issue(&names(&["www.example.com"]), &[]).expect("leaf");
    let s = setup(&ca, &leaf, None);
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(s._site.root.join("big.bin"), &big).expect("big");
    let fetched = fetch(
        &s.connector,
        &resolver(),
        "https://www.example.com/big.bin",
        &s.options,
    )
    .await
    .expect("fetch");
    assert_eq!(fetched.head.status, 200);
    assert!(fetched.body == big, "3 MB over TLS, byte-exact");
}

async fn refusal(s: &Setup, url: &str) -> String {
    match fetch(&s.connector, &resolver(), url, &s.options).await {
        Err(BrowseError::Tls { reason, .. }) => reason,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[tokio::test]
async fn refused_certificates_are_worded_like_a_browser() {
    let ca = LabCa::generate("t").expect("CA");
    let leaf = ca.issue(&names(&["www.example.com"]), &[]).expect("leaf");
    let s = setup(&ca, &leaf, None);
    assert_eq!(
        refusal(&s, "https://www.example.org/").await,
        "certificate is not valid for www.example.org"
    );
    // An IP literal the certificate does not name.
    assert_eq!(
        refusal(&s, "https://10.0.3.10/").await,
        "certificate is not valid for 10.0.3.10"
    );

    let expired = ca
        .issue_valid(
            &names(&["www.example.com"]),
            &[],
            Validity {
                not_before: 1_500_000_000,
                not_after: 1_600_000_000,
            },
        )
        .expect("expired leaf");
    let s = setup(&ca, &expired, None);
    assert_eq!(
        refusal(&s, "https://www.example.com/").await,
        "certificate has expired"
    );

    let other = LabCa::generate("other").expect("CA");
    let foreign = other
        .issue(&names(&["www.example.com"]), &[])
        .expect("leaf");
    let s = setup(&ca, &foreign, None);
    assert!(
        refusal(&s, "https://www.example.com/")
            .await
            .contains("unknown issuer"),
    );
}

#[tokio::test]
async fn https_without_tls_settings_says_why() {
    let ca = LabCa::generate("t").expect("CA");
    let leaf = ca.issue(&names(&["www.example.com"]), &[]).expect("leaf");
    let s = setup(&ca, &leaf, None);
    let plain = BrowseOptions::default();
    let e = fetch(
        &s.connector,
        &resolver(),
        "https://www.example.com/",
        &plain,
    )
    .await
    .expect_err("no CA");
    assert!(e.to_string().contains("https needs TLS settings"), "{e}");
    assert_eq!(
        s.connector.connects.load(Ordering::SeqCst),
        0,
        "nothing sent"
    );
}

#[tokio::test]
async fn the_key_log_has_the_tls13_secrets_in_nss_format() {
    let ca = LabCa::generate("t").expect("CA");
    let leaf = ca.issue(&names(&["www.example.com"]), &[]).expect("leaf");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.txt");
    let keylog = KeyLogFile::open(&path).expect("key log");
    let s = setup(&ca, &leaf, Some(keylog));
    fetch(
        &s.connector,
        &resolver(),
        "https://www.example.com/",
        &s.options,
    )
    .await
    .expect("fetch");
    let text = std::fs::read_to_string(&path).expect("read key log");
    let labels: Vec<&str> = text
        .lines()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    for label in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ] {
        assert!(labels.contains(&label), "{label} missing:\n{text}");
    }
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert_eq!(fields[1].len(), 64, "client random: 32 bytes hex: {line}");
        assert!(
            fields[1..]
                .iter()
                .all(|f| f.bytes().all(|b| b.is_ascii_hexdigit()))
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key log is private: {mode:o}");
    }
}

#[test]
fn bad_pem_is_an_error_naming_the_input() {
    let e = TlsClient::new("not a certificate", None).expect_err("bad CA");
    assert!(e.to_string().contains("CA certificate"), "{e}");
    let ca = LabCa::generate("t").expect("CA");
    let leaf = ca.issue(&names(&["a.example"]), &[]).expect("leaf");
    let e = TlsServer::new(&leaf.cert_pem, "garbage", None).expect_err("bad key");
    assert!(e.to_string().contains("private key"), "{e}");
}
