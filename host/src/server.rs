//! The listener, the accept loop and graceful shutdown; the admin listener and the SIGHUP
//! reload of TLS alongside. Each connection is `conn.rs`'s.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use http::header::HeaderValue;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::Config;
use crate::admin::{Admin, Readiness};
use crate::app::App;
use crate::config::HostOptions;
use crate::conn::{Connections, Slot};
use crate::io::io_reason;
use crate::metrics;
use crate::tls::Tls;

/// How often `--reload` looks at the component file.
const RELOAD_POLL: Duration = Duration::from_millis(500);

/// A component loaded and a listener bound, not yet serving.
///
/// ```no_run
/// # async fn example() -> anyhow::Result<()> {
/// let config = nanohttp_host::Config::from_args(["nanohttp", "-b", "0", "app.wasm"])?;
/// let server = nanohttp_host::Server::bind(config).await?;
/// println!("http://{}", server.local_addr());
/// server.serve(async { tokio::signal::ctrl_c().await.unwrap() }).await
/// # }
/// ```
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    app: Arc<App>,
    options: HostOptions,
    /// The component file, watched with `--reload`.
    watched: Option<(String, PathBuf)>,
    admin: Option<Admin>,
    tls: Option<Arc<Tls>>,
    /// SIGHUP, registered at bind time (with TLS) so that one sent once `Listening` is
    /// printed reloads rather than ends the process.
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Compiles and checks the component (or loads it from the cache), then binds the
    /// listener (port 0 picks a free port). Every start-up error happens here, before
    /// anything is served: a component that does not compile, lacks the
    /// `wasi:http/incoming-handler` export or needs imports the host lacks; a TLS pair that
    /// cannot be read, does not match or is not valid now; an address (the application's or
    /// `--admin-bind`'s) that cannot be bound.
    ///
    /// # Errors
    /// As above, each with context naming the component or the address.
    pub async fn bind(config: Config) -> anyhow::Result<Server> {
        let Config {
            target,
            bind,
            settings,
            host: options,
        } = config;
        let watched = match (&target.path, options.runtime.reload) {
            (Some(path), true) => Some((target.name.clone(), path.clone())),
            _ => None,
        };
        let tls = match options.serving.tls_files()? {
            Some((cert, key)) => Some(Arc::new(Tls::load(&cert, &key)?)),
            None => None,
        };
        if options.serving.admin_bind.is_some() {
            // Before loading, so that the compilation cache's answer is counted.
            metrics::enable();
        }
        // Compiling takes a while; keep it off the async workers.
        let load_options = options.clone();
        let app = tokio::task::spawn_blocking(move || App::load(&target, settings, &load_options))
            .await
            .context("loading the component panicked")??;
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {}", io_reason(&e)))?;
        let local_addr = listener
            .local_addr()
            .with_context(|| format!("cannot listen on {bind}"))?;
        let admin = match options.serving.admin_bind {
            Some(addr) => Some(Admin::bind(addr).await?),
            None => None,
        };
        #[cfg(unix)]
        let hangup = match &tls {
            Some(_) => Some(
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                    .context("cannot handle SIGHUP")?,
            ),
            None => None,
        };
        Ok(Server {
            listener,
            local_addr,
            app: Arc::new(app),
            options,
            watched,
            admin,
            tls,
            #[cfg(unix)]
            hangup,
        })
    }

    /// Whether the listener speaks HTTPS (`--tls-cert`).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The admin listener's address (`--admin-bind`), with the port chosen when 0 was asked
    /// for.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(Admin::local_addr)
    }

    /// The address actually bound, with the port chosen when 0 was asked for.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets requests in flight finish
    /// for up to the grace period (idle keep-alive connections are closed, HTTP/2 clients get
    /// a GOAWAY) and returns. The admin listener, if any, answers throughout, its `/readyz`
    /// with `503` from the moment `shutdown` resolves.
    ///
    /// A guest that traps or fails before responding gets its request a `500 Internal Server
    /// Error`, one that runs out of time a `504 Gateway Timeout`; the server keeps serving.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for fatal listener errors.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let options = &self.options;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(options.limits.header_timeout)
            // hyper answers 431 when the head does not fit its read buffer.
            .max_buf_size(options.limits.max_header_size)
            .max_headers(options.limits.max_headers as usize);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(options.limits.max_header_size).unwrap_or(u32::MAX))
            .max_concurrent_streams(Some(100));
        let host = HeaderValue::from_str(&self.local_addr.to_string())
            .context("the local address is not a valid Host header")?;
        let connections = Arc::new(Connections {
            builder,
            app: self.app.clone(),
            host,
            idle_timeout: options.limits.idle_timeout,
            header_timeout: options.limits.header_timeout,
            write_timeout: options.serving.write_timeout,
            tls: self.tls.clone(),
        });
        let slots = Arc::new(Semaphore::new(options.serving.connection_limit()));
        // Every connection holds a receiver: `stop` tells them to wind down, and
        // `stop.closed()` resolves once the last one has ended.
        let (stop, stopping) = watch::channel(false);
        let _watcher = self.watched.clone().map(|(name, path)| {
            AbortOnDrop(tokio::spawn(watch_component(self.app.clone(), name, path)))
        });
        let readiness = Arc::new(Readiness::default());
        let _admin = self.admin.map(|admin| {
            AbortOnDrop(tokio::spawn(
                admin.serve(readiness.clone(), metrics::enable()),
            ))
        });
        #[cfg(unix)]
        let _hangup = match (self.hangup, &self.tls) {
            (Some(hangup), Some(tls)) => Some(AbortOnDrop(tokio::spawn(reload_tls_on_hangup(
                hangup,
                tls.clone(),
            )))),
            _ => None,
        };
        let mut shutdown = pin!(shutdown);

        loop {
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors or a connection reset before accept:
                        // back off briefly instead of spinning, keep serving.
                        tracing::warn!("cannot accept a connection: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            // Past --max-connections: accepted and closed at once, so the client learns now
            // (rather than waiting in the kernel's backlog) and the backlog stays short.
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                if let Some(metrics) = metrics::get() {
                    metrics.connection_refused();
                }
                tracing::debug!("refused the connection from {peer}: --max-connections open");
                drop(stream);
                continue;
            };
            // Small writes from a streaming guest go out at once rather than after Nagle's
            // delay; guests buffer when they want bigger segments.
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!("cannot set TCP_NODELAY for {peer}: {error}");
            }
            connections.spawn(stream, peer, Slot::new(permit), stopping.clone());
        }

        // Balancers polling /readyz stop sending from now on.
        readiness.drain();
        drop(self.listener);
        drop(stopping);
        let _ = stop.send(true);
        let grace = options.limits.grace_period;
        if tokio::time::timeout(grace, stop.closed()).await.is_err() {
            tracing::warn!("requests still in flight after the grace period ({grace:?}); dropped");
        }
        Ok(())
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// SIGHUP: reads the TLS pair again; a pair that fails the start-up checks is logged and the
/// previous one stays.
#[cfg(unix)]
async fn reload_tls_on_hangup(mut hangup: tokio::signal::unix::Signal, tls: Arc<Tls>) {
    while hangup.recv().await.is_some() {
        match tls.reload() {
            Ok(()) => tracing::info!("reloaded the TLS certificate and key"),
            Err(error) => tracing::error!(
                "cannot reload the TLS certificate, still presenting the previous one: {error:#}"
            ),
        }
    }
}

/// `--reload`: polls the component file; when its modification time or size changes (and then
/// holds still), compiles the new version and serves it. Requests in flight finish on the
/// version they started on; a version that does not load is logged and the previous one stays.
async fn watch_component(app: Arc<App>, name: String, path: PathBuf) {
    let stamp = |path: &PathBuf| -> Option<(SystemTime, u64)> {
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    };
    let mut seen = stamp(&path);
    loop {
        tokio::time::sleep(RELOAD_POLL).await;
        let now = stamp(&path);
        if now.is_none() || now == seen {
            continue;
        }
        // Still being written? Wait for it to hold still for one more poll.
        tokio::time::sleep(RELOAD_POLL).await;
        if stamp(&path) != now {
            continue;
        }
        seen = now;
        let wasm = match std::fs::read(&path) {
            Ok(wasm) => wasm,
            Err(error) => {
                tracing::error!("cannot reload '{name}': {}", io_reason(&error));
                continue;
            }
        };
        let app = app.clone();
        let reload_name = name.clone();
        let started = Instant::now();
        match tokio::task::spawn_blocking(move || app.reload(&reload_name, &wasm)).await {
            Ok(Ok(())) => tracing::info!("reloaded '{name}' in {:.1?}", started.elapsed()),
            Ok(Err(error)) => tracing::error!(
                "cannot reload '{name}', still serving the previous version: {error:#}"
            ),
            Err(error) => tracing::error!("reloading '{name}' panicked: {error}"),
        }
    }
}
