//! The presentation (text) form of records, as master files (RFC 1035 §5.1)
//! and `dig` print them: used by `dig`, `vnet show <dns> cache|zones` and
//! the tests.

use std::fmt::Write as _;
use vnet_wire::dns::{Opcode, Record, RecordData};

/// The RDATA of `data` in master-file form (RFC 1035 §5.1):
///
/// * A / AAAA: the address (`10.0.3.10`, `2001:db8::1`);
/// * NS, CNAME, PTR: the absolute name with its trailing dot;
/// * MX: `PREFERENCE EXCHANGE` (`10 mail.example.com.`);
/// * SOA: `MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM`;
/// * TXT: each character-string in double quotes, `"` and `\` escaped and
///   octets outside printable ASCII as `\DDD`;
/// * anything else: the generic form of RFC 3597 §5 (`\# 3 abcdef`).
pub fn rdata(data: &RecordData) -> String {
    match data {
        RecordData::A(a) => a.to_string(),
        RecordData::Aaaa(a) => a.to_string(),
        RecordData::Ns(n) | RecordData::Cname(n) | RecordData::Ptr(n) => n.to_string(),
        RecordData::Mx {
            preference,
            exchange,
        } => format!("{preference} {exchange}"),
        RecordData::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => format!("{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"),
        RecordData::Txt(strings) => {
            let quoted: Vec<String> = strings.iter().map(|s| quote(s)).collect();
            quoted.join(" ")
        }
        RecordData::Unknown { data, .. } => {
            let mut s = format!("\\# {}", data.len());
            if !data.is_empty() {
                s.push(' ');
                for b in data {
                    let _ = write!(s, "{b:02x}");
                }
            }
            s
        }
    }
}

/// A character-string (RFC 1035 §3.3) in double quotes, escaped as in
/// master files (RFC 1035 §5.1: `\X` and `\DDD`).
pub fn quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &c in s {
        match c {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            _ => {
                let _ = write!(out, "\\{c:03}");
            }
        }
    }
    out.push('"');
    out
}

/// One record as a master-file line with tabs between the fields, the way
/// `dig` prints it: `www.example.com.\t300\tIN\tA\t10.0.3.10`. The owner is
/// padded with tabs to column 24 (dig's layout with 8-column tab stops).
pub fn record_line(r: &Record) -> String {
    let owner = r.name.to_string();
    format!(
        "{owner}{}{}\t{}\t{}\t{}",
        pad_to_24(owner.len()),
        r.ttl,
        r.class,
        r.rtype(),
        rdata(&r.data)
    )
}

/// The tabs that take a field starting at column 0 and `len` characters long
/// to column 24 with 8-column tab stops (at least one tab).
pub fn pad_to_24(len: usize) -> String {
    let tabs = if len >= 24 { 1 } else { 3 - len / 8 };
    "\t".repeat(tabs)
}

/// The OPCODE mnemonic (RFC 1035 §4.1.1, RFC 1996, RFC 2136), as `dig`
/// prints it.
pub fn opcode(op: Opcode) -> String {
    match op {
        Opcode::Query => "QUERY".into(),
        Opcode::Status => "STATUS".into(),
        Opcode::Notify => "NOTIFY".into(),
        Opcode::Update => "UPDATE".into(),
        Opcode::Unknown(v) => format!("RESERVED{v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn n(s: &str) -> vnet_wire::dns::DnsName {
        s.parse().expect("name")
    }

    #[test]
    fn record_lines_like_dig() {
        let r = Record::new(
            n("www.example.com"),
            300,
            RecordData::A(Ipv4Addr::new(10, 0, 3, 10)),
        );
        assert_eq!(record_line(&r), "www.example.com.\t300\tIN\tA\t10.0.3.10");
        let r = Record::new(
            n("example.com"),
            86400,
            RecordData::Mx {
                preference: 10,
                exchange: n("mail.example.com"),
            },
        );
        assert_eq!(
            record_line(&r),
            "example.com.\t\t86400\tIN\tMX\t10 mail.example.com."
        );
        let r = Record::new(n("com"), 1, RecordData::Ns(n("a.gtld")));
        assert_eq!(record_line(&r), "com.\t\t\t1\tIN\tNS\ta.gtld.");
    }

    #[test]
    fn txt_and_unknown() {
        let t = RecordData::Txt(vec![b"hi \"x\"".to_vec(), vec![7, b'\\']]);
        assert_eq!(rdata(&t), r#""hi \"x\"" "\007\\""#);
        let u = RecordData::Unknown {
            rtype: vnet_wire::dns::RecordType::Unknown(99),
            data: vec![0xab, 0x01],
        };
        assert_eq!(rdata(&u), "\\# 2 ab01");
    }
}
