//! Bounded device logs. A flood (of refused DNS queries, malformed frames,
//! SYNs) must not turn into a flood of log lines and fill the disk:
//!
//! * **Per-callsite rate limit** ([`RateLimit`]): each log statement may
//!   write at most [`BURST`] lines per [`WINDOW`]; the rest are counted and
//!   reported as one summary line when that statement next logs after its
//!   window (`suppressed 1523 more lines like "refused query" …`).
//! * **Size cap** ([`CappedStderr`]): a process writes at most
//!   `VNET_LOG_MAX_BYTES` (default [`DEFAULT_MAX_BYTES`]) to its log, then
//!   one final line saying so; `vnet up` sends each device's stderr to its
//!   log file, so that bounds the file.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tracing::callsite::Identifier;
use tracing_subscriber::layer::{Context, Filter};

/// Lines one log statement may write per window.
pub const BURST: u32 = 20;
/// The rate limit's window.
pub const WINDOW: Duration = Duration::from_secs(10);
/// Default cap on what one process writes to its log.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;
/// Environment variable overriding [`DEFAULT_MAX_BYTES`].
pub const MAX_BYTES_ENV: &str = "VNET_LOG_MAX_BYTES";

/// What a callsite did in its current window.
struct Slot {
    started: Instant,
    written: u32,
    suppressed: u64,
}

/// The per-callsite decision, sans-IO: `now` is an argument.
#[derive(Default)]
pub struct Limiter {
    slots: HashMap<Identifier, Slot>,
}

/// What to do with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Write it; before it, report this many suppressed lines (if > 0).
    Write {
        /// Lines suppressed in the window that just ended.
        suppressed_before: u64,
    },
    /// Drop it (counted).
    Suppress,
}

impl Limiter {
    /// Decides for an event of callsite `id` at `now`.
    pub fn decide(&mut self, id: Identifier, now: Instant) -> Verdict {
        let slot = self.slots.entry(id).or_insert(Slot {
            started: now,
            written: 0,
            suppressed: 0,
        });
        let mut suppressed_before = 0;
        if now.duration_since(slot.started) >= WINDOW {
            suppressed_before = slot.suppressed;
            *slot = Slot {
                started: now,
                written: 0,
                suppressed: 0,
            };
        }
        if slot.written < BURST {
            slot.written += 1;
            Verdict::Write { suppressed_before }
        } else {
            slot.suppressed += 1;
            Verdict::Suppress
        }
    }
}

/// The rate limit as a `tracing` filter for the log layer (spans exported
/// to a collector are not affected).
#[derive(Default)]
pub struct RateLimit {
    limiter: Mutex<Limiter>,
}

impl<S> Filter<S> for RateLimit {
    fn enabled(&self, _meta: &tracing::Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &tracing::Event<'_>, _cx: &Context<'_, S>) -> bool {
        let meta = event.metadata();
        let verdict = self
            .limiter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .decide(meta.callsite(), Instant::now());
        match verdict {
            Verdict::Suppress => false,
            Verdict::Write { suppressed_before } => {
                if suppressed_before > 0 {
                    let line = format!(
                        "{} WARN {}: suppressed {suppressed_before} more lines from {}:{} in {}s (at most {BURST} per {}s per log statement)\n",
                        humantime_now(),
                        meta.target(),
                        meta.file().unwrap_or("?"),
                        meta.line().unwrap_or(0),
                        WINDOW.as_secs(),
                        WINDOW.as_secs(),
                    );
                    let _ = CappedStderr.write_all(line.as_bytes());
                }
                true
            }
        }
    }
}

/// Seconds since the epoch with milliseconds: the summary line is written
/// outside the formatter, so it carries its own plain timestamp.
fn humantime_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:03}", now.as_secs(), now.subsec_millis())
}

static WRITTEN: AtomicU64 = AtomicU64::new(0);
static CAP_REPORTED: AtomicBool = AtomicBool::new(false);

fn max_bytes() -> u64 {
    static MAX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        std::env::var(MAX_BYTES_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n: &u64| n >= 4096)
            .unwrap_or(DEFAULT_MAX_BYTES)
    })
}

/// Standard error with a cap on the bytes written by this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct CappedStderr;

impl Write for CappedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let before = WRITTEN.fetch_add(buf.len() as u64, Ordering::Relaxed);
        if before + buf.len() as u64 <= max_bytes() {
            return std::io::stderr().write(buf);
        }
        if !CAP_REPORTED.swap(true, Ordering::Relaxed) {
            let _ = writeln!(
                std::io::stderr(),
                "log size cap of {} bytes reached ({MAX_BYTES_ENV}); further lines are dropped",
                max_bytes()
            );
        }
        // Claim success: a full log must never fail the device.
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CappedStderr {
    type Writer = CappedStderr;
    fn make_writer(&'a self) -> Self::Writer {
        CappedStderr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Identifier {
        // Any callsite will do: the metadata of an event in this function.
        struct Cs;
        static CS: Cs = Cs;
        impl tracing::Callsite for Cs {
            fn set_interest(&self, _: tracing::subscriber::Interest) {}
            fn metadata(&self) -> &tracing::Metadata<'_> {
                unimplemented!("not used")
            }
        }
        Identifier(&CS)
    }

    #[test]
    fn a_burst_then_silence_then_one_summary() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..BURST {
            assert_eq!(
                l.decide(id(), t0),
                Verdict::Write {
                    suppressed_before: 0
                },
                "line {i}"
            );
        }
        for _ in 0..1000 {
            assert_eq!(
                l.decide(id(), t0 + Duration::from_secs(1)),
                Verdict::Suppress
            );
        }
        assert_eq!(
            l.decide(id(), t0 + WINDOW),
            Verdict::Write {
                suppressed_before: 1000
            },
            "the next window starts with the summary"
        );
        assert_eq!(
            l.decide(id(), t0 + WINDOW),
            Verdict::Write {
                suppressed_before: 0
            }
        );
    }
}
