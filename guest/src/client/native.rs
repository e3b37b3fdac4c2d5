//! Outgoing requests natively (tests, `TestClient`): each request runs on a thread of its own
//! through the `ureq` client, so several are in flight at once as in a component.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Poll, Waker};
use std::thread::JoinHandle;

use http::{HeaderMap, StatusCode, Uri};

use super::error::{ClientError, ErrorKind};
use super::{Outgoing, Response, SendBody, Timeouts};

/// A response body as it arrives.
pub(crate) type Body = ureq::BodyReader<'static>;

/// A request in flight.
pub(crate) struct Pending {
    uri: Uri,
    thread: JoinHandle<Result<(StatusCode, HeaderMap, Body), ClientError>>,
    /// Whether the thread is done, and whom it wakes then (an `async` caller in [`wait`]).
    done: Arc<Mutex<Done>>,
}

#[derive(Default)]
struct Done {
    finished: bool,
    waker: Option<Waker>,
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are followed (or not) by the caller, as in a component.
            .max_redirects(0)
            .allow_non_standard_methods(true)
            .build()
            .new_agent()
    })
}

pub(crate) fn start(request: Outgoing) -> Result<Pending, ClientError> {
    let uri = request.uri.clone();
    let upstream = request.upstream.clone();
    let done = Arc::new(Mutex::new(Done::default()));
    let wake = done.clone();
    let thread = std::thread::Builder::new()
        .name("nanohttp-client".into())
        .spawn(move || {
            let result = run(request);
            let mut done = wake.lock().unwrap_or_else(PoisonError::into_inner);
            done.finished = true;
            if let Some(waker) = done.waker.take() {
                waker.wake();
            }
            result
        })
        .map_err(|e| {
            ClientError::new(
                ErrorKind::InvalidRequest,
                upstream,
                format!("cannot start a client thread: {e}"),
            )
        })?;
    Ok(Pending { uri, thread, done })
}

fn run(request: Outgoing) -> Result<(StatusCode, HeaderMap, Body), ClientError> {
    let upstream = request.upstream.clone();
    let mut builder = http::Request::builder()
        .method(request.method)
        .uri(request.uri);
    *builder.headers_mut().expect("a valid request so far") = request.headers;
    let timeouts = request.timeouts;
    let invalid = |e: http::Error| {
        ClientError::new(ErrorKind::InvalidRequest, upstream.clone(), e.to_string())
    };
    let result = match request.body {
        SendBody::Empty => run_with(builder.body(()).map_err(invalid)?, timeouts),
        SendBody::Bytes(bytes) => run_with(builder.body(bytes).map_err(invalid)?, timeouts),
        SendBody::Reader(reader) => run_with(
            builder
                .body(ureq::SendBody::from_owned_reader(reader))
                .map_err(invalid)?,
            timeouts,
        ),
    };
    let response = result.map_err(|error| error_of(&upstream, &error))?;
    let (parts, body) = response.into_parts();
    Ok((parts.status, parts.headers, body.into_reader()))
}

fn run_with(
    request: http::Request<impl ureq::AsSendBody>,
    timeouts: Timeouts,
) -> Result<http::Response<ureq::Body>, ureq::Error> {
    let request = agent()
        .configure_request(request)
        .timeout_connect(timeouts.connect)
        .timeout_recv_response(timeouts.first_byte)
        .timeout_per_read(timeouts.between_bytes)
        .build();
    agent().run(request)
}

pub(crate) fn wait_all(pending: Vec<Pending>) -> Vec<Result<Response, ClientError>> {
    pending.into_iter().map(Pending::answer).collect()
}

/// The response, for an `async` caller: pending until the request's thread is done.
pub(crate) async fn wait(pending: Pending) -> Result<Response, ClientError> {
    std::future::poll_fn(|cx| {
        let mut done = pending.done.lock().unwrap_or_else(PoisonError::into_inner);
        if done.finished {
            return Poll::Ready(());
        }
        done.waker = Some(cx.waker().clone());
        Poll::Pending
    })
    .await;
    pending.answer()
}

impl Pending {
    /// The response, once the thread is done (joining it waits for that).
    fn answer(self) -> Result<Response, ClientError> {
        let Self { uri, thread, .. } = self;
        let (status, headers, body) = thread.join().unwrap_or_else(|_| {
            Err(ClientError::new(
                ErrorKind::Protocol,
                super::upstream_of(&uri),
                "the client thread panicked",
            ))
        })?;
        Ok(Response::new(status, headers, uri, body))
    }
}

/// The typed error behind an I/O error of a body being read.
pub(crate) fn body_error(upstream: &str, error: &std::io::Error) -> ClientError {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
    {
        Some(inner) => error_of(upstream, inner),
        None => io_error(upstream, error),
    }
}

fn error_of(upstream: &str, error: &ureq::Error) -> ClientError {
    let kind = match error {
        ureq::Error::Io(io) => return io_error(upstream, io),
        ureq::Error::HostNotFound => ErrorKind::Dns,
        ureq::Error::ConnectionFailed => ErrorKind::ConnectionRefused,
        ureq::Error::Timeout(_) => ErrorKind::Timeout,
        ureq::Error::BodyExceedsLimit(_) => ErrorKind::BodyTooLarge,
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => ErrorKind::InvalidRequest,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => ErrorKind::Tls,
        _ => ErrorKind::Protocol,
    };
    ClientError::new(kind, upstream.to_owned(), error.to_string())
}

fn io_error(upstream: &str, error: &std::io::Error) -> ClientError {
    use std::io::ErrorKind as Io;
    let kind = match error.kind() {
        Io::ConnectionRefused => ErrorKind::ConnectionRefused,
        Io::TimedOut | Io::WouldBlock => ErrorKind::Timeout,
        _ => ErrorKind::Protocol,
    };
    ClientError::new(kind, upstream.to_owned(), error.to_string())
}
