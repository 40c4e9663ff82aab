//! Names a device resolves itself (cable peers, the trace collector): the
//! resolver's files, and the collector endpoint's host turned into an
//! address before the HTTP exporter, which would ask the C library, sees it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use vnet_cable::Resolver;

/// Environment variable naming the hosts file (default `/etc/hosts`).
pub const HOSTS_FILE_ENV: &str = "VNET_HOSTS_FILE";
/// Environment variable naming the resolv.conf file (default `/etc/resolv.conf`).
pub const RESOLV_CONF_ENV: &str = "VNET_RESOLV_CONF";

/// The resolver with the files the environment names, or the system's.
pub fn from_env() -> Resolver {
    let mut resolver = Resolver::default();
    if let Some(path) = std::env::var_os(HOSTS_FILE_ENV).filter(|p| !p.is_empty()) {
        resolver.hosts_file = PathBuf::from(path);
    }
    if let Some(path) = std::env::var_os(RESOLV_CONF_ENV).filter(|p| !p.is_empty()) {
        resolver.resolv_conf = PathBuf::from(path);
    }
    resolver
}

/// Splits `scheme://host:port/rest` into the host and everything around it.
fn split_url_host(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find([':', '/']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(end);
    (!host.is_empty() && !host.starts_with('[')).then_some((&url[..scheme.len() + 3], host, tail))
}

/// `url` with its host name replaced by the name's first IPv4 address;
/// `Ok(None)` when the host already is an address. Retries for up to
/// `patience` (an orchestrator may register the collector's name a moment
/// after the device starts).
pub async fn resolve_url_host(
    url: &str,
    resolver: &Resolver,
    patience: Duration,
) -> Result<Option<String>, vnet_cable::ResolveError> {
    let Some((prefix, host, tail)) = split_url_host(url) else {
        return Ok(None);
    };
    if host.parse::<IpAddr>().is_ok() {
        return Ok(None);
    }
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match resolver.lookup(host).await {
            Ok(addresses) if !addresses.is_empty() => {
                return Ok(Some(format!("{prefix}{}{tail}", addresses[0])));
            }
            Ok(_) => {}
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn endpoint_host_names_become_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let hosts = dir.path().join("hosts");
        std::fs::write(&hosts, "10.9.8.7 jaeger\n").unwrap();
        let resolver = Resolver {
            hosts_file: hosts,
            resolv_conf: dir.path().join("missing"),
            max_timeout: Duration::from_millis(100),
        };
        let patience = Duration::ZERO;
        assert_eq!(
            resolve_url_host("http://jaeger:4318", &resolver, patience)
                .await
                .unwrap(),
            Some("http://10.9.8.7:4318".into())
        );
        assert_eq!(
            resolve_url_host("http://jaeger/v1", &resolver, patience)
                .await
                .unwrap(),
            Some("http://10.9.8.7/v1".into())
        );
        assert_eq!(
            resolve_url_host("http://127.0.0.1:4318", &resolver, patience)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            resolve_url_host("[::1]:4318", &resolver, patience)
                .await
                .unwrap(),
            None
        );
    }
}
