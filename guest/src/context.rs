//! The per-request context: the request as it arrived and the response as it is being built.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::{Arc, OnceLock};

use cookie::Cookie;
use http::header::{HeaderValue, IntoHeaderName};
use http::{Extensions, HeaderMap, Method, StatusCode, Uri};

use crate::body::{BodyReader, RequestBody, Source};
use crate::cookies::parse_cookies;
use crate::form::Form;
use crate::head::RequestHead;
use crate::multipart::Multipart;
use crate::payload::{self, Limits};
use crate::query::Query;
use crate::settings::Settings;
use crate::status::HttpStatus;
use crate::validate::{self, Field};

/// One request and the response being built for it, the single object handlers and hooks share
/// (nanohttp's `context`).
///
/// Nothing in a `Context` outlives its request: a component instance that serves several
/// requests starts each one with a fresh context.
///
/// ```
/// use nanohttp::{Context, Settings};
///
/// let request = http::Request::get("/tips/2?page=3&tag=a&tag=b")
///     .header("cookie", "theme=dark")
///     .body(Vec::new())
///     .unwrap();
/// let mut ctx = Context::new(request, Default::default());
/// assert_eq!(ctx.verb(), "get");
/// assert_eq!(ctx.path(), "/tips/2");
/// assert_eq!(ctx.query().get("page"), Some("3"));
/// assert_eq!(ctx.query().get_all("tag").collect::<Vec<_>>(), ["a", "b"]);
/// assert_eq!(ctx.cookie("theme"), Some("dark"));
///
/// ctx.set_status(201);
/// ctx.set_header("x-tip", "2").unwrap();
/// ctx.values_mut().insert(String::from("alice")); // a free per-request value, e.g. an identity
/// assert_eq!(ctx.values().get::<String>().map(String::as_str), Some("alice"));
/// ```
#[derive(Debug)]
pub struct Context {
    head: RequestHead,
    verb: Cow<'static, str>,
    body: RequestBody,
    query: OnceLock<Query>,
    cookies: OnceLock<Vec<(String, String)>>,
    form: OnceCell<Result<Form, HttpStatus>>,
    settings: Arc<Settings>,
    values: Extensions,
    pub(crate) response: ResponseHead,
}

/// What the handler has decided about the response so far.
#[derive(Debug)]
pub(crate) struct ResponseHead {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) cookies: Vec<Cookie<'static>>,
    pub(crate) content_type: Option<Cow<'static, str>>,
    pub(crate) encoding: Option<Cow<'static, str>>,
}

impl Context {
    /// A context for `request`, whose body has been read in full.
    pub fn new(request: http::Request<Vec<u8>>, settings: Arc<Settings>) -> Self {
        let (parts, body) = request.into_parts();
        Self::from_head(
            RequestHead::from_parts(parts),
            Source::Bytes(body),
            settings,
        )
    }

    /// A context whose body is read from `source` when a handler asks for it.
    pub(crate) fn from_head(head: RequestHead, source: Source, settings: Arc<Settings>) -> Self {
        let declared = head.text("content-length").and_then(|v| v.parse().ok());
        let body = RequestBody::new(source, declared, settings.max_body_size());
        Self {
            verb: lower_case_verb(&head.method),
            head,
            body,
            query: OnceLock::new(),
            cookies: OnceLock::new(),
            form: OnceCell::new(),
            settings,
            values: Extensions::new(),
            response: ResponseHead {
                status: StatusCode::OK,
                headers: HeaderMap::new(),
                cookies: Vec::new(),
                content_type: None,
                encoding: None,
            },
        }
    }

    // ----- the request -----

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.head.method
    }

    /// The request method lower-cased, as nanohttp names verbs: `"get"`, `"post"`, `"list"`.
    pub fn verb(&self) -> &str {
        &self.verb
    }

    /// The request target.
    pub fn uri(&self) -> &Uri {
        &self.head.uri
    }

    /// The path, still percent-encoded.
    pub fn path(&self) -> &str {
        self.head.uri.path()
    }

    /// The query string, decoded once on first use.
    pub fn query(&self) -> &Query {
        self.query
            .get_or_init(|| Query::parse(self.head.uri.query().unwrap_or("")))
    }

    /// The request headers, as the `http` crate's map (made on first use: [`Context::header`]
    /// reads one without it).
    pub fn headers(&self) -> &HeaderMap {
        self.head.map()
    }

    /// A request header as text, if present and visible ASCII: `ctx.header("x-user")`, or
    /// with a name of the `http` crate, `ctx.header(http::header::ACCEPT)`. Of a header sent
    /// more than once, the first.
    pub fn header(&self, name: impl AsRef<str>) -> Option<&str> {
        self.head.text(name.as_ref())
    }

    /// The request cookies, parsed once on first use (malformed pairs are skipped).
    pub fn cookies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.cookies
            .get_or_init(|| parse_cookies(self.head.texts("cookie")))
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The value of a request cookie.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The request's form (the query string, and url-encoded, multipart or JSON body fields),
    /// parsed once on first use. A body that cannot be parsed is a `400`, an unsupported content
    /// type a `415`, a body or field count over the limits a `413`
    /// (see [`Rejection`](crate::Rejection)).
    pub fn form(&self) -> Result<&Form, HttpStatus> {
        self.form
            .get_or_init(|| payload::parse_form(&self.head, &self.body, self.limits()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The form, to change (validation writes converted values back through this).
    pub fn form_mut(&mut self) -> Result<&mut Form, HttpStatus> {
        self.form()?;
        match self.form.get_mut() {
            Some(Ok(form)) => Ok(form),
            _ => unreachable!("the form was parsed successfully just above"),
        }
    }

    /// The whole request body, read on first use; `413` past the size limit, `400` when the
    /// client's stream breaks off.
    pub fn body(&self) -> Result<&[u8], HttpStatus> {
        self.body.bytes()
    }

    /// The request body as a reader, for bodies too large to hold in memory. The limit still
    /// applies (see [`BodyReader`]). A streamed body can be read once: after this, [`Context::body`]
    /// and [`Context::form`] fail with `500` unless the body had been read into memory before.
    pub fn body_reader(&self) -> Result<BodyReader<'_>, HttpStatus> {
        self.body.reader()
    }

    /// A `multipart/form-data` body, part by part, without holding it in memory: for uploads.
    /// Not multipart, or without a boundary: `400`/`415`.
    ///
    /// ```
    /// # use nanohttp::Context;
    /// let body = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n";
    /// let request = http::Request::post("/")
    ///     .header("content-type", "multipart/form-data; boundary=b")
    ///     .body(body.as_bytes().to_vec())
    ///     .unwrap();
    /// let ctx = Context::new(request, Default::default());
    /// let mut multipart = ctx.multipart().unwrap();
    /// let mut part = multipart.next_part().unwrap().unwrap();
    /// assert_eq!(part.filename(), Some("a.txt"));
    /// let mut size = 0;
    /// while let Some(chunk) = part.chunk().unwrap() {
    ///     size += chunk.len();
    /// }
    /// assert_eq!(size, 5);
    /// ```
    pub fn multipart(&self) -> Result<Multipart<'_>, HttpStatus> {
        payload::multipart(&self.head, &self.body, self.limits())
    }

    /// Checks the form against `fields`, converting values as their type rules say (see
    /// [`validate`](crate::validate)). The first rule that fails answers with its status (`400`
    /// unless it has its own).
    pub fn validate(&mut self, fields: &[Field]) -> Result<(), HttpStatus> {
        validate::check(self.form_mut()?, fields)
    }

    fn limits(&self) -> Limits {
        Limits {
            max_fields: self.settings.max_form_fields(),
        }
    }

    /// The most bytes the request body may have (the `max_body_size` setting, unless the
    /// handler set its own).
    pub fn max_body_size(&self) -> u64 {
        self.body.limit()
    }

    /// Sets the body size limit for this request; it applies to reading not yet done.
    pub fn set_max_body_size(&mut self, limit: u64) {
        self.body.set_limit(limit);
    }

    /// Whether the request came without a body (no bytes, or `Content-Length: 0`).
    pub fn body_is_empty(&self) -> bool {
        self.body.announced_empty()
    }

    /// The settings of this component instance.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    // ----- the response -----

    /// The response status so far (200 unless set).
    pub fn status(&self) -> StatusCode {
        self.response.status
    }

    /// Sets a success (or any) status without raising one, e.g. `ctx.set_status(201)`.
    /// A code outside `100..=999` is ignored and the status stays as it was.
    pub fn set_status(&mut self, code: u16) {
        if let Ok(code) = StatusCode::from_u16(code) {
            self.response.status = code;
        }
    }

    /// The response headers so far.
    pub fn response_headers(&self) -> &HeaderMap {
        &self.response.headers
    }

    /// The response headers, to change freely.
    pub fn response_headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.response.headers
    }

    /// Sets a response header, replacing earlier values; an invalid value is a `500` whose
    /// detail names the header.
    pub fn set_header(
        &mut self,
        name: impl IntoHeaderName,
        value: impl AsRef<str>,
    ) -> Result<(), HttpStatus> {
        let value = header_value(value.as_ref())?;
        self.response.headers.insert(name, value);
        Ok(())
    }

    /// Adds a response header, keeping earlier values.
    pub fn append_header(
        &mut self,
        name: impl IntoHeaderName,
        value: impl AsRef<str>,
    ) -> Result<(), HttpStatus> {
        let value = header_value(value.as_ref())?;
        self.response.headers.append(name, value);
        Ok(())
    }

    /// Sends a cookie with the response. Attributes left unset on it take the `cookie.http_only`
    /// and `cookie.secure` settings. Only cookies set this way are sent; request cookies are
    /// never echoed back.
    ///
    /// ```
    /// use nanohttp::cookie::{Cookie, SameSite};
    /// # let mut ctx = nanohttp::Context::new(http::Request::new(Vec::new()), Default::default());
    /// ctx.set_cookie(Cookie::build(("session", "abc")).path("/").same_site(SameSite::Lax).build());
    /// ```
    pub fn set_cookie(&mut self, cookie: Cookie<'static>) {
        self.response.cookies.retain(|c| c.name() != cookie.name());
        self.response.cookies.push(cookie);
    }

    /// Asks the client to forget a cookie (an expired, empty cookie with the same name and path).
    pub fn remove_cookie(&mut self, name: impl Into<Cow<'static, str>>, path: &'static str) {
        let mut cookie = Cookie::build((name, "")).path(path).build();
        cookie.make_removal();
        self.set_cookie(cookie);
    }

    /// The cookies this response will set.
    pub fn response_cookies(&self) -> &[Cookie<'static>] {
        &self.response.cookies
    }

    /// The response content type, without charset.
    pub fn content_type(&self) -> Option<&str> {
        self.response.content_type.as_deref()
    }

    /// Sets the response content type (`"application/pdf"`); the charset comes from
    /// [`Context::set_encoding`].
    pub fn set_content_type(&mut self, content_type: impl Into<Cow<'static, str>>) {
        self.response.content_type = Some(content_type.into());
    }

    /// The response charset, if any.
    pub fn encoding(&self) -> Option<&str> {
        self.response.encoding.as_deref()
    }

    /// Sets the response charset (`Some("utf-8")`) or none (`None`, for binary bodies).
    /// It labels the body; Rust strings are UTF-8, so say `utf-8` unless you encoded it yourself.
    pub fn set_encoding(&mut self, encoding: Option<&'static str>) {
        self.response.encoding = encoding.map(Cow::Borrowed);
    }

    // ----- free per-request values -----

    /// The free per-request values, one per type (an identity, a database handle):
    /// `ctx.values().get::<Identity>()`.
    pub fn values(&self) -> &Extensions {
        &self.values
    }

    /// The free per-request values, to store or take one:
    /// `ctx.values_mut().insert(Identity(name))`.
    pub fn values_mut(&mut self) -> &mut Extensions {
        &mut self.values
    }
}

fn header_value(value: &str) -> Result<HeaderValue, HttpStatus> {
    HeaderValue::from_str(value).map_err(|_| {
        HttpStatus::internal_server_error()
            .with_detail(format!("invalid response header value {value:?}"))
    })
}

/// Standard methods map to static names, so the common case allocates nothing.
fn lower_case_verb(method: &Method) -> Cow<'static, str> {
    Cow::Borrowed(match *method {
        Method::GET => "get",
        Method::POST => "post",
        Method::PUT => "put",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        Method::HEAD => "head",
        Method::OPTIONS => "options",
        Method::TRACE => "trace",
        Method::CONNECT => "connect",
        _ => return Cow::Owned(method.as_str().to_ascii_lowercase()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(request: http::request::Builder) -> Context {
        Context::new(request.body(Vec::new()).unwrap(), Default::default())
    }

    #[test]
    fn verbs_are_lower_case() {
        for (method, verb) in [("GET", "get"), ("DELETE", "delete"), ("LIST", "list")] {
            let ctx = ctx(http::Request::builder().method(method));
            assert_eq!(ctx.verb(), verb);
        }
    }

    #[test]
    fn cookies_from_several_headers() {
        let ctx = ctx(http::Request::builder()
            .header("cookie", "a=1; b=two%20words")
            .header("cookie", "c=3; =broken; d"));
        assert_eq!(ctx.cookie("a"), Some("1"));
        assert_eq!(ctx.cookie("b"), Some("two words"));
        assert_eq!(ctx.cookie("c"), Some("3"));
        assert_eq!(ctx.cookie("zzz"), None);
    }

    #[test]
    fn set_cookie_replaces_same_name() {
        let mut ctx = ctx(http::Request::builder());
        ctx.set_cookie(Cookie::new("a", "1"));
        ctx.set_cookie(Cookie::new("a", "2"));
        assert_eq!(ctx.response_cookies().len(), 1);
        assert_eq!(ctx.response_cookies()[0].value(), "2");
    }

    #[test]
    fn invalid_header_value_is_500() {
        let mut ctx = ctx(http::Request::builder());
        let error = ctx.set_header("x-a", "bad\nvalue").unwrap_err();
        assert_eq!(error.code(), 500);
    }
}
