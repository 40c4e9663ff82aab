//! Debian's `curl` and `openssl s_client` against vnet-web's HTTPS from a
//! Linux network namespace joined to the default lab through a TAP link
//! end (issue 19): the lab CA that `vnet up` made (`vnet ca export`) is
//! all they need to trust the web device; TLS 1.3 with the lab CA's chain.
//!
//! Needs /dev/net/tun, root, curl and openssl; without them the test
//! prints why and skips, and fails under CI=true.

mod common;

use common::repo_path;
use common::tap::tap_lab;

#[test]
fn curl_and_openssl_trust_the_lab_ca() {
    let Some((lab, ns, _tap, dir)) = tap_lab("https interop", &["curl", "openssl"]) else {
        return;
    };
    let export = lab.vnet(&["ca", "export"]);
    assert_eq!(export.code, 0, "{export:?}");
    let ca = dir.path().join("lab-ca.pem");
    std::fs::write(&ca, &export.stdout).expect("write the CA");
    let ca = ca.to_str().expect("utf8");

    let body = dir.path().join("index.html");
    let run = ns.exec(&[
        "curl",
        "-s",
        "-m",
        "10",
        "--cacert",
        ca,
        "--resolve",
        "www.example.com:443:10.0.3.10",
        "-o",
        body.to_str().expect("utf8"),
        "-w",
        "%{http_code} %{ssl_verify_result} %{http_version}",
        "https://www.example.com/",
    ]);
    assert_eq!(run.code, 0, "curl: {run:?}");
    assert_eq!(run.stdout.trim(), "200 0 1.1", "{run:?}");
    let got = std::fs::read(&body).expect("body");
    let want = std::fs::read(repo_path("configs/www/index.html")).expect("index.html");
    assert!(got == want, "the page differs from the served file");

    // Without the lab CA, curl refuses the certificate (exit 60).
    let run = ns.exec(&[
        "curl",
        "-s",
        "-m",
        "10",
        "--resolve",
        "www.example.com:443:10.0.3.10",
        "https://www.example.com/",
    ]);
    assert_eq!(run.code, 60, "an unknown CA: {run:?}");

    let run = ns.exec(&[
        "openssl",
        "s_client",
        "-connect",
        "10.0.3.10:443",
        "-servername",
        "www.example.com",
        "-verify_hostname",
        "www.example.com",
        "-CAfile",
        ca,
        "-alpn",
        "http/1.1",
        "-showcerts",
    ]);
    let text = format!("{}{}", run.stdout, run.stderr);
    assert!(
        text.contains("Protocol  : TLSv1.3") || text.contains("TLSv1.3"),
        "{text}"
    );
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    assert!(text.contains("ALPN protocol: http/1.1"), "{text}");
    assert!(
        text.contains("vnet lab CA"),
        "the chain names the lab CA: {text}"
    );
}
