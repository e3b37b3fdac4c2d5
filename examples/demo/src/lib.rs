//! The Quick Start of the original nanohttp, as a component.
//!
//! Run it: `cargo run --release -p nanohttp-host -- demo` (the host embeds this component), then
//! open <http://127.0.0.1:8080/>. Or build and serve it yourself:
//! `cargo build -p nanohttp-demo --target wasm32-wasip2 --release` and
//! `nanohttp target/wasm32-wasip2/release/nanohttp_demo.wasm`.

use nanohttp::prelude::*;
use serde::Serialize;

/// A tip, as the JSON API shows it.
#[derive(Debug, Serialize)]
pub struct Tip {
    id: u32,
    title: String,
}

impl Tip {
    fn new(id: u32) -> Self {
        Self {
            id,
            title: format!("Tip {id}"),
        }
    }
}

/// `/tips`: the tips API.
#[derive(Debug, Default)]
pub struct Tips;

#[rest_controller]
impl Tips {
    /// `GET /tips` lists the tips; `GET /tips/2` shows one.
    #[json]
    fn get(&self, tip_id: Option<u32>) -> Result<serde_json::Value, HttpStatus> {
        let value = match tip_id {
            None => serde_json::to_value((1..=3).map(Tip::new).collect::<Vec<_>>()),
            Some(id @ 1..=3) => serde_json::to_value(Tip::new(id)),
            Some(id) => {
                return Err(HttpStatus::not_found().with_reason(format!("Tip {id} not found")));
            }
        };
        value.map_err(|e| HttpStatus::internal_server_error().with_detail(e.to_string()))
    }

    /// `POST /tips/2` with a `title` updates a tip (here: logs it) and redirects to the list.
    #[action]
    fn post(&self, ctx: &mut Context, tip_id: Option<u32>) -> Result<(), HttpStatus> {
        let title = ctx.form()?.get("title").map(|title| title.into_owned());
        eprintln!("tip {tip_id:?} gets the title {title:?}");
        Err(HttpStatus::found("/tips/"))
    }
}

/// The application root.
#[derive(Debug, Default)]
pub struct Root {
    tips: Tips,
}

#[controller]
impl Root {
    #[child]
    fn tips(&self) -> &Tips {
        &self.tips
    }

    /// The home page, produced piece by piece like the original's generator.
    #[html]
    fn index(&self) -> Stream<[&'static str; 3]> {
        Stream([
            "<html><head><title>nanohttp Demo</title></head><body>\n",
            "<form method=\"POST\" action=\"/tips/2\">\n\
             <input type=\"text\" name=\"title\" />\n\
             <input type=\"submit\" value=\"Update\" />\n</form>\n",
            "</body></html>\n",
        ])
    }
}

impl Application for Root {}

nanohttp::export!(Root);

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;

    #[test]
    fn quick_start() {
        let client = TestClient::new(Root::default());
        let home = client.get("/").send();
        assert_eq!(home.status, 200);
        assert!(
            home.text()
                .contains("<form method=\"POST\" action=\"/tips/2\">")
        );

        let list = client.get("/tips").send().json();
        assert_eq!(
            list,
            serde_json::json!([
                {"id": 1, "title": "Tip 1"}, {"id": 2, "title": "Tip 2"}, {"id": 3, "title": "Tip 3"}
            ])
        );
        assert_eq!(
            client.get("/tips/2").send().json(),
            serde_json::json!({"id": 2, "title": "Tip 2"})
        );
        assert_eq!(client.get("/tips/9").send().status, 404);

        let post = client.post("/tips/2").form(&[("title", "New")]).send();
        assert_eq!(post.status, 302);
        assert_eq!(post.header("location"), Some("/tips/"));
    }
}
