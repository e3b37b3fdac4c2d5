//! `nanohttp/tests/test_int_or_notfound.py`: the original's helper turns a path argument into an
//! integer or raises `404`. Ours is a typed parameter: `id: i64` parses the segment or answers
//! `404`, so the helper's text cases are ported as requests. Its non-text inputs (`1.2`, `True`,
//! `[1, 2]`, `None`) cannot come from a path and have no equivalent.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct Root;

#[controller]
impl Root {
    #[text]
    fn index(&self, id: i64) -> String {
        id.to_string()
    }
}

impl Application for Root {}

#[test]
fn test_int_or_notfound() {
    let client = TestClient::new(Root);
    for (segment, expected) in [("1", "1"), ("-1", "-1")] {
        let response = client.get(&format!("/{segment}")).send();
        assert_eq!((response.status.as_u16(), response.text()), (200, expected));
    }
    // `''` is no segment at all: too few arguments, `404` as well.
    for segment in ["not%20integer", "1.2", "", "1.0"] {
        let response = client.get(&format!("/{segment}")).send();
        assert_eq!(response.status, 404, "{segment:?}");
    }
}
