//! The messages RIP sends: updates (RFC 2453 §3.10) and answers to
//! requests (§3.9.1), cut into messages of at most 25 entries.

use super::{Rip, RipActions, RipInterface, RipOutput, RipRoute, SplitHorizon};
use std::net::Ipv4Addr;
use vnet_wire::rip::{self, INFINITY, MAX_ENTRIES, RipAuth, RipCommand, RipEntry, RipMessage};

impl Rip {
    /// Sends an update out of every active interface: all routes, or only
    /// the changed ones for a triggered update; clears the change flags.
    pub(super) fn send_updates(&mut self, triggered: bool, actions: &mut RipActions) {
        let interfaces: Vec<RipInterface> = self
            .config
            .interfaces
            .iter()
            .filter(|i| !i.passive && self.is_up(i.port))
            .cloned()
            .collect();
        for iface in &interfaces {
            let entries = self.entries_for(iface.port, |r| !triggered || r.changed);
            if entries.is_empty() {
                continue;
            }
            if triggered {
                self.counters.triggered_out += 1;
            } else {
                self.counters.updates_out += 1;
            }
            emit(iface, rip::MULTICAST, rip::PORT, entries, actions);
        }
        for r in self.routes.values_mut() {
            r.changed = false;
        }
    }

    /// Sends the whole table out of `iface` now (split horizon applied).
    pub(super) fn send_table(&mut self, iface: &RipInterface, actions: &mut RipActions) {
        if iface.passive || !self.is_up(iface.port) {
            return;
        }
        let entries = self.entries_for(iface.port, |_| true);
        emit(iface, rip::MULTICAST, rip::PORT, entries, actions);
    }

    /// The entries for an update out of `port`, with split horizon
    /// (RFC 2453 §3.4.3) applied to routes whose egress is `port`.
    fn entries_for(&self, port: usize, wanted: impl Fn(&RipRoute) -> bool) -> Vec<RipEntry> {
        self.routes
            .values()
            .filter(|r| wanted(r))
            .filter_map(|r| {
                let back = r.port == port;
                let metric = match (back, self.config.split_horizon) {
                    (true, SplitHorizon::Simple) => return None,
                    (true, SplitHorizon::PoisonedReverse) => INFINITY,
                    _ => r.metric,
                };
                Some(RipEntry {
                    family: rip::AFI_INET,
                    tag: 0,
                    address: r.destination.network().address(),
                    mask: r.destination.netmask(),
                    next_hop: Ipv4Addr::UNSPECIFIED,
                    metric,
                })
            })
            .collect()
    }

    /// Answers a request (RFC 2453 §3.9.1): the whole table (with split
    /// horizon when it comes from a router's port 520), or the metric of
    /// each network asked for.
    pub(super) fn answer_request(
        &mut self,
        iface: &RipInterface,
        from: Ipv4Addr,
        from_port: u16,
        request: &RipMessage,
        actions: &mut RipActions,
    ) {
        self.counters.requests_in += 1;
        let whole =
            matches!(request.entries.as_slice(), [e] if e.family == 0 && e.metric == INFINITY);
        let entries = if whole {
            if from_port == rip::PORT {
                self.entries_for(iface.port, |_| true)
            } else {
                self.entries_for(usize::MAX, |_| true)
            }
        } else {
            request
                .entries
                .iter()
                .map(|e| {
                    let metric = e
                        .prefix_len()
                        .and_then(|len| self.routes.get(&(u32::from(e.address), len)))
                        .map_or(INFINITY, |r| r.metric);
                    RipEntry { metric, ..*e }
                })
                .collect()
        };
        if !entries.is_empty() {
            emit(iface, from, from_port, entries, actions);
        }
    }
}

/// Queues `entries` as responses to `to:to_port` out of `iface`, at most
/// 25 entries per message (24 with the authentication entry).
fn emit(
    iface: &RipInterface,
    to: Ipv4Addr,
    to_port: u16,
    entries: Vec<RipEntry>,
    actions: &mut RipActions,
) {
    let auth = iface.password.as_deref().map(RipAuth::simple);
    let per_message = MAX_ENTRIES - usize::from(auth.is_some());
    for chunk in entries.chunks(per_message) {
        let message = RipMessage {
            command: RipCommand::Response,
            version: 2,
            auth,
            entries: chunk.to_vec(),
        };
        actions.send.push(RipOutput {
            port: iface.port,
            to,
            to_port,
            message: message.emit(),
        });
    }
}
