//! `nanohttp/tests/test_url_parameters.py`: how many path segments a handler takes.
//!
//! The original's parameter kinds map to ours: a required parameter `a` is `a: String`, an
//! optional one (`a=None`) is `Option<String>`, `*args` is a final `Vec<String>`. `**kw` takes
//! no path segment in the original (it only ever receives keyword arguments), so a handler
//! with `**kw` alone takes none; ours spells that by having no positional parameter.

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

#[derive(Default)]
struct Root;

#[controller]
impl Root {
    /// `index(self, a, b)`.
    #[action]
    fn fixed(&self, a: String, b: String) -> String {
        format!("{a}, {b}")
    }

    /// `index(self, *args)`.
    #[action]
    fn vary(&self, args: Vec<String>) -> String {
        args.join(", ")
    }

    /// `index(self, a=None, b=1)`.
    #[action]
    fn optional(&self, a: Option<String>, b: Option<String>) -> String {
        format!(
            "{}, {}",
            a.as_deref().unwrap_or("None"),
            b.as_deref().unwrap_or("1")
        )
    }

    /// `index(self, **kw)`: no positional parameter.
    #[action]
    fn kw(&self) -> &'static str {
        ""
    }

    /// `index(self, *a, **kw)`.
    #[action]
    fn vary_kw(&self, a: Vec<String>) -> String {
        a.join(", ")
    }

    /// `index(self, a, b, **kw)`.
    #[action]
    fn fixed_kw(&self, a: String, b: String) -> String {
        format!("{a}, {b}, {{}}")
    }

    /// `index(self, a, b, c=None)`.
    #[action]
    fn fixed_optional(&self, a: String, b: String, c: Option<String>) -> String {
        format!("{a}, {b}, {}", c.as_deref().unwrap_or("None"))
    }

    /// `index(self, a, b, c=None, **kw)`.
    #[action]
    fn fixed_optional_kw(&self, a: String, b: String, c: Option<String>) -> String {
        format!("{a}, {b}, {}, {{}}", c.as_deref().unwrap_or("None"))
    }

    /// `index(self, a, b, *args)`.
    #[action]
    fn fixed_vary(&self, a: String, b: String, args: Vec<String>) -> String {
        format!("{a}, {b}, {}", args.join(", "))
    }
}

impl Application for Root {}

/// Each `(path under the handler, status, body)`; a `404`'s body is not compared.
fn check(handler: &str, cases: &[(&str, u16, &str)]) {
    let client = TestClient::new(Root);
    for (path, status, body) in cases {
        let uri = format!("/{handler}{path}");
        let response = client.get(&uri).send();
        assert_eq!(response.status, *status, "{uri}");
        if *status == 200 {
            assert_eq!(response.text(), *body, "{uri}");
        }
    }
}

#[test]
fn test_fixed_positional_url_parameter() {
    check(
        "fixed",
        &[
            ("/1/2", 200, "1, 2"),
            ("/1/2/", 200, "1, 2"),
            ("/1", 404, ""),
            ("/1/2/3", 404, ""),
        ],
    );
}

#[test]
fn test_vary_positional_url_parameters() {
    check(
        "vary",
        &[("", 200, ""), ("/a", 200, "a"), ("/a/b", 200, "a, b")],
    );
}

#[test]
fn test_fixed_optional_arguments_url_parameters() {
    check(
        "optional",
        &[
            ("", 200, "None, 1"),
            ("/a", 200, "a, 1"),
            ("/a/b", 200, "a, b"),
            ("/a/b/c", 404, ""),
        ],
    );
}

#[test]
fn test_vary_optional_arguments_url_parameters() {
    check("kw", &[("", 200, ""), ("/a", 404, "")]);
}

#[test]
fn test_both_vary_optional_and_positional_arguments_url_parameters() {
    check(
        "vary_kw",
        &[
            ("", 200, ""),
            ("/a", 200, "a"),
            ("/a/b/c/d", 200, "a, b, c, d"),
        ],
    );
}

#[test]
fn test_fixed_positional_and_vary_optional_arguments_url_parameters() {
    check(
        "fixed_kw",
        &[
            ("/a/b", 200, "a, b, {}"),
            ("/a", 404, ""),
            ("/a/b/c", 404, ""),
        ],
    );
}

#[test]
fn test_both_fixed_positional_and_optional_arguments() {
    check(
        "fixed_optional",
        &[
            ("/a/b", 200, "a, b, None"),
            ("/a/b/c", 200, "a, b, c"),
            ("/a", 404, ""),
            ("/a/b/c/d", 404, ""),
        ],
    );
}

#[test]
fn test_fixed_positional_and_both_vary_and_fixed_optional_arguments() {
    check(
        "fixed_optional_kw",
        &[
            ("/a/b", 200, "a, b, None, {}"),
            ("/a/b/c", 200, "a, b, c, {}"),
            ("/a", 404, ""),
            ("/a/b/c/d", 404, ""),
        ],
    );
}

#[test]
fn test_both_foxed_and_vary_positional_arguments() {
    check(
        "fixed_vary",
        &[
            ("/a/b", 200, "a, b, "),
            ("/a/b/c", 200, "a, b, c"),
            ("/a", 404, ""),
            ("/a/b/c/d", 200, "a, b, c, d"),
        ],
    );
}
