//! Outgoing requests in a component: `wasi:http/outgoing-handler`, with every request's
//! future polled together so that several are in flight at once.

use std::io::Read;
use std::task::Poll;

use http::{StatusCode, Uri};

use super::error::{ClientError, ErrorKind};
use super::{Outgoing, Response, SendBody};
use crate::component::bindings::wasi::http::outgoing_handler;
use crate::component::bindings::wasi::http::types::http_error_code;
use crate::component::bindings::wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse,
    Method as WasiMethod, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use crate::component::bindings::wasi::io::error::Error as IoError;
use crate::component::bindings::wasi::io::poll;
use crate::component::bindings::wasi::io::streams::OutputStream;
use crate::component::{BodyOwner, IncomingReader, field_entries, lenient_headers};

/// A request in flight: its response is `future`.
pub(crate) struct Pending {
    upstream: String,
    uri: Uri,
    future: FutureIncomingResponse,
}

pub(crate) fn start(request: Outgoing) -> Result<Pending, ClientError> {
    let upstream = request.upstream.clone();
    let fail = |kind, detail: String| ClientError::new(kind, upstream.clone(), detail);
    let fields = Fields::from_list(&field_entries(&request.headers))
        .map_err(|e| fail(ErrorKind::InvalidRequest, format!("header refused: {e:?}")))?;
    let outgoing = OutgoingRequest::new(fields);
    let refused = |what: &str| {
        fail(
            ErrorKind::InvalidRequest,
            format!("{what} refused by the host"),
        )
    };
    outgoing
        .set_method(&crate::component::method_to_wasi!(
            &request.method,
            WasiMethod
        ))
        .map_err(|()| refused("method"))?;
    let scheme = match request.uri.scheme_str() {
        Some("https") => Scheme::Https,
        _ => Scheme::Http,
    };
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    let authority = request.uri.authority().map(|a| a.as_str());
    outgoing
        .set_authority(authority)
        .map_err(|()| refused("authority"))?;
    let target = request.uri.path_and_query().map_or("/", |p| p.as_str());
    outgoing
        .set_path_with_query(Some(target))
        .map_err(|()| refused("path"))?;

    let options = RequestOptions::new();
    let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    // A host may not support a timeout; it then applies its own.
    let _ = options.set_connect_timeout(request.timeouts.connect.map(nanos));
    let _ = options.set_first_byte_timeout(request.timeouts.first_byte.map(nanos));
    let _ = options.set_between_bytes_timeout(request.timeouts.between_bytes.map(nanos));

    let body = outgoing
        .body()
        .map_err(|()| fail(ErrorKind::InvalidRequest, "no body for the request".into()))?;
    let future = outgoing_handler::handle(outgoing, Some(options))
        .map_err(|code| error_of(&upstream, &code))?;
    // When the host stops taking the body (the connection failed, or the upstream answered
    // early), the response's future says what happened.
    let _ = write_body(body, request.body);
    Ok(Pending {
        upstream,
        uri: request.uri,
        future,
    })
}

/// Writes the whole request body and finishes it. `Err` when the host stopped taking it (the
/// connection failed): the response's future then has the reason.
fn write_body(body: OutgoingBody, source: SendBody) -> Result<(), ()> {
    let stream = body.write()?;
    let written = match source {
        SendBody::Empty => Ok(()),
        SendBody::Bytes(bytes) => write_all(&stream, &bytes),
        SendBody::Reader(mut reader) => {
            let mut buf = vec![0; 64 << 10];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break Ok(()),
                    Ok(read) => write_all(&stream, &buf[..read])?,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    // A reader that fails ends the body unfinished: the upstream sees it cut.
                    Err(_) => break Err(()),
                }
            }
        }
    };
    let flushed = written.and_then(|()| stream.blocking_flush().map_err(|_| ()));
    drop(stream);
    match flushed {
        Ok(()) => OutgoingBody::finish(body, None).map_err(|_| ()),
        // Dropped unfinished: the host sends no clean end.
        Err(()) => Err(()),
    }
}

fn write_all(stream: &OutputStream, mut bytes: &[u8]) -> Result<(), ()> {
    while !bytes.is_empty() {
        let permitted = match stream.check_write() {
            Ok(0) => {
                stream.subscribe().block();
                continue;
            }
            Ok(permitted) => usize::try_from(permitted).unwrap_or(usize::MAX),
            Err(_) => return Err(()),
        };
        let (now, later) = bytes.split_at(permitted.min(bytes.len()));
        stream.write(now).map_err(|_| ())?;
        bytes = later;
    }
    Ok(())
}

/// Waits for every response (status and headers) at once.
pub(crate) fn wait_all(pending: Vec<Pending>) -> Vec<Result<Response, ClientError>> {
    let mut results: Vec<Option<Result<Response, ClientError>>> = Vec::new();
    results.resize_with(pending.len(), || None);
    loop {
        let waiting: Vec<usize> = (0..pending.len())
            .filter(|&index| results[index].is_none())
            .collect();
        if waiting.is_empty() {
            break;
        }
        let pollables: Vec<_> = waiting
            .iter()
            .map(|&index| pending[index].future.subscribe())
            .collect();
        let borrowed: Vec<&poll::Pollable> = pollables.iter().collect();
        for ready in poll::poll(&borrowed) {
            let index = waiting[ready as usize];
            let request = &pending[index];
            results[index] = request.future.get().map(|answer| request.answer(answer));
        }
    }
    results
        .into_iter()
        .map(|result| result.expect("every future resolved"))
        .collect()
}

/// The response, for an `async` caller: pending (its task woken by the executor when the host
/// has it) until then.
pub(crate) async fn wait(pending: Pending) -> Result<Response, ClientError> {
    std::future::poll_fn(|cx| match pending.future.get() {
        Some(answer) => Poll::Ready(pending.answer(answer)),
        None => {
            crate::future::wake_when_ready(pending.future.subscribe(), cx);
            Poll::Pending
        }
    })
    .await
}

impl Pending {
    fn answer(
        &self,
        answer: Result<Result<IncomingResponse, ErrorCode>, ()>,
    ) -> Result<Response, ClientError> {
        let response = match answer {
            Ok(Ok(response)) => response,
            Ok(Err(code)) => return Err(error_of(&self.upstream, &code)),
            Err(()) => {
                return Err(ClientError::new(
                    ErrorKind::Protocol,
                    self.upstream.clone(),
                    "the response was taken twice",
                ));
            }
        };
        let status = StatusCode::from_u16(response.status()).map_err(|_| {
            ClientError::new(
                ErrorKind::Protocol,
                self.upstream.clone(),
                format!("invalid status {}", response.status()),
            )
        })?;
        let headers = lenient_headers(response.headers().entries());
        Ok(Response::new(
            status,
            headers,
            self.uri.clone(),
            IncomingReader::new(response),
        ))
    }
}

/// A response body as it arrives: taken from the response on the first read.
pub(crate) type Body = IncomingReader<IncomingResponse>;

impl BodyOwner for IncomingResponse {
    fn consume_body(&self) -> Result<IncomingBody, ()> {
        self.consume()
    }

    /// The error code behind the failure when the host gives one, else its description.
    fn read_error(error: &IoError) -> std::io::Error {
        match http_error_code(error) {
            Some(code) => std::io::Error::other(CodeError(code)),
            None => std::io::Error::other(UncodedError(error.to_debug_string())),
        }
    }
}

/// An I/O error carrying the `wasi:http` error code behind a failed read.
#[derive(Debug)]
struct CodeError(ErrorCode);

impl std::fmt::Display for CodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for CodeError {}

/// A body's read failure that came without an error code, with the host's description.
///
/// wasmtime 48 (`wasmtime serve` and the `nanohttp` host alike) gives a response body's
/// failure to the guest as a plain I/O error, described by the host error's text
/// (`connection read timeout`, `HTTP response body size exceeds limit: 65536 bytes`) and
/// perhaps a backtrace: [`uncoded_kind`] reads the kind from its first line.
#[derive(Debug)]
struct UncodedError(String);

impl std::fmt::Display for UncodedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UncodedError {}

/// The kind of a failure known only by its description (see [`UncodedError`]).
fn uncoded_kind(description: &str) -> ErrorKind {
    let first = description
        .lines()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if first.contains("timeout") {
        ErrorKind::Timeout
    } else if first.contains("body size") {
        ErrorKind::BodyTooLarge
    } else {
        ErrorKind::Protocol
    }
}

/// The typed error behind an I/O error of a body being read.
pub(crate) fn body_error(upstream: &str, error: &std::io::Error) -> ClientError {
    let inner = error.get_ref();
    if let Some(CodeError(code)) = inner.and_then(|inner| inner.downcast_ref()) {
        return error_of(upstream, code);
    }
    if let Some(UncodedError(text)) = inner.and_then(|inner| inner.downcast_ref()) {
        let first = text.lines().next().unwrap_or_default();
        return ClientError::new(uncoded_kind(text), upstream.to_owned(), first);
    }
    ClientError::new(ErrorKind::Protocol, upstream.to_owned(), error.to_string())
}

fn error_of(upstream: &str, code: &ErrorCode) -> ClientError {
    super::error_of_code!(upstream, code, ErrorCode)
}
