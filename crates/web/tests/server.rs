//! The HTTP/1.1 server over in-memory pipes: every status it answers,
//! path escapes, persistence rules, the echo endpoint and timeouts.

mod common;

use common::{SECRET, exchange, response, responses, site};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vnet_web::server::{Server, access_log_line};
use vnet_wire::http::{Method, ResponseHead};

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: www.example.com\r\n\r\n").into_bytes()
}

fn header<'a>(h: &'a ResponseHead, name: &str) -> &'a str {
    h.headers
        .get_str(name)
        .unwrap_or_else(|| panic!("no {name} in {h:?}"))
}

async fn status_of(server: &Server, request: &[u8]) -> (ResponseHead, Vec<u8>) {
    let bytes = exchange(server, request).await;
    response(&bytes, Method::Get)
}

#[tokio::test]
async fn serves_files_with_the_standard_fields() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let (head, body) = status_of(&server, &get("/")).await;
    assert_eq!((head.status, head.reason.as_str()), (200, "OK"));
    assert_eq!(body, common::INDEX.as_bytes());
    assert_eq!(header(&head, "Content-Type"), "text/html; charset=utf-8");
    assert_eq!(header(&head, "Content-Length"), body.len().to_string());
    assert_eq!(header(&head, "Server"), "vnet-web");
    let date = header(&head, "Date");
    assert_eq!(date.len(), 29, "IMF-fixdate: {date}");
    assert!(
        date.ends_with(" GMT") && date.as_bytes()[3] == b',',
        "{date}"
    );
    assert_eq!(header(&head, "Connection"), "keep-alive");
    // The order of the fields: Date, Server, then the rest.
    let names: Vec<&str> = head.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(&names[..2], ["Date", "Server"]);

    for (path, ctype) in [
        ("/style.css", "text/css; charset=utf-8"),
        ("/js/app.js", "text/javascript; charset=utf-8"),
        ("/img/a.png", "image/png"),
        ("/img/b.jpg", "image/jpeg"),
        ("/logo.svg", "image/svg+xml"),
        ("/notes.txt", "text/plain; charset=utf-8"),
        ("/data.json", "application/json"),
        ("/blob.bin", "application/octet-stream"),
        ("/space%20name.txt", "text/plain; charset=utf-8"),
        ("/alias.txt", "text/plain; charset=utf-8"),
    ] {
        let (head, body) = status_of(&server, &get(path)).await;
        assert_eq!(head.status, 200, "{path}");
        assert_eq!(header(&head, "Content-Type"), ctype, "{path}");
        let file = if path == "/alias.txt" {
            "/notes.txt"
        } else {
            path
        };
        let on_disk = std::fs::read(
            site.root
                .join(file.trim_start_matches('/').replace("%20", " ")),
        )
        .expect("file");
        assert_eq!(body, on_disk, "{path}");
    }
}

#[tokio::test]
async fn head_sends_the_fields_without_the_body() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let bytes = exchange(&server, b"HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (head, body) = response(&bytes, Method::Head);
    assert_eq!(head.status, 200);
    assert_eq!(header(&head, "Content-Length"), "22");
    assert!(body.is_empty());
    assert!(bytes.ends_with(b"\r\n\r\n"), "nothing after the head");
}

#[tokio::test]
async fn directories() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let (head, body) = status_of(&server, &get("/dir")).await;
    assert_eq!(head.status, 301);
    assert_eq!(header(&head, "Location"), "/dir/");
    assert!(String::from_utf8_lossy(&body).contains("301 Moved Permanently"));
    let (head, _) = status_of(&server, &get("/dir?x=1")).await;
    assert_eq!(header(&head, "Location"), "/dir/?x=1");
    let (head, body) = status_of(&server, &get("/dir/")).await;
    assert_eq!(
        (head.status, body.as_slice()),
        (200, &b"<p>dir index</p>"[..])
    );
    let (head, _) = status_of(&server, &get("/empty/")).await;
    assert_eq!(head.status, 404, "no index, no listing");
    // Absolute-form request-target (RFC 9112 §3.2.2).
    let (head, _) = status_of(
        &server,
        b"GET http://www.example.com/dir/page.txt HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
    )
    .await;
    assert_eq!(head.status, 200);
}

#[tokio::test]
async fn error_statuses() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
    let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\r\n",
        "c".repeat(17_000)
    );
    let cases: Vec<(Vec<u8>, u16, Option<&str>)> = vec![
        (get("/nope.html"), 404, None),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(), 405, Some("GET, HEAD, OPTIONS")),
        (b"DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 405, Some("GET, HEAD, OPTIONS")),
        (get("/echo"), 405, Some("POST, OPTIONS")),
        (b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400, None),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_vec(), 400, None),
        (b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n".to_vec(), 400, None),
        (b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400, None),
        (b"GET * HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400, None),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n".to_vec(), 413, None),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(), 501, None),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(), 400, None),
        (long.into_bytes(), 414, None),
        (many.into_bytes(), 431, None),
        (huge.into_bytes(), 431, None),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n".to_vec(), 505, None),
    ];
    for (request, status, allow) in cases {
        let (head, body) = status_of(&server, &request).await;
        let what = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
        assert_eq!(head.status, status, "{what}");
        assert_eq!(head.headers.get_str("Allow"), allow, "{what}");
        let html = String::from_utf8_lossy(&body);
        assert!(
            html.starts_with("<!DOCTYPE html>") && html.contains(&status.to_string()),
            "{what}: {html}"
        );
        assert_eq!(header(&head, "Content-Type"), "text/html; charset=utf-8");
        // Errors in the path keep the connection; errors in the framing close it.
        let keeps = request.starts_with(b"GET /%zz")
            || request.starts_with(b"GET * ")
            || status == 404
            || status == 405;
        let expected = if keeps { "keep-alive" } else { "close" };
        assert_eq!(header(&head, "Connection"), expected, "{what}");
    }
    let c = server.counters().snapshot();
    assert_eq!(c.responses_4xx + c.responses_5xx, 16);
    assert_eq!(c.responses_2xx, 0);
}

#[tokio::test]
async fn no_path_escapes_the_root() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    for (path, status) in [
        ("/../secret.txt", 400),
        ("/dir/../../secret.txt", 400),
        ("/%2e%2e/secret.txt", 400),
        ("/%2E%2E/secret.txt", 400),
        ("/..%2fsecret.txt", 400),
        ("/%2e%2e%2fsecret.txt", 400),
        ("/..%5csecret.txt", 400),
        ("/..\\secret.txt", 400),
        ("/dir/%2e%2e/%2e%2e/secret.txt", 400),
        ("/secret.txt%00.html", 400),
        ("//secret.txt", 404),
        (
            &format!("/{}", site.dir.path().join("secret.txt").display()),
            404,
        ),
        ("/leak.txt", 403),
        ("/up/secret.txt", 403),
        ("/up/", 403),
    ] {
        let bytes = exchange(&server, &get(path)).await;
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(SECRET), "{path} leaked the secret");
        let (head, _) = response(&bytes, Method::Get);
        assert_eq!(head.status, status, "{path}");
    }
    // Absolute-form with dot segments is normalised into the root, not above it.
    let bytes = exchange(
        &server,
        b"GET http://x/../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
}

#[tokio::test]
async fn cached_files_follow_the_disk() {
    let site = site();
    // Files written just now are never cached (coarse timestamps); date
    // these two seconds back so the cache is used.
    let settle = |rel: &str| {
        let past = std::time::SystemTime::now() - Duration::from_secs(2);
        std::fs::File::options()
            .write(true)
            .open(site.root.join(rel))
            .and_then(|f| f.set_modified(past))
            .unwrap();
    };
    settle("notes.txt");
    settle("dir/index.html");
    let server = Server::new(common::config(&site.root));
    let body = |bytes: Vec<u8>| response(&bytes, Method::Get).1;
    assert_eq!(
        body(exchange(&server, &get("/notes.txt")).await),
        b"notes\n"
    );
    assert_eq!(
        body(exchange(&server, &get("/notes.txt")).await),
        b"notes\n"
    );
    let snap = server.counters().snapshot();
    assert_eq!((snap.file_cache_misses, snap.file_cache_hits), (1, 1));

    // Edited (another length): the new contents at once.
    std::fs::write(site.root.join("notes.txt"), b"edited notes\n").unwrap();
    assert_eq!(
        body(exchange(&server, &get("/notes.txt")).await),
        b"edited notes\n"
    );
    // Replaced by a symlink leading outside the root: refused, not served
    // from the cache.
    std::fs::remove_file(site.root.join("notes.txt")).unwrap();
    std::os::unix::fs::symlink(
        site.dir.path().join("secret.txt"),
        site.root.join("notes.txt"),
    )
    .unwrap();
    for _ in 0..2 {
        let bytes = exchange(&server, &get("/notes.txt")).await;
        assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
        assert_eq!(response(&bytes, Method::Get).0.status, 403);
    }
    // Deleted: 404.
    std::fs::remove_file(site.root.join("notes.txt")).unwrap();
    let (head, _) = status_of(&server, &get("/notes.txt")).await;
    assert_eq!(head.status, 404);
    // A directory's index is cached under the directory's path, and an
    // edit of the same length is seen too (a newer modification time).
    assert_eq!(
        body(exchange(&server, &get("/dir/")).await),
        b"<p>dir index</p>"
    );
    assert_eq!(
        body(exchange(&server, &get("/dir/")).await),
        b"<p>dir index</p>"
    );
    let snap = server.counters().snapshot();
    assert_eq!(snap.file_cache_hits, 2, "{snap:?}");
    std::fs::write(site.root.join("dir/index.html"), b"<p>new index</p>").unwrap();
    assert_eq!(
        body(exchange(&server, &get("/dir/")).await),
        b"<p>new index</p>"
    );
    assert_eq!(
        body(exchange(&server, &get("/dir/")).await),
        b"<p>new index</p>"
    );
}

#[tokio::test]
async fn five_requests_on_one_keep_alive_connection() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let mut c = common::connect(&server);
    let paths = ["/", "/style.css", "/img/a.png", "/img/b.jpg", "/logo.svg"];
    for (i, path) in paths.iter().enumerate() {
        c.write_all(&get(path)).await.expect("write");
        let mut buf = Vec::new();
        // Read exactly one response.
        let (head, body) = loop {
            let mut chunk = [0u8; 4096];
            let n = c.read(&mut chunk).await.expect("read");
            assert!(n > 0, "server closed after {i} responses");
            buf.extend_from_slice(&chunk[..n]);
            if let Ok(vnet_wire::http::Parse::Complete { head, len }) =
                vnet_wire::http::parse_response_head(&buf)
            {
                let cl: usize = header(&head, "Content-Length").parse().expect("length");
                if buf.len() >= len + cl {
                    break (head, buf[len..len + cl].to_vec());
                }
            }
        };
        assert_eq!(head.status, 200, "{path}");
        assert_eq!(header(&head, "Connection"), "keep-alive");
        assert_eq!(
            header(&head, "Keep-Alive"),
            format!("timeout=15, max={}", 100 - i - 1)
        );
        assert!(!body.is_empty());
    }
    drop(c);
    tokio::task::yield_now().await;
    let counters = server.counters().snapshot();
    assert_eq!(
        (
            counters.connections_accepted,
            counters.requests,
            counters.responses_2xx
        ),
        (1, 5, 5)
    );
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let mut req = get("/style.css");
    req.extend(b"HEAD /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    req.extend(get("/missing"));
    req.extend(get("/notes.txt"));
    let bytes = exchange(&server, &req).await;
    let r = responses(
        &bytes,
        &[Method::Get, Method::Head, Method::Get, Method::Get],
    );
    let statuses: Vec<u16> = r.iter().map(|(h, _)| h.status).collect();
    assert_eq!(statuses, [200, 200, 404, 200]);
    assert_eq!(r[1].1, b"");
    assert_eq!(r[3].1, b"notes\n");
}

#[tokio::test]
async fn persistence_rules() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    // HTTP/1.0 without keep-alive: one response, then the server closes
    // (exchange() would hang if it did not: it waits for EOF, and the
    // client's write side is closed only after the second request).
    for (request, connection, count) in [
        (&b"GET /notes.txt HTTP/1.0\r\n\r\nGET /notes.txt HTTP/1.0\r\n\r\n"[..], "close", 1),
        (b"GET /notes.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /notes.txt HTTP/1.0\r\n\r\n", "keep-alive", 2),
        (b"GET /notes.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n", "close", 1),
    ] {
        let bytes = exchange(&server, request).await;
        let r = responses(&bytes, &[Method::Get, Method::Get]);
        assert_eq!(r.len(), count, "{}", String::from_utf8_lossy(request));
        assert_eq!(header(&r[0].0, "Connection"), connection);
        assert_eq!(r[0].0.version, vnet_wire::http::Version::Http11, "a server answers with its own version");
    }
    // The request limit per connection.
    let mut config = common::config(&site.root);
    config.max_requests_per_connection = 3;
    let limited = Server::new(config);
    let four: Vec<u8> = (0..4).flat_map(|_| get("/notes.txt")).collect();
    let r = responses(
        &exchange(&limited, &four).await,
        &[Method::Get, Method::Get, Method::Get, Method::Get],
    );
    assert_eq!(r.len(), 3);
    assert_eq!(header(&r[1].0, "Connection"), "keep-alive");
    assert_eq!(header(&r[2].0, "Connection"), "close");
}

#[tokio::test]
async fn echo_returns_the_body() {
    let site = site();
    let server = Server::new(common::config(&site.root));
    let (head, body) = status_of(&server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world").await;
    assert_eq!((head.status, body.as_slice()), (200, &b"hello world"[..]));
    assert_eq!(header(&head, "Content-Type"), "text/plain");
    // Chunked, with an extension and a trailer, split oddly.
    let chunked = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n";
    let mut c = common::connect(&server);
    for piece in chunked.chunks(7) {
        c.write_all(piece).await.expect("write");
        tokio::task::yield_now().await;
    }
    c.write_all(&get("/notes.txt")).await.expect("write");
    c.shutdown().await.expect("shutdown");
    let mut bytes = Vec::new();
    c.read_to_end(&mut bytes).await.expect("read");
    let r = responses(&bytes, &[Method::Post, Method::Get]);
    assert_eq!(r[0].1, b"hello world");
    assert_eq!(header(&r[0].0, "Content-Type"), "application/octet-stream");
    assert_eq!(
        r[1].1, b"notes\n",
        "the connection stays in sync after a chunked body"
    );
    // Expect: 100-continue gets an interim response before the body is sent.
    let mut c = common::connect(&server);
    c.write_all(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    )
    .await
    .expect("write");
    let mut interim = [0u8; 25];
    c.read_exact(&mut interim).await.expect("100");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.write_all(b"abc").await.expect("body");
    c.shutdown().await.expect("shutdown");
    let mut bytes = Vec::new();
    c.read_to_end(&mut bytes).await.expect("read");
    assert_eq!(response(&bytes, Method::Post).1, b"abc");
    // Over the limit, chunked: 413 and close.
    let mut big = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    big.extend(b"100000\r\n");
    big.extend(vec![b'x'; 0x10_0000]);
    big.extend(b"\r\n1\r\nx\r\n0\r\n\r\n");
    let (head, _) = status_of(&server, &big).await;
    assert_eq!(head.status, 413);
    assert_eq!(header(&head, "Connection"), "close");
    // Exactly the limit is fine.
    let mut max = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        1 << 20
    )
    .into_bytes();
    max.extend(vec![b'y'; 1 << 20]);
    let (head, body) = status_of(&server, &max).await;
    assert_eq!((head.status, body.len()), (200, 1 << 20));
}

#[tokio::test]
async fn large_files_are_streamed_intact() {
    let site = site();
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(site.root.join("big.bin"), &data).expect("write");
    let server = Server::new(common::config(&site.root));
    let bytes = exchange(&server, &get("/big.bin")).await;
    let (head, body) = response(&bytes, Method::Get);
    assert_eq!(header(&head, "Content-Length"), "3000000");
    assert!(body == data, "body differs");
    let c = server.counters().snapshot();
    assert_eq!(c.bytes_sent, bytes.len() as u64);
}

#[tokio::test(start_paused = true)]
async fn idle_connections_time_out() {
    let site = site();
    let mut config = common::config(&site.root);
    config.idle_timeout = Duration::from_secs(15);
    let server = Server::new(config);
    // After one request, the connection is closed 15 s later.
    let mut c = common::connect(&server);
    c.write_all(&get("/notes.txt")).await.expect("write");
    let mut buf = vec![0u8; 4096];
    let n = c.read(&mut buf).await.expect("response");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
    let start = tokio::time::Instant::now();
    let n = c.read(&mut buf).await.expect("eof");
    assert_eq!(n, 0, "closed");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(15) && waited < Duration::from_secs(16),
        "{waited:?}"
    );
    // A connection that never sends anything is closed too.
    let mut silent = common::connect(&server);
    assert_eq!(silent.read(&mut buf).await.expect("eof"), 0);
    assert_eq!(server.counters().snapshot().idle_timeouts, 2);
    // A request that starts but never ends gets 408.
    let mut slow = common::connect(&server);
    slow.write_all(b"GET / HTTP/1.1\r\nHost:")
        .await
        .expect("write");
    let mut out = Vec::new();
    slow.read_to_end(&mut out).await.expect("read");
    assert!(
        out.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
fn access_log_is_common_log_format() {
    assert_eq!(
        access_log_line(
            Some([10, 0, 1, 100].into()),
            Some("GET / HTTP/1.1"),
            200,
            1234,
            1_795_237_200
        ),
        "10.0.1.100 - - [21/Nov/2026:05:00:00 +0000] \"GET / HTTP/1.1\" 200 1234"
    );
    assert_eq!(
        access_log_line(None, None, 400, 0, 0),
        "- - - [01/Jan/1970:00:00:00 +0000] \"-\" 400 -"
    );
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    fn run(server: &Server, bytes: Vec<u8>) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async { exchange(server, &bytes).await })
    }

    /// Request-like bytes: valid requests, some bytes replaced.
    fn request_like() -> impl Strategy<Value = Vec<u8>> {
        let paths = prop::sample::select(vec![
            "/",
            "/style.css",
            "/dir",
            "/echo",
            "/../x",
            "/%2e%2e/",
            "/nope",
            "/img/a.png",
        ]);
        let methods = prop::sample::select(vec!["GET", "HEAD", "POST", "PUT"]);
        (
            prop::collection::vec((methods, paths, any::<bool>()), 1..4),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        )
            .prop_map(|(reqs, edits)| {
                let mut b = Vec::new();
                for (m, p, chunked) in reqs {
                    b.extend(format!("{m} {p} HTTP/1.1\r\nHost: x\r\n").as_bytes());
                    if m == "POST" {
                        if chunked {
                            b.extend(b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
                        } else {
                            b.extend(b"Content-Length: 3\r\n\r\nabc");
                        }
                    } else {
                        b.extend(b"\r\n");
                    }
                }
                for (i, v) in edits {
                    let at = i.index(b.len());
                    b[at] = v;
                }
                b
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Whatever arrives, the server answers with well-formed responses
        /// (or nothing) and finishes the connection.
        #[test]
        fn any_bytes_get_well_formed_answers(bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            request_like(),
        ]) {
            let site = site();
            let server = Server::new(common::config(&site.root));
            let out = run(&server, bytes);
            let text = String::from_utf8_lossy(&out);
            prop_assert!(!text.contains(SECRET));
            if !out.is_empty() {
                prop_assert!(out.starts_with(b"HTTP/1.1 "), "{text}");
            }
            let c = server.counters().snapshot();
            prop_assert_eq!(c.connections_open, 0);
            prop_assert_eq!(c.bytes_sent, out.len() as u64);
        }
    }
}
