//! `nanohttp/tests/test_exceptions.py`: statuses raised by handlers, in and out of debug mode.
//!
//! Two deliberate differences run through this file. wasi:http responses carry no reason
//! phrase, so the reason travels in the body: a text error body is the status line
//! (`603 Bad Happened`), where the original sends the reason alone. And `debug` is off by
//! default (the original's default is on, which leaks tracebacks); with it on, the body carries
//! the status's detail, Rust having no traceback to show.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

const DEBUG: &str = r#"{"debug": true}"#;

#[derive(Default)]
struct Root;

#[controller]
impl Root {
    #[action]
    fn index(&self) -> HttpStatus {
        HttpStatus::new(603, "Bad Happened").with_detail("raised by Root::index")
    }

    #[json]
    fn json(&self) -> Result<(), HttpStatus> {
        Err(HttpStatus::new(603, "Bad Happened").with_detail("raised by Root::json"))
    }

    #[action]
    fn bad_request(&self) -> HttpStatus {
        HttpStatus::bad_request().with_reason("My Bad")
    }

    #[action]
    fn not_modified(&self) -> HttpStatus {
        HttpStatus::not_modified()
    }

    #[action]
    fn redirect(&self) -> HttpStatus {
        HttpStatus::moved_permanently("http://example.com")
    }

    /// The original raises an exception that is not a status.
    #[action]
    fn unhandled(&self) -> &'static str {
        panic!("E")
    }
}

impl Application for Root {}

#[test]
fn test_http_status_debug_mode() {
    let client = TestClient::with_settings(Root, DEBUG).unwrap();
    let response = client.get("/").send();
    assert_eq!(response.status, 603);
    assert_eq!(
        response.text(),
        "603 Bad Happened\n\nraised by Root::index\n"
    );
}

#[test]
fn test_http_status_no_debug_mode() {
    let response = TestClient::new(Root).get("/").send();
    assert_eq!(response.status, 603);
    assert_eq!(response.text(), "603 Bad Happened\n");
}

#[test]
fn test_http_status_debug_mode_json_content_type() {
    let client = TestClient::with_settings(Root, DEBUG).unwrap();
    let response = client.get("/json").send();
    assert_eq!(response.status, 603);
    // The original's `stackTrace` key; ours is `error`, with the detail.
    assert_eq!(response.json()["error"], "raised by Root::json");
}

#[test]
fn test_http_status_no_debug_mode_json_content_type() {
    let response = TestClient::new(Root).get("/json").send();
    assert_eq!(response.status, 603);
    // The original sends `{}`; ours says what happened, without the detail.
    assert_eq!(
        response.json(),
        nanohttp::serde_json::json!({"message": "Bad Happened", "status": 603})
    );
}

#[test]
fn test_http_bad_request() {
    let response = TestClient::new(Root).get("/bad_request").send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (400, "400 My Bad\n")
    );
}

#[test]
fn test_http_not_modified() {
    let response = TestClient::new(Root).get("/not_modified").send();
    assert_eq!((response.status.as_u16(), response.text()), (304, ""));
}

#[test]
fn test_http_redirect() {
    let response = TestClient::new(Root).get("/redirect").send();
    assert_eq!(response.status, 301);
    assert_eq!(response.text(), "301 Moved Permanently\n");
    assert_eq!(response.header("location"), Some("http://example.com"));
}

#[test]
fn test_unhandled_exceptions_debug_mode() {
    // The original lets the exception escape to the WSGI server; ours is a `500` (a panic must
    // not take the component down), with the panic message only in debug mode.
    let client = TestClient::with_settings(Root, DEBUG).unwrap();
    let response = client.get("/unhandled").send();
    assert_eq!(response.status, 500);
    assert_eq!(
        response.text(),
        "500 Internal Server Error\n\nhandler panicked: E\n"
    );
}

#[test]
fn test_unhandled_exceptions_no_debug_mode() {
    // As above: a `500`, and nothing of the panic reaches the client.
    let response = TestClient::new(Root).get("/unhandled").send();
    assert_eq!(response.status, 500);
    assert_eq!(response.text(), "500 Internal Server Error\n");
}

struct Success(fn() -> HttpStatus);

#[controller]
impl Success {
    #[action]
    fn index(&self, ctx: &mut Context) -> Result<(), HttpStatus> {
        ctx.set_header("x-app-extra", "yep")?;
        Err((self.0)())
    }
}

impl Application for Success {}

/// Parametrised in the original over six statuses (six of its 91 test cases).
#[test]
fn test_http_success_headers() {
    type Case = (fn() -> HttpStatus, u16, &'static str);
    let statuses: [Case; 6] = [
        (HttpStatus::no_content, 204, ""),
        (HttpStatus::created, 201, "201 Created\n"),
        (HttpStatus::accepted, 202, "202 Accepted\n"),
        (
            HttpStatus::non_authoritative_information,
            203,
            "203 Non-Authoritative Information\n",
        ),
        (HttpStatus::reset_content, 205, ""),
        (HttpStatus::partial_content, 206, "206 Partial Content\n"),
    ];
    for (status, code, body) in statuses {
        let response = TestClient::new(Success(status)).get("/").send();
        assert_eq!((response.status.as_u16(), response.text()), (code, body));
        assert_eq!(response.header("x-app-extra"), Some("yep"), "{code}");
    }
}
