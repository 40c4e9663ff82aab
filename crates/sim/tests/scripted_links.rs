//! Scripted link changes (`vnet sim --at`) in the default lab: cutting
//! r2:eth1 (the r2–r3 cable, the only path to the servers) stops a ping's
//! replies, and bringing it back restores them.

mod simlab;

use simlab::*;
use std::collections::BTreeSet;
use vnet_sim::Outcome;
use vnet_sim::events::WireEvent;

const PING: &str = "ping -c 5 10.0.3.30";

/// Sequence numbers of the replies ping printed.
fn replied(o: &Outcome) -> BTreeSet<u16> {
    stdout(o)
        .lines()
        .filter(|l| l.contains("bytes from 10.0.3.30"))
        .filter_map(|l| l.split("icmp_seq=").nth(1)?.split(' ').next()?.parse().ok())
        .collect()
}

/// Echo requests r1 handed to r2 and r2 passed on to r3, by seq.
fn seqs(o: &Outcome, from: &str, to: &str, kind: &str) -> BTreeSet<u16> {
    sent(o, from, to)
        .into_iter()
        .filter(|e| e.summary.contains(kind))
        .filter_map(echo_seq)
        .collect()
}

fn script_events(o: &Outcome) -> Vec<&WireEvent> {
    o.events.iter().filter(|e| e.proto == "script").collect()
}

/// `--at "50ms link down r2:eth1"` during `ping -c 5 10.0.3.30` (one echo
/// a second): the first reply (before the cut) arrives, the other four
/// are lost; the log records the cut 50 ms after the command started, on
/// r2 eth1, and no frame crosses r2–r3 after it while requests still
/// reach r2.
#[test]
fn link_down_loses_the_replies() {
    let o = run(
        &options(1, &["50ms link down r2:eth1"], &[]),
        "client",
        PING,
    );
    assert_eq!(replied(&o), BTreeSet::from([1]), "{}", all_output(&o));
    assert!(
        stdout(&o).contains("5 packets transmitted, 1 received, 80% packet loss"),
        "{}",
        stdout(&o)
    );
    assert_eq!(o.exit, Some(0), "some replies came (iputils exits 0)");

    let script = script_events(&o);
    assert_eq!(script.len(), 1, "{}", log(&o));
    let cut = script[0];
    assert_eq!((cut.to.as_str(), cut.to_iface.as_str()), ("r2", "eth1"));
    assert_eq!(cut.summary, "link down");
    assert_eq!(cut.at_micros, o.command_micros + 50_000);
    let line = cut.line();
    assert!(
        line.contains("script -")
            && line.contains("-> r2 eth1")
            && line.ends_with("script link down"),
        "{line}"
    );

    let across =
        |e: &&WireEvent| (e.from == "r2" && e.to == "r3") || (e.from == "r3" && e.to == "r2");
    assert!(
        !o.events.iter().filter(across).any(|e| e.index > cut.index),
        "nothing crosses the cut cable\n{}",
        log(&o)
    );
    assert_eq!(
        seqs(&o, "r1", "r2", "echo request"),
        (1..=5).collect(),
        "every request still reaches r2"
    );
    assert_eq!(seqs(&o, "r2", "r3", "echo request"), BTreeSet::from([1]));
}

/// `--at "50ms link down r2:eth1" --at "2500ms link up r2:eth1"`: echoes 2
/// and 3 (at 1 s and 2 s) are lost, 4 and 5 (at 3 s and 4 s) answered
/// again; both changes are in the log, in order, at their times.
#[test]
fn link_up_restores_the_replies() {
    let o = run(
        &options(
            1,
            &["50ms link down r2:eth1", "2500ms link up r2:eth1"],
            &[],
        ),
        "client",
        PING,
    );
    assert_eq!(replied(&o), BTreeSet::from([1, 4, 5]), "{}", all_output(&o));
    assert!(
        stdout(&o).contains("5 packets transmitted, 3 received, 40% packet loss"),
        "{}",
        stdout(&o)
    );
    let script: Vec<(u64, &str)> = script_events(&o)
        .iter()
        .map(|e| (e.at_micros - o.command_micros, e.summary.as_str()))
        .collect();
    assert_eq!(script, [(50_000, "link down"), (2_500_000, "link up")]);
    assert_eq!(
        seqs(&o, "r2", "r3", "echo request"),
        BTreeSet::from([1, 4, 5])
    );
    assert_eq!(
        seqs(&o, "r3", "r2", "echo reply"),
        BTreeSet::from([1, 4, 5])
    );
}

/// The same script without the cut: every reply comes (the losses above
/// are the script's doing, not the lab's).
#[test]
fn without_the_script_every_reply_comes() {
    let o = run(&options(1, &[], &[]), "client", PING);
    assert_eq!(replied(&o), (1..=5).collect(), "{}", all_output(&o));
    assert!(script_events(&o).is_empty());
}
