//! The nanohttp runner: serves a `wasi:http` component (built for `wasm32-wasip2`) with
//! wasmtime, over HTTP/1.1 and HTTP/2 (h2c), one fresh instance per request.
//!
//! The binary `nanohttp` is [`run`]. Tests use the library directly:
//!
//! ```no_run
//! # fn example() -> anyhow::Result<()> {
//! use nanohttp_host::{BackgroundServer, Config};
//!
//! let config = Config::from_args(["nanohttp", "-b", "127.0.0.1:0", "-o", "debug=true", "app.wasm"])?;
//! let server = BackgroundServer::start(config)?;
//! // send requests to server.url("/")...
//! # Ok(()) }
//! ```
//!
//! - [`Config`]: command-line arguments, parsed and validated (files read, settings merged).
//! - [`Server`]: [`Server::bind`] loads the component and binds (all start-up errors happen
//!   there), [`Server::serve`] serves until a shutdown future resolves.
//! - [`BackgroundServer`]: a server on its own thread, stopped on drop.
//!
//! # What a guest sees
//! One environment variable, `NANOHTTP_SETTINGS`: the deep merge of every `-c` file (in
//! order), every `*.yml`/`*.yaml` in `-d` directories (sorted by name), and `-o` overrides, as
//! compact JSON text (`{}` when there are none: components parse JSON, not YAML), without the
//! `host:` section, which holds the runner's
//! own options (limits, timeouts, logs; see `nanohttp --help`). No arguments, files or sockets;
//! each line the guest writes to stdout or stderr becomes a log line (target `nanohttp::guest`)
//! prefixed with the request's method and path. Outgoing HTTP requests
//! (`wasi:http/outgoing-handler`) are refused (`HTTP-request-denied`) unless an
//! `--allow-outbound` rule allows the upstream, and then held to the `--outbound-*` limits.
//!
//! # What a request may cost
//! One fresh instance, for at most `--request-timeout` (then `504`), with each linear memory at
//! most `--memory-limit` (a guest that needs more traps: `500`); at most `--max-concurrent`
//! requests at once (beyond: `503` with `Retry-After: 1`, no queue); a body of at most
//! `--max-body-size` (`413`), a head of at most `--max-header-size` and `--max-headers` fields
//! (`431`), sent within `--header-timeout`. At most `--max-connections` connections are open
//! (beyond: accepted and closed at once), and a client that stops reading a response for
//! `--write-timeout` is cut.
//!
//! # Running it in production
//! `--admin-bind` serves `/healthz`, `/readyz` and `/metrics` apart from the application;
//! `--tls-cert`/`--tls-key` serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN), reloaded on SIGHUP.
//! Every response carries `x-request-id` (the incoming `traceparent`'s trace id, or a new one).
//! Metrics are the process's: they count once a server with `--admin-bind` is bound, for every
//! server of the process.

mod access;
mod admin;
mod app;
mod background;
mod cache;
mod commands;
mod config;
mod config_store;
mod conn;
mod demo;
mod io;
mod kv;
mod metrics;
mod options;
mod outbound;
mod server;
mod settings;
mod target;
mod tls;
mod trace;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::ErrorKind;
use tokio::sync::oneshot;

pub use background::BackgroundServer;
pub use config::Config;
pub use server::Server;

/// The `nanohttp` binary: [`main_with_args`] with the process's arguments.
pub fn run() -> ExitCode {
    main_with_args(std::env::args_os())
}

/// The whole command: parses `args` (the first item is the program name), serves until
/// Ctrl+C or SIGTERM, and returns the exit status. `nanohttp new NAME` starts an application
/// of one's own instead, and `nanohttp build` builds its component (see their `--help`).
///
/// Prints `Listening on http://ADDR` to stderr once the listener is bound. Any start-up error
/// is one line, `error: ...`, on stderr, with a non-zero status (2 for bad usage, 1
/// otherwise). After the first signal it stops accepting and waits for requests in flight; a
/// second one exits without waiting.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if let Some(status) = commands::subcommand(&args) {
        return status;
    }
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(error) => return report(&error),
    };
    if let Err(error) = init_logging(&config.host.runtime) {
        return report(&error);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return report(&anyhow::Error::new(error).context("cannot start tokio")),
    };
    match runtime.block_on(serve_until_signalled(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(&error),
    }
}

async fn serve_until_signalled(config: Config) -> anyhow::Result<()> {
    let server = Server::bind(config).await?;
    // Before `Listening on`: whoever reads that line may signal at once, and a signal that
    // comes before its handler is in place would end the process without the graceful stop.
    let mut signals = StopSignals::new()?;
    let scheme = if server.is_tls() { "https" } else { "http" };
    eprintln!("Listening on {scheme}://{}", server.local_addr());
    if let Some(admin) = server.admin_addr() {
        eprintln!("Admin on http://{admin} (/healthz, /readyz, /metrics)");
    }

    let (stop, stopped) = oneshot::channel::<()>();
    let mut serving = tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));
    tokio::select! {
        result = &mut serving => return result?,
        () = signals.next() => {}
    }
    eprintln!("Shutting down: finishing requests in flight (Ctrl+C again to stop now)");
    let _ = stop.send(());
    tokio::select! {
        result = serving => result?,
        () = signals.next() => {
            eprintln!("Stopped without waiting for requests in flight");
            Ok(())
        }
    }
}

/// Ctrl+C (SIGINT) and, on Unix, SIGTERM. On Unix both are handled from [`StopSignals::new`]
/// on: one that arrives while nobody waits in [`StopSignals::next`] is kept for the next wait
/// (elsewhere Ctrl+C is caught only while waiting).
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn new() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use anyhow::Context as _;
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Prints an error as one line (help and version go to stdout whole) and picks the status.
fn report(error: &anyhow::Error) -> ExitCode {
    if let Some(usage) = error.downcast_ref::<clap::Error>() {
        if matches!(
            usage.kind(),
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
        ) {
            let _ = usage.print();
            return ExitCode::SUCCESS;
        }
        // clap's first line is `error: ...`; its usage and tips lines are left to --help.
        let rendered = usage.render().to_string();
        let first = rendered.lines().next().unwrap_or("error: bad arguments");
        eprintln!("{first} (see --help)");
        return ExitCode::from(2);
    }
    let message = format!("{error:#}").replace('\n', " ");
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Log lines go to stderr, as text or JSON; `--log-level` (or `host.log_level`, else
/// `RUST_LOG`, else `info`: an access line per request, guest output, errors) picks them.
fn init_logging(options: &options::Runtime) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let filter = match &options.log_level {
        Some(level) => EnvFilter::try_new(level)
            .map_err(|e| anyhow::anyhow!("invalid log level '{level}': {e}"))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match options.log_format {
        options::LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        options::LogFormat::Json => builder.json().try_init(),
    };
    Ok(())
}
