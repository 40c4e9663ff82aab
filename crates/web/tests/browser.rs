//! The browser against the server over in-memory pipes, and against
//! scripted servers for the framings and failures the server never makes.

mod common;

use common::{PipeConnector, ScriptConnector, site};
use proptest::prelude::*;
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::time::Duration;
use vnet_web::browser::{
    BrowseError, BrowseOptions, ResourceKind, StaticResolver, browse, fetch, request_head,
};
use vnet_web::report::report_lines;
use vnet_web::server::Server;
use vnet_wire::http::{Method, Parse, Url, parse_request_head};

const WEB: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 10);

fn resolver() -> StaticResolver {
    StaticResolver::default().with("www.example.com", WEB)
}

#[tokio::test]
async fn page_and_four_resources_over_one_connection() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let connector = PipeConnector::new(server.clone(), WEB);
    let report = browse(
        &connector,
        &resolver(),
        "http://www.example.com/",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    let got: Vec<(ResourceKind, String, Option<u16>)> = report
        .resources
        .iter()
        .map(|r| (r.kind, r.url.request_target(), r.status))
        .collect();
    assert_eq!(
        got,
        vec![
            (ResourceKind::Page, "/".into(), Some(200)),
            (ResourceKind::Stylesheet, "/style.css".into(), Some(200)),
            (ResourceKind::Script, "/js/app.js".into(), Some(200)),
            (ResourceKind::Image, "/img/a.png".into(), Some(200)),
            (ResourceKind::Image, "/img/b.jpg".into(), Some(200)),
        ],
        "each resource once (a.png#again is the same resource)"
    );
    assert!(report.success());
    assert_eq!(
        connector.connects.load(Ordering::SeqCst),
        1,
        "one TCP connection"
    );
    assert_eq!(report.connections.len(), 1);
    assert_eq!(report.connections[0].requests, 5);
    assert!(
        report.resources[1..]
            .iter()
            .all(|r| r.reused && r.connection == Some(1))
    );
    assert!(
        report.resources[0].timings.connect.is_some() && report.resources[0].timings.dns.is_some()
    );
    assert!(
        report.resources[1..]
            .iter()
            .all(|r| r.timings.connect.is_none() && r.timings.dns.is_none())
    );
    assert_eq!(report.lookups.len(), 1, "one lookup per name");
    assert_eq!(report.resources[3].bytes, common::PNG.len() as u64);
    assert_eq!(
        report.resources[3].header("content-type"),
        Some("image/png")
    );
    tokio::task::yield_now().await;
    let c = server.counters().snapshot();
    assert_eq!(
        (c.connections_accepted, c.requests, c.responses_2xx),
        (1, 5, 5)
    );

    let lines = report_lines(&report);
    if std::env::var_os("SHOW_REPORT").is_some() {
        println!("{}", lines.join("\n"));
    }
    assert_eq!(
        lines[0],
        "URL http://www.example.com/ (scheme http, host www.example.com, port 80 (default), path /)"
    );
    assert!(
        lines[1].starts_with("DNS www.example.com -> 10.0.3.10 in "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("TCP #1 to 10.0.3.10:80: connected in "),
        "{}",
        lines[2]
    );
    assert!(lines[2].ends_with(", 5 requests"), "{}", lines[2]);
    assert!(
        lines[3].starts_with(" 1 page        GET /  200 OK  text/html; charset=utf-8  "),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].contains("#1 new") && lines[3].contains("first byte"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].contains("Server: vnet-web") && lines[4].contains("Connection: keep-alive"),
        "{}",
        lines[4]
    );
    assert!(
        lines
            .iter()
            .any(|l| l
                .starts_with(" 4 image       GET /img/a.png  200 OK  image/png  69 B  #1 reused")),
        "{lines:#?}"
    );
    let last = lines.last().expect("summary");
    assert!(last.starts_with("5 requests, 5 ok, "), "{last}");
    assert!(
        last.ends_with(" over 1 TCP connection (4 requests reused one)"),
        "{last}"
    );
}

#[tokio::test]
async fn saved_files_are_byte_identical() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let connector = PipeConnector::new(server, WEB);
    let out = tempfile::tempdir().expect("tempdir");
    let options = BrowseOptions {
        save_dir: Some(out.path().to_path_buf()),
        ..BrowseOptions::default()
    };
    let report = browse(&connector, &resolver(), "www.example.com", &options)
        .await
        .expect("browse");
    assert!(report.success(), "{:#?}", report_lines(&report));
    for (saved, original) in [
        ("index.html", "index.html"),
        ("style.css", "style.css"),
        ("js/app.js", "js/app.js"),
        ("img/a.png", "img/a.png"),
        ("img/b.jpg", "img/b.jpg"),
    ] {
        // The browser writes nothing itself: each body comes back with the
        // path it is to be saved at (its caller writes it).
        let path = out.path().join(saved);
        let a = report
            .resources
            .iter()
            .find(|r| r.saved.as_ref() == Some(&path))
            .and_then(|r| r.saved_body.clone())
            .unwrap_or_else(|| panic!("{saved} not to be saved"));
        let b = std::fs::read(site.root.join(original)).expect("original");
        assert!(a == b, "{saved} differs");
    }
    assert_eq!(
        report.resources[0].saved,
        Some(out.path().join("index.html"))
    );
    assert!(
        report_lines(&report)
            .iter()
            .any(|l| l.trim_start().starts_with("saved to "))
    );
}

#[tokio::test]
async fn follows_redirects() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let connector = PipeConnector::new(server, WEB);
    let report = browse(
        &connector,
        &resolver(),
        "http://www.example.com/dir",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    assert_eq!(report.resources.len(), 2);
    assert_eq!(report.resources[0].status, Some(301));
    assert_eq!(
        report.resources[0].redirect_to.as_deref(),
        Some("http://www.example.com/dir/")
    );
    assert_eq!(report.page().and_then(|p| p.status), Some(200));
    assert!(report.success());
    assert_eq!(
        connector.connects.load(Ordering::SeqCst),
        1,
        "the redirect reuses the connection"
    );
    let lines = report_lines(&report);
    assert!(
        lines[3].contains("301 Moved Permanently -> http://www.example.com/dir/"),
        "{lines:#?}"
    );

    // fetch without following returns the redirect itself.
    let no_follow = BrowseOptions {
        max_redirects: 0,
        ..BrowseOptions::default()
    };
    let f = fetch(
        &connector,
        &resolver(),
        "http://www.example.com/dir",
        &no_follow,
    )
    .await
    .expect("fetch");
    assert_eq!(f.head.status, 301);
    let f = fetch(
        &connector,
        &resolver(),
        "http://www.example.com/dir",
        &BrowseOptions::default(),
    )
    .await
    .expect("fetch");
    assert_eq!(
        (f.head.status, f.body.as_slice()),
        (200, &b"<p>dir index</p>"[..])
    );
    assert_eq!(f.url.to_string(), "http://www.example.com/dir/");
}

fn redirect(location: &str) -> Vec<u8> {
    format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

#[tokio::test]
async fn redirect_loops_stop_after_five() {
    let responses = (0..10).map(|i| redirect(&format!("/r{i}"))).collect();
    let connector = ScriptConnector::new(responses, false);
    let report = browse(
        &connector,
        &resolver(),
        "http://www.example.com/",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    assert_eq!(
        report.resources.len(),
        6,
        "the first request and 5 redirects"
    );
    assert!(!report.success());
    let last = report.resources.last().expect("last");
    assert_eq!(last.error.as_deref(), Some("stopped after 5 redirects"));
    let err = fetch(
        &connector,
        &resolver(),
        "http://www.example.com/",
        &BrowseOptions::default(),
    )
    .await;
    assert!(err.is_err());
    // Relative and absolute Location values, and a redirect to https.
    let connector = ScriptConnector::new(
        vec![
            redirect("a/b?x=1"),
            redirect("../c"),
            redirect("https://www.example.com/"),
        ],
        false,
    );
    let report = browse(
        &connector,
        &resolver(),
        "http://www.example.com/d/e",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    let targets: Vec<Option<&str>> = report
        .resources
        .iter()
        .map(|r| r.redirect_to.as_deref())
        .collect();
    assert_eq!(
        targets,
        [
            Some("http://www.example.com/d/a/b?x=1"),
            Some("http://www.example.com/d/c"),
            Some("https://www.example.com/"),
            None
        ]
    );
    // Followed to https, which needs the lab CA this browser was not given.
    assert!(
        report.resources[3]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("https needs TLS settings")),
        "{:?}",
        report.resources[3].error
    );
}

#[tokio::test]
async fn chunked_and_close_delimited_responses() {
    let page = b"<html><img src=/i.png></html>";
    let mut chunked =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for part in page.chunks(7) {
        vnet_wire::http::encode_chunk(part, &mut chunked);
    }
    vnet_wire::http::encode_last_chunk(&mut chunked);
    let close = b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\nPNGDATA".to_vec();
    let connector = ScriptConnector::new(vec![chunked, close], true);
    let report = browse(
        &connector,
        &resolver(),
        "http://www.example.com/",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    assert!(report.success(), "{:#?}", report_lines(&report));
    assert_eq!(report.resources[0].bytes, page.len() as u64);
    assert_eq!(
        report.resources[0].header("transfer-encoding"),
        Some("chunked")
    );
    assert_eq!(report.resources[1].bytes, 7);
    // The page's connection stayed open after a chunked response, but the
    // scripted server closed it: the image needed a new connection.
    assert_eq!(connector.connects.load(Ordering::SeqCst), 2);
    assert_eq!(report.connections.len(), 2);
}

#[tokio::test]
async fn reconnects_when_the_server_closed_an_idle_connection() {
    let ok = |body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let connector = ScriptConnector::new(
        vec![ok("<img src=a.png><img src=b.png>"), ok("A"), ok("B")],
        true,
    );
    let report = browse(
        &connector,
        &resolver(),
        "http://www.example.com/",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    assert!(report.success(), "{:#?}", report_lines(&report));
    assert_eq!(report.connections.len(), 3);
    assert!(
        report.resources.iter().all(|r| !r.reused),
        "every request ended on a fresh connection"
    );
}

#[tokio::test]
async fn failures_are_reported() {
    let site = site();
    let connector = PipeConnector::new(Server::new(common::config(&site.root)), WEB);
    // Unsupported schemes fail before anything is sent.
    match browse(
        &connector,
        &resolver(),
        "ftp://www.example.com/",
        &BrowseOptions::default(),
    )
    .await
    {
        Err(BrowseError::Url(e)) => assert_eq!(
            e.to_string(),
            "ftp is not supported by vnet's browser: no FTP client (only http and https)"
        ),
        other => panic!("{other:?}"),
    }
    // Unknown name.
    let report = browse(
        &connector,
        &resolver(),
        "http://nowhere.example/",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    assert!(!report.success());
    assert_eq!(
        report.resources[0].error.as_deref(),
        Some("cannot resolve nowhere.example: unknown host nowhere.example")
    );
    // Nothing listens on port 81.
    let report = browse(
        &connector,
        &resolver(),
        "http://www.example.com:81/",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    let err = report.resources[0].error.as_deref().unwrap_or_default();
    assert!(
        err.starts_with("cannot connect to 10.0.3.10:81: connection refused"),
        "{err}"
    );
    assert!(
        report_lines(&report)
            .iter()
            .any(|l| l.contains("(no response)"))
    );
    // A missing image is a failed resource, not a failed browse.
    std::fs::remove_file(site.root.join("img/b.jpg")).expect("rm");
    let report = browse(
        &connector,
        &resolver(),
        "http://10.0.3.10/",
        &BrowseOptions::default(),
    )
    .await
    .expect("browse");
    assert!(report.lookups.is_empty(), "an address needs no DNS");
    assert_eq!(
        report
            .resources
            .iter()
            .filter(|r| r.status == Some(404))
            .count(),
        1
    );
    assert!(!report.success());
    assert!(
        report_lines(&report)
            .last()
            .is_some_and(|l| l.starts_with("5 requests, 4 ok"))
    );
}

#[tokio::test]
async fn requests_are_what_httparse_expects() {
    let site = site();
    let connector = ScriptConnector::new(
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec()],
        false,
    );
    let _ = site;
    fetch(
        &connector,
        &resolver(),
        "http://alice:s%20cret@www.example.com:8080/a%20b/c.html?q=1#frag",
        &BrowseOptions::default(),
    )
    .await
    .expect("fetch");
    let sent = connector.requests.lock().expect("lock")[0].clone();
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    assert!(matches!(req.parse(&sent), Ok(httparse::Status::Complete(n)) if n == sent.len()));
    assert_eq!(
        (req.method, req.path, req.version),
        (Some("GET"), Some("/a%20b/c.html?q=1"), Some(1))
    );
    let fields: Vec<(&str, &[u8])> = req.headers.iter().map(|h| (h.name, h.value)).collect();
    assert_eq!(
        fields,
        [
            ("Host", &b"www.example.com:8080"[..]),
            ("User-Agent", b"vnet-browse/0.1"),
            ("Accept", b"text/html,application/xhtml+xml,*/*;q=0.8"),
            ("Connection", b"keep-alive"),
            ("Authorization", b"Basic YWxpY2U6cyBjcmV0"),
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever URL the browser requests, httparse and our parser read
    /// its request identically.
    #[test]
    fn browser_requests_parse_identically(
        host in "[a-z]{1,10}(\\.[a-z]{2,4}){0,2}",
        port in prop::option::of(1u16..),
        path in "(/[A-Za-z0-9._~%!$&'()*+,;=:@ -]{0,8}){0,4}",
        query in prop::option::of("[A-Za-z0-9=&/?%]{0,12}"),
    ) {
        let mut s = format!("http://{host}");
        if let Some(p) = port { s.push_str(&format!(":{p}")); }
        s.push_str(&path);
        if let Some(q) = &query { s.push('?'); s.push_str(q); }
        let Ok(url) = Url::parse_http(&s) else { return Ok(()); };
        let bytes = request_head(&url, ResourceKind::Image, "vnet-browse/0.1").to_bytes();
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut req = httparse::Request::new(&mut headers);
        let status = req.parse(&bytes);
        prop_assert!(matches!(status, Ok(httparse::Status::Complete(_))), "{:?}", String::from_utf8_lossy(&bytes));
        let Ok(Parse::Complete { head, .. }) = parse_request_head(&bytes) else { panic!("ours") };
        prop_assert_eq!(head.method, Method::Get);
        prop_assert_eq!(Some(head.target.as_str()), req.path);
        prop_assert_eq!(req.headers.len(), head.headers.len());
        for (a, b) in req.headers.iter().zip(head.headers.iter()) {
            prop_assert_eq!(a.name, b.name.as_str());
            prop_assert_eq!(a.value, b.value.as_slice());
        }
    }
}

#[tokio::test]
async fn a_silent_server_times_out() {
    // A server that accepts but never answers: the browse ends after the timeout.
    struct Silent;
    impl vnet_web::browser::Connector for Silent {
        type Stream = tokio::io::DuplexStream;
        async fn connect(&self, _: Ipv4Addr, _: u16) -> std::io::Result<Self::Stream> {
            let (a, b) = tokio::io::duplex(1024);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                drop(b);
            });
            Ok(a)
        }
    }
    let options = BrowseOptions {
        timeout: Duration::from_millis(50),
        ..BrowseOptions::default()
    };
    let report = browse(&Silent, &resolver(), "http://www.example.com/", &options)
        .await
        .expect("browse");
    let err = report.resources[0].error.as_deref().unwrap_or_default();
    assert!(err.starts_with("timed out after"), "{err}");
}
