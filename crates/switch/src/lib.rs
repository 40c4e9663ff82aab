//! vnet-switch: a learning Ethernet switch device
