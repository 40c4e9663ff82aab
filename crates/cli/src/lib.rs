//! The vnet command line: up/down/status, exec, link, show, capture, bench
