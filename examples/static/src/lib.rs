//! A static file server and nothing else: the component behind `nanohttp :Static`.
//!
//! It serves the directory the host maps in at `/site` (the `static.root` setting changes that):
//! `nanohttp --dir ./public::/site target/wasm32-wasip2/release/nanohttp_static.wasm`.

use nanohttp::prelude::*;
use nanohttp::{Outcome, Static};

/// Where the served directory appears inside the component unless `static.root` says otherwise.
pub const DEFAULT_ROOT: &str = "/site";

/// The root: every path is a file under the served directory.
#[derive(Debug)]
pub struct Root {
    files: Static,
}

impl Default for Root {
    fn default() -> Self {
        Self {
            files: Static::new(DEFAULT_ROOT),
        }
    }
}

impl Controller for Root {
    fn dispatch<'a>(&'a self, ctx: &mut Context, path: &[String]) -> Outcome<'a> {
        self.files.dispatch(ctx, path)
    }
}

impl Application for Root {
    fn app_init(&mut self, settings: &Settings) {
        if let Ok(root) = settings.get_as::<String>("static.root") {
            self.files = Static::new(root);
        }
    }
}

nanohttp::export!(Root);

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;

    #[test]
    fn serves_the_configured_root() {
        let dir =
            std::env::temp_dir().join(format!("nanohttp-static-example-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<h1>hello</h1>").unwrap();
        let settings = nanohttp::serde_json::json!({"static": {"root": dir}}).to_string();
        let client = TestClient::with_settings(Root::default(), &settings).unwrap();
        assert_eq!(client.get("/").send().text(), "<h1>hello</h1>");
        assert_eq!(client.get("/missing").send().status, 404);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
