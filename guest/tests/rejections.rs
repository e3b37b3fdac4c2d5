//! Typed rejections through a whole request: a `render_error` hook matches on their kinds, the
//! client reads what to fix; redirects are successes.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;
use nanohttp::{FieldRule, Rejection, default_error_body, validate::Field};

#[derive(Default)]
struct Root;

#[derive(serde::Deserialize)]
struct Tip {
    #[expect(dead_code, reason = "only its presence is checked")]
    title: String,
    stars: u8,
}

#[controller]
impl Root {
    #[json("POST")]
    fn tips(&self, ctx: &Context) -> Result<u8, HttpStatus> {
        let tip: Tip = ctx.form()?.deserialize()?;
        Ok(tip.stars)
    }

    #[text]
    fn page(&self, #[query] page: u32) -> String {
        page.to_string()
    }

    #[text("POST")]
    fn signup(&self, ctx: &mut Context) -> Result<&'static str, HttpStatus> {
        ctx.validate(&[Field::new("age").required().integer().minimum(18)])?;
        Ok("welcome")
    }

    #[text("POST")]
    fn upload(&self, ctx: &Context) -> Result<String, HttpStatus> {
        Ok(ctx.multipart()?.next_part()?.is_some().to_string())
    }

    #[action("POST")]
    fn save(&self, ctx: &mut Context) -> Result<Redirect, HttpStatus> {
        ctx.set_cookie(Cookie::new("flash", "saved"));
        Ok(Redirect::see_other("/tips/"))
    }

    #[action]
    fn moved(&self) -> Redirect {
        Redirect::permanent("/new")
    }

    /// The old way still compiles and answers the same.
    #[action]
    fn legacy(&self) -> Result<(), HttpStatus> {
        Err(HttpStatus::found("/tips/"))
    }
}

/// Renders every rejection as `kind: reason`, other errors as the framework does.
impl Application for Root {
    fn render_error(&self, ctx: &mut Context, error: &HttpStatus) -> Body<'static> {
        let kind = match error.rejection() {
            Some(Rejection::InvalidForm { .. }) => "invalid-form",
            Some(Rejection::MalformedJson { .. }) => "malformed-json",
            Some(Rejection::MissingQueryArgument { .. }) => "missing-query",
            Some(Rejection::InvalidQueryArgument { .. }) => "invalid-query",
            Some(Rejection::InvalidField {
                rule: FieldRule::Minimum,
                ..
            }) => "too-small",
            Some(Rejection::ExpectedMultipart { media_type }) if media_type.is_empty() => "no-type",
            Some(Rejection::UnsupportedFormType { .. } | Rejection::ExpectedMultipart { .. }) => {
                "media-type"
            }
            Some(_) => "other-rejection",
            None => return default_error_body(ctx, error),
        };
        ctx.set_content_type("text/plain");
        Body::Bytes(format!("{kind}: {}", error.reason()).into_bytes().into())
    }
}

#[test]
fn a_render_error_hook_matches_on_kinds() {
    let client = TestClient::new(Root);
    let cases = [
        (
            client.get("/page").send(),
            400,
            "missing-query: Missing query parameter: page",
        ),
        (
            client.get("/page?page=x").send(),
            400,
            "invalid-query: Invalid value for query parameter: page",
        ),
        (
            client.post("/signup").form(&[("age", "17")]).send(),
            400,
            "too-small: Field: age Must Be At Least 18",
        ),
        (
            client.post("/upload").form(&[("a", "1")]).send(),
            415,
            "media-type: Expected multipart/form-data",
        ),
        (
            client.post("/upload").send(),
            415,
            "no-type: Expected multipart/form-data",
        ),
        (
            client
                .post("/tips")
                .header("content-type", "application/json")
                .body("{\"title\": ")
                .send(),
            400,
            "malformed-json: Malformed JSON Body: EOF while parsing a value at line 1 column 10",
        ),
        (
            client.post("/tips").form(&[("a", "1"); 1001]).send(),
            413,
            "other-rejection: Too Many Form Fields",
        ),
    ];
    for (response, status, body) in cases {
        assert_eq!((response.status.as_u16(), response.text()), (status, body));
    }
    // Not a rejection: the application's own status renders as always.
    assert_eq!(client.get("/nowhere").send().text(), "404 Not Found\n");
}

/// A 4xx says what the client got wrong: the missing field is named.
#[test]
fn a_json_body_missing_a_field_names_it() {
    #[derive(Default)]
    struct Plain;

    #[controller]
    impl Plain {
        #[json("POST")]
        fn tips(&self, ctx: &Context) -> Result<u8, HttpStatus> {
            Ok(ctx.form()?.deserialize::<Tip>()?.stars)
        }
    }
    impl Application for Plain {}

    let client = TestClient::new(Plain);
    let missing = client
        .post("/tips")
        .json(&serde_json::json!({"stars": 3}))
        .send();
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json(),
        serde_json::json!({"message": "Invalid Form: missing field `title`", "status": 400})
    );
    let wrong = client
        .post("/tips")
        .json(&serde_json::json!({"title": "t", "stars": "many"}))
        .send();
    assert_eq!(
        wrong.json()["message"],
        "Invalid Form: stars: invalid type: string \"many\", expected u8"
    );
    let fine = client
        .post("/tips")
        .json(&serde_json::json!({"title": "t", "stars": 3}))
        .send();
    assert_eq!(fine.text(), "3");
}

#[test]
fn redirects_are_successes() {
    let client = TestClient::new(Root);
    let response = client.post("/save").send();
    assert_eq!(response.status, 303);
    assert_eq!(response.header("location"), Some("/tips/"));
    assert_eq!(response.header("set-cookie"), Some("flash=saved"));
    assert_eq!(response.header("content-length"), Some("0"));
    assert!(response.body.is_empty(), "no error body is rendered");

    let moved = client.get("/moved").send();
    assert_eq!(
        (moved.status.as_u16(), moved.header("location")),
        (308, Some("/new"))
    );

    let legacy = client.get("/legacy").send();
    assert_eq!(
        (legacy.status.as_u16(), legacy.header("location")),
        (302, Some("/tips/"))
    );
}
