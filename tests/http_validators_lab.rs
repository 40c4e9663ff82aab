//! vnet's own HTTP clients against vnet-web in the default lab (issue 16):
//! `fetch` shaped like curl (`-r`, `-I`, `-w`, `-f`, a 404 without `-f`)
//! and `browse --repeat 2`, whose second visit revalidates every resource
//! and shows the server's 304s.

mod common;

use common::{LabRun, repo_path};

#[test]
fn fetch_speaks_curl_and_browse_revalidates() {
    let lab = LabRun::default_lab();
    let index = std::fs::read(repo_path("configs/www/index.html")).expect("index.html");

    // -r: 206 and exactly bytes 0..=99 of the served file (-w shows the code).
    let run = lab.exec(
        "client",
        &[
            "fetch",
            "-s",
            "-r",
            "0-99",
            "-w",
            "\\n%{http_code} %{size_download}",
            "http://www.example.com/index.html",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    let (body, written) = run.stdout.rsplit_once("\n206 ").expect("-w after the body");
    assert_eq!(written.trim(), "100", "{run:?}");
    // The body is printed line by line, so compare line by line.
    let first_100 = String::from_utf8_lossy(&index[..100]).into_owned();
    assert_eq!(
        body.lines().collect::<Vec<_>>(),
        first_100.lines().collect::<Vec<_>>()
    );

    // -I: HEAD, the status line and the validators, no body.
    let run = lab.exec(
        "client",
        &["fetch", "-I", "http://www.example.com/style.css"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "HTTP/1.1 200 OK", "{run:?}");
    for field in [
        "Last-Modified: ",
        "ETag: \"",
        "Accept-Ranges: bytes",
        "Content-Length: 674",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(field)),
            "{field}: {run:?}"
        );
    }
    assert!(!run.stdout.contains("body {"), "no body: {run:?}");

    // -w with curl's timing variables.
    let run = lab.exec(
        "client",
        &[
            "fetch", "-s", "-o", "/dev/null", "-w",
            "%{http_code} %{time_namelookup} %{time_connect} %{time_starttransfer} %{time_total} %{size_download}",
            "http://www.example.com/img/wire.jpg",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let last = run.stdout.lines().last().unwrap_or_default();
    let v: Vec<&str> = last.split(' ').collect();
    assert_eq!((v.len(), v[0], v[5]), (6, "200", "9768"), "{run:?}");
    let t: Vec<f64> = v[1..5]
        .iter()
        .map(|s| s.parse().expect("seconds"))
        .collect();
    assert!(
        t.windows(2).all(|w| w[0] <= w[1]) && t[3] > 0.0,
        "cumulative times: {last}"
    );
    eprintln!("fetch -w: {last}");

    // A 404: body and exit 0 without -f (curl), no body and 22 with it.
    let run = lab.exec("client", &["fetch", "http://www.example.com/nothere.html"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("404 Not Found"),
        "the error page: {run:?}"
    );
    let run = lab.exec(
        "client",
        &["fetch", "-f", "http://www.example.com/nothere.html"],
    );
    assert_eq!(run.code, 22, "{run:?}");
    assert!(run.stdout.is_empty(), "no body with -f: {run:?}");
    assert!(
        run.stderr
            .contains("(22) The requested URL returned error: 404"),
        "{run:?}"
    );

    // browse twice in one session: the second visit is all 304s.
    let run = lab.exec(
        "client",
        &["browse", "--repeat", "2", "http://www.example.com/"],
    );
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    eprintln!("{}", run.stdout);
    let (first, second) = run.stdout.split_once("visit 2 of 2").expect("two visits");
    assert!(first.contains("5 requests, 5 ok"), "{run:?}");
    assert!(!first.contains(" 304 "), "{run:?}");
    assert_eq!(
        second
            .matches(" 304 Not Modified  0 B (not modified: cached copy of ")
            .count(),
        5,
        "{run:?}"
    );
    assert!(second.contains("5 requests, 5 ok, 0 bytes"), "{run:?}");
    assert!(
        second.contains("5 not modified (304, from the cache)"),
        "{run:?}"
    );
    let web = lab.status("web");
    assert_eq!(
        web["device"]["web"]["responses_3xx"].as_u64(),
        Some(5),
        "{web}"
    );
}
