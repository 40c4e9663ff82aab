//! DHCP in the default lab, simulated: the client (`address = "dhcp"`)
//! leases its address from r1 while the lab boots.

mod simlab;

use simlab::*;
use vnet_sim::events::WireEvent;

/// The client's DISCOVER, r1's OFFER, the client's REQUEST and r1's ACK
/// cross the client's cable in that order, with one transaction id, all
/// before the lab counts as booted (the client is not ready without a
/// lease); the address acked is the one `ip addr` then shows, and r1's
/// `leases` table lists it with the client's MAC.
#[test]
fn client_leases_its_address_before_boot_completes() {
    let o = run_simple("client", "ip addr", &[("r1", "leases")]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));

    let on_client_cable: Vec<&WireEvent> = o
        .events
        .iter()
        .filter(|e| {
            e.proto == "dhcp"
                && ((e.from == "client" && e.to == "sw1") || (e.from == "sw1" && e.to == "client"))
        })
        .collect();
    let kinds: Vec<&str> = on_client_cable
        .iter()
        .map(|e| {
            ["DISCOVER", "OFFER", "REQUEST", "ACK"]
                .into_iter()
                .find(|k| e.summary.contains(&format!("DHCP {k} ")))
                .unwrap_or_else(|| panic!("unexpected DHCP message: {}", e.line()))
        })
        .collect();
    assert_eq!(
        kinds,
        ["DISCOVER", "OFFER", "REQUEST", "ACK"],
        "{}",
        log(&o)
    );
    let senders: Vec<&str> = on_client_cable.iter().map(|e| e.from.as_str()).collect();
    assert_eq!(senders, ["client", "sw1", "client", "sw1"]);
    // OFFER and ACK come from r1 (through sw1).
    for kind in ["OFFER", "ACK"] {
        assert!(
            o.events
                .iter()
                .any(|e| e.from == "r1" && e.summary.contains(&format!("DHCP {kind} "))),
            "r1 sent the {kind}"
        );
    }
    let xid = |e: &WireEvent| {
        e.summary
            .split("xid ")
            .nth(1)
            .map(|x| x.split(' ').next().unwrap().to_string())
    };
    let xids: Vec<Option<String>> = on_client_cable.iter().map(|e| xid(e)).collect();
    assert!(xids[0].is_some());
    assert!(
        xids.iter().all(|x| *x == xids[0]),
        "one transaction: {xids:?}"
    );

    let ack = on_client_cable[3];
    assert!(
        ack.at_micros <= o.booted_micros,
        "ACK at {} µs, boot done at {} µs",
        ack.at_micros,
        o.booted_micros
    );
    assert!(o.booted_micros <= o.command_micros);
    // Nothing but DHCP crossed the client's cable before the lease.
    assert!(
        o.events
            .iter()
            .take_while(|e| e.index <= ack.index)
            .all(|e| e.proto == "dhcp"),
        "{}",
        log(&o)
    );

    // `DHCP ACK 10.0.1.100 xid …`: the leased address.
    let leased = ack
        .summary
        .split_whitespace()
        .nth(2)
        .expect("the ACK names the address")
        .to_string();
    assert!(
        stdout(&o).contains(&format!("inet {leased}/24")),
        "ip addr shows the lease:\n{}",
        stdout(&o)
    );

    let client_mac = src_mac(on_client_cable[0]);
    let leases = table(&o, "r1", "leases");
    let row = leases
        .rows
        .iter()
        .find(|r| cell(leases, r, "ADDRESS") == leased)
        .unwrap_or_else(|| panic!("no lease of {leased}:\n{}", leases.render()));
    assert!(
        cell(leases, row, "MAC").eq_ignore_ascii_case(&client_mac),
        "{}",
        leases.render()
    );
    assert_eq!(cell(leases, row, "INTERFACE"), iface_toward("r1", "sw1"));
    assert_eq!(cell(leases, row, "STATE"), "bound", "{}", leases.render());
    // lease_secs = 3600 in the lab, a second or two of it used.
    let expires: u64 = cell(leases, row, "EXPIRES")
        .trim_end_matches('s')
        .parse()
        .expect("EXPIRES is seconds");
    assert!((3590..=3600).contains(&expires), "{}", leases.render());
    assert_eq!(
        leases.rows.len(),
        1,
        "the laptop is static:\n{}",
        leases.render()
    );
}

/// `client ip route`: the lease brought the gateway (r1's router option)
/// along with the address.
#[test]
fn the_lease_brings_the_default_route() {
    let o = run_simple("client", "ip route", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let out = stdout(&o);
    assert!(out.contains("default via 10.0.1.1 dev eth0"), "{out}");
    assert!(
        out.contains("10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.100"),
        "{out}"
    );
}
