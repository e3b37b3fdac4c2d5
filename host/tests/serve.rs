//! The host serving the echo fixture over real HTTP/1.1 and HTTP/2 on loopback.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use nanohttp_host::{BackgroundServer, Config, Server};
use serde_yaml_ng::Value;
use tokio::net::TcpStream;

use support::{CORE_MODULE, EMPTY_COMPONENT, Scratch, echo_wasm};

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

fn config(extra: &[&str]) -> Config {
    let echo = echo_wasm();
    let mut args = vec!["nanohttp", "-b", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    args.push(echo.to_str().unwrap());
    Config::from_args(args).unwrap()
}

/// A bound on a stop that must not wait for idle connections: far under the grace period
/// (30 s) and the idle timeout (60 s) it would wait out otherwise, far over what a stop takes
/// on a loaded machine.
const PROMPT_STOP: Duration = Duration::from_secs(10);

fn start(extra: &[&str]) -> BackgroundServer {
    BackgroundServer::start(config(extra)).unwrap()
}

/// An HTTP/1.1 connection; requests on it reuse it (keep-alive).
async fn connect(addr: SocketAddr) -> Sender {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

fn request(
    method: Method,
    addr: SocketAddr,
    path: &str,
    body: impl Into<Bytes>,
) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .body(Full::new(body.into()))
        .unwrap()
}

async fn send(sender: &mut Sender, request: Request<Full<Bytes>>) -> (Response<()>, Bytes) {
    sender.ready().await.unwrap();
    let response = sender.send_request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (Response::from_parts(parts, ()), body)
}

async fn get(addr: SocketAddr, path: &str) -> (Response<()>, Bytes) {
    let mut sender = connect(addr).await;
    send(&mut sender, request(Method::GET, addr, path, "")).await
}

fn header<'a>(response: &'a Response<()>, name: &str) -> &'a str {
    response.headers()[name].to_str().unwrap()
}

#[tokio::test]
async fn forwards_method_path_query_headers_and_body() {
    let server = start(&[]);
    let mut sender = connect(server.addr()).await;
    let mut post = request(
        Method::POST,
        server.addr(),
        "/a/b?x=1&y=%20two",
        "ping pong",
    );
    post.headers_mut()
        .insert("x-echo", "hello".parse().unwrap());
    let (response, body) = send(&mut sender, post).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-method"), "POST");
    assert_eq!(header(&response, "x-path-with-query"), "/a/b?x=1&y=%20two");
    assert_eq!(header(&response, "x-echo"), "hello");
    assert_eq!(body, "ping pong");

    for method in [Method::PUT, Method::DELETE, Method::PATCH, Method::OPTIONS] {
        let (response, _) =
            send(&mut sender, request(method.clone(), server.addr(), "/", "")).await;
        assert_eq!(header(&response, "x-method"), method.as_str());
    }
}

#[tokio::test]
async fn large_request_body_is_streamed_in_and_echoed() {
    let server = start(&[]);
    let big: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let mut sender = connect(server.addr()).await;
    let (response, body) = send(
        &mut sender,
        request(Method::POST, server.addr(), "/", big.clone()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body.len(), big.len());
    assert!(body == big, "the echoed body differs");
}

#[tokio::test]
async fn streamed_response() {
    let server = start(&[]);
    let (response, body) = get(server.addr(), "/stream").await;
    assert_eq!(response.status(), StatusCode::OK);
    let expected: String = (0..10).map(|i| format!("chunk {i}\n")).collect();
    assert_eq!(body, expected);
}

#[tokio::test]
async fn settings_from_files_directories_and_options_arrive_merged() {
    let dir = Scratch::new();
    let first = dir.write(
        "app.yml",
        "debug: false\ndb:\n  host: db.local\n  port: 1\nname: app\n",
    );
    dir.write("conf.d/10.yml", "db:\n  port: 2\n");
    let conf_d = dir.path().join("conf.d");
    let server = start(&[
        "-c",
        &first,
        "-d",
        conf_d.to_str().unwrap(),
        "-o",
        "debug=true",
        "-o",
        "db.user=me",
        "-o",
        "name=x",
    ]);
    let (response, body) = get(server.addr(), "/settings").await;
    assert_eq!(response.status(), StatusCode::OK);
    let settings: Value = serde_yaml_ng::from_slice(&body).unwrap();
    let expected: Value =
        serde_yaml_ng::from_str("{debug: true, db: {host: db.local, port: 2, user: me}, name: x}")
            .unwrap();
    assert_eq!(settings, expected);
}

#[tokio::test]
async fn the_guest_sees_only_the_settings_variable() {
    let server = start(&[]);
    let (_, body) = get(server.addr(), "/env").await;
    // The value is `{}` (JSON), then the guest's own newline.
    assert_eq!(body, "NANOHTTP_SETTINGS={}\n");
}

#[tokio::test]
async fn a_trap_is_a_500_for_that_request_only() {
    let server = start(&[]);
    let mut sender = connect(server.addr()).await;
    let (response, body) = send(
        &mut sender,
        request(Method::GET, server.addr(), "/trap", ""),
    )
    .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        header(&response, "content-type"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(body, "Internal Server Error");

    // Same connection, then a new one: both still served.
    let (response, body) = send(
        &mut sender,
        request(Method::POST, server.addr(), "/", "after"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body, "after");
    let (response, _) = get(server.addr(), "/").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let server = start(&[]);
    let mut sender = connect(server.addr()).await;
    for i in 0..50 {
        let body = format!("request {i}");
        let (response, echoed) = send(
            &mut sender,
            request(Method::POST, server.addr(), "/", body.clone()),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), Version::HTTP_11);
        assert_eq!(echoed, body);
    }
}

#[tokio::test]
async fn http2_with_prior_knowledge() {
    let server = start(&[]);
    let stream = TcpStream::connect(server.addr()).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);

    // Several streams at once on the one connection.
    let requests = (0..8).map(|i| {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("http://{}/h2?i={i}", server.addr()))
            .header("x-echo", format!("stream {i}"))
            .body(Full::new(Bytes::from(format!("body {i}"))))
            .unwrap();
        let response = sender.send_request(request);
        async move {
            let response = response.await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.version(), Version::HTTP_2);
            assert_eq!(response.headers()["x-echo"], format!("stream {i}").as_str());
            assert_eq!(
                response.headers()["x-path-with-query"],
                format!("/h2?i={i}").as_str()
            );
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, format!("body {i}"));
        }
    });
    futures_join_all(requests).await;

    // Close the client first: the server's graceful stop would wait for it to acknowledge
    // a GOAWAY, and this runtime is blocked while the server drops.
    drop(sender);
    connection.abort();
    let _ = connection.await;
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < PROMPT_STOP, "{:?}", started.elapsed());
}

/// Awaits every future (no `futures` dependency for one call).
async fn futures_join_all<F: Future<Output = ()> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

#[tokio::test]
async fn http10_request_without_host_is_served() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = start(&[]);
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /plain HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.0 200 OK\r\n"), "{reply}");
    assert!(reply.contains("x-path-with-query: /plain\r\n"), "{reply}");
}

#[test]
fn a_core_module_is_refused_before_serving() {
    let dir = Scratch::new();
    let core = dir.write("core.wasm", CORE_MODULE);
    let error = Config::from_args(["nanohttp", "-b", "127.0.0.1:0", &core]).unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        format!(
            "'{core}' is not a WebAssembly component: it is a core WebAssembly module (build it \
             for wasm32-wasip2, or wrap it with `wasm-tools component new`)"
        )
    );
}

#[test]
fn a_component_without_the_handler_is_refused_at_bind() {
    let dir = Scratch::new();
    let empty = dir.write("empty.wasm", EMPTY_COMPONENT);
    let config = Config::from_args(["nanohttp", "-b", "127.0.0.1:0", &empty]).unwrap();
    let error = BackgroundServer::start(config).unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.starts_with(&format!(
            "component '{empty}' exports neither wasi:http/handler@0.3.x nor wasi:http/incoming-handler@0.2.x"
        )),
        "{message}"
    );
}

#[test]
fn a_port_in_use_is_refused_at_bind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let error = BackgroundServer::start(config(&["-b", &addr])).unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        format!("cannot listen on {addr}: Address already in use")
    );
}

#[test]
fn stopping_does_not_wait_for_idle_keep_alive_connections() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = start(&[]);
    let addr = server.addr();
    let _idle = runtime.block_on(async {
        let mut sender = connect(addr).await;
        let (response, _) = send(&mut sender, request(Method::GET, addr, "/", "")).await;
        assert_eq!(response.status(), StatusCode::OK);
        sender
    });
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < PROMPT_STOP, "{:?}", started.elapsed());
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening after drop"
    );
}

#[tokio::test]
async fn the_demo_is_served_when_embedded() {
    // The demo keeps its tips in the key-value store: in memory here, not the user's file.
    let Ok(config) =
        Config::from_args(["nanohttp", "-b", "127.0.0.1:0", "--kv", "memory:", "demo"])
    else {
        // Not embedded in this build: `config.rs` tests the error message.
        return;
    };
    let server = BackgroundServer::start(config).unwrap();
    let (response, _) = get(server.addr(), "/").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    const DEADLINE: Duration = Duration::from_secs(10);

    let server = Server::bind(config(&[])).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));

    // `100 Continue` comes once the guest reads the body: the request is then in flight.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .unwrap();
    let mut reply = Vec::new();
    while !reply.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        tokio::time::timeout(DEADLINE, stream.read_exact(&mut byte))
            .await
            .unwrap()
            .unwrap();
        reply.push(byte[0]);
    }
    assert_eq!(reply, b"HTTP/1.1 100 Continue\r\n\r\n");

    stop.send(()).unwrap();
    stream.write_all(b"helloworld").await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains("helloworld"), "{reply}");

    tokio::time::timeout(DEADLINE, serving)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still listening after serve returned"
    );
}

/// The compiled component is kept in `--cache-dir`, reused on the next start, and a damaged
/// file there is replaced rather than trusted.
#[tokio::test]
async fn compiled_components_are_cached_on_disk() {
    let dir = Scratch::new();
    let cache = dir.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    let cached = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&cache)
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    };

    let server = start(&["--cache-dir", cache_arg]);
    assert_eq!(get(server.addr(), "/x").await.0.status(), StatusCode::OK);
    drop(server);
    let files = cached();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].extension().is_some_and(|ext| ext == "cwasm"));
    let compiled = std::fs::read(&files[0]).unwrap();

    // Served from the cache: same file, still answering.
    let server = start(&["--cache-dir", cache_arg]);
    assert_eq!(get(server.addr(), "/x").await.0.status(), StatusCode::OK);
    drop(server);
    assert_eq!(cached(), files);

    // A damaged file is ignored and rewritten.
    std::fs::write(&files[0], b"not a compiled component").unwrap();
    let server = start(&["--cache-dir", cache_arg]);
    assert_eq!(get(server.addr(), "/x").await.0.status(), StatusCode::OK);
    drop(server);
    assert_eq!(std::fs::read(&files[0]).unwrap(), compiled);

    // Different engine settings, different file.
    let server = start(&["--cache-dir", cache_arg, "--memory-limit", "32MiB"]);
    drop(server);
    assert_eq!(cached().len(), 2);

    // `host.cache: false` (or --no-cache) writes nothing.
    let other = dir.path().join("unused");
    let other_setting = format!("host.cache_dir={}", other.display());
    let server = start(&["-o", &other_setting, "-o", "host.cache=false"]);
    drop(server);
    assert!(!other.exists());
}
