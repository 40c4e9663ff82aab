//! Sans-IO packet codecs: Ethernet+FCS, ARP, IPv4, ICMP, UDP
