//! The admin listener (`--admin-bind`), apart from the application's port, for balancers and
//! scrapers: `GET /healthz` (the process serves), `GET /readyz` (the component is loaded and
//! the host is not draining: `503` from the moment a graceful shutdown starts, so a balancer
//! stops sending), `GET /metrics` (OpenMetrics text, see [`crate::metrics`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::io::io_reason;
use crate::metrics::Metrics;

/// How long an admin client has to send a request's head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the host still takes new requests: false once it drains.
#[derive(Debug, Default)]
pub(crate) struct Readiness {
    draining: AtomicBool,
}

impl Readiness {
    /// A graceful shutdown started: `/readyz` answers `503` from now on.
    pub(crate) fn drain(&self) {
        self.draining.store(true, Ordering::Release);
    }

    fn ready(&self) -> bool {
        !self.draining.load(Ordering::Acquire)
    }
}

/// The admin listener, bound.
#[derive(Debug)]
pub(crate) struct Admin {
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl Admin {
    /// Binds `addr` (a start-up error if it cannot).
    pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {addr} (--admin-bind): {}", io_reason(&e))
        })?;
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            local_addr,
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Answers until dropped (the server aborts it once it has stopped).
    pub(crate) async fn serve(self, readiness: Arc<Readiness>, metrics: &'static Metrics) {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT);
        loop {
            let stream = match self.listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!("admin listener: cannot accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let readiness = readiness.clone();
            let service = service_fn(move |request| {
                let response = answer(&request, &readiness, metrics);
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!("admin connection ended: {error}");
                }
            });
        }
    }
}

fn answer(
    request: &Request<Incoming>,
    readiness: &Readiness,
    metrics: &Metrics,
) -> Response<Full<Bytes>> {
    const TEXT: &str = "text/plain; charset=utf-8";
    const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    let path = request.uri().path();
    if !matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return reply(
            StatusCode::NOT_FOUND,
            TEXT,
            "not found: /healthz, /readyz or /metrics\n",
        );
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut response = reply(StatusCode::METHOD_NOT_ALLOWED, TEXT, "GET or HEAD\n");
        let allow = HeaderValue::from_static("GET, HEAD");
        response.headers_mut().insert(ALLOW, allow);
        return response;
    }
    match path {
        "/healthz" => reply(StatusCode::OK, TEXT, "ok\n"),
        "/readyz" if readiness.ready() => reply(StatusCode::OK, TEXT, "ready\n"),
        "/readyz" => reply(StatusCode::SERVICE_UNAVAILABLE, TEXT, "draining\n"),
        _ => reply(StatusCode::OK, OPENMETRICS, metrics.render()),
    }
}

fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
