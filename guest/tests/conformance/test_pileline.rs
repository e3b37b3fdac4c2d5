//! `nanohttp/tests/test_pileline.py` (sic): the request cycle and what handlers may return.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct Root;

#[controller]
impl Root {
    #[action]
    fn index(&self, ctx: &Context) -> String {
        // The original's `context.request_scheme` and `context.request_uri`.
        let scheme = ctx.uri().scheme_str().unwrap_or("");
        format!("Index: {scheme}, {}", ctx.uri())
    }
}

impl Application for Root {}

#[test]
fn test_basic_pipeline() {
    let response = TestClient::new(Root)
        .get("http://bddrest-interceptor/")
        .send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (200, "Index: http, http://bddrest-interceptor/")
    );
}

#[derive(Default)]
struct NoDefault;

#[controller]
impl NoDefault {
    #[action]
    fn foo(&self) -> &'static str {
        "Foo"
    }
}

impl Application for NoDefault {}

#[test]
fn test_no_default_handler() {
    let client = TestClient::new(NoDefault);
    let response = client.get("/foo").send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "Foo"));
    assert_eq!(client.get("/").send().status, 404);
}

#[derive(Default)]
struct Iterable;

#[controller]
impl Iterable {
    /// The original returns a list of strings; ours, the pieces as a `Stream`.
    #[action]
    fn index(&self) -> Stream<Vec<&'static str>> {
        Stream(vec!["a", "b"])
    }
}

impl Application for Iterable {}

#[test]
fn test_iterable_pipeline() {
    let response = TestClient::new(Iterable).get("/").send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "ab"));
}

// `test_not_iterable_response` (a handler returning `352345352`, a `ValueError` per request) and
// `test_iterable_but_bad_response` (a generator yielding an integer, a `TypeError`) have no run
// time equivalent: a handler returning an integer, or a `Stream` of integers, does not compile
// (`i32` implements neither `Reply` nor `Chunk`), with the hint of `Reply`'s
// `#[diagnostic::on_unimplemented]`. That compile error is the behaviour, checked by
// `guest/macros/tests/ui/bad_return.rs` and `bad_chunk.rs`.

#[derive(Default)]
struct Empty;

#[controller]
impl Empty {
    /// The original returns `None`.
    #[action]
    fn index(&self) {}
}

impl Application for Empty {}

#[test]
fn test_empty_response() {
    let response = TestClient::new(Empty).get("/").send();
    assert_eq!((response.status.as_u16(), response.text()), (200, ""));
}
