//! The browser's cache: a second visit in one browser session revalidates
//! every resource (If-None-Match / If-Modified-Since) and shows the 304s;
//! an edited file comes back whole. Plus fetch's HEAD, extra headers and
//! progress reports.

mod common;

use common::{PipeConnector, site};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use vnet_web::browser::{BrowseOptions, HttpCache, Progress, StaticResolver, browse_cached, fetch};
use vnet_web::report::report_lines;
use vnet_web::server::Server;

const WEB: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 10);

fn resolver() -> StaticResolver {
    StaticResolver::default().with("www.example.com", WEB)
}

#[tokio::test]
async fn a_second_visit_revalidates_and_shows_304s() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let connector = PipeConnector::new(server.clone(), WEB);
    let options = BrowseOptions::default();
    let mut cache = HttpCache::default();
    let url = "http://www.example.com/";
    let first = browse_cached(&connector, &resolver(), url, &options, &mut cache)
        .await
        .expect("first visit");
    assert!(first.success());
    assert_eq!(first.resources.len(), 5);
    assert!(
        first
            .resources
            .iter()
            .all(|r| r.status == Some(200) && r.cached.is_none())
    );
    assert_eq!(cache.len(), 5);

    let second = browse_cached(&connector, &resolver(), url, &options, &mut cache)
        .await
        .expect("second visit");
    assert!(second.success(), "{:#?}", report_lines(&second));
    assert_eq!(
        second.resources.len(),
        5,
        "the cached page is scanned again"
    );
    for (r, before) in second.resources.iter().zip(&first.resources) {
        assert_eq!(r.status, Some(304), "{}", r.url);
        assert_eq!(r.bytes, 0);
        assert_eq!(r.cached, Some(before.bytes));
        assert!(r.header("ETag").is_some());
    }
    let lines = report_lines(&second);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("304 Not Modified  0 B (not modified")),
        "{lines:#?}"
    );
    let summary = lines.last().unwrap();
    assert!(
        summary.contains("5 not modified (304, from the cache)"),
        "{summary}"
    );
    assert_eq!(server.counters().snapshot().responses_3xx, 5);

    // An edited stylesheet comes back whole (new length, new tag).
    std::fs::write(
        site.root.join("style.css"),
        b"body { color: red; margin: 0 }\n",
    )
    .unwrap();
    let third = browse_cached(&connector, &resolver(), url, &options, &mut cache)
        .await
        .expect("third visit");
    let css = third
        .resources
        .iter()
        .find(|r| r.url.path == "/style.css")
        .unwrap();
    assert_eq!((css.status, css.bytes, css.cached), (Some(200), 31, None));
}

#[tokio::test]
async fn fetch_sends_head_and_extra_headers_and_reports_progress() {
    let site = site();
    let big: Vec<u8> = (0..2_000_000u32).map(|i| (i % 249) as u8).collect();
    std::fs::write(site.root.join("big.bin"), &big).unwrap();
    let server = Server::new(common::config(&site.root));
    let connector = PipeConnector::new(server, WEB);
    let head_only = BrowseOptions {
        head_only: true,
        ..BrowseOptions::default()
    };
    let f = fetch(
        &connector,
        &resolver(),
        "http://www.example.com/big.bin",
        &head_only,
    )
    .await
    .expect("HEAD");
    assert_eq!((f.head.status, f.body.len()), (200, 0));
    assert_eq!(f.head.headers.get_str("content-length"), Some("2000000"));

    let ranged = BrowseOptions {
        headers: vec![("Range".into(), "bytes=10-19".into())],
        ..BrowseOptions::default()
    };
    let f = fetch(
        &connector,
        &resolver(),
        "http://www.example.com/big.bin",
        &ranged,
    )
    .await
    .expect("range");
    assert_eq!((f.head.status, f.body.as_slice()), (206, &big[10..20]));

    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let with_progress = BrowseOptions {
        progress: Some(Progress(Arc::new(move |done, total| {
            sink.lock().unwrap().push((done, total));
        }))),
        ..BrowseOptions::default()
    };
    let f = fetch(
        &connector,
        &resolver(),
        "http://www.example.com/big.bin",
        &with_progress,
    )
    .await
    .expect("GET");
    assert!(f.body == big);
    // Reports are paced at 250 ms; over in-memory pipes the download may
    // be faster than that, so only their shape is checked.
    for (done, total) in reports.lock().unwrap().iter() {
        assert_eq!(*total, Some(2_000_000));
        assert!(*done <= 2_000_000);
    }
}
