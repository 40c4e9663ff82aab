//! Applications run with `vnet exec HOST -- APP ARGS…`.

mod browse;
mod httpload;
mod info;
mod names;
mod ping;
pub(crate) mod ss;
mod tcp;
mod tcp_probe;
pub use tcp::{BadByteCount, byte_count};
mod trace;
mod traceroute;

use crate::Host;
use clap::Parser;
use std::time::Duration;
use vnet_runtime::{DeviceHandle, ExecFuture, ExecOutput};

/// Every application, for the unknown-command message.
const APPS: &str = "ping, traceroute, dig, browse, fetch, httpload, tcp, ss, arp, ip";

pub(crate) fn exec(handle: DeviceHandle<Host>, argv: Vec<String>, out: ExecOutput) -> ExecFuture {
    Box::pin(async move {
        let name = argv.first().cloned().unwrap_or_default();
        let result = match name.as_str() {
            "ping" => ping::run(handle, argv, &out).await,
            "traceroute" => traceroute::run(handle, argv, &out).await,
            "arp" => info::arp(handle, argv, &out).await,
            "ip" => info::ip(handle, argv, &out).await,
            "tcp" => tcp::run(handle, argv, &out).await,
            "browse" => browse::run_browse(handle, argv, &out).await,
            "fetch" => browse::run_fetch(handle, argv, &out).await,
            "httpload" => httpload::run(handle, argv, &out).await,
            "dig" => {
                use tracing::Instrument;
                let nameserver = handle.with(|host, _, _| host.nameservers.first().copied());
                let span = vnet_telemetry::app_span!(
                    "dig",
                    proto = "dns",
                    layer = "L7",
                    summary = argv.join(" "),
                );
                vnet_dns::dig::run(&handle, &argv, &out, nameserver)
                    .instrument(span)
                    .await
            }
            "ss" => ss::run(handle, argv, &out).await,
            other => {
                let _ = out
                    .error(format!(
                        "{other}: command not found on this host (available: {APPS})"
                    ))
                    .await;
                return 127;
            }
        };
        result.unwrap_or(130)
    })
}

/// Parses an app's arguments like its Linux namesake; on `--help` or an
/// error prints clap's text and returns the exit code to use.
pub(crate) async fn parse_args<A: Parser>(argv: &[String], out: &ExecOutput) -> Result<A, i32> {
    match A::try_parse_from(argv) {
        Ok(args) => Ok(args),
        Err(e) => {
            let text = e.render().to_string();
            let is_error = e.use_stderr();
            for line in text.lines() {
                let _ = if is_error {
                    out.error(line).await
                } else {
                    out.line(line).await
                };
            }
            Err(if is_error { 2 } else { 0 })
        }
    }
}

/// Parses a `-i`/`-W`-style seconds value.
pub(crate) fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.001..=3600.0).contains(&secs) {
        return Err(format!("{secs} seconds is outside 0.001..=3600"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Formats a round-trip time in milliseconds the way iputils does: three
/// significant digits or so (`0.512`, `12.3`, `123`).
pub(crate) fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{ms:.3}")
    } else if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}
