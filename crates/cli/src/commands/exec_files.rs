//! Files that `vnet exec` brings back from a device (`fetch -o FILE`,
//! `browse -o DIR`): the device never writes them; the CLI writes them as
//! the calling user, and only where the user's own command line said. A
//! name the device sends is accepted only if it is exactly the `fetch -o`
//! path, or lies inside the `browse -o` directory with nothing but plain
//! components after it (no `..`, no root, no prefix): nothing from the
//! network decides where a file is written.

use anyhow::{Context, bail};
use std::path::{Component, Path, PathBuf};

/// Where returned files may go, from the application's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileTarget {
    /// `fetch -o FILE`: that file only.
    Exact(PathBuf),
    /// `browse -o DIR`: files under that directory.
    Under(PathBuf),
}

/// The `-o`/`--output` value of `fetch` or `browse` in `argv` (the app
/// first), if any.
pub fn target(argv: &[String]) -> Option<FileTarget> {
    let app = argv.first()?.as_str();
    let mut value = None;
    let mut args = argv.iter().skip(1);
    while let Some(a) = args.next() {
        if a == "-o" || a == "--output" {
            value = args.next().cloned();
        } else if let Some(v) = a.strip_prefix("--output=") {
            value = Some(v.to_string());
        } else if let Some(v) = a.strip_prefix("-o").filter(|v| !v.is_empty()) {
            value = Some(v.to_string());
        }
    }
    let path = PathBuf::from(value?);
    match app {
        "fetch" => Some(FileTarget::Exact(path)),
        "browse" => Some(FileTarget::Under(path)),
        _ => None,
    }
}

/// The local path for a file the device named `name`, or why not.
pub fn resolve(target: Option<&FileTarget>, name: &str) -> anyhow::Result<PathBuf> {
    let name = Path::new(name);
    match target {
        None => bail!(
            "the device sent a file ({}) that this command did not ask for; not written",
            name.display()
        ),
        Some(FileTarget::Exact(path)) if path == name => Ok(path.clone()),
        Some(FileTarget::Exact(path)) => bail!(
            "the device sent {} but -o names {}; not written",
            name.display(),
            path.display()
        ),
        Some(FileTarget::Under(dir)) => {
            let rest = name.strip_prefix(dir).ok().filter(|r| {
                !r.as_os_str().is_empty()
                    && r.components().all(|c| matches!(c, Component::Normal(_)))
            });
            match rest {
                Some(rest) => Ok(dir.join(rest)),
                None => bail!(
                    "{} is not inside {}; not written",
                    name.display(),
                    dir.display()
                ),
            }
        }
    }
}

/// Writes one returned file.
pub fn write(target: Option<&FileTarget>, name: &str, data_b64: &str) -> anyhow::Result<PathBuf> {
    use base64::Engine as _;
    let path = resolve(target, name)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data_b64)
        .with_context(|| format!("{name}: the device sent malformed file data"))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn targets_come_from_the_users_command_line() {
        assert_eq!(
            target(&argv("fetch http://h/ -o out.bin")),
            Some(FileTarget::Exact("out.bin".into()))
        );
        assert_eq!(
            target(&argv("fetch http://h/ --output=x")),
            Some(FileTarget::Exact("x".into()))
        );
        assert_eq!(
            target(&argv("browse http://h/ -osite")),
            Some(FileTarget::Under("site".into()))
        );
        assert_eq!(target(&argv("fetch http://h/")), None);
        assert_eq!(target(&argv("ping -o x")), None, "other apps send no files");
    }

    #[test]
    fn nothing_from_the_device_escapes_the_target() {
        let dir = FileTarget::Under("/tmp/site".into());
        assert_eq!(
            resolve(Some(&dir), "/tmp/site/img/a.png").unwrap(),
            PathBuf::from("/tmp/site/img/a.png")
        );
        for bad in [
            "/tmp/site/../etc/passwd",
            "/etc/passwd",
            "/tmp/site",
            "/tmp/sitex/a",
            "relative/a",
        ] {
            assert!(resolve(Some(&dir), bad).is_err(), "{bad}");
        }
        let exact = FileTarget::Exact("out.bin".into());
        assert!(resolve(Some(&exact), "out.bin").is_ok());
        assert!(resolve(Some(&exact), "/root/.bashrc").is_err());
        assert!(resolve(None, "out.bin").is_err(), "a file nobody asked for");
    }
}
