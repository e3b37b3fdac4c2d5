//! Command-line arguments → a validated, plain [`Config`].
//!
//! Everything that can be checked without wasmtime is checked here: files are read, settings
//! layers parsed and merged, the component's bytes sniffed. What needs the engine (compiling,
//! checking the export) happens in [`Server::bind`](crate::Server::bind).

use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use clap::Parser;

use crate::options::{self, DirMapping, HostOptions};
use crate::outbound::OutboundFlags;
use crate::settings::{self, Override};
use crate::{demo, loader};

/// Serve a wasi:http component (a `.wasm` file built for wasm32-wasip2) over HTTP/1.1 and
/// HTTP/2 (h2c), one fresh instance per request.
#[derive(Debug, Parser)]
#[command(name = "nanohttp", version)]
struct Args {
    /// A YAML settings file; may be given several times, later files win.
    #[arg(short = 'c', long = "config-file", value_name = "FILE")]
    config_files: Vec<PathBuf>,

    /// A directory whose `*.yml` and `*.yaml` files are settings, read in file-name order
    /// after every `-c` file; may be given several times.
    #[arg(short = 'd', long = "config-directory", value_name = "DIR")]
    config_directories: Vec<PathBuf>,

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

    /// Resolve relative paths (TARGET, -c, -d) against this directory. The last `-C` wins.
    #[arg(
        short = 'C',
        long = "directory",
        value_name = "DIR",
        overrides_with = "directory"
    )]
    directory: Option<PathBuf>,

    /// Override one setting, after all files; the value is a YAML scalar (`-o debug=true`,
    /// `-o db.port=5432`, `-o name=x`). May be given several times.
    #[arg(short = 'o', long = "option", value_name = "KEY.PATH=VALUE")]
    options: Vec<Override>,

    /// The component to serve: a `.wasm` file exporting wasi:http/incoming-handler@0.2.x,
    /// `demo` for the demo application built into this binary (use `./demo` for a file), or
    /// `:Static` to serve the files of the current directory (or `-C DIR`) and nothing else.
    #[arg(value_name = "TARGET", default_value = "demo")]
    target: PathBuf,

    #[command(flatten)]
    host: HostFlags,
}

/// The host's own options (see `options.rs`): each overrides the same key of the `host:`
/// settings section, which overrides the default.
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = "Limits, logs and start-up (also settable as host.KEY in settings)")]
struct HostFlags {
    /// Time limit for one request's guest, body included; beyond it, `504 Gateway Timeout`
    /// (or, once the response has started, the body is cut). `0`: no limit. [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = options::parse_duration)]
    request_timeout: Option<Duration>,

    /// Largest linear memory of one instance; a guest that needs more fails its request with
    /// `500`. [default: 64MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    memory_limit: Option<usize>,

    /// Requests served at once; beyond it, `503 Service Unavailable` with `Retry-After: 1`
    /// (no queue). [default: 1000]
    #[arg(long, value_name = "N", value_parser = parse_concurrent)]
    max_concurrent: Option<u32>,

    /// Let one instance serve up to N requests, one after another, before it is discarded
    /// (an instance that failed is never reused). Faster, but a guest's global state then
    /// outlives a request: see the README. [default: 1, a fresh instance per request]
    #[arg(long, value_name = "N", value_parser = parse_reuse)]
    reuse: Option<u32>,

    /// Largest request body; larger ones get `413 Content Too Large`. [default: 16MiB]
    #[arg(long, value_name = "SIZE", value_parser = options::parse_size)]
    max_body_size: Option<u64>,

    /// Largest request head (request line and headers, at least 8KiB); beyond it, `431`.
    /// [default: 16KiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_header_size)]
    max_header_size: Option<usize>,

    /// Most header fields in one request; beyond it, `431`. [default: 100]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    max_headers: Option<u16>,

    /// Time a client has to send a request's head, counted from the connection's opening or
    /// the end of the previous response; then the connection is closed. [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    header_timeout: Option<Duration>,

    /// A connection with no request in flight for this long is closed. [default: 60s]
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    idle_timeout: Option<Duration>,

    /// On SIGINT or SIGTERM, how long requests in flight may take to finish. [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = options::parse_duration)]
    grace_period: Option<Duration>,

    /// Log filter: `error`, `warn`, `info` (one access line per request), `debug`, or
    /// per-target directives like `warn,nanohttp::access=info`. [default: RUST_LOG, else info]
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,

    /// Log line format. [default: text]
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,

    /// Directory for compiled components, so a restart skips compiling.
    /// [default: $XDG_CACHE_HOME/nanohttp or ~/.cache/nanohttp]
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,

    /// Compile the component on every start; keep nothing on disk.
    #[arg(long)]
    no_cache: bool,

    /// Watch the component file and serve each new version as soon as it compiles; requests
    /// in flight finish on the version they started on.
    #[arg(long)]
    reload: bool,

    /// Map a host directory, read-only, into every instance at GUEST_PATH (default: the same
    /// path); relative host paths are resolved against `-C`. May be given several times; these
    /// come after the `host.dir` setting's, and a later mapping of the same GUEST_PATH wins.
    #[arg(
        long = "dir",
        value_name = "HOST_PATH[::GUEST_PATH]",
        value_parser = parse_dir
    )]
    dirs: Vec<DirMapping>,

    #[command(flatten)]
    outbound: OutboundFlags,

    /// Key-value store for guests (wasi:keyvalue): `memory:`, `file:PATH` (embedded, durable)
    /// or `redis://HOST:PORT/DB`; relative paths are resolved against `-C`. Also `host.kv.url`.
    /// [default: file:$XDG_DATA_HOME/nanohttp/kv.redb or ~/.local/share/nanohttp/kv.redb]
    #[arg(long, value_name = "URL", value_parser = parse_kv)]
    kv: Option<crate::kv::KvBackend>,
}

/// The syntax only, as for `--dir`.
fn parse_kv(text: &str) -> Result<crate::kv::KvBackend, String> {
    crate::kv::KvBackend::parse(text, |path| path)
}

/// The syntax only: `-C` may come later on the command line, so paths are resolved afterwards.
fn parse_dir(text: &str) -> Result<DirMapping, String> {
    DirMapping::parse(text, |path| path)
}

fn parse_memory(text: &str) -> Result<usize, String> {
    options::memory_limit(options::parse_size(text)?)
}

fn parse_count(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a count"))
}

fn parse_concurrent(text: &str) -> Result<u32, String> {
    options::max_concurrent(parse_count(text)?)
}

fn parse_reuse(text: &str) -> Result<u32, String> {
    options::reuse(parse_count(text)?)
}

fn parse_header_size(text: &str) -> Result<usize, String> {
    options::header_size(options::parse_size(text)?)
}

fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    options::positive_duration(options::parse_duration(text)?)
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

/// The component to serve: where it came from (for messages), its bytes, and the file to
/// watch for `--reload` (`None` for the embedded demo and static file server).
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) wasm: Bytes,
    pub(crate) path: Option<PathBuf>,
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
        let args = Args::try_parse_from(args)?;
        Self::from_parsed(args)
    }

    fn from_parsed(args: Args) -> anyhow::Result<Config> {
        let base = match &args.directory {
            Some(dir) => {
                let meta = std::fs::metadata(dir).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot use directory '{}': {}",
                        dir.display(),
                        io_reason(&e)
                    )
                })?;
                anyhow::ensure!(
                    meta.is_dir(),
                    "cannot use directory '{}': not a directory",
                    dir.display()
                );
                Some(dir.as_path())
            }
            None => None,
        };
        let resolve = |path: &Path| match base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        };

        let serve_static = args.target == Path::new(STATIC_TARGET);
        let target = if serve_static {
            let wasm = demo::STATIC_SERVER.context(
                "the static file server was not embedded in this build; pass a .wasm file",
            )?;
            Target {
                name: STATIC_TARGET.into(),
                wasm: Bytes::from_static(wasm),
                path: None,
            }
        } else if args.target == Path::new("demo") {
            let wasm = demo::COMPONENT
                .context("the demo component was not embedded in this build; pass a .wasm file")?;
            Target {
                name: "demo".into(),
                wasm: Bytes::from_static(wasm),
                path: None,
            }
        } else {
            let name = args.target.display().to_string();
            let path = resolve(&args.target);
            let wasm = std::fs::read(&path).map_err(|e| {
                anyhow::anyhow!("cannot read component '{name}': {}", io_reason(&e))
            })?;
            loader::check_is_component(&wasm)
                .map_err(|why| anyhow::anyhow!("'{name}' is not a WebAssembly component: {why}"))?;
            Target {
                name,
                wasm: wasm.into(),
                path: Some(path),
            }
        };

        let mut merged = settings::empty();
        for file in &args.config_files {
            settings::merge(&mut merged, settings::load_file(&resolve(file), file)?);
        }
        for dir in &args.config_directories {
            for layer in settings::load_directory(&resolve(dir), dir)? {
                settings::merge(&mut merged, layer);
            }
        }
        for option in args.options {
            settings::merge(&mut merged, option.into_layer());
        }

        let mut host = HostOptions::default();
        if serve_static {
            let served = match base {
                Some(base) => base.to_path_buf(),
                None => std::env::current_dir().map_err(|e| {
                    anyhow::anyhow!("cannot use the current directory: {}", io_reason(&e))
                })?,
            };
            host.dirs.push(DirMapping {
                host: served,
                guest: STATIC_ROOT.into(),
            });
        }
        let mut merged = settings::to_yaml_value(merged)?;
        if let Some(section) = options::take_section(&mut merged) {
            let static_dirs = std::mem::take(&mut host.dirs);
            host.apply_section(&section, |path| resolve(&path))?;
            host.dirs.splice(0..0, static_dirs);
        }
        args.host.apply(&mut host, resolve);
        if host.reload && target.path.is_none() {
            anyhow::bail!(
                "--reload needs a component file to watch, not the embedded {}",
                target.name
            );
        }
        dedup_dirs(&mut host.dirs);
        for dir in &host.dirs {
            dir.check()?;
        }

        Ok(Config {
            target,
            bind: args.bind,
            settings: settings::to_json(&merged)?,
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

impl HostFlags {
    /// Flags given on the command line win over the settings and the defaults.
    fn apply(self, host: &mut HostOptions, resolve: impl Fn(&Path) -> PathBuf) {
        if let Some(timeout) = self.request_timeout {
            host.request_timeout = options::optional(timeout);
        }
        if let Some(limit) = self.memory_limit {
            host.memory_limit = limit;
        }
        if let Some(count) = self.max_concurrent {
            host.max_concurrent = count;
        }
        if let Some(count) = self.reuse {
            host.reuse = count;
        }
        if let Some(size) = self.max_body_size {
            host.max_body_size = size;
        }
        if let Some(size) = self.max_header_size {
            host.max_header_size = size;
        }
        if let Some(count) = self.max_headers {
            host.max_headers = usize::from(count);
        }
        if let Some(timeout) = self.header_timeout {
            host.header_timeout = timeout;
        }
        if let Some(timeout) = self.idle_timeout {
            host.idle_timeout = timeout;
        }
        if let Some(grace) = self.grace_period {
            host.grace_period = grace;
        }
        if let Some(level) = self.log_level {
            host.log_level = Some(level);
        }
        if let Some(format) = self.log_format {
            host.log_format = format.parse().unwrap_or_default();
        }
        if let Some(dir) = self.cache_dir {
            host.cache_dir = Some(resolve(&dir));
        }
        if self.no_cache {
            host.cache_dir = None;
        }
        if self.reload {
            host.reload = true;
        }
        if let Some(backend) = self.kv {
            host.kv.backend = backend.resolved(|path| resolve(path));
        }
        host.dirs
            .extend(self.dirs.into_iter().map(|dir| DirMapping {
                host: resolve(&dir.host),
                guest: dir.guest,
            }));
        self.outbound.apply(&mut host.outbound, resolve);
    }
}

/// The target naming the embedded static file server.
const STATIC_TARGET: &str = ":Static";
/// Where `:Static` maps the served directory: the static server's default root.
const STATIC_ROOT: &str = "/site";

/// Keeps the last mapping of each guest path, in order.
fn dedup_dirs(dirs: &mut Vec<DirMapping>) {
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

/// `{HOST:}PORT`: a bare port means loopback; `HOST` is an IP address (IPv6 in brackets) or a
/// name resolved now, the first address found wins.
fn parse_bind(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err("expected PORT or HOST:PORT".into());
    };
    if host.is_empty() {
        return Err("expected PORT or HOST:PORT (the host is empty)".into());
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("'{port}' is not a port number (0-65535)"))?;
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{host}': {}", io_reason(&e)))?
        .next()
        .ok_or_else(|| format!("'{host}' resolves to no address"))
}

/// An I/O error's reason without the `(os error N)` suffix, for one-line messages.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_yaml_ng::Value;

    /// A fresh directory under the system's temp dir, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "nanohttp-config-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
            let path = self.0.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            path.display().to_string()
        }

        fn path(&self, name: &str) -> String {
            self.0.join(name).display().to_string()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The smallest valid component: magic, version 0x0d, layer 1.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";
    const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

    fn parse(args: &[&str]) -> anyhow::Result<Config> {
        Config::from_args(std::iter::once("nanohttp").chain(args.iter().copied()))
    }

    fn error(args: &[&str]) -> String {
        format!("{:#}", parse(args).expect_err("should be refused"))
    }

    fn settings(config: &Config) -> Value {
        serde_yaml_ng::from_str(config.settings_json()).unwrap()
    }

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn bind_table() {
        let cases = [
            ("8080", "127.0.0.1:8080"),
            ("0", "127.0.0.1:0"),
            ("127.0.0.1:9000", "127.0.0.1:9000"),
            ("0.0.0.0:8080", "0.0.0.0:8080"),
            ("[::1]:8080", "[::1]:8080"),
            ("[::]:80", "[::]:80"),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_bind(text), Ok(expected.parse().unwrap()), "-b {text}");
        }
        let resolved = parse_bind("localhost:8080").unwrap();
        assert!(resolved.ip().is_loopback(), "{resolved}");
        assert_eq!(resolved.port(), 8080);
    }

    #[test]
    fn bind_errors() {
        let cases = [
            ("", "expected PORT or HOST:PORT"),
            ("abc", "expected PORT or HOST:PORT"),
            ("70000", "expected PORT or HOST:PORT"),
            (":8080", "expected PORT or HOST:PORT (the host is empty)"),
            ("localhost:http", "'http' is not a port number (0-65535)"),
            ("127.0.0.1:70000", "'70000' is not a port number (0-65535)"),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_bind(text), Err(expected.to_string()), "-b {text}");
        }
    }

    #[test]
    fn defaults() {
        let dir = Scratch::new();
        let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
        let config = parse(&[&wasm]).unwrap();
        assert_eq!(config.bind_addr(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.settings_json(), "{}");
        assert_eq!(config.target_name(), wasm);
        assert_eq!(&config.target.wasm[..], EMPTY_COMPONENT);
    }

    #[test]
    fn layers_merge_in_order_files_then_directories_then_options() {
        let dir = Scratch::new();
        let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
        let first = dir.write(
            "first.yml",
            "debug: false\ndb:\n  host: a\n  port: 1\nname: first\n",
        );
        let second = dir.write("second.yaml", "db:\n  port: 2\n");
        dir.write("conf.d/20-b.yaml", "name: dir-b\nb: 1\n");
        dir.write("conf.d/10-a.yml", "name: dir-a\na: 1\n");
        dir.write("conf.d/30-ignored.txt", "name: ignored\n");
        dir.write("conf.d/nested/40.yml", "name: nested\n");
        let conf_d = dir.path("conf.d");
        // Options come last even when given first; directories come after every file.
        let config = parse(&[
            "-o",
            "db.user=me",
            "-d",
            &conf_d,
            "-c",
            &first,
            "-c",
            &second,
            "-o",
            "debug=true",
            &wasm,
        ])
        .unwrap();
        assert_eq!(
            settings(&config),
            yaml("{debug: true, db: {host: a, port: 2, user: me}, name: dir-b, a: 1, b: 1}")
        );
    }

    #[test]
    fn last_bind_wins() {
        let dir = Scratch::new();
        let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
        let config = parse(&["-b", "8000", "-b", "[::1]:9000", &wasm]).unwrap();
        assert_eq!(config.bind_addr(), "[::1]:9000".parse().unwrap());
    }

    #[test]
    fn directory_option_resolves_relative_paths() {
        let dir = Scratch::new();
        dir.write("app.wasm", EMPTY_COMPONENT);
        dir.write("conf/app.yml", "from: file\n");
        dir.write("conf.d/x.yml", "dir: yes\n");
        let base = dir.path("");
        let config = parse(&[
            "-C",
            &base,
            "-c",
            "conf/app.yml",
            "-d",
            "conf.d",
            "app.wasm",
        ])
        .unwrap();
        assert_eq!(settings(&config), yaml("{from: file, dir: yes}"));
        assert_eq!(config.target_name(), "app.wasm");
    }

    #[test]
    fn bad_arguments() {
        let dir = Scratch::new();
        let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
        let core = dir.write("core.wasm", CORE_MODULE);
        let garbage = dir.write("garbage.wasm", "hello, world");
        let empty = dir.write("empty.wasm", "");
        let future = dir.write("future.wasm", b"\0asm\x0e\0\x01\0");
        let bad_yaml = dir.write("bad.yml", "a: 1\nb: c: d\n");
        let list_yaml = dir.write("list.yml", "- 1\n");
        dir.write("bad.d/x.yml", "key: [unclosed\n");
        let bad_dir = dir.path("bad.d");
        let missing = dir.path("missing.wasm");
        let missing_yml = dir.path("missing.yml");
        let missing_dir = dir.path("missing.d");
        let itself = dir.path("");

        let cases: Vec<(Vec<&str>, String)> = vec![
            (
                vec![&missing],
                format!("cannot read component '{missing}': No such file or directory"),
            ),
            (
                vec![&itself],
                format!("cannot read component '{itself}': Is a directory"),
            ),
            (
                vec![&core],
                format!(
                    "'{core}' is not a WebAssembly component: it is a core WebAssembly module \
                     (build it for wasm32-wasip2, or wrap it with `wasm-tools component new`)"
                ),
            ),
            (
                vec![&garbage],
                format!(
                    "'{garbage}' is not a WebAssembly component: not a WebAssembly binary at all"
                ),
            ),
            (
                vec![&empty],
                format!(
                    "'{empty}' is not a WebAssembly component: not a WebAssembly binary at all"
                ),
            ),
            (
                vec![&future],
                format!(
                    "'{future}' is not a WebAssembly component: unsupported WebAssembly binary \
                     version 0x0e, layer 1"
                ),
            ),
            (
                vec!["-c", &missing_yml, &wasm],
                format!("cannot read settings file '{missing_yml}': No such file or directory"),
            ),
            (
                vec!["-d", &missing_dir, &wasm],
                format!(
                    "cannot read settings directory '{missing_dir}': No such file or directory"
                ),
            ),
            (
                vec!["-c", &list_yaml, &wasm],
                format!(
                    "settings in '{list_yaml}' must be a mapping of keys to values, not a sequence"
                ),
            ),
            (
                vec!["-C", &missing_dir, &wasm],
                format!("cannot use directory '{missing_dir}': No such file or directory"),
            ),
            (
                vec!["-C", &wasm, &wasm],
                format!("cannot use directory '{wasm}': not a directory"),
            ),
        ];
        for (args, expected) in cases {
            assert_eq!(error(&args), expected, "{args:?}");
        }

        let yaml_error = error(&["-c", &bad_yaml, &wasm]);
        assert!(
            yaml_error.starts_with(&format!(
                "invalid YAML in '{bad_yaml}' at line 2 column 5: "
            )),
            "{yaml_error}"
        );
        let dir_error = error(&["-d", &bad_dir, &wasm]);
        assert!(
            dir_error.starts_with(&format!("invalid YAML in '{bad_dir}/x.yml' at line ")),
            "{dir_error}"
        );
    }

    #[test]
    fn clap_errors() {
        let dir = Scratch::new();
        let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
        let cases = [
            (
                vec!["-o", "debug", wasm.as_str()],
                "expected KEY.PATH=VALUE (no '=' found)",
            ),
            (
                vec!["-o", "=1", wasm.as_str()],
                "a key or one of its dotted parts is empty",
            ),
            (
                vec!["-b", "nope", wasm.as_str()],
                "expected PORT or HOST:PORT",
            ),
            (
                vec!["--frobnicate", wasm.as_str()],
                "unexpected argument '--frobnicate'",
            ),
            (vec![wasm.as_str(), wasm.as_str()], "unexpected argument"),
            (vec!["-c"], "a value is required for '--config-file <FILE>'"),
        ];
        for (args, expected) in cases {
            let error = parse(&args).unwrap_err();
            let clap = error.downcast_ref::<clap::Error>().expect("a clap error");
            assert!(clap.to_string().contains(expected), "{args:?}: {clap}");
        }
    }

    #[test]
    fn help_and_version_are_clap_errors_of_their_own_kind() {
        for (flag, kind) in [
            ("--help", clap::error::ErrorKind::DisplayHelp),
            ("-h", clap::error::ErrorKind::DisplayHelp),
            ("--version", clap::error::ErrorKind::DisplayVersion),
            ("-V", clap::error::ErrorKind::DisplayVersion),
        ] {
            let error = parse(&[flag]).unwrap_err();
            assert_eq!(
                error.downcast_ref::<clap::Error>().unwrap().kind(),
                kind,
                "{flag}"
            );
        }
    }

    #[test]
    fn demo_target() {
        match (parse(&["demo"]), demo::COMPONENT) {
            (Ok(config), Some(_)) => assert_eq!(config.target_name(), "demo"),
            (Err(error), None) => assert_eq!(
                format!("{error:#}"),
                "the demo component was not embedded in this build; pass a .wasm file"
            ),
            (result, embedded) => panic!("{result:?} with demo embedded: {}", embedded.is_some()),
        }
        // No target at all means the demo, as the original's default application.
        assert_eq!(parse(&[]).is_ok(), demo::COMPONENT.is_some());
    }

    #[test]
    fn dir_mappings() {
        let dir = Scratch::new();
        let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
        dir.write("public/index.html", "hi");
        dir.write("data/x", "x");
        let base = dir.path("");
        let public = dir.path("public");
        let data = dir.path("data");
        dir.write(
            "host.yml",
            "host: {dir: ['data::/site', 'public::/from-settings']}\n",
        );
        let config = parse(&[
            "--dir",
            "public",
            "-C",
            &base,
            "--dir",
            &format!("{data}::/data"),
            "-c",
            "host.yml",
            "--dir",
            "public::/site",
            &wasm,
        ])
        .unwrap();
        let mapping = |host: &str, guest: &str| DirMapping {
            host: PathBuf::from(host),
            guest: guest.into(),
        };
        // Settings first, then flags; the flag's /site replaces the settings' one.
        assert_eq!(
            config.host.dirs,
            [
                mapping(&public, "/from-settings"),
                mapping(&public, "public"),
                mapping(&data, "/data"),
                mapping(&public, "/site"),
            ]
        );
        // The `host:` section is the runner's: guests never see it.
        assert_eq!(super::tests::settings(&config), yaml("{}"));
    }

    #[test]
    fn dir_errors() {
        let dir = Scratch::new();
        let wasm = dir.write("app.wasm", EMPTY_COMPONENT);
        let missing = dir.path("missing");
        let base = dir.path("");
        let option = format!("host.dir={missing}");
        let cases: Vec<(Vec<&str>, String)> = vec![
            (
                vec!["--dir", &missing, &wasm],
                format!("cannot map directory '{missing}': No such file or directory"),
            ),
            (
                vec!["-C", &base, "--dir", "app.wasm::/app", &wasm],
                format!(
                    "cannot map directory '{}': not a directory",
                    dir.path("app.wasm")
                ),
            ),
            (
                vec!["-o", &option, &wasm],
                format!("cannot map directory '{missing}': No such file or directory"),
            ),
        ];
        for (args, expected) in cases {
            assert_eq!(error(&args), expected, "{args:?}");
        }
        let clap = parse(&["--dir", "::/site", &wasm]).unwrap_err();
        assert!(
            clap.downcast_ref::<clap::Error>()
                .unwrap()
                .to_string()
                .contains("'::/site' is not HOST_PATH[::GUEST_PATH] (a path is empty)"),
            "{clap}"
        );
    }

    #[test]
    fn static_target_maps_the_directory_at_site() {
        let dir = Scratch::new();
        let base = dir.path("");
        match (parse(&["-C", &base, ":Static"]), demo::STATIC_SERVER) {
            (Ok(config), Some(_)) => {
                assert_eq!(config.target_name(), ":Static");
                assert_eq!(
                    config.host.dirs,
                    [DirMapping {
                        host: PathBuf::from(&base),
                        guest: "/site".into(),
                    }]
                );
                let here = parse(&[":Static"]).unwrap();
                assert_eq!(here.host.dirs[0].host, std::env::current_dir().unwrap());
                assert_eq!(
                    error(&[":Static", "--reload"]),
                    "--reload needs a component file to watch, not the embedded :Static"
                );
            }
            (Err(error), None) => assert_eq!(
                format!("{error:#}"),
                "the static file server was not embedded in this build; pass a .wasm file"
            ),
            (result, embedded) => panic!("{result:?} with it embedded: {}", embedded.is_some()),
        }
    }

    #[test]
    fn io_reason_drops_the_os_error_number() {
        let error = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&error), "No such file or directory");
        let custom = std::io::Error::other("plain");
        assert_eq!(io_reason(&custom), "plain");
    }
}
