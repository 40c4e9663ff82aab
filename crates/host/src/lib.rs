//! vnet-host: an end host with ping, traceroute, arp and ip apps
