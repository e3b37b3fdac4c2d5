//! A response to an outgoing request: status and headers at once, the body read on demand.

use std::io::Read;

use http::{HeaderMap, StatusCode, Uri};
use serde::de::DeserializeOwned;

use super::error::{ClientError, ErrorKind};
use super::{DEFAULT_BODY_LIMIT, transport, upstream_of};

/// The status and headers of an upstream's answer; its body is read once, as a stream
/// ([`Response::into_reader`], [`Response::chunks`]) or whole ([`Response::bytes`],
/// [`Response::text`], [`Response::json`]), within [`Response::limit`].
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    uri: Uri,
    body: transport::Body,
    limit: Option<u64>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("uri", &self.uri)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Response {
    pub(crate) fn new(
        status: StatusCode,
        headers: HeaderMap,
        uri: Uri,
        body: transport::Body,
    ) -> Self {
        Self {
            status,
            headers,
            uri,
            body,
            limit: None,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name`, if it is there and is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The URL that answered (after redirects, if followed).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Reads at most `bytes` of the body, whichever way it is read; more is
    /// [`ErrorKind::BodyTooLarge`]. Without it, whole-body reads stop at
    /// [`DEFAULT_BODY_LIMIT`] and streams at the host's own limit.
    #[must_use]
    pub fn limit(mut self, bytes: u64) -> Self {
        self.limit = Some(bytes);
        self
    }

    /// The whole body.
    ///
    /// # Errors
    /// The body is over the limit, or the upstream broke off or was too slow.
    pub fn bytes(self) -> Result<Vec<u8>, ClientError> {
        let limit = self.limit.unwrap_or(DEFAULT_BODY_LIMIT);
        let mut reader = self.limit(limit).into_reader();
        let mut body = Vec::new();
        reader
            .read_to_end(&mut body)
            .map_err(|e| reader.error(&e))?;
        Ok(body)
    }

    /// The whole body as UTF-8 text.
    ///
    /// # Errors
    /// As [`Response::bytes`], and [`ErrorKind::InvalidBody`] when it is not UTF-8.
    pub fn text(self) -> Result<String, ClientError> {
        let upstream = upstream_of(&self.uri);
        String::from_utf8(self.bytes()?).map_err(|_| {
            ClientError::new(
                ErrorKind::InvalidBody,
                upstream,
                "the body is not UTF-8 text",
            )
        })
    }

    /// The whole body parsed as JSON into `T`.
    ///
    /// # Errors
    /// As [`Response::bytes`], and [`ErrorKind::InvalidBody`] when it is not JSON of that
    /// shape (the detail says where).
    pub fn json<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        let upstream = upstream_of(&self.uri);
        serde_json::from_slice(&self.bytes()?).map_err(|error| {
            ClientError::new(
                ErrorKind::InvalidBody,
                upstream,
                format!("the body is not the JSON expected: {error}"),
            )
        })
    }

    /// The body as a stream, read as it arrives.
    pub fn into_reader(self) -> BodyReader {
        BodyReader {
            upstream: upstream_of(&self.uri),
            body: self.body,
            remaining: self.limit,
            failure: None,
        }
    }

    /// The body in pieces of at most `size` bytes as they arrive: for passing an upstream's
    /// body on to the client, `Stream(response.chunks(64 << 10))`.
    pub fn chunks(self, size: usize) -> impl Iterator<Item = Result<Vec<u8>, ClientError>> {
        let mut reader = Some(self.into_reader());
        let size = size.max(1);
        std::iter::from_fn(move || {
            let body = reader.as_mut()?;
            let mut chunk = vec![0; size];
            match body.read(&mut chunk) {
                Ok(0) => {
                    reader = None;
                    None
                }
                Ok(read) => {
                    chunk.truncate(read);
                    Some(Ok(chunk))
                }
                Err(error) => {
                    let error = body.error(&error);
                    reader = None;
                    Some(Err(error))
                }
            }
        })
    }
}

/// A response body being read: [`Read`] over the upstream's stream, within the response's
/// limit. An I/O error from it converts to the [`ClientError`] behind it with
/// [`BodyReader::error`].
pub struct BodyReader {
    upstream: String,
    body: transport::Body,
    /// Bytes that may still be read; `None`: no limit of the caller's.
    remaining: Option<u64>,
    /// The last failure, kept for [`BodyReader::error`].
    failure: Option<ClientError>,
}

impl std::fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyReader")
            .field("upstream", &self.upstream)
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl BodyReader {
    /// The typed error behind an I/O error this reader returned.
    pub fn error(&self, io: &std::io::Error) -> ClientError {
        self.failure.clone().unwrap_or_else(|| {
            ClientError::new(ErrorKind::Protocol, self.upstream.clone(), io.to_string())
        })
    }

    fn fail(&mut self, error: ClientError) -> std::io::Error {
        let io = std::io::Error::other(error.to_string());
        self.failure = Some(error);
        io
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let read = match self.body.read(buf) {
            Ok(read) => read,
            Err(error) => {
                let failure = transport::body_error(&self.upstream, &error);
                return Err(self.fail(failure));
            }
        };
        if let Some(remaining) = &mut self.remaining {
            match remaining.checked_sub(read as u64) {
                Some(left) => *remaining = left,
                None => {
                    let error = ClientError::new(
                        ErrorKind::BodyTooLarge,
                        self.upstream.clone(),
                        "the body is over the response's limit",
                    );
                    return Err(self.fail(error));
                }
            }
        }
        Ok(read)
    }
}
