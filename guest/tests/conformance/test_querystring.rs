//! `nanohttp/tests/test_querystring.py`: keyword-only handler parameters filled from the query.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct Root;

#[controller]
impl Root {
    /// The original's `index(self, *, a=1, b=2)`: defaults become `Option`s.
    #[action]
    fn index(
        &self,
        ctx: &Context,
        #[query] a: Option<String>,
        #[query] b: Option<String>,
    ) -> String {
        let query: Vec<String> = ctx
            .query()
            .pairs()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "{}, {}, {}",
            a.as_deref().unwrap_or("1"),
            b.as_deref().unwrap_or("2"),
            query.join(", ")
        )
    }
}

impl Application for Root {}

#[test]
fn test_query_strign() {
    let client = TestClient::new(Root);
    let cases = [
        ("/", "1, 2, "),
        ("/?a=a", "a, 2, a=a"),
        ("/?a=a&c=c", "a, 2, a=a, c=c"),
        ("/?c=c", "1, 2, c=c"),
    ];
    for (uri, body) in cases {
        let response = client.get(uri).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (200, body),
            "{uri}"
        );
    }
}
