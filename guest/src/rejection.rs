//! Rejections: the failures the framework itself reports about a request, one variant per
//! kind, each knowing its status and the reason the client reads.
//!
//! Every rejection converts into an [`HttpStatus`](crate::HttpStatus), which keeps it:
//! [`HttpStatus::rejection`](crate::HttpStatus::rejection) gives it back, so a
//! [`render_error`](crate::Application::render_error) hook or a test matches on the kind rather
//! than on the text.
//!
//! ```
//! use nanohttp::{HttpStatus, Rejection};
//!
//! let status = HttpStatus::from(Rejection::MissingQueryArgument { name: "page".into() });
//! assert_eq!(status.to_string(), "400 Missing query parameter: page");
//! assert!(matches!(
//!     status.rejection(),
//!     Some(Rejection::MissingQueryArgument { name }) if name == "page"
//! ));
//! ```

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;

/// A failure the framework reports about a request: what was wrong, in terms the client can
/// act on. Its [`reason`](Rejection::reason) (also its `Display` text) is the reason phrase of
/// the status it becomes.
///
/// Client errors (4xx) name what to fix; the framework's own 5xx are not rejections, and show
/// their detail only when the `debug` setting is on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// `400`: the request line or headers could not be read (`part` is `"Method"`,
    /// `"Request Target"`, `"Header"` or `"Request"`).
    MalformedRequest {
        /// Which part of the request head.
        part: &'static str,
    },
    /// `400`: a path segment does not decode to UTF-8.
    MalformedPath,
    /// `413`: the body is larger than the limit (the `max_body_size` setting, or the handler's).
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// `400`: the client's body stream broke off before its end.
    IncompleteBody,
    /// `415`: a body came without a `Content-Type`, so it cannot be read as a form.
    MissingContentType,
    /// `415`: a form body of a type the framework does not parse.
    UnsupportedFormType {
        /// The media type the request sent.
        media_type: String,
    },
    /// `415`: a handler reads the body as `multipart/form-data` and the request sent another type.
    ExpectedMultipart {
        /// The media type the request sent.
        media_type: String,
    },
    /// `400`: an `application/x-www-form-urlencoded` body with a broken `%` escape, or that is
    /// not UTF-8 once decoded.
    MalformedUrlEncoded,
    /// `400`: an `application/json` body with no bytes at all.
    EmptyJson,
    /// `400`: a JSON body that does not parse; `message` says where (`expected value at line 1
    /// column 7`).
    MalformedJson {
        /// The parser's message.
        message: String,
    },
    /// `400`: a `multipart/form-data` content type without a usable `boundary`.
    MissingBoundary,
    /// `400`: a multipart body that does not parse, or ends early.
    MalformedMultipart,
    /// `400`: a multipart text field that is not UTF-8.
    NotUtf8Field {
        /// The field's name.
        name: String,
    },
    /// `413`: more form fields (or multipart parts) than the `max_form_fields` setting allows.
    TooManyFields {
        /// The limit.
        limit: usize,
    },
    /// `400`: the form does not fit the type a handler deserialises it into; `message` names
    /// the field (``missing field `title` ``, ``invalid type: string "x", expected u32``).
    InvalidForm {
        /// The deserialiser's message.
        message: String,
    },
    /// `400` (or the guard's status): the handler takes no form, and one was sent.
    FormNotAllowed,
    /// `400` (or the guard's status): the handler needs a form, and none was sent.
    EmptyFormNotAllowed,
    /// `400` (or the guard's status): a field outside the handler's `form_whitelist`.
    FieldNotAllowed {
        /// The field's name.
        name: String,
    },
    /// `400`: a required query argument of the handler is absent (or blank).
    MissingQueryArgument {
        /// The query key.
        name: String,
    },
    /// `400`: a query argument of the handler does not parse as its type.
    InvalidQueryArgument {
        /// The query key.
        name: String,
    },
    /// `400` (or the rule's status): a validation rule refused a field; `message` is the reason
    /// (`Field: age Must Be At Least 18`).
    InvalidField {
        /// The field's name.
        name: String,
        /// The rule that refused it.
        rule: FieldRule,
        /// The reason, as sent.
        message: String,
    },
}

/// The validation rule behind a [`Rejection::InvalidField`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldRule {
    /// The field must not be sent.
    Readonly,
    /// The field must be sent.
    Required,
    /// The field must not be JSON `null`.
    NotNone,
    /// The values must convert to a type.
    Type,
    /// The values must be numbers no smaller than a minimum.
    Minimum,
    /// The values must be numbers no larger than a maximum.
    Maximum,
    /// The text values must be at least so long.
    MinLength,
    /// The text values must be at most so long.
    MaxLength,
    /// The text values must match a pattern.
    Pattern,
}

impl Rejection {
    /// The status the rejection answers with (a guard or rule with its own status line
    /// answers with that one instead).
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BodyTooLarge { .. } | Self::TooManyFields { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MissingContentType
            | Self::UnsupportedFormType { .. }
            | Self::ExpectedMultipart { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The reason phrase the client reads: fixed text, or the text with what it names.
    pub fn reason(&self) -> Cow<'static, str> {
        // Joined rather than formatted: this is on every rejected request, and the formatting
        // machinery would weigh on every component.
        let join = |parts: &[&str]| Cow::Owned(parts.concat());
        match self {
            Self::MalformedRequest { part } => join(&["Malformed ", part]),
            Self::MalformedPath => Cow::Borrowed("Malformed Path"),
            Self::BodyTooLarge { .. } => Cow::Borrowed("Payload Too Large"),
            Self::IncompleteBody => Cow::Borrowed("Incomplete Request Body"),
            Self::MissingContentType => Cow::Borrowed("A Form Needs a Content-Type"),
            Self::UnsupportedFormType { media_type } => {
                join(&["Unsupported Form Type: ", media_type])
            }
            Self::ExpectedMultipart { .. } => Cow::Borrowed("Expected multipart/form-data"),
            Self::MalformedUrlEncoded => Cow::Borrowed("Malformed URL-Encoded Body"),
            Self::EmptyJson => Cow::Borrowed("Empty JSON Body"),
            Self::MalformedJson { message } => join(&["Malformed JSON Body: ", message]),
            Self::MissingBoundary => Cow::Borrowed("Missing or Invalid Multipart Boundary"),
            Self::MalformedMultipart => Cow::Borrowed("Malformed Multipart Body"),
            Self::NotUtf8Field { name } => join(&["Field: ", name, " Is Not UTF-8 Text"]),
            Self::TooManyFields { .. } => Cow::Borrowed("Too Many Form Fields"),
            Self::InvalidForm { message } => join(&["Invalid Form: ", message]),
            Self::FormNotAllowed => Cow::Borrowed("Form Not Allowed"),
            Self::EmptyFormNotAllowed => Cow::Borrowed("Empty Form Not Allowed"),
            Self::FieldNotAllowed { name } => join(&["Field: ", name, " Not Allowed"]),
            Self::MissingQueryArgument { name } => join(&["Missing query parameter: ", name]),
            Self::InvalidQueryArgument { name } => {
                join(&["Invalid value for query parameter: ", name])
            }
            Self::InvalidField { message, .. } => Cow::Owned(message.clone()),
        }
    }

    /// A `MalformedJson` from a parser's message, on one line.
    pub(crate) fn malformed_json(message: impl std::fmt::Display) -> Self {
        Self::MalformedJson {
            message: one_line(message),
        }
    }

    /// An `InvalidForm` from a deserialiser's message, on one line.
    pub(crate) fn invalid_form(message: impl std::fmt::Display) -> Self {
        Self::InvalidForm {
            message: one_line(message),
        }
    }
}

/// The reason phrase.
impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason())
    }
}

impl std::error::Error for Rejection {}

/// A message as one line of text: a reason phrase holds no line breaks or other controls.
fn one_line(message: impl std::fmt::Display) -> String {
    message
        .to_string()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_reasons() {
        let cases = [
            (
                Rejection::BodyTooLarge { limit: 10 },
                413,
                "Payload Too Large",
            ),
            (
                Rejection::TooManyFields { limit: 2 },
                413,
                "Too Many Form Fields",
            ),
            (
                Rejection::MissingContentType,
                415,
                "A Form Needs a Content-Type",
            ),
            (
                Rejection::UnsupportedFormType {
                    media_type: "text/csv".into(),
                },
                415,
                "Unsupported Form Type: text/csv",
            ),
            (
                Rejection::invalid_form("missing field `title`"),
                400,
                "Invalid Form: missing field `title`",
            ),
            (
                Rejection::malformed_json("bad\nline"),
                400,
                "Malformed JSON Body: bad line",
            ),
            (
                Rejection::MalformedRequest { part: "Header" },
                400,
                "Malformed Header",
            ),
        ];
        for (rejection, code, reason) in cases {
            assert_eq!(rejection.status_code().as_u16(), code, "{rejection:?}");
            assert_eq!(rejection.to_string(), reason);
        }
        assert!(
            matches!(Rejection::MalformedPath.reason(), Cow::Borrowed(_)),
            "fixed reasons are not allocated"
        );
    }
}
