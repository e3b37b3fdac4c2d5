//! The instances of one version of the component: a fresh one per request, or with `--reuse`,
//! one that served earlier requests cleanly, kept between requests and let go when spent,
//! idle too long, or retired by a newer version.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::Store;
use wasmtime_wasi_http::handler::{Proxy, ProxyPre};

use super::state::RequestState;
use crate::metrics::{self, Discard};

/// How long a reused instance may wait for a request before it is let go (`--reuse`).
const IDLE_LIFETIME: Duration = Duration::from_secs(10);

/// A version of the component being served, and its instances waiting for another request.
pub(super) struct Version {
    pub(super) pre: ProxyPre<RequestState>,
    /// Instances that may serve another request (`--reuse`), most recently used last. Each
    /// holds a slot of the pool and its memory, and there are never more than
    /// `--max-concurrent`: a request only instantiates when none is waiting here. Those left
    /// unused for [`IDLE_LIFETIME`] (after a burst) are let go.
    idle: Mutex<VecDeque<Warm>>,
    /// Set once a newer version is served: this one's instances are not kept any more.
    retired: AtomicBool,
}

/// An instance between two requests (`--reuse`).
pub(super) struct Warm {
    pub(super) store: Store<RequestState>,
    pub(super) proxy: Proxy,
    /// Requests it has served, all of them cleanly.
    pub(super) served: u32,
    idle_since: Instant,
}

impl Version {
    pub(super) fn new(pre: ProxyPre<RequestState>) -> Self {
        Self {
            pre,
            idle: Mutex::new(VecDeque::new()),
            retired: AtomicBool::new(false),
        }
    }

    /// The most recently used waiting instance, if any.
    pub(super) fn take_idle(&self) -> Option<Warm> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_back()
    }

    /// After a request an instance served cleanly and within its limits: keeps it for a later
    /// one unless it has served `reuse` requests or this version was retired meanwhile (then
    /// it is dropped, and its pool slot freed, here).
    pub(super) fn release(
        &self,
        store: Store<RequestState>,
        proxy: Proxy,
        served: u32,
        reuse: u32,
    ) {
        if served >= reuse {
            metrics::discarded(Discard::Spent, 1);
            return;
        }
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if self.retired.load(Ordering::Acquire) {
            metrics::discarded(Discard::Retired, 1);
            return;
        }
        while idle
            .front()
            .is_some_and(|oldest| now - oldest.idle_since > IDLE_LIFETIME)
        {
            idle.pop_front();
            metrics::discarded(Discard::Idle, 1);
        }
        idle.push_back(Warm {
            store,
            proxy,
            served,
            idle_since: now,
        });
    }

    /// Serves no more: the waiting instances go back to the pool now.
    pub(super) fn retire(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        self.retired.store(true, Ordering::Release);
        metrics::discarded(Discard::Retired, idle.len());
        idle.clear();
    }
}
