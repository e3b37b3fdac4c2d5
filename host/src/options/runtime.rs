//! How the host runs: its logs, the compilation cache, reloading, and the directories mapped
//! into instances. Each a flag and a `host.` key.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};

use super::group::option_group;
use super::values;
use crate::io::io_reason;

option_group! {
    /// Logs, start-up and the guests' files.
    #[command(next_help_heading = "Logs and start-up (each also settable as host.KEY in settings)")]
    pub(crate) struct Runtime in "" {
        /// Log filter: `error`, `warn`, `info` (one access line per request), `debug`, or
        /// per-target directives like `warn,nanohttp::access=info`. [default: RUST_LOG, else
        /// info]
        #[arg(long, value_name = "FILTER")]
        pub(crate) log_level: Option<String> = values::text,

        /// Log line format: `text` or `json`.
        #[arg(long, value_name = "FORMAT", default_value = "text")]
        pub(crate) log_format: LogFormat = LogFormat::parse,

        /// Compile the component on every start; keep nothing on disk (`host.cache: false`).
        #[arg(long = "no-cache", action = clap::ArgAction::SetFalse)]
        pub(crate) cache: bool = values::flag,

        /// Directory for compiled components, so a restart skips compiling.
        /// [default: $XDG_CACHE_HOME/nanohttp or ~/.cache/nanohttp]
        #[arg(long, value_name = "DIR", conflicts_with = "cache")]
        pub(crate) cache_dir: Option<PathBuf> = values::path,

        /// Run the guest's start-up (settings, `app_init`) in every instance, instead of once
        /// at load with each instance made from a snapshot of it (`host.snapshot: false`).
        #[arg(long = "no-snapshot", action = clap::ArgAction::SetFalse)]
        pub(crate) snapshot: bool = values::flag,

        /// Watch the component file and serve each new version as soon as it compiles;
        /// requests in flight finish on the version they started on.
        #[arg(long)]
        pub(crate) reload: bool = values::flag,

        /// Map a host directory, read-only, into every instance at GUEST_PATH (default: the
        /// same path); relative host paths are resolved against `-C`. May be given several
        /// times; these come after the `host.dir` setting's, and a later mapping of the same
        /// GUEST_PATH wins.
        #[arg(long, value_name = "HOST_PATH[::GUEST_PATH]")]
        pub(crate) dir: Vec<DirMapping> = DirMapping::parse,
    }
}

impl Runtime {
    /// The compilation cache's directory, `None` for none (`--no-cache`, or no home).
    pub(crate) fn cache_dir(&self) -> Option<PathBuf> {
        if !self.cache {
            return None;
        }
        self.cache_dir.clone().or_else(default_cache_dir)
    }
}

/// `$XDG_CACHE_HOME/nanohttp`, else `$HOME/.cache/nanohttp`, else no cache.
fn default_cache_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".cache"),
    };
    Some(base.join("nanohttp"))
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(format!("'{text}' is not a log format (text or json)")),
        }
    }
}

/// A host directory preopened read-only in every instance, at a path of the guest's choosing:
/// `--dir HOST_PATH[::GUEST_PATH]`, or an item of `host.dir` in settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirMapping {
    /// The directory on the host (resolved against `-C` once every layer is read).
    pub(crate) host: PathBuf,
    /// Where the guest sees it: `GUEST_PATH`, else `HOST_PATH` as written.
    pub(crate) guest: String,
}

impl DirMapping {
    /// Parses `HOST_PATH[::GUEST_PATH]` (split at the first `::`, as wasmtime's `--dir`).
    /// Existence is checked later, by [`DirMapping::check`], once every source of mappings is
    /// known.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let (host, guest) = text.split_once("::").unwrap_or((text, text));
        if host.is_empty() || guest.is_empty() {
            return Err(format!(
                "'{text}' is not HOST_PATH[::GUEST_PATH] (a path is empty)"
            ));
        }
        Ok(Self {
            host: PathBuf::from(host),
            guest: guest.to_owned(),
        })
    }

    /// The host path must be a directory now, so a typo stops the host before it listens.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        let meta = std::fs::metadata(&self.host).map_err(|e| {
            anyhow!(
                "cannot map directory '{}': {}",
                self.host.display(),
                io_reason(&e)
            )
        })?;
        if !meta.is_dir() {
            bail!(
                "cannot map directory '{}': not a directory",
                self.host.display()
            );
        }
        Ok(())
    }

    /// Keeps the last mapping of each guest path, in order.
    pub(crate) fn dedup(dirs: &mut Vec<DirMapping>) {
        let mut index = 0;
        while index < dirs.len() {
            if dirs[index + 1..]
                .iter()
                .any(|later| later.guest == dirs[index].guest)
            {
                dirs.remove(index);
            } else {
                index += 1;
            }
        }
    }

    pub(crate) fn resolve(&mut self, resolve: impl Fn(&Path) -> PathBuf) {
        self.host = resolve(&self.host);
    }
}
