//! `dig` for hosts: arguments in dig's free order and output in dig's
//! layout (BIND 9.18), so what a learner sees matches the real tool.
//!
//! ```text
//! dig [@SERVER] [-t TYPE] [-x ADDR] [NAME] [TYPE] [+[no]recurse] [+short] [+time=S] [+tries=N]
//! ```
//!
//! Words are classified as dig does: `@…` is the server, `+…` an option, a
//! type mnemonic (A, AAAA, NS, CNAME, MX, SOA, TXT, PTR, ANY) the type, and
//! anything else the name; `dig @10.0.2.53 example.com MX` and
//! `dig MX example.com @10.0.2.53` are the same query. No name asks for the
//! root's NS records, like dig.

use crate::stub::{StubError, StubOptions, query_with};
use crate::text;
use clap::Parser;
use std::net::Ipv4Addr;
use std::time::Duration;
use vnet_runtime::net::NetDevice;
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_wire::dns::{DnsMessage, DnsName, RecordType};

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
    override_usage = "dig [@SERVER] [-t TYPE] [-x ADDR] [NAME] [TYPE] [+[no]recurse] [+short] [+time=SECS] [+tries=N]"
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
    /// `@SERVER`, if given.
    pub server: Option<Ipv4Addr>,
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

impl DigArgs {
    /// Interprets the words; the error is what dig would print.
    pub fn request(&self) -> Result<DigRequest, String> {
        let mut server = None;
        let mut name: Option<DnsName> = None;
        let mut qtype = match &self.qtype {
            Some(t) => Some(parse_qtype(t).ok_or_else(|| format!("invalid type: {t}"))?),
            None => None,
        };
        let mut req = DigRequest {
            server: None,
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
                let a: Ipv4Addr = s
                    .parse()
                    .map_err(|_| format!("couldn't get address for '{s}': not an IPv4 address"))?;
                server = Some(a);
            } else if let Some(opt) = w.strip_prefix('+') {
                apply_option(&mut req, opt)?;
            } else if let Some(t) = parse_qtype(w).filter(|_| qtype.is_none()) {
                qtype = Some(t);
            } else if name.is_none() {
                name = Some(
                    w.parse()
                        .map_err(|e| format!("'{w}' is not a legal name ({e})"))?,
                );
            } else {
                return Err(format!(
                    "only one name per query here (got {w:?} after {})",
                    name.as_ref().map(|n| n.to_string()).unwrap_or_default()
                ));
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

fn apply_option(req: &mut DigRequest, opt: &str) -> Result<(), String> {
    let (key, value) = match opt.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (opt, None),
    };
    let number = |v: Option<&str>| -> Result<u64, String> {
        v.and_then(|v| v.parse().ok())
            .filter(|&n| n <= 300)
            .ok_or_else(|| format!("Invalid option: +{opt} (needs a number 0..=300)"))
    };
    match key {
        "norecurse" | "norec" => req.recurse = false,
        "recurse" | "rec" => req.recurse = true,
        "short" => req.short = true,
        "noshort" => req.short = false,
        "time" | "timeout" => req.timeout = Duration::from_secs(number(value)?.max(1)),
        "tries" => req.tries = number(value)?.max(1) as usize,
        "retry" => req.tries = number(value)? as usize + 1,
        _ => return Err(format!("Invalid option: +{opt}")),
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
    let h = &response.header;
    let mut lines = vec![format!(
        ";; ->>HEADER<<- opcode: {}, status: {}, id: {}",
        text::opcode(h.opcode),
        h.rcode,
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
    for (title, records) in [
        ("ANSWER", &response.answers),
        ("AUTHORITY", &response.authorities),
        ("ADDITIONAL", &response.additionals),
    ] {
        if records.is_empty() {
            continue;
        }
        lines.push(format!(";; {title} SECTION:"));
        lines.extend(records.iter().map(text::record_line));
        lines.push(String::new());
    }
    lines.push(format!(";; Query time: {} msec", query_time.as_millis()));
    lines.push(format!(";; SERVER: {server}#53({server}) (UDP)"));
    lines.push(format!(";; MSG SIZE  rcvd: {msg_size}"));
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

/// Runs `dig` on a device: parses `argv` (`argv[0]` = "dig"), asks
/// `@SERVER` or `default_server`, and writes dig's output to `out`. Exit
/// codes as dig: 0 when a response came (whatever its RCODE), 1 for a usage
/// error, 9 when no server answered.
pub async fn run<D: NetDevice>(
    handle: &DeviceHandle<D>,
    argv: &[String],
    out: &ExecOutput,
    default_server: Option<Ipv4Addr>,
) -> Result<i32, Disconnected> {
    let args = match dig_args(argv) {
        Ok(a) => a,
        Err(e) => {
            let is_error = e.use_stderr();
            for line in e.render().to_string().lines() {
                if is_error {
                    out.error(line).await?;
                } else {
                    out.line(line).await?;
                }
            }
            return Ok(if is_error { EXIT_USAGE } else { 0 });
        }
    };
    let req = match args.request() {
        Ok(r) => r,
        Err(msg) => {
            out.error(msg).await?;
            return Ok(EXIT_USAGE);
        }
    };
    let Some(server) = req.server.or(default_server) else {
        out.error(";; no DNS server configured on this host: give one as @SERVER")
            .await?;
        return Ok(EXIT_USAGE);
    };
    let words = argv.get(1..).unwrap_or(&[]).join(" ");
    let once = StubOptions {
        recurse: req.recurse,
        timeout: req.timeout,
        tries: 1,
    };
    let mut reply = None;
    for _ in 0..req.tries {
        match query_with(handle, server, &req.name, req.qtype, &once).await {
            Ok(r) => {
                reply = Some(r);
                break;
            }
            Err(StubError::Timeout { .. }) => {
                out.line(format!(";; communications error to {server}#53: timed out"))
                    .await?;
            }
            Err(StubError::Unreachable { reason, .. }) => {
                out.line(format!(";; communications error to {server}#53: {reason}"))
                    .await?;
            }
            Err(e) => {
                out.error(format!(";; {e}")).await?;
                return Ok(EXIT_NO_REPLY);
            }
        }
    }
    let Some(reply) = reply else {
        if !req.short {
            out.line("").await?;
            out.line(format!("; <<>> DiG (vnet) <<>> {words}")).await?;
            out.line(";; global options: +cmd").await?;
        }
        out.line(";; no servers could be reached").await?;
        return Ok(EXIT_NO_REPLY);
    };
    if req.short {
        for line in format_short(&reply.message) {
            out.line(line).await?;
        }
        return Ok(0);
    }
    out.line("").await?;
    out.line(format!("; <<>> DiG (vnet) <<>> {words}")).await?;
    out.line(";; global options: +cmd").await?;
    out.line(";; Got answer:").await?;
    for line in format_dig(
        &req.name,
        req.qtype,
        &reply.message,
        reply.rtt,
        server,
        reply.size,
    ) {
        out.line(line).await?;
    }
    out.line("").await?;
    Ok(0)
}

#[cfg(test)]
mod tests;
