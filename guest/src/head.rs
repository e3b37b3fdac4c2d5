//! The request's head: its method, target and header fields.
//!
//! The fields are kept as the host gives them (each name checked to be a token and
//! lower-cased, each value checked to be a field value), and the framework reads them by name
//! from that list. The `http` crate's [`HeaderMap`] of them is built only when a handler asks
//! for it ([`Context::headers`](crate::Context::headers)): making a `HeaderName` of each name is
//! the biggest single piece of code in a small component (`bench/size.md`), and most requests
//! never need it.

use std::cell::OnceCell;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};

/// A request's method, target and header fields.
#[derive(Debug)]
pub(crate) struct RequestHead {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    /// Names lower-case, in the order they came.
    fields: Vec<(String, Vec<u8>)>,
    /// The fields as a `HeaderMap`, once asked for.
    map: OnceCell<HeaderMap>,
}

/// A header field the framework cannot take (a name that is not a token, a value with a
/// control character); the request is a `400`.
#[cfg(any(target_arch = "wasm32", test))]
#[derive(Debug)]
pub(crate) struct MalformedField;

impl RequestHead {
    /// A head from the host's header fields.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn from_fields(
        method: Method,
        uri: Uri,
        mut fields: Vec<(String, Vec<u8>)>,
    ) -> Result<Self, MalformedField> {
        for (name, value) in &mut fields {
            if !is_field_name(name) || !is_field_value(value) {
                return Err(MalformedField);
            }
            name.make_ascii_lowercase();
        }
        Ok(Self {
            method,
            uri,
            fields,
            map: OnceCell::new(),
        })
    }

    /// A head from the `http` crate's parts (a request built in a test, or by hand).
    pub(crate) fn from_parts(parts: http::request::Parts) -> Self {
        let fields = parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect();
        Self {
            method: parts.method,
            uri: parts.uri,
            fields,
            map: OnceCell::from(parts.headers),
        }
    }

    /// Every value of the header `name` (any case), in order.
    pub(crate) fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.fields
            .iter()
            .filter(move |(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }

    /// The values of the header `name` that are text (see [`visible_text`]).
    pub(crate) fn texts<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.values(name).filter_map(visible_text)
    }

    /// The first value of the header `name`, if it is text (see [`visible_text`]).
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.values(name).next().and_then(visible_text)
    }

    /// The fields as the `http` crate's map, built on first use.
    pub(crate) fn map(&self) -> &HeaderMap {
        self.map.get_or_init(|| {
            let mut map = HeaderMap::with_capacity(self.fields.len());
            for (name, value) in &self.fields {
                // Both were checked when the head was made.
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_bytes(value),
                ) {
                    map.append(name, value);
                }
            }
            map
        })
    }
}

/// A value as text when it is visible ASCII or tab, as [`HeaderValue::to_str`] has it.
fn visible_text(value: &[u8]) -> Option<&str> {
    let visible = value
        .iter()
        .all(|&b| b == b'\t' || (b' '..0x7f).contains(&b));
    visible.then(|| std::str::from_utf8(value).ok()).flatten()
}

/// A field name: a token (RFC 9110, section 5.1), as long as the `http` crate takes.
#[cfg(any(target_arch = "wasm32", test))]
fn is_field_name(name: &str) -> bool {
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    !name.is_empty() && name.len() <= usize::from(u16::MAX) && name.bytes().all(|b| token(&b))
}

/// A field value: no control characters but tab (RFC 9110, section 5.5; `obs-text` allowed).
#[cfg(any(target_arch = "wasm32", test))]
fn is_field_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b >= b' ' && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(fields: &[(&str, &[u8])]) -> Result<RequestHead, MalformedField> {
        let fields = fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.to_vec()))
            .collect();
        RequestHead::from_fields(Method::GET, Uri::from_static("/"), fields)
    }

    #[test]
    fn names_are_read_in_any_case() {
        let head = head(&[("X-Tag", b"a"), ("x-tag", b"b"), ("Accept", b"text/html")]).unwrap();
        assert_eq!(head.values("x-TAG").collect::<Vec<_>>(), [b"a", b"b"]);
        assert_eq!(head.text("accept"), Some("text/html"));
        assert_eq!(head.text("cookie"), None);
        let map = head.map();
        assert_eq!(map.get_all("x-tag").iter().count(), 2);
        assert_eq!(map["accept"], "text/html");
    }

    #[test]
    fn text_is_visible_ascii_only() {
        let head = head(&[("a", b"caf\xc3\xa9"), ("b", b"one\ttwo")]).unwrap();
        assert_eq!(head.text("a"), None);
        assert_eq!(head.values("a").next(), Some("café".as_bytes()));
        assert_eq!(head.text("b"), Some("one\ttwo"));
        // The map agrees with `text`.
        assert!(head.map()["a"].to_str().is_err());
    }

    #[test]
    fn malformed_fields_are_refused() {
        for (name, value) in [
            ("", &b"x"[..]),
            ("bad name", b"x"),
            ("bad:name", b"x"),
            ("é", b"x"),
            ("x", b"line\nbreak"),
            ("x", b"nul\0"),
            ("x", b"del\x7f"),
        ] {
            assert!(head(&[(name, value)]).is_err(), "{name:?}: {value:?}");
        }
        assert!(head(&[("x-ok", b" obs-text \xff ")]).is_ok());
    }

    #[test]
    fn parts_keep_their_map() {
        let request = http::Request::get("/").header("X-A", "1").body(()).unwrap();
        let head = RequestHead::from_parts(request.into_parts().0);
        assert_eq!(head.text("x-a"), Some("1"));
        assert_eq!(head.map()["x-a"], "1");
    }
}
