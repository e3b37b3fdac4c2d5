//! The `nanohttp` binary in production: the admin listener (health, readiness through a real
//! SIGTERM, metrics that move), the connection cap under a flood, the write timeout, the
//! request id and trace context, and TLS (h1 and h2 by ALPN, SIGHUP reload, start-up errors).

#![cfg(unix)]

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use support::{Scratch, echo_wasm, signal, start, start_slow_post, start_with_admin};

const DEADLINE: Duration = Duration::from_secs(30);

/// One request on a connection of its own: status, head (lowercase) and body.
fn get(addr: &str, path: &str, extra_headers: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra_headers}\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    parse_reply(&reply)
}

fn parse_reply(reply: &str) -> (u16, String, String) {
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((reply, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {reply:?}"));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// The value of the sample `series` (name and labels, as written) in OpenMetrics text.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
        .parse()
        .unwrap()
}

fn metrics(admin: &str) -> String {
    let (status, head, body) = get(admin, "/metrics", "");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    body
}

/// Waits until `series` in the admin's metrics satisfies `check`.
fn wait_for_sample(admin: &str, series: &str, check: impl Fn(f64) -> bool) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = metrics(admin);
        if check(sample(&text, series)) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{series} never as expected:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the process and returns the rest of its stderr.
fn stop(mut child: Child, mut stderr: BufReader<ChildStderr>) -> String {
    signal(&child, "TERM");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    rest
}

#[test]
fn health_and_metrics_that_move_as_requests_are_served() {
    let (child, stderr, addr, admin) = start_with_admin(&["--no-cache"]);
    let (status, _, body) = get(&admin, "/healthz", "");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _, body) = get(&admin, "/readyz", "");
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    assert_eq!(get(&admin, "/nope", "").0, 404);
    let before = metrics(&admin);
    assert_eq!(
        sample(&before, "nanohttp_compile_cache_total{result=\"miss\"}"),
        1.0
    );
    assert_eq!(
        sample(&before, "nanohttp_compile_cache_total{result=\"hit\"}"),
        0.0
    );
    assert_eq!(
        sample(
            &before,
            "nanohttp_requests_total{class=\"2xx\",outcome=\"complete\"}"
        ),
        0.0
    );
    assert_eq!(sample(&before, "nanohttp_instances_created_total"), 0.0);

    for _ in 0..3 {
        assert_eq!(get(&addr, "/", "").0, 200);
    }
    assert_eq!(get(&addr, "/trap", "").0, 500);

    // The access line (and so the count) is written once the connection has let the
    // response go; wait for the fourth.
    let after = wait_for_sample(&admin, "nanohttp_request_duration_seconds_count", |n| {
        n == 4.0
    });
    for (series, value) in [
        (
            "nanohttp_requests_total{class=\"2xx\",outcome=\"complete\"}",
            3.0,
        ),
        (
            "nanohttp_requests_total{class=\"5xx\",outcome=\"complete\"}",
            1.0,
        ),
        ("nanohttp_requests_in_flight", 0.0),
        ("nanohttp_instances_created_total", 4.0),
        ("nanohttp_instances_reused_total", 0.0),
        ("nanohttp_instances_discarded_total{reason=\"spent\"}", 3.0),
        ("nanohttp_instances_discarded_total{reason=\"failed\"}", 1.0),
        ("nanohttp_request_duration_seconds_bucket{le=\"+Inf\"}", 4.0),
        ("nanohttp_connections_refused_total", 0.0),
    ] {
        assert_eq!(sample(&after, series), value, "{series}\n{after}");
    }
    // A connection that stays open is counted until it closes.
    let open = TcpStream::connect(&addr).unwrap();
    wait_for_sample(&admin, "nanohttp_connections_open", |n| n == 1.0);
    drop(open);
    wait_for_sample(&admin, "nanohttp_connections_open", |n| n == 0.0);
    stop(child, stderr);
}

#[test]
fn instances_kept_with_reuse_are_counted_as_reused() {
    let (child, stderr, addr, admin) = start_with_admin(&["--reuse", "10"]);
    for _ in 0..3 {
        assert_eq!(get(&addr, "/", "").0, 200);
    }
    let text = wait_for_sample(&admin, "nanohttp_request_duration_seconds_count", |n| {
        n == 3.0
    });
    assert_eq!(
        sample(&text, "nanohttp_instances_created_total"),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "nanohttp_instances_reused_total"),
        2.0,
        "{text}"
    );
    stop(child, stderr);
}

/// `/readyz` turns `503` as soon as SIGTERM starts the drain, while a request in flight still
/// finishes and `/healthz` still answers.
#[test]
fn readiness_turns_503_when_a_graceful_shutdown_starts() {
    let (mut child, _stderr, addr, admin) = start_with_admin(&[]);
    let mut stream = start_slow_post(&addr);
    assert_eq!(get(&admin, "/readyz", "").0, 200);
    signal(&child, "TERM");
    let deadline = Instant::now() + DEADLINE;
    while get(&admin, "/readyz", "").0 != 503 {
        assert!(Instant::now() < deadline, "/readyz never turned 503");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(get(&admin, "/readyz", "").2, "draining\n");
    assert_eq!(get(&admin, "/healthz", "").0, 200);
    stream.write_all(b"helloworld").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn an_admin_port_in_use_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let echo = echo_wasm();
    let output = Command::new(env!("CARGO_BIN_EXE_nanohttp"))
        .args([
            "-b",
            "127.0.0.1:0",
            "--admin-bind",
            &taken,
            echo.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!("error: cannot listen on {taken} (--admin-bind): Address already in use\n")
    );
}

/// Past `--max-connections` a flood of idle connections is closed at once and counted, while
/// an established connection keeps being served; once the flood leaves, new ones are served.
#[test]
fn a_flood_of_idle_connections_past_the_cap_is_refused_and_requests_still_served() {
    const CAP: usize = 4;
    const FLOOD: usize = 40;
    let cap = CAP.to_string();
    let (child, stderr, addr, admin) =
        start_with_admin(&["--max-connections", &cap, "--header-timeout", "60s"]);
    let mut established = TcpStream::connect(&addr).unwrap();
    established.set_read_timeout(Some(DEADLINE)).unwrap();
    wait_for_sample(&admin, "nanohttp_connections_open", |n| n == 1.0);

    let flood: Vec<TcpStream> = (0..FLOOD)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    let text = wait_for_sample(&admin, "nanohttp_connections_refused_total", |n| {
        n == (FLOOD - (CAP - 1)) as f64
    });
    assert_eq!(
        sample(&text, "nanohttp_connections_open"),
        CAP as f64,
        "{text}"
    );
    // The refused ones see the connection closed; the others are still open.
    let mut closed = 0;
    for mut stream in &flood {
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut byte = [0];
        match stream.read(&mut byte) {
            Ok(0) => closed += 1,
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            Ok(_) => panic!("data on an idle connection"),
            Err(_) => {}
        }
    }
    assert_eq!(closed, FLOOD - (CAP - 1));

    write!(
        established,
        "GET /established HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    established.read_to_string(&mut reply).unwrap();
    assert_eq!(parse_reply(&reply).0, 200, "{reply}");

    drop(flood);
    wait_for_sample(&admin, "nanohttp_connections_open", |n| n == 0.0);
    assert_eq!(get(&addr, "/after", "").0, 200);
    stop(child, stderr);
}

/// A client that sends a request and stops reading its (large) response is cut once a write
/// has waited `--write-timeout`, and the instance is released: with `--max-concurrent 1` the
/// next request is served rather than refused.
#[test]
fn a_slow_reader_is_cut_by_the_write_timeout_and_its_instance_released() {
    const BODY: usize = 12 << 20;
    let (child, stderr, addr, admin) = start_with_admin(&[
        "--write-timeout",
        "1s",
        "--max-concurrent",
        "1",
        "--max-body-size",
        "16MiB",
    ]);
    let socket = socket2_small_receive_buffer(&addr);
    let mut slow = socket;
    write!(
        slow,
        "POST /echo HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {BODY}\r\n\r\n"
    )
    .unwrap();
    slow.write_all(&vec![b'x'; BODY]).unwrap();
    // Never read: the guest's echo fills the socket's buffers and the host's write waits.
    let text = wait_for_sample(&admin, "nanohttp_write_timeouts_total", |n| n == 1.0);
    assert_eq!(sample(&text, "nanohttp_write_timeouts_total"), 1.0);
    wait_for_sample(&admin, "nanohttp_requests_in_flight", |n| n == 0.0);
    // The instance goes back (and its permit with it) as its guest fails to write on.
    let deadline = Instant::now() + DEADLINE;
    let mut next = get(&addr, "/next", "").0;
    while next == 503 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        next = get(&addr, "/next", "").0;
    }
    assert_eq!(next, 200);
    drop(slow);
    let log = stop(child, stderr);
    assert!(log.contains("(--write-timeout)"), "{log}");
    let access = log
        .lines()
        .find(|line| line.contains("nanohttp::access") && line.contains("path=/echo"))
        .unwrap_or_else(|| panic!("no access line for /echo in {log}"));
    assert!(access.contains("body cut"), "{access}");
}

/// A connected socket whose receive buffer is small, so that a response it does not read
/// stalls the sender soon.
fn socket2_small_receive_buffer(addr: &str) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.connect(addr.parse().unwrap()).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// A valid `traceparent` is kept in the access line and its trace id is the request id; a
/// request without one gets a new id, in the line and the `x-request-id` header.
#[test]
fn the_trace_context_or_a_request_id_is_in_the_log_and_the_response() {
    let (child, stderr, addr) = start(&[]);
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let (status, head, _) = get(&addr, "/traced", &format!("traceparent: {traceparent}\r\n"));
    assert_eq!(status, 200);
    assert!(
        head.contains("x-request-id: 4bf92f3577b34da6a3ce929d0e0e4736\r\n"),
        "{head}"
    );
    let (_, head, _) = get(&addr, "/untraced", "");
    let id = head
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .unwrap_or_else(|| panic!("no x-request-id in {head}"))
        .to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let log = stop(child, stderr);
    let line = |path: &str| {
        log.lines()
            .find(|line| line.contains("nanohttp::access") && line.contains(path))
            .unwrap_or_else(|| panic!("no access line for {path} in {log}"))
            .to_owned()
    };
    let traced = line("path=/traced");
    assert!(
        traced.contains(&format!("traceparent={traceparent}")),
        "{traced}"
    );
    assert!(
        traced.contains("request_id=4bf92f3577b34da6a3ce929d0e0e4736"),
        "{traced}"
    );
    let untraced = line("path=/untraced");
    assert!(untraced.contains(&format!("request_id={id}")), "{untraced}");
    assert!(!untraced.contains("traceparent="), "{untraced}");
}

/// A self-signed certificate for `localhost` (not a CA: the client trusts it as its own
/// root), made by `openssl`.
fn certificate(dir: &Scratch, name: &str) -> (String, String) {
    let config = dir.write(
        &format!("{name}.cnf"),
        format!(
            "[req]\nprompt = no\ndistinguished_name = dn\nx509_extensions = leaf\n\
             [dn]\nCN = {name}\n[leaf]\nbasicConstraints = critical, CA:FALSE\n\
             subjectAltName = DNS:localhost, IP:127.0.0.1\n"
        ),
    );
    let cert = dir.path().join(format!("{name}.crt")).display().to_string();
    let key = dir.path().join(format!("{name}.key")).display().to_string();
    openssl(&[
        "req",
        "-x509",
        "-config",
        &config,
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        &key,
        "-out",
        &cert,
    ]);
    (cert, key)
}

fn openssl(args: &[&str]) {
    let output = Command::new("openssl").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A TLS client trusting `roots`, offering `alpn`.
fn connector(roots: &[&str], alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        for cert in CertificateDer::pem_file_iter(root).unwrap() {
            store.add(cert.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

type Tls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

async fn tls_connect(connector: &tokio_rustls::TlsConnector, addr: &str) -> Tls {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await.unwrap()
}

/// The leaf certificate the server presented.
fn presented(tls: &Tls) -> Vec<u8> {
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_file(pem).unwrap().to_vec()
}

enum Client {
    H1(hyper::client::conn::http1::SendRequest<Empty<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Empty<Bytes>>),
}

impl Client {
    /// HTTP/2 or HTTP/1.1, as ALPN chose.
    async fn over(tls: Tls) -> Self {
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let io = TokioIo::new(tls);
        if h2 {
            let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .unwrap();
            tokio::spawn(conn);
            Client::H2(sender)
        } else {
            let (sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            Client::H1(sender)
        }
    }

    async fn get(&mut self, path: &str) -> (http::Version, String) {
        // HTTP/2 names the authority in the URI; HTTP/1.1 in the Host header.
        let uri = match self {
            Client::H1(_) => path.to_owned(),
            Client::H2(_) => format!("https://localhost{path}"),
        };
        let request = http::Request::get(uri)
            .header("host", "localhost")
            .body(Empty::new())
            .unwrap();
        let response = match self {
            Client::H1(sender) => {
                sender.ready().await.unwrap();
                sender.send_request(request).await.unwrap()
            }
            Client::H2(sender) => {
                sender.ready().await.unwrap();
                sender.send_request(request).await.unwrap()
            }
        };
        assert_eq!(response.status(), 200);
        let version = response.version();
        let path = response.headers()["x-path-with-query"]
            .to_str()
            .unwrap()
            .to_owned();
        let _ = response.into_body().collect().await.unwrap();
        (version, path)
    }
}

#[tokio::test]
async fn tls_serves_http2_and_http11_by_alpn() {
    let dir = Scratch::new();
    let (cert, key) = certificate(&dir, "first");
    let (child, stderr, addr) = start(&["--tls-cert", &cert, "--tls-key", &key]);

    let tls = tls_connect(&connector(&[&cert], &[b"h2", b"http/1.1"]), &addr).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let mut h2 = Client::over(tls).await;
    assert_eq!(h2.get("/two").await, (http::Version::HTTP_2, "/two".into()));

    let tls = tls_connect(&connector(&[&cert], &[b"http/1.1"]), &addr).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let mut h1 = Client::over(tls).await;
    assert_eq!(
        h1.get("/one").await,
        (http::Version::HTTP_11, "/one".into())
    );
    // Without ALPN, HTTP/1.1.
    let mut plain = Client::over(tls_connect(&connector(&[&cert], &[]), &addr).await).await;
    assert_eq!(plain.get("/none").await.0, http::Version::HTTP_11);

    // Plain HTTP on the TLS port is a failed handshake for that connection only.
    let plain_addr = addr.clone();
    let answered = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(&plain_addr).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        reply.starts_with(b"HTTP/")
    });
    assert!(
        !answered.await.unwrap(),
        "plain HTTP answered on the TLS port"
    );
    assert_eq!(h2.get("/still").await.1, "/still");
    // Stopping winds the open connections down (HTTP/2: GOAWAY, then a PING the client's
    // connection task answers, so this thread must not block the runtime meanwhile) rather
    // than waiting out the grace period.
    let started = Instant::now();
    tokio::task::spawn_blocking(move || stop(child, stderr))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    drop((h1, h2, plain));
}

/// SIGHUP swaps in the files' new pair for new connections; an open connection keeps working.
#[tokio::test]
async fn sighup_reloads_the_certificate_without_dropping_connections() {
    let dir = Scratch::new();
    let (first_cert, first_key) = certificate(&dir, "first");
    let (second_cert, second_key) = certificate(&dir, "second");
    let served_cert = dir.write("served.crt", std::fs::read(&first_cert).unwrap());
    let served_key = dir.write("served.key", std::fs::read(&first_key).unwrap());
    let (child, mut stderr, addr) = start(&["--tls-cert", &served_cert, "--tls-key", &served_key]);
    let trust = connector(&[&first_cert, &second_cert], &[b"http/1.1"]);

    let old = tls_connect(&trust, &addr).await;
    assert_eq!(presented(&old), der(&first_cert));
    let mut old = Client::over(old).await;
    assert_eq!(old.get("/before").await.1, "/before");

    std::fs::copy(&second_cert, &served_cert).unwrap();
    std::fs::copy(&second_key, &served_key).unwrap();
    signal(&child, "HUP");
    let mut line = String::new();
    while !line.contains("reloaded the TLS certificate") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no reload line");
    }
    // A new client: the first one would resume its session, certificate and all.
    let trust = connector(&[&first_cert, &second_cert], &[b"http/1.1"]);
    let new = tls_connect(&trust, &addr).await;
    assert_eq!(presented(&new), der(&second_cert));
    assert_eq!(Client::over(new).await.get("/new").await.1, "/new");
    assert_eq!(old.get("/after").await.1, "/after");

    // A broken pair is refused and the previous one stays.
    std::fs::write(&served_key, "not a key").unwrap();
    signal(&child, "HUP");
    line.clear();
    while !line.contains("cannot reload the TLS certificate") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no refusal line");
    }
    let trust = connector(&[&first_cert, &second_cert], &[b"http/1.1"]);
    assert_eq!(
        presented(&tls_connect(&trust, &addr).await),
        der(&second_cert)
    );
    stop(child, stderr);
}

#[test]
fn bad_tls_pairs_are_one_line_errors_before_listening() {
    let dir = Scratch::new();
    let (cert, key) = certificate(&dir, "first");
    let (_, other_key) = certificate(&dir, "second");
    let expired = expired_certificate(&dir);
    let garbage = dir.write("garbage.pem", "hello");
    let missing = dir.path().join("missing.pem").display().to_string();
    let directory = dir.path().display().to_string();
    let echo = echo_wasm();
    let fails = |cert: &str, key: &str, expected: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_nanohttp"))
            .args(["-b", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
            .arg(&echo)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{cert} {key}");
        assert_eq!(
            String::from_utf8(output.stderr).unwrap(),
            format!("error: {expected}\n")
        );
    };
    fails(
        &missing,
        &key,
        &format!("cannot read TLS certificate '{missing}': No such file or directory"),
    );
    fails(
        &cert,
        &directory,
        &format!("cannot read TLS key '{directory}': Is a directory"),
    );
    fails(
        &garbage,
        &key,
        &format!("invalid TLS certificate file '{garbage}': no PEM certificate in it"),
    );
    fails(
        &cert,
        &garbage,
        &format!("invalid TLS key file '{garbage}': no PEM private key in it (no items found)"),
    );
    fails(
        &cert,
        &other_key,
        &format!("TLS key '{other_key}' does not match certificate '{cert}'"),
    );
    fails(
        &expired.0,
        &expired.1,
        &format!("TLS certificate '{}' has expired", expired.0),
    );

    let output = Command::new(env!("CARGO_BIN_EXE_nanohttp"))
        .args(["--tls-cert", &cert])
        .arg(&echo)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "error: a TLS certificate needs its key (--tls-key)\n"
    );
}

/// A certificate valid for one day in 2020, signed by `openssl ca` (`req` cannot backdate).
fn expired_certificate(dir: &Scratch) -> (String, String) {
    let at = |name: &str| dir.path().join(name).display().to_string();
    dir.write("index.txt", "");
    dir.write("serial", "01\n");
    dir.write(
        "ca.cnf",
        format!(
            "[ca]\ndefault_ca = old\n[old]\ndatabase = {}\nnew_certs_dir = {}\nserial = {}\n\
             default_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n",
            at("index.txt"),
            dir.path().display(),
            at("serial")
        ),
    );
    let (key, csr, cert) = (at("old.key"), at("old.csr"), at("old.crt"));
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &key,
        "-out",
        &csr,
    ]);
    openssl(&[
        "ca",
        "-batch",
        "-config",
        &at("ca.cnf"),
        "-selfsign",
        "-keyfile",
        &key,
        "-in",
        &csr,
        "-out",
        &cert,
        "-startdate",
        "20200101000000Z",
        "-enddate",
        "20200102000000Z",
        "-notext",
    ]);
    (cert, key)
}
