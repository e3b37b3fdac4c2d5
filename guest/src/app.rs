//! The application: the root controller with its hooks, and the request cycle that runs them.

use std::any::Any;
use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, SET_COOKIE, TRANSFER_ENCODING};
use http::{HeaderMap, Method, StatusCode};

use crate::context::Context;
use crate::cookies::set_cookie_value;
use crate::dispatch::{Controller, split_path};
use crate::media;
use crate::response::{Body, Outcome};
use crate::settings::Settings;
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
///         format!("hello {}", ctx.values().get::<Identity>().map_or("stranger", |i| &i.0))
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
///             ctx.values_mut().insert(Identity(name));
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

    /// Runs once per component instance, before its first request; or, on a host that
    /// pre-initialises the component (the `nanohttp` host does unless `--no-snapshot`), once at
    /// load, every instance starting from the state it left. So what it makes is the same in
    /// every instance of one load: a time it reads, a random value it draws, what it reads from
    /// the key-value store, the keys of a `HashMap` it builds. A handle it keeps (a key-value bucket, a line written to stderr
    /// keeps the stream) cannot be carried over: the host then runs it in each instance.
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
    let json = ctx.content_type().is_some_and(media::is_json);
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
pub(crate) fn serve_context<A: Application>(app: &A, ctx: Context, mut sink: impl ResponseSink) {
    let mut answer = respond(app, ctx);
    sink.start(answer.status, std::mem::take(&mut answer.headers));
    let mut error = None;
    while let Some(chunk) = answer.next_chunk() {
        match chunk {
            Ok(chunk) if sink.write(&chunk) => {}
            // The client is gone: nothing more to send.
            Ok(_) => break,
            Err(broken) => {
                error = Some(broken);
                break;
            }
        }
    }
    sink.finish(error);
    answer.end();
}

/// A request served up to its response: the status and headers to send, then the body, pulled
/// chunk by chunk, and the `end_response` hook once it is out. The component glue sends it its
/// own way (WASI 0.2 writes while the handler runs; WASI 0.3 returns the head first and
/// streams the body from a task of its own).
pub(crate) struct Answer<'a, A> {
    app: &'a A,
    ctx: Context,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    body: Body<'a>,
    /// A stream's first chunk, pulled before the head went out (see [`prime`]).
    first_chunk: Option<Vec<u8>>,
}

/// Dispatches the request, runs the hooks up to `begin_response`, and decides the status,
/// headers and body: errors and panics up to here become their status responses.
pub(crate) fn respond<A: Application>(app: &A, mut ctx: Context) -> Answer<'_, A> {
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
    // HEAD is answered with GET's head and no body.
    let (body, first_chunk) = match head_only {
        true => (Body::Empty, None),
        false => (body, first_chunk),
    };
    Answer {
        app,
        ctx,
        status,
        headers,
        body,
        first_chunk,
    }
}

impl<A: Application> Answer<'_, A> {
    /// The next piece of the body; `None` once it is whole, `Err` when a stream broke off (the
    /// body must then end unfinished).
    pub(crate) fn next_chunk(&mut self) -> Option<Result<Cow<'static, [u8]>, HttpStatus>> {
        if let Some(first) = self.first_chunk.take() {
            return Some(Ok(Cow::Owned(first)));
        }
        match std::mem::replace(&mut self.body, Body::Empty) {
            Body::Empty => None,
            Body::Bytes(bytes) => Some(Ok(bytes)),
            Body::Stream(mut chunks) | Body::SizedStream(_, mut chunks) => {
                let next = guarded(|| chunks.next().transpose());
                // Put back what is left of the stream for the next call (its length is only
                // needed for the head, which is out).
                self.body = Body::Stream(chunks);
                match next {
                    Ok(Some(chunk)) => Some(Ok(Cow::Owned(chunk))),
                    Ok(None) => {
                        self.body = Body::Empty;
                        None
                    }
                    Err(error) => {
                        self.body = Body::Empty;
                        eprintln!("nanohttp: stream broken off: {error}");
                        Some(Err(error))
                    }
                }
            }
        }
    }

    /// Runs `end_response`: the response is out (or abandoned), a failing hook can only be
    /// reported.
    pub(crate) fn end(mut self) {
        // A stream not sent to its end is dropped before the hook runs.
        self.body = Body::Empty;
        if let Err(error) = guarded(|| {
            self.app.end_response(&mut self.ctx);
            Ok(())
        }) {
            eprintln!(
                "nanohttp: end_response failed: {error}: {}",
                error.detail().unwrap_or("")
            );
        }
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
    media::content_type_value(ctx.content_type()?, ctx.encoding())
}
