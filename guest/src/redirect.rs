//! Redirects: a successful answer that sends the client elsewhere.

use http::StatusCode;
use http::header::LOCATION;

use crate::context::Context;
use crate::response::{Body, Outcome, Reply};

/// A `3xx` answer with a `Location`, returned as a handler's success value:
/// `Ok(Redirect::found("/tips/"))`. The body is empty; `begin_response` and the cookies the
/// handler set go out with it, as with any success.
///
/// ```
/// use nanohttp::prelude::*;
/// use nanohttp::Redirect;
///
/// #[derive(Default)]
/// struct Root;
///
/// #[controller]
/// impl Root {
///     #[action("POST")]
///     fn save(&self) -> Result<Redirect, HttpStatus> {
///         Ok(Redirect::see_other("/saved"))
///     }
/// }
/// impl Application for Root {}
///
/// let response = nanohttp::testing::TestClient::new(Root).post("/save").send();
/// assert_eq!(response.status, 303);
/// assert_eq!(response.header("location"), Some("/saved"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a redirect does nothing until a handler returns it"]
pub struct Redirect {
    status: StatusCode,
    location: String,
}

macro_rules! redirects {
    ($($(#[$doc:meta])* $name:ident => $status:ident;)*) => {
        impl Redirect {
            $(
                $(#[$doc])*
                pub fn $name(location: impl Into<String>) -> Self {
                    Self {
                        status: StatusCode::$status,
                        location: location.into(),
                    }
                }
            )*
        }
    };
}

redirects! {
    /// `301 Moved Permanently`: the resource lives at `location` from now on.
    moved_permanently => MOVED_PERMANENTLY;
    /// `302 Found`: look at `location` this time.
    found => FOUND;
    /// `303 See Other`: the answer to a form post is at `location` (fetched with GET).
    see_other => SEE_OTHER;
    /// `307 Temporary Redirect`: repeat the request, method and body included, at `location`.
    temporary => TEMPORARY_REDIRECT;
    /// `308 Permanent Redirect`: as 307, from now on.
    permanent => PERMANENT_REDIRECT;
}

impl Redirect {
    /// The status: 301, 302, 303, 307 or 308.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Where the client is sent.
    pub fn location(&self) -> &str {
        &self.location
    }
}

impl<'a> Reply<'a> for Redirect {
    fn into_body(self, ctx: &mut Context) -> Outcome<'a> {
        ctx.set_status(self.status.as_u16());
        ctx.set_header(LOCATION, &self.location)?;
        Ok(Body::Empty)
    }
}
