//! The bridge between the runtime's clock and the stack's notion of time.

use std::time::Duration;
use vnet_stack::time::Instant;

/// Maps tokio time to the sans-IO [`Instant`] (microseconds since the
/// device started), so protocol code never reads a clock itself.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: tokio::time::Instant,
    /// Wall-clock time at `start`, for span timestamps.
    epoch: std::time::SystemTime,
}

/// The wall-clock time of now: real, or the simulation's virtual time
/// for a simulated device.
pub fn wall_now() -> std::time::SystemTime {
    match vnet_telemetry::current_scope() {
        Some(scope) => scope.world.now(),
        None => std::time::SystemTime::now(),
    }
}

impl Clock {
    /// A clock whose zero is now.
    pub fn start() -> Clock {
        Clock {
            start: tokio::time::Instant::now(),
            epoch: wall_now(),
        }
    }

    /// The current stack time.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    /// The wall-clock time of stack time `at` (for trace timestamps).
    pub fn system_time(&self, at: Instant) -> std::time::SystemTime {
        self.epoch + Duration::from_micros(at.total_micros())
    }

    /// The wall-clock time of a stack time given in microseconds.
    pub fn system_time_micros(&self, micros: u64) -> std::time::SystemTime {
        self.epoch + Duration::from_micros(micros)
    }

    /// The tokio instant of stack time `at`.
    pub fn to_tokio(&self, at: Instant) -> tokio::time::Instant {
        self.start + Duration::from_micros(at.total_micros())
    }
}
