//! `nanohttp::client` natively: handlers run by `TestClient` call a real HTTP server on
//! loopback (a small one written here), as they would call their upstream in a component.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use nanohttp::client::{self, ErrorKind, Request};
use nanohttp::prelude::*;
use nanohttp::testing::TestClient;
use serde_json::{Value, json};

/// A loopback server answering each connection on a thread of its own:
/// - `/slow`: `{"ok": true}` after 300 ms; `/stall`: nothing for 5 s;
/// - `/echo`: `{"method", "content_type", "body"}` of the request;
/// - anything else: `{"path": PATH}`.
fn upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    base
}

fn answer(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let (mut length, mut content_type) = (0, String::new());
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or(("", ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "content-type" => content_type = value.trim().to_owned(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let answer = match path.as_str() {
        "/slow" => {
            std::thread::sleep(Duration::from_millis(300));
            json!({ "ok": true })
        }
        "/stall" => {
            std::thread::sleep(Duration::from_secs(5));
            return;
        }
        "/echo" => json!({
            "method": method,
            "content_type": content_type,
            "body": String::from_utf8_lossy(&body),
        }),
        _ => json!({ "path": path }),
    }
    .to_string();
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{answer}",
        answer.len()
    );
}

/// Calls the upstream named by the `upstream` setting.
#[derive(Default)]
struct Root;

#[controller]
impl Root {
    #[json]
    fn path(&self, ctx: &Context, name: String) -> Result<Value, HttpStatus> {
        let url = format!("{}/{name}", upstream_of(ctx));
        let answer: Value = Request::get(&url).send()?.json()?;
        Ok(json!({ "upstream_saw": answer["path"] }))
    }

    /// Three slow calls awaited together.
    #[json]
    async fn together(&self, ctx: &Context) -> Result<Value, HttpStatus> {
        let slow = format!("{}/slow", upstream_of(ctx));
        let calls = (0..3).map(|_| Request::get(&slow).send_async());
        let mut ok = 0;
        for response in nanohttp::future::join_all(calls).await {
            if response?.json::<Value>()?["ok"] == true {
                ok += 1;
            }
        }
        Ok(json!({ "ok": ok }))
    }

    #[json]
    fn stall(&self, ctx: &Context) -> Result<Value, HttpStatus> {
        let url = format!("{}/stall", upstream_of(ctx));
        Ok(Request::get(&url)
            .first_byte_timeout(Duration::from_millis(200))
            .send()?
            .json()?)
    }
}

fn upstream_of(ctx: &Context) -> String {
    ctx.settings()
        .get("upstream")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Application for Root {}

#[test]
fn handlers_call_a_real_server_in_native_tests() {
    let base = upstream();
    let settings = json!({ "upstream": base }).to_string();
    let app = TestClient::with_settings(Root, &settings).unwrap();
    let response = app.get("/path/tips").send();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json(), json!({ "upstream_saw": "/tips" }));

    let started = Instant::now();
    let response = app.get("/stall").send();
    assert_eq!(response.status, 504, "{}", response.text());
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn request_bodies_carry_their_content_types() {
    let echo = format!("{}/echo", upstream());
    let cases = [
        (
            Request::post(&echo).json(&json!({ "a": 1 })),
            "application/json",
            r#"{"a":1}"#,
        ),
        (
            Request::post(&echo).form(&[("a", "1 2"), ("b", "&")]),
            "application/x-www-form-urlencoded",
            "a=1+2&b=%26",
        ),
        (
            Request::put(&echo).text("words"),
            "text/plain; charset=utf-8",
            "words",
        ),
    ];
    for (request, content_type, body) in cases {
        let answer: Value = request.send().unwrap().json().unwrap();
        assert_eq!(answer["content_type"], content_type);
        assert_eq!(answer["body"], body);
    }
}

#[test]
fn several_calls_are_in_flight_at_once() {
    let slow = format!("{}/slow", upstream());
    let started = Instant::now();
    let responses = client::send_all((0..3).map(|_| Request::get(&slow)));
    let took = started.elapsed();
    assert_eq!(responses.len(), 3);
    for response in responses {
        assert_eq!(response.unwrap().status(), 200);
    }
    // Three in a row take 900 ms.
    assert!(took < Duration::from_millis(800), "{took:?}");
}

#[test]
fn an_async_handler_awaits_several_calls_at_once() {
    let settings = json!({ "upstream": upstream() }).to_string();
    let app = TestClient::with_settings(Root, &settings).unwrap();
    let started = Instant::now();
    let response = app.get("/together").send();
    let took = started.elapsed();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json(), json!({ "ok": 3 }));
    // Three in a row take 900 ms.
    assert!(took < Duration::from_millis(800), "{took:?}");
}

#[test]
fn failures_are_typed() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = Request::get(&format!("http://127.0.0.1:{port}/"))
        .send()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(error.upstream(), format!("http://127.0.0.1:{port}"));
    assert_eq!(HttpStatus::from(error).code(), 502);

    let big = Request::get(&format!("{}/some/long/path", upstream()))
        .send()
        .unwrap()
        .limit(5)
        .bytes()
        .unwrap_err();
    assert_eq!(big.kind(), ErrorKind::BodyTooLarge);
}
