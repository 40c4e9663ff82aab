//! The TAP bridge: a Linux network namespace joins the virtual network
//! through a `tap:NAME` link end, and the real kernel's `ping` talks to vnet
//! devices (and vnet's ping to the kernel).
//!
//! Needs /dev/net/tun and CAP_NET_ADMIN (to create the namespace); without
//! them the test prints why and skips (fails under CI=true, whose machine
//! runs as root with both).

mod common;

use common::repo_path;
use common::tap::{sh, skip_or_fail, tap_lab};
use std::process::Command;

#[test]
fn linux_namespace_pings_vnet_hosts_through_a_tap_device() {
    let Some((lab, ns, tap, _variant)) =
        tap_lab("linux_namespace_pings_vnet_hosts_through_a_tap_device", &[])
    else {
        return;
    };
    // The kernel pings web on the same LAN...
    let run = ns.exec(&["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.3.10"]);
    assert_eq!(run.code, 0, "{run:?}\n{}", lab.logs());
    assert!(
        run.stdout
            .contains("3 packets transmitted, 3 received, 0% packet loss"),
        "{run:?}"
    );
    // ...and the client behind three vnet routers (TTL 64 - 3 hops on the way back).
    let run = ns.exec(&["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.1.100"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("ttl=61"), "{run:?}");
    // A 4000-byte kernel ping crosses the MTU-576 link and is reassembled by the client.
    let run = ns.exec(&["ping", "-c", "1", "-s", "4000", "-W", "2", "10.0.1.100"]);
    assert_eq!(run.code, 0, "{run:?}");
    // And vnet's ping reaches the kernel.
    let run = lab.exec("client", &["ping", "-c", "2", "-i", "0.2", "10.0.3.99"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("2 received"), "{run:?}");
    let status = lab.status("sw2");
    let ifaces = status["interfaces"].as_array().expect("interfaces");
    assert!(ifaces.iter().any(|i| i["tap"] == tap.as_str()), "{status}");

    // Debian's dig asks vnet's resolver (three routers away) and gets the answer.
    if Command::new("dig").arg("-v").output().is_ok() {
        let run = ns.exec(&[
            "dig",
            "+time=5",
            "+tries=2",
            "@10.0.2.53",
            "www.example.com",
            "A",
        ]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("status: NOERROR"), "{run:?}");
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with("www.example.com.") && l.ends_with("10.0.3.10")),
            "{run:?}"
        );
    } else {
        skip_or_fail(
            "the dig part",
            "Debian's dig is not installed (CI installs dnsutils)",
        );
    }
}

/// sha256 of a file, hex.
fn sha256_file(path: &std::path::Path) -> String {
    let run = sh("sha256sum", &[path.to_str().expect("utf8")]);
    run.stdout
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn linux_nc_and_vnet_tcp_exchange_four_mib_both_ways() {
    let Some((lab, ns, _tap, _variant)) =
        tap_lab("linux_nc_and_vnet_tcp_exchange_four_mib_both_ways", &[])
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");

    // Linux -> vnet: the kernel's nc sends a random file to a vnet listener behind no router.
    let file = dir.path().join("to-vnet.bin");
    let run = sh(
        "sh",
        &[
            "-c",
            &format!("head -c 4194304 /dev/urandom > {}", file.display()),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let mut server = lab.exec_background("server", &["tcp", "listen", "--once", "5002"]);
    assert!(
        server
            .wait_for("listening on", std::time::Duration::from_secs(10))
            .is_some()
    );
    let run = ns.exec(&[
        "sh",
        "-c",
        &format!("nc -N -w 30 10.0.3.30 5002 < {}", file.display()),
    ]);
    assert_eq!(run.code, 0, "linux nc -> vnet: {run:?}");
    let (code, lines) = server.finish(std::time::Duration::from_secs(60));
    assert_eq!(code, 0, "{lines:?}\n{}", lab.logs());
    let line = lines
        .iter()
        .find(|l| l.starts_with("received "))
        .expect("receiver summary");
    assert!(line.starts_with("received 4194304 bytes"), "{line}");
    assert_eq!(
        common::field(line, "sha256"),
        Some(sha256_file(&file).as_str()),
        "{line}"
    );

    // vnet -> Linux: the vnet client, three routers away, sends to the kernel's nc.
    let out = dir.path().join("from-vnet.bin");
    let mut listener = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "sh",
            "-c",
            &format!("nc -d -l 5003 > {}", out.display()),
        ])
        .spawn()
        .expect("nc -l starts");
    // `-d`: nc must not read its (empty) stdin, or it closes early and the
    // kernel resets the connection. Wait until it listens.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ns.exec(&["ss", "-ltn"]).stdout.contains(":5003") {
        assert!(std::time::Instant::now() < deadline, "nc never listened");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let run = lab.exec(
        "client",
        &["tcp", "send", "10.0.3.99:5003", "--bytes", "4M"],
    );
    assert_eq!(run.code, 0, "vnet -> linux nc: {run:?}");
    let status = listener.wait().expect("nc exits");
    assert!(status.success(), "nc -l failed");
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("sent "))
        .expect("sender summary");
    assert!(line.starts_with("sent 4194304 bytes"), "{line}");
    assert_eq!(
        std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0),
        4194304
    );
    assert_eq!(
        common::field(line, "sha256"),
        Some(sha256_file(&out).as_str()),
        "{line}"
    );
}

#[test]
fn linux_curl_talks_http_to_vnet_web() {
    let Some((_lab, ns, _tap, _variant)) = tap_lab("linux_curl_talks_http_to_vnet_web", &["curl"])
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wire.jpg");
    let run = ns.exec(&[
        "curl",
        "-sS",
        "--max-time",
        "20",
        "-o",
        out.to_str().expect("utf8"),
        "http://10.0.3.10/img/wire.jpg",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let served = std::fs::read(repo_path("configs/www/img/wire.jpg")).expect("served");
    assert!(
        std::fs::read(&out).expect("downloaded") == served,
        "curl's copy differs from configs/www/img/wire.jpg"
    );

    // Status codes as a real client sees them.
    let status = |extra: &[&str], path: &str| -> String {
        let url = format!("http://10.0.3.10{path}");
        let mut args = vec![
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
            "--path-as-is",
        ];
        args.extend_from_slice(extra);
        args.push(&url);
        ns.exec(&args).stdout
    };
    assert_eq!(status(&[], "/"), "200");
    assert_eq!(status(&["-0"], "/"), "200", "HTTP/1.0");
    assert_eq!(status(&["-H", "Connection: close"], "/"), "200");
    assert_eq!(status(&[], "/nothere.html"), "404");
    assert_eq!(status(&["-X", "DELETE"], "/"), "405");
    assert_eq!(status(&[], "/img"), "301", "a directory without its slash");
    for escape in [
        "/../../etc/passwd",
        "/img/%2e%2e/%2e%2e/etc/passwd",
        "/img/..%2f..%2fetc/passwd",
    ] {
        let code = status(&[], escape);
        assert!(
            code == "400" || code == "403" || code == "404",
            "{escape} must not escape the root: {code}"
        );
        assert_ne!(code, "200", "{escape}");
    }
    // A malformed request line, straight through nc.
    let run = ns.exec(&[
        "sh",
        "-c",
        "printf 'GARBAGE\\r\\n\\r\\n' | nc -w 5 10.0.3.10 80",
    ]);
    assert!(run.stdout.starts_with("HTTP/1.1 400"), "{run:?}");
}
