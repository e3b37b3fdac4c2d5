//! `nanohttp/tests/test_static_controller.py`: files from a directory, as the root and nested.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;
use nanohttp::{Outcome, Static};

use crate::support::TempDir;

fn tree(name: &str) -> TempDir {
    TempDir::new(name, &[("a/a1", "A1"), ("a/a2", "A2"), ("b", "B")])
}

/// `Static` as the application itself (the original passes it to `Application` directly).
struct Root(Static);

impl Controller for Root {
    fn dispatch<'a>(&'a self, ctx: &mut Context, path: &[String]) -> Outcome<'a> {
        self.0.dispatch(ctx, path)
    }
}

impl Application for Root {}

#[test]
fn test_static_controller() {
    let dir = tree("root");
    let client = TestClient::new(Root(Static::new(dir.path()).default_document(Some("b"))));
    let cases = [
        ("/", 200, "B"),
        ("/a/a1", 200, "A1"),
        ("/a/a2", 200, "A2"),
        ("/a/a3", 404, "404 Not Found\n"),
        // The original resolves dot segments (`403` above the root, `200` for `/a/../a/a2`); ours
        // refuses every `..` segment with `404`: clients remove dot segments before sending
        // (RFC 3986, 5.2.4), so only crafted requests have them, and a 404 tells them nothing.
        ("/../", 404, "404 Not Found\n"),
        ("/a/../a/a2", 404, "404 Not Found\n"),
    ];
    for (path, status, body) in cases {
        let response = client.get(path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (status, body),
            "{path}"
        );
    }

    // The original changes `default_document` on the live controller; ours is set when it is
    // built (controllers are shared by requests, so they are not changed while serving).
    for document in [Some("BadFile"), None] {
        let client = TestClient::new(Root(Static::new(dir.path()).default_document(document)));
        assert_eq!(client.get("/").send().status, 404, "{document:?}");
    }
}

struct Nested {
    static_: Static,
}

#[controller]
impl Nested {
    #[child(name = "static")]
    fn static_(&self) -> &Static {
        &self.static_
    }
}

impl Application for Nested {}

#[test]
fn test_nested_static_controller() {
    let dir = tree("nested");
    let client = TestClient::new(Nested {
        static_: Static::new(dir.path()).default_document(Some("b")),
    });
    assert_eq!(client.get("/").send().status, 404);
    for (path, body) in [("/static/b", "B"), ("/static/a/a1", "A1")] {
        let response = client.get(path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (200, body),
            "{path}"
        );
    }
}
