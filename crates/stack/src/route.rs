//! The IPv4 routing table: longest prefix match (RFC 1812 §5.2.4.3).

use std::net::Ipv4Addr;
use vnet_wire::ip::Ipv4Cidr;

/// How a route came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// The network of an interface address (RFC 1812 §5.2.4.1 "directly connected").
    Connected,
    /// Configured by the operator.
    Static,
    /// Learned by RIP (RFC 2453); never replaces a connected or static
    /// route (administrative distance 120 against 0 and 1).
    Rip,
    /// Computed by OSPF (RFC 2328 §16); distance 110, so it outranks RIP.
    Ospf,
}

impl RouteKind {
    /// The administrative distance: how much a route of this kind is
    /// trusted against another kind for the same destination (lower wins).
    /// The values are the ones Cisco IOS and FRR use: connected 0, static 1,
    /// RIP 120.
    pub fn distance(self) -> u8 {
        match self {
            RouteKind::Connected => 0,
            RouteKind::Static => 1,
            RouteKind::Rip => 120,
            RouteKind::Ospf => 110,
        }
    }

    /// The name `vnet show DEVICE routes` gives it.
    pub fn name(self) -> &'static str {
        match self {
            RouteKind::Connected => "connected",
            RouteKind::Static => "static",
            RouteKind::Rip => "rip",
            RouteKind::Ospf => "ospf",
        }
    }
}

/// One entry of the routing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The destination network, in network form (host bits zero).
    pub destination: Ipv4Cidr,
    /// The gateway; `None` for a directly connected network, where the
    /// destination address itself is the next hop.
    pub via: Option<Ipv4Addr>,
    /// The egress interface index.
    pub port: usize,
    /// Connected or static.
    pub kind: RouteKind,
}

impl Route {
    /// The next hop for `dst` when this route is used: the gateway, or the
    /// destination itself on a connected network.
    pub fn next_hop(&self, dst: Ipv4Addr) -> Ipv4Addr {
        self.via.unwrap_or(dst)
    }
}

/// A routing table with longest-prefix-match lookup.
///
/// RFC 1812 §5.2.4.3 ("Basic Match" then "Longest Match"): among the routes
/// whose destination contains the address, the one with the longest prefix
/// wins. Routes are kept sorted by prefix length, longest first (ties by
/// network address), so a lookup is the first match of a linear scan;
/// tables in vnet hold tens of routes.
#[derive(Debug, Clone, Default)]
pub struct RoutingTable {
    routes: Vec<Route>,
}

/// Returns the network form of `cidr` (host bits cleared).
fn normalize(cidr: Ipv4Cidr) -> Ipv4Cidr {
    cidr.network()
}

impl RoutingTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `route`, replacing any route to the same destination network.
    /// The destination is stored in network form.
    pub fn add(&mut self, mut route: Route) {
        route.destination = normalize(route.destination);
        self.routes.retain(|r| r.destination != route.destination);
        let key = |r: &Route| {
            (
                core::cmp::Reverse(r.destination.prefix_len()),
                u32::from(r.destination.address()),
            )
        };
        let at = self.routes.partition_point(|r| key(r) < key(&route));
        self.routes.insert(at, route);
    }

    /// Removes the route to `destination` (any host bits are ignored);
    /// returns it if there was one.
    pub fn remove(&mut self, destination: Ipv4Cidr) -> Option<Route> {
        let destination = normalize(destination);
        let at = self
            .routes
            .iter()
            .position(|r| r.destination == destination)?;
        Some(self.routes.remove(at))
    }

    /// Removes every route that satisfies `pred`.
    pub fn remove_where(&mut self, pred: impl FnMut(&Route) -> bool) {
        let mut pred = pred;
        self.routes.retain(|r| !pred(r));
    }

    /// The route to `addr` with the longest matching prefix (RFC 1812 §5.2.4.3).
    pub fn lookup(&self, addr: Ipv4Addr) -> Option<&Route> {
        self.routes.iter().find(|r| r.destination.contains(addr))
    }

    /// All routes, longest prefix first.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().unwrap()
    }

    fn route(dst: &str, via: Option<[u8; 4]>, port: usize) -> Route {
        Route {
            destination: cidr(dst),
            via: via.map(Ipv4Addr::from),
            port,
            kind: if via.is_some() {
                RouteKind::Static
            } else {
                RouteKind::Connected
            },
        }
    }

    #[test]
    fn longest_prefix_wins() {
        let mut t = RoutingTable::new();
        t.add(route("0.0.0.0/0", Some([10, 0, 0, 254]), 0));
        t.add(route("10.0.0.0/8", Some([10, 0, 0, 2]), 1));
        t.add(route("10.1.0.0/16", Some([10, 0, 0, 3]), 2));
        t.add(route("10.1.2.0/24", None, 3));
        let port = |a: [u8; 4]| t.lookup(Ipv4Addr::from(a)).map(|r| r.port);
        assert_eq!(port([10, 1, 2, 3]), Some(3));
        assert_eq!(port([10, 1, 3, 3]), Some(2));
        assert_eq!(port([10, 2, 3, 3]), Some(1));
        assert_eq!(port([192, 168, 1, 1]), Some(0));
        let lens: Vec<u8> = t
            .routes()
            .iter()
            .map(|r| r.destination.prefix_len())
            .collect();
        assert_eq!(lens, vec![24, 16, 8, 0]);
    }

    #[test]
    fn no_default_no_match() {
        let mut t = RoutingTable::new();
        t.add(route("10.0.0.0/24", None, 0));
        assert!(t.lookup(Ipv4Addr::new(10, 0, 1, 1)).is_none());
        assert_eq!(
            t.lookup(Ipv4Addr::new(10, 0, 0, 9))
                .unwrap()
                .next_hop(Ipv4Addr::new(10, 0, 0, 9)),
            Ipv4Addr::new(10, 0, 0, 9)
        );
    }

    #[test]
    fn add_replaces_and_normalizes() {
        let mut t = RoutingTable::new();
        t.add(route("10.0.0.7/24", None, 0));
        assert_eq!(t.routes()[0].destination, cidr("10.0.0.0/24"));
        t.add(route("10.0.0.0/24", Some([1, 1, 1, 1]), 4));
        assert_eq!(t.len(), 1);
        assert_eq!(t.routes()[0].port, 4);
        assert!(t.remove(cidr("10.0.0.99/24")).is_some());
        assert!(t.is_empty());
        assert!(t.remove(cidr("10.0.0.0/24")).is_none());
    }
}
