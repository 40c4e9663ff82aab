//! The sans-IO half of name resolution: reading `/etc/hosts` and
//! `/etc/resolv.conf` text, expanding a name through the search list, and
//! building and reading the DNS messages. No sockets, no clock.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use vnet_wire::dns::{DnsMessage, DnsName, Rcode, RecordData, RecordType};

/// The IPv4 addresses `/etc/hosts` text gives `name` (hosts(5): address,
/// canonical name, aliases; `#` starts a comment; names match without
/// regard to case and to a trailing dot).
pub fn hosts_lookup(text: &str, name: &str) -> Vec<Ipv4Addr> {
    let wanted = name.trim_end_matches('.');
    let mut found = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(Ok(IpAddr::V4(addr))) = fields.next().map(str::parse::<IpAddr>) else {
            continue;
        };
        if fields.any(|n| n.trim_end_matches('.').eq_ignore_ascii_case(wanted))
            && !found.contains(&addr)
        {
            found.push(addr);
        }
    }
    found
}

/// What `/etc/resolv.conf` says (resolv.conf(5)), the parts a stub needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    /// `nameserver` lines, at most [`MAX_NAMESERVERS`], port 53.
    pub nameservers: Vec<SocketAddr>,
    /// `search` (or `domain`) list, last line wins, at most 6 domains.
    pub search: Vec<String>,
    /// `options ndots:N` (default 1, capped at 15).
    pub ndots: usize,
    /// `options timeout:N` per query (default 5 s as glibc; capped at 30).
    pub timeout: Duration,
    /// `options attempts:N` rounds over the servers (default 2, cap 5).
    pub attempts: usize,
}

/// glibc's MAXNS: later `nameserver` lines are ignored.
pub const MAX_NAMESERVERS: usize = 3;
/// glibc's MAXDNSRCH.
const MAX_SEARCH: usize = 6;

impl Default for ResolvConf {
    /// What glibc uses without a file: the local server, no search list.
    fn default() -> Self {
        ResolvConf {
            nameservers: vec![SocketAddr::from(([127, 0, 0, 1], 53))],
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
        }
    }
}

impl ResolvConf {
    /// Parses resolv.conf text. Unknown keywords and malformed values are
    /// ignored, as the C library does.
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf {
            nameservers: Vec::new(),
            ..ResolvConf::default()
        };
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut fields = line.split_whitespace();
            match fields.next() {
                Some("nameserver") => {
                    let addr = fields.next().and_then(|a| a.parse::<IpAddr>().ok());
                    if let Some(ip) = addr
                        && conf.nameservers.len() < MAX_NAMESERVERS
                    {
                        conf.nameservers.push(SocketAddr::new(ip, 53));
                    }
                }
                Some("search") | Some("domain") => {
                    conf.search = fields
                        .take(MAX_SEARCH)
                        .map(|d| d.trim_end_matches('.').to_string())
                        .filter(|d| !d.is_empty())
                        .collect();
                }
                Some("options") => {
                    for option in fields {
                        conf.apply_option(option);
                    }
                }
                _ => {}
            }
        }
        if conf.nameservers.is_empty() {
            conf.nameservers = ResolvConf::default().nameservers;
        }
        conf
    }

    fn apply_option(&mut self, option: &str) {
        let Some((key, value)) = option.split_once(':') else {
            return;
        };
        let Ok(n) = value.parse::<u64>() else {
            return;
        };
        match key {
            "ndots" => self.ndots = n.min(15) as usize,
            "timeout" => self.timeout = Duration::from_secs(n.clamp(1, 30)),
            "attempts" => self.attempts = n.clamp(1, 5) as usize,
            _ => {}
        }
    }

    /// The names to ask for, in order (resolv.conf(5) `ndots`): a name with
    /// a trailing dot is absolute and asked as it is; a name with at least
    /// `ndots` dots is asked as it is first, then with each search domain;
    /// otherwise the search domains come first. Kubernetes relies on this:
    /// `r2` becomes `r2.lab.svc.cluster.local`.
    pub fn candidates(&self, name: &str) -> Vec<String> {
        if let Some(absolute) = name.strip_suffix('.') {
            return vec![absolute.to_string()];
        }
        let searched = self.search.iter().map(|d| format!("{name}.{d}"));
        let dots = name.bytes().filter(|&b| b == b'.').count();
        if dots >= self.ndots {
            std::iter::once(name.to_string()).chain(searched).collect()
        } else {
            searched.chain(std::iter::once(name.to_string())).collect()
        }
    }
}

/// A query for the A records of `name` with transaction `id`, ready to send.
pub fn a_query(id: u16, name: &str) -> Option<Vec<u8>> {
    let name: DnsName = name.parse().ok()?;
    Some(DnsMessage::query(id, name, RecordType::A).emit(vnet_wire::dns::MAX_UDP_LEN))
}

/// What a server said about a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The name's IPv4 addresses (CNAME chains followed inside the answer).
    Addresses(Vec<Ipv4Addr>),
    /// NXDOMAIN, or no A record: try the next candidate name.
    NoSuchName,
    /// SERVFAIL, REFUSED or another failure: try the next server.
    Failed(Rcode),
}

/// Reads a response to the query `id` for `name`; `None` when the bytes
/// are not that response (wrong ID, not a response, other question,
/// malformed) and should be ignored (RFC 5452 §4.3 "accept only matching").
pub fn read_answer(bytes: &[u8], id: u16, name: &str) -> Option<Answer> {
    let message = DnsMessage::parse(bytes).ok()?;
    let asked: DnsName = name.parse().ok()?;
    if message.header.id != id || !message.header.qr {
        return None;
    }
    let question = message.questions.first()?;
    if question.name != asked || question.qtype != RecordType::A {
        return None;
    }
    match message.header.rcode {
        Rcode::NoError => {}
        Rcode::NxDomain => return Some(Answer::NoSuchName),
        other => return Some(Answer::Failed(other)),
    }
    // Follow CNAMEs in the answer section, a bounded number of times.
    let mut owner = asked;
    for _ in 0..8 {
        let addresses: Vec<Ipv4Addr> = message
            .answers
            .iter()
            .filter(|r| r.name == owner)
            .filter_map(|r| match r.data {
                RecordData::A(a) => Some(a),
                _ => None,
            })
            .collect();
        if !addresses.is_empty() {
            return Some(Answer::Addresses(addresses));
        }
        let alias = message.answers.iter().find_map(|r| match &r.data {
            RecordData::Cname(target) if r.name == owner => Some(target.clone()),
            _ => None,
        });
        match alias {
            Some(target) => owner = target,
            None => break,
        }
    }
    Some(Answer::NoSuchName)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use vnet_wire::dns::Record;

    const DOCKER_HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n10.0.1.7\t3f2a9c1b0d4e   # container\n10.0.1.9 r2 R2-alias.lab.\n10.0.1.9 r2\n";

    #[test]
    fn hosts_file_matches_names_and_aliases() {
        assert_eq!(
            hosts_lookup(DOCKER_HOSTS, "r2"),
            vec![Ipv4Addr::new(10, 0, 1, 9)]
        );
        assert_eq!(
            hosts_lookup(DOCKER_HOSTS, "r2-alias.lab"),
            vec![Ipv4Addr::new(10, 0, 1, 9)]
        );
        assert_eq!(
            hosts_lookup(DOCKER_HOSTS, "LOCALHOST."),
            vec![Ipv4Addr::LOCALHOST]
        );
        assert!(
            hosts_lookup(DOCKER_HOSTS, "container").is_empty(),
            "comments are not names"
        );
        assert!(hosts_lookup(DOCKER_HOSTS, "r3").is_empty());
    }

    /// A Kubernetes pod's resolv.conf (kubelet, ClusterFirst policy).
    const K8S_RESOLV: &str = "search lab.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n";
    /// Docker's embedded DNS for user-defined and overlay networks.
    const DOCKER_RESOLV: &str = "nameserver 127.0.0.11\noptions ndots:0\n";

    #[test]
    fn kubernetes_names_go_through_the_search_list_first() {
        let conf = ResolvConf::parse(K8S_RESOLV);
        assert_eq!(conf.nameservers, vec!["10.96.0.10:53".parse().unwrap()]);
        assert_eq!(conf.ndots, 5);
        assert_eq!(
            conf.candidates("r2"),
            vec![
                "r2.lab.svc.cluster.local",
                "r2.svc.cluster.local",
                "r2.cluster.local",
                "r2"
            ]
        );
        assert_eq!(
            conf.candidates("r2.lab.svc.cluster.local."),
            vec!["r2.lab.svc.cluster.local"]
        );
    }

    #[test]
    fn docker_names_are_asked_as_they_are() {
        let conf = ResolvConf::parse(DOCKER_RESOLV);
        assert_eq!(conf.nameservers, vec!["127.0.0.11:53".parse().unwrap()]);
        assert_eq!(conf.candidates("r2"), vec!["r2"]);
    }

    #[test]
    fn resolv_conf_limits_and_defaults() {
        let conf = ResolvConf::parse(
            "nameserver 1.1.1.1\nnameserver bogus\nnameserver ::1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\noptions timeout:0 attempts:99 ndots:x\n",
        );
        assert_eq!(conf.nameservers.len(), MAX_NAMESERVERS);
        assert_eq!(conf.nameservers[1], "[::1]:53".parse().unwrap());
        assert_eq!(conf.timeout, Duration::from_secs(1));
        assert_eq!(conf.attempts, 5);
        assert_eq!(conf.ndots, 1);
        assert_eq!(ResolvConf::parse(""), ResolvConf::default());
    }

    fn response(query: &[u8], rcode: Rcode, answers: Vec<Record>) -> Vec<u8> {
        let query = DnsMessage::parse(query).unwrap();
        let mut r = DnsMessage::response_to(&query);
        r.header.rcode = rcode;
        r.answers = answers;
        r.emit(4096)
    }

    #[test]
    fn answers_follow_cnames_and_reject_strangers() {
        let q = a_query(7, "r2").unwrap();
        let name = |n: &str| n.parse::<DnsName>().unwrap();
        let bytes = response(
            &q,
            Rcode::NoError,
            vec![
                Record::new(name("r2"), 60, RecordData::Cname(name("task1.r2"))),
                Record::new(
                    name("task1.r2"),
                    60,
                    RecordData::A(Ipv4Addr::new(10, 0, 1, 9)),
                ),
                Record::new(name("other"), 60, RecordData::A(Ipv4Addr::new(6, 6, 6, 6))),
            ],
        );
        assert_eq!(
            read_answer(&bytes, 7, "r2"),
            Some(Answer::Addresses(vec![Ipv4Addr::new(10, 0, 1, 9)]))
        );
        assert_eq!(read_answer(&bytes, 8, "r2"), None, "wrong id");
        assert_eq!(read_answer(&bytes, 7, "r3"), None, "other question");
        assert_eq!(read_answer(&q, 7, "r2"), None, "a query is not an answer");
        let nx = response(&q, Rcode::NxDomain, vec![]);
        assert_eq!(read_answer(&nx, 7, "r2"), Some(Answer::NoSuchName));
        let fail = response(&q, Rcode::ServFail, vec![]);
        assert_eq!(
            read_answer(&fail, 7, "r2"),
            Some(Answer::Failed(Rcode::ServFail))
        );
    }

    proptest! {
        #[test]
        fn arbitrary_text_and_bytes_never_panic(text in "\\PC{0,200}", bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = hosts_lookup(&text, "r2");
            let conf = ResolvConf::parse(&text);
            prop_assert!(!conf.nameservers.is_empty() && conf.nameservers.len() <= MAX_NAMESERVERS);
            let _ = conf.candidates("r2");
            let _ = read_answer(&bytes, 1, "r2");
        }
    }
}
