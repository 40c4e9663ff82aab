//! Progress bars for long work (`vnet exec … tcp send`), drawn with
//! indicatif only when stdout is a terminal: pipes, files and tests get
//! exactly the application's lines.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar shown on demand, or nothing when stdout is not a terminal.
pub struct Bar {
    enabled: bool,
    bar: Option<ProgressBar>,
}

impl Bar {
    /// A bar that draws only if stdout is a terminal.
    pub fn for_stdout() -> Bar {
        Bar {
            enabled: std::io::stdout().is_terminal(),
            bar: None,
        }
    }

    /// Shows `done` of `total` bytes (a spinner with the rate when the
    /// total is unknown).
    pub fn update(&mut self, done: u64, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let (bar, template) = match total {
                Some(t) => (
                    ProgressBar::new(t),
                    "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
                ),
                None => (
                    ProgressBar::no_length(),
                    "{spinner} {bytes} {binary_bytes_per_sec}",
                ),
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            // Start from where the transfer is, so the first rate is real.
            bar.with_position(done)
        });
        bar.set_position(done);
    }

    /// Runs `print` with the bar out of the way (it is redrawn after).
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Removes the bar (the application's summary line says the rest).
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Where a long benchmark is: a spinner with `[step/steps] what (elapsed)`,
/// drawn only when stdout is a terminal. Lines printed through
/// [`Steps::println`] appear above it (and plainly in pipes).
pub struct Steps {
    bar: Option<ProgressBar>,
}

impl Steps {
    /// Steps of a run of `total` measurements.
    pub fn for_stdout(total: u64) -> Steps {
        if !std::io::stdout().is_terminal() {
            return Steps { bar: None };
        }
        let bar = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Steps { bar: Some(bar) }
    }

    /// Starts the next step.
    pub fn start(&self, what: String) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(what);
        }
    }

    /// Prints `line` above the spinner.
    pub fn println(&self, line: impl std::fmt::Display) {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
