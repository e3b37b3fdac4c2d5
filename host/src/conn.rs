//! One client connection: its slot under `--max-connections`, the TLS handshake, the write
//! timeout, HTTP/1.1 or HTTP/2 (hyper-util's auto builder tells them apart by the preface),
//! winding down on `--idle-timeout` or shutdown, and each request's way to the guest.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};

use crate::access::{Access, Activity, Logged};
use crate::app::{App, Failure, OverTls, ResponseBody};
use crate::metrics;
use crate::tls::Tls;
use crate::trace::REQUEST_ID;

/// What every connection of a server shares.
pub(crate) struct Connections {
    pub(crate) builder: auto::Builder<TokioExecutor>,
    pub(crate) app: Arc<App>,
    /// The `Host` for requests that name none.
    pub(crate) host: HeaderValue,
    pub(crate) idle_timeout: Duration,
    pub(crate) header_timeout: Duration,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) tls: Option<Arc<Tls>>,
}

/// A connection's place under `--max-connections`, counted open while it lasts.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Slot {
    pub(crate) fn new(permit: OwnedSemaphorePermit) -> Self {
        if let Some(metrics) = metrics::get() {
            metrics.connection_opened();
        }
        Self { _permit: permit }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(metrics) = metrics::get() {
            metrics.connection_closed();
        }
    }
}

impl Connections {
    /// Serves `stream` on a task of its own until it closes, or winds it down when `stopping`
    /// turns true.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        stream: TcpStream,
        peer: SocketAddr,
        slot: Slot,
        mut stopping: watch::Receiver<bool>,
    ) {
        let this = self.clone();
        tokio::spawn(async move {
            // Held until the connection is over.
            let _slot = slot;
            let io = TimedIo::new(stream, this.write_timeout, peer);
            let Some(tls) = &this.tls else {
                return this.serve(TokioIo::new(io), peer, stopping).await;
            };
            // The handshake has `--header-timeout`, and is dropped if the server stops.
            let handshake = tokio::time::timeout(this.header_timeout, tls.acceptor().accept(io));
            let shaken = tokio::select! {
                shaken = handshake => shaken,
                _ = stopping.wait_for(|stop| *stop) => return,
            };
            match shaken {
                Ok(Ok(tls)) => this.serve(TokioIo::new(tls), peer, stopping).await,
                Ok(Err(error)) => tracing::debug!("TLS handshake with {peer} failed: {error}"),
                Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
            }
        });
    }

    async fn serve<I>(&self, io: I, peer: SocketAddr, mut stopping: watch::Receiver<bool>)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::new());
        let app = self.app.clone();
        let host = self.host.clone();
        let requests = activity.clone();
        let over_tls = self.tls.is_some();
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            let app = app.clone();
            let host = host.clone();
            if over_tls {
                request.extensions_mut().insert(OverTls);
            }
            let access = Access::begin(&request, requests.clone());
            async move { Ok::<_, Infallible>(respond(&app, request, host, access).await) }
        });
        let connection = self.builder.serve_connection(io, service);
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
                () = activity.idle_for(self.idle_timeout), if !closing => {
                    tracing::debug!("closing the idle connection from {peer}");
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// A client's socket whose writes must make progress within `--write-timeout`: a client that
/// stops reading fills the socket's buffers, a write then waits, and once it has waited the
/// whole timeout it fails, which ends the connection (and so the response's body, the guest
/// writing it, and its instance).
struct TimedIo {
    inner: TcpStream,
    limit: Option<Duration>,
    /// Runs while a write waits.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    waiting: bool,
    peer: SocketAddr,
}

impl TimedIo {
    fn new(inner: TcpStream, limit: Option<Duration>, peer: SocketAddr) -> Self {
        Self {
            inner,
            limit,
            timer: None,
            waiting: false,
            peer,
        }
    }

    /// After a write came back `Pending`: arms the timer, or fails once it has fired.
    fn waited(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let due = tokio::time::Instant::now() + limit;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
        if !self.waiting {
            timer.as_mut().reset(due);
            self.waiting = true;
        }
        if timer.as_mut().poll(cx).is_ready() {
            if let Some(metrics) = metrics::get() {
                metrics.write_timed_out();
            }
            tracing::info!(
                "cut the connection from {}: it took nothing of the response for {limit:?} \
                 (--write-timeout)",
                self.peer
            );
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading (--write-timeout)",
            ));
        }
        Ok(())
    }

    fn timed<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Pending => match self.waited(cx) {
                Ok(()) => Poll::Pending,
                Err(error) => Poll::Ready(Err(error)),
            },
            ready => {
                self.waiting = false;
                ready
            }
        }
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.timed(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.timed(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.timed(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.timed(cx, polled)
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
    request.extensions_mut().insert(access.trace.clone());
    let response = match app.handle(request).await {
        Ok(response) => response,
        Err(failure) => {
            // The access record's method and path (no query) name the request.
            let (method, path) = (&access.method, &access.path);
            let status = match &failure {
                Failure::Busy => {
                    tracing::debug!("{method} {path}: {failure}");
                    StatusCode::SERVICE_UNAVAILABLE
                }
                Failure::BodyTooLarge(_) => {
                    tracing::info!("{method} {path}: {failure}");
                    StatusCode::PAYLOAD_TOO_LARGE
                }
                Failure::TimedOut(_) => {
                    tracing::error!("{method} {path}: {failure}");
                    StatusCode::GATEWAY_TIMEOUT
                }
                // `{:#}`: the causes on one line (the wasm backtrace, when there is one,
                // follows).
                Failure::Guest(_) => {
                    tracing::error!("{method} {path}: {failure}");
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
    if access.length == Some(0) || access.method == Method::HEAD {
        access.complete = true;
    }
    let request_id = access.trace.request_id();
    let mut response = response.map(|inner| Logged { inner, access });
    response
        .headers_mut()
        .insert(HeaderName::from_static(REQUEST_ID), request_id);
    response
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
