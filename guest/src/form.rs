//! The request payload as one form: the query string, and for requests with a body, the
//! url-encoded or JSON fields merged over it (nanohttp's `context.form`).

use serde_json::Value;

use crate::context::Context;
use crate::status::HttpStatus;

/// The fields of a request, in order, repeated keys kept.
///
/// On GET and HEAD the form is the query string; on other methods the body's fields are merged
/// with the query string's, as the original does.
///
/// ```
/// use nanohttp::{Context, Form};
///
/// let request = http::Request::post("/tips/2?lang=en")
///     .header("content-type", "application/x-www-form-urlencoded")
///     .body(b"title=New+title&tag=a&tag=b".to_vec())
///     .unwrap();
/// let ctx = Context::new(request, Default::default());
/// let form = ctx.form().unwrap();
/// assert_eq!(form.get("title"), Some("New title"));
/// assert_eq!(form.get_all("tag").collect::<Vec<_>>(), ["a", "b"]);
/// assert_eq!(form.get("lang"), Some("en"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form {
    fields: Vec<(String, Value)>,
    json: Option<Value>,
}

impl Form {
    /// Parses the request's form: the query string, plus the body for methods that carry one.
    pub(crate) fn from_context(ctx: &Context) -> Result<Self, HttpStatus> {
        let mut form = Self::default();
        form.extend_urlencoded(ctx.query_string().as_bytes());
        let bodyless = matches!(*ctx.method(), http::Method::GET | http::Method::HEAD);
        if bodyless || ctx.body().is_empty() && ctx.header(http::header::CONTENT_TYPE).is_none() {
            return Ok(form);
        }
        let content_type = ctx.header(http::header::CONTENT_TYPE).unwrap_or("");
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/x-www-form-urlencoded" => form.extend_urlencoded(ctx.body()),
            "application/json" => form.extend_json(ctx.body())?,
            _ if ctx.body().is_empty() => {}
            _ => {
                return Err(HttpStatus::unsupported_media_type()
                    .with_reason(format!("Unsupported Form Type: {mime}")));
            }
        }
        Ok(form)
    }

    /// Decodes `application/x-www-form-urlencoded` bytes alone (no query string).
    pub fn parse_urlencoded(bytes: &[u8]) -> Self {
        let mut form = Self::default();
        form.extend_urlencoded(bytes);
        form
    }

    fn extend_urlencoded(&mut self, bytes: &[u8]) {
        self.fields.extend(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))),
        );
    }

    fn extend_json(&mut self, bytes: &[u8]) -> Result<(), HttpStatus> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|_| HttpStatus::bad_request().with_reason("Cannot parse the request"))?;
        if let Value::Object(object) = &value {
            self.fields
                .extend(object.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        self.json = Some(value);
        Ok(())
    }

    /// The first value of `name` as text (JSON strings, numbers and booleans as written).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every text value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.values(name).filter_map(Value::as_str)
    }

    /// Every value of `name`, in order, as JSON values (url-encoded values are strings).
    pub fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Value> {
        // Collected eagerly so the iterator borrows only the form, not `name`.
        let found: Vec<&'a Value> = self
            .fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect();
        found.into_iter()
    }

    /// Every `(name, value)` pair, in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }

    /// Whether the form has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.json.is_none()
    }

    /// The whole JSON body, when the request sent JSON (any JSON value, not only objects).
    pub fn json(&self) -> Option<&Value> {
        self.json.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(
        method: &str,
        uri: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<Form, HttpStatus> {
        let mut request = http::Request::builder().method(method).uri(uri);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let ctx = Context::new(
            request.body(body.as_bytes().to_vec()).unwrap(),
            Default::default(),
        );
        ctx.form().cloned()
    }

    #[test]
    fn get_uses_the_query_only() {
        let form = form("GET", "/?a=1&a=2", Some("application/json"), "not json").unwrap();
        assert_eq!(form.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn json_bodies() {
        let form = form(
            "POST",
            "/?q=1",
            Some("application/json; charset=utf-8"),
            r#"{"title": "x", "n": 3}"#,
        )
        .unwrap();
        assert_eq!(form.get("title"), Some("x"));
        assert_eq!(form.values("n").next(), Some(&serde_json::json!(3)));
        assert_eq!(form.get("q"), Some("1"));
        let form = form_list();
        assert_eq!(form.json(), Some(&serde_json::json!([1, 2])));
        let error = super::tests::form("POST", "/", Some("application/json"), "{").unwrap_err();
        assert_eq!(error.to_string(), "400 Cannot parse the request");
    }

    fn form_list() -> Form {
        form("PUT", "/", Some("application/json"), "[1, 2]").unwrap()
    }

    #[test]
    fn unsupported_types_are_415() {
        let error = form("POST", "/", Some("text/csv"), "a,b").unwrap_err();
        assert_eq!(error.code(), 415);
        assert!(form("POST", "/", None, "").unwrap().is_empty());
    }
}
