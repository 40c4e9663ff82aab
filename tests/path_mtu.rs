//! The host's path-MTU cache (RFC 1191 §6.3) on the default lab, whose
//! r2 ── r3 link has MTU 576: one "fragmentation needed" teaches the
//! client the path to web, `ip route get` shows it, and a later TCP
//! connection starts with small segments (no router has to refuse any).

mod common;

use common::LabRun;

fn frag_needed(lab: &LabRun) -> u64 {
    lab.device_counter("r2", "frag_needed_df") + lab.device_counter("r3", "frag_needed_df")
}

#[test]
fn a_learned_path_mtu_is_shown_and_used_by_later_connections() {
    let lab = LabRun::default_lab();
    let before = lab.exec("client", &["ip", "route", "get", "10.0.3.10"]);
    assert_eq!(before.code, 0, "{before:?}");
    assert!(
        before
            .stdout
            .contains("10.0.3.10 via 10.0.1.1 dev eth0 src 10.0.1.100"),
        "{before:?}"
    );
    assert!(
        !before.stdout.contains("mtu"),
        "nothing learned yet: {before:?}"
    );

    let ping = lab.exec(
        "client",
        &["ping", "-M", "do", "-s", "1000", "-c", "1", "10.0.3.10"],
    );
    assert!(ping.stdout.contains("mtu = 576"), "{ping:?}");
    let get = lab.exec("client", &["ip", "route", "get", "10.0.3.10"]);
    assert!(get.stdout.contains("cache expires"), "{get:?}");
    assert!(get.stdout.contains("mtu 576"), "{get:?}");
    let table = lab.exec("client", &["ip", "route"]);
    assert!(
        table.stdout.contains("10.0.3.10 cache expires"),
        "{table:?}"
    );

    let refused = frag_needed(&lab);
    let fetch = lab.exec(
        "client",
        &["fetch", "http://www.example.com/img/wire.jpg", "--sha256"],
    );
    assert!(fetch.stdout.starts_with("200 9768 bytes"), "{fetch:?}");
    assert_eq!(
        frag_needed(&lab),
        refused,
        "no segment was too big for the path"
    );
}
