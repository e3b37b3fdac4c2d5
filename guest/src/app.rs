//! The application: the root controller with its hooks, and the request cycle that runs them.

use std::any::Any;
use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use cookie::time::{OffsetDateTime, UtcOffset};
use cookie::{Cookie, SameSite};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, SET_COOKIE, TRANSFER_ENCODING};
use http::{HeaderMap, Method, StatusCode};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::context::Context;
use crate::dispatch::{Controller, split_path};
use crate::response::{Body, Outcome};
use crate::settings::{CookieDefaults, Settings};
use crate::status::{HttpStatus, status_forbids_body};

/// The root of a controller tree, with the application-wide hooks of nanohttp.
///
/// Every hook has a default that does nothing, so `impl Application for Root {}` is enough.
///
/// ```
/// use nanohttp::prelude::*;
///
/// #[derive(Default)]
/// struct Root;
///
/// #[controller]
/// impl Root {
///     #[text]
///     fn index(&self, ctx: &Context) -> String {
///         format!("hello {}", ctx.get::<Identity>().map_or("stranger", |i| &i.0))
///     }
/// }
///
/// #[derive(Clone)]
/// struct Identity(String);
///
/// impl Application for Root {
///     const SETTINGS: &'static str = nanohttp::yaml!("greeting: hello");
///
///     fn begin_request(&self, ctx: &mut Context) -> Result<(), HttpStatus> {
///         if let Some(name) = ctx.header("x-user").map(str::to_owned) {
///             ctx.insert(Identity(name));
///         }
///         Ok(())
///     }
/// }
///
/// let client = nanohttp::testing::TestClient::new(Root);
/// assert_eq!(client.get("/").header("x-user", "ada").send().text(), "hello ada");
/// assert_eq!(client.get("/").send().text(), "hello stranger");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a nanohttp application",
    note = "add `impl nanohttp::Application for {Self} {{}}` (every hook has a default)"
)]
pub trait Application: Controller + Sized {
    /// The application's own default settings, merged over the framework's defaults and under
    /// whatever the host passes: a JSON object, or YAML converted at compile time by
    /// [`yaml!`](crate::yaml) (`nanohttp::yaml!("page_size: 10")`). Other text is a compile
    /// error (unless the `yaml` feature is on: then it is parsed as YAML at run time).
    const SETTINGS: &'static str = "";

    /// Runs once per component instance, before its first request.
    fn app_init(&mut self, settings: &Settings) {
        let _ = settings;
    }

    /// Runs before dispatch; an error answers the request without dispatching it.
    fn begin_request(&self, ctx: &mut Context) -> Result<(), HttpStatus> {
        let _ = ctx;
        Ok(())
    }

    /// Runs when the handler has produced its first output, before the status and headers go
    /// out (also for error responses); a last chance to add headers.
    fn begin_response(&self, ctx: &mut Context) {
        let _ = ctx;
    }

    /// Runs after the body has been sent, on success and on error.
    fn end_response(&self, ctx: &mut Context) {
        let _ = ctx;
    }

    /// Renders the body of an error response. The default sends the status line as text, or
    /// `{"status", "message"}` as JSON when the response is JSON, with the error's detail only
    /// when the `debug` setting is on.
    fn render_error(&self, ctx: &mut Context, error: &HttpStatus) -> Body<'static> {
        default_error_body(ctx, error)
    }
}

/// The framework's error body; see [`Application::render_error`].
pub fn default_error_body(ctx: &mut Context, error: &HttpStatus) -> Body<'static> {
    let detail = error.detail().filter(|_| ctx.settings().debug());
    let json = ctx
        .content_type()
        .is_some_and(|ct| ct == "application/json" || ct.ends_with("+json"));
    let body = if json {
        let body = ErrorJson {
            error: detail,
            message: error.reason(),
            status: error.code(),
        };
        serde_json::to_string(&body).expect("strings and numbers serialise")
    } else {
        ctx.set_content_type("text/plain");
        match detail {
            Some(detail) => format!("{error}\n\n{detail}\n"),
            None => format!("{error}\n"),
        }
    };
    ctx.set_encoding(Some("utf-8"));
    Body::Bytes(Cow::Owned(body.into_bytes()))
}

/// The JSON error body: `{"error", "message", "status"}`, in that order, `error` only when given.
/// A struct rather than a `serde_json::Value`, which would bring a map and the number
/// formatting into every component.
#[derive(serde::Serialize)]
struct ErrorJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    message: &'a str,
    status: u16,
}

/// Where a response goes: the WASI outgoing response in a component, a buffer in tests.
#[doc(hidden)]
pub trait ResponseSink {
    /// Sends the status and headers. Called exactly once, before any chunk.
    fn start(&mut self, status: StatusCode, headers: HeaderMap);
    /// Sends a piece of the body; `false` means the client is gone and sending should stop.
    fn write(&mut self, chunk: &[u8]) -> bool;
    /// Ends the body: `None` when complete, or the error that broke it off midway.
    fn finish(self, error: Option<HttpStatus>);
}

/// Runs one request, whose body is in memory, through `app` and writes the response to `sink`.
#[doc(hidden)]
pub fn serve<A: Application>(
    app: &A,
    settings: &Arc<Settings>,
    request: http::Request<Vec<u8>>,
    sink: impl ResponseSink,
) {
    serve_context(app, Context::new(request, Arc::clone(settings)), sink);
}

/// Runs one request through `app` and writes the response to `sink`.
pub(crate) fn serve_context<A: Application>(
    app: &A,
    mut ctx: Context,
    mut sink: impl ResponseSink,
) {
    let head_only = *ctx.method() == Method::HEAD;
    let outcome = guarded(|| {
        let segments = split_path(ctx.path())?;
        app.begin_request(&mut ctx)?;
        app.dispatch(&mut ctx, &segments)
    });
    let (mut body, mut first_chunk) = match prime(outcome) {
        Ok(primed) => primed,
        Err(error) => (error_body(app, &mut ctx, error), None),
    };
    if let Err(error) = guarded(|| {
        app.begin_response(&mut ctx);
        Ok(())
    }) {
        (body, first_chunk) = (error_body(app, &mut ctx, error), None);
    }

    let mut headers = response_headers(&mut ctx);
    let status = ctx.response.status;
    let body = if status_forbids_body(status) {
        Body::Empty
    } else {
        body
    };
    let length = match &body {
        Body::Bytes(bytes) => Some(bytes.len() as u64),
        Body::SizedStream(length, _) => Some(*length),
        Body::Empty if !status_forbids_body(status) => Some(0),
        Body::Empty | Body::Stream(_) => None,
    };
    if let Some(length) = length {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    sink.start(status, headers);

    let error = if head_only {
        None
    } else {
        send_body(&mut sink, body, first_chunk)
    };
    sink.finish(error);
    // The response is out; a failing hook can only be reported.
    if let Err(error) = guarded(|| {
        app.end_response(&mut ctx);
        Ok(())
    }) {
        eprintln!(
            "nanohttp: end_response failed: {error}: {}",
            error.detail().unwrap_or("")
        );
    }
}

/// Runs `f`, turning a panic into a `500` whose detail is the panic message.
fn guarded<T>(f: impl FnOnce() -> Result<T, HttpStatus>) -> Result<T, HttpStatus> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| Err(panic_status(panic)))
}

fn panic_status(panic: Box<dyn Any + Send>) -> HttpStatus {
    HttpStatus::internal_server_error()
        .with_detail(format!("handler panicked: {}", panic_message(&*panic)))
}

/// The message a panic was raised with, when it has one.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Pulls the first chunk of a stream before anything is sent, so that an error (or panic) there
/// still becomes a proper status.
fn prime(outcome: Outcome<'_>) -> Result<(Body<'_>, Option<Vec<u8>>), HttpStatus> {
    match outcome? {
        Body::Stream(mut chunks) => match guarded(|| chunks.next().transpose())? {
            Some(first) => Ok((Body::Stream(chunks), Some(first))),
            None => Ok((Body::Empty, None)),
        },
        Body::SizedStream(length, mut chunks) => {
            let first = guarded(|| chunks.next().transpose())?;
            Ok((Body::SizedStream(length, chunks), first))
        }
        body => Ok((body, None)),
    }
}

/// Turns an error into the response status, headers and body.
fn error_body<A: Application>(app: &A, ctx: &mut Context, error: HttpStatus) -> Body<'static> {
    if let Some(detail) = error.detail().filter(|_| !ctx.settings().debug()) {
        // Not for the client, but not lost either: the host logs the guest's stderr.
        eprintln!("nanohttp: {error}: {detail}");
    }
    ctx.response.status = error.status_code();
    for (name, value) in error.headers() {
        ctx.response.headers.insert(name, value.clone());
    }
    if error.forbids_body() {
        return Body::Empty;
    }
    match catch_unwind(AssertUnwindSafe(|| app.render_error(ctx, &error))) {
        Ok(body) => body,
        Err(panic) => default_error_body(ctx, &panic_status(panic)),
    }
}

/// The headers as they go out: the handler's, the content type with its charset, the cookies.
fn response_headers(ctx: &mut Context) -> HeaderMap {
    let mut headers = std::mem::take(&mut ctx.response.headers);
    // The framework decides how the body is framed; a handler's `Content-Length` could lie.
    headers.remove(CONTENT_LENGTH);
    headers.remove(TRANSFER_ENCODING);
    if !headers.contains_key(CONTENT_TYPE)
        && let Some(value) = content_type_value(ctx)
    {
        headers.insert(CONTENT_TYPE, value);
    }
    let defaults = ctx.settings().cookie_defaults();
    for cookie in &ctx.response.cookies {
        if let Some(value) = set_cookie_value(cookie, defaults) {
            headers.append(SET_COOKIE, value);
        }
    }
    headers
}

fn content_type_value(ctx: &Context) -> Option<HeaderValue> {
    let content_type = ctx.content_type()?;
    // Runs for every response: plain string building, no formatting machinery.
    let has_charset = content_type
        .as_bytes()
        .windows(b"charset=".len())
        .any(|window| window.eq_ignore_ascii_case(b"charset="));
    let value = match ctx.encoding() {
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

/// A cookie's `Set-Cookie` value, with the settings' defaults for attributes left unset.
fn set_cookie_value(cookie: &Cookie<'static>, defaults: CookieDefaults) -> Option<HeaderValue> {
    let mut cookie = cookie.clone();
    if cookie.http_only().is_none() && defaults.http_only {
        cookie.set_http_only(true);
    }
    if cookie.secure().is_none() && defaults.secure {
        cookie.set_secure(true);
    }
    HeaderValue::from_str(&set_cookie_text(&cookie)).ok()
}

/// The bytes the `cookie` crate percent-encodes in names and values: controls, non-ASCII, space
/// and `"#%(),/:;<=>?@[\]^`{|}`.
const COOKIE_ENCODED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'(')
    .add(b')')
    .add(b',')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The `Set-Cookie` text the `cookie` crate writes (`cookie.encoded().to_string()`), written
/// here: the crate formats `Expires` with the `time` crate's general-purpose formatter, about
/// 20 KB of every component, where a fixed format needs a few lines.
fn set_cookie_text(cookie: &Cookie<'_>) -> String {
    use std::fmt::Write as _;

    let mut text = format!(
        "{}={}",
        utf8_percent_encode(cookie.name(), COOKIE_ENCODED),
        utf8_percent_encode(cookie.value(), COOKIE_ENCODED)
    );
    if cookie.http_only() == Some(true) {
        text.push_str("; HttpOnly");
    }
    if let Some(same_site) = cookie.same_site() {
        let _ = write!(text, "; SameSite={same_site}");
    }
    let partitioned = cookie.partitioned() == Some(true);
    if partitioned {
        text.push_str("; Partitioned");
    }
    // As the crate does: partitioned cookies, and `SameSite=None` ones unless told otherwise,
    // must be secure.
    if cookie.secure() == Some(true)
        || partitioned
        || cookie.secure().is_none() && cookie.same_site() == Some(SameSite::None)
    {
        text.push_str("; Secure");
    }
    if let Some(path) = cookie.path() {
        let _ = write!(text, "; Path={path}");
    }
    if let Some(domain) = cookie.domain() {
        let _ = write!(text, "; Domain={domain}");
    }
    if let Some(max_age) = cookie.max_age() {
        let _ = write!(text, "; Max-Age={}", max_age.whole_seconds());
    }
    if let Some(expires) = cookie.expires_datetime() {
        let _ = write!(text, "; Expires={}", cookie_date(expires));
    }
    text
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`: the date format of `Expires` (RFC 6265, RFC 7231 IMF-fixdate),
/// the year written in full as the `cookie` crate does.
fn cookie_date(time: OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let time = time.to_offset(UtcOffset::UTC);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[usize::from(time.weekday().number_days_from_monday())],
        time.day(),
        MONTHS[usize::from(u8::from(time.month())) - 1],
        time.year(),
        time.hour(),
        time.minute(),
        time.second(),
    )
}

/// Sends the body; returns the error that broke a stream off, if any.
fn send_body(
    sink: &mut impl ResponseSink,
    body: Body<'_>,
    first_chunk: Option<Vec<u8>>,
) -> Option<HttpStatus> {
    match body {
        Body::Empty => None,
        Body::Bytes(bytes) => {
            sink.write(&bytes);
            None
        }
        Body::Stream(mut chunks) | Body::SizedStream(_, mut chunks) => {
            if let Some(first) = first_chunk
                && !sink.write(&first)
            {
                return None;
            }
            loop {
                match guarded(|| chunks.next().transpose()) {
                    Ok(Some(chunk)) => {
                        if !sink.write(&chunk) {
                            return None;
                        }
                    }
                    Ok(None) => return None,
                    Err(error) => {
                        eprintln!("nanohttp: stream broken off: {error}");
                        return Some(error);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cookie::time::{Date, Duration, Month, PrimitiveDateTime, Time, UtcOffset};
    use cookie::{Cookie, SameSite};

    use super::set_cookie_text;

    /// The text matches the `cookie` crate's own, attribute for attribute.
    #[test]
    fn set_cookie_text_matches_the_cookie_crate() {
        let at = |year, month, day, hms: (u8, u8, u8), offset_hours| {
            let date = Date::from_calendar_date(year, month, day).unwrap();
            let time = Time::from_hms(hms.0, hms.1, hms.2).unwrap();
            PrimitiveDateTime::new(date, time)
                .assume_offset(UtcOffset::from_hms(offset_hours, 0, 0).unwrap())
        };
        let mut removed = Cookie::build(("gone", "x")).path("/").build();
        removed.make_removal();
        let cookies = [
            Cookie::new("a", "1"),
            Cookie::new("my name", "this; value?"),
            Cookie::new(
                (' '..='~').collect::<String>(),
                format!("\u{7f}\t{}é€", (' '..='~').rev().collect::<String>()),
            ),
            Cookie::build(("s", "v"))
                .http_only(true)
                .secure(true)
                .same_site(SameSite::Lax)
                .path("/app")
                .domain("example.com")
                .max_age(Duration::hours(2))
                .expires(at(1994, Month::November, 6, (8, 49, 37), 0))
                .build(),
            Cookie::build(("n", "v")).same_site(SameSite::None).build(),
            Cookie::build(("n", "v"))
                .same_site(SameSite::None)
                .secure(false)
                .build(),
            Cookie::build(("p", "v")).partitioned(true).build(),
            Cookie::build(("h", "v"))
                .http_only(false)
                .secure(false)
                .same_site(SameSite::Strict)
                .max_age(Duration::seconds(-5))
                .build(),
            Cookie::build(("e", "v"))
                .expires(at(2026, Month::March, 1, (23, 5, 9), -5))
                .build(),
            Cookie::build(("old", "v"))
                .expires(at(1901, Month::January, 2, (0, 0, 0), 0))
                .build(),
            Cookie::build(("far", "v"))
                .expires(at(9999, Month::December, 31, (23, 59, 59), 0))
                .build(),
            removed,
        ];
        for cookie in cookies {
            assert_eq!(set_cookie_text(&cookie), cookie.encoded().to_string());
        }
    }
}
