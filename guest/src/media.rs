//! Media types: what a request's `Content-Type` says, and the label a response goes out with.

use std::borrow::Cow;

use http::header::HeaderValue;

/// `application/x-www-form-urlencoded`.
pub(crate) const URLENCODED: &str = "application/x-www-form-urlencoded";
/// `application/json`.
pub(crate) const JSON: &str = "application/json";
/// `multipart/form-data`.
pub(crate) const MULTIPART: &str = "multipart/form-data";

/// The media type of a content type header, lower-cased, without parameters.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether a media type is JSON (`application/json`, or any `+json` type).
pub(crate) fn is_json(media_type: &str) -> bool {
    media_type == JSON || media_type.ends_with("+json")
}

/// The `Content-Type` value of a response: the media type with `; charset=` when it names no
/// charset of its own.
pub(crate) fn content_type_value(content_type: &str, charset: Option<&str>) -> Option<HeaderValue> {
    // Runs for every response: plain string building, no formatting machinery.
    let has_charset = content_type
        .as_bytes()
        .windows(b"charset=".len())
        .any(|window| window.eq_ignore_ascii_case(b"charset="));
    let value = match charset {
        Some(charset) if !has_charset => {
            let mut value = String::with_capacity(content_type.len() + 10 + charset.len());
            value.push_str(content_type);
            value.push_str("; charset=");
            value.push_str(charset);
            Cow::Owned(value)
        }
        _ => Cow::Borrowed(content_type),
    };
    HeaderValue::from_str(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert_eq!(media_type(" Application/JSON ; charset=utf-8"), JSON);
        assert_eq!(media_type(""), "");
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/json5"));
    }

    #[test]
    fn charsets() {
        let value = |ct, cs| content_type_value(ct, cs).unwrap();
        assert_eq!(
            value("text/plain", Some("utf-8")),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            value("text/plain; Charset=latin1", Some("utf-8")),
            "text/plain; Charset=latin1"
        );
        assert_eq!(value("application/pdf", None), "application/pdf");
    }
}
