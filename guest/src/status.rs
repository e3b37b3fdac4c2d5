//! Status errors: an HTTP status a handler returns (or raises with `?`) instead of a body.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use http::header::{HeaderName, HeaderValue, LOCATION};
use http::{HeaderMap, StatusCode};

use crate::rejection::Rejection;

/// An HTTP status with its reason phrase, ready to become a response.
///
/// Any code from 100 to 999 is allowed, custom ones too (`HttpStatus::new(701, "Too Early")`);
/// the named constructors cover the statuses of the original nanohttp and more. A status may
/// carry response headers (`Location` for redirects, `Allow` for 405) and an internal detail that
/// is shown to clients only when the `debug` setting is on.
///
/// ```
/// use nanohttp::HttpStatus;
///
/// let status = HttpStatus::not_found().with_reason("Item 99 not found");
/// assert_eq!(status.to_string(), "404 Item 99 not found");
///
/// let gone = HttpStatus::method_not_allowed_for("GET, HEAD");
/// assert_eq!(gone.code(), 405);
/// assert_eq!(gone.headers()["allow"], "GET, HEAD");
///
/// let custom: HttpStatus = "603 Custom Status".parse().unwrap();
/// assert_eq!((custom.code(), custom.reason()), (603, "Custom Status"));
/// ```
#[derive(Debug, Clone)]
pub struct HttpStatus {
    code: StatusCode,
    reason: Cow<'static, str>,
    // Boxed so that `Result<_, HttpStatus>` stays small on the hot path; most statuses carry
    // neither.
    headers: Option<Box<HeaderMap>>,
    detail: Option<Box<str>>,
    rejection: Option<Box<Rejection>>,
}

impl HttpStatus {
    /// A status with any code in `100..=999` and a reason phrase.
    ///
    /// A code outside that range is a programming error; it becomes a `500` whose detail (shown
    /// in debug mode) names the bad code, rather than a panic in the middle of a request.
    pub fn new(code: u16, reason: impl Into<Cow<'static, str>>) -> Self {
        match StatusCode::from_u16(code) {
            Ok(code) => Self {
                code,
                reason: reason.into(),
                headers: None,
                detail: None,
                rejection: None,
            },
            Err(_) => Self::internal_server_error()
                .with_detail(format!("invalid HTTP status code {code}")),
        }
    }

    /// A status with the standard reason phrase of `code` (or `"Unknown"`).
    pub fn from_code(code: u16) -> Self {
        let reason = StatusCode::from_u16(code)
            .ok()
            .and_then(|c| c.canonical_reason())
            .unwrap_or("Unknown");
        Self::new(code, reason)
    }

    /// The numeric code.
    pub fn code(&self) -> u16 {
        self.code.as_u16()
    }

    /// The code as an [`http::StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        self.code
    }

    /// The reason phrase.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Replaces the reason phrase: `HttpStatus::not_found().with_reason("Item 99 not found")`.
    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<Cow<'static, str>>) -> Self {
        self.reason = reason.into();
        self
    }

    /// Adds a response header that goes out with this status. Values that are not valid header
    /// values are dropped (they can only come from a programming error) and noted in the detail.
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        match HeaderValue::from_str(value) {
            Ok(value) => {
                self.headers.get_or_insert_default().insert(name, value);
            }
            Err(_) => {
                self.detail = Some(format!("invalid value for header {name}: {value:?}").into());
            }
        }
        self
    }

    /// Internal detail for developers: sent to clients only when the `debug` setting is on.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into().into_boxed_str());
        self
    }

    /// The headers that go out with this status.
    pub fn headers(&self) -> &HeaderMap {
        static NONE: std::sync::OnceLock<HeaderMap> = std::sync::OnceLock::new();
        self.headers
            .as_deref()
            .unwrap_or_else(|| NONE.get_or_init(HeaderMap::new))
    }

    /// The internal detail, if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The rejection this status reports, when the framework refused the request itself:
    /// match on it in [`render_error`](crate::Application::render_error) or in tests.
    pub fn rejection(&self) -> Option<&Rejection> {
        self.rejection.as_deref()
    }

    /// The same status, reporting `rejection` (a guard or a validation rule with its own status
    /// line still says which kind of failure it is).
    #[must_use]
    pub(crate) fn with_rejection(mut self, rejection: Rejection) -> Self {
        self.rejection = Some(Box::new(rejection));
        self
    }

    /// Whether the status forbids a response body (`1xx`, `204`, `205`, `304`).
    pub fn forbids_body(&self) -> bool {
        status_forbids_body(self.code)
    }

    fn redirect(code: u16, reason: &'static str, location: &str) -> Self {
        Self::new(code, reason).with_header(LOCATION, location)
    }
}

/// Whether a status forbids a response body (`1xx`, `204`, `205`, `304`).
pub(crate) fn status_forbids_body(code: StatusCode) -> bool {
    code.is_informational()
        || matches!(
            code,
            StatusCode::NO_CONTENT | StatusCode::RESET_CONTENT | StatusCode::NOT_MODIFIED
        )
}

macro_rules! plain_statuses {
    ($($(#[$doc:meta])* $name:ident => $code:literal $reason:literal;)*) => {
        impl HttpStatus {
            $(
                $(#[$doc])*
                #[doc = concat!("`", $code, " ", $reason, "`.")]
                pub fn $name() -> Self {
                    Self::new($code, $reason)
                }
            )*
        }
    };
}

/// Redirects raised as errors (`Err(HttpStatus::found("/"))`), rendered like any error status.
/// A handler that redirects on success returns a [`Redirect`](crate::Redirect) instead.
macro_rules! redirect_statuses {
    ($($name:ident => $code:literal $reason:literal;)*) => {
        impl HttpStatus {
            $(
                #[doc = concat!("`", $code, " ", $reason, "` with a `Location` header.")]
                pub fn $name(location: &str) -> Self {
                    Self::redirect($code, $reason, location)
                }
            )*
        }
    };
}

plain_statuses! {
    created => 201 "Created";
    accepted => 202 "Accepted";
    non_authoritative_information => 203 "Non-Authoritative Information";
    no_content => 204 "No Content";
    reset_content => 205 "Reset Content";
    partial_content => 206 "Partial Content";
    not_modified => 304 "Not Modified";
    bad_request => 400 "Bad Request";
    unauthorized => 401 "Unauthorized";
    forbidden => 403 "Forbidden";
    not_found => 404 "Not Found";
    /// Prefer [`HttpStatus::method_not_allowed_for`], which also sends `Allow`.
    method_not_allowed => 405 "Method Not Allowed";
    conflict => 409 "Conflict";
    gone => 410 "Gone";
    precondition_failed => 412 "Precondition Failed";
    payload_too_large => 413 "Payload Too Large";
    unsupported_media_type => 415 "Unsupported Media Type";
    unprocessable_entity => 422 "Unprocessable Entity";
    too_many_requests => 429 "Too Many Requests";
    internal_server_error => 500 "Internal Server Error";
    bad_gateway => 502 "Bad Gateway";
    service_unavailable => 503 "Service Unavailable";
    gateway_timeout => 504 "Gateway Timeout";
}

redirect_statuses! {
    moved_permanently => 301 "Moved Permanently";
    found => 302 "Found";
    see_other => 303 "See Other";
    temporary_redirect => 307 "Temporary Redirect";
    permanent_redirect => 308 "Permanent Redirect";
}

impl HttpStatus {
    /// `405 Method Not Allowed` with an `Allow` header listing `allowed`.
    pub fn method_not_allowed_for(allowed: &str) -> Self {
        Self::method_not_allowed().with_header(http::header::ALLOW, allowed)
    }
}

impl fmt::Display for HttpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code.as_u16(), self.reason)
    }
}

impl std::error::Error for HttpStatus {}

/// The rejection's status and reason, the rejection kept for [`HttpStatus::rejection`].
impl From<Rejection> for HttpStatus {
    fn from(rejection: Rejection) -> Self {
        Self::new(rejection.status_code().as_u16(), rejection.reason()).with_rejection(rejection)
    }
}

impl From<StatusCode> for HttpStatus {
    fn from(code: StatusCode) -> Self {
        Self::from_code(code.as_u16())
    }
}

/// The text `"<code> <reason>"` does not form a status line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a status line (expected \"<code> <reason>\", code 100-999): {0:?}")]
pub struct InvalidStatusLine(String);

/// Parses a status line such as `"422 Bad name"` (the reason may be omitted: `"404"`).
impl FromStr for HttpStatus {
    type Err = InvalidStatusLine;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let line = line.trim();
        let (code, reason) = line.split_once(' ').unwrap_or((line, ""));
        let code = code
            .parse::<u16>()
            .ok()
            .filter(|code| (100..=999).contains(code))
            .ok_or_else(|| InvalidStatusLine(line.to_owned()))?;
        let reason = reason.trim();
        Ok(if reason.is_empty() {
            Self::from_code(code)
        } else {
            Self::new(code, reason.to_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_parse() {
        let cases = [
            ("422 Bad name", Some((422, "Bad name"))),
            ("701 Custom", Some((701, "Custom"))),
            ("404", Some((404, "Not Found"))),
            (" 400  Too young ", Some((400, "Too young"))),
            ("99 Too small", None),
            ("1000 Too big", None),
            ("abc", None),
            ("", None),
        ];
        for (line, expected) in cases {
            let parsed = line.parse::<HttpStatus>().ok();
            let parsed = parsed.as_ref().map(|s| (s.code(), s.reason()));
            assert_eq!(parsed, expected, "{line:?}");
        }
    }

    #[test]
    fn invalid_code_becomes_500_with_detail() {
        let status = HttpStatus::new(42, "Nope");
        assert_eq!(status.code(), 500);
        assert_eq!(status.detail(), Some("invalid HTTP status code 42"));
    }

    #[test]
    fn redirects_carry_location() {
        for status in [
            HttpStatus::moved_permanently("/a"),
            HttpStatus::found("/a"),
            HttpStatus::see_other("/a"),
            HttpStatus::temporary_redirect("/a"),
            HttpStatus::permanent_redirect("/a"),
        ] {
            assert_eq!(status.headers()[LOCATION], "/a", "{status}");
        }
    }

    #[test]
    fn bodyless_statuses() {
        for code in [100, 204, 205, 304] {
            assert!(HttpStatus::from_code(code).forbids_body(), "{code}");
        }
        for code in [200, 201, 302, 404] {
            assert!(!HttpStatus::from_code(code).forbids_body(), "{code}");
        }
    }
}
