//! Connections to upstreams kept open after a call, for the next call to the same upstream:
//! a call then costs no connect, TLS or handshake.
//!
//! A connection is kept only when its response body was read to the end (so it is ready for
//! another request), for a few seconds. It was opened to an address the rules allowed for its
//! upstream (`scheme://host:port`), and the rules do not change while the host runs, so any
//! later call to that upstream may use it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

use wasmtime_wasi_http::WasiBody;

/// The sending half of an HTTP/1.1 connection; its connection task runs on its own.
pub(super) type Sender = hyper::client::conn::http1::SendRequest<WasiBody>;

/// How long an idle connection is kept: less than the idle timeouts servers commonly use
/// (Node.js and Apache: 5 s), so a kept connection is rarely one the upstream is closing.
const IDLE_LIFETIME: Duration = Duration::from_secs(4);

/// Idle connections kept per upstream.
const IDLE_PER_UPSTREAM: usize = 32;

/// Upstreams with idle connections kept; past it, expired ones are dropped first.
const UPSTREAMS: usize = 1024;

#[derive(Default)]
pub(super) struct Pool {
    idle: Mutex<HashMap<String, Vec<(Sender, Instant)>>>,
}

impl Pool {
    /// A kept connection to `upstream`, ready for a request, if there is one (the most
    /// recently used first).
    pub(super) async fn take(&self, upstream: &str) -> Option<Sender> {
        loop {
            let (mut sender, since) = {
                let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                idle.get_mut(upstream)?.pop()?
            };
            if since.elapsed() > IDLE_LIFETIME || sender.is_closed() {
                continue;
            }
            // Ready at once, or not at all: one whose last exchange is not over is dropped.
            let ready = std::future::poll_fn(|cx| match sender.poll_ready(cx) {
                Poll::Ready(result) => Poll::Ready(result.is_ok()),
                Poll::Pending => Poll::Ready(false),
            })
            .await;
            if ready {
                return Some(sender);
            }
        }
    }

    /// Keeps `sender` for the next call to `upstream`.
    pub(super) fn put(&self, upstream: String, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() >= UPSTREAMS && !idle.contains_key(&upstream) {
            idle.retain(|_, kept| {
                kept.retain(|(_, since)| since.elapsed() <= IDLE_LIFETIME);
                !kept.is_empty()
            });
            if idle.len() >= UPSTREAMS {
                return;
            }
        }
        let kept = idle.entry(upstream).or_default();
        kept.retain(|(sender, since)| since.elapsed() <= IDLE_LIFETIME && !sender.is_closed());
        if kept.len() < IDLE_PER_UPSTREAM {
            kept.push((sender, Instant::now()));
        }
    }
}
