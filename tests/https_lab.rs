//! HTTPS across the default lab (issue 19): `vnet up` makes the lab CA and
//! the web device's certificate, `browse https://…` fetches the page and
//! its resources over one TLS connection byte-identical to the files, the
//! trace shows the handshake in order on client and web and the TLS
//! records on r2, tshark decrypts a capture with the lab's key log, a
//! certificate for another name fails as a browser says it, and a 5 MiB
//! HTTPS download survives a 3 s cut.

mod common;

use common::{LabRun, repo_path};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The text of `vnet trace show ID --proto tls` once it holds every one of
/// `needles` (devices export every 200 ms).
fn tls_timeline(lab: &LabRun, id: &str, needles: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = lab.vnet(&["trace", "show", id, "--proto", "tls"]);
        if run.code == 0 && needles.iter().all(|n| run.stdout.contains(n)) {
            return run.stdout;
        }
        assert!(
            Instant::now() < deadline,
            "the trace never showed {needles:?}: {run:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The first line index holding every one of `parts`.
fn line_of(text: &str, parts: &[&str]) -> usize {
    text.lines()
        .position(|l| parts.iter().all(|p| l.contains(p)))
        .unwrap_or_else(|| panic!("no line with {parts:?} in:\n{text}"))
}

fn compare_tree(saved: &Path, served: &Path, rel: &Path, count: &mut usize) {
    for entry in std::fs::read_dir(saved.join(rel))
        .expect("saved dir")
        .flatten()
    {
        let rel = rel.join(entry.file_name());
        if entry.path().is_dir() {
            compare_tree(saved, served, &rel, count);
            continue;
        }
        let got = std::fs::read(entry.path()).expect("saved file");
        let want = std::fs::read(served.join(&rel)).expect("served file");
        assert!(
            got == want,
            "{} differs from the served file",
            rel.display()
        );
        *count += 1;
    }
}

fn tool_missing(tool: &str) -> bool {
    let missing = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err();
    if missing {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is missing (CI installs it)"
        );
        eprintln!("skipped: {tool} is not installed");
    }
    missing
}

#[test]
fn https_browse_is_one_tls_connection_traced_and_decryptable() {
    if tool_missing("tshark") {
        return;
    }
    let lab = LabRun::up_flags(&repo_path("configs/lab.toml"), &["--keylog"]);
    let capture = lab.dir.path().join("r2-eth1.pcapng");
    let mut capturing = Command::new(common::vnet_bin())
        .arg("--run-dir")
        .arg(lab.dir.path())
        .args(["capture", "r2:eth1", "-w"])
        .arg(&capture)
        .args(["--seconds", "8"])
        .stderr(Stdio::null())
        .spawn()
        .expect("capture starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while lab.status("r2")["interfaces"][1]["captures"].as_u64() != Some(1) {
        assert!(Instant::now() < deadline, "capture never attached");
        std::thread::sleep(Duration::from_millis(20));
    }

    let saved = lab.dir.path().join("saved");
    let run = lab.exec(
        "client",
        &[
            "browse",
            "https://www.example.com/",
            "--trace",
            "-o",
            saved.to_str().expect("utf8"),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("TLS handshake in"), "{run:?}");
    assert!(run.stdout.contains("TLS 1.3"), "{run:?}");
    assert!(run.stdout.contains("over 1 TCP connection"), "{run:?}");
    let mut files = 0;
    compare_tree(&saved, &repo_path("configs/www"), Path::new(""), &mut files);
    assert!(files >= 4, "page and resources saved: {files}");

    // The trace: the handshake in order on the client and on web, the
    // records on r2, then the requests.
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace ")?.split_whitespace().next())
        .expect("browse --trace prints the trace id")
        .to_owned();
    let timeline = tls_timeline(
        &lab,
        &id,
        &[
            "Finished (client)",
            "Finished (server)",
            "r2",
            "Application Data",
        ],
    );
    let hello = line_of(&timeline, &["client", "ClientHello SNI=www.example.com"]);
    let server_hello = line_of(&timeline, &["client", "ServerHello TLS 1.3"]);
    let finished = line_of(&timeline, &["client", "Finished (client)"]);
    assert!(
        hello < server_hello && server_hello < finished,
        "{timeline}"
    );
    let received = line_of(
        &timeline,
        &["web", "ClientHello received: SNI=www.example.com"],
    );
    let web_finished = line_of(&timeline, &["web", "Finished (server)"]);
    assert!(hello < received && received < web_finished, "{timeline}");
    let r2_hello = line_of(&timeline, &["r2", "Client Hello SNI=www.example.com"]);
    let r2_server_hello = line_of(&timeline, &["r2", "Server Hello"]);
    assert!(r2_hello < r2_server_hello, "{timeline}");
    line_of(&timeline, &["r2", "Application Data"]);

    // tshark decrypts the capture with the lab's key log.
    let status = capturing.wait().expect("capture ends");
    assert!(status.success(), "capture: {status:?}");
    let keylog = lab.dir.path().join("tls-keylog.txt");
    let tshark = |filter: &str, field: &str| -> String {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&capture)
            .arg("-o")
            .arg(format!("tls.keylog_file:{}", keylog.display()))
            .args(["-Y", filter, "-T", "fields", "-e", field])
            .output()
            .expect("tshark runs");
        assert!(out.status.success(), "tshark {filter}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let uris = tshark("http.request", "http.request.uri");
    assert!(
        uris.lines().any(|l| l == "/style.css"),
        "the decrypted GETs: {uris}"
    );
    let records = tshark("tls.record", "tls.record.content_type");
    assert!(records.lines().count() >= 10, "TLS records: {records}");
    // Only close_notify (a warning) ends the connections: no fatal alert.
    let malformed = tshark(
        "_ws.malformed || tls.alert_message.level == 2",
        "frame.number",
    );
    assert_eq!(malformed.trim(), "", "malformed frames or fatal alerts");
    let closes = tshark("tls.alert_message.desc == 0", "frame.number");
    assert!(
        closes.lines().count() >= 1,
        "close_notify decrypted: {closes}"
    );
}

#[test]
fn a_certificate_for_another_name_fails_like_a_browser() {
    let lab = LabRun::default_lab();
    let run = lab.exec(
        "client",
        &[
            "fetch",
            "--resolve",
            "www.example.org:443:10.0.3.10",
            "https://www.example.org/",
        ],
    );
    assert_eq!(
        run.code, 60,
        "curl's code for a certificate problem: {run:?}"
    );
    assert!(
        run.stderr
            .contains("certificate is not valid for www.example.org"),
        "{run:?}"
    );
    let timeline = {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let run = lab.vnet(&["trace", "show", "last", "--proto", "tls"]);
            // Both ends' spans: each device exports on its own schedule.
            let failed_on = |device: &str| {
                run.stdout
                    .lines()
                    .any(|l| l.contains(device) && l.contains("handshake failed"))
            };
            if failed_on("client") && failed_on("web") {
                break run.stdout;
            }
            assert!(
                Instant::now() < deadline,
                "no failed handshake traced: {run:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    line_of(
        &timeline,
        &[
            "client",
            "handshake failed: certificate is not valid for www.example.org",
        ],
    );
    line_of(&timeline, &["web", "handshake failed"]);
    assert!(lab.status("web")["device"]["web"]["tls_handshake_failures"].as_u64() >= Some(1));

    // The certificate names the address too, and the CA is exported.
    let run = lab.exec("client", &["fetch", "-s", "--sha256", "https://10.0.3.10/"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("200 "), "{run:?}");
    // The load generator speaks HTTPS too, keep-alive and one connection each.
    let run = lab.exec(
        "client",
        &["httpload", "https://www.example.com/", "-n", "20"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("keepalive 20 requests"), "{run:?}");
    let run = lab.exec(
        "client",
        &[
            "httpload",
            "https://www.example.com/",
            "-n",
            "5",
            "--new-connections",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("(5 connections"), "{run:?}");
    let run = lab.vnet(&["ca", "export"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("-----BEGIN CERTIFICATE-----"),
        "{run:?}"
    );
    let cert = std::fs::read_to_string(lab.dir.path().join("pki/web.pem")).expect("web.pem");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn five_mib_https_download_survives_a_three_second_cut_byte_exact() {
    let (_variant, topology, big) = common::default_lab_with_big_file(0x2545_f491_4f6c_dd1d);
    let lab = LabRun::up(&topology);
    let out = lab.dir.path().join("big.bin");
    let download = lab.exec_background(
        "client",
        &[
            "fetch",
            "https://www.example.com/big.bin",
            "-o",
            out.to_str().expect("utf8"),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while lab.status("web")["device"]["web"]["bytes_sent"]
        .as_u64()
        .unwrap_or(0)
        < 100_000
    {
        assert!(Instant::now() < deadline, "the download never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    lab.cut_for("r2:eth1", Duration::from_secs(3));
    let (code, lines) = download.finish(Duration::from_secs(120));
    assert_eq!(code, 0, "{lines:?}\n{}", lab.logs());
    let got = std::fs::read(&out).expect("downloaded file");
    assert_eq!(got.len(), big.len());
    assert!(
        got == big,
        "the 5 MiB HTTPS download differs from the served file"
    );
    assert!(lab.status("web")["device"]["web"]["tls_handshakes"].as_u64() >= Some(1));
    assert!(
        lab.device_counter("web", "tcp_rto_timeouts") > 0,
        "the outage did not interrupt the download"
    );
}
