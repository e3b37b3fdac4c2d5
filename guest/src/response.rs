//! What handlers return: bodies, JSON, streams, and the [`Reply`] trait that turns them into a
//! response body.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::context::Context;
use crate::status::HttpStatus;

/// A response body: nothing, bytes in one piece, or a stream of chunks.
pub enum Body<'a> {
    /// No body.
    Empty,
    /// The whole body at once; `Content-Length` is known.
    Bytes(Cow<'static, [u8]>),
    /// The body in pieces, produced while it is sent.
    Stream(Box<dyn Iterator<Item = Result<Vec<u8>, HttpStatus>> + 'a>),
    /// The body in pieces whose total length is known up front (a file): sent with
    /// `Content-Length`. Pieces that add up to another length break the response off.
    SizedStream(
        u64,
        Box<dyn Iterator<Item = Result<Vec<u8>, HttpStatus>> + 'a>,
    ),
}

impl fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Bytes(bytes) => f.debug_tuple("Bytes").field(&bytes.len()).finish(),
            Self::Stream(_) => f.write_str("Stream(..)"),
            Self::SizedStream(length, _) => write!(f, "SizedStream({length}, ..)"),
        }
    }
}

/// What a handler (or a controller) produces: a body, or a status error.
pub type Outcome<'a> = Result<Body<'a>, HttpStatus>;

/// A value a handler may return.
///
/// Implemented for `()` (empty body), `&'static str`, `String`, `Cow<'static, str>`, byte
/// vectors and slices, [`Json`], [`Stream`], [`Body`], [`Redirect`](crate::Redirect),
/// [`HttpStatus`] (sent as that status),
/// `Option<T>` (`None` is `404 Not Found`) and `Result<T, E>` where `E` converts into an
/// [`HttpStatus`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a nanohttp handler",
    label = "this return type does not implement `nanohttp::Reply`",
    note = "return a string, bytes, `()`, `Json<T>`, `Stream<I>`, `Body`, `Redirect`, `HttpStatus`, or an `Option`/`Result` of one; under `#[json]` any `serde::Serialize` value"
)]
pub trait Reply<'a> {
    /// Turns the value into a body, setting response fields on `ctx` as needed.
    fn into_body(self, ctx: &mut Context) -> Outcome<'a>;
}

impl<'a> Reply<'a> for () {
    fn into_body(self, _: &mut Context) -> Outcome<'a> {
        Ok(Body::Empty)
    }
}

impl<'a> Reply<'a> for &'static str {
    fn into_body(self, _: &mut Context) -> Outcome<'a> {
        Ok(Body::Bytes(Cow::Borrowed(self.as_bytes())))
    }
}

impl<'a> Reply<'a> for String {
    fn into_body(self, _: &mut Context) -> Outcome<'a> {
        Ok(Body::Bytes(Cow::Owned(self.into_bytes())))
    }
}

impl<'a> Reply<'a> for Cow<'static, str> {
    fn into_body(self, ctx: &mut Context) -> Outcome<'a> {
        match self {
            Cow::Borrowed(text) => text.into_body(ctx),
            Cow::Owned(text) => text.into_body(ctx),
        }
    }
}

impl<'a> Reply<'a> for &'static [u8] {
    fn into_body(self, _: &mut Context) -> Outcome<'a> {
        Ok(Body::Bytes(Cow::Borrowed(self)))
    }
}

impl<'a> Reply<'a> for Vec<u8> {
    fn into_body(self, _: &mut Context) -> Outcome<'a> {
        Ok(Body::Bytes(Cow::Owned(self)))
    }
}

impl<'a> Reply<'a> for Body<'a> {
    fn into_body(self, _: &mut Context) -> Outcome<'a> {
        Ok(self)
    }
}

impl<'a> Reply<'a> for HttpStatus {
    fn into_body(self, _: &mut Context) -> Outcome<'a> {
        Err(self)
    }
}

impl<'a, T: Reply<'a>> Reply<'a> for Option<T> {
    fn into_body(self, ctx: &mut Context) -> Outcome<'a> {
        match self {
            Some(value) => value.into_body(ctx),
            None => Err(HttpStatus::not_found()),
        }
    }
}

impl<'a, T: Reply<'a>, E: Into<HttpStatus>> Reply<'a> for Result<T, E> {
    fn into_body(self, ctx: &mut Context) -> Outcome<'a> {
        self.map_err(Into::into)?.into_body(ctx)
    }
}

/// A value sent as JSON. `#[json]` handlers wrap what they return in it for you.
///
/// Sets the content type to `application/json` when the handler has not chosen one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<'a, T: Serialize> Reply<'a> for Json<T> {
    fn into_body(self, ctx: &mut Context) -> Outcome<'a> {
        let bytes = serde_json::to_vec(&self.0).map_err(|error| {
            HttpStatus::internal_server_error()
                .with_detail(format!("cannot serialise the response to JSON: {error}"))
        })?;
        if ctx.content_type().is_none() {
            ctx.set_content_type("application/json");
            ctx.set_encoding(Some("utf-8"));
        }
        Ok(Body::Bytes(Cow::Owned(bytes)))
    }
}

/// A body produced piece by piece while it is sent (the original's generators).
///
/// The framework pulls the first chunk before the status and headers go out, so an error there
/// is still a proper status response; an error after that ends the body abruptly, which the
/// client sees as a broken response.
///
/// ```
/// use nanohttp::{HttpStatus, Stream};
///
/// fn numbers() -> Stream<impl Iterator<Item = Result<String, HttpStatus>>> {
///     Stream((1..=3).map(|n| Ok(format!("{n}\n"))))
/// }
/// # let _ = numbers();
/// ```
#[derive(Debug, Clone)]
pub struct Stream<I>(pub I);

impl<'a, I> Reply<'a> for Stream<I>
where
    I: IntoIterator + 'a,
    I::Item: Chunk,
{
    fn into_body(self, _: &mut Context) -> Outcome<'a> {
        Ok(Body::Stream(Box::new(
            self.0.into_iter().map(Chunk::into_chunk),
        )))
    }
}

/// One piece of a streamed body: text, bytes, or a `Result` of either.
pub trait Chunk {
    /// The bytes of the piece, or the error that ends the stream.
    fn into_chunk(self) -> Result<Vec<u8>, HttpStatus>;
}

impl Chunk for String {
    fn into_chunk(self) -> Result<Vec<u8>, HttpStatus> {
        Ok(self.into_bytes())
    }
}

impl Chunk for &str {
    fn into_chunk(self) -> Result<Vec<u8>, HttpStatus> {
        Ok(self.as_bytes().to_vec())
    }
}

impl Chunk for Vec<u8> {
    fn into_chunk(self) -> Result<Vec<u8>, HttpStatus> {
        Ok(self)
    }
}

impl Chunk for &[u8] {
    fn into_chunk(self) -> Result<Vec<u8>, HttpStatus> {
        Ok(self.to_vec())
    }
}

impl<T: Chunk, E: Into<HttpStatus>> Chunk for Result<T, E> {
    fn into_chunk(self) -> Result<Vec<u8>, HttpStatus> {
        self.map_err(Into::into)?.into_chunk()
    }
}
