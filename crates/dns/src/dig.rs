//! `dig` for hosts: arguments in dig's free order and output in dig's
//! layout (BIND 9.18), so what a learner sees matches the real tool.
//!
//! ```text
//! dig [@SERVER] [-t TYPE] [-x ADDR] [NAME] [TYPE] [+[no]recurse] [+short]
//!     [+[no]tcp] [+trace] [+[no]edns] [+bufsize=B] [+[no]ignore] [+time=S] [+tries=N]
//! ```
//!
//! Words are classified as dig does: `@…` is the server (an address, or a
//! name looked up through the host's resolver), `+…` an option, a type
//! mnemonic (A, AAAA, NS, CNAME, MX, SOA, TXT, PTR, ANY, AXFR) the type, and
//! anything else the name; `dig @10.0.2.53 example.com MX` and
//! `dig MX example.com @10.0.2.53` are the same query. No name asks for the
//! root's NS records, like dig.
//!
//! As BIND's dig does, queries carry an EDNS OPT (payload 1232) unless
//! `+noedns`; a UDP answer with TC set is asked again over TCP
//! (";; Truncated, retrying in TCP mode.", unless `+ignore`); `+tcp` uses TCP from the
//! start and AXFR always does. `+trace` iterates from the root itself
//! ([`trace`]), printing each step's records and where they came from.

use crate::text;
use clap::Parser;
use std::net::Ipv4Addr;
use std::time::Duration;
use vnet_wire::dns::{DnsMessage, DnsName, Record, RecordType};

/// dig's exit code when no server answered.
pub const EXIT_NO_REPLY: i32 = 9;
/// dig's exit code for a usage error.
pub const EXIT_USAGE: i32 = 1;

/// `dig`'s command line as clap sees it; [`DigArgs::request`] interprets
/// the free-order words.
#[derive(Parser, Debug, Clone, PartialEq, Eq)]
#[command(
    name = "dig",
    about = "DNS lookup utility",
    override_usage = "dig [@SERVER] [-t TYPE] [-x ADDR] [NAME] [TYPE] [+[no]recurse] [+short] [+[no]tcp] [+trace] [+[no]edns] [+bufsize=B] [+[no]ignore] [+time=SECS] [+tries=N]"
)]
pub struct DigArgs {
    /// Query type (as the TYPE word).
    #[arg(short = 't', value_name = "TYPE")]
    pub qtype: Option<String>,
    /// Reverse lookup: the PTR record of this IPv4 address.
    #[arg(short = 'x', value_name = "ADDR")]
    pub reverse: Option<Ipv4Addr>,
    /// NAME, TYPE, @SERVER and +options, in any order.
    #[arg(value_name = "WORDS")]
    pub words: Vec<String>,
}

/// Parses dig's command line (`argv[0]` is the program name).
pub fn dig_args(argv: &[String]) -> Result<DigArgs, clap::Error> {
    DigArgs::try_parse_from(argv)
}

/// One dig query, fully interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigRequest {
    /// `@SERVER`, if given as an address.
    pub server: Option<Ipv4Addr>,
    /// `@SERVER`, if given as a name (looked up through the host's resolver).
    pub server_name: Option<DnsName>,
    /// `+tcp`: ask over TCP (AXFR always does).
    pub tcp: bool,
    /// `+trace`: iterate from the root, printing every step.
    pub trace: bool,
    /// `+ignore`: keep a truncated UDP answer instead of asking over TCP.
    pub ignore_tc: bool,
    /// EDNS payload size advertised; `None` after `+noedns`.
    pub edns: Option<u16>,
    /// The name asked (root if none was given).
    pub name: DnsName,
    /// The type asked (A by default; NS for the root when no name is given).
    pub qtype: RecordType,
    /// RD, cleared by `+norecurse`.
    pub recurse: bool,
    /// `+short`: only the RDATA of the answers.
    pub short: bool,
    /// `+time=S`: seconds per try (default 5).
    pub timeout: Duration,
    /// `+tries=N` (or `+retry=N-1`): tries (default 3).
    pub tries: usize,
}

/// QTYPE 252, a zone transfer (RFC 5936 §2.1).
pub const AXFR: RecordType = RecordType::Unknown(252);

/// The EDNS payload size dig advertises by default (BIND 9.18: 1232).
pub const DEFAULT_BUFSIZE: u16 = 1232;

/// A query type mnemonic dig understands here.
pub fn parse_qtype(text: &str) -> Option<RecordType> {
    Some(match text.to_ascii_uppercase().as_str() {
        "A" => RecordType::A,
        "AAAA" => RecordType::Aaaa,
        "NS" => RecordType::Ns,
        "CNAME" => RecordType::Cname,
        "MX" => RecordType::Mx,
        "SOA" => RecordType::Soa,
        "TXT" => RecordType::Txt,
        "PTR" => RecordType::Ptr,
        "ANY" => RecordType::Any,
        "AXFR" => AXFR,
        _ => return None,
    })
}

/// The reverse-lookup name of `addr` (RFC 1035 §3.5): `10.3.0.10.in-addr.arpa.`.
pub fn reverse_name(addr: Ipv4Addr) -> DnsName {
    let [a, b, c, d] = addr.octets();
    let labels = [
        d.to_string(),
        c.to_string(),
        b.to_string(),
        a.to_string(),
        "in-addr".into(),
        "arpa".into(),
    ];
    DnsName::from_labels(labels).unwrap_or_default()
}

/// Words of a `dig` command line that do not make a query; the message is
/// what dig would print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigError {
    /// `-t` names no record type dig knows.
    #[error("invalid type: {0}")]
    InvalidType(String),
    /// `@server` is neither an address nor a name.
    #[error("couldn't get address for '{0}': not found")]
    ServerNotFound(String),
    /// A `+option` that does not exist or lacks its value.
    #[error("Invalid option: +{option}{}", needs.map(|n| format!(" (needs {n})")).unwrap_or_default())]
    InvalidOption {
        /// The option as given, without `+`.
        option: String,
        /// What its value must be, when it takes one.
        needs: Option<&'static str>,
    },
    /// A query name that is not a legal domain name.
    #[error("'{word}' is not a legal name ({reason})")]
    IllegalName {
        /// The word as given.
        word: String,
        /// Why it is not a name.
        reason: String,
    },
    /// A second query name.
    #[error("only one name per query here (got {word:?} after {first})")]
    SecondName {
        /// The extra word.
        word: String,
        /// The name already given.
        first: String,
    },
}

impl DigArgs {
    /// Interprets the words; the error is what dig would print.
    pub fn request(&self) -> Result<DigRequest, DigError> {
        let mut server = None;
        let mut name: Option<DnsName> = None;
        let mut qtype = match &self.qtype {
            Some(t) => Some(parse_qtype(t).ok_or_else(|| DigError::InvalidType(t.clone()))?),
            None => None,
        };
        let mut req = DigRequest {
            server: None,
            server_name: None,
            tcp: false,
            trace: false,
            ignore_tc: false,
            edns: Some(DEFAULT_BUFSIZE),
            name: DnsName::root(),
            qtype: RecordType::A,
            recurse: true,
            short: false,
            timeout: Duration::from_secs(5),
            tries: 3,
        };
        if let Some(addr) = self.reverse {
            name = Some(reverse_name(addr));
            qtype = qtype.or(Some(RecordType::Ptr));
        }
        for w in &self.words {
            if let Some(s) = w.strip_prefix('@') {
                match s.parse::<Ipv4Addr>() {
                    Ok(a) => server = Some(a),
                    Err(_) => {
                        let name = s
                            .parse::<DnsName>()
                            .ok()
                            .filter(|n| !n.is_root())
                            .ok_or_else(|| DigError::ServerNotFound(s.to_string()))?;
                        req.server_name = Some(name);
                    }
                }
            } else if let Some(opt) = w.strip_prefix('+') {
                apply_option(&mut req, opt)?;
            } else if let Some(t) = parse_qtype(w).filter(|_| qtype.is_none()) {
                qtype = Some(t);
            } else if name.is_none() {
                name = Some(w.parse().map_err(|e| DigError::IllegalName {
                    word: w.clone(),
                    reason: format!("{e}"),
                })?);
            } else {
                return Err(DigError::SecondName {
                    word: w.clone(),
                    first: name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                });
            }
        }
        req.server = server;
        match name {
            Some(n) => {
                req.name = n;
                req.qtype = qtype.unwrap_or(RecordType::A);
            }
            None => req.qtype = qtype.unwrap_or(RecordType::Ns),
        }
        Ok(req)
    }
}

fn apply_option(req: &mut DigRequest, opt: &str) -> Result<(), DigError> {
    let (key, value) = match opt.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (opt, None),
    };
    let invalid = |needs| DigError::InvalidOption {
        option: opt.to_string(),
        needs,
    };
    let number = |v: Option<&str>| -> Result<u64, DigError> {
        v.and_then(|v| v.parse().ok())
            .filter(|&n| n <= 300)
            .ok_or_else(|| invalid(Some("a number 0..=300")))
    };
    match key {
        "norecurse" | "norec" => req.recurse = false,
        "recurse" | "rec" => req.recurse = true,
        "short" => req.short = true,
        "noshort" => req.short = false,
        "tcp" | "vc" => req.tcp = true,
        "notcp" | "novc" => req.tcp = false,
        "trace" => req.trace = true,
        "notrace" => req.trace = false,
        "ignore" => req.ignore_tc = true,
        "noignore" => req.ignore_tc = false,
        "edns" => req.edns = Some(req.edns.unwrap_or(DEFAULT_BUFSIZE)),
        "noedns" => req.edns = None,
        "bufsize" => {
            let size = value
                .and_then(|v| v.parse::<u16>().ok())
                .ok_or_else(|| invalid(Some("a size 0..=65535")))?;
            req.edns = Some(size);
        }
        "time" | "timeout" => req.timeout = Duration::from_secs(number(value)?.max(1)),
        "tries" => req.tries = number(value)?.max(1) as usize,
        "retry" => req.tries = number(value)? as usize + 1,
        _ => return Err(invalid(None)),
    }
    Ok(())
}

/// The response as dig prints it, from the header line to `MSG SIZE`:
///
/// ```text
/// ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4711
/// ;; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0
///
/// ;; QUESTION SECTION:
/// ;www.example.com.               IN      A
///
/// ;; ANSWER SECTION:
/// www.example.com.        300     IN      A       10.0.3.10
///
/// ;; Query time: 3 msec
/// ;; SERVER: 10.0.2.53#53(10.0.2.53) (UDP)
/// ;; MSG SIZE  rcvd: 49
/// ```
///
/// (The fields are separated by tabs, shown here as spaces.)
/// `question_name` / `qtype` are printed when the response has no question
/// section. Empty sections are left out, as dig does.
pub fn format_dig(
    question_name: &DnsName,
    qtype: RecordType,
    response: &DnsMessage,
    query_time: Duration,
    server: Ipv4Addr,
    msg_size: usize,
) -> Vec<String> {
    let reply = Reply {
        query_time,
        server,
        msg_size,
        tcp: false,
    };
    format_reply(question_name, qtype, response, &reply)
}

/// How a response came, for the lines after its sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// Time from query to response.
    pub query_time: Duration,
    /// The server asked.
    pub server: Ipv4Addr,
    /// Size of the response, octets.
    pub msg_size: usize,
    /// Over TCP (else UDP).
    pub tcp: bool,
}

/// The status word of dig's header line: the RCODE mnemonic, `BADVERS`
/// for the extended RCODE 16 (RFC 6891 §9).
fn status(response: &DnsMessage) -> String {
    match response.full_rcode() {
        16 => "BADVERS".into(),
        v if v > 15 => format!("RCODE{v}"),
        _ => response.header.rcode.to_string(),
    }
}

/// dig's `;; OPT PSEUDOSECTION:` for the response's OPT record:
/// `; EDNS: version: 0, flags:; udp: 1232`, plus a line per option.
fn opt_pseudosection(response: &DnsMessage) -> Vec<String> {
    let Ok(Some(e)) = response.edns() else {
        return Vec::new();
    };
    let flags = if e.dnssec_ok { " do" } else { "" };
    let mut lines = vec![
        ";; OPT PSEUDOSECTION:".to_string(),
        format!(
            "; EDNS: version: {}, flags:{flags}; udp: {}",
            e.version, e.udp_payload_size
        ),
    ];
    for o in &e.options {
        let hex: String = o.data.iter().map(|b| format!("{b:02x}")).collect();
        let name = match o.code {
            vnet_wire::dns::OPTION_COOKIE => "COOKIE".to_string(),
            c => format!("OPT={c}"),
        };
        lines.push(format!("; {name}: {hex}"));
    }
    lines
}

/// [`format_dig`] for a reply that came over UDP or TCP.
pub fn format_reply(
    question_name: &DnsName,
    qtype: RecordType,
    response: &DnsMessage,
    reply: &Reply,
) -> Vec<String> {
    let h = &response.header;
    let mut lines = vec![format!(
        ";; ->>HEADER<<- opcode: {}, status: {}, id: {}",
        text::opcode(h.opcode),
        status(response),
        h.id
    )];
    let flags: Vec<&str> = [
        (h.qr, "qr"),
        (h.aa, "aa"),
        (h.tc, "tc"),
        (h.rd, "rd"),
        (h.ra, "ra"),
        (h.ad, "ad"),
        (h.cd, "cd"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, f)| *f)
    .collect();
    lines.push(format!(
        ";; flags: {}; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}",
        flags.join(" "),
        response.questions.len(),
        response.answers.len(),
        response.authorities.len(),
        response.additionals.len()
    ));
    if h.rd && !h.ra {
        lines.push(";; WARNING: recursion requested but not available".into());
    }
    lines.push(String::new());
    lines.extend(opt_pseudosection(response));
    lines.push(";; QUESTION SECTION:".into());
    let question_line = |name: &DnsName, class: String, qtype: RecordType| {
        let owner = format!(";{name}");
        format!("{owner}{}\t{class}\t{qtype}", text::pad_to_24(owner.len()))
    };
    if response.questions.is_empty() {
        lines.push(question_line(question_name, "IN".into(), qtype));
    }
    for q in &response.questions {
        lines.push(question_line(&q.name, q.qclass.to_string(), q.qtype));
    }
    lines.push(String::new());
    let additionals: Vec<Record> = response
        .additionals
        .iter()
        .filter(|r| r.rtype() != RecordType::Opt)
        .cloned()
        .collect();
    for (title, records) in [
        ("ANSWER", &response.answers),
        ("AUTHORITY", &response.authorities),
        ("ADDITIONAL", &additionals),
    ] {
        if records.is_empty() {
            continue;
        }
        lines.push(format!(";; {title} SECTION:"));
        lines.extend(records.iter().map(text::record_line));
        lines.push(String::new());
    }
    let server = reply.server;
    lines.push(format!(
        ";; Query time: {} msec",
        reply.query_time.as_millis()
    ));
    lines.push(format!(
        ";; SERVER: {server}#53({server}) ({})",
        if reply.tcp { "TCP" } else { "UDP" }
    ));
    lines.push(format!(";; MSG SIZE  rcvd: {}", reply.msg_size));
    lines
}

/// `dig +short`: the RDATA of each answer record, one per line.
pub fn format_short(response: &DnsMessage) -> Vec<String> {
    response
        .answers
        .iter()
        .map(|r| text::rdata(&r.data))
        .collect()
}

mod run;
mod trace;

pub use run::run;

#[cfg(test)]
mod tests;
