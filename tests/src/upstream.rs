//! A real HTTP/1.1 upstream for the outbound tests, on a free loopback port, with routes that
//! misbehave on purpose (stalls, bodies cut short, huge bodies) and an echo of what it got.
//!
//! - `GET /weather?city=C`: `{"city": C, "temp_c": 21.5, "conditions": "Sunny"}`;
//! - `GET /users`, `/orders`, `/status`: small JSON documents;
//! - `GET /files/small.txt`: a short text; `GET /files/big.bin`: 50 MiB, generated as it is
//!   sent, with its `Content-Length`;
//! - `ANY /echo`: `{"method", "path", "query", "content_type", "content_length",
//!   "transfer_encoding", "traceparent", "length", "body"}` of the request received;
//! - `GET /stall-head`: never answers; `GET /stall-body`: 100 of 1000 bytes, then nothing;
//!   `GET /close-mid-body`: 100 of 1000 bytes, then the connection is cut;
//! - `GET /redirect?to=T[&code=N]`: a redirect (302 by default) to T;
//! - anything else: `404`.
//!
//! Every answer waits the upstream's `delay` first (see [`Upstream::with_delay`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;

/// Size of `/files/big.bin`.
pub const BIG_FILE: u64 = 50 << 20;

type Reply = Response<BoxBody<Bytes, std::io::Error>>;

/// A running upstream; stopped when dropped.
#[derive(Debug)]
pub struct Upstream {
    addr: SocketAddr,
    served: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Upstream {
    /// An upstream that answers at once.
    pub fn start() -> Self {
        Self::with_delay(Duration::ZERO)
    }

    /// An upstream that waits `delay` before every answer.
    ///
    /// # Panics
    /// If it cannot bind a loopback port.
    pub fn with_delay(delay: Duration) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the upstream");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let served = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = served.clone();
        let accepted = connections.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        answer(request, delay)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            served,
            connections,
            runtime: Some(runtime),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The `--allow-outbound` rule naming exactly this upstream.
    pub fn rule(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn full(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(
            Full::new(body.into())
                .map_err(|never: Infallible| match never {})
                .boxed(),
        )
        .expect("a valid response")
}

fn json_reply(value: &serde_json::Value) -> Reply {
    full(200, "application/json", value.to_string())
}

/// A body of `length` bytes that sends `sent` of them, then stalls (`cut: false`) or breaks
/// the connection (`cut: true`).
fn partial(length: u64, sent: usize, cut: bool) -> Reply {
    let stream = async_stream(move |tx| async move {
        let _ = tx
            .send(Ok(Frame::data(Bytes::from(vec![b'x'; sent]))))
            .await;
        if cut {
            let _ = tx.send(Err(std::io::Error::other("cut on purpose"))).await;
        } else {
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
    });
    Response::builder()
        .header("content-length", length)
        .body(BoxBody::new(stream))
        .expect("a valid response")
}

/// `/files/big.bin`: [`BIG_FILE`] bytes in 64 KiB pieces, made as they are sent.
fn big_file() -> Reply {
    let stream = async_stream(|tx| async move {
        let piece = Bytes::from(vec![b'z'; 64 << 10]);
        let mut left = BIG_FILE;
        while left > 0 {
            let n = left.min(piece.len() as u64);
            if tx
                .send(Ok(Frame::data(piece.slice(..n as usize))))
                .await
                .is_err()
            {
                return;
            }
            left -= n;
        }
    });
    Response::builder()
        .header("content-type", "application/octet-stream")
        .header("content-length", BIG_FILE)
        .body(BoxBody::new(stream))
        .expect("a valid response")
}

type Sender = tokio::sync::mpsc::Sender<Result<Frame<Bytes>, std::io::Error>>;

/// A body fed by `produce` from a task of its own.
fn async_stream<F, Fut>(produce: F) -> StreamBody<ReceiverStream>
where
    F: FnOnce(Sender) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(produce(tx));
    StreamBody::new(ReceiverStream(rx))
}

/// The receiving end of a body's channel, as a stream of frames.
pub struct ReceiverStream(tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>);

impl std::fmt::Debug for ReceiverStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiverStream")
    }
}

impl futures_core::Stream for ReceiverStream {
    type Item = Result<Frame<Bytes>, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

fn query_param(request: &Request<Incoming>, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

async fn answer(request: Request<Incoming>, delay: Duration) -> Result<Reply, Infallible> {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let path = request.uri().path().to_owned();
    let reply = match path.as_str() {
        "/weather" => {
            let city = query_param(&request, "city").unwrap_or_default();
            json_reply(&json!({ "city": city, "temp_c": 21.5, "conditions": "Sunny" }))
        }
        "/users" => json_reply(&json!([{ "id": 1, "name": "Ada" }, { "id": 2, "name": "Alan" }])),
        "/orders" => json_reply(&json!({ "open": 3, "shipped": 12 })),
        "/status" => json_reply(&json!({ "healthy": true })),
        "/files/small.txt" => full(200, "text/plain; charset=utf-8", "a small file\n"),
        "/files/big.bin" => big_file(),
        "/echo" => echo(request).await,
        "/stall-head" => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            full(200, "text/plain", "too late")
        }
        "/stall-body" => partial(1000, 100, false),
        "/close-mid-body" => partial(1000, 100, true),
        "/redirect" => {
            let to = query_param(&request, "to").unwrap_or_else(|| "/".into());
            let code: u16 = query_param(&request, "code")
                .and_then(|code| code.parse().ok())
                .unwrap_or(302);
            let mut reply = full(code, "text/plain", "redirected");
            reply
                .headers_mut()
                .insert("location", to.parse().expect("a valid location"));
            reply
        }
        _ => full(404, "text/plain", "no such route"),
    };
    Ok(reply)
}

async fn echo(request: Request<Incoming>) -> Reply {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let (method, path, query) = (
        request.method().to_string(),
        request.uri().path().to_owned(),
        request.uri().query().map(str::to_owned),
    );
    let (content_type, content_length, transfer_encoding) = (
        header("content-type"),
        header("content-length"),
        header("transfer-encoding"),
    );
    let traceparent = header("traceparent");
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return full(400, "text/plain", format!("broken body: {error}")),
    };
    json_reply(&json!({
        "method": method,
        "path": path,
        "query": query,
        "content_type": content_type,
        "content_length": content_length,
        "transfer_encoding": transfer_encoding,
        "traceparent": traceparent,
        "length": body.len(),
        "body": String::from_utf8_lossy(&body[..body.len().min(4096)]),
    }))
}
