//! Learning switch behaviour (sw1 of the default lab) seen in a simulated
//! run: broadcasts are flooded, frames to a learnt address leave by one
//! port only, and the MAC table holds what the switch learnt.

mod simlab;

use simlab::*;

/// `client ping -c 1 10.0.1.1`: the client's first ARP request (a
/// broadcast) is flooded by sw1 out of every port but the one it came in
/// on; r1's reply (unicast to the client) leaves sw1 by exactly one port,
/// the client's.
#[test]
fn broadcast_is_flooded_and_the_reply_goes_out_one_port() {
    let o = run_simple("client", "ping -c 1 10.0.1.1", &[]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));

    let client_port = iface_toward("sw1", "client");
    let r1_port = iface_toward("sw1", "r1");
    let request = o
        .events
        .iter()
        .find(|e| e.from == "client" && e.proto == "arp" && e.summary.contains("who-has"))
        .unwrap_or_else(|| panic!("client sent no ARP request:\n{}", log(&o)));
    assert_eq!(request.to, "sw1");
    assert_eq!(request.to_iface, client_port);
    assert_eq!(dst_mac(request), "ff:ff:ff:ff:ff:ff", "{}", request.line());
    // One request on the wire, so every identical frame sw1 sends is a copy.
    let same = |e: &&vnet_sim::events::WireEvent| e.head == request.head;
    assert_eq!(
        o.events
            .iter()
            .filter(|e| e.from == "client")
            .filter(same)
            .count(),
        1
    );
    let mut flooded: Vec<String> = o
        .events
        .iter()
        .filter(|e| e.from == "sw1")
        .filter(same)
        .map(|e| e.from_iface.clone())
        .collect();
    flooded.sort();
    let mut others = ifaces_of("sw1");
    others.retain(|i| *i != client_port);
    assert!(others.len() >= 2, "sw1 has several other ports: {others:?}");
    assert_eq!(
        flooded,
        others,
        "the broadcast is flooded out of every other port\n{}",
        log(&o)
    );

    let client_mac = src_mac(request);
    let reply = o
        .events
        .iter()
        .find(|e| {
            e.from == "r1"
                && e.proto == "arp"
                && e.summary.contains("is-at")
                && dst_mac(e) == client_mac
        })
        .unwrap_or_else(|| panic!("r1 sent no ARP reply to the client:\n{}", log(&o)));
    assert_eq!(reply.to_iface, r1_port);
    let forwarded: Vec<&str> = o
        .events
        .iter()
        .filter(|e| e.from == "sw1" && e.head == reply.head)
        .map(|e| e.from_iface.as_str())
        .collect();
    assert_eq!(
        forwarded,
        [client_port.as_str()],
        "the unicast reply leaves by the client's port only\n{}",
        log(&o)
    );

    // The echo request (to r1's learnt MAC) likewise goes out of one port.
    let echo = o
        .events
        .iter()
        .find(|e| e.from == "client" && e.summary.contains("echo request"))
        .expect("client sent an echo request");
    let forwarded: Vec<&str> = o
        .events
        .iter()
        .filter(|e| e.from == "sw1" && e.head == echo.head)
        .map(|e| e.from_iface.as_str())
        .collect();
    assert_eq!(forwarded, [r1_port.as_str()], "{}", log(&o));
}

/// sw1's `mac` table after the run lists the client's MAC on the port
/// toward the client and r1's on the port toward r1, and nothing for the
/// laptop, which never sent a frame.
#[test]
fn mac_table_lists_learnt_addresses_on_their_ports() {
    let o = run_simple("client", "ping -c 1 10.0.1.1", &[("sw1", "mac")]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    let client_mac = src_mac(
        o.events
            .iter()
            .find(|e| e.from == "client")
            .expect("client sent a frame"),
    );
    let r1_mac = src_mac(
        o.events
            .iter()
            .find(|e| e.from == "r1" && e.to == "sw1")
            .expect("r1 sent a frame to sw1"),
    );
    assert!(
        !o.events.iter().any(|e| e.from == "laptop"),
        "the laptop stays silent in this run"
    );
    let mac = table(&o, "sw1", "mac");
    let port_of = |wanted: &str| -> Vec<String> {
        mac.rows
            .iter()
            .filter(|r| cell(mac, r, "MAC").eq_ignore_ascii_case(wanted))
            .map(|r| cell(mac, r, "PORT").to_string())
            .collect()
    };
    assert_eq!(
        port_of(&client_mac),
        [iface_toward("sw1", "client")],
        "{}",
        mac.render()
    );
    assert_eq!(
        port_of(&r1_mac),
        [iface_toward("sw1", "r1")],
        "{}",
        mac.render()
    );
    assert_eq!(
        mac.rows.len(),
        2,
        "only senders are learnt:\n{}",
        mac.render()
    );
}

/// `laptop ping -c 3 10.0.1.100` (the client's leased address): sw1 has
/// learnt all three stations on their own ports (client and r1 from the
/// DHCP exchange at boot, the laptop from its ARP request), and once
/// learnt, unicast between laptop and client never leaves by r1's port.
#[test]
fn known_unicast_does_not_leak_to_a_third_port() {
    let o = run_simple("laptop", "ping -c 3 10.0.1.100", &[("sw1", "mac")]);
    assert_eq!(o.exit, Some(0), "{}", all_output(&o));
    assert!(
        stdout(&o).contains("3 packets transmitted, 3 received"),
        "{}",
        all_output(&o)
    );
    let mac_of = |device: &str| {
        src_mac(
            o.events
                .iter()
                .find(|e| e.from == device && e.to == "sw1")
                .unwrap_or_else(|| panic!("{device} sent nothing")),
        )
    };
    let (client, laptop, r1) = (mac_of("client"), mac_of("laptop"), mac_of("r1"));
    let mac = table(&o, "sw1", "mac");
    for (station, device) in [(&client, "client"), (&laptop, "laptop"), (&r1, "r1")] {
        let ports: Vec<&str> = mac
            .rows
            .iter()
            .filter(|r| cell(mac, r, "MAC").eq_ignore_ascii_case(station))
            .map(|r| cell(mac, r, "PORT"))
            .collect();
        assert_eq!(
            ports,
            [iface_toward("sw1", device)],
            "{device}\n{}",
            mac.render()
        );
    }

    let r1_port = iface_toward("sw1", "r1");
    let unicast_to_r1_port: Vec<String> = o
        .events
        .iter()
        .filter(|e| e.at_micros >= o.command_micros)
        .filter(|e| e.from == "sw1" && e.from_iface == r1_port)
        .filter(|e| dst_mac(e) != "ff:ff:ff:ff:ff:ff")
        .map(|e| e.line())
        .collect();
    assert!(
        o.events.iter().any(|e| e.at_micros >= o.command_micros
            && e.from == "sw1"
            && e.from_iface == r1_port
            && dst_mac(e) == "ff:ff:ff:ff:ff:ff"),
        "the laptop's ARP broadcast reaches r1's port (the port is live)"
    );
    assert!(
        unicast_to_r1_port.is_empty(),
        "unicast between laptop and client leaked to r1's port:\n{}",
        unicast_to_r1_port.join("\n")
    );
    // Every echo request and reply crossed sw1 by exactly one port.
    for (kind, port) in [
        ("echo request", iface_toward("sw1", "client")),
        ("echo reply", iface_toward("sw1", "laptop")),
    ] {
        let out: Vec<&str> = o
            .events
            .iter()
            .filter(|e| e.from == "sw1" && e.summary.contains(kind))
            .map(|e| e.from_iface.as_str())
            .collect();
        assert_eq!(out.len(), 3, "{kind}\n{}", log(&o));
        assert!(out.iter().all(|p| *p == port), "{kind}: {out:?}");
    }
}
