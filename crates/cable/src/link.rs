//! Administrative link state, per direction.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which direction of a cable end an operation applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Frames arriving at this end.
    In,
    /// Frames leaving this end.
    Out,
    /// Both.
    #[default]
    Both,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Both => "both",
        })
    }
}

/// A direction that is not `in`, `out` or `both`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("direction must be in, out or both, not {0:?}")]
pub struct BadDirection(pub String);

impl FromStr for Direction {
    type Err = BadDirection;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "in" => Ok(Direction::In),
            "out" => Ok(Direction::Out),
            "both" => Ok(Direction::Both),
            other => Err(BadDirection(other.to_string())),
        }
    }
}

/// Up/down state of both directions of one cable end.
#[derive(Debug)]
pub struct LinkState {
    rx_up: AtomicBool,
    tx_up: AtomicBool,
}

impl Default for LinkState {
    fn default() -> Self {
        LinkState {
            rx_up: AtomicBool::new(true),
            tx_up: AtomicBool::new(true),
        }
    }
}

/// A serializable view of a [`LinkState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStatus {
    /// Inbound direction up.
    pub rx_up: bool,
    /// Outbound direction up.
    pub tx_up: bool,
}

impl LinkState {
    /// Whether frames may arrive.
    pub fn rx_up(&self) -> bool {
        self.rx_up.load(Ordering::Relaxed)
    }

    /// Whether frames may leave.
    pub fn tx_up(&self) -> bool {
        self.tx_up.load(Ordering::Relaxed)
    }

    /// Current state of both directions.
    pub fn status(&self) -> LinkStatus {
        LinkStatus {
            rx_up: self.rx_up(),
            tx_up: self.tx_up(),
        }
    }

    /// Sets the state of `direction`; returns the previous status.
    pub fn set(&self, direction: Direction, up: bool) -> LinkStatus {
        let before = self.status();
        if matches!(direction, Direction::In | Direction::Both) {
            self.rx_up.store(up, Ordering::Relaxed);
        }
        if matches!(direction, Direction::Out | Direction::Both) {
            self.tx_up.store(up, Ordering::Relaxed);
        }
        before
    }
}
