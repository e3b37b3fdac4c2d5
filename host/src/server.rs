//! The listener, the accept loop and graceful shutdown. HTTP/1.1 (keep-alive) and HTTP/2 over
//! cleartext with prior knowledge share one port: hyper-util's auto builder tells them apart
//! by the connection preface.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::Config;
use crate::config::io_reason;
use crate::loader::{App, ResponseBody};

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
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Compiles and checks the component, then binds the listener (port 0 picks a free
    /// port). Every start-up error happens here, before anything is served: a component that
    /// does not compile, lacks the `wasi:http/incoming-handler` export or needs imports the
    /// host lacks; an address that cannot be bound.
    ///
    /// # Errors
    /// As above, each with context naming the component or the address.
    pub async fn bind(config: Config) -> anyhow::Result<Server> {
        let Config {
            target,
            bind,
            settings,
        } = config;
        // Compiling takes a while; keep it off the async workers.
        let app = tokio::task::spawn_blocking(move || App::load(&target, settings))
            .await
            .context("loading the component panicked")??;
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {}", io_reason(&e)))?;
        let local_addr = listener
            .local_addr()
            .with_context(|| format!("cannot listen on {bind}"))?;
        Ok(Server {
            listener,
            local_addr,
            app: Arc::new(app),
        })
    }

    /// The address actually bound, with the port chosen when 0 was asked for.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets requests in flight finish
    /// (idle keep-alive connections are closed, HTTP/2 clients get a GOAWAY) and returns.
    ///
    /// A guest that traps or fails before responding gets its request a `500 Internal Server
    /// Error`; the server keeps serving.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for fatal listener errors.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // The timer enforces hyper's 30 s limit on reading a request's headers.
        builder.http1().timer(TokioTimer::new());
        builder.http2().timer(TokioTimer::new());
        let graceful = GracefulShutdown::new();
        let host = HeaderValue::from_str(&self.local_addr.to_string())
            .context("the local address is not a valid Host header")?;
        tokio::pin!(shutdown);

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
            // Small writes from a streaming guest go out at once rather than after Nagle's
            // delay; guests buffer when they want bigger segments.
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!("cannot set TCP_NODELAY for {peer}: {error}");
            }
            let app = self.app.clone();
            let host = host.clone();
            let service = service_fn(move |request| {
                let app = app.clone();
                let host = host.clone();
                async move { Ok::<_, Infallible>(respond(&app, request, host).await) }
            });
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!("connection from {peer} ended: {error}");
                }
            });
        }

        drop(self.listener);
        graceful.shutdown().await;
        Ok(())
    }
}

/// One request through the guest; any failure becomes a 500 for this request only.
async fn respond(
    app: &App,
    mut request: hyper::Request<Incoming>,
    host: HeaderValue,
) -> Response<ResponseBody> {
    // wasi:http needs an authority; HTTP/1.0 clients may send neither one nor a Host header.
    if request.uri().authority().is_none() && !request.headers().contains_key(HOST) {
        request.headers_mut().insert(HOST, host);
    }
    let (method, uri) = (request.method().clone(), request.uri().clone());
    match app.handle(request).await {
        Ok(response) => response,
        Err(error) => {
            // `{:#}`: the causes on one line (the wasm backtrace, when there is one, follows).
            tracing::error!("{method} {uri}: {error:#}");
            internal_server_error()
        }
    }
}

fn internal_server_error() -> Response<ResponseBody> {
    let body = Full::new(Bytes::from_static(b"Internal Server Error"))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
