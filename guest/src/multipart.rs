//! `multipart/form-data`, part by part, with `multer` driven synchronously.
//!
//! `multer` is asynchronous; a component reads its body with blocking calls. The bridge: the
//! stream handed to `multer` reads from a shared slot and reports `Pending` when it is empty;
//! the driver then reads the next piece of the body into the slot and polls again. Only one
//! piece (at most [`PIECE`] bytes) is held at a time, whatever the size of the body.

use std::fmt;
use std::future::Future;
use std::io::Read;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};

use bytes::Bytes;

use crate::body::{BodyReader, status_of_io_error};
use crate::rejection::Rejection;
use crate::status::HttpStatus;

/// How much of the body is read at a time.
const PIECE: usize = 64 * 1024;

/// What the driver and the stream given to `multer` share.
#[derive(Default)]
struct Slot {
    piece: Option<Bytes>,
    end: bool,
    wanted: bool,
}

/// The stream `multer` reads: whatever the driver put in the slot.
struct SlotStream(Arc<Mutex<Slot>>);

impl futures_core::Stream for SlotStream {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(piece) = slot.piece.take() {
            Poll::Ready(Some(Ok(piece)))
        } else if slot.end {
            Poll::Ready(None)
        } else {
            slot.wanted = true;
            Poll::Pending
        }
    }
}

/// Reads the body into the slot whenever the parser asks for more.
struct Driver<'a> {
    body: BodyReader<'a>,
    slot: Arc<Mutex<Slot>>,
}

impl Driver<'_> {
    /// Runs `future` to completion, feeding the body as it asks. Body errors (413, a broken
    /// stream) win over whatever the parser makes of the missing data.
    fn run<T>(
        &mut self,
        future: impl Future<Output = Result<T, multer::Error>>,
    ) -> Result<T, HttpStatus> {
        let mut future = pin!(future);
        let mut context = TaskContext::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(result) = future.as_mut().poll(&mut context) {
                return result.map_err(malformed);
            }
            let wanted =
                std::mem::take(&mut self.slot.lock().unwrap_or_else(|e| e.into_inner()).wanted);
            if !wanted {
                // Pending without asking for data: nothing we do would change that.
                return Err(HttpStatus::internal_server_error()
                    .with_detail("the multipart parser stalled without asking for data"));
            }
            self.feed()?;
        }
    }

    fn feed(&mut self) -> Result<(), HttpStatus> {
        let mut piece = vec![0; PIECE];
        let n = loop {
            match self.body.read(&mut piece) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(status_of_io_error(&e)),
            }
        };
        piece.truncate(n);
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if n == 0 {
            slot.end = true;
        } else {
            slot.piece = Some(Bytes::from(piece));
        }
        Ok(())
    }
}

fn malformed(error: multer::Error) -> HttpStatus {
    HttpStatus::from(Rejection::MalformedMultipart).with_detail(error.to_string())
}

/// The boundary of a `multipart/form-data` content type, or `400`.
pub(crate) fn boundary(content_type: &str) -> Result<String, HttpStatus> {
    multer::parse_boundary(content_type).map_err(|_| Rejection::MissingBoundary.into())
}

/// A `multipart/form-data` body, read one part at a time; see
/// [`Context::multipart`](crate::Context::multipart).
pub struct Multipart<'a> {
    parser: multer::Multipart<'static>,
    driver: Driver<'a>,
    parts: usize,
    max_parts: usize,
}

impl fmt::Debug for Multipart<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart")
            .field("parts", &self.parts)
            .field("max_parts", &self.max_parts)
            .finish_non_exhaustive()
    }
}

impl<'a> Multipart<'a> {
    pub(crate) fn new(body: BodyReader<'a>, boundary: String, max_parts: usize) -> Self {
        let slot = Arc::new(Mutex::new(Slot::default()));
        Self {
            parser: multer::Multipart::new(SlotStream(Arc::clone(&slot)), boundary),
            driver: Driver { body, slot },
            parts: 0,
            max_parts,
        }
    }

    /// The next part, or `None` after the last one. A malformed or truncated body is a `400`;
    /// more parts than the `max_form_fields` setting allows, a `413`.
    pub fn next_part(&mut self) -> Result<Option<Part<'_, 'a>>, HttpStatus> {
        let Some(field) = self.driver.run(self.parser.next_field())? else {
            return Ok(None);
        };
        self.parts += 1;
        if self.parts > self.max_parts {
            return Err(Rejection::TooManyFields {
                limit: self.max_parts,
            }
            .into());
        }
        Ok(Some(Part {
            field,
            driver: &mut self.driver,
        }))
    }
}

/// One part of a multipart body: a field or a file, read chunk by chunk.
pub struct Part<'m, 'a> {
    field: multer::Field<'static>,
    driver: &'m mut Driver<'a>,
}

impl fmt::Debug for Part<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name())
            .field("filename", &self.filename())
            .field("content_type", &self.content_type())
            .finish_non_exhaustive()
    }
}

impl Part<'_, '_> {
    /// The field name (`name=` of `Content-Disposition`).
    pub fn name(&self) -> Option<&str> {
        self.field.name()
    }

    /// The file name, for file parts.
    pub fn filename(&self) -> Option<&str> {
        self.field.file_name()
    }

    /// The part's own content type, if it sent one.
    pub fn content_type(&self) -> Option<&str> {
        self.field.content_type().map(|mime| mime.essence_str())
    }

    /// The next chunk of the part's content, or `None` at its end.
    pub fn chunk(&mut self) -> Result<Option<Bytes>, HttpStatus> {
        self.driver.run(self.field.chunk())
    }

    /// The whole content (bounded by the body size limit).
    pub fn bytes(&mut self) -> Result<Vec<u8>, HttpStatus> {
        let mut bytes = Vec::new();
        while let Some(chunk) = self.chunk()? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// The whole content as UTF-8 text; anything else is a `400`.
    pub fn text(&mut self) -> Result<String, HttpStatus> {
        let name = self.name().unwrap_or("").to_owned();
        String::from_utf8(self.bytes()?).map_err(|_| Rejection::NotUtf8Field { name }.into())
    }
}
