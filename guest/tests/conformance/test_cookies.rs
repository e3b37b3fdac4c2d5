//! `nanohttp/tests/test_cookies.py`: a request cookie read, and set again with attributes.

use nanohttp::cookie::Cookie;
use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct Root;

#[controller]
impl Root {
    #[action]
    fn index(&self, ctx: &mut Context) -> Result<&'static str, HttpStatus> {
        let counter: u32 = ctx
            .cookie("counter")
            .and_then(|value| value.parse().ok())
            .ok_or_else(HttpStatus::bad_request)?;
        ctx.set_cookie(
            Cookie::build(("counter", (counter + 1).to_string()))
                .max_age(nanohttp::cookie::time::Duration::seconds(1))
                .path("/a")
                .domain("example.com")
                .build(),
        );
        Ok("Index")
    }
}

impl Application for Root {}

/// The original's function is named `test_basic_pipeline` (a copy of another file's name).
#[test]
fn test_basic_pipeline() {
    let response = TestClient::new(Root)
        .get("/")
        .header("cookie", "counter=1;")
        .send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "Index"));
    let set_cookie = response.header_all("set-cookie");
    // Only the cookie the handler set goes out (the original echoes every request cookie).
    assert_eq!(set_cookie.len(), 1);
    let cookie = Cookie::parse(set_cookie[0]).unwrap();
    assert_eq!(cookie.name_value(), ("counter", "2"));
    assert_eq!(cookie.path(), Some("/a"));
    assert_eq!(cookie.domain(), Some("example.com"));
    assert_eq!(cookie.max_age().map(|age| age.whole_seconds()), Some(1));
}
