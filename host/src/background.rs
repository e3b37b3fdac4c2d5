//! A server on its own thread and runtime, for tests.

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;

use crate::{Config, Server};

/// How long a stopping server waits for requests in flight before it drops them. Short: a
/// test's requests are done when it drops the server, and an HTTP/2 client whose runtime is
/// not polled meanwhile never acknowledges the GOAWAY that graceful shutdown waits for.
const GRACE: Duration = Duration::from_secs(1);

/// A [`Server`] running on a background thread with its own tokio runtime, stopped (and the
/// thread joined) on drop. Usable from plain `#[test]`s and from async tests alike.
///
/// Dropping it stops accepting, closes idle connections and waits for requests in flight, but
/// for at most one second. An open HTTP/2 connection whose client cannot answer meanwhile
/// (its runtime is the one blocked in this drop) takes that whole second: close such
/// clients before dropping the server.
///
/// ```no_run
/// # fn example() -> anyhow::Result<()> {
/// use nanohttp_host::{BackgroundServer, Config};
///
/// let config = Config::from_args(["nanohttp", "-b", "127.0.0.1:0", "app.wasm"])?;
/// let server = BackgroundServer::start(config)?;
/// let url = server.url("/tips/2"); // http://127.0.0.1:PORT/tips/2
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BackgroundServer {
    addr: SocketAddr,
    admin: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundServer {
    /// Binds (see [`Server::bind`]) and starts serving; returns once the listener is bound,
    /// so requests can be sent right away.
    ///
    /// # Errors
    /// Every error of [`Server::bind`], or failing to start the thread or runtime.
    pub fn start(config: Config) -> anyhow::Result<BackgroundServer> {
        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name(format!("nanohttp {}", config.target_name()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = bound_tx.send(Err(anyhow::Error::new(error)
                            .context("cannot start the server's tokio runtime")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let server = match Server::bind(config).await {
                        Ok(server) => server,
                        Err(error) => {
                            let _ = bound_tx.send(Err(error));
                            return;
                        }
                    };
                    let _ = bound_tx.send(Ok((server.local_addr(), server.admin_addr())));
                    let mut grace = stopped.clone();
                    let serving = server.serve(stop_requested(stopped));
                    tokio::select! {
                        result = serving => {
                            if let Err(error) = result {
                                tracing::error!("the background server failed: {error:#}");
                            }
                        }
                        () = async {
                            let _ = grace.wait_for(|stop| *stop).await;
                            tokio::time::sleep(GRACE).await;
                        } => tracing::warn!("requests still in flight after {GRACE:?}; dropped"),
                    }
                });
            })
            .context("cannot start the server thread")?;

        let (addr, admin) = bound_rx
            .recv()
            .context("the server thread ended before binding")??;
        Ok(BackgroundServer {
            addr,
            admin,
            stop,
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` followed by `path` (a `/` is added in between if `path` lacks it).
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path}", self.addr)
    }

    /// The admin listener's address, with `--admin-bind`.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn stop_requested(mut stopped: watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = stopped.wait_for(|stop| *stop).await;
}
