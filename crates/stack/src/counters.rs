//! Per-stack counters, exported by the device admin API as JSON.
//!
//! Names follow the Linux SNMP MIB spirit (RFC 1213 `ipInReceives`,
//! `ipForwDatagrams`, ... ) but are spelled out. Every counter is a plain
//! `u64` that only grows (wrapping is impossible in practice).

use serde::Serialize;

/// Everything a [`crate::NetStack`] counts.
///
/// "Datagram" counters count IP datagrams before fragmentation; fragment
/// counters count fragments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StackCounters {
    // --- Ethernet input -------------------------------------------------
    /// Frames whose EtherType is neither ARP nor IPv4 (dropped).
    pub rx_unknown_ethertype: u64,
    /// Frames addressed to another unicast MAC or to a multicast group (dropped).
    pub rx_not_our_mac: u64,
    /// Frames too short for an Ethernet header, or received on a port that does not exist.
    pub rx_malformed: u64,

    // --- IPv4 (RFC 791, RFC 1812) -----------------------------------------
    /// IPv4 packets received (RFC 1213 `ipInReceives`).
    pub ip_rx: u64,
    /// IPv4 datagrams originated by this stack, before fragmentation
    /// (`ipOutRequests`); includes ICMP messages the stack generates.
    pub ip_tx: u64,
    /// Datagrams forwarded (`ipForwDatagrams`).
    pub ip_forwarded: u64,
    /// Datagrams delivered to the local ICMP/UDP layer after reassembly (`ipInDelivers`).
    pub ip_delivered: u64,
    /// Packets with a bad version, IHL or length (`ipInHdrErrors`).
    pub ip_bad_header: u64,
    /// Packets whose header checksum did not verify (RFC 1812 §5.2.2).
    pub ip_bad_checksum: u64,
    /// Packets with an impossible source or destination (RFC 1812 §5.3.7 martians).
    pub ip_martian: u64,
    /// Packets not addressed to us while not forwarding (or received as link-layer broadcast).
    pub ip_not_for_us: u64,
    /// Packets dropped because their TTL expired in transit (RFC 1812 §5.3.1).
    pub ttl_exceeded: u64,
    /// Packets dropped, or sends refused, for lack of a route (RFC 1812 §5.2.7.1).
    pub no_route: u64,
    /// Packets too big for the egress MTU with DF set (RFC 1191).
    pub frag_needed_df: u64,
    /// Fragments produced by this stack (RFC 791 §3.2).
    pub fragments_created: u64,
    /// Fragments received for local delivery.
    pub fragments_received: u64,
    /// Datagrams successfully reassembled.
    pub reassembled: u64,
    /// Datagrams abandoned because the reassembly timer expired.
    pub reassembly_timeouts: u64,
    /// Fragments or datagrams dropped because a reassembly bound was reached.
    pub reassembly_overflow: u64,
    /// Fragments dropped as inconsistent (bad length, overlapping ends, too large).
    pub reassembly_malformed: u64,
    /// Packets that could not be sent because the egress interface has no address.
    pub tx_no_address: u64,

    // --- ARP (RFC 826) ----------------------------------------------------
    /// ARP packets received.
    pub arp_rx: u64,
    /// ARP packets that failed to parse or are not Ethernet/IPv4.
    pub arp_malformed: u64,
    /// ARP requests sent (including retries).
    pub arp_requests_sent: u64,
    /// ARP replies sent.
    pub arp_replies_sent: u64,
    /// Neighbours that did not answer any request (entries that failed).
    pub arp_resolution_failed: u64,
    /// Packets dropped from, or refused by, the queue of packets awaiting resolution.
    pub arp_queue_dropped: u64,
    /// ARP packets whose sender protocol address is not a unicast address
    /// of the receiving interface's subnet (off-link, the subnet's network
    /// or broadcast address, multicast, limited broadcast): nothing learned
    /// (a request for our address is still answered).
    pub arp_ignored_offlink: u64,
    /// ARP packets from a sender not in the cache that did not qualify for
    /// a new entry (a reply we did not ask for, a gratuitous ARP, a request
    /// for another target): not cached (RFC 826 merge rule).
    pub arp_ignored_unsolicited: u64,
    /// New ARP entries not created, or resolutions not started, because
    /// the table was full of entries that may not be evicted.
    pub arp_table_full: u64,

    // --- ICMP (RFC 792) ---------------------------------------------------
    /// ICMP messages received for local delivery.
    pub icmp_rx: u64,
    /// ICMP messages received with a bad checksum or length.
    pub icmp_bad: u64,
    /// ICMP messages sent (echo replies, echo requests and errors).
    pub icmp_tx: u64,
    /// ICMP error messages sent.
    pub icmp_errors_sent: u64,
    /// ICMP errors not sent because the rules of RFC 1812 §4.3.2.7 forbid them.
    pub icmp_errors_suppressed: u64,
    /// ICMP echo requests answered.
    pub icmp_echo_replies_sent: u64,
    /// ICMP replies or errors that matched no socket.
    pub icmp_unmatched: u64,

    // --- raw IP sockets (a routing protocol such as OSPF) -----------------
    /// Datagrams queued on a raw socket.
    pub raw_rx: u64,
    /// Datagrams sent from a raw socket.
    pub raw_tx: u64,
    /// Datagrams dropped because the raw socket's queue was full.
    pub raw_queue_full: u64,

    // --- UDP (RFC 768) ----------------------------------------------------
    /// UDP datagrams received for local delivery.
    pub udp_rx: u64,
    /// UDP datagrams sent.
    pub udp_tx: u64,
    /// UDP datagrams to a port with no socket (answered with Port Unreachable).
    pub udp_no_port: u64,
    /// UDP datagrams with a bad checksum.
    pub udp_bad_checksum: u64,
    /// UDP datagrams whose header or length field is inconsistent.
    pub udp_malformed: u64,
    /// UDP datagrams dropped because the socket's receive queue was full.
    pub udp_queue_full: u64,
    /// Ping events dropped because the socket's queue was full.
    pub ping_queue_full: u64,

    // --- TCP (RFC 9293) ----------------------------------------------------
    /// TCP segments received for local delivery (RFC 1213 `tcpInSegs`).
    pub tcp_rx: u64,
    /// TCP segments sent, retransmissions and resets included (`tcpOutSegs`).
    pub tcp_tx: u64,
    /// Segments whose checksum did not verify (dropped, never delivered).
    pub tcp_bad_checksum: u64,
    /// Segments with a bad header length, bad options, port 0, or sent to
    /// a broadcast or multicast address (dropped; RFC 1122 §4.2.3.10).
    pub tcp_malformed: u64,
    /// Segments that matched no connection and no listener (answered with
    /// a reset, RFC 9293 §3.10.7.1).
    pub tcp_no_socket: u64,
    /// Segments retransmitted (by timeout, fast retransmit or NewReno).
    pub tcp_retransmissions: u64,
    /// Fast retransmits after three duplicate ACKs (RFC 5681 §3.2), or on
    /// entering SACK loss recovery (RFC 6675 §5 step 4).
    pub tcp_fast_retransmits: u64,
    /// SACK-based loss recoveries entered (RFC 6675 §5; Linux
    /// `TCPSackRecovery`).
    pub tcp_sack_recoveries: u64,
    /// Segments retransmitted during SACK loss recovery, the first one
    /// included (RFC 6675 §5 steps 4.3 and C.1).
    pub tcp_sack_retransmits: u64,
    /// Tail loss probes sent (RFC 8985 §7; Linux `TCPLossProbes`).
    pub tcp_tlp_probes: u64,
    /// Retransmission timer expirations (RFC 6298 §5.4).
    pub tcp_rto_timeouts: u64,
    /// Zero-window probes sent (RFC 9293 §3.8.6.1).
    pub tcp_window_probes: u64,
    /// Resets sent (`tcpOutRsts`).
    pub tcp_rst_sent: u64,
    /// Acceptable resets received.
    pub tcp_rst_rx: u64,
    /// SYNs that found the listener's backlog full (answered with a SYN
    /// cookie, or dropped when cookies are off), and ACKs with a valid
    /// cookie dropped because the accept queue was full (Linux
    /// `ListenOverflows`).
    pub tcp_backlog_full: u64,
    /// SYN-ACKs sent with a SYN cookie because the backlog was full
    /// (RFC 4987 §3.6; Linux `SyncookiesSent`).
    pub tcp_syncookies_sent: u64,
    /// Connections created from a valid SYN cookie (`SyncookiesRecv`).
    pub tcp_syncookies_ok: u64,
    /// ACKs checked as a SYN cookie that failed (bad hash or too old);
    /// answered with a reset (`SyncookiesFailed`).
    pub tcp_syncookies_failed: u64,
    /// SYNs dropped because the socket table was full.
    pub tcp_socket_limit: u64,
    /// Segments queued out of order.
    pub tcp_ooo_queued: u64,
    /// Out-of-order segments dropped (too many separate ranges).
    pub tcp_ooo_dropped: u64,
    /// Active opens: SYNs sent by `tcp_connect` (`tcpActiveOpens`).
    pub tcp_conn_opened: u64,
    /// Passive opens whose handshake completed (`tcpPassiveOpens`).
    pub tcp_conn_accepted: u64,
    /// Connections that reached ESTABLISHED.
    pub tcp_conn_established: u64,
    /// Connections that reached CLOSED without an error.
    pub tcp_conn_closed: u64,
    /// Connections that ended in error: reset, refused, timed out, aborted.
    pub tcp_conn_aborted: u64,

    // --- transport not implemented ------------------------------------------
    /// Datagrams for a protocol this stack does not implement (answered with Protocol Unreachable).
    pub unknown_protocol: u64,
}
