//! The server's validators, conditional requests, byte ranges, OPTIONS and
//! method rules (RFC 9110 §8.8, §9, §13, §14), over in-memory pipes.

mod common;

use common::{exchange, response, site};
use vnet_web::server::Server;
use vnet_wire::http::date::{imf_fixdate, parse_http_date};
use vnet_wire::http::{Method, ResponseHead};

fn header<'a>(h: &'a ResponseHead, name: &str) -> &'a str {
    h.headers
        .get_str(name)
        .unwrap_or_else(|| panic!("no {name} in {h:?}"))
}

async fn ask(
    server: &Server,
    method: Method,
    path: &str,
    fields: &[(&str, &str)],
) -> (ResponseHead, Vec<u8>) {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: www.example.com\r\n");
    for (n, v) in fields {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let bytes = exchange(server, req.as_bytes()).await;
    if matches!(method, Method::Head) {
        // Nothing may follow the head of a HEAD response.
        assert!(bytes.ends_with(b"\r\n\r\n"));
    }
    response(&bytes, method)
}

/// A site with a 3000-byte file of known bytes, dated in the past.
fn big_site() -> (common::Site, Vec<u8>) {
    let site = site();
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    let path = site.root.join("data.bin");
    std::fs::write(&path, &data).expect("write");
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(past))
        .expect("mtime");
    (site, data)
}

#[tokio::test]
async fn files_carry_last_modified_etag_and_accept_ranges() {
    let (site, data) = big_site();
    let server = Server::new(common::config(&site.root));
    let (head, body) = ask(&server, Method::Get, "/data.bin", &[]).await;
    assert_eq!((head.status, body), (200, data));
    let lm = header(&head, "Last-Modified");
    let mtime = std::fs::metadata(site.root.join("data.bin"))
        .unwrap()
        .modified()
        .unwrap();
    let secs = mtime
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(lm, imf_fixdate(secs));
    let etag = header(&head, "ETag");
    assert!(etag.starts_with("\"bb8-") && etag.ends_with('"'), "{etag}");
    assert_eq!(header(&head, "Accept-Ranges"), "bytes");
    // The same file gives the same tag (cached or not); HEAD too.
    let (again, _) = ask(&server, Method::Head, "/data.bin", &[]).await;
    assert_eq!(header(&again, "ETag"), etag);
    assert_eq!(header(&again, "Content-Length"), "3000");
    // Another content of the same length and date (replaced by rename):
    // another tag, by the content hash.
    let mut other = std::fs::read(site.root.join("data.bin")).unwrap();
    other[0] ^= 1;
    let next = site.root.join("next.bin");
    std::fs::write(&next, &other).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&next)
        .and_then(|f| f.set_modified(mtime))
        .unwrap();
    std::fs::rename(&next, site.root.join("data.bin")).unwrap();
    let (changed, _) = ask(&server, Method::Get, "/data.bin", &[]).await;
    assert_ne!(header(&changed, "ETag"), etag);
    assert_eq!(header(&changed, "Last-Modified"), lm);
}

#[tokio::test]
async fn revalidation_gets_304_without_a_body() {
    let (site, _) = big_site();
    let server = Server::new(common::config(&site.root));
    let (first, _) = ask(&server, Method::Get, "/data.bin", &[]).await;
    let etag = header(&first, "ETag").to_owned();
    let lm = header(&first, "Last-Modified").to_owned();
    for (method, fields) in [
        (Method::Get, vec![("If-None-Match", etag.as_str())]),
        (Method::Head, vec![("If-None-Match", etag.as_str())]),
        (Method::Get, vec![("If-None-Match", "\"x\", W/\"y\"")]),
        (Method::Get, vec![("If-Modified-Since", lm.as_str())]),
    ] {
        let (head, body) = ask(&server, method.clone(), "/data.bin", &fields).await;
        let hit = fields[0].1 != "\"x\", W/\"y\"";
        if hit {
            assert_eq!(head.status, 304, "{method} {fields:?}");
            assert!(body.is_empty());
            assert!(!head.headers.contains("Content-Length"), "RFC 9110 §8.6");
            assert!(!head.headers.contains("Content-Type"));
            assert_eq!(header(&head, "ETag"), etag);
            assert_eq!(header(&head, "Last-Modified"), lm);
            assert!(header(&head, "Date").ends_with("GMT"));
        } else {
            assert_eq!((head.status, body.len()), (200, 3000));
        }
    }
    // If-None-Match takes precedence over If-Modified-Since (§13.2.2).
    let (head, _) = ask(
        &server,
        Method::Get,
        "/data.bin",
        &[("If-None-Match", "\"stale\""), ("If-Modified-Since", &lm)],
    )
    .await;
    assert_eq!(head.status, 200);
    // Modified since an earlier date: 200.
    let earlier = imf_fixdate(parse_http_date(&lm).unwrap() - 10);
    let (head, _) = ask(
        &server,
        Method::Get,
        "/data.bin",
        &[("If-Modified-Since", &earlier)],
    )
    .await;
    assert_eq!(head.status, 200);
    // The small, cached files answer the same way.
    let (css, _) = ask(&server, Method::Get, "/style.css", &[]).await;
    let (head, body) = ask(
        &server,
        Method::Get,
        "/style.css",
        &[("If-None-Match", header(&css, "ETag"))],
    )
    .await;
    assert_eq!((head.status, body.len()), (304, 0));
    // If-Match that fails: 412.
    let (head, _) = ask(
        &server,
        Method::Get,
        "/data.bin",
        &[("If-Match", "\"nope\"")],
    )
    .await;
    assert_eq!(head.status, 412);
}

#[tokio::test]
async fn single_ranges_get_206_and_the_exact_bytes() {
    let (site, data) = big_site();
    let server = Server::new(common::config(&site.root));
    for (range, first, last) in [
        ("bytes=0-99", 0usize, 99usize),
        ("bytes=2990-", 2990, 2999),
        ("bytes=-5", 2995, 2999),
        ("bytes=100-100000", 100, 2999),
    ] {
        let (head, body) = ask(&server, Method::Get, "/data.bin", &[("Range", range)]).await;
        assert_eq!(head.status, 206, "{range}");
        assert_eq!(
            header(&head, "Content-Range"),
            format!("bytes {first}-{last}/3000")
        );
        assert_eq!(
            header(&head, "Content-Length"),
            (last - first + 1).to_string()
        );
        assert_eq!(body, &data[first..=last], "{range}");
        assert_eq!(header(&head, "Accept-Ranges"), "bytes");
    }
    // A streamed (large) file seeks to the range.
    let big: Vec<u8> = (0..600_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(site.root.join("big.bin"), &big).unwrap();
    let (head, body) = ask(
        &server,
        Method::Get,
        "/big.bin",
        &[("Range", "bytes=500000-500009")],
    )
    .await;
    assert_eq!(head.status, 206);
    assert_eq!(body, &big[500_000..500_010]);
    // Unsatisfiable: 416 with the length.
    let (head, _) = ask(
        &server,
        Method::Get,
        "/data.bin",
        &[("Range", "bytes=999999-")],
    )
    .await;
    assert_eq!(head.status, 416);
    assert_eq!(header(&head, "Content-Range"), "bytes */3000");
    // Several ranges: the whole file (documented policy); HEAD, invalid
    // and other units: the range is ignored.
    for (method, range) in [
        (Method::Get, "bytes=0-1,10-11"),
        (Method::Get, "bytes=9-1"),
        (Method::Get, "rows=1-2"),
        (Method::Head, "bytes=0-99"),
    ] {
        let (head, _) = ask(&server, method.clone(), "/data.bin", &[("Range", range)]).await;
        assert_eq!(head.status, 200, "{method} {range}");
        assert_eq!(header(&head, "Content-Length"), "3000");
    }
}

#[tokio::test]
async fn if_range_keeps_or_drops_the_range() {
    let (site, data) = big_site();
    let server = Server::new(common::config(&site.root));
    let (first, _) = ask(&server, Method::Get, "/data.bin", &[]).await;
    let etag = header(&first, "ETag").to_owned();
    let lm = header(&first, "Last-Modified").to_owned();
    let range = ("Range", "bytes=10-19");
    for (if_range, partial) in [
        (etag.as_str(), true),
        (lm.as_str(), true),
        ("\"old-version\"", false),
        (&format!("W/{etag}") as &str, false),
        ("Thu, 01 Jan 1970 00:00:00 GMT", false),
    ] {
        let (head, body) = ask(
            &server,
            Method::Get,
            "/data.bin",
            &[range, ("If-Range", if_range)],
        )
        .await;
        if partial {
            assert_eq!(
                (head.status, body.as_slice()),
                (206, &data[10..20]),
                "{if_range}"
            );
        } else {
            assert_eq!((head.status, body.len()), (200, 3000), "{if_range}");
        }
    }
}

#[tokio::test]
async fn options_and_method_rules() {
    let (site, _) = big_site();
    let server = Server::new(common::config(&site.root));
    let (head, body) = ask(&server, Method::Options, "*", &[]).await;
    assert_eq!(head.status, 200);
    assert_eq!(header(&head, "Allow"), "GET, HEAD, POST, OPTIONS");
    assert_eq!(header(&head, "Content-Length"), "0");
    assert!(body.is_empty());
    let (head, _) = ask(&server, Method::Options, "/data.bin", &[]).await;
    assert_eq!(head.status, 204);
    assert_eq!(header(&head, "Allow"), "GET, HEAD, OPTIONS");
    assert!(!head.headers.contains("Content-Length"), "none in a 204");
    let (head, _) = ask(&server, Method::Options, "/echo", &[]).await;
    assert_eq!(
        (head.status, header(&head, "Allow")),
        (204, "POST, OPTIONS")
    );
    let (head, _) = ask(&server, Method::Options, "/missing", &[]).await;
    assert_eq!(head.status, 404);
    // Method names are case-sensitive: `get` is unknown, so 501.
    for unknown in ["get", "PATCH", "BREW"] {
        let (head, _) = ask(&server, Method::from_token(unknown), "/data.bin", &[]).await;
        assert_eq!(head.status, 501, "{unknown}");
        assert_eq!(header(&head, "Connection"), "keep-alive");
    }
    // Known but not allowed: 405 with Allow.
    for known in [Method::Put, Method::Delete, Method::Trace, Method::Post] {
        let (head, _) = ask(&server, known.clone(), "/data.bin", &[]).await;
        assert_eq!(head.status, 405, "{known}");
        assert_eq!(header(&head, "Allow"), "GET, HEAD, OPTIONS");
    }
    let (head, _) = ask(&server, Method::Get, "*", &[]).await;
    assert_eq!(head.status, 400);
}

/// httparse (the oracle) reads the server's 206, 304, 416, 204 and
/// `OPTIONS *` responses as we do: status, every field, and where the head
/// ends.
#[tokio::test]
async fn new_responses_are_what_httparse_reads() {
    let (site, _) = big_site();
    let server = Server::new(common::config(&site.root));
    let (first, _) = ask(&server, Method::Get, "/data.bin", &[]).await;
    let etag = header(&first, "ETag").to_owned();
    let requests = [
        "GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n".to_owned(),
        format!("GET /data.bin HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n"),
        "GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=5000-\r\n\r\n".to_owned(),
        "OPTIONS /data.bin HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        "get / HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
    ];
    for (request, status) in requests.iter().zip([206, 304, 416, 204, 200, 501]) {
        let bytes = exchange(&server, request.as_bytes()).await;
        let mut fields = [httparse::EMPTY_HEADER; 32];
        let mut theirs = httparse::Response::new(&mut fields);
        let Ok(httparse::Status::Complete(len)) = theirs.parse(&bytes) else {
            panic!("httparse refuses: {}", String::from_utf8_lossy(&bytes));
        };
        let Ok(vnet_wire::http::Parse::Complete { head, len: ours }) =
            vnet_wire::http::parse_response_head(&bytes)
        else {
            panic!("we refuse our own response");
        };
        assert_eq!((theirs.code, len), (Some(status), ours), "{request}");
        let their_fields: Vec<(String, Vec<u8>)> = theirs
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect();
        let our_fields: Vec<(String, Vec<u8>)> = head
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect();
        assert_eq!(their_fields, our_fields, "{request}");
    }
}
