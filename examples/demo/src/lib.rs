//! The Quick Start of the original nanohttp, as a component.
//!
//! Run it: `cargo run --release -p nanohttp-host -- demo` (the host embeds this component), then
//! open <http://127.0.0.1:8080/>. Or build and serve it yourself:
//! `cargo build -p nanohttp-demo --target wasm32-wasip2 --release` and
//! `nanohttp target/wasm32-wasip2/release/nanohttp_demo.wasm`.

use nanohttp::kv::Bucket;
use nanohttp::prelude::*;
use serde::Serialize;

/// A tip, as the JSON API shows it.
#[derive(Debug, Serialize)]
pub struct Tip {
    id: u32,
    title: String,
}

/// The tips there are.
const IDS: std::ops::RangeInclusive<u32> = 1..=3;

impl Tip {
    /// The tip as the store has it: its title is `tip:ID` in the `default` bucket, else
    /// `Tip ID`.
    fn load(bucket: &Bucket, id: u32) -> Result<Self, HttpStatus> {
        let title = bucket.get_string(&format!("tip.{id}"))?;
        Ok(Self {
            id,
            title: title.unwrap_or_else(|| format!("Tip {id}")),
        })
    }

    fn all() -> Result<Vec<Self>, HttpStatus> {
        let bucket = Bucket::open_default()?;
        IDS.map(|id| Self::load(&bucket, id)).collect()
    }
}

fn not_found(id: u32) -> HttpStatus {
    HttpStatus::not_found().with_reason(format!("Tip {id} not found"))
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
            None => serde_json::to_value(Tip::all()?),
            Some(id) if IDS.contains(&id) => {
                serde_json::to_value(Tip::load(&Bucket::open_default()?, id)?)
            }
            Some(id) => return Err(not_found(id)),
        };
        value.map_err(|e| HttpStatus::internal_server_error().with_detail(e.to_string()))
    }

    /// `POST /tips/2` with a non-empty `title` stores the tip's new title (the original's
    /// `TipStore.get(tip_id).update(...)`, made true) and redirects to the list.
    #[action]
    fn post(&self, ctx: &mut Context, tip_id: u32) -> Result<Redirect, HttpStatus> {
        if !IDS.contains(&tip_id) {
            return Err(not_found(tip_id));
        }
        let title = ctx
            .form()?
            .get("title")
            .map(|title| title.trim().to_owned());
        let Some(title) = title.filter(|title| !title.is_empty()) else {
            return Err(HttpStatus::bad_request().with_reason("A title is required"));
        };
        Bucket::open_default()?.set(&format!("tip.{tip_id}"), title.as_bytes())?;
        Ok(Redirect::found("/tips/"))
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

    /// The home page, produced piece by piece like the original's generator: the form that
    /// updates tip 2, then the tips as the store has them.
    #[html]
    fn index(&self) -> Result<Stream<Vec<String>>, HttpStatus> {
        let mut page = vec![
            "<html><head><title>nanohttp Demo</title></head><body>\n".to_owned(),
            "<form method=\"POST\" action=\"/tips/2\">\n\
             <input type=\"text\" name=\"title\" />\n\
             <input type=\"submit\" value=\"Update\" />\n</form>\n<ul>\n"
                .to_owned(),
        ];
        for tip in Tip::all()? {
            page.push(format!(
                "<li id=\"tip-{}\">{}</li>\n",
                tip.id,
                escape(&tip.title)
            ));
        }
        page.push("</ul>\n</body></html>\n".to_owned());
        Ok(Stream(page))
    }
}

/// Text made safe to put in HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

        let post = client.post("/tips/2").form(&[("title", "New <b>")]).send();
        assert_eq!(post.status, 302);
        assert_eq!(post.header("location"), Some("/tips/"));
        assert_eq!(
            client.get("/tips/2").send().json(),
            serde_json::json!({"id": 2, "title": "New <b>"})
        );
        assert_eq!(client.get("/tips").send().json()[1]["title"], "New <b>");
        assert!(
            client
                .get("/")
                .send()
                .text()
                .contains("<li id=\"tip-2\">New &lt;b&gt;</li>")
        );
        assert_eq!(
            client.post("/tips/9").form(&[("title", "x")]).send().status,
            404
        );
        assert_eq!(
            client.post("/tips/2").form(&[("title", " ")]).send().status,
            400
        );
    }

    #[test]
    fn store_unavailable_is_an_error_status() {
        // A store with no `default` bucket: the handlers answer 500, they do not panic.
        let client = TestClient::new(Root::default())
            .with_kv(nanohttp::kv::MemoryStore::with_buckets(&["other"]));
        assert_eq!(client.get("/tips").send().status, 500);
        assert_eq!(
            client.post("/tips/2").form(&[("title", "x")]).send().status,
            500
        );
    }
}
