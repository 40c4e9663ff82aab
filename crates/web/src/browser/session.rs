//! One browse's state: name lookups, open connections, requests with
//! redirects, saving; and the request head the browser sends.

use super::cache::HttpCache;
use super::{
    BrowseError, BrowseOptions, ConnectionInfo, Connector, Lookup, Resolver, Resource,
    ResourceKind, save_path,
};
use crate::client::{ClientConn, Exchange, ExchangeError, connect_error};
use crate::tls::MaybeTls;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::time::{Instant, timeout};
use tracing::Instrument;
use vnet_wire::http::{Host, Method, RequestHead, Url, UrlError, Version, percent_decode};

/// Connections kept open at once (to different servers).
const MAX_OPEN: usize = 6;

/// `Authorization: Basic` credentials from the URL's userinfo (RFC 7617
/// §2: base64 of `user-id ":" password`), percent-decoded.
fn basic_credentials(url: &Url) -> Option<String> {
    let user = url.user.as_deref()?;
    let mut raw = percent_decode(user).ok()?;
    raw.push(b':');
    if let Some(p) = &url.password {
        raw.extend(percent_decode(p).ok()?);
    }
    Some(format!("Basic {}", base64(&raw)))
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                out.push(A[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The request head the browser sends for `url`.
pub fn request_head(url: &Url, kind: ResourceKind, user_agent: &str) -> RequestHead {
    let mut head = RequestHead::new(Method::Get, url.request_target(), Version::Http11);
    let h = &mut head.headers;
    for (name, value) in [
        ("Host", url.host_header()),
        ("User-Agent", user_agent.to_owned()),
        ("Accept", kind.accept().to_owned()),
        ("Connection", "keep-alive".to_owned()),
    ] {
        if let Err(e) = h.append(name, value) {
            tracing::warn!(header = name, error = %e, "header not sent");
        }
    }
    if let Some(auth) = basic_credentials(url) {
        h.append("Authorization", auth).ok();
    }
    head
}

/// The request head for `url` with `options` applied: HEAD for
/// [`BrowseOptions::head_only`], the [`BrowseOptions::headers`] (each
/// replacing a default field of the same name, as curl's `-H` does), and
/// the `conditions` that revalidate a cached copy.
pub(super) fn request_head_with(
    url: &Url,
    kind: ResourceKind,
    options: &BrowseOptions,
    conditions: &[(&str, String)],
) -> RequestHead {
    let mut head = request_head(url, kind, &options.user_agent);
    if options.head_only {
        head.method = Method::Head;
    }
    for (name, value) in &options.headers {
        if let Err(e) = head.headers.set(name, value) {
            tracing::warn!(header = %name, error = %e, "header not sent");
        }
    }
    for (name, value) in conditions {
        head.headers.append(name, value).ok();
    }
    head
}

/// The host as a TLS server name: a DNS name, or an IP literal (which
/// gets no SNI, RFC 6066 §3).
fn host_text(host: &Host) -> String {
    match host {
        Host::Name(n) => n.trim_end_matches('.').to_owned(),
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6(a) => a.clone(),
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The state of one browse: lookups, open connections, what happened.
pub(super) struct Session<'a, C: Connector, R: Resolver> {
    connector: &'a C,
    resolver: &'a R,
    options: &'a BrowseOptions,
    pub(super) lookups: Vec<Lookup>,
    open: Vec<ClientConn<MaybeTls<C::Stream>>>,
    pub(super) infos: Vec<ConnectionInfo>,
    pub(super) start: Instant,
    /// The browser session's cache, when responses are cached.
    cache: Option<&'a mut HttpCache>,
}

impl<'a, C: Connector, R: Resolver> Session<'a, C, R> {
    pub(super) fn new(
        connector: &'a C,
        resolver: &'a R,
        options: &'a BrowseOptions,
        cache: Option<&'a mut HttpCache>,
    ) -> Self {
        Session {
            cache,
            connector,
            resolver,
            options,
            lookups: Vec::new(),
            open: Vec::new(),
            infos: Vec::new(),
            start: Instant::now(),
        }
    }

    /// The address of `host`, and the lookup time if a lookup was made now.
    async fn address(&mut self, host: &Host) -> Result<(Ipv4Addr, Option<Duration>), BrowseError> {
        let name = match host {
            Host::Ipv4(a) => return Ok((*a, None)),
            Host::Ipv6(a) => {
                return Err(BrowseError::Resolve {
                    name: a.clone(),
                    reason: "vnet has no IPv6".into(),
                });
            }
            Host::Name(n) => n,
        };
        if let Some(l) = self.lookups.iter().find(|l| l.name == *name) {
            return Ok((l.addr, None));
        }
        let err = |reason: String| BrowseError::Resolve {
            name: name.clone(),
            reason,
        };
        let span = vnet_telemetry::app_span!(
            "dns.resolve",
            proto = "dns",
            layer = "L7",
            summary = format!("resolve {name} with the stub resolver"),
            dns.name = %name,
            dns.answer = tracing::field::Empty,
        );
        let lookup = timeout(self.options.timeout, self.resolver.resolve(name))
            .instrument(span.clone())
            .await;
        let (addr, elapsed) = match lookup {
            Err(_) => return Err(err("timed out".into())),
            Ok(Err(e)) => return Err(err(format!("{e:#}"))),
            Ok(Ok(r)) => r,
        };
        span.record("dns.answer", tracing::field::display(addr));
        tracing::debug!(name = %name, %addr, ?elapsed, "resolved");
        self.lookups.push(Lookup {
            name: name.clone(),
            addr,
            elapsed,
        });
        Ok((addr, Some(elapsed)))
    }

    /// An open connection to `addr:port` (index into `open`; over TLS
    /// with `tls_host` as the server name when set), and the TCP and TLS
    /// handshake times if it was opened now.
    async fn connection(
        &mut self,
        addr: Ipv4Addr,
        port: u16,
        tls_host: Option<&str>,
    ) -> Result<(usize, Option<(Duration, Option<Duration>)>), BrowseError> {
        if let Some(i) = self
            .open
            .iter()
            .position(|c| c.addr == addr && c.port == port && c.server_name.as_deref() == tls_host)
        {
            return Ok((i, None));
        }
        let err = |reason: String| BrowseError::Connect { addr, port, reason };
        if tls_host.is_some() && self.options.tls.is_none() {
            return Err(err(
                "https needs TLS settings (the lab CA to trust): this host has none".into(),
            ));
        }
        let started = Instant::now();
        let span = vnet_telemetry::app_span!(
            "tcp.connect",
            proto = "tcp",
            layer = "L4",
            summary = format!("connect to {addr}:{port} (three-way handshake)"),
        );
        let connecting = timeout(self.options.timeout, self.connector.connect(addr, port))
            .instrument(span)
            .await;
        let stream = match connecting {
            Err(_) => return Err(err("connection timed out".into())),
            Ok(Err(e)) => return Err(err(connect_error(&e))),
            Ok(Ok(s)) => s,
        };
        let elapsed = started.elapsed();
        let id = self.infos.len() + 1;
        tracing::debug!(id, %addr, port, ?elapsed, "connected");
        let (stream, tls) = match tls_host {
            None => (MaybeTls::Plain(stream), None),
            Some(host) => {
                let client = self.options.tls.as_ref().ok_or_else(|| {
                    err("https needs TLS settings (the lab CA to trust): this host has none".into())
                })?;
                let (tls, negotiated) = client
                    .connect(stream, host, self.options.timeout)
                    .await
                    .map_err(|e| BrowseError::Tls {
                        host: host.to_owned(),
                        reason: e.to_string(),
                    })?;
                (MaybeTls::Tls(Box::new(tls)), Some(negotiated))
            }
        };
        self.infos.push(ConnectionInfo {
            id,
            addr,
            port,
            connect: elapsed,
            requests: 0,
            tls: tls.clone(),
        });
        if self.open.len() >= MAX_OPEN {
            let oldest = self.open.remove(0);
            oldest.close(self.options.timeout).await;
        }
        let mut conn = ClientConn::new(id, addr, port, stream);
        conn.server_name = tls_host.map(str::to_owned);
        self.open.push(conn);
        Ok((self.open.len() - 1, Some((elapsed, tls.map(|t| t.elapsed)))))
    }

    /// One request, no redirects. On a reused connection that turns out
    /// closed, retries once on a new one.
    async fn request(
        &mut self,
        url: &Url,
        kind: ResourceKind,
    ) -> (Resource, Result<Exchange, BrowseError>) {
        let t0 = Instant::now();
        let mut res = Resource::new(url, kind);
        let method = if self.options.head_only {
            "HEAD"
        } else {
            "GET"
        };
        let span = vnet_telemetry::app_span!(
            "http.request",
            proto = "http",
            layer = "L7",
            summary = format!("{method} {url}"),
            http.url = %url,
            http.status = tracing::field::Empty,
        );
        let outcome = self
            .request_into(url, kind, &mut res)
            .instrument(span.clone())
            .await;
        if let Some(status) = res.status {
            span.record("http.status", status);
        }
        res.timings.total = t0.elapsed();
        if let Err(e) = &outcome {
            res.error = Some(e.to_string());
        }
        (res, outcome)
    }

    async fn request_into(
        &mut self,
        url: &Url,
        kind: ResourceKind,
        res: &mut Resource,
    ) -> Result<Exchange, BrowseError> {
        let host = url.host.clone().ok_or(UrlError::NoHost)?;
        let (addr, dns) = self.address(&host).await?;
        res.timings.dns = dns;
        let port = url.port_or_default().unwrap_or(vnet_wire::http::PORT);
        let host = host_text(&host);
        let key = url.to_string();
        // Only plain GETs are cached and revalidated.
        let plain = !self.options.head_only && self.options.headers.is_empty();
        let conditions = match (&self.cache, plain) {
            (Some(cache), true) => cache.get(&key).map(|s| s.conditions()).unwrap_or_default(),
            _ => Vec::new(),
        };
        let request = request_head_with(url, kind, self.options, &conditions).to_bytes();
        let method = if self.options.head_only {
            Method::Head
        } else {
            Method::Get
        };
        let tls_host = url.is_https().then(|| host.to_string());
        for attempt in 0..2 {
            let (i, connect) = self.connection(addr, port, tls_host.as_deref()).await?;
            if let Some((tcp, tls)) = connect {
                res.timings.connect = Some(tcp);
                res.timings.tls = tls;
            }
            let conn = &mut self.open[i];
            let id = conn.id;
            res.connection = Some(id);
            res.reused = connect.is_none();
            let result = conn
                .exchange(
                    &request,
                    &method,
                    self.options.timeout,
                    self.options.max_body,
                    self.options.progress.as_ref(),
                )
                .await;
            let keep = matches!(&result, Ok(ex) if ex.persistent);
            if !keep {
                let conn = self.open.remove(i);
                conn.close(self.options.timeout).await;
            }
            match result {
                Ok(ex) => {
                    if let Some(info) = self.infos.iter_mut().find(|c| c.id == id) {
                        info.requests += 1;
                    }
                    res.status = Some(ex.head.status);
                    res.reason = ex.head.reason.clone();
                    res.headers = ex
                        .head
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.clone(),
                                String::from_utf8_lossy(&h.value).into_owned(),
                            )
                        })
                        .collect();
                    res.bytes = ex.body.len() as u64;
                    res.timings.first_byte = Some(ex.first_byte);
                    res.timings.download = Some(ex.download);
                    return Ok(self.through_cache(&key, plain, !conditions.is_empty(), ex, res));
                }
                Err(e) if e.retryable() && res.reused && attempt == 0 => {
                    tracing::debug!(connection = id, error = %e, "reused connection was closed: reconnecting");
                    continue;
                }
                Err(e @ ExchangeError::NoResponse(_)) => {
                    return Err(BrowseError::Http(format!("connection #{id}: {e}")));
                }
                Err(e) => return Err(BrowseError::Http(e.to_string())),
            }
        }
        Err(BrowseError::Http(
            "the server closed the connection twice".into(),
        ))
    }

    /// Stores a cacheable response, or answers a 304 to a revalidation
    /// with the stored copy (noted in `res.cached`).
    fn through_cache(
        &mut self,
        key: &str,
        plain: bool,
        revalidating: bool,
        mut ex: Exchange,
        res: &mut Resource,
    ) -> Exchange {
        let Some(cache) = self.cache.as_deref_mut().filter(|_| plain) else {
            return ex;
        };
        if ex.head.status == 304 && revalidating {
            if let Some(stored) = cache.freshen(key, &ex.head.headers) {
                res.cached = Some(stored.body.len() as u64);
                ex.head = stored.head;
                ex.body = stored.body;
            }
        } else {
            cache.store(key, &ex.head, &ex.body);
        }
        ex
    }

    /// A resource with its redirects: every request made, and the final
    /// URL and response if one came.
    pub(super) async fn get(
        &mut self,
        url: &Url,
        kind: ResourceKind,
    ) -> (Vec<Resource>, Option<(Url, Exchange)>) {
        let (hops, outcome) = self.get_inner(url, kind).await;
        (hops, outcome.ok())
    }

    pub(super) async fn get_inner(
        &mut self,
        url: &Url,
        kind: ResourceKind,
    ) -> (Vec<Resource>, Result<(Url, Exchange), BrowseError>) {
        let max = self.options.max_redirects;
        let mut hops = Vec::new();
        let mut current = url.clone();
        for n in 0..=max {
            let (mut res, outcome) = self.request(&current, kind).await;
            let ex = match outcome {
                Ok(ex) => ex,
                Err(e) => {
                    hops.push(res);
                    return (hops, Err(e));
                }
            };
            let location = ex.head.headers.get_str("location").map(str::to_owned);
            let (true, Some(location)) = (is_redirect(ex.head.status) && max > 0, location) else {
                hops.push(res);
                return (hops, Ok((current, ex)));
            };
            let next = current.join(&location).and_then(|u| {
                u.check_http()?;
                Ok(u.without_fragment())
            });
            let next = match next {
                Ok(u) => u,
                Err(e) => {
                    res.error = Some(format!("redirect to {location}: {e}"));
                    hops.push(res);
                    return (hops, Err(e.into()));
                }
            };
            res.redirect_to = Some(next.to_string());
            if n == max {
                res.error = Some(format!("stopped after {max} redirects"));
                hops.push(res);
                return (hops, Err(BrowseError::TooManyRedirects(max)));
            }
            hops.push(res);
            current = next;
        }
        (hops, Err(BrowseError::TooManyRedirects(max)))
    }

    /// Saves a 2xx body if asked to, noting where (or why not) in `res`.
    pub(super) async fn save(
        &self,
        page: &Url,
        url: &Url,
        ex: &Exchange,
        res: Option<&mut Resource>,
    ) {
        let (Some(dir), Some(res)) = (&self.options.save_dir, res) else {
            return;
        };
        if !(200..300).contains(&ex.head.status) {
            return;
        }
        let Some(path) = save_path(dir, page, url) else {
            res.error = Some(format!("not saved: {} cannot be mirrored safely", url.path));
            return;
        };
        // The browser writes nothing itself: its caller (the `browse`
        // app) hands the body to whoever asked for it.
        res.saved = Some(path);
        res.saved_body = Some(ex.body.to_vec());
    }

    pub(super) async fn close_all(&mut self) {
        for conn in self.open.drain(..) {
            let span = vnet_telemetry::app_span!(
                "tcp.close",
                proto = "tcp",
                layer = "L4",
                summary = format!("close the connection to {}:{} (FIN)", conn.addr, conn.port),
            );
            conn.close(self.options.timeout).instrument(span).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials() {
        let u = super::super::parse_input("http://Aladdin:open%20sesame@h/").expect("userinfo");
        assert_eq!(
            basic_credentials(&u).as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
