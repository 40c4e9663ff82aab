//! A simulated DNS internet for resolver tests: servers built from zone
//! text, answering instantly in virtual time.

#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vnet_dns::authority::Authority;
use vnet_dns::cache::Cache;
use vnet_dns::counters::DnsCounters;
use vnet_dns::resolver::{Clock, Resolver, ResolverConfig, Upstream, UpstreamError};
use vnet_dns::zone::Zone;
use vnet_stack::time::Instant;
use vnet_wire::dns::{DnsMessage, DnsName, Question, Rcode, Record, RecordData, RecordType};

/// How a simulated server behaves.
pub enum Server {
    /// Answers from these zones, like a vnet-dns authoritative server.
    Auth(Authority),
    /// Never answers.
    Silent,
    /// Answers REFUSED.
    Refused,
    /// Answers SERVFAIL.
    ServFail,
    /// A lame server: not authoritative, refers back up to the root.
    Lame,
    /// Answers from these zones, but truncated: TC set and only the first
    /// 7 answer records (a UDP answer whose TCP retry failed).
    Truncating(Authority),
}

/// The simulated network and its virtual clock.
pub struct SimNet {
    servers: HashMap<Ipv4Addr, Server>,
    /// Every query received: (server, question).
    pub log: Mutex<Vec<(Ipv4Addr, Question)>>,
    /// Virtual time, microseconds.
    pub micros: Arc<AtomicU64>,
    /// Virtual time a timeout costs.
    pub timeout_cost: Duration,
}

impl SimNet {
    pub fn new() -> SimNet {
        SimNet {
            servers: HashMap::new(),
            log: Mutex::new(Vec::new()),
            micros: Arc::new(AtomicU64::new(1_000_000)),
            timeout_cost: Duration::from_secs(2),
        }
    }

    /// Adds an authoritative server for the zones in `texts`.
    pub fn auth(mut self, addr: [u8; 4], texts: &[&str]) -> SimNet {
        let zones = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Zone::parse(&format!("zone{i}"), t).expect("zone parses"))
            .collect();
        let a = Authority::new(zones).expect("authority");
        self.servers.insert(Ipv4Addr::from(addr), Server::Auth(a));
        self
    }

    /// Adds a server for the zones in `texts` that only ever gives
    /// truncated answers.
    pub fn truncating(mut self, addr: [u8; 4], texts: &[&str]) -> SimNet {
        let zones = texts
            .iter()
            .map(|t| Zone::parse("zone", t).expect("zone parses"))
            .collect();
        let a = Authority::new(zones).expect("authority");
        self.servers
            .insert(Ipv4Addr::from(addr), Server::Truncating(a));
        self
    }

    /// Adds a server with some other behaviour.
    pub fn with(mut self, addr: [u8; 4], server: Server) -> SimNet {
        self.servers.insert(Ipv4Addr::from(addr), server);
        self
    }

    /// Moves virtual time on.
    pub fn advance(&self, d: Duration) {
        self.micros
            .fetch_add(d.as_micros() as u64, Ordering::SeqCst);
    }

    /// The virtual clock, for the resolver.
    pub fn clock(&self) -> Clock {
        let micros = Arc::clone(&self.micros);
        Arc::new(move || Instant::from_micros(micros.load(Ordering::SeqCst)))
    }

    fn respond(&self, server: Ipv4Addr, question: &Question) -> Result<DnsMessage, UpstreamError> {
        self.log
            .lock()
            .expect("log")
            .push((server, question.clone()));
        let mut query = DnsMessage::query(1, question.name.clone(), question.qtype);
        query.header.rd = false;
        let mut resp = DnsMessage::response_to(&query);
        match self.servers.get(&server) {
            None | Some(Server::Silent) => {
                self.advance(self.timeout_cost);
                return Err(UpstreamError::Timeout(self.timeout_cost));
            }
            Some(Server::Auth(a)) => return Ok(a.answer(&query)),
            Some(Server::Truncating(a)) => {
                let mut resp = a.answer(&query);
                resp.answers.truncate(7);
                resp.header.tc = true;
                return Ok(resp);
            }
            Some(Server::Refused) => resp.header.rcode = Rcode::Refused,
            Some(Server::ServFail) => resp.header.rcode = Rcode::ServFail,
            Some(Server::Lame) => resp.authorities.push(Record::new(
                DnsName::root(),
                3600,
                RecordData::Ns("a.root-servers.net".parse().expect("name")),
            )),
        }
        Ok(resp)
    }
}

impl Upstream for SimNet {
    fn query(
        &self,
        server: Ipv4Addr,
        question: &Question,
    ) -> impl Future<Output = Result<DnsMessage, UpstreamError>> + Send {
        let result = self.respond(server, question);
        async move { result }
    }
}

pub const ROOT: [u8; 4] = [10, 0, 0, 1];
pub const TLD: [u8; 4] = [10, 0, 0, 2];
pub const EXAMPLE_COM: [u8; 4] = [10, 0, 0, 3];
pub const EXAMPLE_NET: [u8; 4] = [10, 0, 0, 4];
pub const LAME: [u8; 4] = [10, 0, 0, 5];
pub const LAME_GOOD: [u8; 4] = [10, 0, 0, 6];
pub const BROKEN1: [u8; 4] = [10, 0, 0, 7];
pub const BROKEN2: [u8; 4] = [10, 0, 0, 8];

pub const ROOT_ZONE: &str = "\
. 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400
. NS a.root-servers.net.
a.root-servers.net. A 10.0.0.1
com. 172800 NS a.gtld-servers.net.
net. 172800 NS a.gtld-servers.net.
a.gtld-servers.net. A 10.0.0.2
";

pub const COM_ZONE: &str = "\
$ORIGIN com.
$TTL 172800
@ 900 SOA a.gtld-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400
@ NS a.gtld-servers.net.
example NS ns1.example
ns1.example A 10.0.0.3
lame NS ns1.lame
lame NS ns2.lame
ns1.lame A 10.0.0.5
ns2.lame A 10.0.0.6
glueless NS ns.example.net.
broken NS ns1.broken
broken NS ns2.broken
ns1.broken A 10.0.0.7
ns2.broken A 10.0.0.8
";

pub const NET_ZONE: &str = "\
$ORIGIN net.
$TTL 172800
@ 900 SOA a.gtld-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400
@ NS a.gtld-servers.net.
a.gtld-servers.net. A 10.0.0.2
example NS ns.example
ns.example A 10.0.0.4
";

pub const EXAMPLE_COM_ZONE: &str = "\
$ORIGIN example.com.
$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 60
@ NS ns1
@ MX 10 mail
@ MX 20 mail2
ns1 A 10.0.0.3
www A 10.0.3.10
mail A 10.0.3.25
mail2 A 10.0.3.26
alias CNAME www.example.net.
loop1 CNAME loop2.example.net.
c0 CNAME c1.example.net.
c2 CNAME c3.example.net.
c4 CNAME c5.example.net.
c6 CNAME c7.example.net.
c8 CNAME c9.example.net.
";

pub const EXAMPLE_NET_ZONE: &str = "\
$ORIGIN example.net.
$TTL 600
@ SOA ns hostmaster 1 3600 900 604800 120
@ NS ns
ns A 10.0.0.4
www A 10.0.3.20
loop2 CNAME loop1.example.com.
c1 CNAME c2.example.com.
c3 CNAME c4.example.com.
c5 CNAME c6.example.com.
c7 CNAME c8.example.com.
c9 A 10.9.9.9
";

pub const GLUELESS_ZONE: &str = "\
$ORIGIN glueless.com.
$TTL 300
@ SOA ns.example.net. hostmaster 1 3600 900 604800 60
@ NS ns.example.net.
www A 10.0.3.30
";

pub const LAME_ZONE: &str = "\
$ORIGIN lame.com.
$TTL 300
@ SOA ns2 hostmaster 1 3600 900 604800 60
@ NS ns1
@ NS ns2
ns1 A 10.0.0.5
ns2 A 10.0.0.6
www A 10.0.3.40
";

/// The standard simulated internet.
pub fn internet() -> SimNet {
    SimNet::new()
        .auth(ROOT, &[ROOT_ZONE])
        .auth(TLD, &[COM_ZONE, NET_ZONE])
        .auth(EXAMPLE_COM, &[EXAMPLE_COM_ZONE])
        .auth(EXAMPLE_NET, &[EXAMPLE_NET_ZONE, GLUELESS_ZONE])
        .with(LAME, Server::Lame)
        .auth(LAME_GOOD, &[LAME_ZONE])
        .with(BROKEN1, Server::Refused)
        .with(BROKEN2, Server::ServFail)
}

/// A resolver over `net` starting from `hints`.
pub fn resolver(
    net: Arc<SimNet>,
    hints: &[[u8; 4]],
    config: ResolverConfig,
) -> (Resolver<Arc<SimNet>>, Arc<DnsCounters>, Arc<Mutex<Cache>>) {
    let counters = Arc::new(DnsCounters::default());
    let cache = Arc::new(Mutex::new(Cache::new(1000)));
    let clock = net.clock();
    let config = ResolverConfig {
        root_hints: hints.iter().map(|&a| Ipv4Addr::from(a)).collect(),
        ..config
    };
    let r = Resolver::new(
        net,
        Arc::clone(&cache),
        Arc::clone(&counters),
        config,
        clock,
    );
    (r, counters, cache)
}

pub fn n(s: &str) -> DnsName {
    s.parse().expect("name")
}

pub fn q(name: &str, qtype: RecordType) -> Question {
    Question::new(n(name), qtype)
}

pub fn ip(a: [u8; 4]) -> Ipv4Addr {
    Ipv4Addr::from(a)
}
