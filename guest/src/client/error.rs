//! What can go wrong with an outgoing request, and the status each failure answers with.

use std::fmt;

use crate::status::HttpStatus;

/// Why an outgoing request failed: its [`kind`](ClientError::kind), the upstream it went to
/// (`scheme://host:port`, never the path or query) and a detail for developers.
///
/// `?` in a handler turns it into an [`HttpStatus`]: `502 Bad Gateway` when the upstream could
/// not be reached or answered badly, `504 Gateway Timeout` when it was too slow, `500` when
/// the request was refused by the host or could not be built, `503` when the host's limit on
/// calls in flight was reached. The reason names the upstream;
/// the detail (the transport's own message) reaches the client only when `debug` is on.
#[derive(Debug, Clone)]
pub struct ClientError {
    kind: ErrorKind,
    upstream: String,
    detail: String,
}

/// The kinds of [`ClientError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request could not be built: a URL that is not absolute `http(s)`, a bad header, a
    /// body that does not serialise.
    InvalidRequest,
    /// The host does not allow this upstream (`--allow-outbound`), or the address it resolves
    /// to.
    Denied,
    /// The upstream's name does not resolve.
    Dns,
    /// Nothing listens at the upstream's address.
    ConnectionRefused,
    /// Connecting, the first byte or the next piece of the body took longer than allowed.
    Timeout,
    /// The TLS handshake failed (a certificate that does not verify, a protocol error).
    Tls,
    /// The upstream broke the HTTP exchange: a malformed response, a connection closed before
    /// the end of the body.
    Protocol,
    /// The response body is larger than allowed ([`Response::limit`](super::Response::limit),
    /// or the host's limit).
    BodyTooLarge,
    /// The body is not what the caller asked it to be read as: not UTF-8 text, not JSON of the
    /// expected shape.
    InvalidBody,
    /// More redirects than [`Request::follow_redirects`](super::Request::follow_redirects)
    /// allows.
    TooManyRedirects,
    /// More calls in flight than the host allows (one request's own, or to one upstream).
    TooManyInFlight,
}

impl ClientError {
    pub(crate) fn new(kind: ErrorKind, upstream: String, detail: impl Into<String>) -> Self {
        Self {
            kind,
            upstream,
            detail: detail.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The upstream the request went to: `scheme://host:port`.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The transport's own message, for logs (shown to clients only with `debug`).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The status a handler answers with when it gives up on this error with `?`.
    pub fn status(&self) -> HttpStatus {
        let upstream = &self.upstream;
        let status = match self.kind {
            ErrorKind::InvalidRequest => HttpStatus::internal_server_error()
                .with_reason(format!("Invalid request to upstream {upstream}")),
            ErrorKind::Denied => HttpStatus::internal_server_error()
                .with_reason(format!("Upstream {upstream} is not allowed")),
            ErrorKind::Timeout => {
                HttpStatus::gateway_timeout().with_reason(format!("Upstream {upstream} timed out"))
            }
            ErrorKind::Dns | ErrorKind::ConnectionRefused | ErrorKind::Tls => {
                HttpStatus::bad_gateway().with_reason(format!("Upstream {upstream} unreachable"))
            }
            ErrorKind::Protocol | ErrorKind::TooManyRedirects => {
                HttpStatus::bad_gateway().with_reason(format!("Upstream {upstream} answered badly"))
            }
            ErrorKind::BodyTooLarge => HttpStatus::bad_gateway()
                .with_reason(format!("Upstream {upstream} answered too much")),
            ErrorKind::InvalidBody => HttpStatus::bad_gateway()
                .with_reason(format!("Upstream {upstream} answered an unexpected body")),
            ErrorKind::TooManyInFlight => HttpStatus::service_unavailable()
                .with_reason(format!("Too many calls in flight to upstream {upstream}")),
        };
        status.with_detail(self.to_string())
    }
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid request",
            Self::Denied => "refused by the host's outbound policy",
            Self::Dns => "name not resolved",
            Self::ConnectionRefused => "connection refused",
            Self::Timeout => "timed out",
            Self::Tls => "TLS failed",
            Self::Protocol => "protocol error",
            Self::BodyTooLarge => "response body too large",
            Self::InvalidBody => "unexpected response body",
            Self::TooManyRedirects => "too many redirects",
            Self::TooManyInFlight => "too many calls in flight",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.upstream, self.kind)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for ClientError {}

impl From<ClientError> for HttpStatus {
    fn from(error: ClientError) -> Self {
        error.status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_name_the_upstream_and_keep_details_for_debug() {
        let cases = [
            (
                ErrorKind::Denied,
                500,
                "Upstream http://a.test:81 is not allowed",
            ),
            (
                ErrorKind::ConnectionRefused,
                502,
                "Upstream http://a.test:81 unreachable",
            ),
            (
                ErrorKind::Timeout,
                504,
                "Upstream http://a.test:81 timed out",
            ),
            (
                ErrorKind::BodyTooLarge,
                502,
                "Upstream http://a.test:81 answered too much",
            ),
        ];
        for (kind, code, reason) in cases {
            let status = ClientError::new(kind, "http://a.test:81".into(), "inner detail").status();
            assert_eq!((status.code(), status.reason()), (code, reason));
            assert!(status.detail().unwrap().contains("inner detail"));
        }
    }
}
