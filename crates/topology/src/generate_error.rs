//! Why `vnet gen topology --chain/--ring/--grid` refuses its arguments.

/// A generated topology's shape or routing that cannot be built; the
/// message names the option and the value given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// Too few or too many routers for the shape.
    #[error("--{shape} {given}: a {shape} has {min}..={max} routers")]
    Size {
        /// `chain`, `ring` or `grid`.
        shape: &'static str,
        /// The size as given (`70`, `3x3`).
        given: String,
        /// Fewest routers.
        min: usize,
        /// Most routers.
        max: usize,
    },
    /// A grid size that is not `WIDTHxHEIGHT`.
    #[error("--grid {0:?}: expected WIDTHxHEIGHT, e.g. 3x3")]
    GridShape(String),
    /// A routing protocol vnet does not generate.
    #[error("--routing {0:?}: expected rip, ospf or static")]
    Routing(String),
    /// A grid has no single way round for static routes.
    #[error(
        "--grid with --routing static: a grid has many equal paths and no single way round; use rip or ospf"
    )]
    StaticGrid,
}
