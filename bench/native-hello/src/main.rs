//! The benchmark's ceiling: a native tokio + hyper 1 HTTP/1.1 server that answers `GET /` with
//! `Hello, world!` as `text/plain; charset=utf-8` (what `examples/hello` answers) and every other
//! request with `404`. One multi-threaded runtime with a worker per core, keep-alive on.
//!
//! It is also the upstream of the outbound benchmarks: `GET /` for a call proxied through a
//! guest, and `GET /slow`, which answers `Hello, world!` after 20 ms, for fan-out latency.
//!
//! `bench-native-hello [ADDRESS]` listens on ADDRESS (default `127.0.0.1:8080`).

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(server::serve(&address))
}

#[cfg(target_arch = "wasm32")]
fn main() {
    eprintln!("bench-native-hello is the native baseline; build it for the host, not wasm32");
    std::process::exit(2);
}

#[cfg(not(target_arch = "wasm32"))]
mod server {
    use std::convert::Infallible;

    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::header::{CONTENT_TYPE, HeaderValue};
    use hyper::{Method, Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;
    use tokio::net::TcpListener;

    const HELLO: &str = "Hello, world!";
    const NOT_FOUND: &str = "404 Not Found\n";
    /// How long `GET /slow` takes.
    const SLOW: std::time::Duration = std::time::Duration::from_millis(20);

    pub(crate) async fn serve(address: &str) -> std::io::Result<()> {
        let listener = TcpListener::bind(address).await?;
        eprintln!("bench-native-hello listening on {}", listener.local_addr()?);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    eprintln!("accept: {error}");
                    continue;
                }
            };
            // Small responses: send them at once rather than waiting for more to coalesce.
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(answer);
                // A client that hangs up mid-request is no concern of a benchmark.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    async fn answer(
        request: Request<hyper::body::Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let (status, body) = match (request.method(), request.uri().path()) {
            (&Method::GET, "/") => (StatusCode::OK, HELLO),
            (&Method::GET, "/slow") => {
                tokio::time::sleep(SLOW).await;
                (StatusCode::OK, HELLO)
            }
            _ => (StatusCode::NOT_FOUND, NOT_FOUND),
        };
        let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *response.status_mut() = status;
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Ok(response)
    }
}
