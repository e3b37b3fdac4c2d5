//! The request payload as one form: the query string, and for requests with a body, the
//! url-encoded, multipart or JSON fields merged with it (nanohttp's `context.form`). What the
//! form holds and how it reads; parsing it is [`payload`](crate::payload)'s concern.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::rejection::Rejection;
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

impl Form {
    /// Adds the pairs of url-encoded text (the query string, or a checked body).
    pub(crate) fn extend_urlencoded(&mut self, bytes: &[u8]) {
        self.fields.extend(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), FormValue::Text(v.into_owned()))),
        );
    }

    /// Adds one field.
    pub(crate) fn push(&mut self, name: String, value: FormValue) {
        self.fields.push((name, value));
    }

    /// Sets the JSON body: an object's members become fields, any other value is kept whole.
    pub(crate) fn set_json(&mut self, value: Value) {
        self.json = Some(match value {
            Value::Object(object) => {
                let first_field = self.fields.len();
                self.fields
                    .extend(object.into_iter().map(|(k, v)| (k, FormValue::Json(v))));
                JsonBody::Object { first_field }
            }
            other => JsonBody::Other(other),
        });
    }

    /// How many fields there are, repeated names counted each time.
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
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
        distinct_names(&self.fields)
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
        json_object(&self.fields.iter().collect::<Vec<_>>())
    }

    /// Deserialises the form into `T`. Text values convert to numbers and booleans as `T`
    /// needs them; a repeated key fills a sequence. A form that does not fit is a `400` whose
    /// reason says which field is wrong (``Invalid Form: missing field `title` ``,
    /// `Invalid Form: age: invalid digit found in string`).
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
        let fields: Vec<&Field> = self.fields.iter().collect();
        deserialize_fields(&fields).map_err(|message| {
            let message = match culprit::<T>(&fields, &message) {
                Some(name) => format!("{name}: {message}"),
                None => message,
            };
            HttpStatus::from(Rejection::invalid_form(message))
        })
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

/// One `(name, value)` pair of a form.
type Field = (String, FormValue);

/// The names of `fields`, each once, in order of first appearance.
fn distinct_names<'a>(fields: impl IntoIterator<Item = &'a Field>) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in fields {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names
}

/// `fields` as a JSON object: each name maps to its value, or to a list of its values.
fn json_object(fields: &[&Field]) -> Value {
    let mut object = serde_json::Map::new();
    for name in distinct_names(fields.iter().copied()) {
        let mut values: Vec<Value> = fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.to_json())
            .collect();
        let value = if values.len() == 1 {
            values.remove(0)
        } else {
            Value::Array(values)
        };
        object.insert(name.to_owned(), value);
    }
    Value::Object(object)
}

/// `fields` as a `T`: text-only forms as url-encoded text (so `"36"` fills a number), others
/// through JSON; `Err` is the deserialiser's message.
fn deserialize_fields<T: DeserializeOwned>(fields: &[&Field]) -> Result<T, String> {
    let all_text = fields.iter().all(|(_, v)| matches!(v, FormValue::Text(_)));
    if all_text {
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter().filter_map(|(k, v)| Some((k, v.as_text()?))))
            .finish();
        serde_html_form::from_str(&encoded).map_err(|e| e.to_string())
    } else {
        serde_json::from_value(json_object(fields)).map_err(|e| e.to_string())
    }
}

/// How many fields [`culprit`] tries at most: the work a bad form can cause stays bounded.
const PROBED_FIELDS: usize = 32;

/// The field a deserialisation error is about, when its message does not say (a value that
/// does not parse): the one field without which the rest deserialises, or only misses it.
fn culprit<'a, T: DeserializeOwned>(fields: &[&'a Field], message: &str) -> Option<&'a str> {
    let names_itself = ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|prefix| message.starts_with(prefix));
    if names_itself {
        return None;
    }
    distinct_names(fields.iter().copied())
        .into_iter()
        .take(PROBED_FIELDS)
        .find(|name| {
            let others: Vec<&Field> = fields.iter().copied().filter(|(k, _)| k != name).collect();
            match deserialize_fields::<T>(&others) {
                Ok(_) => true,
                Err(error) => error == format!("missing field `{name}`"),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urlencoded(text: &str) -> Form {
        let mut form = Form::default();
        form.extend_urlencoded(text.as_bytes());
        form
    }

    fn json(value: Value) -> Form {
        let mut form = Form::default();
        form.set_json(value);
        form
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Tip {
        id: u32,
        title: String,
        draft: Option<bool>,
    }

    #[test]
    fn typed_forms() {
        assert_eq!(
            urlencoded("id=2&title=x&draft=true")
                .deserialize::<Tip>()
                .unwrap(),
            Tip {
                id: 2,
                title: "x".into(),
                draft: Some(true)
            }
        );
        assert_eq!(
            json(serde_json::json!({"id": 3, "title": "y"}))
                .deserialize::<Tip>()
                .unwrap(),
            Tip {
                id: 3,
                title: "y".into(),
                draft: None
            }
        );
    }

    /// The reason names what is wrong: a client can act on it.
    #[test]
    fn forms_that_do_not_fit_name_the_field() {
        let cases = [
            (
                urlencoded("id=two&title=x"),
                "400 Invalid Form: id: invalid digit found in string",
            ),
            (
                urlencoded("id=2&title=x&draft=maybe"),
                "400 Invalid Form: draft: provided string was not `true` or `false`",
            ),
            (
                // Two fields wrong: neither alone explains the error, so none is named.
                urlencoded("id=two&title=x&draft=maybe"),
                "400 Invalid Form: invalid digit found in string",
            ),
            (
                json(serde_json::json!({"id": 3})),
                "400 Invalid Form: missing field `title`",
            ),
            (
                json(serde_json::json!({"id": "3", "title": "y"})),
                "400 Invalid Form: id: invalid type: string \"3\", expected u32",
            ),
        ];
        for (form, expected) in cases {
            let error = form.deserialize::<Tip>().unwrap_err();
            assert_eq!(error.to_string(), expected);
            assert!(matches!(
                error.rejection(),
                Some(Rejection::InvalidForm { .. })
            ));
        }
    }

    #[test]
    fn json_objects_are_fields() {
        let mut form = urlencoded("q=1");
        form.set_json(serde_json::json!({"title": "x", "n": 3}));
        assert_eq!(form.get("title").as_deref(), Some("x"));
        assert_eq!(form.get("n").as_deref(), Some("3"));
        assert_eq!(form.get("q").as_deref(), Some("1"));
        assert_eq!(
            form.json().as_deref(),
            Some(&serde_json::json!({"title": "x", "n": 3})),
            "the query is not part of the JSON body"
        );
        let list = json(serde_json::json!([1, 2]));
        assert_eq!(list.json().as_deref(), Some(&serde_json::json!([1, 2])));
    }
}
