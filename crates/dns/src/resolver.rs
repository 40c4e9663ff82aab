//! Iterative resolution with a cache (RFC 1034 §5.3.3).
//!
//! For a question the resolver:
//!
//! 1. answers from the [`Cache`] if it can (following cached CNAMEs);
//! 2. otherwise starts at the closest zone cut whose NS set and server
//!    addresses are cached, or at the root hints;
//! 3. asks that zone's servers one after another (referral order) without
//!    RD, and classifies each response: an authoritative answer, NXDOMAIN or
//!    NODATA ends the search; a referral to a zone closer to the name moves
//!    down, using the glue addresses, or resolving NS names that came
//!    without glue (at most [`ResolverConfig::max_depth`] levels deep); a
//!    timeout, SERVFAIL, REFUSED or lame answer (not authoritative, no
//!    useful referral) moves on to the next server. Servers that timed out
//!    get another try in a second round ([`ResolverConfig::rounds`]);
//! 4. chases CNAMEs across zones, at most [`ResolverConfig::max_cname_chain`]
//!    links, refusing loops;
//! 5. caches answers, referrals (NS + glue) and negative answers
//!    (RFC 2308).
//!
//! Every resolution has a budget of upstream queries
//! ([`ResolverConfig::max_upstream_queries`], 30 by default, shared with the
//! resolutions of NS names it starts) and a deadline; when they run out, or
//! every server failed, the answer is SERVFAIL with a readable
//! [`Resolution::reason`]. Every upstream query is recorded, in order, in
//! [`Resolution::upstream`].
//!
//! The network is behind the [`Upstream`] trait, so tests drive the
//! resolver with simulated servers; [`crate::transport::UdpUpstream`] is the
//! real one.

mod classify;
mod upstream;

pub use upstream::{Outcome, Upstream, UpstreamError, UpstreamQuery};

use crate::cache::{Cache, CacheLookup, Trust};
use crate::counters::{DnsCounters, bump};
use classify::{Bad, Classified, classify};
use std::future::Future;
use std::net::Ipv4Addr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tracing::Instrument;
use vnet_stack::time::Instant;
use vnet_wire::dns::{DnsMessage, DnsName, Question, Rcode, Record, RecordData, RecordType};

/// Where the resolver reads the time: the device's stack clock, or a
/// virtual clock in tests.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Resolver limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// Root server addresses (the "SBELT" of RFC 1034 §5.3.2).
    pub root_hints: Vec<Ipv4Addr>,
    /// Upstream queries one resolution may make, NS-name resolutions
    /// included.
    pub max_upstream_queries: usize,
    /// CNAME links followed.
    pub max_cname_chain: usize,
    /// Referrals followed in one iteration.
    pub max_referrals: usize,
    /// Nested resolutions of NS names without glue.
    pub max_depth: usize,
    /// Passes over a zone's servers; only servers that timed out or were
    /// unreachable are asked again.
    pub rounds: usize,
    /// Longest time one resolution may take.
    pub deadline: Duration,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig {
            root_hints: Vec::new(),
            max_upstream_queries: 30,
            max_cname_chain: 8,
            max_referrals: 16,
            max_depth: 4,
            rounds: 2,
            deadline: Duration::from_secs(10),
        }
    }
}

/// The result of one resolution: the sections of the response to send and
/// how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// NOERROR, NXDOMAIN or SERVFAIL.
    pub rcode: Rcode,
    /// The answer: CNAMEs in chain order, then the data.
    pub answers: Vec<Record>,
    /// The SOA of a negative answer, or the NS of a cache-only referral.
    pub authorities: Vec<Record>,
    /// Addresses of the NS of a cache-only referral.
    pub additionals: Vec<Record>,
    /// Every upstream query made, in order.
    pub upstream: Vec<UpstreamQuery>,
    /// Why resolution failed (SERVFAIL).
    pub reason: Option<String>,
}

impl Resolution {
    /// Answered without any upstream query.
    pub fn from_cache(&self) -> bool {
        self.upstream.is_empty() && self.rcode != Rcode::ServFail
    }
}

/// Why a resolution (or part of it) failed.
#[derive(Debug, Clone)]
struct Fail {
    reason: String,
    /// Budget or deadline: stop everything.
    fatal: bool,
}

impl Fail {
    fn soft(reason: impl Into<String>) -> Fail {
        Fail {
            reason: reason.into(),
            fatal: false,
        }
    }
}

/// Found data: the pieces of a successful (or negative) answer.
#[derive(Debug, Clone, Default)]
struct Found {
    rcode: Rcode,
    answers: Vec<Record>,
    authorities: Vec<Record>,
}

/// State of one resolution, shared with the NS-name resolutions it starts.
struct Ctx {
    started: Instant,
    trace: Vec<UpstreamQuery>,
}

/// One name server of a zone: its name (none for root hints) and the
/// addresses known for it.
#[derive(Debug, Clone)]
struct Server {
    name: Option<DnsName>,
    addrs: Vec<Ipv4Addr>,
}

/// What one exchange with a zone's servers produced.
enum Step {
    Done(Found, Option<DnsName>),
    Referral(DnsName, Vec<Server>),
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An iterative resolver with a shared cache.
pub struct Resolver<U> {
    upstream: U,
    cache: Arc<Mutex<Cache>>,
    counters: Arc<DnsCounters>,
    config: ResolverConfig,
    clock: Clock,
}

impl<U: Upstream> Resolver<U> {
    /// A resolver asking through `upstream`, caching in `cache`, counting in
    /// `counters` and reading the time from `clock`.
    pub fn new(
        upstream: U,
        cache: Arc<Mutex<Cache>>,
        counters: Arc<DnsCounters>,
        config: ResolverConfig,
        clock: Clock,
    ) -> Resolver<U> {
        Resolver {
            upstream,
            cache,
            counters,
            config,
            clock,
        }
    }

    /// The upstream transport.
    pub fn upstream(&self) -> &U {
        &self.upstream
    }

    /// The limits in force.
    pub fn config(&self) -> &ResolverConfig {
        &self.config
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> Instant {
        (self.clock)()
    }

    /// Resolves `question` (RFC 1034 §5.3.3), from the cache when possible.
    pub async fn resolve(&self, question: &Question) -> Resolution {
        let mut ctx = Ctx {
            started: self.now(),
            trace: Vec::new(),
        };
        let result = self
            .resolve_name(&question.name, question.qtype, 0, &mut ctx)
            .await;
        let resolution = match result {
            Ok(found) => Resolution {
                rcode: found.rcode,
                answers: found.answers,
                authorities: found.authorities,
                additionals: Vec::new(),
                upstream: ctx.trace,
                reason: None,
            },
            Err(fail) => Resolution {
                rcode: Rcode::ServFail,
                answers: Vec::new(),
                authorities: Vec::new(),
                additionals: Vec::new(),
                upstream: ctx.trace,
                reason: Some(fail.reason),
            },
        };
        if resolution.from_cache() {
            bump(&self.counters.cache_hits);
        } else {
            bump(&self.counters.cache_misses);
        }
        match resolution.rcode {
            Rcode::NxDomain => bump(&self.counters.nxdomain),
            Rcode::ServFail => bump(&self.counters.servfail),
            _ => {}
        }
        tracing::info!(
            qname = %question.name,
            qtype = %question.qtype,
            rcode = %resolution.rcode,
            answers = resolution.answers.len(),
            upstream_queries = resolution.upstream.len(),
            from_cache = resolution.from_cache(),
            reason = resolution.reason.as_deref().unwrap_or(""),
            "resolved"
        );
        resolution
    }

    /// Answers `question` from the cache only (a query with RD clear,
    /// `dig +norecurse`): the cached data, following cached CNAMEs (a cache
    /// hit), or else a referral to the closest cached zone cut (NS in
    /// authority, their cached addresses in additional), or an empty NOERROR
    /// (a cache miss).
    pub fn lookup_cached(&self, question: &Question) -> Resolution {
        let mut answers = Vec::new();
        let mut name = question.name.clone();
        let mut out = Resolution {
            rcode: Rcode::NoError,
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
            upstream: Vec::new(),
            reason: None,
        };
        for _ in 0..=self.config.max_cname_chain {
            match self.cached(&name, question.qtype) {
                Cached::Found(found) => {
                    answers.extend(found.answers);
                    out.rcode = found.rcode;
                    out.authorities = found.authorities;
                    out.answers = answers;
                    bump(&self.counters.cache_hits);
                    return out;
                }
                Cached::Cname(record, target) => {
                    answers.push(record);
                    if answers.iter().any(|r| r.name == target) {
                        break;
                    }
                    name = target;
                }
                Cached::Miss => break,
            }
        }
        out.answers = answers;
        bump(&self.counters.cache_misses);
        let (zone, _) = self.closest_servers(&name);
        let now = self.now();
        let cache = self.cache();
        if let CacheLookup::Records(ns) = cache.lookup(&zone, RecordType::Ns, now) {
            for r in &ns {
                if let RecordData::Ns(target) = &r.data
                    && let CacheLookup::Records(addrs) = cache.lookup(target, RecordType::A, now)
                {
                    out.additionals.extend(addrs);
                }
            }
            out.authorities = ns;
        }
        out
    }

    /// Resolves one name, following CNAMEs through cache and network.
    fn resolve_name<'a>(
        &'a self,
        qname: &'a DnsName,
        qtype: RecordType,
        depth: usize,
        ctx: &'a mut Ctx,
    ) -> BoxFuture<'a, Result<Found, Fail>> {
        Box::pin(async move {
            let mut answers: Vec<Record> = Vec::new();
            let mut name = qname.clone();
            let mut links = 0;
            loop {
                let next = match self.cached(&name, qtype) {
                    Cached::Found(mut found) => {
                        answers.append(&mut found.answers);
                        found.answers = answers;
                        return Ok(found);
                    }
                    Cached::Cname(record, target) => {
                        answers.push(record);
                        target
                    }
                    Cached::Miss => {
                        let (mut found, next) = self.iterate(&name, qtype, depth, ctx).await?;
                        answers.append(&mut found.answers);
                        match next {
                            Some(target) => target,
                            None => {
                                found.answers = answers;
                                return Ok(found);
                            }
                        }
                    }
                };
                links += 1;
                if links > self.config.max_cname_chain {
                    return Err(Fail::soft(format!(
                        "CNAME chain from {qname} longer than {} links",
                        self.config.max_cname_chain
                    )));
                }
                if next == *qname
                    || answers
                        .iter()
                        .filter(|r| r.rtype() == RecordType::Cname)
                        .any(|r| r.name == next)
                {
                    return Err(Fail::soft(format!("CNAME loop at {next}")));
                }
                name = next;
            }
        })
    }

    /// The cache's answer for (`name`, `qtype`), or the CNAME to follow.
    fn cached(&self, name: &DnsName, qtype: RecordType) -> Cached {
        let now = self.now();
        let cache = self.cache();
        let found = |rcode, answers, authorities| {
            Cached::Found(Found {
                rcode,
                answers,
                authorities,
            })
        };
        match cache.lookup_answer(name, qtype, now) {
            CacheLookup::Records(rs) => return found(Rcode::NoError, rs, Vec::new()),
            CacheLookup::NxDomain { soa } => return found(Rcode::NxDomain, Vec::new(), vec![soa]),
            CacheLookup::NoData { soa } => return found(Rcode::NoError, Vec::new(), vec![soa]),
            CacheLookup::Miss => {}
        }
        if !matches!(qtype, RecordType::Cname | RecordType::Any)
            && let CacheLookup::Records(rs) = cache.lookup_answer(name, RecordType::Cname, now)
            && let Some(r) = rs.into_iter().next()
            && let RecordData::Cname(target) = &r.data
        {
            let target = target.clone();
            return Cached::Cname(r, target);
        }
        Cached::Miss
    }

    /// The closest enclosing zone cut with a cached NS set of which at least
    /// one server has a cached address; else the root and its hints.
    fn closest_servers(&self, name: &DnsName) -> (DnsName, Vec<Server>) {
        let now = self.now();
        let cache = self.cache();
        let mut cur = Some(name.clone());
        while let Some(zone) = cur {
            if let CacheLookup::Records(ns) = cache.lookup(&zone, RecordType::Ns, now) {
                let servers: Vec<Server> = ns
                    .iter()
                    .filter_map(|r| match &r.data {
                        RecordData::Ns(t) => Some(server_from_cache(&cache, t, now)),
                        _ => None,
                    })
                    .collect();
                if servers.iter().any(|s| !s.addrs.is_empty()) {
                    return (zone, servers);
                }
            }
            cur = zone.parent();
        }
        let hints = self
            .config
            .root_hints
            .iter()
            .map(|&a| Server {
                name: None,
                addrs: vec![a],
            })
            .collect();
        (DnsName::root(), hints)
    }

    /// Walks down from the closest known zone cut to an answer for `name`.
    async fn iterate(
        &self,
        name: &DnsName,
        qtype: RecordType,
        depth: usize,
        ctx: &mut Ctx,
    ) -> Result<(Found, Option<DnsName>), Fail> {
        let (mut zone, mut servers) = self.closest_servers(name);
        if servers.is_empty() {
            return Err(Fail::soft("no root hints configured"));
        }
        for _ in 0..self.config.max_referrals {
            match self
                .ask_zone(&zone, servers, name, qtype, depth, ctx)
                .await?
            {
                Step::Done(found, next) => return Ok((found, next)),
                Step::Referral(child, next_servers) => {
                    zone = child;
                    servers = next_servers;
                }
            }
        }
        Err(Fail::soft(format!(
            "more than {} referrals for {name}",
            self.config.max_referrals
        )))
    }

    /// Asks the servers of `zone` in turn until one gives a usable response.
    async fn ask_zone(
        &self,
        zone: &DnsName,
        mut servers: Vec<Server>,
        name: &DnsName,
        qtype: RecordType,
        depth: usize,
        ctx: &mut Ctx,
    ) -> Result<Step, Fail> {
        // Servers with addresses first; glueless ones are resolved only if
        // those fail (RFC 1034 §5.3.3 step 4c leaves the order open).
        servers.sort_by_key(|s| s.addrs.is_empty());
        let mut failures: Vec<String> = Vec::new();
        let mut dead: Vec<Ipv4Addr> = Vec::new();
        let mut looked_up = vec![false; servers.len()];
        for round in 0..self.config.rounds.max(1) {
            let mut retry = false;
            for i in 0..servers.len() {
                if servers[i].addrs.is_empty() && !looked_up[i] {
                    looked_up[i] = true;
                    servers[i].addrs = self
                        .glueless(&servers[i], zone, depth, ctx, &mut failures)
                        .await?;
                }
                for addr in servers[i].addrs.clone() {
                    if dead.contains(&addr) {
                        continue;
                    }
                    let question = Question::new(name.clone(), qtype);
                    let result = self.send(addr, zone, &question, ctx).await?;
                    let (outcome, step) = match result {
                        Ok(resp) => self.absorb(&resp, name, qtype, zone),
                        Err(UpstreamError::Timeout(_)) => (Outcome::Timeout, None),
                        Err(e) => (Outcome::Error(e.to_string()), None),
                    };
                    let label = servers[i]
                        .name
                        .as_ref()
                        .map(|n| format!("{n} ({addr})"))
                        .unwrap_or_else(|| addr.to_string());
                    tracing::info!(server = %addr, zone = %zone, qname = %name, qtype = %qtype, outcome = %outcome, "upstream query");
                    match &outcome {
                        Outcome::Timeout | Outcome::Error(_) => retry = true,
                        _ => dead.push(addr),
                    }
                    if step.is_none() {
                        failures.push(format!("{label}: {outcome}"));
                    }
                    if let Some(last) = ctx.trace.last_mut() {
                        last.outcome = outcome;
                    }
                    if let Some(step) = step {
                        return Ok(step);
                    }
                }
            }
            // Another pass only if a server timed out or was unreachable
            // (the others are in `dead`).
            if !retry || round + 1 >= self.config.rounds {
                break;
            }
        }
        let zone_text = if zone.is_root() {
            "the root".to_string()
        } else {
            zone.to_string()
        };
        Err(Fail::soft(format!(
            "no server of {zone_text} answered {name} {qtype}: {}",
            if failures.is_empty() {
                "no usable server".to_string()
            } else {
                failures.join("; ")
            }
        )))
    }

    /// Addresses for a name server that came without glue: resolved with a
    /// nested resolution, unless too deep or inside the zone it serves
    /// (which would need glue to ever resolve).
    async fn glueless(
        &self,
        server: &Server,
        zone: &DnsName,
        depth: usize,
        ctx: &mut Ctx,
        failures: &mut Vec<String>,
    ) -> Result<Vec<Ipv4Addr>, Fail> {
        let Some(ns) = &server.name else {
            return Ok(Vec::new());
        };
        if ns.is_subdomain_of(zone) {
            failures.push(format!("{ns}: inside {zone} but no glue"));
            return Ok(Vec::new());
        }
        if depth >= self.config.max_depth {
            failures.push(format!("{ns}: no address (NS resolution nested too deep)"));
            return Ok(Vec::new());
        }
        match self.resolve_name(ns, RecordType::A, depth + 1, ctx).await {
            Ok(found) => {
                let addrs: Vec<Ipv4Addr> = found
                    .answers
                    .iter()
                    .filter_map(|r| match r.data {
                        RecordData::A(a) => Some(a),
                        _ => None,
                    })
                    .collect();
                if addrs.is_empty() {
                    failures.push(format!("{ns}: has no address ({})", found.rcode));
                }
                Ok(addrs)
            }
            Err(f) if f.fatal => Err(f),
            Err(f) => {
                failures.push(format!("{ns}: {}", f.reason));
                Ok(Vec::new())
            }
        }
    }

    /// Sends one query within the budget and deadline, recording it.
    async fn send(
        &self,
        server: Ipv4Addr,
        zone: &DnsName,
        question: &Question,
        ctx: &mut Ctx,
    ) -> Result<Result<DnsMessage, UpstreamError>, Fail> {
        if ctx.trace.len() >= self.config.max_upstream_queries {
            return Err(Fail {
                reason: format!(
                    "query budget exhausted: {} upstream queries made",
                    ctx.trace.len()
                ),
                fatal: true,
            });
        }
        let elapsed = self.now() - ctx.started;
        if elapsed >= self.config.deadline {
            return Err(Fail {
                reason: format!("resolution took longer than {:?}", self.config.deadline),
                fatal: true,
            });
        }
        ctx.trace.push(UpstreamQuery {
            server,
            zone: zone.clone(),
            qname: question.name.clone(),
            qtype: question.qtype,
            outcome: Outcome::Timeout,
        });
        bump(&self.counters.upstream_queries);
        // A child of the client's query span; none for an untraced query.
        let span = vnet_telemetry::continue_current(|| {
            vnet_telemetry::app_span!(
                "dns.upstream",
                proto = "dns",
                layer = "L7",
                summary =
                    format!("ask {server} (zone {zone}) for {} {}", question.name, question.qtype),
                dns.server = %server,
                dns.zone = %zone,
                dns.qname = %question.name,
                dns.result = tracing::field::Empty,
            )
        });
        let result = self
            .upstream
            .query(server, question)
            .instrument(span.clone())
            .await;
        span.record(
            "dns.result",
            match &result {
                Ok(m) => format!(
                    "{} answers={} authority={}",
                    m.header.rcode,
                    m.answers.len(),
                    m.authorities.len()
                ),
                Err(e) => e.to_string(),
            },
        );
        Ok(result)
    }

    /// Classifies a response, caches what it teaches, and turns it into the
    /// next step (`None`: try another server).
    fn absorb(
        &self,
        resp: &DnsMessage,
        name: &DnsName,
        qtype: RecordType,
        zone: &DnsName,
    ) -> (Outcome, Option<Step>) {
        let now = self.now();
        let classified = classify(resp, name, qtype, zone);
        let mut cache = self.cache();
        match classified {
            Classified::Answer { records, next } => {
                cache_rrsets(&mut cache, &records, Trust::Answer, now);
                let found = Found {
                    rcode: Rcode::NoError,
                    answers: records,
                    authorities: Vec::new(),
                };
                (Outcome::Answer, Some(Step::Done(found, next)))
            }
            Classified::NxDomain { chain, name, soa } => {
                cache_rrsets(&mut cache, &chain, Trust::Answer, now);
                if let Some(soa) = &soa {
                    cache.insert_nxdomain(&name, soa, now);
                }
                let found = Found {
                    rcode: Rcode::NxDomain,
                    answers: chain,
                    authorities: soa.into_iter().collect(),
                };
                (Outcome::NxDomain, Some(Step::Done(found, None)))
            }
            Classified::NoData { chain, name, soa } => {
                cache_rrsets(&mut cache, &chain, Trust::Answer, now);
                if let Some(soa) = &soa {
                    cache.insert_nodata(&name, qtype, soa, now);
                }
                let found = Found {
                    rcode: Rcode::NoError,
                    answers: chain,
                    authorities: soa.into_iter().collect(),
                };
                (Outcome::NoData, Some(Step::Done(found, None)))
            }
            Classified::Referral { child, ns, glue } => {
                cache.insert_rrset(&ns, Trust::Referral, now);
                cache_rrsets(&mut cache, &glue, Trust::Glue, now);
                let servers = ns
                    .iter()
                    .filter_map(|r| match &r.data {
                        RecordData::Ns(t) => Some(server_from_cache(&cache, t, now)),
                        _ => None,
                    })
                    .collect();
                (
                    Outcome::Referral(child.clone()),
                    Some(Step::Referral(child, servers)),
                )
            }
            Classified::Bad { why } => {
                let outcome = match why {
                    Bad::ServFail => Outcome::ServFail,
                    Bad::Refused => Outcome::Refused,
                    Bad::Rcode(r) => Outcome::Rcode(r),
                    Bad::Lame(why) => Outcome::Lame(why),
                    Bad::Truncated => Outcome::Truncated,
                };
                (outcome, None)
            }
        }
    }
}

/// A cache answer.
enum Cached {
    Found(Found),
    Cname(Record, DnsName),
    Miss,
}

/// A name server and its cached IPv4 addresses.
fn server_from_cache(cache: &Cache, name: &DnsName, now: Instant) -> Server {
    let addrs = match cache.lookup(name, RecordType::A, now) {
        CacheLookup::Records(rs) => rs
            .iter()
            .filter_map(|r| match r.data {
                RecordData::A(a) => Some(a),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Server {
        name: Some(name.clone()),
        addrs,
    }
}

/// Caches `records` grouped into RRsets by (owner, type).
fn cache_rrsets(cache: &mut Cache, records: &[Record], trust: Trust, now: Instant) {
    let mut done: Vec<(&DnsName, RecordType)> = Vec::new();
    for r in records {
        let key = (&r.name, r.rtype());
        if done.contains(&key) {
            continue;
        }
        done.push(key);
        let set: Vec<Record> = records
            .iter()
            .filter(|o| o.name == r.name && o.rtype() == r.rtype())
            .cloned()
            .collect();
        cache.insert_rrset(&set, trust, now);
    }
}
