//! Outgoing HTTP end to end: the `caller` fixture and the `gateway` example, served by the
//! host, call real upstreams on loopback (`nanohttp_e2e::upstream`) through
//! `nanohttp::client`; the host's allow-list, timeouts and limits decide what happens.

use std::time::{Duration, Instant};

use nanohttp_e2e::upstream::Upstream;
use nanohttp_e2e::{Scratch, client, metric, serve};

use super::wasi::{component, example};
use serde_json::Value;

/// `GET path` on `server`: status and body.
fn get(server: &nanohttp_e2e::BackgroundServer, path: &str) -> (u16, String) {
    let mut response = client()
        .get(&server.url(path))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

/// `/fetch?url=...` with the URL encoded, and more query parameters after it.
fn fetch(url: &str, more: &str) -> String {
    let url: String = form_urlencoded::byte_serialize(url.as_bytes()).collect();
    format!("/fetch?url={url}{more}")
}

fn caller(args: &[&str]) -> nanohttp_e2e::BackgroundServer {
    serve(&component("nanohttp-caller"), args)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn an_allowed_upstream_is_called_and_its_answer_reshaped() {
    let upstream = Upstream::start();
    let settings = format!("upstream={}", upstream.url(""));
    let server = serve(
        &example("gateway"),
        &["--allow-outbound", &upstream.rule(), "-o", &settings],
    );
    let (status, body) = get(&server, "/forecast/tehran");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body),
        serde_json::json!({
            "city": "tehran", "celsius": 21.5, "fahrenheit": 70.7, "summary": "Sunny, 22 °C"
        })
    );
    let (status, body) = get(&server, "/dashboard");
    assert_eq!(status, 200, "{body}");
    let dashboard = json(&body);
    assert_eq!(dashboard["orders"]["open"], 3);
    assert_eq!(dashboard["status"]["healthy"], true);
    assert_eq!(dashboard["users"][1]["name"], "Alan");
    assert_eq!(
        get(&server, "/files/small.txt"),
        (200, "a small file\n".into())
    );
    assert_eq!(get(&server, "/files/none.txt").0, 404);
}

#[test]
fn a_connection_serves_the_next_call_once_its_body_was_read() {
    let upstream = Upstream::start();
    let server = caller(&["--allow-outbound", &upstream.rule()]);
    for _ in 0..5 {
        assert_eq!(get(&server, &fetch(&upstream.url("/status"), "")).0, 200);
    }
    assert_eq!(upstream.served(), 5);
    assert_eq!(upstream.connections(), 1);
    // A body not read to its end leaves its connection unusable: it is not kept.
    let (status, _) = get(
        &server,
        &fetch(&upstream.url("/files/big.bin"), "&limit=10"),
    );
    assert_eq!(status, 502);
    assert_eq!(get(&server, &fetch(&upstream.url("/status"), "")).0, 200);
    assert_eq!(upstream.connections(), 2);
}

#[test]
fn every_call_is_refused_by_default() {
    let upstream = Upstream::start();
    let server = caller(&[]);
    let (status, body) = get(&server, &fetch(&upstream.url("/status"), ""));
    assert_eq!(status, 500, "{body}");
    assert!(
        body.contains(&format!("Upstream {} is not allowed", upstream.rule())),
        "{body}"
    );
    assert_eq!(upstream.served(), 0);
}

#[test]
fn an_upstream_no_rule_matches_is_refused() {
    let upstream = Upstream::start();
    let other = Upstream::start();
    let server = caller(&["--allow-outbound", &other.rule()]);
    let (status, _) = get(&server, &fetch(&upstream.url("/status"), ""));
    assert_eq!(status, 500);
    // The scheme counts too.
    let https = upstream.url("/status").replace("http://", "https://");
    assert_eq!(get(&server, &fetch(&https, "")).0, 500);
    assert_eq!(upstream.served(), 0);
    assert_eq!(get(&server, &fetch(&other.url("/status"), "")).0, 200);
}

#[test]
fn a_wildcard_does_not_reach_loopback_but_a_named_host_does() {
    let upstream = Upstream::start();
    let port = upstream.addr().port();
    let server = caller(&["--allow-outbound", "http://*:*", "-o", "debug=true"]);
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"] {
        let url = format!("http://{host}:{port}/status");
        let (status, body) = get(&server, &fetch(&url, ""));
        assert_eq!(status, 500, "{url}: {body}");
        assert!(body.contains("not allowed"), "{url}: {body}");
    }
    assert_eq!(upstream.served(), 0);

    let named = format!("http://localhost:{port}");
    let server = caller(&["--allow-outbound", "http://*:*", "--allow-outbound", &named]);
    let (status, body) = get(&server, &fetch(&format!("{named}/status"), ""));
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["body"], r#"{"healthy":true}"#);
}

#[test]
fn an_upstream_that_stalls_before_its_head_times_out() {
    let upstream = Upstream::start();
    let server = caller(&[
        "--allow-outbound",
        &upstream.rule(),
        "--outbound-first-byte-timeout",
        "500ms",
    ]);
    let started = Instant::now();
    let (status, body) = get(&server, &fetch(&upstream.url("/stall-head"), ""));
    let took = started.elapsed();
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("timed out"), "{body}");
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");

    // A guest may ask for less than the host allows, never more.
    let server = caller(&["--allow-outbound", &upstream.rule()]);
    let started = Instant::now();
    let (status, _) = get(
        &server,
        &fetch(&upstream.url("/stall-head"), "&first_byte_ms=300"),
    );
    assert_eq!(status, 504);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_upstream_that_stalls_mid_body_times_out() {
    let upstream = Upstream::start();
    let server = caller(&[
        "--allow-outbound",
        &upstream.rule(),
        "--outbound-between-bytes-timeout",
        "500ms",
        "-o",
        "debug=true",
    ]);
    let started = Instant::now();
    let (status, body) = get(&server, &fetch(&upstream.url("/stall-body"), ""));
    assert_eq!(status, 504, "{body}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn outbound_time_counts_against_the_request_timeout() {
    let upstream = Upstream::start();
    let server = caller(&[
        "--allow-outbound",
        &upstream.rule(),
        "--request-timeout",
        "1s",
    ]);
    let started = Instant::now();
    let (status, _) = get(&server, &fetch(&upstream.url("/stall-head"), ""));
    assert_eq!(status, 504);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_upstream_that_closes_mid_body_is_a_bad_gateway() {
    let upstream = Upstream::start();
    let server = caller(&["--allow-outbound", &upstream.rule()]);
    let (status, body) = get(&server, &fetch(&upstream.url("/close-mid-body"), ""));
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("answered badly"), "{body}");
}

#[test]
fn nothing_listening_is_a_bad_gateway() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rule = format!("http://127.0.0.1:{port}");
    let server = caller(&["--allow-outbound", &rule]);
    let (status, body) = get(&server, &fetch(&format!("{rule}/x"), ""));
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains(&format!("Upstream {rule} unreachable")),
        "{body}"
    );
}

#[test]
fn response_bodies_are_held_to_the_limits() {
    let upstream = Upstream::start();
    let server = caller(&["--allow-outbound", &upstream.rule()]);
    // The guest's own limit.
    let (status, body) = get(
        &server,
        &fetch(&upstream.url("/files/big.bin"), "&limit=1000"),
    );
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("answered too much"), "{body}");
    // The host's, below the guest's default of 10 MiB.
    let server = caller(&[
        "--allow-outbound",
        &upstream.rule(),
        "--outbound-max-body-size",
        "64KiB",
        "-o",
        "debug=true",
    ]);
    let (status, body) = get(&server, &fetch(&upstream.url("/files/big.bin"), ""));
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("answered too much"), "{body}");
    assert_eq!(
        get(&server, &fetch(&upstream.url("/files/small.txt"), "")).0,
        200
    );
}

#[test]
fn request_bodies_of_every_kind_reach_the_upstream() {
    let upstream = Upstream::start();
    let server = caller(&["--allow-outbound", &upstream.rule()]);
    let echo: String = form_urlencoded::byte_serialize(upstream.url("/echo").as_bytes()).collect();
    let send = |kind: &str| {
        let mut response = client()
            .post(&server.url(&format!("/send?url={echo}&kind={kind}")))
            .content_type("application/octet-stream")
            .send(&b"\x00raw bytes\xff"[..])
            .unwrap();
        assert_eq!(response.status(), 200, "{kind}");
        json(&response.body_mut().read_to_string().unwrap())
    };
    let got = send("json");
    assert_eq!(got["method"], "POST");
    assert_eq!(got["content_type"], "application/json");
    assert_eq!(got["body"], r#"{"tags":["a","b"],"title":"Tip 2"}"#);
    let got = send("form");
    assert_eq!(got["content_type"], "application/x-www-form-urlencoded");
    assert_eq!(got["body"], "title=Tip+2&note=a+%26+b");
    let got = send("text");
    assert_eq!(got["content_type"], "text/plain; charset=utf-8");
    assert_eq!(got["body"], "plain words");
    let got = send("bytes");
    assert_eq!(got["content_type"], "application/octet-stream");
    assert_eq!(got["length"], 11);
    assert_eq!(got["content_length"], "11");
    let got = send("reader");
    assert_eq!(got["length"], 1 << 20);
    assert_eq!(got["transfer_encoding"], "chunked");
}

/// Each call is counted by how it ended (at least: the metrics are the process's, and other
/// tests' hosts count into them too).
#[test]
fn calls_are_counted_by_outcome() {
    let upstream = Upstream::start();
    let server = caller(&[
        "--allow-outbound",
        &upstream.rule(),
        "--admin-bind",
        "127.0.0.1:0",
    ]);
    assert_eq!(
        get(&server, &fetch(&upstream.url("/files/small.txt"), "")).0,
        200
    );
    let refused = fetch("http://elsewhere.invalid/", "");
    assert_ne!(get(&server, &refused).0, 200);
    for outcome in ["complete", "refused"] {
        let series = format!("nanohttp_outbound_requests_total{{outcome=\"{outcome}\"}}");
        assert!(metric(&server, &series) >= 1.0, "{series}");
    }
}

/// A call made while serving a request carries a `traceparent` of the request's trace: the
/// incoming one's trace id with a new parent id, or the request id's when it came with none.
#[test]
fn calls_carry_the_requests_trace_context() {
    let upstream = Upstream::start();
    let server = caller(&["--allow-outbound", &upstream.rule()]);
    let echo: String = form_urlencoded::byte_serialize(upstream.url("/echo").as_bytes()).collect();
    let path = format!("/send?url={echo}&kind=text");
    let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut response = client()
        .post(&server.url(&path))
        .header("traceparent", incoming)
        .send(&b""[..])
        .unwrap();
    assert_eq!(response.status(), 200);
    let got = json(&response.body_mut().read_to_string().unwrap());
    let sent = got["traceparent"]
        .as_str()
        .unwrap_or_else(|| panic!("{got}"));
    assert!(
        sent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{sent}"
    );
    assert!(sent.ends_with("-01") && sent != incoming, "{sent}");

    let mut response = client().post(&server.url(&path)).send(&b""[..]).unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let got = json(&response.body_mut().read_to_string().unwrap());
    let sent = got["traceparent"]
        .as_str()
        .unwrap_or_else(|| panic!("{got}"));
    assert!(
        sent.starts_with(&format!("00-{id}-")),
        "{sent} for request {id}"
    );
}

#[test]
fn fan_out_takes_about_one_call_not_three() {
    let delay = Duration::from_millis(1000);
    let slow = Upstream::with_delay(delay);
    let server = caller(&["--allow-outbound", &slow.rule()]);
    let urls: String = ["/users", "/orders", "/status"]
        .iter()
        .map(|path| {
            let url: String = form_urlencoded::byte_serialize(slow.url(path).as_bytes()).collect();
            format!("url={url}&")
        })
        .collect();
    // `send_all` in a sync handler, and `send_async` awaited with `join_all` in an async one.
    for route in ["/fanout", "/fanout_async"] {
        let (status, body) = get(&server, &format!("{route}?{urls}"));
        assert_eq!(status, 200, "{route}: {body}");
        let answer = json(&body);
        assert_eq!(answer["statuses"], serde_json::json!([200, 200, 200]));
        let ms = answer["ms"].as_u64().unwrap();
        // Three in a row would take 3000 ms.
        assert!((1000..2500).contains(&ms), "{route}: {ms} ms");
    }

    // More at once than the host allows one request: the call past the limit fails at once
    // (waiting could never end: the calls before it hold their slots until their bodies are
    // read, which is after all of them answered).
    let served = slow.served();
    let server = caller(&[
        "--allow-outbound",
        &slow.rule(),
        "--outbound-max-in-flight",
        "2",
    ]);
    let (status, body) = get(&server, &format!("/fanout?{urls}"));
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("Too many calls in flight"), "{body}");
    assert_eq!(slow.served() - served, 2);
}

#[test]
fn redirects_are_followed_only_when_asked_and_each_hop_is_checked() {
    let upstream = Upstream::start();
    let server = caller(&["--allow-outbound", &upstream.rule()]);
    let redirect = upstream.url("/redirect?to=/weather%3Fcity%3Dx");
    let (status, body) = get(&server, &fetch(&redirect, ""));
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["status"], 302);
    let (status, body) = get(&server, &fetch(&redirect, "&follow=2"));
    assert_eq!(status, 200, "{body}");
    let answer = json(&body);
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["url"], upstream.url("/weather?city=x"));
    // Too many.
    let twice = upstream.url("/redirect?to=/redirect%3Fto%3D/status");
    assert_eq!(get(&server, &fetch(&twice, "&follow=1")).0, 502);
    // A hop to an upstream no rule allows.
    let other = Upstream::start();
    let away: String = form_urlencoded::byte_serialize(other.url("/status").as_bytes()).collect();
    let elsewhere = upstream.url(&format!("/redirect?to={away}"));
    assert_eq!(get(&server, &fetch(&elsewhere, "&follow=3")).0, 500);
    assert_eq!(other.served(), 0);
}

/// A CA and a certificate it signed for `localhost`, made with `openssl`.
fn certificates(scratch: &Scratch) -> (String, String, String) {
    let dir = scratch.path();
    let run = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (Debian package `openssl`) is installed");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
        &[
            "-subj",
            "/CN=nanohttp test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
    ]
    .concat());
    scratch.write(
        "leaf.ext",
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         extendedKeyUsage=serverAuth\n",
    );
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    let path = |name: &str| dir.join(name).display().to_string();
    (path("ca.pem"), path("leaf.pem"), path("leaf.key"))
}

/// `openssl s_server` serving the files of `dir` over TLS on a free port; killed on drop.
struct TlsServer(std::process::Child, u16);

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tls_server(dir: &std::path::Path, cert: &str, key: &str) -> TlsServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-WWW",
            "-accept",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["-cert", cert, "-key", key])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "s_server listens"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    TlsServer(child, port)
}

#[test]
fn https_upstreams_are_verified_against_the_roots() {
    let scratch = Scratch::new("outbound-tls");
    let (ca, cert, key) = certificates(&scratch);
    scratch.write("hello.txt", "hello over TLS\n");
    let server = tls_server(scratch.path(), &cert, &key);
    let origin = format!("https://localhost:{}", server.1);
    let url = format!("{origin}/hello.txt");

    let trusting = caller(&["--allow-outbound", &origin, "--outbound-ca", &ca]);
    let (status, body) = get(&trusting, &fetch(&url, ""));
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["body"], "hello over TLS\n");

    // Without the CA, the certificate does not verify.
    let strict = caller(&["--allow-outbound", &origin, "-o", "debug=true"]);
    let (status, body) = get(&strict, &fetch(&url, ""));
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("TLS failed"), "{body}");
}

#[test]
fn a_bad_ca_file_stops_the_host_before_it_listens() {
    let scratch = Scratch::new("outbound-bad-ca");
    let file = scratch.write("ca.pem", "not a certificate\n");
    let config = nanohttp_e2e::Config::from_args([
        "nanohttp",
        "-b",
        "127.0.0.1:0",
        "--outbound-ca",
        file.to_str().unwrap(),
        component("nanohttp-caller").to_str().unwrap(),
    ])
    .unwrap();
    let error = nanohttp_e2e::BackgroundServer::start(config).unwrap_err();
    assert!(
        format!("{error:#}").contains("holds no certificate"),
        "{error:#}"
    );
}

#[test]
fn every_call_is_one_log_line() {
    nanohttp_e2e::capture_logs();
    let upstream = Upstream::start();
    let server = caller(&["--allow-outbound", &upstream.rule()]);
    let allowed = upstream.url("/weather?city=secret");
    assert_eq!(get(&server, &fetch(&allowed, "")).0, 200);
    let lines = nanohttp_e2e::log_lines(&upstream.url("/weather"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let fields = &lines[0]["fields"];
    assert_eq!(lines[0]["target"], "nanohttp::outbound");
    assert_eq!(fields["url"], upstream.url("/weather"), "no query in logs");
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["rule"], upstream.rule());
    assert_eq!(fields["outcome"], "complete");
    assert_eq!(fields["request"], "GET /fetch");
    assert!(fields["bytes"].as_u64().unwrap() > 0);

    let refused = caller(&[]);
    assert_eq!(get(&refused, &fetch(&upstream.url("/orders"), "")).0, 500);
    let lines = nanohttp_e2e::log_lines(&upstream.url("/orders"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(lines[0]["fields"]["outcome"], "refused");
    let message = lines[0]["fields"]["message"].as_str().unwrap();
    assert!(message.contains("no --allow-outbound rule"), "{message}");
}
