//! The request payload as one form: the query string, and for requests with a body, the
//! url-encoded, multipart or JSON fields merged with it (nanohttp's `context.form`).

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::Context;
use crate::multipart::Multipart;
use crate::status::HttpStatus;

/// The fields of a request, in order, repeated keys kept.
///
/// On GET and HEAD the form is the query string; on other methods the body's fields are merged
/// with the query string's, as the original does. Bodies may be
/// `application/x-www-form-urlencoded`, `multipart/form-data` (fields and files) or
/// `application/json` (any JSON value; an object's members are fields).
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
/// assert_eq!(form.get("title").as_deref(), Some("New title"));
/// assert_eq!(form.get_all("tag"), ["a", "b"]);
/// assert_eq!(form.get("lang").as_deref(), Some("en"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form {
    fields: Vec<(String, FormValue)>,
    json: Option<JsonBody>,
}

/// A JSON body: an object's members are moved into the fields (from `first_field` on), so a
/// large body is held once; any other value is kept as it is.
#[derive(Debug, Clone, PartialEq)]
enum JsonBody {
    Object { first_field: usize },
    Other(Value),
}

/// One value of a form field.
#[derive(Debug, Clone, PartialEq)]
pub enum FormValue {
    /// A query, url-encoded or multipart text value.
    Text(String),
    /// A member of a JSON object body, or a value converted by validation.
    Json(Value),
    /// A file part of a multipart body.
    File(UploadedFile),
}

impl FormValue {
    /// The value as text: text as is, JSON strings, numbers and booleans as written; `None`
    /// for JSON null, arrays, objects and files.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Self::Text(text) => Some(Cow::Borrowed(text)),
            Self::Json(Value::String(text)) => Some(Cow::Borrowed(text)),
            Self::Json(value @ (Value::Number(_) | Value::Bool(_))) => {
                Some(Cow::Owned(value.to_string()))
            }
            Self::Json(_) | Self::File(_) => None,
        }
    }

    /// The value as JSON: text becomes a JSON string; a file, its description without content.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Text(text) => Value::String(text.clone()),
            Self::Json(value) => value.clone(),
            Self::File(file) => serde_json::json!({
                "filename": file.filename,
                "content_type": file.content_type,
                "size": file.content.len(),
            }),
        }
    }
}

/// A file sent in a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// The name the client gave it.
    pub filename: Option<String>,
    /// The content type the client gave it.
    pub content_type: Option<String>,
    /// Its content.
    pub content: Vec<u8>,
}

/// A url-encoded body must be what it says: every `%` starts an escape of two hex digits, and
/// the decoded text is UTF-8. (The query string is read leniently, as browsers send it.)
fn check_urlencoded(body: &[u8]) -> Result<(), HttpStatus> {
    let malformed = || HttpStatus::bad_request().with_reason("Malformed URL-Encoded Body");
    let mut escapes = body.split(|&b| b == b'%').skip(1);
    if escapes.any(|rest| rest.len() < 2 || !rest[..2].iter().all(u8::is_ascii_hexdigit)) {
        return Err(malformed());
    }
    for pair in body.split(|&b| b == b'&') {
        let decoded: Vec<u8> = percent_encoding::percent_decode(pair).collect();
        if std::str::from_utf8(&decoded).is_err() {
            return Err(malformed());
        }
    }
    Ok(())
}

/// The media type of a content type header, lower-cased, without parameters.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

impl Form {
    /// Parses the request's form: the query string, plus the body for methods that carry one.
    pub(crate) fn from_context(ctx: &Context) -> Result<Self, HttpStatus> {
        let max_fields = ctx.settings().max_form_fields();
        let mut form = Self::default();
        form.extend_urlencoded(ctx.query_string().as_bytes());
        let bodyless = matches!(*ctx.method(), http::Method::GET | http::Method::HEAD);
        if !bodyless {
            let content_type = ctx.header(http::header::CONTENT_TYPE).unwrap_or("");
            match media_type(content_type).as_str() {
                "application/x-www-form-urlencoded" => {
                    let body = ctx.body()?;
                    check_urlencoded(body)?;
                    form.extend_urlencoded(body);
                }
                "application/json" => form.extend_json(ctx.body()?)?,
                "multipart/form-data" => form.extend_multipart(ctx.multipart()?)?,
                _ if ctx.body()?.is_empty() => {}
                "" => {
                    return Err(HttpStatus::unsupported_media_type()
                        .with_reason("A Form Needs a Content-Type"));
                }
                other => {
                    return Err(HttpStatus::unsupported_media_type()
                        .with_reason(format!("Unsupported Form Type: {other}")));
                }
            }
        }
        if form.fields.len() > max_fields {
            return Err(HttpStatus::payload_too_large().with_reason("Too Many Form Fields"));
        }
        Ok(form)
    }

    fn extend_urlencoded(&mut self, bytes: &[u8]) {
        self.fields.extend(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), FormValue::Text(v.into_owned()))),
        );
    }

    fn extend_json(&mut self, bytes: &[u8]) -> Result<(), HttpStatus> {
        if bytes.is_empty() {
            return Err(HttpStatus::bad_request().with_reason("Empty JSON Body"));
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|error| {
            HttpStatus::bad_request()
                .with_reason("Cannot parse the request")
                .with_detail(error.to_string())
        })?;
        self.json = Some(match value {
            Value::Object(object) => {
                let first_field = self.fields.len();
                self.fields
                    .extend(object.into_iter().map(|(k, v)| (k, FormValue::Json(v))));
                JsonBody::Object { first_field }
            }
            other => JsonBody::Other(other),
        });
        Ok(())
    }

    fn extend_multipart(&mut self, mut multipart: Multipart<'_>) -> Result<(), HttpStatus> {
        while let Some(mut part) = multipart.next_part()? {
            let name = part.name().unwrap_or("").to_owned();
            let value = match part.filename() {
                Some(filename) => FormValue::File(UploadedFile {
                    filename: Some(filename.to_owned()),
                    content_type: part.content_type().map(str::to_owned),
                    content: part.bytes()?,
                }),
                None => FormValue::Text(part.text()?),
            };
            self.fields.push((name, value));
        }
        Ok(())
    }

    /// The first value of `name` as text (see [`FormValue::as_text`]).
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.value(name).and_then(FormValue::as_text)
    }

    /// Every text value of `name`, in order.
    pub fn get_all(&self, name: &str) -> Vec<Cow<'_, str>> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .filter_map(|(_, v)| v.as_text())
            .collect()
    }

    /// The first value of `name`.
    pub fn value(&self, name: &str) -> Option<&FormValue> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Every value of `name`, in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a FormValue> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The first file sent as `name`.
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.fields.iter().find_map(|(k, value)| match value {
            FormValue::File(file) if k == name => Some(file),
            _ => None,
        })
    }

    /// Every `(name, value)` pair, in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &FormValue)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The distinct field names, in order of first appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.fields {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }

    /// Whether the form has no fields (and the body was not a JSON value).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.json.is_none()
    }

    /// The whole JSON body, when the request sent JSON (any JSON value, not only objects).
    pub fn json(&self) -> Option<Cow<'_, Value>> {
        match self.json.as_ref()? {
            JsonBody::Other(value) => Some(Cow::Borrowed(value)),
            JsonBody::Object { first_field } => Some(Cow::Owned(Value::Object(
                self.fields[*first_field..]
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ))),
        }
    }

    /// The form as a JSON object: each name maps to its value, or to a list of its values when
    /// repeated. Files appear as their description (name, type, size).
    pub fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        for name in self.names() {
            let mut values: Vec<Value> = self.values(name).map(FormValue::to_json).collect();
            let value = if values.len() == 1 {
                values.remove(0)
            } else {
                Value::Array(values)
            };
            object.insert(name.to_owned(), value);
        }
        Value::Object(object)
    }

    /// Deserialises the form into `T`. Text values convert to numbers and booleans as `T`
    /// needs them; a repeated key fills a sequence. A form that does not fit is a `400`.
    ///
    /// ```
    /// # use nanohttp::Context;
    /// #[derive(serde::Deserialize)]
    /// struct Signup { name: String, age: u8, tags: Vec<String> }
    ///
    /// let request = http::Request::post("/")
    ///     .header("content-type", "application/x-www-form-urlencoded")
    ///     .body(b"name=Ada&age=36&tags=a&tags=b".to_vec())
    ///     .unwrap();
    /// let ctx = Context::new(request, Default::default());
    /// let signup: Signup = ctx.form().unwrap().deserialize().unwrap();
    /// assert_eq!((signup.name.as_str(), signup.age, signup.tags.len()), ("Ada", 36, 2));
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, HttpStatus> {
        let invalid = |error: String| {
            HttpStatus::bad_request()
                .with_reason("Invalid Form")
                .with_detail(error)
        };
        let all_text = self
            .fields
            .iter()
            .all(|(_, v)| matches!(v, FormValue::Text(_)));
        if all_text {
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(
                    self.fields
                        .iter()
                        .filter_map(|(k, v)| Some((k, v.as_text()?))),
                )
                .finish();
            serde_html_form::from_str(&encoded).map_err(|e| invalid(e.to_string()))
        } else {
            serde_json::from_value(self.to_json()).map_err(|e| invalid(e.to_string()))
        }
    }

    /// Replaces every value of `name` (validation writes converted values back this way).
    pub(crate) fn set_values(
        &mut self,
        name: &str,
        mut values: impl FnMut(&FormValue) -> FormValue,
    ) {
        for (key, value) in &mut self.fields {
            if key == name {
                *value = values(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(
        method: &str,
        uri: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Form, HttpStatus> {
        let mut request = http::Request::builder().method(method).uri(uri);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let ctx = Context::new(request.body(body.to_vec()).unwrap(), Default::default());
        ctx.form().cloned()
    }

    #[test]
    fn get_uses_the_query_only() {
        let form = form("GET", "/?a=1&a=2&b=", Some("application/json"), b"not json").unwrap();
        assert_eq!(form.get_all("a"), ["1", "2"]);
        assert_eq!(form.get("b").as_deref(), Some(""), "blank values are kept");
    }

    #[test]
    fn urlencoded_bodies_merge_with_the_query() {
        let form = form(
            "POST",
            "/?q=1&title=query",
            Some("application/x-www-form-urlencoded"),
            b"title=body&x=%41",
        )
        .unwrap();
        assert_eq!(form.get_all("title"), ["query", "body"]);
        assert_eq!(form.get("x").as_deref(), Some("A"));
        assert_eq!(form.names(), ["q", "title", "x"]);
    }

    #[test]
    fn json_bodies() {
        let form = form(
            "POST",
            "/?q=1",
            Some("application/json; charset=utf-8"),
            br#"{"title": "x", "n": 3}"#,
        )
        .unwrap();
        assert_eq!(form.get("title").as_deref(), Some("x"));
        assert_eq!(form.get("n").as_deref(), Some("3"));
        assert_eq!(
            form.value("n"),
            Some(&FormValue::Json(serde_json::json!(3)))
        );
        assert_eq!(form.get("q").as_deref(), Some("1"));
        let list = super::tests::form("PUT", "/", Some("application/json"), b"[1, 2]").unwrap();
        assert_eq!(list.json().as_deref(), Some(&serde_json::json!([1, 2])));
        assert_eq!(
            form.json().as_deref(),
            Some(&serde_json::json!({"title": "x", "n": 3})),
            "the query is not part of the JSON body"
        );
    }

    #[test]
    fn bad_bodies() {
        let cases: [(&str, &[u8], &str); 9] = [
            (
                "application/x-www-form-urlencoded",
                b"a=%zz",
                "400 Malformed URL-Encoded Body",
            ),
            (
                "application/x-www-form-urlencoded",
                b"a=%4",
                "400 Malformed URL-Encoded Body",
            ),
            (
                "application/x-www-form-urlencoded",
                b"a=%FF%FE",
                "400 Malformed URL-Encoded Body",
            ),
            ("application/json", b"{", "400 Cannot parse the request"),
            ("application/json", b"", "400 Empty JSON Body"),
            ("text/csv", b"a,b", "415 Unsupported Form Type: text/csv"),
            (
                "multipart/form-data",
                b"--x--",
                "400 Missing or Invalid Multipart Boundary",
            ),
            (
                "multipart/form-data; boundary=x",
                b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ntrunc",
                "400 Malformed Multipart Body",
            ),
            (
                "multipart/form-data; boundary=x",
                b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\xfe\r\n--x--\r\n",
                "400 Field: a Is Not UTF-8 Text",
            ),
        ];
        for (content_type, body, expected) in cases {
            let error = form("POST", "/", Some(content_type), body).unwrap_err();
            assert_eq!(error.to_string(), expected, "{content_type} {body:?}");
        }
        assert_eq!(form("POST", "/", None, b"x").unwrap_err().code(), 415);
        assert!(form("POST", "/", None, b"").unwrap().is_empty());
    }

    #[test]
    fn multipart_fields_and_files() {
        let body = b"--b\r\n\
Content-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"tag\"\r\n\r\none\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"tag\"\r\n\r\ntwo\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
Content-Type: text/plain\r\n\r\nfile\x00bytes\r\n\
--b--\r\n";
        let form = form("POST", "/", Some("multipart/form-data; boundary=b"), body).unwrap();
        assert_eq!(form.get("title").as_deref(), Some("Hello"));
        assert_eq!(form.get_all("tag"), ["one", "two"]);
        let file = form.file("doc").unwrap();
        assert_eq!(file.filename.as_deref(), Some("a.txt"));
        assert_eq!(file.content_type.as_deref(), Some("text/plain"));
        assert_eq!(file.content, b"file\x00bytes");
        assert_eq!(
            form.to_json(),
            serde_json::json!({"title": "Hello", "tag": ["one", "two"],
                "doc": {"filename": "a.txt", "content_type": "text/plain", "size": 10}})
        );
    }

    #[test]
    fn typed_forms() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Tip {
            id: u32,
            title: String,
            draft: Option<bool>,
        }
        let urlencoded = form(
            "POST",
            "/",
            Some("application/x-www-form-urlencoded"),
            b"id=2&title=x&draft=true",
        )
        .unwrap();
        assert_eq!(
            urlencoded.deserialize::<Tip>().unwrap(),
            Tip {
                id: 2,
                title: "x".into(),
                draft: Some(true)
            }
        );
        let json = form(
            "POST",
            "/",
            Some("application/json"),
            br#"{"id": 3, "title": "y"}"#,
        )
        .unwrap();
        assert_eq!(
            json.deserialize::<Tip>().unwrap(),
            Tip {
                id: 3,
                title: "y".into(),
                draft: None
            }
        );
        let wrong = form(
            "POST",
            "/",
            Some("application/x-www-form-urlencoded"),
            b"id=two&title=x",
        )
        .unwrap();
        assert_eq!(
            wrong.deserialize::<Tip>().unwrap_err().to_string(),
            "400 Invalid Form"
        );
    }
}
