//! Debian's `curl` against vnet-web (10.0.3.10) from a Linux network
//! namespace joined to the default lab through a TAP link end (issue 16):
//! validators on the wire, 304 on revalidation, 206 with exactly the right
//! bytes, 416, `OPTIONS *`, 501 for a lowercase method; and tshark over a
//! capture (dumpcap on the TAP end) of it all (206, 304 and 416 among it) finds nothing malformed
//! and no bad checksum in what vnet sent.
//!
//! Needs /dev/net/tun, root, curl and tshark; without them the test prints
//! why and skips, and fails under CI=true.

mod common;

use common::repo_path;
use common::tap::{Netns, sh, tap_lab};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const WEB: &str = "http://10.0.3.10";

/// `curl -s ARGS -w '%{http_code} %{size_download}'` in the namespace.
fn code_and_size(ns: &Netns, args: &[&str]) -> String {
    let mut all = vec![
        "curl",
        "-s",
        "-m",
        "10",
        "-w",
        "%{http_code} %{size_download}",
    ];
    all.extend_from_slice(args);
    let run = ns.exec(&all);
    assert_eq!(run.code, 0, "curl {args:?}: {run:?}");
    run.stdout.lines().last().unwrap_or_default().to_owned()
}

/// The value of response header `name` in `curl -v`'s stderr.
fn header(verbose: &str, name: &str) -> String {
    let prefix = format!("< {}: ", name.to_ascii_lowercase());
    verbose
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_owned())
        .unwrap_or_else(|| panic!("no {name} in {verbose}"))
}

/// dumpcap (tshark's capture engine) capturing on the TAP end inside the
/// namespace, once it says so.
fn start_capture(ns: &Netns, tap: &str, file: &str) -> Child {
    let mut child = ns
        .command(&["dumpcap", "-i", tap, "-w", file])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tshark starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("File:") => return child,
            Ok(_) => {}
            Err(e) => panic!("dumpcap did not start capturing: {e}"),
        }
    }
}

#[test]
fn curl_sees_validators_304_206_416_and_options() {
    let Some((_lab, ns, tap, dir)) = tap_lab("curl validators", &["curl", "tshark", "dumpcap"])
    else {
        return;
    };
    let capture = dir.path().join("http.pcapng");
    let capture = capture.to_str().expect("utf8");
    let mut dumpcap = start_capture(&ns, &tap, capture);

    // curl -v shows Last-Modified and a strong ETag.
    let run = ns.exec(&[
        "curl",
        "-sv",
        "-m",
        "10",
        "-o",
        "/dev/null",
        &format!("{WEB}/style.css"),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let etag = header(&run.stderr, "ETag");
    let last_modified = header(&run.stderr, "Last-Modified");
    assert!(
        etag.starts_with("\"2a2-") && !etag.starts_with("W/"),
        "{etag}"
    );
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    assert_eq!(header(&run.stderr, "Accept-Ranges"), "bytes");
    eprintln!("ETag {etag}, Last-Modified {last_modified}");

    // Revalidation: 304 with no body, by tag and by date (curl -z).
    let css = format!("{WEB}/style.css");
    let inm = format!("If-None-Match: {etag}");
    assert_eq!(
        code_and_size(&ns, &["-o", "/dev/null", "-H", &inm, &css]),
        "304 0"
    );
    assert_eq!(
        code_and_size(&ns, &["-o", "/dev/null", "-z", &last_modified, &css]),
        "304 0"
    );
    assert_eq!(
        code_and_size(
            &ns,
            &["-o", "/dev/null", "-H", "If-None-Match: \"old\"", &css]
        ),
        "200 674"
    );

    // Ranges: exactly bytes 0..=99 of the file on disk; 416 beyond it.
    let part = dir.path().join("part");
    let part_s = part.to_str().expect("utf8");
    let index = format!("{WEB}/index.html");
    assert_eq!(
        code_and_size(&ns, &["-r", "0-99", "-o", part_s, &index]),
        "206 100"
    );
    let served = std::fs::read(repo_path("configs/www/index.html")).expect("index.html");
    assert_eq!(std::fs::read(&part).expect("part"), &served[..100]);
    assert_eq!(
        code_and_size(&ns, &["-r", "-10", "-o", part_s, &index]),
        "206 10"
    );
    assert_eq!(
        std::fs::read(&part).expect("part"),
        &served[served.len() - 10..]
    );
    let run = ns.exec(&["curl", "-s", "-m", "10", "-i", "-r", "999999-", &index]);
    assert!(run.stdout.starts_with("HTTP/1.1 416 "), "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("Content-Range: bytes */{}", served.len())),
        "{run:?}"
    );

    // OPTIONS * and the method rules.
    let run = ns.exec(&[
        "curl",
        "-s",
        "-m",
        "10",
        "-i",
        "-X",
        "OPTIONS",
        "--request-target",
        "*",
        &format!("{WEB}/"),
    ]);
    assert!(run.stdout.starts_with("HTTP/1.1 200 "), "{run:?}");
    assert!(
        run.stdout.contains("Allow: GET, HEAD, POST, OPTIONS"),
        "{run:?}"
    );
    assert_eq!(
        code_and_size(&ns, &["-o", "/dev/null", "-X", "get", &index])
            .split(' ')
            .next(),
        Some("501")
    );

    // The kernel hands captured frames over in blocks: wait until the last
    // response (the 501) is in the file, then stop the capture (SIGINT:
    // dumpcap finishes the file) and read it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = sh(
            "tshark",
            &["-r", capture, "-Y", "http.response.code == 501"],
        );
        if !seen.stdout.trim().is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the 501 never reached the capture: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = dumpcap.id().to_string();
    assert_eq!(sh("kill", &["-INT", &pid]).code, 0);
    let status = dumpcap.wait().expect("dumpcap ends");
    assert!(status.success(), "{status:?}");
    let read = sh(
        "tshark",
        &[
            "-r",
            capture,
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-T",
            "fields",
            "-e",
            "ip.src",
            "-e",
            "http.response.code",
            "-e",
            "_ws.malformed",
            "-e",
            "ip.checksum.status",
            "-e",
            "tcp.checksum.status",
        ],
    );
    assert_eq!(read.code, 0, "{read:?}");
    let lines: Vec<&str> = read.stdout.lines().collect();
    let code = |c: &str| {
        lines
            .iter()
            .filter(|l| l.split('\t').nth(1) == Some(c))
            .count()
    };
    let (ok, partial, not_modified, unsatisfiable) =
        (code("200"), code("206"), code("304"), code("416"));
    eprintln!(
        "capture: {} frames; HTTP 200 x{ok}, 206 x{partial}, 304 x{not_modified}, 416 x{unsatisfiable}",
        lines.len()
    );
    assert!(
        partial >= 2 && not_modified >= 2 && unsatisfiable >= 1,
        "{}",
        read.stdout
    );
    let malformed = lines
        .iter()
        .filter(|l| l.split('\t').nth(2).is_some_and(|m| !m.is_empty()))
        .count();
    assert_eq!(malformed, 0, "malformed frames:\n{}", read.stdout);
    // Checksum status 2 is "bad"; only vnet's frames are judged (the
    // kernel's may carry offloaded, not yet computed, checksums).
    let bad = lines
        .iter()
        .filter(|l| l.starts_with("10.0.3.10\t"))
        .filter(|l| l.split('\t').skip(3).any(|s| s == "2"))
        .count();
    assert_eq!(bad, 0, "bad checksums from vnet:\n{}", read.stdout);
}
