//! Running one request through an instance, within its limits: admission (body size, requests
//! at once), the deadline, the guest's run, and waiting for its response while its body may
//! go on streaming.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use anyhow::anyhow;
use http::header::CONTENT_LENGTH;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, oneshot};
use wasmtime::component::{Accessor, Resource};
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::handler::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::types::{HostIncomingRequest, HostResponseOutparam};
use wasmtime_wasi_http::p3;

use super::body::{GuestBody, LimitedBody, ResponseBody};
use super::pool::{Version, Warm};
use super::state::RequestState;
use super::{App, Failure, Limits, OverTls};
use crate::metrics::{self, Discard};
use crate::trace::TraceContext;

/// What the guest hands the host: its response (head and streaming body), or the error code it
/// answered with (described).
type GuestResponse = Result<hyper::Response<ResponseBody>, String>;

impl App {
    /// Runs one request in an instance: a waiting one with `--reuse`, else a fresh one.
    /// Resolves once the guest has set the response (status and headers); the body streams
    /// from the guest while it keeps running, until it finishes or the time limit cuts it.
    ///
    /// `Err` when the host answers instead (see [`Failure`]); a trap after the response was
    /// set is logged here and cuts the body.
    pub(crate) async fn handle(
        &self,
        request: hyper::Request<Incoming>,
    ) -> Result<hyper::Response<ResponseBody>, Failure> {
        let limits = self.factory.limits;
        refuse_declared_too_large(&request, limits.body)?;
        let permit = self
            .factory
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Failure::Busy)?;
        let version = self.current();
        let deadline = limits.request_timeout.map(|limit| Instant::now() + limit);

        // Without `--reuse` no instance is ever kept: skip the pool's lock.
        let (mut store, proxy, served) = match (limits.reuse > 1).then(|| version.take_idle()) {
            Some(Some(Warm {
                store,
                proxy,
                served,
                ..
            })) => {
                metrics::instance(true);
                (store, Some(proxy), served)
            }
            _ => (self.factory.new_store().map_err(Failure::Guest)?, None, 0),
        };
        // `METHOD path`: names the request in the guest's log lines and in the host's own.
        let label: Arc<str> = format!("{} {}", request.method(), request.uri().path()).into();
        store.data_mut().serving(
            label.clone(),
            deadline,
            request.extensions().get::<TraceContext>().cloned(),
        );
        arm_deadline(&mut store, deadline);

        let too_large = Arc::new(AtomicBool::new(false));
        let scheme = match request.extensions().get::<OverTls>() {
            Some(_) => Scheme::Https,
            None => Scheme::Http,
        };
        let request = request.map(|body| LimitedBody::new(body, limits.body, too_large.clone()));
        let exchange = Exchange::open(&mut store, &version.pre, request, scheme)?;
        let guest = GuestTask {
            version,
            store,
            proxy,
            served,
            limits,
            deadline,
            permit,
            too_large: too_large.clone(),
            responded: exchange.responded.clone(),
            failed: exchange.failed.clone(),
            label,
        };
        let failed = exchange.failed.clone();
        let run = guest.run(exchange.call);
        let result = match wait_for_response(exchange.response, GuestRun(Some(Box::pin(run)))).await
        {
            Ok(response) => Ok(response.map(|inner| GuestBody { inner, failed }.boxed_unsync())),
            Err(failure) => Err(failure),
        };
        // A body over the limit is the client's doing, whatever the guest made of it.
        if too_large.load(Ordering::Acquire) {
            return Err(Failure::BodyTooLarge(limits.body));
        }
        result
    }
}

/// A declared body over the limit is refused before any instance is spent on it.
fn refuse_declared_too_large<B>(request: &hyper::Request<B>, limit: u64) -> Result<(), Failure> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit => Err(Failure::BodyTooLarge(limit)),
        _ => Ok(()),
    }
}

/// Every epoch tick, the guest yields to the scheduler, and traps once the request's time is
/// up: this is what stops a guest that loops without calling the host.
pub(super) fn arm_deadline(store: &mut Store<RequestState>, deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        }),
        None => store.epoch_deadline_async_yield_and_update(1),
    }
    store.set_epoch_deadline(1);
}

/// The request as the guest will get it, and what the host learns of the response.
struct Exchange {
    call: Call,
    /// Where the guest's response lands.
    response: oneshot::Receiver<GuestResponse>,
    /// Set synchronously when the guest sets the response, so its task knows whether a later
    /// failure still has a request to fail or only a body to cut.
    responded: Arc<AtomicBool>,
    /// Set when the guest fails after responding, before its instance (and so the body's
    /// sending end) is dropped: the body then ends in an error rather than cleanly, so a
    /// client never takes a cut body for a whole one.
    failed: Arc<AtomicBool>,
}

/// How the guest is called, by the `wasi:http` version it exports.
#[allow(
    clippy::large_enum_variant,
    reason = "one per request, made and moved once: boxing would only add an allocation"
)]
enum Call {
    /// `incoming-handler.handle(request, response-outparam)`: the request and the response
    /// slot as the guest's resources, made before the call.
    P2 {
        request: Resource<HostIncomingRequest>,
        out: Resource<HostResponseOutparam>,
    },
    /// `handler.handle(request) -> response`: the request becomes the guest's inside the
    /// call's event loop; the response is sent to `respond`.
    P3 {
        request: hyper::Request<LimitedBody>,
        respond: Responder,
    },
}

/// Sends the guest's response to the request's task, once, marking it responded first.
struct Responder {
    sender: oneshot::Sender<GuestResponse>,
    responded: Arc<AtomicBool>,
}

impl Responder {
    fn send(self, response: GuestResponse) {
        self.responded.store(true, Ordering::Release);
        // The receiver is gone if the client hung up; nothing to do then.
        let _ = self.sender.send(response);
    }
}

impl Exchange {
    fn open(
        store: &mut Store<RequestState>,
        pre: &ProxyPre<RequestState>,
        request: hyper::Request<LimitedBody>,
        scheme: Scheme,
    ) -> Result<Self, Failure> {
        let (sender, response) = oneshot::channel();
        let responded = Arc::new(AtomicBool::new(false));
        let respond = Responder {
            sender,
            responded: responded.clone(),
        };
        let call = match pre {
            ProxyPre::P2(_) => {
                let mut http = store.data_mut().http();
                let request = http
                    .new_incoming_request(scheme, request)
                    .map_err(|e| Failure::Guest(e.into()))?;
                let out = http
                    .new_response_outparam_from_callback(move |result| {
                        respond.send(result.map_err(|code| format!("{code:?}")));
                    })
                    .map_err(|e| Failure::Guest(e.into()))?;
                Call::P2 { request, out }
            }
            ProxyPre::P3(_) => Call::P3 {
                request: with_scheme(request, &scheme),
                respond,
            },
        };
        Ok(Self {
            call,
            response,
            responded,
            failed: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// The request's URI with its scheme and authority (from `Host`), which a WASI 0.3 request
/// carries in its URI (the 0.2 host takes them apart).
fn with_scheme<B>(request: hyper::Request<B>, scheme: &Scheme) -> hyper::Request<B> {
    let (mut parts, body) = request.into_parts();
    let authority = parts.uri.authority().cloned().or_else(|| {
        let host = parts.headers.get(http::header::HOST)?;
        http::uri::Authority::try_from(host.as_bytes()).ok()
    });
    // Without an authority (an HTTP/1.0 request without `Host`) a URI cannot have a scheme:
    // the guest then sees the path alone, as it was.
    if let Some(authority) = authority {
        let scheme = match scheme {
            Scheme::Https => http::uri::Scheme::HTTPS,
            _ => http::uri::Scheme::HTTP,
        };
        let path = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
        if let Ok(uri) = http::Uri::builder()
            .scheme(scheme)
            .authority(authority)
            .path_and_query(path)
            .build()
        {
            parts.uri = uri;
        }
    }
    hyper::Request::from_parts(parts, body)
}

/// One request's instance and everything its run must release or report at the end.
struct GuestTask {
    version: Arc<Version>,
    store: Store<RequestState>,
    /// A reused instance; `None`: instantiate one (within the request's time).
    proxy: Option<Proxy>,
    /// Requests the instance served before this one.
    served: u32,
    limits: Limits,
    deadline: Option<Instant>,
    /// One of `--max-concurrent`, released once the instance is back in the pool.
    permit: OwnedSemaphorePermit,
    too_large: Arc<AtomicBool>,
    responded: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
    /// `METHOD path`, for the log line of a guest that fails after responding.
    label: Arc<str>,
}

impl GuestTask {
    /// Instantiates (unless reused) and calls the guest's handler, within the time limit;
    /// then keeps or drops the instance. `Err` when the guest failed and the host still has a
    /// request to answer.
    async fn run(self, call: Call) -> Result<(), Failure> {
        let Self {
            version,
            mut store,
            proxy,
            served,
            limits,
            deadline,
            permit,
            too_large,
            responded,
            failed,
            label,
        } = self;
        let call = async {
            let proxy = match proxy {
                Some(proxy) => proxy,
                None => {
                    metrics::instance(false);
                    version.pre.instantiate_async(&mut store).await?
                }
            };
            match (&proxy, call) {
                (Proxy::P2(guest), Call::P2 { request, out }) => {
                    guest
                        .wasi_http_incoming_handler()
                        .call_handle(&mut store, request, out)
                        .await?;
                }
                (Proxy::P3(guest), Call::P3 { request, respond }) => {
                    let (request, request_io) =
                        p3::Request::from_http(store.data_mut().http().hooks, request);
                    store
                        .run_concurrent(async |accessor| {
                            call_p3(accessor, guest, request, request_io, respond).await
                        })
                        .await??;
                }
                _ => unreachable!("a call is made for the version's own instances"),
            }
            Ok::<_, wasmtime::Error>(proxy)
        };
        // The epoch callback stops a guest that computes; this stops one that waits on the
        // host (sleeping, or blocked writing a body nobody reads).
        let result = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), call)
                .await
                .unwrap_or_else(|_| Err(Trap::Interrupt.into())),
            None => call.await,
        };
        let out_of_memory = store.data().memory_refused();
        let result = match result {
            // An instance that served cleanly and within its limits may serve again.
            Ok(proxy) if !out_of_memory && !too_large.load(Ordering::Acquire) => {
                version.release(store, proxy, served + 1, limits.reuse);
                Ok(())
            }
            Ok(_) => {
                metrics::discarded(Discard::Limit, 1);
                drop(store);
                Ok(())
            }
            // Exit status 0 is a guest ending on purpose with its response whole: the
            // nanohttp guest answers a panic itself, then exits rather than aborting. The
            // instance is over either way.
            Err(error)
                if error
                    .downcast_ref::<wasmtime_wasi::I32Exit>()
                    .is_some_and(|exit| exit.0 == 0) =>
            {
                metrics::discarded(Discard::Exited, 1);
                drop(store);
                Ok(())
            }
            Err(error) => {
                let reason = match out_of_memory {
                    true => Discard::Limit,
                    false => Discard::Failed,
                };
                metrics::discarded(reason, 1);
                failed.store(true, Ordering::Release);
                drop(store);
                Err(error)
            }
        };
        // The instance (unless kept: `release` took the store) is back in the pool before the
        // permit is released.
        drop(permit);
        let failure = match result {
            Ok(()) => return Ok(()),
            Err(error) if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
                Failure::TimedOut(limits.request_timeout.unwrap_or_default())
            }
            Err(error) if out_of_memory => {
                Failure::Guest(anyhow::Error::from(error).context(format!(
                    "the guest reached its memory limit ({} MiB)",
                    limits.memory >> 20
                )))
            }
            Err(error) => Failure::Guest(error.into()),
        };
        if responded.load(Ordering::Acquire) {
            tracing::error!("{label}: the guest failed after responding: {failure}");
            return Ok(());
        }
        Err(failure)
    }
}

/// Calls a WASI 0.3 guest's `handle` inside its store's event loop: the request becomes the
/// guest's, the response it returns goes to `respond`, and the loop goes on until the guest
/// has nothing left running (its response body's writer, mostly), which keeps the body
/// streaming.
async fn call_p3(
    accessor: &Accessor<RequestState>,
    guest: &p3::bindings::Service,
    request: p3::Request,
    request_io: impl Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send + 'static,
    respond: Responder,
) -> wasmtime::Result<()> {
    let request = accessor.with(|mut store| store.get().http().table.push(request))?;
    let answer = guest
        .wasi_http_handler()
        .call_handle(accessor, request)
        .await?;
    let response = match answer {
        Ok(response) => accessor.with(|mut store| {
            let response = store.get().http().table.delete(response)?;
            response.into_http(&mut store, request_io)
        })?,
        Err(code) => {
            respond.send(Err(format!("{code:?}")));
            return Ok(());
        }
    };
    respond.send(Ok(response.map(|body| body.boxed_unsync())));
    std::future::poll_fn(|cx| accessor.poll_no_interesting_tasks(cx)).await;
    Ok(())
}

/// Until the response is set, or the guest ends without one, whichever comes first.
async fn wait_for_response(
    mut response: oneshot::Receiver<GuestResponse>,
    mut guest: GuestRun,
) -> Result<hyper::Response<ResponseBody>, Failure> {
    let (response, ended) = tokio::select! {
        biased;
        set = &mut response => match set {
            Ok(set) => (Some(set), None),
            // The store is gone without a response: the guest is ending; ask it why.
            Err(_) => (None, Some((&mut guest).await)),
        },
        ended = &mut guest => (response.try_recv().ok(), Some(ended)),
    };
    match response {
        Some(Ok(response)) => Ok(response),
        Some(Err(code)) => Err(Failure::Guest(anyhow!(
            "the guest answered with an error instead of a response: {code:?}"
        ))),
        None => match ended {
            Some(Err(Failure::Guest(error))) => Err(Failure::Guest(
                error.context("the guest failed before responding"),
            )),
            Some(Err(failure)) => Err(failure),
            Some(Ok(())) | None => Err(Failure::Guest(anyhow!(
                "the guest returned without setting a response"
            ))),
        },
    }
}

/// One request's run of its guest. The request's own task drives it until the response is
/// known: most guests write their whole response in one go, so they end there, without a task
/// of their own and the hand-off between threads it costs. What is left of a run when this is
/// dropped (a body still streaming, or a client gone before the response) carries on as a
/// task of its own, within its limits as before.
struct GuestRun(Option<Run>);

/// The future of a guest's run: `Err` when it failed before responding.
type Run = Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>>;

impl Future for GuestRun {
    type Output = Result<(), Failure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let run = self
            .0
            .as_mut()
            .expect("a guest run is not polled after it ended");
        let ended = std::task::ready!(run.as_mut().poll(cx));
        self.0 = None;
        Poll::Ready(ended)
    }
}

impl Drop for GuestRun {
    fn drop(&mut self) {
        let Some(run) = self.0.take() else { return };
        // Outside a runtime (it is shutting down), the run ends here, its instance dropped.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(failure) = run.await {
                    tracing::debug!("a guest whose client went away: {failure}");
                }
            });
        }
    }
}
