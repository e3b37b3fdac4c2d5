//! `async` handlers and what they await.
//!
//! A handler may be an `async fn`: the framework runs its future to the end before it answers
//! (`#[json] async fn get(&self) -> ...`), so it can await several outgoing requests at once
//! ([`Request::send_async`](crate::client::Request::send_async) with [`join`] or
//! [`join_all`]). What it awaits must be the host's work: in a component the framework waits
//! by asking the host (on WASI 0.3 through the component model's own waiting, on WASI 0.2 on
//! the `wasi:io` pollables the futures registered); natively, in tests, futures that are not
//! ready park the thread until woken. Sync handlers are called as before.
//!
//! ```
//! use nanohttp::client::Request;
//! use nanohttp::future::join;
//! use nanohttp::prelude::*;
//!
//! #[derive(Default)]
//! struct Root;
//!
//! #[controller]
//! impl Root {
//!     #[text]
//!     async fn both(&self, a: String, b: String) -> Result<String, HttpStatus> {
//!         // Both requests are in flight at once; the handler resumes when both answered.
//!         let (a, b) = join(Request::get(&a).send_async(), Request::get(&b).send_async()).await;
//!         Ok(format!("{} {}", a?.status(), b?.status()))
//!     }
//! }
//! # impl Application for Root {}
//! ```

use std::future::Future;

pub use futures_util::future::{join, join_all, join3};

/// Runs `future` to its end on this thread and returns its output. The framework's own
/// `async` handlers go through it; code that is not `async` can call it too.
pub fn block_on<F: Future>(future: F) -> F::Output {
    executor::block_on(future)
}

#[cfg(not(target_arch = "wasm32"))]
mod executor {
    use std::future::Future;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread::Thread;

    /// Wakes the thread running [`block_on`].
    struct Unpark(Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }

    pub(super) fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            match future.as_mut().poll(&mut cx) {
                Poll::Ready(output) => return output,
                Poll::Pending => std::thread::park(),
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", feature = "p3"))]
mod executor {
    pub(super) use crate::component::block_on;
}

#[cfg(all(target_arch = "wasm32", not(feature = "p3")))]
mod executor {
    use std::cell::RefCell;
    use std::future::Future;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use crate::component::bindings::wasi::io::poll::{Pollable, poll};

    thread_local! {
        // What the futures being polled wait for: each pollable with the waker to wake when
        // it is ready. Emptied by every wait; a future still pending registers again.
        static WAITING: RefCell<Vec<(Pollable, Waker)>> = const { RefCell::new(Vec::new()) };
    }

    /// Makes the task of `cx` wake when `pollable` is ready (for the framework's WASI 0.2
    /// futures, which then return `Pending`).
    pub(crate) fn wake_when_ready(pollable: Pollable, cx: &Context<'_>) {
        WAITING.with(|waiting| waiting.borrow_mut().push((pollable, cx.waker().clone())));
    }

    /// A waker that records it was woken (by a future that is ready to go on at once).
    #[derive(Default)]
    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::Release);
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.store(true, Ordering::Release);
        }
    }

    pub(super) fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let flag = Arc::new(Flag::default());
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        // Waits from an outer `block_on` are not this one's to serve.
        let outer = WAITING.with(|waiting| std::mem::take(&mut *waiting.borrow_mut()));
        let output = loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                break output;
            }
            let waiting = WAITING.with(|waiting| std::mem::take(&mut *waiting.borrow_mut()));
            if flag.0.swap(false, Ordering::AcqRel) {
                continue;
            }
            assert!(
                !waiting.is_empty(),
                "an async handler awaits something that is not the host's work: nothing could \
                 ever wake it (await nanohttp's own futures, such as Request::send_async)"
            );
            let pollables: Vec<&Pollable> = waiting.iter().map(|(pollable, _)| pollable).collect();
            for ready in poll(&pollables) {
                waiting[ready as usize].1.wake_by_ref();
            }
            flag.0.store(false, Ordering::Release);
        };
        WAITING.with(|waiting| *waiting.borrow_mut() = outer);
        output
    }
}

#[cfg(all(target_arch = "wasm32", not(feature = "p3")))]
pub(crate) use executor::wake_when_ready;
