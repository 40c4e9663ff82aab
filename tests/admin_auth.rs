//! The admin API of a `vnet up` lab is for the lab's owner only: requests
//! without the token in `<run-dir>/admin.token` are refused (so another
//! local user, or a web page's cross-origin request, can neither read nor
//! cut anything), while the CLI, which reads the token, works.

mod common;

use common::{LabRun, repo_path};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// One raw HTTP request; returns the status code.
fn request(addr: SocketAddr, head: &str) -> u16 {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(head.as_bytes()).expect("write");
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn only_the_token_holder_may_use_the_admin_api() {
    let lab = LabRun::up(&repo_path("configs/lab.toml"));
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lab.dir.path().join("state.json")).expect("state"),
    )
    .expect("json");
    let r2 = state["devices"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["name"] == "r2"))
        .expect("r2");
    let admin: SocketAddr = r2["admin"].as_str().expect("admin").parse().expect("addr");
    let token_file = lab.dir.path().join("admin.token");
    let token = std::fs::read_to_string(&token_file)
        .expect("token")
        .trim()
        .to_string();
    assert_eq!(token.len(), 64, "256 random bits, hex");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&token_file), 0o600);
    assert_eq!(
        mode(lab.dir.path()),
        0o700,
        "the run directory is the owner's"
    );
    assert!(
        !std::fs::read_to_string(lab.dir.path().join("state.json"))
            .unwrap()
            .contains(&token)
    );

    let get = |path: &str, auth: &str| {
        request(
            admin,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"),
        )
    };
    assert_eq!(get("/health", ""), 200, "health checks need no token");
    assert_eq!(get("/status", ""), 401);
    assert_eq!(get("/status", "Authorization: Bearer nope\r\n"), 401);
    assert_eq!(
        get("/status", &format!("Authorization: Bearer {token}\r\n")),
        200
    );

    // The cross-origin "simple request" a web page could send: refused.
    let cut = request(
        admin,
        "POST /links/eth1/down HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(cut, 401);
    let exec = request(
        admin,
        "POST /exec HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{\"argv\":[\"ss\"]}    ",
    );
    assert_eq!(exec, 401);
    let ping = lab.exec("client", &["ping", "-c", "2", "-i", "0.2", "10.0.3.10"]);
    assert!(
        ping.stdout.contains(" 0% packet loss"),
        "the link is still up: {ping:?}"
    );

    // The owner's CLI reads the token and works as before.
    assert_eq!(lab.vnet(&["status"]).code, 0);
    let down = lab.vnet(&["link", "down", "r2:eth1"]);
    assert_eq!(down.code, 0, "{down:?}");
}

#[test]
fn exec_never_writes_files_on_the_device_side() {
    let lab = LabRun::up(&repo_path("configs/lab.toml"));
    // Through the CLI: the file appears, written by the CLI as the caller.
    let wanted = lab.dir.path().join("style.css");
    let run = lab.exec(
        "client",
        &[
            "fetch",
            "http://www.example.com/style.css",
            "-o",
            wanted.to_str().expect("utf8"),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let served = std::fs::read(repo_path("configs/www/style.css")).expect("served");
    assert_eq!(std::fs::read(&wanted).expect("written by the CLI"), served);

    // Straight at the admin API (as the token holder): the device answers
    // with the bytes and writes nothing itself.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lab.dir.path().join("state.json")).expect("state"),
    )
    .expect("json");
    let client = state["devices"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["name"] == "client"))
        .expect("client");
    let admin: SocketAddr = client["admin"]
        .as_str()
        .expect("admin")
        .parse()
        .expect("addr");
    let token = std::fs::read_to_string(lab.dir.path().join("admin.token")).expect("token");
    let target = lab.dir.path().join("device-side.css");
    let body = format!(
        "{{\"argv\":[\"fetch\",\"http://www.example.com/style.css\",\"-o\",\"{}\"]}}",
        target.display()
    );
    let mut s = TcpStream::connect_timeout(&admin, Duration::from_secs(2)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "POST /exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        token.trim(),
        body.len()
    )
    .expect("write");
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.contains("device-side.css"),
        "the file comes back: {answer}"
    );
    assert!(!target.exists(), "the device wrote {}", target.display());
}
