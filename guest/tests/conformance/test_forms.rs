//! `nanohttp/tests/test_forms.py`: url-encoded, multipart and JSON forms, and bad bodies.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;
use nanohttp::{Form, FormValue};

use crate::support::multipart;

#[derive(Default)]
struct Root;

/// `k=v` for each field, sorted by name; a repeated field's values as a list; a file's content.
fn describe(form: &Form) -> String {
    let mut names = form.names();
    names.sort_unstable();
    names.dedup();
    let text = |value: &FormValue| match value {
        FormValue::File(file) => String::from_utf8_lossy(&file.content).into_owned(),
        other => other.as_text().map(|t| t.into_owned()).unwrap_or_default(),
    };
    names
        .into_iter()
        .map(|name| {
            let values: Vec<String> = form.values(name).map(text).collect();
            match values.as_slice() {
                [one] => format!("{name}={one}"),
                many => format!("{name}=[{}]", many.join(", ")),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[controller]
impl Root {
    #[action]
    fn index(&self, ctx: &Context) -> Result<String, HttpStatus> {
        // The original's `context.request_content_type`: the media type without parameters.
        let content_type = ctx
            .header("content-type")
            .and_then(|value| value.split(';').next())
            .unwrap_or("")
            .trim()
            .to_owned();
        Ok(format!("{content_type}, {}", describe(ctx.form()?)))
    }
}

impl Application for Root {}

#[test]
fn test_http_url_encoded_form() {
    let client = TestClient::new(Root);
    let response = client.post("/").send();
    assert_eq!((response.status.as_u16(), response.text()), (200, ", "));

    let response = client.post("/").form(&[("a", "1"), ("b", "2")]).send();
    assert_eq!(
        response.text(),
        "application/x-www-form-urlencoded, a=1, b=2"
    );

    // A body without a content type: the original parses it as url-encoded (`a` → `a=`); ours
    // does not guess what a body is, so it is `415` (the client must say what it sends).
    let response = client.post("/").body("a").send();
    assert_eq!(response.text(), "415 A Form Needs a Content-Type\n");
    let typed = client
        .post("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a")
        .send();
    assert_eq!(typed.text(), "application/x-www-form-urlencoded, a=");

    // Repeated fields keep every value.
    let response = client
        .post("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=1&a=2")
        .send();
    assert_eq!(
        response.text(),
        "application/x-www-form-urlencoded, a=[1, 2]"
    );
}

#[test]
fn test_http_multipart_form() {
    let client = TestClient::new(Root);
    assert_eq!(client.post("/").send().text(), ", ");

    let (content_type, body) = multipart(&[("a", "1"), ("b", "2")], &[]);
    let response = client
        .post("/")
        .header("content-type", &content_type)
        .body(body)
        .send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (200, "multipart/form-data, a=1, b=2")
    );

    let (content_type, body) = multipart(&[], &[("a", "a.bin", b"abcdef")]);
    let response = client
        .post("/")
        .header("content-type", &content_type)
        .body(body)
        .send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (200, "multipart/form-data, a=abcdef")
    );
}

#[test]
fn test_json_form() {
    let client = TestClient::new(Root);
    assert_eq!(client.post("/").send().text(), ", ");

    let response = client
        .post("/")
        .json(&nanohttp::serde_json::json!({"a": 1, "b": 2}))
        .send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (200, "application/json, a=1, b=2")
    );

    // An empty JSON body: the original answers `400 Content-Length required`; ours reads bodies
    // of any framing, so an empty one is simply not JSON.
    let response = client
        .post("/")
        .header("content-type", "application/json")
        .send();
    assert_eq!(response.text(), "400 Empty JSON Body\n");

    let response = client
        .post("/")
        .header("content-type", "application/json")
        .body("malformed")
        .send();
    assert_eq!(response.status, 400);
    // The original's reason is `Cannot parse the request`; ours says where the JSON breaks.
    assert_eq!(
        response.text(),
        "400 Malformed JSON Body: expected value at line 1 column 1\n"
    );
}

#[test]
fn test_invalid_form() {
    let client = TestClient::new(Root);
    assert_eq!(client.post("/").send().text(), ", ");

    let response = client
        .post("/")
        .header("content-type", "multipart/form-data; boundary=")
        .body("")
        .send();
    // The original's reason is `Cannot parse the request`; ours says what is wrong.
    assert_eq!(response.text(), "400 Malformed Multipart Body\n");
}
