//! `vnet-sim`: a lab's real device code run as a deterministic simulation
//! on virtual time — `vnet sim` (run a command, print its output, its
//! trace timeline and the event log), `vnet sim --step` (Packet Tracer's
//! simulation mode in the terminal) and `vnet check` (graded labs).
//!
//! * [`world`]: builds the devices of a topology exactly as `vnet up`
//!   renders them, wires them with in-memory cables and runs them on
//!   tokio's paused clock with randomness from one seed.
//! * [`events`]: the event log (every frame on every cable).
//! * [`script`]: timed link cuts and impairments (`--at`).
//! * [`spans`]: the devices' spans in the trace collector's model.
//! * [`check`]: assertions on a run (`vnet check LAB CHECKS`).
//! * [`step`] and [`tui`]: the step-through event list.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod events;
mod nodes;
pub mod script;
pub mod spans;
pub mod step;
pub mod tui;
pub mod world;

pub use world::{Outcome, OutputLine, SimCommand, SimOptions, simulate};
