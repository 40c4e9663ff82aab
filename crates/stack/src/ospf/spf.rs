//! The shortest-path tree of the area and the routes it gives (RFC 2328
//! §16.1), with the next hops of §16.1.1.
//!
//! Stage 1 is Dijkstra over router and transit-network vertices: a link
//! of a Router-LSA (point-to-point or transit) or of a Network-LSA
//! (attached router, cost 0) is used only if the vertex at its far end
//! has an LSA, not at MaxAge, that links back. Stage 2 adds the stub
//! networks of every router in the tree. A pure function of the LSAs and
//! the router's own interfaces, so a hand-built database can be checked
//! against a hand-computed table.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use vnet_wire::ip::Ipv4Cidr;
use vnet_wire::ospf::{LinkType, Lsa, LsaBody, MAX_AGE, NetworkLsa, RouterLink, RouterLsa};

/// One of the router's interfaces, for next hops (§16.1.1): the port and
/// its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment {
    /// The stack's port index.
    pub port: usize,
    /// The interface address and prefix.
    pub address: Ipv4Cidr,
}

/// One way towards a destination: out of `port`, to `via` (`None` for a
/// directly attached network).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NextHop {
    /// The egress port.
    pub port: usize,
    /// The gateway, or `None` when the destination is on the link.
    pub via: Option<Ipv4Addr>,
}

/// A route of the OSPF routing table (§11): an intra-area path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OspfRoute {
    /// The destination network (host bits zero).
    pub destination: Ipv4Cidr,
    /// The cost of the path (sum of the outgoing interface costs).
    pub cost: u32,
    /// The equal-cost next hops, sorted.
    pub next_hops: Vec<NextHop>,
}

impl OspfRoute {
    /// The first next hop through a gateway, as (port, gateway): what the
    /// forwarding table gets. `None` for a directly attached network.
    pub fn gateway(&self) -> Option<(usize, Ipv4Addr)> {
        self.next_hops
            .iter()
            .find_map(|h| h.via.map(|via| (h.port, via)))
    }
}

/// A vertex of the graph (§16.1): networks sort first, so that at equal
/// cost they leave the candidate list before routers (step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Vertex {
    /// A transit network, by its DR's interface address (the LS ID).
    Network(Ipv4Addr),
    /// A router, by router ID.
    Router(Ipv4Addr),
}

/// The usable LSAs (not at MaxAge), by vertex.
struct Graph<'a> {
    routers: BTreeMap<Ipv4Addr, &'a RouterLsa>,
    networks: BTreeMap<Ipv4Addr, Vec<&'a NetworkLsa>>,
}

impl<'a> Graph<'a> {
    fn new(lsas: &'a [Lsa]) -> Graph<'a> {
        let mut g = Graph {
            routers: BTreeMap::new(),
            networks: BTreeMap::new(),
        };
        for lsa in lsas.iter().filter(|l| l.header.age < MAX_AGE) {
            match &lsa.body {
                // §16.1: a Router-LSA's ID is its originator's.
                LsaBody::Router(r) if lsa.header.id == lsa.header.adv_router => {
                    g.routers.insert(lsa.header.id, r);
                }
                LsaBody::Network(n) => g.networks.entry(lsa.header.id).or_default().push(n),
                _ => {}
            }
        }
        g
    }

    /// The Network-LSA of `id` that lists `router` (§16.1 step 2(b)).
    fn network_with(&self, id: Ipv4Addr, router: Ipv4Addr) -> Option<&'a NetworkLsa> {
        self.networks
            .get(&id)?
            .iter()
            .find(|n| n.routers.contains(&router))
            .copied()
    }

    /// Whether `w` has an LSA linking back to `v` (§16.1 step 2(b)).
    fn links_back(&self, w: Vertex, v: Vertex) -> bool {
        match (w, v) {
            (Vertex::Router(w), v) => self.routers.get(&w).is_some_and(|r| {
                r.links.iter().any(|l| match (l.link_type, v) {
                    (LinkType::PointToPoint, Vertex::Router(v)) => l.link_id == v,
                    (LinkType::Transit, Vertex::Network(v)) => l.link_id == v,
                    _ => false,
                })
            }),
            (Vertex::Network(w), Vertex::Router(v)) => self.network_with(w, v).is_some(),
            (Vertex::Network(_), Vertex::Network(_)) => false,
        }
    }

    /// The vertices `v` links to, with the cost and the link.
    fn edges(&self, v: Vertex) -> Vec<(Vertex, u32, Option<&'a RouterLink>)> {
        match v {
            Vertex::Router(id) => self.routers.get(&id).map_or(Vec::new(), |r| {
                r.links
                    .iter()
                    .filter_map(|l| {
                        let w = match l.link_type {
                            LinkType::PointToPoint => Vertex::Router(l.link_id),
                            LinkType::Transit => Vertex::Network(l.link_id),
                            _ => return None,
                        };
                        Some((w, u32::from(l.metric), Some(l)))
                    })
                    .collect()
            }),
            Vertex::Network(id) => {
                // Any instance will do: its routers are checked for links
                // back one by one.
                let Some(n) = self.networks.get(&id).and_then(|v| v.first()) else {
                    return Vec::new();
                };
                n.routers
                    .iter()
                    .map(|r| (Vertex::Router(*r), 0, None))
                    .collect()
            }
        }
    }
}

/// The prefix of a contiguous mask, `None` for a mask with holes.
fn prefix(address: Ipv4Addr, mask: Ipv4Addr) -> Option<Ipv4Cidr> {
    let bits = u32::from(mask);
    let len = bits.leading_ones();
    if bits.checked_shl(len).unwrap_or(0) != 0 {
        return None;
    }
    Ipv4Cidr::new(address, len as u8).ok().map(|c| c.network())
}

/// The routes of `root` given the LSAs of the area and root's own
/// interfaces (RFC 2328 §16.1), by destination.
pub fn shortest_paths(
    root: Ipv4Addr,
    lsas: &[Lsa],
    attached: &[Attachment],
) -> BTreeMap<Ipv4Cidr, OspfRoute> {
    let g = Graph::new(lsas);
    let mut tree: BTreeMap<Vertex, (u32, Vec<NextHop>)> = BTreeMap::new();
    let mut candidates: BTreeMap<Vertex, (u32, Vec<NextHop>)> = BTreeMap::new();
    let mut v = Vertex::Router(root);
    tree.insert(v, (0, Vec::new()));
    if !g.routers.contains_key(&root) {
        return BTreeMap::new();
    }
    loop {
        let (dv, hops_v) = tree.get(&v).cloned().unwrap_or_default();
        for (w, cost, link) in g.edges(v) {
            if tree.contains_key(&w) || !g.links_back(w, v) {
                continue;
            }
            let d = dv.saturating_add(cost);
            let hops = next_hops(&g, root, v, &hops_v, w, link, attached);
            if hops.is_empty() {
                continue;
            }
            match candidates.get_mut(&w) {
                Some((dw, _)) if *dw < d => {}
                Some((dw, hw)) if *dw == d => merge(hw, &hops),
                _ => {
                    candidates.insert(w, (d, hops));
                }
            }
        }
        // Step 3: the nearest candidate joins the tree.
        let Some((&next, _)) = candidates.iter().min_by_key(|(w, (d, _))| (*d, **w)) else {
            break;
        };
        if let Some(entry) = candidates.remove(&next) {
            tree.insert(next, entry);
        }
        v = next;
    }
    routes(&g, root, &tree, attached)
}

/// §16.1.1: the next hops to `w` reached from `v` over `link`.
fn next_hops(
    g: &Graph<'_>,
    root: Ipv4Addr,
    v: Vertex,
    hops_v: &[NextHop],
    w: Vertex,
    link: Option<&RouterLink>,
    attached: &[Attachment],
) -> Vec<NextHop> {
    let by_address = |a: Ipv4Addr| attached.iter().find(|x| x.address.address() == a);
    match v {
        // Directly from the root: the link's data is our address there.
        Vertex::Router(r) if r == root => {
            let Some(local) = link.and_then(|l| by_address(l.link_data)) else {
                return Vec::new();
            };
            match w {
                Vertex::Network(_) => vec![NextHop {
                    port: local.port,
                    via: None,
                }],
                // Point-to-point: the neighbour's address is the data of
                // its link back to us.
                Vertex::Router(w) => g
                    .routers
                    .get(&w)
                    .and_then(|r| {
                        r.links.iter().find(|l| {
                            l.link_type == LinkType::PointToPoint
                                && l.link_id == root
                                && local.address.contains(l.link_data)
                        })
                    })
                    .map_or(Vec::new(), |l| {
                        vec![NextHop {
                            port: local.port,
                            via: Some(l.link_data),
                        }]
                    }),
            }
        }
        // A network the root is attached to: the router's address on it
        // is the data of its transit link to the network.
        Vertex::Network(n) if hops_v.iter().all(|h| h.via.is_none()) => {
            let Vertex::Router(w) = w else {
                return Vec::new();
            };
            let gateway = g.routers.get(&w).and_then(|r| {
                r.links
                    .iter()
                    .find(|l| l.link_type == LinkType::Transit && l.link_id == n)
                    .map(|l| l.link_data)
            });
            let Some(gateway) = gateway else {
                return Vec::new();
            };
            hops_v
                .iter()
                .map(|h| NextHop {
                    port: h.port,
                    via: Some(gateway),
                })
                .collect()
        }
        // Further away: inherited from the parent.
        _ => hops_v.to_vec(),
    }
}

fn merge(into: &mut Vec<NextHop>, more: &[NextHop]) {
    into.extend_from_slice(more);
    into.sort();
    into.dedup();
}

/// Stage 2 (§16.1 steps 4–5 for one area): transit networks of the tree,
/// then every tree router's stub networks.
fn routes(
    g: &Graph<'_>,
    root: Ipv4Addr,
    tree: &BTreeMap<Vertex, (u32, Vec<NextHop>)>,
    attached: &[Attachment],
) -> BTreeMap<Ipv4Cidr, OspfRoute> {
    let mut table: BTreeMap<Ipv4Cidr, OspfRoute> = BTreeMap::new();
    let mut add = |destination: Ipv4Cidr, cost: u32, hops: &[NextHop]| {
        if hops.is_empty() {
            return;
        }
        match table.get_mut(&destination) {
            Some(r) if r.cost < cost => {}
            Some(r) if r.cost == cost => merge(&mut r.next_hops, hops),
            _ => {
                let mut next_hops = hops.to_vec();
                next_hops.sort();
                next_hops.dedup();
                table.insert(
                    destination,
                    OspfRoute {
                        destination,
                        cost,
                        next_hops,
                    },
                );
            }
        }
    };
    for (v, (cost, hops)) in tree {
        match *v {
            Vertex::Network(id) => {
                let n = g.networks.get(&id).and_then(|v| v.first());
                if let Some(p) = n.and_then(|n| prefix(id, n.mask)) {
                    add(p, *cost, hops);
                }
            }
            Vertex::Router(r) => {
                let Some(lsa) = g.routers.get(&r) else {
                    continue;
                };
                for l in lsa.links.iter().filter(|l| l.link_type == LinkType::Stub) {
                    let Some(p) = prefix(l.link_id, l.link_data) else {
                        continue;
                    };
                    let c = cost.saturating_add(u32::from(l.metric));
                    if r == root {
                        // Our own stub networks are on our interfaces.
                        let local = attached.iter().find(|a| {
                            a.address.prefix_len() == p.prefix_len()
                                && p.contains(a.address.address())
                        });
                        if let Some(a) = local {
                            add(
                                p,
                                c,
                                &[NextHop {
                                    port: a.port,
                                    via: None,
                                }],
                            );
                        }
                    } else {
                        add(p, c, hops);
                    }
                }
            }
        }
    }
    table
}
