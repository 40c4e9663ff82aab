//! A web server's settings: `root` (required), `idle_timeout_secs` and
//! `max_requests_per_connection`. Only web servers take them.

use super::raw::RawDevice;
use super::{Locator, TopologyError};
use crate::device::{DeviceKind, WebConfig};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Reads and checks the web settings of device `field` (`devices.NAME`);
/// the root is made absolute.
pub(super) fn settings(
    loc: &Locator<'_>,
    field: &str,
    kind: DeviceKind,
    raw_dev: &RawDevice,
) -> Result<Option<WebConfig>, TopologyError> {
    if kind != DeviceKind::Web {
        refuse_web_keys(loc, field, raw_dev)?;
    }
    match (&raw_dev.root, kind) {
        (Some(root), DeviceKind::Web) => {
            let mut web = WebConfig {
                root: root_dir(loc, field, root)?,
                port: 80,
                idle_timeout_secs: 15,
                max_requests_per_connection: 100,
                tls_port: 443,
            };
            if let Some(v) = &raw_dev.idle_timeout_secs {
                web.idle_timeout_secs = loc.at_least_one(
                    v,
                    format!("{field}.idle_timeout_secs"),
                    "seconds an idle keep-alive connection stays open",
                )?;
            }
            if let Some(v) = &raw_dev.max_requests_per_connection {
                web.max_requests_per_connection = loc.at_least_one(
                    v,
                    format!("{field}.max_requests_per_connection"),
                    "requests served on one connection before it is closed",
                )?;
            }
            Ok(Some(web))
        }
        (None, DeviceKind::Web) => Err(loc.error(Some(raw_dev.kind.span()), format!("{field}.root"), "missing: a web server needs root = \"www\" (a directory, relative to the topology file)")),
        (Some(root), _) => Err(loc.error(
            Some(root.span()),
            format!("{field}.root"),
            "only web servers (kind = \"web\") take `root`",
        )),
        (None, _) => Ok(None),
    }
}

/// The connection settings on a device that is not a web server are
/// refused, the first one named.
fn refuse_web_keys(
    loc: &Locator<'_>,
    field: &str,
    raw_dev: &RawDevice,
) -> Result<(), TopologyError> {
    let web_only = [
        (
            "idle_timeout_secs",
            raw_dev.idle_timeout_secs.as_ref().map(|v| v.span()),
        ),
        (
            "max_requests_per_connection",
            raw_dev
                .max_requests_per_connection
                .as_ref()
                .map(|v| v.span()),
        ),
    ];
    if let Some((key, Some(span))) = web_only.into_iter().find(|(_, s)| s.is_some()) {
        return Err(loc.error(
            Some(span),
            format!("{field}.{key}"),
            format!("only web servers (kind = \"web\") take `{key}`"),
        ));
    }
    Ok(())
}

/// The document root: a directory, relative to the topology file, made
/// absolute.
fn root_dir(
    loc: &Locator<'_>,
    field: &str,
    root: &Spanned<String>,
) -> Result<PathBuf, TopologyError> {
    let base = loc.file.parent().unwrap_or(Path::new("."));
    let path = base.join(root.get_ref());
    let path = std::fs::canonicalize(&path).map_err(|e| {
        loc.error(
            Some(root.span()),
            format!("{field}.root"),
            format!("cannot open {}: {e}", path.display()),
        )
    })?;
    if !path.is_dir() {
        return Err(loc.error(
            Some(root.span()),
            format!("{field}.root"),
            format!("{} is not a directory", path.display()),
        ));
    }
    Ok(path)
}
