//! `nanohttp/tests/test_action_decorator.py`: verbs, content types and form guards of actions.

use std::collections::HashMap;

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct Verbs;

#[controller]
impl Verbs {
    #[action("GET", "VIEW")]
    fn index(&self, a: String, b: String) -> String {
        format!("{a}, {b}")
    }
}

impl Application for Verbs {}

#[test]
fn test_action_decorator_verbs() {
    let client = TestClient::new(Verbs);
    let response = client.get("/1/2").send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "1, 2"));
    assert_eq!(client.request("VIEW", "/1/2").send().text(), "1, 2");
    let response = client.put("/1/2").send();
    assert_eq!(response.status, 405);
    // Ours also says which verbs would do (the original sends no `Allow`).
    assert_eq!(response.header("allow"), Some("GET, VIEW, HEAD, OPTIONS"));
}

#[derive(Default)]
struct ContentType;

#[controller]
impl ContentType {
    #[action(encoding = "utf32", content_type = "text/plain")]
    fn index(&self, a: String, b: String) -> String {
        format!("{a}, {b}")
    }
}

impl Application for ContentType {}

#[test]
fn test_action_decorator_content_type() {
    let response = TestClient::new(ContentType).get("/1/2").send();
    assert_eq!(response.status, 200);
    // The charset is a label: Rust strings are UTF-8, so the body stays UTF-8 (the original
    // encoded it to UTF-32; `encoding` is documented as a label only).
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf32")
    );
    assert_eq!(response.text(), "1, 2");
}

#[derive(Default)]
struct PreventForm;

#[controller]
impl PreventForm {
    #[action(prevent_form)]
    fn index(&self) -> &'static str {
        "default"
    }

    #[action(prevent_form = "777 Form Not Allowed Here")]
    fn custom_status(&self) -> &'static str {
        "custom"
    }
}

impl Application for PreventForm {}

#[test]
fn test_action_decorator_prevent_form() {
    let client = TestClient::new(PreventForm);
    assert_eq!(client.post("/").send().status, 200);

    let response = client
        .post("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("foo=1")
        .send();
    assert_eq!(response.status, 400);
    assert_eq!(response.text(), "400 Form Not Allowed\n");

    let response = client.post("/custom_status").form(&[("a", "1")]).send();
    assert_eq!(response.status, 777);
    assert_eq!(response.text(), "777 Form Not Allowed Here\n");

    assert_eq!(client.post("/custom_status").send().status, 200);
    // A custom verb (the original's issue #123).
    let response = client.request("LIST", "/custom_status").send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "custom"));
}

#[derive(Default)]
struct PreventFormRest;

#[rest_controller]
impl PreventFormRest {
    #[action(prevent_form)]
    fn foo(&self) -> &'static str {
        "default"
    }
}

impl Application for PreventFormRest {}

#[test]
fn test_action_decorator_prevent_form_rest_controller() {
    let response = TestClient::new(PreventFormRest).request("FOO", "/").send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (200, "default")
    );
}

#[derive(Default)]
struct PreventEmptyForm;

#[controller]
impl PreventEmptyForm {
    #[action(prevent_empty_form)]
    fn index(&self) -> &'static str {
        "default"
    }

    #[action(prevent_empty_form = "777 Form Is Required Here")]
    fn custom_status(&self) -> &'static str {
        "custom"
    }
}

impl Application for PreventEmptyForm {}

#[test]
fn test_action_decorator_prevent_empty_form() {
    let client = TestClient::new(PreventEmptyForm);
    assert_eq!(client.post("/").form(&[("a", "1")]).send().status, 200);
    // `form={}`: an empty url-encoded body; `form=None`: no body at all.
    let response = client.post("/").form(&[]).send();
    assert_eq!(response.status, 400);
    // The original's reason is `Empty Form`; ours names what is refused, like `Form Not Allowed`.
    assert_eq!(response.text(), "400 Empty Form Not Allowed\n");
    assert_eq!(client.post("/").send().status, 400);

    assert_eq!(client.post("/custom_status").form(&[]).send().status, 777);
    assert_eq!(client.post("/custom_status").send().status, 777);
    let response = client.post("/custom_status").form(&[("a", "1")]).send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "custom"));
}

#[derive(Default)]
struct FormWhitelist;

#[controller]
impl FormWhitelist {
    #[action(form_whitelist = ["a", "b"])]
    fn index(&self) -> &'static str {
        "default"
    }

    #[action(form_whitelist = (["a", "b"], "888 Only a & b accepted"))]
    fn custom_status(&self) -> &'static str {
        "custom"
    }
}

impl Application for FormWhitelist {}

#[test]
fn test_action_decorator_form_whitelist() {
    let client = TestClient::new(FormWhitelist);
    assert_eq!(client.post("/").form(&[("a", "1")]).send().status, 200);
    let both = client.post("/").form(&[("a", "1"), ("b", "2")]).send();
    assert_eq!(both.status, 200);
    let response = client.post("/").form(&[("a", "1"), ("c", "2")]).send();
    assert_eq!(response.status, 400);
    assert_eq!(response.text(), "400 Field: c Not Allowed\n");

    let response = client.post("/custom_status").form(&[("c", "2")]).send();
    assert_eq!(response.status, 888);
    assert_eq!(response.text(), "888 Only a & b accepted\n");
    let response = client.post("/custom_status").form(&[("a", "2")]).send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "custom"));
}

#[derive(Default)]
struct Decorators;

#[controller]
impl Decorators {
    #[html]
    fn html(&self) -> &'static str {
        "<html></html>"
    }

    #[text]
    fn text(&self) -> &'static str {
        "abc"
    }

    #[xml]
    fn xml(&self) -> &'static str {
        "<xml></xml>"
    }

    #[binary]
    fn binary(&self) -> &'static [u8] {
        b"abc"
    }
}

impl Application for Decorators {}

/// The body and content type of `GET path` on [`Decorators`].
fn decorated(path: &str) -> (u16, Vec<u8>, String) {
    let response = TestClient::new(Decorators).get(path).send();
    let content_type = response.header("content-type").unwrap_or("").to_owned();
    (response.status.as_u16(), response.body, content_type)
}

#[test]
fn test_html_decorator() {
    assert_eq!(
        decorated("/html"),
        (
            200,
            b"<html></html>".to_vec(),
            "text/html; charset=utf-8".into()
        )
    );
}

#[derive(Default)]
struct JsonRoot;

/// The original's object with a `to_dict()`: in Rust, any `Serialize` type.
#[derive(serde::Serialize)]
struct Custom {
    c: u32,
}

#[controller]
impl JsonRoot {
    #[json]
    fn index(&self, a: String, b: String) -> serde_json::Value {
        serde_json::json!({ "a": a, "b": b })
    }

    #[json]
    fn custom(&self) -> Custom {
        Custom { c: 1 }
    }

    #[json]
    fn non_object(&self, value_type: String) -> Result<serde_json::Value, HttpStatus> {
        match value_type.as_str() {
            "None" => Ok(serde_json::Value::Null),
            "str" => Ok("Yes".into()),
            "int" => Ok(123.into()),
            _ => Err(HttpStatus::not_found()),
        }
    }

    /// A value JSON cannot represent (map keys must be strings).
    #[json]
    fn badobject(&self) -> HashMap<(u8, u8), u8> {
        HashMap::from([((1, 2), 3)])
    }
}

impl Application for JsonRoot {}

#[test]
fn test_json_decorator() {
    let client = TestClient::new(JsonRoot);
    let response = client.get("/1/2").send();
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), serde_json::json!({"a": "1", "b": "2"}));
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=utf-8")
    );

    let response = client.get("/custom").send();
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), serde_json::json!({"c": 1}));

    // The original lets the `ValueError` escape to the server; ours answers `500` (nothing a
    // handler returns may crash the component), with the serde error only in debug mode.
    let response = client.get("/badobject").send();
    assert_eq!(response.status, 500);
    assert_eq!(
        response.json(),
        serde_json::json!({"message": "Internal Server Error", "status": 500})
    );

    for (path, value) in [
        ("/non_object/None", serde_json::Value::Null),
        ("/non_object/str", "Yes".into()),
        ("/non_object/int", 123.into()),
    ] {
        let response = client.get(path).send();
        assert_eq!(
            (response.status.as_u16(), response.json()),
            (200, value),
            "{path}"
        );
    }
}

#[test]
fn test_text_decorator() {
    assert_eq!(
        decorated("/text"),
        (200, b"abc".to_vec(), "text/plain; charset=utf-8".into())
    );
}

#[test]
fn test_xml_decorator() {
    assert_eq!(
        decorated("/xml"),
        (
            200,
            b"<xml></xml>".to_vec(),
            "application/xml; charset=utf-8".into()
        )
    );
}

#[test]
fn test_binary_decorator() {
    // The original says `application/octet`, which is not a registered type; ours is the
    // standard `application/octet-stream`. No charset in both.
    assert_eq!(
        decorated("/binary"),
        (200, b"abc".to_vec(), "application/octet-stream".into())
    );
}
