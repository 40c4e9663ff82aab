//! Zones read from master files (RFC 1035 §5).
//!
//! Supported (RFC 1035 §5.1 unless noted):
//!
//! * `$ORIGIN name` and `$TTL ttl` (RFC 2308 §4); `$INCLUDE` is refused
//!   (zones are embedded in the device config, there are no files to include);
//! * `@` for the current origin, relative names (completed with the origin)
//!   and absolute names (ending in `.`);
//! * a blank owner field (the line starts with a space or tab) repeats the
//!   previous owner;
//! * optional TTL and class (`IN` only) in either order before the type;
//!   TTLs as seconds or with BIND's units (`1h30m`, `2d`, `1w`);
//! * parentheses spanning lines, `;` comments, quoted TXT strings with
//!   `\X` / `\DDD` escapes;
//! * types A, AAAA, NS, CNAME, MX, SOA, TXT and PTR.
//!
//! A record without a TTL takes `$TTL`, else the last TTL written explicitly,
//! else (an SOA only) its own MINIMUM, as BIND does.
//!
//! **Origin.** The zone's origin is the owner of its SOA record: a zone must
//! have exactly one SOA, and every record must lie at or below it (RFC 1035
//! §5.2). Relative names need an origin: from `$ORIGIN`, or — when no
//! `$ORIGIN` came before — the absolute owner of the SOA once it has been
//! read (the role of BIND's `zone "…"` statement).
//!
//! Further checks (RFC 1035 §5.2, RFC 1034 §3.6.2, RFC 2181 §10.1): at least
//! one NS record at the apex; a CNAME is the only record at its owner; at
//! most [`MAX_RECORDS`] records. Duplicate records are dropped and the
//! records of one RRset share the TTL of the first (RFC 2181 §5.2).
//!
//! Errors name the file, the line and the offending field:
//! `db.example:12: bad IPv4 address "10.0.3" in A record`.

mod lexer;

use lexer::{Entry, Token};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use vnet_wire::dns::{DnsName, Record, RecordData, RecordType};

/// Most records one zone may hold.
pub const MAX_RECORDS: usize = 100_000;
/// Largest TTL accepted: 2^31 − 1 (RFC 2181 §8).
pub const MAX_TTL: u32 = 0x7fff_ffff;

/// A zone file that could not be loaded: the file, the line (when the error
/// belongs to one) and what is wrong, naming the bad token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ZoneError {
    /// The file name given to [`Zone::parse`].
    pub file: String,
    /// 1-based line, if the error is on one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl ZoneError {
    fn describe(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}: {}", self.file, self.message),
            None => format!("{}: {}", self.file, self.message),
        }
    }
}

/// An authoritative zone: its origin (the SOA owner), the SOA, and every
/// record indexed by owner name (RFC 1034 §4.2, §4.3.2).
#[derive(Clone, PartialEq, Eq)]
pub struct Zone {
    file: String,
    origin: DnsName,
    soa: Record,
    /// Records by owner, canonical order (RFC 4034 §6.1).
    nodes: BTreeMap<DnsName, Vec<Record>>,
    /// Every owner and every name between an owner and the origin, so empty
    /// non-terminals exist (RFC 8020 §2: their descendants make them exist).
    names: HashSet<DnsName>,
    len: usize,
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Zone")
            .field("file", &self.file)
            .field("origin", &self.origin)
            .field("records", &self.len)
            .finish()
    }
}

impl Zone {
    /// Parses master-file `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Zone, ZoneError> {
        let mut p = Parser {
            file,
            origin: None,
            default_ttl: None,
            last_ttl: None,
            last_owner: None,
            records: Vec::new(),
        };
        let entries = lexer::entries(text).map_err(|e| ZoneError {
            file: file.to_string(),
            line: Some(e.line),
            message: e.message,
        })?;
        for entry in &entries {
            p.entry(entry)?;
        }
        Zone::build(file, p.records)
    }

    /// Builds a zone from records with their line numbers, checking the
    /// rules of the module docs.
    fn build(file: &str, records: Vec<(usize, Record)>) -> Result<Zone, ZoneError> {
        let fail = |line: Option<usize>, message: String| ZoneError {
            file: file.to_string(),
            line,
            message,
        };
        let soas: Vec<&(usize, Record)> = records
            .iter()
            .filter(|(_, r)| r.rtype() == RecordType::Soa)
            .collect();
        let (soa_line, soa) = match soas.as_slice() {
            [one] => (one.0, one.1.clone()),
            [] => {
                return Err(fail(
                    None,
                    "no SOA record: a zone needs exactly one, at its apex".into(),
                ));
            }
            [_, second, ..] => {
                return Err(fail(
                    Some(second.0),
                    format!(
                        "second SOA record (owner {}): a zone has exactly one",
                        second.1.name
                    ),
                ));
            }
        };
        let origin = soa.name.clone();
        let mut nodes: BTreeMap<DnsName, Vec<Record>> = BTreeMap::new();
        let mut len = 0;
        for (line, mut r) in records {
            if !r.name.is_subdomain_of(&origin) {
                return Err(fail(
                    Some(line),
                    format!(
                        "owner {} is outside the zone {origin} (the SOA owner, line {soa_line})",
                        r.name
                    ),
                ));
            }
            let node = nodes.entry(r.name.clone()).or_default();
            if node.contains(&r) {
                continue;
            }
            let has_cname = node.iter().any(|o| o.rtype() == RecordType::Cname);
            if has_cname || (r.rtype() == RecordType::Cname && !node.is_empty()) {
                return Err(fail(
                    Some(line),
                    format!(
                        "{} has a CNAME and other data; a CNAME must be alone at its name (RFC 1034 §3.6.2)",
                        r.name
                    ),
                ));
            }
            if let Some(first) = node.iter().find(|o| o.rtype() == r.rtype()) {
                r.ttl = first.ttl;
            }
            node.push(r);
            len += 1;
        }
        let apex_ns = nodes
            .get(&origin)
            .is_some_and(|n| n.iter().any(|r| r.rtype() == RecordType::Ns));
        if !apex_ns {
            return Err(fail(
                Some(soa_line),
                format!("no NS record at the apex {origin} (RFC 1035 §5.2)"),
            ));
        }
        let mut names = HashSet::new();
        for owner in nodes.keys() {
            let mut n = Some(owner.clone());
            while let Some(name) = n {
                if !name.is_subdomain_of(&origin) || !names.insert(name.clone()) {
                    break;
                }
                n = name.parent();
            }
        }
        Ok(Zone {
            file: file.to_string(),
            origin,
            soa,
            nodes,
            names,
            len,
        })
    }

    /// The file the zone was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The zone's origin: the owner of its SOA (RFC 1035 §5.2).
    pub fn origin(&self) -> &DnsName {
        &self.origin
    }

    /// The SOA record (RFC 1035 §3.3.13).
    pub fn soa(&self) -> &Record {
        &self.soa
    }

    /// The SOA's SERIAL.
    pub fn serial(&self) -> u32 {
        match self.soa.data {
            RecordData::Soa { serial, .. } => serial,
            _ => 0,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the zone holds no records (never true for a parsed zone,
    /// which has at least its SOA and apex NS).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The records owned by `name` (glue below a zone cut included).
    pub fn records_at(&self, name: &DnsName) -> &[Record] {
        self.nodes.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether `name` exists in the zone: it owns records or lies above a
    /// name that does (an empty non-terminal, RFC 8020 §2).
    pub fn name_exists(&self, name: &DnsName) -> bool {
        self.names.contains(name)
    }

    /// Every record, owners in canonical order (RFC 4034 §6.1), each owner's
    /// records in file order.
    pub fn records(&self) -> impl Iterator<Item = &Record> + '_ {
        self.nodes.values().flatten()
    }
}

/// Parser state carried from entry to entry.
struct Parser<'a> {
    file: &'a str,
    origin: Option<DnsName>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    last_owner: Option<DnsName>,
    records: Vec<(usize, Record)>,
}

impl Parser<'_> {
    fn err(&self, line: usize, message: impl Into<String>) -> ZoneError {
        ZoneError {
            file: self.file.to_string(),
            line: Some(line),
            message: message.into(),
        }
    }

    fn entry(&mut self, entry: &Entry) -> Result<(), ZoneError> {
        let first = &entry.tokens[0];
        if !entry.blank_owner && !first.quoted && first.text.starts_with('$') {
            return self.directive(entry);
        }
        if self.records.len() >= MAX_RECORDS {
            return Err(self.err(entry.line, format!("more than {MAX_RECORDS} records")));
        }
        let mut toks = entry.tokens.iter().peekable();
        let owner = if entry.blank_owner {
            self.last_owner.clone().ok_or_else(|| {
                self.err(
                    entry.line,
                    "blank owner field but no previous owner to repeat",
                )
            })?
        } else {
            let t = toks
                .next()
                .ok_or_else(|| self.err(entry.line, "empty entry"))?;
            self.name(t)?
        };
        let mut ttl = None;
        let mut class_seen = false;
        while let Some(t) = toks.peek() {
            if t.quoted {
                break;
            }
            if t.text.starts_with(|c: char| c.is_ascii_digit()) {
                if ttl.is_some() {
                    return Err(self.err(t.line, format!("second TTL {:?}", t.text)));
                }
                ttl = Some(self.ttl(t)?);
            } else if t.text.eq_ignore_ascii_case("IN") {
                if class_seen {
                    return Err(self.err(t.line, "class IN given twice"));
                }
                class_seen = true;
            } else if ["CH", "HS", "CS", "NONE", "ANY"]
                .iter()
                .any(|c| t.text.eq_ignore_ascii_case(c))
                || t.text.to_ascii_uppercase().starts_with("CLASS")
            {
                return Err(self.err(
                    t.line,
                    format!("class {:?} is not served (only IN)", t.text),
                ));
            } else {
                break;
            }
            toks.next();
        }
        let type_tok = toks
            .next()
            .ok_or_else(|| self.err(entry.line, format!("no record type for owner {owner}")))?;
        let rtype = parse_type(&type_tok.text)
            .ok_or_else(|| self.err(type_tok.line, format!("unknown or unsupported record type {:?} (supported: A, AAAA, NS, CNAME, MX, SOA, TXT, PTR)", type_tok.text)))?;
        if rtype == RecordType::Soa && self.origin.is_none() {
            // No $ORIGIN yet: the SOA owner becomes the origin.
            self.origin = Some(owner.clone());
        }
        let rest: Vec<&Token> = toks.collect();
        let data = self.rdata(rtype, type_tok, &rest)?;
        let ttl = match (ttl, self.default_ttl, self.last_ttl, &data) {
            (Some(t), ..) => {
                self.last_ttl = Some(t);
                t
            }
            (None, Some(t), ..) | (None, None, Some(t), _) => t,
            (None, None, None, RecordData::Soa { minimum, .. }) => *minimum,
            _ => {
                return Err(self.err(
                    entry.line,
                    "record without TTL and no $TTL before it (add \"$TTL 3600\" at the top)",
                ));
            }
        };
        self.last_owner = Some(owner.clone());
        self.records
            .push((entry.line, Record::new(owner, ttl, data)));
        Ok(())
    }

    fn directive(&mut self, entry: &Entry) -> Result<(), ZoneError> {
        let d = &entry.tokens[0];
        let args = &entry.tokens[1..];
        let one = |what: &str| -> Result<&Token, ZoneError> {
            match args {
                [t] => Ok(t),
                [] => Err(self.err(d.line, format!("{} needs {what}", d.text))),
                [_, extra, ..] => Err(self.err(
                    extra.line,
                    format!("unexpected {:?} after {}", extra.text, d.text),
                )),
            }
        };
        match d.text.to_ascii_uppercase().as_str() {
            "$ORIGIN" => {
                let t = one("a domain name")?;
                let name = self.name(t)?;
                self.origin = Some(name);
            }
            "$TTL" => {
                let t = one("a TTL")?;
                self.default_ttl = Some(self.ttl(t)?);
            }
            "$INCLUDE" => {
                return Err(self.err(
                    d.line,
                    "$INCLUDE is not supported: zones are embedded in the device config",
                ));
            }
            _ => return Err(self.err(d.line, format!("unknown directive {:?}", d.text))),
        }
        Ok(())
    }

    /// A domain name field: `@`, absolute, or relative to the origin.
    fn name(&self, t: &Token) -> Result<DnsName, ZoneError> {
        if t.quoted {
            return Err(self.err(
                t.line,
                format!("a domain name cannot be quoted: \"{}\"", t.text),
            ));
        }
        let need_origin = || {
            self.origin.clone().ok_or_else(|| {
                self.err(
                    t.line,
                    format!("relative name {:?} but no origin yet (add $ORIGIN, or write the SOA owner as an absolute name first)", t.text),
                )
            })
        };
        if t.text == "@" {
            return need_origin();
        }
        let name: DnsName = t
            .text
            .parse()
            .map_err(|e| self.err(t.line, format!("bad domain name {:?}: {e}", t.text)))?;
        if is_absolute(&t.text) {
            return Ok(name);
        }
        let origin = need_origin()?;
        DnsName::from_labels(name.labels().chain(origin.labels())).map_err(|_| {
            self.err(
                t.line,
                format!("{:?} + origin {origin} is longer than 255 octets", t.text),
            )
        })
    }

    fn ttl(&self, t: &Token) -> Result<u32, ZoneError> {
        parse_ttl(&t.text).ok_or_else(|| {
            self.err(
                t.line,
                format!(
                    "bad TTL {:?} (seconds 0..=2147483647, or units like 1h30m)",
                    t.text
                ),
            )
        })
    }

    fn rdata(
        &self,
        rtype: RecordType,
        type_tok: &Token,
        rest: &[&Token],
    ) -> Result<RecordData, ZoneError> {
        let want = |n: usize, fields: &str| -> Result<(), ZoneError> {
            if rest.len() < n {
                return Err(self.err(type_tok.line, format!("{rtype} record needs {fields}")));
            }
            if let Some(extra) = rest.get(n) {
                return Err(self.err(
                    extra.line,
                    format!("unexpected {:?} after the {rtype} data", extra.text),
                ));
            }
            Ok(())
        };
        let plain = |t: &Token| -> Result<(), ZoneError> {
            if t.quoted {
                return Err(self.err(
                    t.line,
                    format!("unexpected quoted string \"{}\" in {rtype} record", t.text),
                ));
            }
            Ok(())
        };
        Ok(match rtype {
            RecordType::A => {
                want(1, "an IPv4 address")?;
                plain(rest[0])?;
                let a: Ipv4Addr = rest[0].text.parse().map_err(|_| {
                    self.err(
                        rest[0].line,
                        format!("bad IPv4 address {:?} in A record", rest[0].text),
                    )
                })?;
                RecordData::A(a)
            }
            RecordType::Aaaa => {
                want(1, "an IPv6 address")?;
                plain(rest[0])?;
                let a: Ipv6Addr = rest[0].text.parse().map_err(|_| {
                    self.err(
                        rest[0].line,
                        format!("bad IPv6 address {:?} in AAAA record", rest[0].text),
                    )
                })?;
                RecordData::Aaaa(a)
            }
            RecordType::Ns => {
                want(1, "a name server name")?;
                RecordData::Ns(self.name(rest[0])?)
            }
            RecordType::Cname => {
                want(1, "a canonical name")?;
                RecordData::Cname(self.name(rest[0])?)
            }
            RecordType::Ptr => {
                want(1, "a domain name")?;
                RecordData::Ptr(self.name(rest[0])?)
            }
            RecordType::Mx => {
                want(2, "a preference and an exchange name")?;
                plain(rest[0])?;
                let preference: u16 = rest[0].text.parse().map_err(|_| {
                    self.err(
                        rest[0].line,
                        format!("bad MX preference {:?} (0..=65535)", rest[0].text),
                    )
                })?;
                RecordData::Mx {
                    preference,
                    exchange: self.name(rest[1])?,
                }
            }
            RecordType::Soa => {
                want(7, "MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM")?;
                for t in &rest[2..] {
                    plain(t)?;
                }
                let serial: u32 = rest[2].text.parse().map_err(|_| {
                    self.err(
                        rest[2].line,
                        format!("bad SOA serial {:?} (0..=4294967295)", rest[2].text),
                    )
                })?;
                RecordData::Soa {
                    mname: self.name(rest[0])?,
                    rname: self.name(rest[1])?,
                    serial,
                    refresh: self.ttl(rest[3])?,
                    retry: self.ttl(rest[4])?,
                    expire: self.ttl(rest[5])?,
                    minimum: self.ttl(rest[6])?,
                }
            }
            RecordType::Txt => {
                if rest.is_empty() {
                    return Err(self.err(type_tok.line, "TXT record needs at least one string"));
                }
                let mut strings = Vec::with_capacity(rest.len());
                for t in rest {
                    let s = unescape(&t.text)
                        .map_err(|m| self.err(t.line, format!("{m} in TXT string {:?}", t.text)))?;
                    if s.len() > 255 {
                        return Err(self.err(
                            t.line,
                            format!("TXT string of {} octets; a character-string holds at most 255 (RFC 1035 §3.3)", s.len()),
                        ));
                    }
                    strings.push(s);
                }
                RecordData::Txt(strings)
            }
            other => {
                return Err(self.err(type_tok.line, format!("unsupported record type {other}")));
            }
        })
    }
}

/// The record types a zone file may hold.
fn parse_type(text: &str) -> Option<RecordType> {
    Some(match text.to_ascii_uppercase().as_str() {
        "A" => RecordType::A,
        "AAAA" => RecordType::Aaaa,
        "NS" => RecordType::Ns,
        "CNAME" => RecordType::Cname,
        "MX" => RecordType::Mx,
        "SOA" => RecordType::Soa,
        "TXT" => RecordType::Txt,
        "PTR" => RecordType::Ptr,
        _ => return None,
    })
}

/// A TTL: decimal seconds, or BIND's units `w d h m s` (any case, summed:
/// `1h30m`), at most [`MAX_TTL`] (RFC 2181 §8).
pub fn parse_ttl(text: &str) -> Option<u32> {
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            if number? > u64::from(MAX_TTL) {
                return None;
            }
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    total = total.checked_add(number.unwrap_or(0))?;
    u32::try_from(total).ok().filter(|&t| t <= MAX_TTL)
}

/// Whether a name's text ends with an unescaped dot (RFC 1035 §5.1).
fn is_absolute(text: &str) -> bool {
    let Some(body) = text.strip_suffix('.') else {
        return false;
    };
    let backslashes = body.bytes().rev().take_while(|&b| b == b'\\').count();
    backslashes % 2 == 0
}

/// Resolves `\X` and `\DDD` escapes (RFC 1035 §5.1) into octets.
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let e = bytes.next().ok_or("dangling '\\'")?;
        if e.is_ascii_digit() {
            let d2 = bytes.next().filter(u8::is_ascii_digit);
            let d3 = bytes.next().filter(u8::is_ascii_digit);
            let (Some(d2), Some(d3)) = (d2, d3) else {
                return Err("\\DDD needs three digits".into());
            };
            let v = u32::from(e - b'0') * 100 + u32::from(d2 - b'0') * 10 + u32::from(d3 - b'0');
            out.push(u8::try_from(v).map_err(|_| "\\DDD above 255".to_string())?);
        } else {
            out.push(e);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
