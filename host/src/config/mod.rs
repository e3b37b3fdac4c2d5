//! Command-line arguments → a validated, plain [`Config`].
//!
//! Everything that can be checked without wasmtime is checked here: files are read, settings
//! layers parsed and merged, the component's bytes sniffed. What needs the engine (compiling,
//! checking the export) happens in [`Server::bind`](crate::Server::bind).

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _, Parser};

use crate::options::DirMapping;
use crate::options::values::bind as parse_bind;
use crate::settings::{Layers, resolve_against};
use crate::target::Target;

mod host;
pub(crate) use host::{HostOptions, take_section};

/// Serve a wasi:http component (a `.wasm` file built for wasm32-wasip2) over HTTP/1.1 and
/// HTTP/2 (h2c), one fresh instance per request.
#[derive(Debug, Parser)]
#[command(
    name = "nanohttp",
    version,
    after_help = "Also: `nanohttp new NAME` starts an application of your own, `nanohttp build` \
                  builds its component, `nanohttp settings` prints the settings guests get \
                  (see their --help)."
)]
struct Args {
    /// Address to listen on. A bare port listens on loopback (127.0.0.1); other interfaces
    /// must be named, e.g. `0.0.0.0:8080` or `[::]:8080`. The last `-b` wins.
    #[arg(
        short = 'b',
        long = "bind",
        value_name = "{HOST:}PORT",
        default_value = "127.0.0.1:8080",
        value_parser = parse_bind,
        overrides_with = "bind"
    )]
    bind: SocketAddr,

    #[command(flatten)]
    layers: Layers,

    /// The component to serve: a `.wasm` file exporting wasi:http/incoming-handler@0.2.x,
    /// `demo` for the demo application built into this binary (use `./demo` for a file; so
    /// too `./new`, `./build` and `./settings`, which are commands of their own), or
    /// `:Static` to serve the files of the current directory (or `-C DIR`) and nothing else.
    #[arg(value_name = "TARGET", default_value = "demo")]
    target: PathBuf,

    #[command(flatten)]
    host: HostOptions,
}

/// A validated server configuration, built from command-line arguments by
/// [`Config::from_args`] and consumed by [`Server::bind`](crate::Server::bind).
///
/// It holds the component's bytes (read, not yet compiled), the address to listen on and the
/// merged settings as the JSON text every instance receives in `NANOHTTP_SETTINGS`.
#[derive(Clone)]
pub struct Config {
    pub(crate) target: Target,
    pub(crate) bind: SocketAddr,
    pub(crate) settings: String,
    pub(crate) host: HostOptions,
}

impl Config {
    /// Parses command-line arguments (the first item is the program name, as in
    /// [`std::env::args_os`]) and validates them: the component file is read and must be a
    /// WebAssembly component, every settings layer is read, parsed and merged.
    ///
    /// `-C DIR` does not change the process's working directory (this function is used
    /// in-process by tests); relative paths are resolved against `DIR` instead, which is the
    /// same thing for everything the host reads.
    ///
    /// `--help` and `--version` come back as a [`clap::Error`] inside the [`anyhow::Error`],
    /// as do all other argument errors; [`main_with_args`](crate::main_with_args) prints them.
    ///
    /// # Errors
    /// Bad arguments, unreadable files, a file that is not a component, invalid YAML, a
    /// malformed `-o`, or `demo` in a build without the demo.
    pub fn from_args<I, T>(args: I) -> anyhow::Result<Config>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = Args::command().try_get_matches_from(args)?;
        let args = Args::from_arg_matches(&matches)?;
        Self::from_parsed(args, &matches)
    }

    fn from_parsed(args: Args, matches: &ArgMatches) -> anyhow::Result<Config> {
        let base = args.layers.base()?;
        let resolve = |path: &Path| resolve_against(base, path);
        let target = Target::select(&args.target, resolve)?;
        let mut merged = args.layers.merged()?;

        let mut host = args.host;
        if let Some(section) = take_section(&mut merged) {
            host.layer_settings(section, matches)?;
        }
        host.resolve_paths(|path| resolve(path));
        let dirs = &mut host.runtime.dir;
        if let Some(served) = target.served_directory(base)? {
            dirs.insert(0, served);
        }
        DirMapping::dedup(dirs);
        for dir in dirs.iter() {
            dir.check()?;
        }
        host.serving.tls_files()?;
        if host.runtime.reload && target.path.is_none() {
            anyhow::bail!(
                "--reload needs a component file to watch, not the embedded {}",
                target.name
            );
        }

        Ok(Config {
            target,
            bind: args.bind,
            settings: merged.to_string(),
            host,
        })
    }

    /// The address the server will listen on (port 0 picks a free port at bind time; see
    /// [`Server::local_addr`](crate::Server::local_addr)).
    pub fn bind_addr(&self) -> SocketAddr {
        self.bind
    }

    /// The merged settings, as the JSON text passed to every instance in `NANOHTTP_SETTINGS`.
    pub fn settings_json(&self) -> &str {
        &self.settings
    }

    /// What is being served: the component's path as given, or `demo`.
    pub fn target_name(&self) -> &str {
        &self.target.name
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("target", &self.target.name)
            .field("component_bytes", &self.target.wasm.len())
            .field("bind", &self.bind)
            .field("settings", &self.settings)
            .field("host", &self.host)
            .finish()
    }
}

#[cfg(test)]
mod tests;
