//! Tracing setup for vnet devices and tools
