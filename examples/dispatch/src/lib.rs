//! The dispatch guide of the original nanohttp, as one component: object dispatch at the root,
//! its REST controller at `/rest`, its regex controller at `/regex`.
//!
//! Build and run it:
//! `cargo build -p nanohttp-dispatch --target wasm32-wasip2 --release` and
//! `cargo run --release -p nanohttp-host -- target/wasm32-wasip2/release/nanohttp_dispatch.wasm`.

use nanohttp::prelude::*;

/// `/children`: a plain controller.
#[derive(Debug, Default)]
pub struct ChildController;

#[controller]
impl ChildController {
    #[html]
    fn index(&self) -> &'static str {
        "<h1>This is child controller</h1>"
    }

    #[html]
    fn name(&self) -> &'static str {
        "<h1>children controller</h1>"
    }

    #[html]
    fn edit(&self, name: String) -> String {
        format!("<h1>children edited</h1><p>{}</p>", escape(&name))
    }
}

/// `/rest`: verb dispatch.
#[derive(Debug, Default)]
pub struct Rest;

#[rest_controller]
impl Rest {
    #[html]
    fn say_hello(&self) -> &'static str {
        "<h1>Hello!</h1>"
    }

    #[html]
    fn get(&self, some_id: u32) -> String {
        format!("<h1>You called GET Method. (some_id={some_id})</h1>")
    }

    #[html]
    fn delete(&self) -> &'static str {
        "<h1>You called DELETE Method</h1>"
    }

    #[html]
    fn post(&self) -> &'static str {
        "<h1>You called POST Method</h1>"
    }

    #[html]
    fn patch(&self) -> &'static str {
        "<h1>You called PATCH Method</h1>"
    }
}

/// `/regex`: routes by regular expression; named captures bind to parameters by name.
#[derive(Debug, Default)]
pub struct Regex;

#[regex_controller]
impl Regex {
    #[json]
    #[route(r"/user/(?P<installation_id>\d+)/access_tokens")]
    fn access_tokens(&self, installation_id: u64) -> serde_json::Value {
        serde_json::json!({ "installation_id": installation_id })
    }
}

/// The root: `/` and the three controllers above.
#[derive(Debug, Default)]
pub struct Root {
    children: ChildController,
    rest: Rest,
    regex: Regex,
}

#[controller]
impl Root {
    #[html]
    fn index(&self) -> &'static str {
        "<h1>i am root</h1>"
    }

    /// `POST /echo` answers with the request body (not in the guide; the end-to-end tests use
    /// it to check bodies arrive whole, sized or chunked).
    #[binary("POST")]
    fn echo(&self, ctx: &Context) -> Result<Vec<u8>, HttpStatus> {
        Ok(ctx.body()?.to_vec())
    }

    #[child]
    fn children(&self) -> &ChildController {
        &self.children
    }

    #[child]
    fn rest(&self) -> &Rest {
        &self.rest
    }

    #[child]
    fn regex(&self) -> &Regex {
        &self.regex
    }
}

impl Application for Root {}

nanohttp::export!(Root);

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;

    /// A smoke test without wasm; `tests/tests/examples.rs` asks every route over HTTP.
    #[test]
    fn one_route_per_controller() {
        let client = TestClient::new(Root::default());
        assert_eq!(
            client.get("/children/edit/%3Cb%3E").send().text(),
            "<h1>children edited</h1><p>&lt;b&gt;</p>"
        );
        assert_eq!(
            client.delete("/rest").send().text(),
            "<h1>You called DELETE Method</h1>"
        );
        assert_eq!(
            client.get("/regex/user/7/access_tokens").send().json()["installation_id"],
            7
        );
        assert_eq!(client.post("/echo").body("ping").send().body, b"ping");
        assert_eq!(client.put("/rest").send().status, 405);
    }
}
