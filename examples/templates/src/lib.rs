//! The template recipe of the original's documentation, with minijinja: handlers return data,
//! templates embedded in the component turn it into HTML (autoescaped).
//!
//! Build and run it:
//! `cargo build -p nanohttp-templates --target wasm32-wasip2 --release` and
//! `cargo run --release -p nanohttp-host -- target/wasm32-wasip2/release/nanohttp_templates.wasm`.

use std::sync::LazyLock;

use minijinja::Environment;
use nanohttp::prelude::*;
use serde::Serialize;

/// The templates, compiled once per component instance.
static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut templates = Environment::new();
    for (name, source) in [
        ("layout.html", include_str!("../templates/layout.html")),
        ("index.html", include_str!("../templates/index.html")),
    ] {
        templates
            .add_template(name, source)
            .expect("the embedded templates are valid; the tests render each");
    }
    templates
});

/// Renders `name` with `data`; a template error is a `500` whose detail shows in debug mode.
fn render(name: &str, data: impl Serialize) -> Result<String, HttpStatus> {
    TEMPLATES
        .get_template(name)
        .and_then(|template| template.render(data))
        .map_err(|error| {
            HttpStatus::internal_server_error().with_detail(format!("template {name}: {error:#}"))
        })
}

/// What `index.html` shows.
#[derive(Debug, Serialize)]
struct Index {
    title: String,
    headers: Vec<(String, String)>,
}

/// The root.
#[derive(Debug, Default)]
pub struct Root;

#[controller]
impl Root {
    /// The request's headers, the way the original's mako example shows its WSGI environ.
    #[html]
    fn index(&self, ctx: &Context, #[query] title: Option<String>) -> Result<String, HttpStatus> {
        let mut headers: Vec<(String, String)> = ctx
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        headers.sort();
        render(
            "index.html",
            Index {
                title: title.unwrap_or_else(|| "Request headers".to_owned()),
                headers,
            },
        )
    }
}

impl Application for Root {}

nanohttp::export!(Root);

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;

    #[test]
    fn renders_escaped_html() {
        let client = TestClient::new(Root);
        let page = client
            .get("/?title=%3Cscript%3E")
            .header("x-demo", "a & b")
            .send();
        assert_eq!(page.status, 200);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let html = page.text();
        assert!(
            html.contains("<title>nanohttp template example</title>"),
            "{html}"
        );
        assert!(html.contains("<h1>&lt;script&gt;</h1>"), "{html}");
        assert!(html.contains("<li><b>x-demo:</b> a &amp; b</li>"), "{html}");
    }
}
