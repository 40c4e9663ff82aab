//! `vnet-timeline`: what reads traces back from vnet's collector and shows
//! them, without the collector itself.
//!
//! * [`model`]: the stored span and the collector's JSON API types
//!   (including the store's counters, [`model::StoreStats`]).
//! * [`client`]: a minimal HTTP/1.1 client for the JSON API; responses are
//!   parsed with [`vnet_wire::http`].
//! * [`timeline`]: the terminal timeline of `vnet trace show` and
//!   `browse --trace`.
//!
//! Hosts (`browse --trace`) and the CLI depend on this crate only; the
//! receiver, store and server stay in `vnet-collector`, which re-exports
//! these modules.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod model;
pub mod timeline;
