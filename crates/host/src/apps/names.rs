//! Host names where the Linux tools take them (ping, traceroute, tcp): an
//! address as it is, a name through the host's stub resolver, failures
//! worded as glibc's `gai_strerror` words them.

use crate::Host;
use std::net::Ipv4Addr;
use std::time::Duration;
use vnet_dns::stub::{StubError, StubOptions, lookup_a};
use vnet_runtime::DeviceHandle;
use vnet_wire::dns::Rcode;

/// Why a name has no address, as `getaddrinfo` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameError {
    /// EAI_NONAME: NXDOMAIN, or not a valid name.
    NotKnown,
    /// EAI_NODATA: the name exists but has no A record.
    NoAddress,
    /// EAI_AGAIN: no server, no answer, or SERVFAIL/REFUSED.
    Temporary,
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameError::NotKnown => "Name or service not known",
            NameError::NoAddress => "No address associated with hostname",
            NameError::Temporary => "Temporary failure in name resolution",
        })
    }
}

/// glibc's resolver defaults (resolv.conf `timeout:5 attempts:2`).
fn options() -> StubOptions {
    StubOptions {
        recurse: true,
        timeout: Duration::from_secs(5),
        tries: 2,
    }
}

/// The IPv4 address of `host`: a dotted quad as it is, anything else
/// asked of the host's first name server (configured or learned by DHCP),
/// CNAMEs followed, the first address taken.
pub(crate) async fn resolve(
    handle: &DeviceHandle<Host>,
    host: &str,
) -> Result<Ipv4Addr, NameError> {
    if let Ok(addr) = host.parse::<Ipv4Addr>() {
        return Ok(addr);
    }
    let Ok(name) = host.parse() else {
        return Err(NameError::NotKnown);
    };
    let server = handle.with(|host, _, _| host.nameservers.first().copied());
    let Some(server) = server else {
        return Err(NameError::Temporary);
    };
    match lookup_a(handle, server, &name, &options()).await {
        Ok(addrs) => addrs.first().copied().ok_or(NameError::NoAddress),
        Err(e) => Err(classify(&e)),
    }
}

/// How `getaddrinfo` words a stub failure.
fn classify(error: &StubError) -> NameError {
    match error {
        StubError::Failed {
            rcode: Rcode::NxDomain,
            ..
        } => NameError::NotKnown,
        StubError::NoAddress(_) => NameError::NoAddress,
        _ => NameError::Temporary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stub_failures_read_like_glibc() {
        let name: vnet_wire::dns::DnsName = "nosuch.example".parse().expect("name");
        let nx = StubError::Failed {
            name: name.clone(),
            rcode: Rcode::NxDomain,
        };
        assert_eq!(classify(&nx).to_string(), "Name or service not known");
        let nodata = StubError::NoAddress(name.clone());
        assert_eq!(
            classify(&nodata).to_string(),
            "No address associated with hostname"
        );
        let timeout = StubError::Timeout {
            server: Ipv4Addr::new(10, 0, 2, 53),
            tries: 2,
        };
        assert_eq!(
            classify(&timeout).to_string(),
            "Temporary failure in name resolution"
        );
    }
}
