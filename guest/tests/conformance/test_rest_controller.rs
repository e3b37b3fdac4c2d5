//! `nanohttp/tests/test_rest_controller.py`: verb dispatch, custom verbs, nested controllers.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct Root;

#[rest_controller]
impl Root {
    #[action]
    fn index(&self) -> &'static str {
        unreachable!("no verb is called `index`, and no test names it")
    }

    #[action]
    fn foo(&self, args: Vec<String>) -> String {
        format!("Foo, {}", args.join(", "))
    }

    #[allow(dead_code)]
    fn private(&self) -> &'static str {
        unreachable!()
    }
}

impl Application for Root {}

#[test]
fn test_rest_controller() {
    let client = TestClient::new(Root);
    let cases = [
        ("foo", "/", 200, "Foo, "),
        ("FOO", "/", 200, "Foo, "),
        ("FOO", "/a", 200, "Foo, a"),
        ("FOO", "/a/b", 200, "Foo, a, b"),
        ("GET", "/", 405, "405 Method Not Allowed\n"),
        // The original answers both with `404` (`getattr` finds the undecorated `private`).
        // Ours sees handlers only: `private` is an argument of the verb's handler, `foo`, and
        // GET has no handler (`405`); the method is unreachable either way.
        ("foo", "/private", 200, "Foo, private"),
        ("GET", "/private", 405, "405 Method Not Allowed\n"),
    ];
    for (verb, path, status, body) in cases {
        let response = client.request(verb, path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (status, body),
            "{verb} {path}"
        );
    }
}

#[derive(Default)]
struct Bars;

#[rest_controller]
impl Bars {
    #[action]
    fn get(&self, args: Vec<String>) -> String {
        format!("Bars, {}", args.join(", "))
    }
}

#[derive(Default)]
struct Nested {
    bars: Bars,
}

#[rest_controller]
impl Nested {
    #[child]
    fn bars(&self) -> &Bars {
        &self.bars
    }

    #[action]
    fn get(&self, args: Vec<String>) -> String {
        args.join(", ")
    }
}

impl Application for Nested {}

#[test]
fn test_nested_rest_controllers() {
    let client = TestClient::new(Nested::default());
    for (path, body) in [("/", ""), ("/bars", "Bars, "), ("/bars/a", "Bars, a")] {
        let response = client.get(path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (200, body),
            "{path}"
        );
    }
}
