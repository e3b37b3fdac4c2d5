//! The host against a misbehaving guest (`tests/fixtures/faulty`) and hostile clients: each
//! limit holds, costs only the request that hit it, and a normal request right afterwards is
//! answered correctly.
//!
//! No test asserts how fast anything happens: deadlines below are generous bounds against
//! hanging forever on a loaded machine, not expectations.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nanohttp_e2e::BackgroundServer;

use super::serve;
use super::wasi::component;

/// A bound on anything that should end; far above what it takes on a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) fn faulty() -> PathBuf {
    component("nanohttp-fixture-faulty")
}

/// `POST /mark` to the faulty fixture, with a cookie, an identity and a form: everything a
/// request can leave behind, for the cases proving that the next request sees none of it.
pub(crate) fn mark(server: &BackgroundServer) -> ureq::http::Response<ureq::Body> {
    client()
        .post(server.url("/mark"))
        .header("cookie", "session=abc")
        .header("x-identity", "alice")
        .header("content-type", "application/x-www-form-urlencoded")
        .send("secret=1")
        .expect("a response")
}

/// Like `nanohttp_e2e::client()`, but a request that hangs fails the test instead of the run.
pub(crate) fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(PATIENCE))
        .build()
        .new_agent()
}

fn get(server: &BackgroundServer, path: &str) -> (u16, String) {
    let mut response = client().get(server.url(path)).call().expect("a response");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().expect("a whole body");
    (status, body)
}

#[track_caller]
fn assert_hello(server: &BackgroundServer) {
    assert_eq!(get(server, "/hello"), (200, "hello".to_string()));
}

/// Runs `f` on a thread; the handle gives its result.
fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
    std::thread::spawn(f)
}

/// Polls `f` until it returns `Some`, for at most [`PATIENCE`].
#[track_caller]
pub(crate) fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends a request until it is not refused with `503`. With `--max-concurrent` slots taken
/// up to the limit, a request's slot is free again once its instance is gone, which can trail
/// the last byte of its response (a WASI 0.3 guest's task ends after its body does).
#[track_caller]
pub(crate) fn when_free(
    send: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> ureq::http::Response<ureq::Body> {
    eventually("a slot to be free", || {
        let response = send().expect("a response");
        (response.status() != 503).then_some(response)
    })
}

#[test]
fn a_panic_is_a_500_for_that_request_only() {
    let server = serve(&faulty(), &[]);
    for _ in 0..3 {
        // The guest answers its own panic with the framework's 500, without internals.
        assert_eq!(
            get(&server, "/panic"),
            (500, "500 Internal Server Error\n".to_string())
        );
        assert_hello(&server);
    }
}

#[test]
fn in_debug_mode_a_panic_shows_its_message() {
    let server = serve(&faulty(), &["-o", "debug=true"]);
    let (status, body) = get(&server, "/panic");
    assert_eq!(status, 500);
    assert!(
        body.contains("handler panicked: the client asked for a panic"),
        "{body}"
    );
    assert_hello(&server);
}

#[test]
fn an_infinite_loop_is_a_504_and_does_not_hold_up_others() {
    let server = Arc::new(serve(&faulty(), &["--request-timeout", "2s"]));
    let spinning = {
        let server = server.clone();
        spawn(move || get(&server, "/spin"))
    };
    // While the guest spins, other requests are served.
    assert_hello(&server);
    assert_eq!(
        spinning.join().unwrap(),
        (504, "Gateway Timeout".to_string())
    );
    assert_hello(&server);
}

#[test]
fn a_guest_waiting_forever_is_a_504() {
    let server = serve(&faulty(), &["--request-timeout", "1s"]);
    assert_eq!(
        get(&server, "/sleep/3600000"),
        (504, "Gateway Timeout".to_string())
    );
    assert_hello(&server);
}

#[test]
fn a_body_that_never_finishes_is_cut_at_the_time_limit() {
    let server = serve(&faulty(), &["--request-timeout", "1s"]);
    for path in ["/stall", "/endless"] {
        let mut response = client().get(server.url(path)).call().expect("a response");
        // The head went out before the limit; the body cannot be completed.
        assert_eq!(response.status(), 200, "{path}");
        let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
        let mut start = [0; 7];
        reader.read_exact(&mut start).unwrap();
        let copied = std::io::copy(&mut reader, &mut std::io::sink());
        assert!(
            copied.is_err(),
            "{path}: the body ended cleanly: {copied:?}"
        );
        assert_hello(&server);
    }
}

#[test]
fn a_memory_hog_is_a_500_and_other_requests_keep_their_memory() {
    let server = serve(&faulty(), &["--memory-limit", "24MiB"]);
    assert_eq!(get(&server, "/allocate/8"), (200, "8".to_string()));
    assert_eq!(
        get(&server, "/hog"),
        (500, "Internal Server Error".to_string())
    );
    assert_eq!(
        get(&server, "/allocate/32"),
        (500, "Internal Server Error".to_string())
    );
    // A fresh instance gets its full allowance again.
    assert_eq!(get(&server, "/allocate/8"), (200, "8".to_string()));
    assert_hello(&server);
}

#[test]
fn beyond_max_concurrent_requests_get_503_with_retry_after() {
    let server = Arc::new(serve(&faulty(), &["--max-concurrent", "1"]));
    // Holds the only slot for a while; retried if a probe below held it at that moment.
    let sleeper = {
        let server = server.clone();
        spawn(move || {
            eventually("the sleeper to get the slot", || {
                let (status, body) = get(&server, "/sleep/3000");
                (status != 503).then_some((status, body))
            })
        })
    };
    let mut busy = eventually("a 503 while the slot is taken", || {
        let response = client().get(server.url("/hello")).call().unwrap();
        (response.status() == 503).then_some(response)
    });
    assert_eq!(
        busy.headers().get("retry-after").unwrap().to_str().unwrap(),
        "1"
    );
    assert_eq!(
        busy.body_mut().read_to_string().unwrap(),
        "Service Unavailable"
    );
    assert_eq!(sleeper.join().unwrap(), (200, "slept 3000".to_string()));
    let mut after = when_free(|| client().get(server.url("/hello")).call());
    assert_eq!(after.status(), 200);
    assert_eq!(after.body_mut().read_to_string().unwrap(), "hello");
}

#[test]
fn an_oversized_body_is_a_413() {
    let server = serve(&faulty(), &["--max-body-size", "1KiB"]);
    let post = |body: ureq::SendBody<'_>| {
        let mut response = client().post(server.url("/size")).send(body).unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    let small = vec![b'x'; 1000];
    let large = vec![b'x'; 64 << 10];
    assert_eq!(
        post(ureq::SendBody::from_reader(&mut &small[..])),
        (200, "1000".to_string())
    );
    // Declared up front (Content-Length): refused before the guest runs.
    let mut response = client().post(server.url("/size")).send(&large[..]).unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.body_mut().read_to_string().unwrap(),
        "Payload Too Large"
    );
    // Chunked, so only counting shows it. Sent raw: the host answers (and closes) before
    // reading all of it, which a client library may see as a write error first.
    let (status, _) = nanohttp_e2e::raw_chunked_post(server.addr(), "/size", &large);
    assert_eq!(status, 413);
    assert_hello(&server);
}

/// Sends `request` on a fresh connection and reads until the server closes it (or
/// [`PATIENCE`] passes).
fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    // The server may answer (and close) before reading everything.
    let _ = stream.write_all(request);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

#[test]
fn oversized_heads_are_a_431() {
    let server = serve(
        &faulty(),
        &["--max-header-size", "8KiB", "--max-headers", "20"],
    );
    let long = format!(
        "GET /hello HTTP/1.1\r\nHost: x\r\nX-Long: {}\r\n\r\n",
        "a".repeat(16 << 10)
    );
    let reply = raw(server.addr(), long.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");

    let many: String = (0..30).map(|i| format!("X-Header-{i}: {i}\r\n")).collect();
    let reply = raw(
        server.addr(),
        format!("GET /hello HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes(),
    );
    assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");

    let fine: String = (0..10).map(|i| format!("X-Header-{i}: {i}\r\n")).collect();
    let reply = raw(
        server.addr(),
        format!("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{fine}\r\n").as_bytes(),
    );
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.ends_with("\r\n\r\nhello"), "{reply}");
}

/// Request headers read as sent, whatever their case: the first of a repeated header and
/// every one, cookies from two `Cookie` lines, and a value with bytes beyond ASCII (which
/// HTTP allows) absent as text but whole in the `HeaderMap`.
#[test]
fn request_headers_read_as_sent() {
    let server = serve(&faulty(), &[]);
    let request = "GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                   X-TAG: one\r\nx-tag: two\r\nX-Tag: three\r\n\
                   Cookie: a=1; b=two%20words\r\ncookie: c=3\r\n\
                   X-Opaque: caf\u{e9}\r\n\r\n";
    let reply = raw(server.addr(), request.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(
        reply.ends_with(
            "\r\n\r\nfirst=one all=one,two,three cookies=a:1,b:two words,c:3 opaque=- \
             opaque-bytes=5"
        ),
        "{reply}"
    );
    assert_hello(&server);
}

/// Opens a connection and feeds it `head` one byte at a time, a byte every 100 ms, until the
/// server closes it; `true` if it did (within [`PATIENCE`]).
fn dribble_until_closed(addr: SocketAddr, head: &[u8]) -> bool {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    for byte in head.iter().cycle() {
        if Instant::now() > deadline {
            return false;
        }
        let mut buf = [0; 1024];
        match stream.read(&mut buf) {
            // Closed (maybe after a 408-style reply): done.
            Ok(0) => return true,
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            return true;
        }
    }
    unreachable!("the cycle never ends")
}

#[test]
fn slow_and_silent_clients_are_cut_off() {
    let server = Arc::new(serve(
        &faulty(),
        &["--header-timeout", "1s", "--idle-timeout", "1s"],
    ));
    // Slowloris: a head that never ends, a byte at a time. Several at once.
    let lorises: Vec<_> = (0..8)
        .map(|_| {
            let addr = server.addr();
            spawn(move || dribble_until_closed(addr, b"GET /hello HTTP/1.1\r\nX-A: b\r\n"))
        })
        .collect();
    // Silent: connects and never sends a byte.
    let silent = {
        let addr = server.addr();
        spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            match stream.read(&mut [0; 16]) {
                Err(error) => !matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                Ok(read) => read == 0,
            }
        })
    };
    // Meanwhile, normal clients are served.
    assert_hello(&server);
    for loris in lorises {
        assert!(loris.join().unwrap(), "a slowloris connection stayed open");
    }
    assert!(silent.join().unwrap(), "a silent connection stayed open");
    assert_hello(&server);
}

#[test]
fn many_connections_at_once_are_all_answered() {
    let server = Arc::new(serve(&faulty(), &["--max-concurrent", "8"]));
    let clients: Vec<_> = (0..64)
        .map(|i| {
            let server = server.clone();
            spawn(move || {
                let path = if i % 4 == 0 { "/panic" } else { "/hello" };
                get(&server, path).0
            })
        })
        .collect();
    for (i, handle) in clients.into_iter().enumerate() {
        let status = handle.join().unwrap();
        let allowed: &[u16] = if i % 4 == 0 { &[500, 503] } else { &[200, 503] };
        assert!(allowed.contains(&status), "request {i}: {status}");
    }
    assert_hello(&server);
}

#[test]
fn access_log_and_guest_output_are_log_lines() {
    nanohttp_e2e::capture_logs();
    let server = serve(&faulty(), &[]);
    assert_eq!(
        get(&server, "/print?marker=access-test"),
        (200, "printed".to_string())
    );
    assert_eq!(get(&server, "/panic").0, 500);
    drop(server);

    let guest = eventually("the guest's lines", || {
        let lines = nanohttp_e2e::log_lines("GET /print");
        (lines.len() >= 2).then_some(lines)
    });
    let messages: Vec<&str> = guest
        .iter()
        .map(|line| line["fields"]["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(&"GET /print [stdout] a line on stdout"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"GET /print [stderr] a line on stderr"),
        "{messages:?}"
    );
    assert!(guest.iter().all(|line| line["target"] == "nanohttp::guest"));

    let access = eventually("the access lines", || {
        let lines: Vec<_> = nanohttp_e2e::log_lines("nanohttp::access")
            .into_iter()
            .filter(|line| matches!(line["fields"]["path"].as_str(), Some("/print" | "/panic")))
            .collect();
        (lines.len() >= 2).then_some(lines)
    });
    let print = access
        .iter()
        .find(|line| line["fields"]["path"] == "/print")
        .unwrap();
    assert_eq!(print["level"], "INFO");
    assert_eq!(print["fields"]["method"], "GET");
    assert_eq!(print["fields"]["status"], 200);
    assert_eq!(print["fields"]["bytes"], 7);
    assert_eq!(print["fields"]["message"], "complete");
    assert!(print["fields"]["duration_ms"].as_f64().unwrap() >= 0.0);
    let panic = access
        .iter()
        .find(|line| line["fields"]["path"] == "/panic")
        .unwrap();
    assert_eq!(panic["fields"]["status"], 500);
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("nanohttp-hardening-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Replaces `to` with a copy of `from` at once (write aside, then rename).
fn replace(from: &std::path::Path, to: &std::path::Path) {
    let aside = to.with_extension("new");
    std::fs::copy(from, &aside).unwrap();
    std::fs::rename(&aside, to).unwrap();
}

#[test]
fn reload_swaps_the_component_without_dropping_requests_in_flight() {
    let scratch = Scratch::new("reload");
    let served = scratch.0.join("app.wasm");
    std::fs::copy(faulty(), &served).unwrap();
    let echo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../host/tests/fixtures/echo.wasm");

    let server = serve(&served, &["--reload"]);
    assert_hello(&server);
    // In flight on the first version once its first chunk has arrived.
    let mut slow = client().get(server.url("/slow/5000")).call().unwrap();
    let mut reader = slow.body_mut().as_reader();
    let mut first = [0; 8];
    reader.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"started\n");

    replace(&echo, &served);
    // The echo fixture answers every path with 200 and an `x-path-with-query` header.
    eventually("the new version", || {
        let response = client().get(server.url("/hello")).call().unwrap();
        response
            .headers()
            .contains_key("x-path-with-query")
            .then_some(())
    });
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "done\n");

    // A broken file is refused; the last good version stays.
    std::fs::write(scratch.0.join("broken.wasm"), b"\0asm\x0d\0\x01\0garbage").unwrap();
    replace(&scratch.0.join("broken.wasm"), &served);
    let response = client().get(server.url("/hello")).call().unwrap();
    assert!(response.headers().contains_key("x-path-with-query"));
    replace(&faulty(), &served);
    eventually("the first version again", || {
        let (status, body) = get(&server, "/hello");
        (status == 200 && body == "hello").then_some(())
    });
}
