//! `dig +trace`: iterative resolution done by dig itself, as BIND's dig
//! does it. The root's NS set comes from the host's resolver (RD set);
//! then, from one server of each zone (its address from the referral's
//! glue, else looked up through the host's resolver), the name is asked
//! with RD clear, and each response's records are printed, followed by
//!
//! ```text
//! ;; Received 239 bytes from 10.0.3.20#53(a.root-servers.vnet) in 1 ms
//! ```
//!
//! (the server's name without the final dot, as BIND prints it), until an
//! answer, a negative answer or an error; at most
//! [`MAX_TRACE_STEPS`] referrals.

use super::run::{ask, banner, build_query, reason};
use super::{DigRequest, EXIT_NO_REPLY};
use crate::stub::{StubOptions, lookup_a};
use crate::text;
use std::net::Ipv4Addr;
use vnet_runtime::net::NetDevice;
use vnet_runtime::{DeviceHandle, Disconnected, ExecOutput};
use vnet_wire::dns::{DnsMessage, DnsName, Rcode, Record, RecordData, RecordType};

/// Most referrals followed.
pub const MAX_TRACE_STEPS: usize = 16;

/// NS targets of the NS records in `records`.
fn ns_targets(records: &[Record]) -> Vec<DnsName> {
    records
        .iter()
        .filter_map(|r| match &r.data {
            RecordData::Ns(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// An address for one of `names`: from `glue`, else through `resolver`.
async fn pick_server<D: NetDevice>(
    handle: &DeviceHandle<D>,
    resolver: Ipv4Addr,
    names: &[DnsName],
    glue: &[Record],
) -> Option<(DnsName, Ipv4Addr)> {
    for n in names {
        if let Some(a) = glue.iter().find_map(|r| match r.data {
            RecordData::A(a) if &r.name == n => Some(a),
            _ => None,
        }) {
            return Some((n.clone(), a));
        }
    }
    for n in names {
        if let Ok(addrs) = lookup_a(handle, resolver, n, &StubOptions::default()).await
            && let Some(&a) = addrs.first()
        {
            return Some((n.clone(), a));
        }
    }
    None
}

/// Prints the records of a step and where they came from.
async fn print_step(
    out: &ExecOutput,
    records: impl Iterator<Item = &Record>,
    size: usize,
    addr: Ipv4Addr,
    label: &str,
    ms: u128,
) -> Result<(), Disconnected> {
    for r in records {
        out.line(text::record_line(r)).await?;
    }
    out.line(format!(
        ";; Received {size} bytes from {addr}#53({label}) in {ms} ms"
    ))
    .await?;
    out.line("").await
}

/// Runs `dig +trace` with `resolver` as the host's resolver.
pub(super) async fn run<D: NetDevice>(
    handle: &DeviceHandle<D>,
    req: &DigRequest,
    resolver: Ipv4Addr,
    out: &ExecOutput,
    words: &str,
) -> Result<i32, Disconnected> {
    banner(out, words).await?;
    let roots = build_query(req, &DnsName::root(), RecordType::Ns, true);
    let first = match ask(handle, resolver, &roots, req, req.tcp).await {
        Ok(r) => r,
        Err(e) => {
            out.line(format!(
                ";; communications error to {resolver}#53: {}",
                reason(&e)
            ))
            .await?;
            out.line(";; no servers could be reached").await?;
            return Ok(EXIT_NO_REPLY);
        }
    };
    let label = resolver.to_string();
    let ns: Vec<&Record> = first
        .message
        .answers
        .iter()
        .filter(|r| r.rtype() == RecordType::Ns)
        .collect();
    print_step(
        out,
        ns.into_iter(),
        first.size,
        resolver,
        &label,
        first.rtt.as_millis(),
    )
    .await?;
    let mut names = ns_targets(&first.message.answers);
    let mut glue: Vec<Record> = first.message.additionals.clone();
    for _ in 0..MAX_TRACE_STEPS {
        let Some((name, addr)) = pick_server(handle, resolver, &names, &glue).await else {
            out.line(";; no address for any of the name servers")
                .await?;
            return Ok(EXIT_NO_REPLY);
        };
        let query = build_query(req, &req.name, req.qtype, false);
        let mut reply = ask(handle, addr, &query, req, req.tcp).await;
        if let Ok(r) = &reply
            && r.message.header.tc
        {
            reply = ask(handle, addr, &query, req, true).await;
        }
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                out.line(format!(
                    ";; communications error to {addr}#53: {}",
                    reason(&e)
                ))
                .await?;
                names.retain(|n| n != &name);
                if names.is_empty() {
                    return Ok(EXIT_NO_REPLY);
                }
                continue;
            }
        };
        let m: &DnsMessage = &reply.message;
        let shown = m.answers.iter().chain(m.authorities.iter());
        print_step(
            out,
            shown,
            reply.size,
            addr,
            name.to_string().trim_end_matches('.'),
            reply.rtt.as_millis(),
        )
        .await?;
        let next = ns_targets(&m.authorities);
        let done = !m.answers.is_empty() || m.header.aa || m.header.rcode != Rcode::NoError;
        if done || next.is_empty() {
            return Ok(0);
        }
        names = next;
        glue = m.additionals.clone();
    }
    out.line(format!(";; more than {MAX_TRACE_STEPS} referrals"))
        .await?;
    Ok(EXIT_NO_REPLY)
}
