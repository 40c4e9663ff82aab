//! The default lab's site (`configs/www`): every file it references is
//! served, is a valid file of its type, and stays small.

mod common;

use common::PipeConnector;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use vnet_web::browser::{BrowseOptions, ResourceKind, StaticResolver, browse};
use vnet_web::report::report_lines;
use vnet_web::server::{Server, ServerConfig};

fn www() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/www")
}

#[tokio::test]
async fn the_lab_page_loads_whole() {
    let server = Server::new(ServerConfig::new(www()).expect("configs/www"));
    let addr = Ipv4Addr::new(10, 0, 3, 10);
    let connector = PipeConnector::new(server, addr);
    let resolver = StaticResolver::default().with("www.example.com", addr);
    let out = tempfile::tempdir().expect("tempdir");
    let options = BrowseOptions {
        save_dir: Some(out.path().to_path_buf()),
        ..BrowseOptions::default()
    };
    let report = browse(&connector, &resolver, "http://www.example.com/", &options)
        .await
        .expect("browse");
    let lines = report_lines(&report);
    assert!(report.success(), "{lines:#?}");
    assert_eq!(report.connections.len(), 1);
    let kinds: Vec<(ResourceKind, Option<&str>)> = report
        .resources
        .iter()
        .map(|r| (r.kind, r.header("content-type")))
        .collect();
    assert_eq!(
        kinds,
        [
            (ResourceKind::Page, Some("text/html; charset=utf-8")),
            (ResourceKind::Stylesheet, Some("text/css; charset=utf-8")),
            (ResourceKind::Image, Some("image/png")),
            (ResourceKind::Image, Some("image/svg+xml")),
            (ResourceKind::Image, Some("image/jpeg")),
        ]
    );
    for r in &report.resources {
        assert!(r.bytes < 20 * 1024, "{} is {} bytes", r.url, r.bytes);
        // The browser writes nothing itself: the body comes back to save.
        assert!(r.saved.is_some(), "{} to be saved", r.url);
        let saved = r.saved_body.clone().expect("saved body");
        let path = r.url.path.trim_start_matches('/');
        let path = if path.is_empty() { "index.html" } else { path };
        let original = std::fs::read(www().join(path)).expect("original");
        assert!(saved == original, "{path} differs");
        match path.rsplit('.').next() {
            Some("png") => {
                assert!(saved.starts_with(b"\x89PNG\r\n\x1a\n"));
                assert!(saved.ends_with(b"IEND\xaeB`\x82"), "PNG ends with IEND");
            }
            Some("jpg") => {
                assert!(saved.starts_with(b"\xff\xd8\xff"), "JPEG SOI");
                assert!(saved.ends_with(b"\xff\xd9"), "JPEG EOI");
            }
            Some("svg") => {
                let text = String::from_utf8(saved).expect("utf-8");
                assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
                assert!(text.trim_end().ends_with("</svg>"));
            }
            _ => {}
        }
    }
}
