//! Settings in practice: the application embeds its defaults; the host layers `-c` files, `-d`
//! directories and `-o` overrides over them.
//!
//! Build and run it:
//! `cargo build -p nanohttp-config --target wasm32-wasip2 --release` and
//! `cargo run --release -p nanohttp-host -- -o debug=true target/wasm32-wasip2/release/nanohttp_config.wasm`.

use nanohttp::prelude::*;

/// The root.
#[derive(Debug, Default)]
pub struct Root;

#[controller]
impl Root {
    /// The original's settings page.
    #[html]
    fn index(&self, ctx: &Context) -> String {
        format!(
            "<html><head><title>nanohttp config</title></head><body>\n\
             <h2>debug flag is: {}</h2>\n</body></html>\n",
            ctx.settings().debug()
        )
    }

    /// The merged settings as JSON (for tests and for curious operators).
    #[json]
    fn settings(&self, ctx: &Context) -> Result<serde_json::Value, HttpStatus> {
        serde_json::to_value(ctx.settings().value())
            .map_err(|e| HttpStatus::internal_server_error().with_detail(e.to_string()))
    }
}

impl Application for Root {
    // YAML, converted to JSON at compile time: the component carries no YAML parser.
    const SETTINGS: &'static str = nanohttp::yaml!(
        "
greeting: hello from the application defaults
app:
  name: config-example
  page_size: 10
"
    );
}

nanohttp::export!(Root);

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;

    #[test]
    fn layers_merge() {
        let client =
            TestClient::with_settings(Root, nanohttp::yaml!("debug: true\napp: {page_size: 20}"))
                .unwrap();
        assert!(
            client
                .get("/")
                .send()
                .text()
                .contains("debug flag is: true")
        );
        let settings = client.get("/settings").send().json();
        assert_eq!(
            settings["app"],
            serde_json::json!({"name": "config-example", "page_size": 20})
        );
        assert_eq!(settings["cookie"]["secure"], false);
    }
}
