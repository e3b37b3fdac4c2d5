//! The WASI 0.2 glue: the `wasi:http/incoming-handler` export, the request body as a blocking
//! reader over `wasi:io` streams, and the response written to the `response-outparam` while
//! the handler runs.

use std::cell::RefCell;
use std::sync::Arc;

use http::header::HeaderValue;
use http::{HeaderMap, StatusCode};

use super::bindings::wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, Method as WasiMethod, OutgoingBody, OutgoingResponse,
    ResponseOutparam,
};
use super::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};
use super::{Head, field_entries, instance, method_from_wasi};
use crate::app::{Application, ResponseSink, serve_context};
use crate::body::Source;
use crate::context::Context;
use crate::head::RequestHead;
use crate::status::HttpStatus;

thread_local! {
    // The request's response-outparam until the response starts. A panic aborts a component
    // instance (no unwinding on wasm), so the panic hook answers through it instead.
    static PENDING: RefCell<Option<ResponseOutparam>> = const { RefCell::new(None) };
}

/// The panic hook's answer (see `install_panic_hook`): through the pending outparam, if the
/// response has not started.
pub(super) fn answer_panic(status: StatusCode, text: String) -> bool {
    let pending = PENDING.with(|p| p.try_borrow().is_ok_and(|p| p.is_some()));
    if pending {
        WasiSink::pending(false).send_text(status, &text);
    }
    pending
}

/// The body of the exported `handle`: read the request, serve it, write the response.
pub fn handle_incoming<A: Application + Default + 'static>(
    request: IncomingRequest,
    response_out: ResponseOutparam,
) {
    let head_only = matches!(request.method(), WasiMethod::Head);
    let sink = WasiSink::new(response_out, head_only);
    let (app, settings) = match instance::<A>() {
        Ok(instance) => instance,
        Err(failure) => {
            return sink.send_text(StatusCode::INTERNAL_SERVER_ERROR, &failure.answer());
        }
    };
    match read_head(&request) {
        Ok(head) => {
            let body = IncomingReader::new(request);
            let ctx =
                Context::from_head(head, Source::Reader(Box::new(body)), Arc::clone(settings));
            serve_context(app, ctx, sink);
        }
        Err(status) => sink.send_status(&status),
    }
    // Nothing of this request may reach the next one, should the host reuse the instance.
    PENDING.with(|pending| pending.borrow_mut().take());
}

/// The method, target and headers; the body is read later, when a handler asks for it.
fn read_head(request: &IncomingRequest) -> Result<RequestHead, HttpStatus> {
    Head {
        method: method_from_wasi!(request.method(), WasiMethod)?,
        target: request.path_with_query(),
        fields: request.headers().entries(),
    }
    .parse()
}

/// An incoming body as a blocking reader: a request's (here) or the response to an outgoing
/// call's (`client/wasi.rs`); chunked bodies read the same way as sized ones. Taken from its
/// owner on the first read: a body nobody reads costs no calls to the host for it.
pub(crate) struct IncomingReader<O: BodyOwner> {
    // Dropped in this order: the stream is a child of the body.
    stream: Option<InputStream>,
    body: Option<IncomingBody>,
    owner: Option<O>,
}

/// What an [`IncomingReader`] takes its body from.
pub(crate) trait BodyOwner {
    /// The body, once.
    fn consume_body(&self) -> Result<IncomingBody, ()>;

    /// The reader's error for a failed read.
    fn read_error(error: &super::bindings::wasi::io::error::Error) -> std::io::Error;
}

impl BodyOwner for IncomingRequest {
    fn consume_body(&self) -> Result<IncomingBody, ()> {
        self.consume()
    }

    fn read_error(error: &super::bindings::wasi::io::error::Error) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            error.to_debug_string(),
        )
    }
}

impl<O: BodyOwner> IncomingReader<O> {
    pub(crate) fn new(owner: O) -> Self {
        Self {
            stream: None,
            body: None,
            owner: Some(owner),
        }
    }

    /// The body's stream, taken from the owner the first time; `None` once it has ended.
    fn stream(&mut self) -> std::io::Result<Option<&InputStream>> {
        if let Some(owner) = self.owner.take() {
            let broken = || std::io::Error::other("the host has no body for this message");
            let body = owner.consume_body().map_err(|()| broken())?;
            self.stream = Some(body.stream().map_err(|()| broken())?);
            self.body = Some(body);
        }
        Ok(self.stream.as_ref())
    }
}

impl<O: BodyOwner> std::io::Read for IncomingReader<O> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(stream) = self.stream()? else {
            return Ok(0);
        };
        let want = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        match stream.blocking_read(want) {
            Ok(chunk) => {
                buf[..chunk.len()].copy_from_slice(&chunk);
                Ok(chunk.len())
            }
            Err(StreamError::Closed) => {
                self.stream = None;
                if let Some(body) = self.body.take() {
                    drop(IncomingBody::finish(body));
                }
                Ok(0)
            }
            Err(StreamError::LastOperationFailed(error)) => Err(O::read_error(&error)),
        }
    }
}

/// Writes the response to the pending `response-outparam` and the outgoing body stream.
struct WasiSink {
    body: Option<(OutgoingBody, OutputStream)>,
    /// Bytes written since the last flush.
    unflushed: bool,
    /// Answering HEAD: the body stays empty.
    head_only: bool,
}

impl WasiSink {
    /// A sink for the request whose outparam is `out`.
    fn new(out: ResponseOutparam, head_only: bool) -> Self {
        PENDING.with(|pending| *pending.borrow_mut() = Some(out));
        Self::pending(head_only)
    }

    /// A sink for the outparam already pending.
    fn pending(head_only: bool) -> Self {
        Self {
            body: None,
            unflushed: false,
            head_only,
        }
    }

    /// Answers with a bare status: for failures before the framework could run.
    fn send_status(self, status: &HttpStatus) {
        self.send_text(status.status_code(), &format!("{status}\n"));
    }

    fn send_text(mut self, status: StatusCode, text: &str) {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(text.len()));
        self.start(status, headers);
        self.write(text.as_bytes());
        self.finish(None);
    }
}

impl ResponseSink for WasiSink {
    fn start(&mut self, status: StatusCode, mut headers: HeaderMap) {
        let Some(out) = PENDING.with(|pending| pending.borrow_mut().take()) else {
            return;
        };
        if self.head_only {
            // wasi:http holds a body to its declared length, so an empty HEAD body cannot
            // carry GET's Content-Length.
            headers.remove(http::header::CONTENT_LENGTH);
        }
        let entries = field_entries(&headers);
        let fields = match Fields::from_list(&entries) {
            Ok(fields) => fields,
            Err(error) => {
                eprintln!("nanohttp: the host refused the response headers: {error:?}");
                Fields::new()
            }
        };
        let response = OutgoingResponse::new(fields);
        if response.set_status_code(status.as_u16()).is_err() {
            eprintln!("nanohttp: the host refused status {}", status.as_u16());
        }
        let body = response
            .body()
            .expect("a new response's body is taken once");
        let stream = body.write().expect("a new body's stream is taken once");
        ResponseOutparam::set(out, Ok(response));
        self.body = Some((body, stream));
    }

    fn write(&mut self, mut chunk: &[u8]) -> bool {
        let Some((_, stream)) = &self.body else {
            return false;
        };
        if chunk.is_empty() {
            return true;
        }
        // What wasi:io lets a stream take at once: one call to the host writes and flushes it
        // (with whatever bigger chunks left unflushed).
        const SMALL: usize = 4096;
        if chunk.len() <= SMALL {
            self.unflushed = false;
            return stream.blocking_write_and_flush(chunk).is_ok();
        }
        self.unflushed = true;
        while !chunk.is_empty() {
            let permitted = match stream.check_write() {
                Ok(0) => {
                    stream.subscribe().block();
                    continue;
                }
                Ok(permitted) => usize::try_from(permitted).unwrap_or(usize::MAX),
                Err(_) => return false,
            };
            let (now, later) = chunk.split_at(permitted.min(chunk.len()));
            if stream.write(now).is_err() {
                return false;
            }
            chunk = later;
        }
        true
    }

    fn finish(mut self, error: Option<HttpStatus>) {
        let Some((body, stream)) = self.body.take() else {
            return;
        };
        let flushed = !self.unflushed || stream.blocking_flush().is_ok();
        drop(stream);
        if error.is_none() && flushed && OutgoingBody::finish(body, None).is_err() {
            // Without the host's error code: its generated `Debug` weighs 2 KB in every
            // component (bench/size.md), for a failure the framework's own framing of the
            // body (its `Content-Length`) should never cause.
            eprintln!("nanohttp: the host refused to finish the response body");
        }
        // Otherwise the body is dropped unfinished, which tells the host the response broke off.
    }
}
