//! Outgoing requests in a WASI 0.3 component: `wasi:http/client.send`, every request's call
//! and body run together so that several are in flight at once; `send_all` blocks until every
//! response's head is in, `send_async` awaits its own.

use std::io::Read;

use futures_util::future::{join, join_all};
use http::{StatusCode, Uri};
use wit_bindgen::StreamWriter;

use super::error::{ClientError, ErrorKind};
use super::{Outgoing, Response, SendBody};
use crate::component::bindings::wasi::http::client;
use crate::component::bindings::wasi::http::types::{
    ErrorCode, Fields, Method as WasiMethod, Request, RequestOptions, Response as WasiResponse,
    Scheme,
};
use crate::component::bindings::{wit_future, wit_stream};
use crate::component::{
    BodyError, StreamBody, block_on, field_entries, lenient_headers, method_to_wasi,
};

/// A request ready to go: sent, with its body, when the caller waits for it.
pub(crate) struct Pending {
    upstream: String,
    uri: Uri,
    request: Request,
    body: (StreamWriter<u8>, SendBody),
}

pub(crate) fn start(request: Outgoing) -> Result<Pending, ClientError> {
    let upstream = request.upstream.clone();
    let fail = |kind, detail: String| ClientError::new(kind, upstream.clone(), detail);
    let fields = Fields::from_list(&field_entries(&request.headers))
        .map_err(|e| fail(ErrorKind::InvalidRequest, format!("header refused: {e:?}")))?;

    let options = RequestOptions::new();
    let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    // A host may not support a timeout; it then applies its own.
    let _ = options.set_connect_timeout(request.timeouts.connect.map(nanos));
    let _ = options.set_first_byte_timeout(request.timeouts.first_byte.map(nanos));
    let _ = options.set_between_bytes_timeout(request.timeouts.between_bytes.map(nanos));

    let (writer, contents) = wit_stream::new::<u8>();
    // No trailers: the body's end is its stream's end.
    let (_, trailers) = wit_future::new(|| Ok(None));
    let (outgoing, _sent) = Request::new(fields, Some(contents), trailers, Some(options));
    let refused = |what: &str| {
        fail(
            ErrorKind::InvalidRequest,
            format!("{what} refused by the host"),
        )
    };
    outgoing
        .set_method(&method_to_wasi!(&request.method, WasiMethod))
        .map_err(|()| refused("method"))?;
    let scheme = match request.uri.scheme_str() {
        Some("https") => Scheme::Https,
        _ => Scheme::Http,
    };
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    outgoing
        .set_authority(request.uri.authority().map(|a| a.as_str()))
        .map_err(|()| refused("authority"))?;
    let target = request.uri.path_and_query().map_or("/", |p| p.as_str());
    outgoing
        .set_path_with_query(Some(target))
        .map_err(|()| refused("path"))?;
    Ok(Pending {
        upstream,
        uri: request.uri,
        request: outgoing,
        body: (writer, request.body),
    })
}

/// Writes the whole request body; dropping the writer ends it. When the host stops taking it
/// (the connection failed, or the upstream answered early) the rest is not sent: the response
/// says what happened.
async fn write_body(mut writer: StreamWriter<u8>, source: SendBody) {
    match source {
        SendBody::Empty => {}
        SendBody::Bytes(bytes) => {
            writer.write_all(bytes).await;
        }
        SendBody::Reader(mut reader) => {
            let mut buf = vec![0; 64 << 10];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(read) => {
                        if !writer.write_all(buf[..read].to_vec()).await.is_empty() {
                            break;
                        }
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    // A reader that fails cuts the body off: the writer is dropped early,
                    // and the host ends the request with an error of its own.
                    Err(_) => break,
                }
            }
        }
    }
}

/// Sends every request and waits for every response (status and headers) at once.
pub(crate) fn wait_all(pending: Vec<Pending>) -> Vec<Result<Response, ClientError>> {
    block_on(join_all(pending.into_iter().map(wait)))
}

/// Sends the request, its body going out while the host sends it, and waits for the response.
pub(crate) async fn wait(pending: Pending) -> Result<Response, ClientError> {
    let Pending {
        upstream,
        uri,
        request,
        body: (writer, source),
    } = pending;
    let (answer, ()) = join(client::send(request), write_body(writer, source)).await;
    answer_of(&upstream, uri, answer)
}

/// The response, or the typed error the host answered with.
fn answer_of(
    upstream: &str,
    uri: Uri,
    answer: Result<WasiResponse, ErrorCode>,
) -> Result<Response, ClientError> {
    let response = answer.map_err(|code| error_of(upstream, &code))?;
    let status = StatusCode::from_u16(response.get_status_code()).map_err(|_| {
        ClientError::new(
            ErrorKind::Protocol,
            upstream.to_owned(),
            format!("invalid status {}", response.get_status_code()),
        )
    })?;
    let headers = lenient_headers(response.get_headers().copy_all());
    let body = StreamBody::new(response, |response, done| {
        WasiResponse::consume_body(response, done)
    });
    Ok(Response::new(status, headers, uri, body))
}

/// A response body as it arrives: taken from the response on the first read.
pub(crate) type Body = StreamBody<WasiResponse>;

/// The typed error behind an I/O error of a body being read.
pub(crate) fn body_error(upstream: &str, error: &std::io::Error) -> ClientError {
    match error.get_ref().and_then(|inner| inner.downcast_ref()) {
        Some(BodyError(code)) => error_of(upstream, code),
        None => ClientError::new(ErrorKind::Protocol, upstream.to_owned(), error.to_string()),
    }
}

fn error_of(upstream: &str, code: &ErrorCode) -> ClientError {
    super::error_of_code!(upstream, code, ErrorCode)
}
