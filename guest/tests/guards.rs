//! Form guards and per-handler body limits, natively.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct Root;

#[controller]
impl Root {
    #[text("POST", form_whitelist = (["a", "b"], "403 Only a and b"))]
    fn custom_whitelist(&self) -> &'static str {
        "ok"
    }

    #[text(prevent_form = "409 Quiet Please")]
    fn custom_prevent(&self) -> &'static str {
        "ok"
    }

    #[text("POST", prevent_empty_form)]
    fn needs(&self) -> &'static str {
        "ok"
    }

    #[text("POST", max_body_size = 4)]
    fn tiny(&self, ctx: &Context) -> Result<String, HttpStatus> {
        Ok(String::from_utf8_lossy(ctx.body()?).into_owned())
    }

    #[text("GET")]
    fn verb_first(&self) -> &'static str {
        "ok"
    }
}

impl Application for Root {}

#[test]
fn guards_with_custom_statuses() {
    let client = TestClient::new(Root);
    let cases = [
        (
            client
                .post("/custom_whitelist")
                .form(&[("a", "1"), ("b", "2")])
                .send(),
            200,
            "ok",
        ),
        (
            client.post("/custom_whitelist").form(&[("c", "1")]).send(),
            403,
            "403 Only a and b\n",
        ),
        (client.get("/custom_prevent").send(), 200, "ok"),
        (
            client.get("/custom_prevent?x").send(),
            409,
            "409 Quiet Please\n",
        ),
        (
            client.post("/needs").send(),
            400,
            "400 Empty Form Not Allowed\n",
        ),
        (
            client
                .post("/needs")
                .json(&serde_json::json!({"a": 1}))
                .send(),
            200,
            "ok",
        ),
        (client.post("/tiny").body("1234").send(), 200, "1234"),
        (
            client.post("/tiny").body("12345").send(),
            413,
            "413 Payload Too Large\n",
        ),
        // An unknown length (chunked) body is cut off at the limit just the same.
        (
            client
                .post("/tiny")
                .body_reader(std::io::Cursor::new(b"123456789".to_vec()))
                .send(),
            413,
            "413 Payload Too Large\n",
        ),
    ];
    for (index, (response, status, body)) in cases.into_iter().enumerate() {
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (status, body),
            "case {index}"
        );
    }
}

#[test]
fn verb_is_checked_before_guards() {
    let client = TestClient::new(Root);
    // 405 (verb) comes before 400 (guards), as in the original.
    assert_eq!(client.get("/custom_whitelist?c=1").send().status, 405);
}
