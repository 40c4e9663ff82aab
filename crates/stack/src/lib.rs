//! Sans-IO network stack: ARP cache, IPv4 forwarding, fragmentation and reassembly, ICMP, UDP sockets, learning bridge
