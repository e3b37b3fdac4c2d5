//! The smallest useful application: `GET /` answers `Hello, world!` as text.
//!
//! Build and run it:
//! `cargo build -p nanohttp-hello --target wasm32-wasip2 --release` and
//! `cargo run --release -p nanohttp-host -- target/wasm32-wasip2/release/nanohttp_hello.wasm`.

use nanohttp::prelude::*;

/// The root.
#[derive(Debug, Default)]
pub struct Root;

#[controller]
impl Root {
    #[text]
    fn index(&self) -> &'static str {
        "Hello, world!"
    }
}

impl Application for Root {}

nanohttp::export!(Root);

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;

    #[test]
    fn hello() {
        let response = TestClient::new(Root).get("/").send();
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(response.text(), "Hello, world!");
    }
}
