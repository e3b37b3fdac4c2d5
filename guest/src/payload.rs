//! Payload parsing: the request's form from its head, its body and the limits. Nothing here
//! knows the [`Context`](crate::Context), which only caches what this returns.

use serde_json::Value;

use crate::body::RequestBody;
use crate::form::{Form, FormValue, UploadedFile};
use crate::head::RequestHead;
use crate::media::{self, media_type};
use crate::multipart::{Multipart, boundary};
use crate::rejection::Rejection;
use crate::status::HttpStatus;

/// The limits a payload is parsed within (the body's size limit travels with the body).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The most fields a form, or parts a multipart body, may have.
    pub(crate) max_fields: usize,
}

/// The request's form: the query string, plus the body for methods that carry one.
pub(crate) fn parse_form(
    head: &RequestHead,
    body: &RequestBody,
    limits: Limits,
) -> Result<Form, HttpStatus> {
    let mut form = Form::default();
    form.extend_urlencoded(head.uri.query().unwrap_or("").as_bytes());
    let bodyless = matches!(head.method, http::Method::GET | http::Method::HEAD);
    if !bodyless {
        let content_type = content_type(head);
        match media_type(content_type).as_str() {
            media::URLENCODED => {
                let bytes = body.bytes()?;
                check_urlencoded(bytes)?;
                form.extend_urlencoded(bytes);
            }
            media::JSON => form.set_json(json(body.bytes()?)?),
            media::MULTIPART => read_multipart(&mut form, multipart(head, body, limits)?)?,
            _ if body.bytes()?.is_empty() => {}
            "" => return Err(Rejection::MissingContentType.into()),
            other => {
                return Err(Rejection::UnsupportedFormType {
                    media_type: other.to_owned(),
                }
                .into());
            }
        }
    }
    if form.len() > limits.max_fields {
        return Err(Rejection::TooManyFields {
            limit: limits.max_fields,
        }
        .into());
    }
    Ok(form)
}

/// The body as `multipart/form-data`, part by part; another content type is a `415`.
pub(crate) fn multipart<'b>(
    head: &RequestHead,
    body: &'b RequestBody,
    limits: Limits,
) -> Result<Multipart<'b>, HttpStatus> {
    let content_type = content_type(head);
    let found = media_type(content_type);
    if found != media::MULTIPART {
        return Err(Rejection::ExpectedMultipart { media_type: found }.into());
    }
    let boundary = boundary(content_type)?;
    Ok(Multipart::new(body.reader()?, boundary, limits.max_fields))
}

fn content_type(head: &RequestHead) -> &str {
    head.text("content-type").unwrap_or("")
}

/// A url-encoded body must be what it says: every `%` starts an escape of two hex digits, and
/// the decoded text is UTF-8. (The query string is read leniently, as browsers send it.)
fn check_urlencoded(body: &[u8]) -> Result<(), HttpStatus> {
    let mut escapes = body.split(|&b| b == b'%').skip(1);
    let broken_escape =
        escapes.any(|rest| rest.len() < 2 || !rest[..2].iter().all(u8::is_ascii_hexdigit));
    let not_utf8 = || {
        body.split(|&b| b == b'&').any(|pair| {
            let decoded: Vec<u8> = percent_encoding::percent_decode(pair).collect();
            std::str::from_utf8(&decoded).is_err()
        })
    };
    if broken_escape || not_utf8() {
        return Err(Rejection::MalformedUrlEncoded.into());
    }
    Ok(())
}

fn json(bytes: &[u8]) -> Result<Value, HttpStatus> {
    if bytes.is_empty() {
        return Err(Rejection::EmptyJson.into());
    }
    serde_json::from_slice(bytes).map_err(|error| Rejection::malformed_json(error).into())
}

fn read_multipart(form: &mut Form, mut multipart: Multipart<'_>) -> Result<(), HttpStatus> {
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
        form.push(name, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Source;

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
        let head = RequestHead::from_parts(request.body(()).unwrap().into_parts().0);
        let body = RequestBody::new(Source::Bytes(body.to_vec()), None, 1 << 20);
        parse_form(&head, &body, Limits { max_fields: 4 })
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
        assert_eq!(
            form.value("n"),
            Some(&FormValue::Json(serde_json::json!(3)))
        );
        assert_eq!(form.get("q").as_deref(), Some("1"));
        let list = super::tests::form("PUT", "/", Some("application/json"), b"[1, 2]").unwrap();
        assert_eq!(list.json().as_deref(), Some(&serde_json::json!([1, 2])));
    }

    #[test]
    fn bad_bodies() {
        let cases: [(&str, &[u8], &str); 10] = [
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
            (
                "application/x-www-form-urlencoded",
                b"a=1&b=2&c=3&d=4&e=5",
                "413 Too Many Form Fields",
            ),
            (
                "application/json",
                b"{",
                "400 Malformed JSON Body: EOF while parsing an object at line 1 column 1",
            ),
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
            assert!(error.rejection().is_some(), "{content_type} {body:?}");
        }
        let missing = form("POST", "/", None, b"x").unwrap_err();
        assert_eq!(missing.rejection(), Some(&Rejection::MissingContentType));
        assert!(form("POST", "/", None, b"").unwrap().is_empty());
    }

    #[test]
    fn multipart_fields_and_files() {
        let body = b"--b\r\n\
Content-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"tag\"\r\n\r\none\r\n\
--b\r\n\
Content-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
Content-Type: text/plain\r\n\r\nfile\x00bytes\r\n\
--b--\r\n";
        let form = form("POST", "/", Some("multipart/form-data; boundary=b"), body).unwrap();
        assert_eq!(form.get("title").as_deref(), Some("Hello"));
        assert_eq!(form.get_all("tag"), ["one"]);
        let file = form.file("doc").unwrap();
        assert_eq!(file.filename.as_deref(), Some("a.txt"));
        assert_eq!(file.content_type.as_deref(), Some("text/plain"));
        assert_eq!(file.content, b"file\x00bytes");
        assert_eq!(
            form.to_json(),
            serde_json::json!({"title": "Hello", "tag": "one",
                "doc": {"filename": "a.txt", "content_type": "text/plain", "size": 10}})
        );
    }
}
