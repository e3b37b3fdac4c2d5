//! The request body: read lazily, once, never past the size limit.
//!
//! A component receives the body as a stream; nothing is read until a handler asks for it,
//! through [`Context::body`](crate::Context::body) (all of it, in memory),
//! [`Context::body_reader`](crate::Context::body_reader) (piece by piece) or the form parsers.

use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::io::{self, Read};

use crate::rejection::Rejection;
use crate::status::HttpStatus;

/// How the body arrives: already in memory (tests), or from a stream (a component).
pub(crate) enum Source {
    Bytes(Vec<u8>),
    Reader(Box<dyn Read>),
}

/// The body of one request and what has been done with it.
pub(crate) struct RequestBody {
    /// The unread source; taken by the first reader.
    source: RefCell<Option<Source>>,
    /// The whole body, once something asked for it in memory.
    buffered: OnceCell<Result<Vec<u8>, HttpStatus>>,
    /// The most bytes this request may send (the setting, or the handler's own limit).
    limit: Cell<u64>,
    /// What `Content-Length` announced, if anything.
    declared: Option<u64>,
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBody")
            .field(
                "buffered",
                &self.buffered.get().map(|b| b.as_ref().map(Vec::len)),
            )
            .field("limit", &self.limit.get())
            .field("declared", &self.declared)
            .finish_non_exhaustive()
    }
}

impl RequestBody {
    pub(crate) fn new(source: Source, declared: Option<u64>, limit: u64) -> Self {
        Self {
            source: RefCell::new(Some(source)),
            buffered: OnceCell::new(),
            limit: Cell::new(limit),
            declared,
        }
    }

    pub(crate) fn set_limit(&self, limit: u64) {
        self.limit.set(limit);
    }

    pub(crate) fn limit(&self) -> u64 {
        self.limit.get()
    }

    /// Whether the request announced no body at all (no `Content-Length`, or zero) and none
    /// has been found in memory.
    pub(crate) fn announced_empty(&self) -> bool {
        match &*self.source.borrow() {
            Some(Source::Bytes(bytes)) => bytes.is_empty(),
            _ => self.declared == Some(0),
        }
    }

    /// The whole body, read on first use.
    pub(crate) fn bytes(&self) -> Result<&[u8], HttpStatus> {
        self.buffered
            .get_or_init(|| {
                let mut reader = self.reader()?;
                let mut bytes = Vec::with_capacity(
                    usize::try_from(self.declared.unwrap_or(0).min(self.limit.get())).unwrap_or(0),
                );
                reader
                    .read_to_end(&mut bytes)
                    .map_err(|e| status_of_io_error(&e))?;
                Ok(bytes)
            })
            .as_ref()
            .map(Vec::as_slice)
            .map_err(Clone::clone)
    }

    /// A reader over the body: the buffered bytes if it was read already, else the source,
    /// which can be taken once.
    pub(crate) fn reader(&self) -> Result<BodyReader<'_>, HttpStatus> {
        if let Some(buffered) = self.buffered.get() {
            let bytes = buffered.as_ref().map_err(Clone::clone)?;
            return Ok(BodyReader::new(Inner::Slice(bytes), u64::MAX));
        }
        let limit = self.limit.get();
        if self.declared.is_some_and(|declared| declared > limit) {
            return Err(too_large(limit));
        }
        let source = self.source.borrow_mut().take().ok_or_else(|| {
            HttpStatus::internal_server_error()
                .with_detail("the request body was already consumed by an earlier reader")
        })?;
        let inner = match source {
            Source::Bytes(bytes) => Inner::Owned(io::Cursor::new(bytes)),
            Source::Reader(reader) => Inner::Stream(reader),
        };
        Ok(BodyReader::new(inner, limit))
    }
}

fn too_large(limit: u64) -> HttpStatus {
    HttpStatus::from(Rejection::BodyTooLarge { limit })
        .with_detail(format!("the request body is larger than {limit} bytes"))
}

/// The status an I/O error of a [`BodyReader`] stands for: the reader's own status (413, say),
/// or `400 Incomplete Request Body` when the client's stream broke.
pub fn status_of_io_error(error: &io::Error) -> HttpStatus {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<HttpStatus>())
        .cloned()
        .unwrap_or_else(|| {
            HttpStatus::from(Rejection::IncompleteBody).with_detail(error.to_string())
        })
}

enum Inner<'a> {
    Slice(&'a [u8]),
    Owned(io::Cursor<Vec<u8>>),
    Stream(Box<dyn Read>),
}

/// The request body as a [`Read`]er that stops with `413 Payload Too Large` (an I/O error
/// wrapping the [`HttpStatus`]; see [`status_of_io_error`]) as soon as the body goes past the
/// limit, without reading the excess.
pub struct BodyReader<'a> {
    inner: Inner<'a>,
    limit: u64,
    read: u64,
}

impl fmt::Debug for BodyReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyReader")
            .field("limit", &self.limit)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl<'a> BodyReader<'a> {
    fn new(inner: Inner<'a>, limit: u64) -> Self {
        Self {
            inner,
            limit,
            read: 0,
        }
    }

    /// How many bytes have been read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for one byte more than allowed, so that a body of exactly the limit passes and
        // one byte over is caught.
        let allowed = self.limit.saturating_sub(self.read).saturating_add(1);
        let want = buf
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        let n = match &mut self.inner {
            Inner::Slice(slice) => slice.read(&mut buf[..want])?,
            Inner::Owned(cursor) => cursor.read(&mut buf[..want])?,
            Inner::Stream(stream) => stream.read(&mut buf[..want])?,
        };
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(too_large(self.limit)));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(bytes: &[u8], declared: Option<u64>, limit: u64) -> RequestBody {
        let reader: Box<dyn Read> = Box::new(io::Cursor::new(bytes.to_vec()));
        RequestBody::new(Source::Reader(reader), declared, limit)
    }

    #[test]
    fn limits() {
        // (body length, Content-Length, limit, accepted)
        let cases = [
            (10, Some(10), 10, true),
            (10, None, 10, true),
            (11, None, 10, false),
            (11, Some(11), 10, false),
            (0, None, 0, true),
            (1, None, 0, false),
        ];
        for (length, declared, limit, accepted) in cases {
            let result = body(&vec![b'x'; length], declared, limit)
                .bytes()
                .map(<[u8]>::len);
            match (result, accepted) {
                (Ok(n), true) => assert_eq!(n, length),
                (Err(status), false) => assert_eq!(status.code(), 413),
                (other, _) => panic!("{length} bytes, limit {limit}: {other:?}"),
            }
        }
    }

    #[test]
    fn read_once_then_buffered() {
        let body = body(b"hello", None, 100);
        assert_eq!(body.bytes().unwrap(), b"hello");
        let mut again = String::new();
        body.reader().unwrap().read_to_string(&mut again).unwrap();
        assert_eq!(again, "hello");
    }

    #[test]
    fn streamed_reader_cannot_be_taken_twice() {
        let body = body(b"hello", None, 100);
        let mut first = Vec::new();
        body.reader().unwrap().read_to_end(&mut first).unwrap();
        assert_eq!(body.reader().unwrap_err().code(), 500);
    }

    #[test]
    fn broken_streams_are_400() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "client went away",
                ))
            }
        }
        let body = RequestBody::new(Source::Reader(Box::new(Broken)), None, 100);
        let status = body.bytes().unwrap_err();
        assert_eq!(status.to_string(), "400 Incomplete Request Body");
    }
}
