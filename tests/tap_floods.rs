//! Attacks from a real Linux network namespace plugged into the default lab
//! through a TAP link end on sw2 (issue 14): a SYN flood (hping3), a
//! slowloris of 1,100 connections from one address, an ARP flood with
//! off-subnet senders, and a random-name DNS flood. Each test proves the lab
//! keeps serving *during* the attack (the attacker is still running when
//! the browse or ping completes) and prints its figures.
//!
//! Needs /dev/net/tun, root, hping3 and python3; without them each test
//! prints why and skips, and fails under CI=true (.ci/run installs them).

mod common;

use common::LabRun;
use common::tap::{Netns, tap_lab};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A browse of the default page from the client, which must load all five
/// resources; returns how long it took.
fn browse_ok(lab: &LabRun, when: &str) -> Duration {
    let started = Instant::now();
    let run = lab.exec("client", &["browse", "http://www.example.com/"]);
    assert_eq!(run.code, 0, "browse {when}: {run:?}\n{}", lab.logs());
    assert!(
        run.stdout.contains("5 requests, 5 ok"),
        "browse {when}: {run:?}"
    );
    let took = started.elapsed();
    eprintln!("browse {when} took {took:?}:\n{}", run.stdout);
    took
}

/// A background attacker in the namespace.
struct Attack {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Attack {
    fn start(ns: &Netns, args: &[&str]) -> Attack {
        let mut child = ns
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let (tx, lines) = std::sync::mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Attack { child, lines }
    }

    /// Panics unless the attacker is still running: the check that a
    /// request really completed *during* the attack.
    fn assert_running(&mut self, what: &str) {
        let status = self.child.try_wait().expect("try_wait");
        assert!(
            status.is_none(),
            "the attack ended before {what}: {status:?}"
        );
    }

    /// Waits for a line containing `needle`.
    fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("the attacker never printed {needle:?}"),
            }
        }
    }

    /// Waits for the attacker to exit and returns everything it printed.
    fn finish(mut self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        while self.child.try_wait().expect("try_wait").is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the attacker did not stop within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(100));
        self.lines.try_iter().collect()
    }
}

impl Drop for Attack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One counter of a device's TCP stack (`status.device.stack.tcp_*`).
fn stack_counter(lab: &LabRun, device: &str, name: &str) -> u64 {
    let status = lab.status(device);
    find_u64(&status["device"], name)
        .unwrap_or_else(|| panic!("no counter {name} in {device}'s status: {status}"))
}

/// The first numeric field called `name` anywhere in `v`.
fn find_u64(v: &serde_json::Value, name: &str) -> Option<u64> {
    match v {
        serde_json::Value::Object(map) => map
            .get(name)
            .and_then(|x| x.as_u64())
            .or_else(|| map.values().find_map(|x| find_u64(x, name))),
        serde_json::Value::Array(items) => items.iter().find_map(|x| find_u64(x, name)),
        _ => None,
    }
}

/// Polls until `f` is true or panics after `timeout`.
fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn browse_succeeds_during_and_right_after_a_syn_flood() {
    let test = "browse_succeeds_during_and_right_after_a_syn_flood";
    let Some((lab, ns, _tap, _variant)) = tap_lab(test, &["hping3", "timeout"]) else {
        return;
    };
    browse_ok(&lab, "before the flood");
    // 15 s of SYNs from random sources at web:80, 20,000 a second: the
    // 128-entry backlog is full within 10 ms. (An unpaced `--flood` is
    // faster than the devices of a 2-core machine read their cables; frames
    // are then lost before any TCP logic sees them: docs/design.md.)
    let mut flood = Attack::start(
        &ns,
        &[
            "timeout",
            "-s",
            "INT",
            "15",
            "hping3",
            "-S",
            "-i",
            "u50",
            "--rand-source",
            "-p",
            "80",
            "10.0.3.10",
        ],
    );
    // The backlog overflows and web answers with SYN cookies...
    wait_until("web to send SYN cookies", Duration::from_secs(8), || {
        stack_counter(&lab, "web", "tcp_syncookies_sent") > 0
    });
    // ...and a browse (DNS, TCP, five GETs) succeeds while the flood runs.
    let during = browse_ok(&lab, "during the SYN flood");
    eprintln!("browse during the SYN flood took {during:?}");
    flood.assert_running("the browse completed");
    let lines = flood.finish(Duration::from_secs(20));
    let after = browse_ok(&lab, "right after the SYN flood");
    let sent = lines
        .iter()
        .find(|l| l.contains("packets transmitted"))
        .cloned()
        .unwrap_or_default();
    eprintln!(
        "SYN flood: hping3 {sent:?}; web syncookies_sent {} ok {} backlog_full {}; \
         browse during {during:?}, right after {after:?}",
        stack_counter(&lab, "web", "tcp_syncookies_sent"),
        stack_counter(&lab, "web", "tcp_syncookies_ok"),
        stack_counter(&lab, "web", "tcp_backlog_full"),
    );
}

/// Opens N connections to web:80 from one address, sends an incomplete
/// request head on each, then one more header line per connection every
/// 2 s for the given seconds (the classic slowloris).
const SLOWLORIS: &str = r#"
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
n, seconds = int(sys.argv[1]), float(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("10.0.3.10", 80))
    except BlockingIOError:
        pass
    socks.append(s)
time.sleep(2)
opened = 0
for s in socks:
    try:
        s.send(b"GET / HTTP/1.1\r\nHost: www.example.com\r\n")
        opened += 1
    except OSError:
        pass
print("opened", opened, flush=True)
end = time.time() + seconds
while time.time() < end:
    time.sleep(2)
    alive = 0
    for s in socks:
        try:
            s.send(b"X-Slow: 1\r\n")
            alive += 1
        except OSError:
            pass
    print("alive", alive, flush=True)
"#;

#[test]
fn browse_succeeds_during_a_slowloris_of_1100_connections() {
    let test = "browse_succeeds_during_a_slowloris_of_1100_connections";
    let Some((lab, ns, _tap, _variant)) = tap_lab(test, &["python3"]) else {
        return;
    };
    let mut attack = Attack::start(&ns, &["python3", "-c", SLOWLORIS, "1100", "14"]);
    let opened = attack.wait_for("opened", Duration::from_secs(30));
    wait_until(
        "web to refuse the attacker's extra connections",
        Duration::from_secs(10),
        || stack_counter(&lab, "web", "refused_per_client") > 0,
    );
    let during = browse_ok(&lab, "during the slowloris");
    attack.assert_running("the browse completed");
    let lines = attack.finish(Duration::from_secs(40));
    eprintln!(
        "slowloris: attacker {opened:?}, last {:?}; web refused_per_client {} evicted_idle {} \
         head_timeouts {}; browse during {during:?}",
        lines.iter().rev().find(|l| l.starts_with("alive")),
        stack_counter(&lab, "web", "refused_per_client"),
        stack_counter(&lab, "web", "evicted_idle"),
        stack_counter(&lab, "web", "head_timeouts"),
    );
}

/// Sends ARP requests with random sender MACs out of IFACE for SECONDS at
/// RATE frames a second:
/// even ones from senders outside every lab subnet, odd ones from unused
/// addresses of 10.0.3.0/24, all asking for addresses nobody has.
const ARP_FLOOD: &str = r#"
import random, socket, struct, sys, time
iface, seconds, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
rnd = random.Random(14)
sent = 0
start = time.time()
end = start + seconds
while time.time() < end:
    ahead = sent / rate - (time.time() - start)
    if ahead > 0:
        time.sleep(ahead)
    for _ in range(100):
        mac = bytes([2]) + rnd.randbytes(5)
        if sent % 2 == 0:
            sender = bytes([rnd.randrange(11, 223)]) + rnd.randbytes(3)
        else:
            sender = bytes([10, 0, 3, rnd.randrange(150, 250)])
        target = bytes([10, 0, 3, rnd.randrange(150, 250)])
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + sender + bytes(6) + target
        try:
            s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
            sent += 1
        except OSError:
            time.sleep(0.001)
print("sent", sent, flush=True)
"#;

#[test]
fn ping_through_a_router_survives_an_arp_flood_from_a_namespace() {
    let test = "ping_through_a_router_survives_an_arp_flood_from_a_namespace";
    let Some((lab, ns, tap, _variant)) = tap_lab(test, &["python3"]) else {
        return;
    };
    // r3 and server know each other before the flood: entries in use.
    let run = lab.exec("client", &["ping", "-c", "1", "-W", "2", "10.0.3.30"]);
    assert_eq!(run.code, 0, "{run:?}");
    let attack = Attack::start(&ns, &["python3", "-c", ARP_FLOOD, &tap, "15", "10000"]);
    wait_until("the flood to reach r3", Duration::from_secs(8), || {
        stack_counter(&lab, "r3", "arp_rx") > 1000
    });
    // client -> r1 -> r2 -> r3 -> sw2 -> server: r3 and server both see the flood.
    let run = lab.exec(
        "client",
        &["ping", "-c", "40", "-i", "0.1", "-W", "1", "10.0.3.30"],
    );
    let mut attack = attack;
    eprintln!("ping during the ARP flood: {}", run.stdout);
    attack.assert_running("the pings completed");
    let received = run
        .stdout
        .lines()
        .find_map(|l| {
            l.split(", ")
                .find(|p| p.ends_with(" received"))
                .and_then(|p| p.trim_end_matches(" received").parse::<u32>().ok())
        })
        .unwrap_or_else(|| panic!("no summary: {run:?}"));
    let lines = attack.finish(Duration::from_secs(30));
    let offlink = stack_counter(&lab, "r3", "arp_ignored_offlink");
    let unsolicited = stack_counter(&lab, "r3", "arp_ignored_unsolicited");
    eprintln!(
        "ARP flood: attacker {:?}; r3 arp_rx {}, ignored off-link {offlink}, ignored \
         unsolicited {unsolicited}, table_full {}; ping {received}/40",
        lines.iter().find(|l| l.starts_with("sent")),
        stack_counter(&lab, "r3", "arp_rx"),
        stack_counter(&lab, "r3", "arp_table_full"),
    );
    assert!(
        offlink > 1000 && unsolicited > 1000,
        "the flood was seen and ignored"
    );
    assert!(received >= 38, "≥ 95 % of pings during the flood: {run:?}");
}

/// Sends random-name queries (`<random>.example.com A`) to the resolver as
/// fast as it can for SECONDS.
const DNS_FLOOD: &str = r#"
import random, socket, struct, sys, time
seconds = float(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
rnd = random.Random(5)
sent = 0
end = time.time() + seconds
while time.time() < end:
    label = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12)).encode()
    q = struct.pack("!HHHHHH", rnd.randrange(65536), 0x0100, 1, 0, 0, 0)
    q += bytes([len(label)]) + label + b"\x07example\x03com\x00" + struct.pack("!HH", 1, 1)
    try:
        s.sendto(q, ("10.0.2.53", 53))
        sent += 1
    except OSError:
        time.sleep(0.0005)
    try:
        while True:
            s.recv(2048)
    except OSError:
        pass
print("sent", sent, flush=True)
"#;

/// Total bytes of the lab's device logs.
fn log_bytes(lab: &LabRun) -> u64 {
    std::fs::read_dir(lab.dir.path().join("logs"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_dns_flood_costs_bounded_log_bytes_and_no_trace_storm() {
    let test = "a_dns_flood_costs_bounded_log_bytes_and_no_trace_storm";
    let Some((lab, ns, _tap, _variant)) = tap_lab(test, &["python3"]) else {
        return;
    };
    browse_ok(&lab, "before the flood");
    let logs_before = log_bytes(&lab);
    let traces_before = lab.vnet(&["trace", "list"]).stdout.lines().count();
    let attack = Attack::start(&ns, &["python3", "-c", DNS_FLOOD, "10"]);
    let lines = attack.finish(Duration::from_secs(30));
    let sent = lines
        .iter()
        .find(|l| l.starts_with("sent"))
        .cloned()
        .unwrap_or_default();
    // The resolver still answers right after it...
    let run = lab.exec("client", &["dig", "www.example.com"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("10.0.3.10"), "{run:?}");
    // ...and a browse is traced: once its trace is in, the flood's spans
    // (exported in the same batches or earlier) are too.
    browse_ok(&lab, "after the flood");
    let run = lab.vnet(&["trace", "show", "last", "--wait", "10"]);
    assert_eq!(run.code, 0, "{run:?}");
    let listed = lab.vnet(&["trace", "list"]).stdout;
    let traces_after = listed.lines().count();
    let logs_after = log_bytes(&lab);
    eprintln!(
        "DNS flood: attacker {sent:?}; resolver queries {}; log bytes {logs_before} -> \
         {logs_after}; traces listed {traces_before} -> {traces_after}",
        stack_counter(&lab, "resolver", "queries"),
    );
    let queries: u64 = sent
        .trim_start_matches("sent ")
        .parse()
        .unwrap_or_else(|_| panic!("attacker summary: {lines:?}"));
    assert!(queries > 10_000, "the flood was a flood: {queries} queries");
    assert!(
        logs_after - logs_before < 1 << 20,
        "{queries} queries wrote {} log bytes",
        logs_after - logs_before
    );
    assert!(
        traces_after < traces_before + 20,
        "untraced queries made traces: {traces_before} -> {traces_after}:\n{}",
        listed.lines().rev().take(10).collect::<Vec<_>>().join("\n")
    );
}
