//! The WASI 0.3 glue: the `wasi:http/handler` export, an async function that returns the
//! response's head as soon as the framework knows it, the body then streaming from a task of
//! its own; the request body as a blocking reader over its `stream<u8>`.
//!
//! Handlers stay synchronous: where the framework waits for the host (a body read, an
//! outgoing request) it blocks the component's task with [`block_on`], which the component
//! model allows in an async export. Nothing else runs in the instance meanwhile.

use std::borrow::Cow;
use std::cell::Cell;
use std::io;
use std::sync::Arc;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};
pub(crate) use wit_bindgen::block_on;
use wit_bindgen::{FutureReader, FutureWriter, StreamReader, StreamResult, StreamWriter};

use super::bindings::wasi::http::types::{
    ErrorCode, Fields, Method as WasiMethod, Request, Response, Trailers,
};
use super::bindings::{wit_future, wit_stream};
use super::{Head, field_entries, instance, method_from_wasi};
use crate::app::{Answer, Application, respond};
use crate::body::Source;
use crate::context::Context;
use crate::status::HttpStatus;

/// What a body's end resolves to: its trailers, or the error that broke it off.
type BodyEnd = Result<Option<Trailers>, ErrorCode>;

thread_local! {
    // While the framework works out a response, whether the request is HEAD; `None` once
    // `handle` returned. A panic aborts a component instance (no unwinding on wasm), so the
    // panic hook answers in `handle`'s place meanwhile.
    static PENDING: Cell<Option<bool>> = const { Cell::new(None) };
}

/// The panic hook's answer (see `install_panic_hook`) while `handle` works out the response:
/// the hook returns `handle`'s result itself and sends the body.
pub(super) fn answer_panic(status: StatusCode, text: String) -> bool {
    let Some(head_only) = PENDING.take() else {
        return false;
    };
    let (response, body) = text_response(status, text, head_only);
    task_return(response);
    block_on(body.send());
    true
}

/// Returns `handle`'s result to the host from outside `handle` (from the panic hook), through
/// the same `task.return` the generated export calls once `handle` returns.
#[allow(
    unsafe_code,
    reason = "the component model's task.return, declared by hand"
)]
fn task_return(response: Response) {
    // The signature the bindings generator gives `handle`'s `task.return` (its result
    // flattened: the case, then the payload's slots, unused for `ok`). A mismatch fails the
    // component's build, never a request.
    #[link(wasm_import_module = "[export]wasi:http/handler@0.3.0")]
    unsafe extern "C" {
        #[link_name = "[task-return]handle"]
        fn task_return(
            case: i32,
            handle: i32,
            _: i32,
            _: std::mem::MaybeUninit<u64>,
            _: *mut u8,
            _: *mut u8,
            _: usize,
            _: i32,
        );
    }
    let handle = response.take_handle().cast_signed();
    // SAFETY: `handle` is an owned response, given up to the host here as the generated code
    // would; the instance exits before `handle` could return a second result.
    unsafe {
        task_return(
            0,
            handle,
            0,
            std::mem::MaybeUninit::zeroed(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
            0,
        );
    }
}

/// The body of the exported `handle`: read the request's head, serve it, return the response
/// whose body a spawned task then writes.
pub async fn handle<A: Application + Default + 'static>(
    request: Request,
) -> Result<Response, ErrorCode> {
    let head_only = matches!(request.get_method(), WasiMethod::Head);
    // A panic in the application's start-up (on the first request, unless the host took a
    // snapshot of it) is answered as one in a handler.
    PENDING.set(Some(head_only));
    let started = instance::<A>();
    PENDING.set(None);
    let (app, settings) = match started {
        Ok(instance) => instance,
        Err(failure) => {
            let text = failure.answer();
            return Ok(text_answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                text,
                head_only,
            ));
        }
    };
    let head = method_from_wasi!(request.get_method(), WasiMethod).and_then(|method| {
        Head {
            method,
            target: request.get_path_with_query(),
            fields: request.get_headers().copy_all(),
        }
        .parse()
    });
    let head = match head {
        Ok(head) => head,
        Err(status) => {
            let text = format!("{status}\n");
            return Ok(text_answer(status.status_code(), text, head_only));
        }
    };
    let body = StreamBody::new(request, |request, done| {
        Request::consume_body(request, done)
    });
    let ctx = Context::from_head(head, Source::Reader(Box::new(body)), Arc::clone(settings));
    PENDING.set(Some(head_only));
    let mut answer = respond(app, ctx);
    PENDING.set(None);
    let headers = std::mem::take(&mut answer.headers);
    Ok(start_response(answer.status, headers, head_only, answer))
}

/// Where a response's body comes from, chunk by chunk, and what to do once it is out.
trait BodySource: 'static {
    /// The next piece; `None` at the end, `Err` when the body breaks off.
    fn next_chunk(&mut self) -> Option<Result<Cow<'static, [u8]>, HttpStatus>>;
    /// Called once the body is out (or the client is gone).
    fn end(self);
}

impl<A: Application> BodySource for Answer<'static, A> {
    fn next_chunk(&mut self) -> Option<Result<Cow<'static, [u8]>, HttpStatus>> {
        Answer::next_chunk(self)
    }

    fn end(self) {
        Answer::end(self);
    }
}

/// A body known in full: the host's own short answers.
impl BodySource for Option<Vec<u8>> {
    fn next_chunk(&mut self) -> Option<Result<Cow<'static, [u8]>, HttpStatus>> {
        self.take().map(|bytes| Ok(Cow::Owned(bytes)))
    }

    fn end(self) {}
}

/// The response for the host to send: its head now, its body from `source`, written by a task
/// that outlives `handle` (the component's task ends when it does).
fn start_response(
    status: StatusCode,
    headers: HeaderMap,
    head_only: bool,
    source: impl BodySource,
) -> Response {
    let (response, body) = response_of(status, headers, head_only, source);
    wit_bindgen::spawn_local(body.send());
    response
}

/// A response's head, and its body to send.
fn response_of<S: BodySource>(
    status: StatusCode,
    mut headers: HeaderMap,
    head_only: bool,
    source: S,
) -> (Response, OutgoingBody<S>) {
    if head_only {
        // The host holds a body to its declared length: an empty HEAD body cannot carry
        // GET's Content-Length.
        headers.remove(CONTENT_LENGTH);
    }
    let entries = field_entries(&headers);
    let fields = Fields::from_list(&entries).unwrap_or_else(|error| {
        eprintln!("nanohttp: the host refused the response headers: {error:?}");
        Fields::new()
    });
    let (end, end_reader) = wit_future::new::<BodyEnd>(|| Ok(None));
    let (contents, writer) = match head_only {
        true => (None, None),
        false => {
            let (writer, reader) = wit_stream::new::<u8>();
            (Some(reader), Some(writer))
        }
    };
    // The host tells through the second future whether the response went out; a client
    // gone midway already shows as the body's reader dropping.
    let (response, _sent) = Response::new(fields, contents, end_reader);
    if response.set_status_code(status.as_u16()).is_err() {
        eprintln!("nanohttp: the host refused status {}", status.as_u16());
    }
    let body = OutgoingBody {
        writer,
        end,
        source,
    };
    (response, body)
}

/// A response body on its way out: the stream's writing end (none for HEAD), the body's end
/// future, and where the chunks come from.
struct OutgoingBody<S> {
    writer: Option<StreamWriter<u8>>,
    end: FutureWriter<BodyEnd>,
    source: S,
}

impl<S: BodySource> OutgoingBody<S> {
    /// Writes every chunk, then ends the body: cleanly, or, when a stream broke off, with an
    /// error the host passes on as a cut body, so a client never takes it for a whole one.
    async fn send(self) {
        let Self {
            mut writer,
            end,
            mut source,
        } = self;
        let mut broken = None;
        if let Some(writer) = writer.as_mut() {
            while let Some(chunk) = source.next_chunk() {
                match chunk {
                    Ok(chunk) => {
                        // What comes back was not taken: the client is gone.
                        if !writer.write_all(chunk.into_owned()).await.is_empty() {
                            break;
                        }
                    }
                    Err(error) => {
                        broken = Some(error);
                        break;
                    }
                }
            }
        }
        drop(writer);
        let end_value = match broken {
            None => Ok(None),
            Some(error) => Err(ErrorCode::InternalError(Some(format!(
                "the response body broke off: {error}"
            )))),
        };
        // Refused only when the host no longer reads the response; nothing is left to tell.
        let _ = end.write(end_value).await;
        source.end();
    }
}

/// A short text response: the framework's own answers before (or instead of) a handler's.
fn text_response(
    status: StatusCode,
    text: String,
    head_only: bool,
) -> (Response, OutgoingBody<Option<Vec<u8>>>) {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(text.len()));
    response_of(status, headers, head_only, Some(text.into_bytes()))
}

/// Answers with a short text: for failures before the framework could run.
fn text_answer(status: StatusCode, text: String, head_only: bool) -> Response {
    let (response, body) = text_response(status, text, head_only);
    wit_bindgen::spawn_local(body.send());
    response
}

/// A body the host streams in (a request's here, an outgoing call's response in the client)
/// as a blocking reader. Taken from its owner on the first read: a body nobody reads costs
/// no calls to the host for it.
pub(crate) struct StreamBody<O> {
    owner: Option<(O, Consume<O>)>,
    stream: Option<StreamReader<u8>>,
    end: Option<FutureReader<BodyEnd>>,
    /// Keeps the future the host waits on to learn the body was taken; dropping it resolves it.
    _taken: Option<FutureWriter<Result<(), ErrorCode>>>,
}

/// How an owner gives up its body: `consume-body` of a request or a response.
type Consume<O> =
    fn(O, FutureReader<Result<(), ErrorCode>>) -> (StreamReader<u8>, FutureReader<BodyEnd>);

impl<O> StreamBody<O> {
    pub(crate) fn new(owner: O, consume: Consume<O>) -> Self {
        Self {
            owner: Some((owner, consume)),
            stream: None,
            end: None,
            _taken: None,
        }
    }

    /// Why the body ended early, if it did: the host's error code on the body's end future.
    fn ended(&mut self) -> io::Result<()> {
        let Some(end) = self.end.take() else {
            return Ok(());
        };
        match block_on(end.into_future()) {
            Ok(_) => Ok(()),
            Err(code) => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                BodyError(code),
            )),
        }
    }
}

impl<O> io::Read for StreamBody<O> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((owner, consume)) = self.owner.take() {
            let (taken, taken_reader) = wit_future::new::<Result<(), ErrorCode>>(|| Ok(()));
            let (stream, end) = consume(owner, taken_reader);
            self._taken = Some(taken);
            self.stream = Some(stream);
            self.end = Some(end);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let (result, chunk) = block_on(stream.read(Vec::with_capacity(buf.len())));
            match result {
                // Nothing this time (a writer may send an empty piece): read again.
                StreamResult::Complete(_) if chunk.is_empty() => {}
                StreamResult::Complete(_) => {
                    buf[..chunk.len()].copy_from_slice(&chunk);
                    return Ok(chunk.len());
                }
                // The host ended the stream: whole, or broken off (its end future says).
                StreamResult::Dropped => {
                    self.stream = None;
                    self._taken = None;
                    self.ended()?;
                    return Ok(0);
                }
                StreamResult::Cancelled => {}
            }
        }
    }
}

/// A body's failure as the host reported it.
#[derive(Debug)]
pub(crate) struct BodyError(pub(crate) ErrorCode);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for BodyError {}
