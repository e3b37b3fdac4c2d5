//! The listener, the accept loop and graceful shutdown. HTTP/1.1 (keep-alive) and HTTP/2 over
//! cleartext with prior knowledge share one port: hyper-util's auto builder tells them apart
//! by the connection preface.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderValue, RETRY_AFTER};
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::Config;
use crate::app::{App, Failure, ResponseBody};
use crate::config::HostOptions;
use crate::io::io_reason;

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
    /// `wasi:http/incoming-handler` export or needs imports the host lacks; an address that
    /// cannot be bound.
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
        Ok(Server {
            listener,
            local_addr,
            app: Arc::new(app),
            options,
            watched,
        })
    }

    /// The address actually bound, with the port chosen when 0 was asked for.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets requests in flight finish
    /// for up to the grace period (idle keep-alive connections are closed, HTTP/2 clients get
    /// a GOAWAY) and returns.
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
        // Every connection holds a receiver: `stop` tells them to wind down, and
        // `stop.closed()` resolves once the last one has ended.
        let (stop, stopping) = watch::channel(false);
        let _watcher = self.watched.clone().map(|(name, path)| {
            AbortOnDrop(tokio::spawn(watch_component(self.app.clone(), name, path)))
        });
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
            // Small writes from a streaming guest go out at once rather than after Nagle's
            // delay; guests buffer when they want bigger segments.
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!("cannot set TCP_NODELAY for {peer}: {error}");
            }
            let activity = Arc::new(Activity::new());
            let app = self.app.clone();
            let host = host.clone();
            let requests = activity.clone();
            let service = service_fn(move |request| {
                let app = app.clone();
                let host = host.clone();
                let access = Access::begin(&request, requests.clone());
                async move { Ok::<_, Infallible>(respond(&app, request, host, access).await) }
            });
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            let idle_timeout = options.limits.idle_timeout;
            let mut stopping = stopping.clone();
            tokio::spawn(async move {
                let mut connection = pin!(connection);
                let mut closing = false;
                loop {
                    tokio::select! {
                        result = connection.as_mut() => {
                            if let Err(error) = result {
                                tracing::debug!("connection from {peer} ended: {error}");
                            }
                            break;
                        }
                        _ = stopping.wait_for(|stop| *stop), if !closing => {
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                        () = activity.idle_for(idle_timeout), if !closing => {
                            tracing::debug!("closing the idle connection from {peer}");
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
                drop(stopping);
            });
        }

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

/// One connection's requests in flight and when it was last busy, for `--idle-timeout`.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        }
    }

    fn touch(&self) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// Resolves once no request has been in flight for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let last = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if self.in_flight.load(Ordering::Acquire) > 0 {
                tokio::time::sleep(timeout).await;
                continue;
            }
            let due = last + timeout;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due.into()).await;
        }
    }
}

/// One request, from its head to the end of its response body: counts it in flight on its
/// connection and writes its access-log line (target `nanohttp::access`) when dropped.
struct Access {
    method: Method,
    path: String,
    started: Instant,
    status: Option<StatusCode>,
    bytes: u64,
    /// The response's `Content-Length`, if it has one.
    length: Option<u64>,
    complete: bool,
    activity: Arc<Activity>,
}

impl Access {
    fn begin(request: &hyper::Request<Incoming>, activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        Self {
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            started: Instant::now(),
            status: None,
            bytes: 0,
            length: None,
            complete: false,
            activity,
        }
    }
}

impl Drop for Access {
    fn drop(&mut self) {
        self.activity.touch();
        self.activity.in_flight.fetch_sub(1, Ordering::AcqRel);
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let outcome = match (self.status, self.complete) {
            (None, _) => "no response: the client went away",
            (Some(_), true) => "complete",
            (Some(_), false) => "body cut",
        };
        tracing::info!(
            target: "nanohttp::access",
            method = %self.method,
            path = %self.path,
            status = self.status.map_or(0, |status| status.as_u16()),
            bytes = self.bytes,
            duration_ms = (duration_ms * 1000.0).round() / 1000.0,
            "{outcome}"
        );
    }
}

/// The response body as sent: the guest's (or the host's) body, counted for the access log.
pub(crate) struct Logged {
    inner: ResponseBody,
    access: Access,
}

impl Body for Logged {
    type Data = Bytes;
    type Error = <ResponseBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                this.access.bytes += frame.data_ref().map_or(0, |data| data.len() as u64);
                // hyper stops polling a body that says it has ended, or whose declared length
                // has been sent.
                if this.inner.is_end_stream()
                    || this
                        .access
                        .length
                        .is_some_and(|length| this.access.bytes >= length)
                {
                    this.access.complete = true;
                }
            }
            Poll::Ready(None) => this.access.complete = true,
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// One request through the guest; any failure becomes a 5xx (or a 413) for this request only.
async fn respond(
    app: &App,
    mut request: hyper::Request<Incoming>,
    host: HeaderValue,
    mut access: Access,
) -> Response<Logged> {
    // wasi:http needs an authority; HTTP/1.0 clients may send neither one nor a Host header.
    if request.uri().authority().is_none() && !request.headers().contains_key(HOST) {
        request.headers_mut().insert(HOST, host);
    }
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let response = match app.handle(request).await {
        Ok(response) => response,
        Err(failure) => {
            let status = match &failure {
                Failure::Busy => {
                    tracing::debug!("{method} {uri}: {failure}");
                    StatusCode::SERVICE_UNAVAILABLE
                }
                Failure::BodyTooLarge(_) => {
                    tracing::info!("{method} {uri}: {failure}");
                    StatusCode::PAYLOAD_TOO_LARGE
                }
                Failure::TimedOut(_) => {
                    tracing::error!("{method} {uri}: {failure}");
                    StatusCode::GATEWAY_TIMEOUT
                }
                // `{:#}`: the causes on one line (the wasm backtrace, when there is one,
                // follows).
                Failure::Guest(_) => {
                    tracing::error!("{method} {uri}: {failure}");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            host_response(status)
        }
    };
    access.status = Some(response.status());
    access.length = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse().ok());
    if access.length == Some(0) || method == Method::HEAD {
        access.complete = true;
    }
    response.map(|inner| Logged { inner, access })
}

/// A response from the host itself: the status's reason as plain text; `503` says when to
/// retry.
fn host_response(status: StatusCode) -> Response<ResponseBody> {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = Full::new(Bytes::from(reason))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
