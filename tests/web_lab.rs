//! The whole journey in the default lab: DHCP, DNS through the resolver,
//! TCP to vnet-web, GET of the page and of each resource over one
//! keep-alive connection, files saved byte for byte.

mod common;

use common::{LabRun, repo_path};

fn web_counter(lab: &LabRun, name: &str) -> u64 {
    let status = lab.status("web");
    status["device"]["web"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no web counter {name} in {status}"))
}

#[test]
fn browse_fetches_the_page_and_its_resources_over_one_connection() {
    let lab = LabRun::default_lab();
    let saved = lab.dir.path().join("saved");
    let run = lab.exec(
        "client",
        &[
            "browse",
            "http://www.example.com/",
            "-o",
            saved.to_str().expect("utf8"),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    assert!(
        run.stdout.contains("DNS www.example.com -> 10.0.3.10"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("5 requests, 5 ok"),
        "page + stylesheet + 3 images: {run:?}"
    );
    assert!(run.stdout.contains("over 1 TCP connection"), "{run:?}");
    // The server saw exactly that: one connection, five requests.
    assert_eq!(web_counter(&lab, "connections_accepted"), 1);
    assert_eq!(web_counter(&lab, "requests"), 5);
    // Every saved file is byte-identical to the served one.
    for file in [
        "index.html",
        "style.css",
        "img/journey.png",
        "img/layers.svg",
        "img/wire.jpg",
    ] {
        let served = std::fs::read(repo_path("configs/www").join(file)).expect("served file");
        let got = std::fs::read(saved.join(file))
            .unwrap_or_else(|e| panic!("{file} not saved: {e}\n{run:?}"));
        assert_eq!(got, served, "{file} differs");
    }

    // fetch prints a body like curl; a missing page is a 404 with exit 0
    // (curl's, without -f; tests/http_validators_lab.rs checks -f).
    let run = lab.exec("client", &["fetch", "http://www.example.com/style.css"]);
    assert_eq!(run.code, 0, "{run:?}");
    let css = std::fs::read_to_string(repo_path("configs/www/style.css")).expect("css");
    assert_eq!(run.stdout.trim_end(), css.trim_end());
    let run = lab.exec("client", &["fetch", "http://www.example.com/nothere.html"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = lab.exec("client", &["browse", "ftp://www.example.com/"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("ftp is not supported"), "{run:?}");

    // httpload on 4 connections at once: 60 answered requests on exactly
    // 4 new server connections; the page after its first read comes from
    // the server's file cache.
    let (connections, requests, hits) = (
        web_counter(&lab, "connections_accepted"),
        web_counter(&lab, "requests"),
        web_counter(&lab, "file_cache_hits"),
    );
    let run = lab.exec(
        "client",
        &["httpload", "http://www.example.com/", "-n", "60", "-c", "4"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("keepalive 60 requests in ")
            && run.stdout.contains("(4 connections,"),
        "{run:?}"
    );
    assert_eq!(web_counter(&lab, "connections_accepted") - connections, 4);
    assert_eq!(web_counter(&lab, "requests") - requests, 60);
    assert!(
        web_counter(&lab, "file_cache_hits") - hits >= 59,
        "{}",
        lab.status("web")
    );
    let run = lab.exec(
        "client",
        &[
            "httpload",
            "http://www.example.com/",
            "--new-connections",
            "-c",
            "4",
        ],
    );
    assert_eq!(run.code, 2, "--concurrency is for keep-alive: {run:?}");
}

#[test]
fn five_mib_download_survives_a_three_second_cut_byte_exact() {
    // A variant of the default lab whose web root also holds a 5 MiB file.
    let (_variant, topology, big) = common::default_lab_with_big_file(0x9e37_79b9_7f4a_7c15);
    let lab = LabRun::up(&topology);

    let out = lab.dir.path().join("big.bin");
    let download = lab.exec_background(
        "client",
        &[
            "fetch",
            "http://www.example.com/big.bin",
            "-o",
            out.to_str().expect("utf8"),
        ],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while web_counter(&lab, "bytes_sent") == 0 && lab.device_counter("web", "tcp_tx") < 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "the download never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    lab.cut_for("r2:eth1", std::time::Duration::from_secs(3));
    let (code, lines) = download.finish(std::time::Duration::from_secs(120));
    assert_eq!(code, 0, "{lines:?}\n{}", lab.logs());
    let got = std::fs::read(&out).expect("downloaded file");
    assert_eq!(got.len(), big.len());
    assert!(
        got == big,
        "the 5 MiB download differs from the served file"
    );
    assert!(
        lab.iface_counter("r2", "eth1", "drop_link_down_out")
            + lab.iface_counter("r2", "eth1", "drop_link_down_in")
            > 0
    );
    // The cut hit the transfer itself: the server's retransmission timer fired.
    assert!(
        lab.device_counter("web", "tcp_rto_timeouts") > 0,
        "the outage did not interrupt the download"
    );
}

#[test]
fn fifty_browsers_at_once_all_complete_and_the_server_stays_up() {
    let lab = LabRun::default_lab();
    let browsers: Vec<_> = (0..50)
        .map(|_| lab.exec_background("client", &["browse", "http://www.example.com/"]))
        .collect();
    for (i, b) in browsers.into_iter().enumerate() {
        let (code, lines) = b.finish(std::time::Duration::from_secs(120));
        assert_eq!(code, 0, "browser {i}: {lines:?}");
        assert!(
            lines.iter().any(|l| l.starts_with("5 requests, 5 ok")),
            "browser {i}: {lines:?}"
        );
    }
    assert_eq!(web_counter(&lab, "connections_accepted"), 50);
    assert_eq!(web_counter(&lab, "requests"), 250);
    let run = lab.exec("client", &["fetch", "http://www.example.com/style.css"]);
    assert_eq!(run.code, 0, "the server still answers: {run:?}");
}
