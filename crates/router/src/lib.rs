//! vnet-router: an IPv4 router device
