//! `nanohttp/tests/test_object_dispatcher.py`: object dispatch through child controllers.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct BarController;

#[controller]
impl BarController {
    #[action]
    fn index(&self, args: Vec<String>) -> String {
        format!("Bars, {}", args.join(", "))
    }

    /// Not a handler: no action marker.
    #[allow(dead_code)]
    fn private(&self) -> &'static str {
        unreachable!()
    }

    #[action]
    fn lorem(&self, args: Vec<String>) -> String {
        format!("Lorem, {}", args.join(", "))
    }
}

/// The original's `RegularClass`: a member that is not a controller.
#[derive(Default)]
struct RegularClass;

#[derive(Default)]
struct Root {
    bars: BarController,
    #[allow(dead_code)]
    requlars: RegularClass,
}

#[controller]
impl Root {
    #[child]
    fn bars(&self) -> &BarController {
        &self.bars
    }

    #[action]
    fn index(&self) -> &'static str {
        "Index"
    }

    #[action]
    fn foo(&self) -> &'static str {
        "Foo"
    }

    #[allow(dead_code)]
    fn private(&self) -> &'static str {
        unreachable!()
    }
}

impl Application for Root {}

#[test]
fn test_object_dispatcher() {
    let client = TestClient::new(Root::default());
    let cases = [
        ("/", 200, "Index"),
        ("/foo", 200, "Foo"),
        ("/a", 404, "404 Not Found\n"),
        ("/a/", 404, "404 Not Found\n"),
        ("/requlars", 404, "404 Not Found\n"),
        ("/private", 404, "404 Not Found\n"),
        ("/bars", 200, "Bars, "),
        ("/bars/a", 200, "Bars, a"),
        ("/bars/lorem", 200, "Lorem, "),
        ("/bars/lorem/a/b", 200, "Lorem, a, b"),
        // The original answers `404`: `getattr` finds the undecorated method `private`. Ours sees
        // handlers only; `private` is invisible to dispatch, so it is `index`'s argument, and the
        // method is never reachable either way.
        ("/bars/private", 200, "Bars, private"),
    ];
    for (path, status, body) in cases {
        let response = client.get(path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (status, body),
            "{path}"
        );
    }
}
