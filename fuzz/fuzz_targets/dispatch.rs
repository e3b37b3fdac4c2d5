//! The guest's dispatcher on arbitrary methods, paths and query strings, natively through
//! `nanohttp::testing::TestClient`, on a small tree with a child controller, a REST controller,
//! a regex controller, typed positional and query arguments.
//!
//! Input: `METHOD NUL REQUEST-TARGET` (anything `http` accepts as a URI). Properties: nothing
//! panics, and nothing a client sends gets a 5xx (the tree's handlers never fail).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Debug, Default)]
struct Items;

#[rest_controller]
impl Items {
    #[json]
    fn get(&self, id: Option<u32>) -> nanohttp::serde_json::Value {
        nanohttp::serde_json::json!({ "id": id })
    }

    #[text]
    fn post(&self, id: u32, rest: Vec<String>) -> String {
        format!("{id} {rest:?}")
    }
}

#[derive(Debug, Default)]
struct Users;

#[regex_controller]
impl Users {
    #[text]
    #[route(r"/(?P<user>\w+)/posts/(?P<post>\d+)")]
    fn post(&self, user: String, post: u64) -> String {
        format!("{user} {post}")
    }
}

#[derive(Debug, Default)]
struct Root {
    items: Items,
    users: Users,
}

#[controller]
impl Root {
    #[child]
    fn items(&self) -> &Items {
        &self.items
    }

    #[child]
    fn users(&self) -> &Users {
        &self.users
    }

    #[text]
    fn index(&self, segments: Vec<String>) -> String {
        segments.join("/")
    }

    #[text]
    fn add(&self, #[query] a: i64, #[query] b: Option<i64>) -> String {
        (a.wrapping_add(b.unwrap_or(0))).to_string()
    }
}

impl Application for Root {}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (method, target) = text.split_once('\0').unwrap_or(("GET", text));
    if http::Method::from_bytes(method.as_bytes()).is_err() || http::Uri::try_from(target).is_err()
    {
        return;
    }
    thread_local! {
        static CLIENT: TestClient<Root> = TestClient::new(Root::default());
    }
    CLIENT.with(|client| {
        let response = client.request(method, target).send();
        assert!(
            !response.status.is_server_error(),
            "{method} {target:?}: {} {}",
            response.status,
            response.text()
        );
    });
});
