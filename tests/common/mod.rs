//! Shared helpers for end-to-end tests: labs of real device processes on
//! loopback, started and stopped through the `vnet` CLI.
#![allow(dead_code)]

pub mod frr;
pub mod routes;
pub mod single_device;
pub mod tap;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The `vnet` binary built for this test run.
pub fn vnet_bin() -> &'static str {
    env!("CARGO_BIN_EXE_vnet")
}

/// The directory holding the device binaries built for this test run.
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_vnet-host"))
        .parent()
        .expect("binaries live in a directory")
        .to_path_buf()
}

/// A file under the repository root.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Output of a command as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A running lab in its own run directory; stopped when dropped.
pub struct LabRun {
    pub dir: tempfile::TempDir,
}

impl LabRun {
    /// Starts `topology` with the separate device binaries.
    pub fn up(topology: &Path) -> LabRun {
        Self::up_with(topology, true)
    }

    /// Starts `topology`; `separate_binaries` picks `vnet-KIND` binaries
    /// over `vnet device KIND`.
    pub fn up_with(topology: &Path, separate_binaries: bool) -> LabRun {
        Self::start(topology, separate_binaries, &[], &[])
    }

    /// Starts `topology` (separate binaries) with extra environment for
    /// `vnet up` and so for every device, e.g. a trace endpoint.
    #[allow(dead_code)]
    pub fn up_env(topology: &Path, env: &[(&str, &str)]) -> LabRun {
        Self::start(topology, true, env, &[])
    }

    /// Starts `topology` (separate binaries) with extra `vnet up` flags,
    /// e.g. `--keylog`.
    #[allow(dead_code)]
    pub fn up_flags(topology: &Path, flags: &[&str]) -> LabRun {
        Self::start(topology, true, &[], flags)
    }

    fn start(
        topology: &Path,
        separate_binaries: bool,
        env: &[(&str, &str)],
        flags: &[&str],
    ) -> LabRun {
        let dir = tempfile::tempdir().expect("temp dir");
        let lab = LabRun { dir };
        let mut args = vec!["up".to_string(), topology.display().to_string()];
        args.extend(flags.iter().map(|f| f.to_string()));
        if separate_binaries {
            args.push("--bin-dir".into());
            args.push(bin_dir().display().to_string());
        }
        let run: Run = Command::new(vnet_bin())
            .arg("--run-dir")
            .arg(lab.dir.path())
            .args(&args)
            .env_remove("VNET_BIN_DIR")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .envs(env.iter().copied())
            .output()
            .expect("vnet runs")
            .into();
        assert_eq!(run.code, 0, "vnet up failed: {run:?}\n{}", lab.logs());
        lab
    }

    /// The default lab.
    pub fn default_lab() -> LabRun {
        LabRun::up(&repo_path("configs/lab.toml"))
    }

    /// Runs `vnet --run-dir DIR ARGS…`.
    pub fn vnet(&self, args: &[&str]) -> Run {
        Command::new(vnet_bin())
            .arg("--run-dir")
            .arg(self.dir.path())
            .args(args)
            .env_remove("VNET_BIN_DIR")
            .output()
            .expect("vnet runs")
            .into()
    }

    /// `vnet exec DEVICE -- ARGS…`.
    pub fn exec(&self, device: &str, args: &[&str]) -> Run {
        let mut all = vec!["exec", device, "--"];
        all.extend_from_slice(args);
        self.vnet(&all)
    }

    /// The `/status` document of every device (from `vnet status --json`).
    pub fn status_all(&self) -> serde_json::Value {
        let run = self.vnet(&["status", "--json"]);
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("status --json: {e}: {run:?}"))
    }

    /// The `/status` document of one device.
    pub fn status(&self, device: &str) -> serde_json::Value {
        let all = self.status_all();
        all.as_array()
            .and_then(|a| a.iter().find(|d| d["name"] == device))
            .map(|d| d["status"].clone())
            .unwrap_or_else(|| panic!("no device {device} in status"))
    }

    /// One interface counter.
    pub fn iface_counter(&self, device: &str, iface: &str, counter: &str) -> u64 {
        let status = self.status(device);
        status["interfaces"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["name"] == iface))
            .and_then(|i| i["counters"][counter].as_u64())
            .unwrap_or_else(|| panic!("no counter {counter} on {device}:{iface}: {status}"))
    }

    /// One device-level counter.
    pub fn device_counter(&self, device: &str, counter: &str) -> u64 {
        let status = self.status(device);
        status["device"][counter]
            .as_u64()
            .unwrap_or_else(|| panic!("no device counter {counter} on {device}: {status}"))
    }

    /// Every device log, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        if let Ok(entries) = std::fs::read_dir(self.dir.path().join("logs")) {
            for e in entries.flatten() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                let tail: Vec<_> = text.lines().rev().take(15).collect();
                out.push_str(&format!("=== {}\n", e.path().display()));
                for l in tail.into_iter().rev() {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        out
    }
}

impl Drop for LabRun {
    fn drop(&mut self) {
        let run = self.vnet(&["down"]);
        if run.code != 0 {
            eprintln!("vnet down failed: {run:?}");
        }
    }
}

/// A minimal blocking HTTP/1.1 client for admin APIs (GET/POST, JSON bodies).
pub fn http(method: &str, addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("admin API reachable");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("request written");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// A `vnet exec` running in the background, whose output is read line by line.
pub struct Background {
    pub child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Background {
    /// Waits until a line containing `needle` appears (or the timeout passes).
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return Some(line);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Waits for the process to exit; returns its code and every line.
    pub fn finish(mut self, timeout: Duration) -> (i32, Vec<String>) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(line);
                }
                return (status.code().unwrap_or(-1), self.seen);
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                return (-1, self.seen);
            }
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(50)) {
                self.seen.push(line);
            }
        }
    }
}

impl LabRun {
    /// Starts `vnet exec DEVICE -- ARGS…` in the background.
    pub fn exec_background(&self, device: &str, args: &[&str]) -> Background {
        use std::io::BufRead;
        let mut child = Command::new(vnet_bin())
            .arg("--run-dir")
            .arg(self.dir.path())
            .args(["exec", device, "--"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("vnet exec starts");
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    let _ = tx.send(line);
                }
            });
        }
        Background {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }
}

/// The value after `key ` in a line such as "… retransmissions 12, sha256 ab…".
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!("{key} "))? + key.len() + 1;
    line[start..].split([',', ' ']).next()
}

/// Writes a variant of a topology into a temp dir, with copies of the
/// directories topologies refer to (`configs/zones`, `configs/www`), so
/// relative paths keep working. Keep the returned dir alive with the lab.
pub fn lab_variant(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    for sub in ["zones", "www"] {
        let from = repo_path("configs").join(sub);
        if from.is_dir() {
            copy_dir(&from, &dir.path().join(sub));
        }
    }
    let topology = dir.path().join("variant.toml");
    std::fs::write(&topology, text).expect("write topology");
    (dir, topology)
}

/// A variant of the default lab whose web root also holds `big.bin`: 5 MiB
/// of xorshift bytes from `seed`. Returns the variant's directory (keep it
/// while the lab runs), its topology, and the bytes.
pub fn default_lab_with_big_file(seed: u64) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let text = std::fs::read_to_string(repo_path("configs/lab.toml")).expect("default lab");
    let (variant, topology) = lab_variant(&text);
    let mut state = seed;
    let big: Vec<u8> = (0..5 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(variant.path().join("www/big.bin"), &big).expect("write big.bin");
    (variant, topology, big)
}

impl LabRun {
    /// The outage scenario: `vnet link down PORT`, `outage` later `link up`.
    pub fn cut_for(&self, port: &str, outage: Duration) {
        let run = self.vnet(&["link", "down", port]);
        assert_eq!(run.code, 0, "{run:?}");
        std::thread::sleep(outage); // the scenario itself, not a wait for a condition
        let run = self.vnet(&["link", "up", port]);
        assert_eq!(run.code, 0, "{run:?}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A bulk TCP transfer under way: `tcp listen` on one host, `tcp send` on
/// another (both vnet's own TCP).
#[allow(dead_code)]
pub struct Transfer {
    pub server: Background,
    pub client: Background,
}

#[allow(dead_code)]
impl LabRun {
    /// Starts `tcp listen PORT` on `server` and, once it listens, `tcp send
    /// ADDR:PORT --bytes SIZE` on `client`.
    pub fn start_transfer(&self, server: &str, client: &str, to: &str, size: &str) -> Transfer {
        let port = to.rsplit(':').next().expect("ADDR:PORT");
        let mut listener = self.exec_background(server, &["tcp", "listen", "--once", port]);
        assert!(
            listener
                .wait_for("listening on", Duration::from_secs(10))
                .is_some(),
            "{:?}",
            listener.seen
        );
        let sender = self.exec_background(client, &["tcp", "send", to, "--bytes", size]);
        Transfer {
            server: listener,
            client: sender,
        }
    }
}

#[allow(dead_code)]
impl Transfer {
    /// Waits for both ends; checks both succeeded, `bytes` arrived and the
    /// SHA-256 of what was sent and received agree. Returns the sender's
    /// and the receiver's summary lines.
    pub fn finish_byte_exact(self, bytes: u64, timeout: Duration, logs: &str) -> (String, String) {
        let (code, sent) = self.client.finish(timeout);
        assert_eq!(code, 0, "sender failed: {sent:?}\n{logs}");
        let (code, received) = self.server.finish(Duration::from_secs(30));
        assert_eq!(code, 0, "receiver failed: {received:?}");
        let sent_line = sent
            .into_iter()
            .find(|l| l.starts_with("sent "))
            .expect("sender summary");
        let recv_line = received
            .into_iter()
            .find(|l| l.starts_with("received "))
            .expect("receiver summary");
        assert!(
            sent_line.starts_with(&format!("sent {bytes} bytes")),
            "{sent_line}"
        );
        assert!(
            recv_line.starts_with(&format!("received {bytes} bytes")),
            "{recv_line}"
        );
        assert_eq!(
            field(&sent_line, "sha256"),
            field(&recv_line, "sha256"),
            "stream differs:\n{sent_line}\n{recv_line}"
        );
        (sent_line, recv_line)
    }
}

/// `vnet gen topology --chain N` into `dir`; returns the file.
#[allow(dead_code)]
pub fn generate_chain(dir: &Path, n: usize) -> PathBuf {
    generate_topology(dir, &format!("chain{n}.toml"), &["--chain", &n.to_string()])
}

/// Writes `vnet gen topology ARGS` into `dir/name`; returns its path.
#[allow(dead_code)]
pub fn generate_topology(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let topology = dir.join(name);
    let out = Command::new(vnet_bin())
        .args(["gen", "topology"])
        .args(args)
        .arg("-o")
        .arg(&topology)
        .output()
        .expect("vnet gen topology runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    topology
}
