//! Outbound HTTP: a small blocking client for calling other services from a handler.
//!
//! ```no_run
//! use nanohttp::client::{self, Request};
//! use nanohttp::HttpStatus;
//!
//! #[derive(serde::Deserialize)]
//! struct Weather { celsius: f64 }
//!
//! fn forecast() -> Result<String, HttpStatus> {
//!     // `?` turns a failed call into a 502 / 504 naming the upstream.
//!     let weather: Weather = Request::get("https://api.example.com/weather")
//!         .query("city", "Tehran")
//!         .header("accept", "application/json")
//!         .send()?
//!         .json()?;
//!
//!     // Several calls in flight at once: this takes as long as the slowest.
//!     let pages = client::send_all([
//!         Request::get("https://api.example.com/a"),
//!         Request::get("https://api.example.com/b"),
//!     ]);
//!     let found = pages.into_iter().filter(|page| page.is_ok()).count();
//!     Ok(format!("{} °C, {found} pages", weather.celsius))
//! }
//! ```
//!
//! In a component the requests go through `wasi:http/outgoing-handler`, so the host decides
//! which upstreams a guest may reach (the `nanohttp` host refuses everything not allowed by
//! `--allow-outbound`). Natively (in `cargo test` and [`TestClient`](crate::testing::TestClient)
//! tests), the same calls reach real servers through the `ureq` client.
//!
//! Redirects are not followed unless asked ([`Request::follow_redirects`]); each hop is a new
//! request, which the host checks like the first.

mod error;
mod response;

#[cfg(not(target_arch = "wasm32"))]
#[path = "native.rs"]
mod transport;
#[cfg(all(target_arch = "wasm32", not(feature = "p3")))]
#[path = "wasi.rs"]
mod transport;
#[cfg(all(target_arch = "wasm32", feature = "p3"))]
#[path = "wasi_p3.rs"]
mod transport;

/// The typed error for a `wasi:http` error code (either version's `error-code`, which have the
/// same cases) from `upstream`.
#[cfg(target_arch = "wasm32")]
macro_rules! error_of_code {
    ($upstream:expr, $code:expr, $wasi:path) => {{
        use $wasi as E;
        let code = $code;
        let kind = match code {
            E::DnsTimeout | E::DnsError(_) | E::DestinationNotFound => ErrorKind::Dns,
            E::HttpRequestDenied | E::DestinationIpProhibited => ErrorKind::Denied,
            E::ConnectionRefused | E::DestinationUnavailable => ErrorKind::ConnectionRefused,
            E::ConnectionTimeout
            | E::ConnectionReadTimeout
            | E::ConnectionWriteTimeout
            | E::HttpResponseTimeout => ErrorKind::Timeout,
            E::TlsProtocolError | E::TlsCertificateError | E::TlsAlertReceived(_) => ErrorKind::Tls,
            E::HttpResponseBodySize(_) => ErrorKind::BodyTooLarge,
            E::ConnectionLimitReached => ErrorKind::TooManyInFlight,
            E::HttpRequestUriInvalid | E::HttpRequestMethodInvalid => ErrorKind::InvalidRequest,
            _ => ErrorKind::Protocol,
        };
        ClientError::new(kind, $upstream.to_owned(), format!("{code:?}"))
    }};
}
#[cfg(target_arch = "wasm32")]
use error_of_code;

use std::io::Read;
use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue, LOCATION};
use http::{HeaderMap, Method, StatusCode, Uri};
use serde::Serialize;

pub use error::{ClientError, ErrorKind};
pub use response::{BodyReader, Response};

/// The largest response body [`Response::bytes`], [`Response::text`] and [`Response::json`]
/// read unless [`Response::limit`] says otherwise: 10 MiB.
pub const DEFAULT_BODY_LIMIT: u64 = 10 << 20;

/// An outgoing request, built step by step and sent with [`Request::send`] (or several at
/// once with [`send_all`]).
///
/// A mistake while building (a URL that is not absolute `http`/`https`, a header that is not
/// valid) is kept and reported by `send` as [`ErrorKind::InvalidRequest`], so the builder
/// chains without `?` at each step.
#[must_use = "a request does nothing until it is sent"]
pub struct Request {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: SendBody,
    timeouts: Timeouts,
    /// Redirects still to follow; `None`: none is followed.
    redirects: Option<u32>,
    /// The first mistake made while building, reported by `send`.
    invalid: Option<String>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("headers", &self.headers)
            .field("timeouts", &self.timeouts)
            .field("redirects", &self.redirects)
            .finish_non_exhaustive()
    }
}

/// What a request sends as its body.
pub(crate) enum SendBody {
    Empty,
    Bytes(Vec<u8>),
    /// Streamed in chunks as it is read; cannot be sent twice (for a redirect that keeps the
    /// method, the redirect response is returned as it is).
    Reader(Box<dyn Read + Send>),
}

/// Time limits of one request. `None` leaves it to the host (the `nanohttp` host has its own
/// limits for each, and caps what a guest asks at them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// To resolve the name and open the connection (and the TLS session).
    pub connect: Option<Duration>,
    /// From sending the request to the first byte of the response.
    pub first_byte: Option<Duration>,
    /// Between two pieces of the response body.
    pub between_bytes: Option<Duration>,
}

macro_rules! verbs {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("A `", stringify!($method), "` request to `url`.")]
            pub fn $name(url: &str) -> Self {
                Self::new(Method::$method, url)
            }
        )*
    };
}

impl Request {
    /// A request with any method to `url`, an absolute `http://` or `https://` URL.
    pub fn new(method: Method, url: &str) -> Self {
        let (uri, invalid) = match parse_url(url) {
            Ok(uri) => (uri, None),
            Err(why) => (Uri::default(), Some(why)),
        };
        Self {
            method,
            uri,
            headers: HeaderMap::new(),
            body: SendBody::Empty,
            timeouts: Timeouts::default(),
            redirects: None,
            invalid,
        }
    }

    verbs! {
        get => GET, head => HEAD, post => POST, put => PUT, patch => PATCH, delete => DELETE,
    }

    /// The URL this request goes to.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Adds a header (repeated names are all sent).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => self.invalidate(format!("invalid header {name:?}: {value:?}")),
        }
        self
    }

    /// Appends `name=value` to the query string, percent-encoded.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        if self.invalid.is_some() {
            return self;
        }
        let path = self.uri.path();
        let mut query = form_urlencoded::Serializer::new(
            self.uri.query().map(str::to_owned).unwrap_or_default(),
        );
        query.append_pair(name, value);
        let target = format!("{path}?{}", query.finish());
        let mut parts = self.uri.clone().into_parts();
        match target.parse() {
            Ok(target) => {
                parts.path_and_query = Some(target);
                self.uri = Uri::from_parts(parts).expect("only the query changed");
            }
            Err(_) => self.invalidate(format!("invalid query parameter {name:?}")),
        }
        self
    }

    /// Sends `body` as it is (set the content type with [`Request::header`]).
    pub fn bytes(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = SendBody::Bytes(body.into());
        self
    }

    /// Sends `body` as `text/plain; charset=utf-8` (unless a content type was set).
    pub fn text(self, body: impl Into<String>) -> Self {
        self.default_type("text/plain; charset=utf-8")
            .bytes(body.into().into_bytes())
    }

    /// Sends `value` serialised as JSON, as `application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.default_type("application/json").bytes(body),
            Err(error) => {
                self.invalidate(format!("cannot serialise the body as JSON: {error}"));
                self
            }
        }
    }

    /// Sends `fields` url-encoded, as `application/x-www-form-urlencoded`.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, fields: &[(K, V)]) -> Self {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            body.append_pair(name.as_ref(), value.as_ref());
        }
        self.default_type("application/x-www-form-urlencoded")
            .bytes(body.finish().into_bytes())
    }

    /// Streams the body from `reader`, in chunks as it is read (chunked transfer encoding,
    /// unless a `Content-Length` header is set).
    pub fn reader(mut self, reader: impl Read + Send + 'static) -> Self {
        self.body = SendBody::Reader(Box::new(reader));
        self
    }

    /// Limits the time to connect.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.timeouts.connect = Some(limit);
        self
    }

    /// Limits the time from sending the request to the first byte of the response.
    pub fn first_byte_timeout(mut self, limit: Duration) -> Self {
        self.timeouts.first_byte = Some(limit);
        self
    }

    /// Limits the time between two pieces of the response body.
    pub fn between_bytes_timeout(mut self, limit: Duration) -> Self {
        self.timeouts.between_bytes = Some(limit);
        self
    }

    /// Follows up to `max` redirects (`301`, `302`, `303`, `307`, `308` with a `Location`).
    /// `303` (and `301`/`302` after a `POST`) continue with a `GET` without body; `307` and
    /// `308` repeat the method and body, unless the body was a reader, which cannot be sent
    /// twice: the redirect is then the response. More than `max` is
    /// [`ErrorKind::TooManyRedirects`].
    pub fn follow_redirects(mut self, max: u32) -> Self {
        self.redirects = Some(max);
        self
    }

    /// Sends the request and waits for the response's status and headers; the body is read
    /// from the [`Response`].
    ///
    /// # Errors
    /// Any [`ClientError`]: `?` in a handler turns it into a fitting status.
    pub fn send(self) -> Result<Response, ClientError> {
        send_all([self]).pop().expect("one request, one result")
    }

    /// [`send`](Self::send) for `async` handlers: awaiting several at once
    /// ([`join`](crate::future::join), [`join_all`](crate::future::join_all)) has them all in
    /// flight together, as [`send_all`] does.
    ///
    /// # Errors
    /// Any [`ClientError`], as for [`send`](Self::send).
    pub async fn send_async(self) -> Result<Response, ClientError> {
        let mut request = self;
        loop {
            let (redo, pending) = start(request)?;
            let response = transport::wait(pending).await?;
            match redo.follow(&response)? {
                Some(next) => request = next,
                None => return Ok(response),
            }
        }
    }

    fn invalidate(&mut self, why: String) {
        self.invalid.get_or_insert(why);
    }

    fn default_type(mut self, content_type: &'static str) -> Self {
        self.headers
            .entry(CONTENT_TYPE)
            .or_insert(HeaderValue::from_static(content_type));
        self
    }

    /// The part of the URL that may appear in errors and logs: scheme, host and port.
    fn upstream(&self) -> String {
        upstream_of(&self.uri)
    }
}

/// Sends every request at once and waits for all of their responses (status and headers):
/// as long as the slowest, not the sum. The results are in the order of `requests`.
pub fn send_all(requests: impl IntoIterator<Item = Request>) -> Vec<Result<Response, ClientError>> {
    let requests: Vec<Request> = requests.into_iter().collect();
    let mut results: Vec<Option<Result<Response, ClientError>>> = Vec::new();
    results.resize_with(requests.len(), || None);
    // Requests waiting for a response: their index in `results` and what a redirect needs.
    let mut wave: Vec<(usize, Redo)> = Vec::new();
    let mut pending = Vec::new();
    for (index, request) in requests.into_iter().enumerate() {
        match start(request) {
            Ok((redo, started)) => {
                wave.push((index, redo));
                pending.push(started);
            }
            Err(error) => results[index] = Some(Err(error)),
        }
    }
    while !pending.is_empty() {
        let answers = transport::wait_all(std::mem::take(&mut pending));
        let mut next = Vec::new();
        for ((index, redo), answer) in std::mem::take(&mut wave).into_iter().zip(answers) {
            let response = match answer {
                Ok(response) => response,
                Err(error) => {
                    results[index] = Some(Err(error));
                    continue;
                }
            };
            match redo.follow(&response) {
                Ok(None) => results[index] = Some(Ok(response)),
                Ok(Some(request)) => match start(request) {
                    Ok((redo, started)) => {
                        next.push((index, redo));
                        pending.push(started);
                    }
                    Err(error) => results[index] = Some(Err(error)),
                },
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        wave = next;
    }
    results
        .into_iter()
        .map(|result| result.expect("every request ends with a result"))
        .collect()
}

/// What following a redirect needs of the request that got it.
struct Redo {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    /// `None` when the body was a reader (spent).
    body: Option<Vec<u8>>,
    timeouts: Timeouts,
    /// `None`: redirects are not followed.
    redirects_left: Option<u32>,
}

fn start(mut request: Request) -> Result<(Redo, transport::Pending), ClientError> {
    if let Some(why) = &request.invalid {
        return Err(ClientError::new(
            ErrorKind::InvalidRequest,
            request.upstream(),
            why.clone(),
        ));
    }
    if let SendBody::Bytes(bytes) = &request.body {
        // A body of known length goes with its length (not chunked), as servers expect.
        let length = HeaderValue::from(bytes.len());
        request
            .headers
            .entry(http::header::CONTENT_LENGTH)
            .or_insert(length);
    }
    let replay = match &request.body {
        SendBody::Empty => Some(Vec::new()),
        SendBody::Bytes(bytes) => Some(bytes.clone()),
        SendBody::Reader(_) => None,
    };
    let redo = Redo {
        method: request.method.clone(),
        uri: request.uri.clone(),
        headers: request.headers.clone(),
        body: replay,
        timeouts: request.timeouts,
        redirects_left: request.redirects,
    };
    let pending = transport::start(Outgoing {
        upstream: request.upstream(),
        method: request.method,
        uri: request.uri,
        headers: request.headers,
        body: request.body,
        timeouts: request.timeouts,
    })?;
    Ok((redo, pending))
}

impl Redo {
    /// The next request if `response` is a redirect to follow.
    fn follow(self, response: &Response) -> Result<Option<Request>, ClientError> {
        let status = response.status();
        let redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
        let location = response.header(LOCATION.as_str());
        let (Some(left), true, Some(location)) = (self.redirects_left, redirect, location) else {
            return Ok(None);
        };
        if left == 0 {
            return Err(ClientError::new(
                ErrorKind::TooManyRedirects,
                upstream_of(&self.uri),
                format!("redirected once more, to {location}"),
            ));
        }
        let keeps_method = matches!(status, StatusCode::TEMPORARY_REDIRECT)
            || status == StatusCode::PERMANENT_REDIRECT
            || (status != StatusCode::SEE_OTHER
                && matches!(self.method, Method::GET | Method::HEAD));
        let target = resolve(&self.uri, location)
            .map_err(|why| ClientError::new(ErrorKind::Protocol, upstream_of(&self.uri), why))?;
        let mut headers = self.headers;
        if upstream_of(&target) != upstream_of(&self.uri) {
            // Credentials meant for one upstream never follow a redirect to another.
            headers.remove(http::header::AUTHORIZATION);
            headers.remove(http::header::COOKIE);
        }
        let (method, body) = if keeps_method {
            match self.body {
                Some(body) => (self.method, body),
                // The body was streamed and is gone: the redirect is the answer.
                None => return Ok(None),
            }
        } else {
            headers.remove(CONTENT_TYPE);
            headers.remove(http::header::CONTENT_LENGTH);
            let method = if self.method == Method::HEAD {
                Method::HEAD
            } else {
                Method::GET
            };
            (method, Vec::new())
        };
        let mut next = Request::new(method, &target.to_string());
        next.headers = headers;
        next.body = if body.is_empty() {
            SendBody::Empty
        } else {
            SendBody::Bytes(body)
        };
        next.timeouts = self.timeouts;
        next.redirects = Some(left - 1);
        Ok(Some(next))
    }
}

/// A request as the transports send it.
pub(crate) struct Outgoing {
    /// Scheme, host and port, for errors.
    pub(crate) upstream: String,
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) body: SendBody,
    pub(crate) timeouts: Timeouts,
}

/// An absolute `http` or `https` URL with a host.
fn parse_url(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("invalid URL {url:?}: {e}"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => return Err(format!("unsupported URL scheme {other:?} (http or https)")),
        None => return Err(format!("not an absolute URL: {url:?}")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("no host in URL {url:?}"));
    }
    if uri.path_and_query().is_none() {
        let mut parts = uri.into_parts();
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        return Uri::from_parts(parts).map_err(|e| format!("invalid URL {url:?}: {e}"));
    }
    Ok(uri)
}

/// `scheme://host[:port]` of `uri`: what errors and logs may show of a URL (its path and
/// query may carry secrets).
pub(crate) fn upstream_of(uri: &Uri) -> String {
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => {
            // Credentials in the authority (`user:pass@host`) are never shown.
            let host_port = authority
                .as_str()
                .rsplit_once('@')
                .map_or(authority.as_str(), |(_, rest)| rest);
            format!("{scheme}://{host_port}")
        }
        _ => "(no upstream)".to_owned(),
    }
}

/// The target of a `Location` relative to the URL that answered with it.
fn resolve(base: &Uri, location: &str) -> Result<Uri, String> {
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map_or("", |a| a.as_str());
    let has_scheme = location
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|first| first.contains(':'));
    let absolute = if has_scheme {
        location.to_owned()
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |slash| slash + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        format!("{scheme}://{authority}{dir}{location}")
    };
    parse_url(&absolute).map_err(|why| format!("bad redirect Location {location:?}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("http://example.com").unwrap().to_string(),
            "http://example.com/"
        );
        for bad in [
            "example.com/x",
            "ftp://example.com/",
            "http:///x",
            "not a url",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        let uri = parse_url("https://user:secret@api.example.com:8443/a?token=x").unwrap();
        assert_eq!(upstream_of(&uri), "https://api.example.com:8443");
    }

    #[test]
    fn redirect_targets() {
        let base = parse_url("http://a.test:8080/x/y?q=1").unwrap();
        let cases = [
            ("https://b.test/z", "https://b.test/z"),
            ("//c.test/z", "http://c.test/z"),
            ("/z?k=v", "http://a.test:8080/z?k=v"),
            ("z", "http://a.test:8080/x/z"),
        ];
        for (location, expected) in cases {
            assert_eq!(resolve(&base, location).unwrap().to_string(), expected);
        }
        assert!(resolve(&base, "mailto:x@y").is_err());
    }

    #[test]
    fn building_mistakes_are_reported_when_sent() {
        let error = Request::get("localhost:80/x").send().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidRequest);
        let error = Request::get("http://127.0.0.1:9/")
            .header("bad name", "x")
            .send()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidRequest);
        assert!(error.to_string().contains("invalid header"), "{error}");
    }

    #[test]
    fn query_parameters_are_encoded() {
        let request = Request::get("http://a.test/p?x=1")
            .query("city", "Tehran & Co")
            .query("n", "2");
        assert_eq!(
            request.uri().to_string(),
            "http://a.test/p?x=1&city=Tehran+%26+Co&n=2"
        );
    }
}
