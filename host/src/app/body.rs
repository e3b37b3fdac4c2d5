//! The bodies around a guest: the request body it reads, held to `--max-body-size`, and its
//! response body, which must not end cleanly when the guest failed while writing it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The body of every response the host sends: the guest's stream, or the host's own text.
pub(crate) type ResponseBody = HyperOutgoingBody;

/// A guest's response body: ends in an error if the guest failed before finishing it.
pub(super) struct GuestBody {
    pub(super) inner: ResponseBody,
    pub(super) failed: Arc<AtomicBool>,
}

impl hyper::body::Body for GuestBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) if self.failed.load(Ordering::Acquire) => {
                Poll::Ready(Some(Err(wasmtime_wasi_http::Error::InternalError(Some(
                    "the guest failed before finishing the body".into(),
                )))))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        // Never claims the end early: the end is only known once the guest has finished.
        false
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The request body as the guest reads it: at most `limit` bytes; beyond that the guest's
/// read fails with `HTTP-request-body-size` and `too_large` is set, for a `413`.
pub(super) struct LimitedBody {
    inner: Incoming,
    remaining: u64,
    limit: u64,
    too_large: Arc<AtomicBool>,
}

impl LimitedBody {
    pub(super) fn new(inner: Incoming, limit: u64, too_large: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
            too_large,
        }
    }
}

impl hyper::body::Body for LimitedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let size = frame.data_ref().map_or(0, |data| data.len() as u64);
                if size > this.remaining {
                    this.too_large.store(true, Ordering::Release);
                    this.remaining = 0;
                    return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpRequestBodySize(
                        Some(this.limit),
                    ))));
                }
                this.remaining -= size;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
