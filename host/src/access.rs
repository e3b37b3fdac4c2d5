//! One request as the host accounts for it, from its head to the end of its response body:
//! its connection's activity (for `--idle-timeout`), its request id and trace context, its
//! access-log line (target `nanohttp::access`) and its metrics.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, StatusCode};
use hyper::body::{Body, Frame, Incoming, SizeHint};

use crate::app::ResponseBody;
use crate::metrics::{self, Outcome};
use crate::trace::TraceContext;

/// One connection's requests in flight and when it was last busy, for `--idle-timeout`.
pub(crate) struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        }
    }

    fn touch(&self) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    /// Resolves once no request has been in flight for `timeout`.
    pub(crate) async fn idle_for(&self, timeout: Duration) {
        loop {
            let last = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if self.in_flight.load(Ordering::Acquire) > 0 {
                tokio::time::sleep(timeout).await;
                continue;
            }
            let due = last + timeout;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due.into()).await;
        }
    }
}

/// One request, from its head to the end of its response body: counts it in flight on its
/// connection and writes its access-log line (target `nanohttp::access`) when dropped.
pub(crate) struct Access {
    pub(crate) method: Method,
    /// The request's path, without its query (which may carry secrets).
    pub(crate) path: String,
    started: Instant,
    pub(crate) status: Option<StatusCode>,
    bytes: u64,
    /// The response's `Content-Length`, if it has one.
    pub(crate) length: Option<u64>,
    pub(crate) complete: bool,
    /// The request's `traceparent`, or a new trace; its trace id is the request id.
    pub(crate) trace: TraceContext,
    activity: Arc<Activity>,
}

impl Access {
    pub(crate) fn begin(request: &hyper::Request<Incoming>, activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        if let Some(metrics) = metrics::get() {
            metrics.request_started();
        }
        Self {
            trace: TraceContext::of(request.headers()),
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            started: Instant::now(),
            status: None,
            bytes: 0,
            length: None,
            complete: false,
            activity,
        }
    }
}

impl Drop for Access {
    fn drop(&mut self) {
        self.activity.touch();
        self.activity.in_flight.fetch_sub(1, Ordering::AcqRel);
        let took = self.started.elapsed();
        let duration_ms = took.as_secs_f64() * 1000.0;
        let (outcome, said) = match (self.status, self.complete) {
            (None, _) => (Outcome::NoResponse, "no response: the client went away"),
            (Some(_), true) => (Outcome::Complete, "complete"),
            (Some(_), false) => (Outcome::BodyCut, "body cut"),
        };
        let status = self.status.map(|status| status.as_u16());
        if let Some(metrics) = metrics::get() {
            metrics.request_ended(status, outcome, took);
        }
        tracing::info!(
            target: "nanohttp::access",
            method = %self.method,
            path = %self.path,
            status = status.unwrap_or(0),
            bytes = self.bytes,
            duration_ms = (duration_ms * 1000.0).round() / 1000.0,
            request_id = %self.trace.trace_id(),
            traceparent = self.trace.incoming().map(tracing::field::display),
            "{said}"
        );
    }
}

/// The response body as sent: the guest's (or the host's) body, counted for the access log.
pub(crate) struct Logged {
    pub(crate) inner: ResponseBody,
    pub(crate) access: Access,
}

impl Body for Logged {
    type Data = Bytes;
    type Error = <ResponseBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                this.access.bytes += frame.data_ref().map_or(0, |data| data.len() as u64);
                // hyper stops polling a body that says it has ended, or whose declared length
                // has been sent.
                if this.inner.is_end_stream()
                    || this
                        .access
                        .length
                        .is_some_and(|length| this.access.bytes >= length)
                {
                    this.access.complete = true;
                }
            }
            Poll::Ready(None) => this.access.complete = true,
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
