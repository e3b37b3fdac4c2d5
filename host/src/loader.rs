//! Everything wasmtime: the engine and its instance pool, the linker, compiling and checking
//! the component, and running one request through an instance within its limits (time,
//! memory, body size, requests at once): a fresh instance per request, or with `--reuse`, one
//! that served earlier requests cleanly.

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, mpsc};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http_body_util::BodyExt as _;
use hyper::body::{Frame, Incoming, SizeHint};
use tokio::sync::{Semaphore, oneshot};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::cache;
use crate::config::Target;
use crate::options::{DirMapping, HostOptions};
use crate::outbound::Outbound;
use crate::state::RequestState;

/// The body of every response the host sends: the guest's stream, or the host's own text.
pub(crate) type ResponseBody = HyperOutgoingBody;

/// Core instances, memories and tables one component may hold. A Rust `wasm32-wasip2`
/// component has a handful of core instances (the program, the WASI adapter and the shims
/// gluing them) and two memories; these limits leave headroom for bigger toolchains' output.
const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 8;
const MAX_MEMORIES_PER_COMPONENT: u32 = 2;
const MAX_TABLES_PER_COMPONENT: u32 = 4;

/// Bytes of each memory and table slot kept resident between instances (see [`engine`]).
const KEEP_RESIDENT_MEMORY: usize = 1 << 20;
const KEEP_RESIDENT_TABLE: usize = 64 << 10;

/// How long a reused instance may wait for a request before it is let go (`--reuse`).
const IDLE_LIFETIME: Duration = Duration::from_secs(10);

/// How often running guests yield to the tokio scheduler (one epoch tick), so a busy guest
/// cannot hold a worker thread for longer than this; also how late, at most, a guest that
/// computes past its time limit is stopped.
const YIELD_INTERVAL: Duration = Duration::from_millis(10);

/// Sniffs the binary header: `Err` says why `bytes` is not a component (a core module, not
/// WebAssembly at all, or an unknown version). Cheap, so it runs while parsing arguments.
pub(crate) fn check_is_component(bytes: &[u8]) -> Result<(), String> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE_MODULE: [u8; 4] = [1, 0, 0, 0];
    const COMPONENT: [u8; 4] = [0x0d, 0, 1, 0];
    match (bytes.get(..4), bytes.get(4..8)) {
        (Some(MAGIC), Some(version)) if version == COMPONENT => Ok(()),
        (Some(MAGIC), Some(version)) if version == CORE_MODULE => Err(
            "it is a core WebAssembly module (build it for wasm32-wasip2, or wrap it with \
             `wasm-tools component new`)"
                .into(),
        ),
        (Some(MAGIC), Some(version)) => Err(format!(
            "unsupported WebAssembly binary version 0x{:02x}, layer {}",
            version[0], version[2]
        )),
        _ => Err("not a WebAssembly binary at all".into()),
    }
}

/// Why the host answers a request itself instead of the guest.
#[derive(Debug)]
pub(crate) enum Failure {
    /// `--max-concurrent` requests are in flight already: `503` with `Retry-After`.
    Busy,
    /// The request body is larger than `--max-body-size`: `413`.
    BodyTooLarge(u64),
    /// The guest did not respond within `--request-timeout`: `504`.
    TimedOut(Duration),
    /// The guest trapped (a panic, running out of memory...), returned without a response or
    /// answered with an error code: `500`.
    Guest(anyhow::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy => f.write_str("too many requests in flight"),
            Self::BodyTooLarge(limit) => write!(f, "the request body is over {limit} bytes"),
            Self::TimedOut(limit) => write!(f, "the guest did not respond within {limit:?}"),
            Self::Guest(error) => write!(f, "{error:#}"),
        }
    }
}

/// What each request's instance is allowed.
#[derive(Debug, Clone, Copy)]
struct Limits {
    request_timeout: Option<Duration>,
    memory: usize,
    body: u64,
    /// Requests one instance may serve (`--reuse`).
    reuse: u32,
}

/// The component being served, and its instances waiting for another request.
struct Loaded {
    pre: ProxyPre<RequestState>,
    /// Instances that may serve another request (`--reuse`), most recently used last. Each
    /// holds a slot of the pool and its memory, and there are never more than
    /// `--max-concurrent`: a request only instantiates when none is waiting here. Those left
    /// unused for [`IDLE_LIFETIME`] (after a burst) are let go.
    idle: Mutex<VecDeque<Warm>>,
    /// Set once a newer version is served: this one's instances are not kept any more.
    retired: AtomicBool,
}

impl Loaded {
    fn new(pre: ProxyPre<RequestState>) -> Self {
        Self {
            pre,
            idle: Mutex::new(VecDeque::new()),
            retired: AtomicBool::new(false),
        }
    }

    fn take_idle(&self) -> Option<Warm> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_back()
    }

    /// Keeps an instance that has served `served` requests for a later one, unless this
    /// version was retired meanwhile.
    fn keep(&self, store: Store<RequestState>, proxy: Proxy, served: u32) {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if self.retired.load(Ordering::Acquire) {
            return;
        }
        while idle
            .front()
            .is_some_and(|oldest| now - oldest.idle_since > IDLE_LIFETIME)
        {
            idle.pop_front();
        }
        idle.push_back(Warm {
            store,
            proxy,
            served,
            idle_since: now,
        });
    }

    /// Serves no more: the waiting instances go back to the pool now.
    fn retire(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        self.retired.store(true, Ordering::Release);
        idle.clear();
    }
}

/// An instance between two requests (`--reuse`).
struct Warm {
    store: Store<RequestState>,
    proxy: Proxy,
    /// Requests it has served, all of them cleanly.
    served: u32,
    idle_since: Instant,
}

/// A compiled, linked and checked component, ready to serve: instantiation per request is a
/// pool slot plus copy-on-write memory images. [`App::reload`] swaps in a new version; requests
/// in flight keep the one they started with.
pub(crate) struct App {
    linker: Linker<RequestState>,
    current: RwLock<Arc<Loaded>>,
    settings: Arc<str>,
    dirs: Arc<[DirMapping]>,
    limits: Limits,
    cache_dir: Option<PathBuf>,
    permits: Arc<Semaphore>,
    /// Guests' outgoing requests: the allow-list, TLS roots and per-upstream limits.
    outbound: Arc<Outbound>,
    /// The key-value store every instance shares.
    kv: Arc<crate::kv::Kv>,
    /// Dropping it stops the epoch thread.
    _ticker: mpsc::Sender<()>,
}

impl App {
    /// Compiles `target` (seconds for a big component; call it off the async workers), or
    /// loads it from the cache, checks that it exports `wasi:http/incoming-handler@0.2.x` and
    /// that the host can satisfy its imports. `settings` is the YAML every instance gets as
    /// `NANOHTTP_SETTINGS`.
    pub(crate) fn load(
        target: &Target,
        settings: String,
        options: &HostOptions,
    ) -> anyhow::Result<App> {
        let engine = engine(options)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        crate::kv::add_to_linker(&mut linker, RequestState::kv)?;
        let loaded = prepare(
            &linker,
            &target.name,
            &target.wasm,
            options.memory_limit,
            options.cache_dir.as_deref(),
        )?;
        let kv = crate::kv::Kv::open(&options.kv)?;
        Ok(App {
            linker,
            current: RwLock::new(Arc::new(loaded)),
            settings: settings.into(),
            dirs: options.dirs.clone().into(),
            limits: Limits {
                request_timeout: options.request_timeout,
                memory: options.memory_limit,
                body: options.max_body_size,
                reuse: options.reuse,
            },
            cache_dir: options.cache_dir.clone(),
            permits: Arc::new(Semaphore::new(options.max_concurrent as usize)),
            outbound: Outbound::new(&options.outbound)?,
            kv,
            _ticker: start_ticker(engine)?,
        })
    }

    /// Compiles `wasm` (blocking: call it off the async workers) and, if it is a servable
    /// component, serves it from now on. On error the current version stays.
    pub(crate) fn reload(&self, name: &str, wasm: &[u8]) -> anyhow::Result<()> {
        check_is_component(wasm)
            .map_err(|why| anyhow!("'{name}' is not a WebAssembly component: {why}"))?;
        let loaded = prepare(
            &self.linker,
            name,
            wasm,
            self.limits.memory,
            self.cache_dir.as_deref(),
        )?;
        let previous = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(PoisonError::into_inner),
            Arc::new(loaded),
        );
        previous.retire();
        Ok(())
    }

    /// A store for a new instance, with its WASI context and memory limit.
    fn new_store(&self, engine: &Engine) -> Result<Store<RequestState>, Failure> {
        let state = RequestState::new(
            &self.settings,
            self.limits.memory,
            &self.dirs,
            &self.outbound,
            self.kv.clone(),
        )
        .map_err(Failure::Guest)?;
        let mut store = Store::new(engine, state);
        store.limiter(|state| state.limiter());
        Ok(store)
    }

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
        let limits = self.limits;
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limits.body) {
            return Err(Failure::BodyTooLarge(limits.body));
        }
        let permit = self
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Failure::Busy)?;
        let loaded = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let started = Instant::now();
        let deadline = limits.request_timeout.map(|limit| started + limit);

        let (method, uri) = (request.method().clone(), request.uri().clone());
        // Without `--reuse` no instance is ever kept: skip the pool's lock.
        let warm = (limits.reuse > 1).then(|| loaded.take_idle()).flatten();
        let (mut store, proxy, served) = match warm {
            Some(Warm {
                store,
                proxy,
                served,
                ..
            }) => (store, Some(proxy), served),
            None => (self.new_store(loaded.pre.engine())?, None, 0),
        };
        store
            .data_mut()
            .serving(format!("{method} {}", uri.path()), deadline);
        match deadline {
            // Every epoch tick, the guest yields to the scheduler, and traps once the
            // request's time is up: this is what stops a guest that loops without calling
            // the host.
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

        let too_large = Arc::new(AtomicBool::new(false));
        let request = request.map(|body| LimitedBody::new(body, limits.body, too_large.clone()));
        let over_limit = too_large.clone();
        let (sender, receiver) = oneshot::channel();
        // Set synchronously when the guest calls `response-outparam.set`, so the guest task
        // knows whether a later failure still has a request to fail or only a body to cut.
        let responded = Arc::new(AtomicBool::new(false));
        let flag = responded.clone();
        // Set when the guest fails after responding, before its instance (and so the body's
        // sending end) is dropped: the body then ends in an error rather than cleanly, so a
        // client never takes a cut body for a whole one.
        let failed = Arc::new(AtomicBool::new(false));
        let failed_flag = failed.clone();
        let mut http = store.data_mut().http();
        let request = http
            .new_incoming_request(Scheme::Http, request)
            .map_err(|e| Failure::Guest(e.into()))?;
        let out = http
            .new_response_outparam_from_callback(move |result| {
                flag.store(true, Ordering::Release);
                // The receiver is gone if the client hung up; nothing to do then.
                let _ = sender.send(result);
            })
            .map_err(|e| Failure::Guest(e.into()))?;

        let guest = async move {
            let run = async {
                let proxy = match proxy {
                    Some(proxy) => proxy,
                    None => loaded.pre.instantiate_async(&mut store).await?,
                };
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, request, out)
                    .await?;
                Ok::<_, wasmtime::Error>(proxy)
            };
            // The epoch callback stops a guest that computes; this stops one that waits on
            // the host (sleeping, or blocked writing a body nobody reads).
            let result = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), run)
                    .await
                    .unwrap_or_else(|_| Err(Trap::Interrupt.into())),
                None => run.await,
            };
            let out_of_memory = store.data().memory_refused();
            let result = match result {
                // An instance that served cleanly and within its limits may serve again.
                Ok(proxy) => {
                    let hit_limit = out_of_memory || over_limit.load(Ordering::Acquire);
                    if served + 1 < limits.reuse && !hit_limit {
                        loaded.keep(store, proxy, served + 1);
                    } else {
                        drop(store);
                    }
                    Ok(())
                }
                // Exit status 0 is a guest ending on purpose with its response whole: the
                // nanohttp guest answers a panic itself, then exits rather than aborting.
                // The instance is over either way.
                Err(error)
                    if error
                        .downcast_ref::<wasmtime_wasi::I32Exit>()
                        .is_some_and(|exit| exit.0 == 0) =>
                {
                    drop(store);
                    Ok(())
                }
                Err(error) => {
                    failed_flag.store(true, Ordering::Release);
                    drop(store);
                    Err(error)
                }
            };
            // The instance (unless kept) goes back to the pool before the permit is released.
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
                tracing::error!("{method} {uri}: the guest failed after responding: {failure}");
                return Ok(());
            }
            Err(failure)
        };

        // Whatever is left of the run once this function returns (a body still streaming)
        // goes on as a task of its own when `guest` is dropped.
        let mut guest = GuestRun(Some(Box::pin(guest)));
        let mut receiver = receiver;
        // Until the response is set (or the guest ends without one), whichever comes first.
        let (response, ended) = tokio::select! {
            biased;
            response = &mut receiver => match response {
                Ok(response) => (Some(response), None),
                // The store is gone without a response: the guest is ending; ask it why.
                Err(_) => (None, Some((&mut guest).await)),
            },
            ended = &mut guest => (receiver.try_recv().ok(), Some(ended)),
        };
        let result = match response {
            Some(Ok(response)) => Ok(response.map(|body| {
                GuestBody {
                    inner: body,
                    failed,
                }
                .boxed_unsync()
            })),
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
        };
        // A body over the limit is the client's doing, whatever the guest made of it.
        if too_large.load(Ordering::Acquire) {
            return Err(Failure::BodyTooLarge(limits.body));
        }
        result
    }
}

/// Compiles (or loads from the cache), links and checks one component.
fn prepare(
    linker: &Linker<RequestState>,
    name: &str,
    wasm: &[u8],
    memory: usize,
    cache_dir: Option<&Path>,
) -> anyhow::Result<Loaded> {
    let component = cache::load_or_compile(linker.engine(), wasm, cache_dir)
        .with_context(|| format!("cannot compile component '{name}'"))?;
    check_fits_pool(&component, memory)
        .with_context(|| format!("cannot serve component '{name}'"))?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!("component '{name}' needs an import this host does not provide")
        })?;
    let pre = ProxyPre::new(pre).map_err(|e| {
        anyhow!(
            "component '{name}' does not export wasi:http/incoming-handler@0.2.x \
             (is it a wasi:http handler?): {e}"
        )
    })?;
    Ok(Loaded::new(pre))
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

/// A guest's response body: ends in an error if the guest failed before finishing it.
struct GuestBody {
    inner: ResponseBody,
    failed: Arc<AtomicBool>,
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
struct LimitedBody {
    inner: Incoming,
    remaining: u64,
    limit: u64,
    too_large: Arc<AtomicBool>,
}

impl LimitedBody {
    fn new(inner: Incoming, limit: u64, too_large: Arc<AtomicBool>) -> Self {
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

/// The engine: async support, epoch-based yielding and the pooling allocator, sized by the
/// options: one instance per concurrent request, `--memory-limit` per linear memory.
fn engine(options: &HostOptions) -> anyhow::Result<Engine> {
    let instances = options.max_concurrent;
    let memory = options.memory_limit;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances * MAX_CORE_INSTANCES_PER_COMPONENT)
        .total_memories(instances * MAX_MEMORIES_PER_COMPONENT)
        .total_tables(instances * MAX_TABLES_PER_COMPONENT)
        .total_stacks(instances)
        .max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MAX_MEMORIES_PER_COMPONENT)
        .max_tables_per_component(MAX_TABLES_PER_COMPONENT)
        .max_memory_size(memory)
        // A slot's memory is reset for the next instance in place, page by page where the last
        // one wrote (found with Linux's PAGEMAP_SCAN where the kernel has it), instead of being
        // unmapped and faulted in again: about a quarter less CPU per request for a small guest.
        .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
        .table_keep_resident(KEEP_RESIDENT_TABLE)
        .pagemap_scan(Enabled::Auto);

    let mut config = wasmtime::Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .memory_reservation(memory as u64)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot create the wasmtime engine and its instance pool")
}

/// Refuses, at start-up, a component the pool could never instantiate.
fn check_fits_pool(component: &Component, max_memory: usize) -> anyhow::Result<()> {
    let Some(needs) = component.resources_required() else {
        // It imports core modules or instantiates components it imports; the pool checks
        // at instantiation then.
        return Ok(());
    };
    if needs.num_memories > MAX_MEMORIES_PER_COMPONENT {
        bail!(
            "it has {} linear memories; this host allows {MAX_MEMORIES_PER_COMPONENT}",
            needs.num_memories
        );
    }
    if needs.num_tables > MAX_TABLES_PER_COMPONENT {
        bail!(
            "it has {} tables; this host allows {MAX_TABLES_PER_COMPONENT}",
            needs.num_tables
        );
    }
    let initial = needs.max_initial_memory_size.unwrap_or(0) * 64 * 1024;
    if initial > max_memory as u64 {
        bail!(
            "a memory starts at {} MiB; this host allows {} MiB (--memory-limit)",
            initial >> 20,
            max_memory >> 20
        );
    }
    Ok(())
}

/// Ticks the engine's epoch every [`YIELD_INTERVAL`] until the returned sender is dropped.
fn start_ticker(engine: Engine) -> anyhow::Result<mpsc::Sender<()>> {
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("nanohttp-epoch".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(YIELD_INTERVAL) {
                engine.increment_epoch();
            }
        })
        .context("cannot spawn the epoch thread")?;
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_table() {
        let cases: [(&[u8], Result<(), &str>); 6] = [
            (b"\0asm\x0d\0\x01\0", Ok(())),
            (b"\0asm\x0d\0\x01\0rest", Ok(())),
            (b"\0asm\x01\0\0\0", Err("it is a core WebAssembly module")),
            (
                b"\0asm\x0e\0\x01\0",
                Err("unsupported WebAssembly binary version 0x0e, layer 1"),
            ),
            (b"\0asm", Err("not a WebAssembly binary at all")),
            (b"(component)", Err("not a WebAssembly binary at all")),
        ];
        for (bytes, expected) in cases {
            match (check_is_component(bytes), expected) {
                (Ok(()), Ok(())) => {}
                (Err(why), Err(prefix)) => assert!(why.starts_with(prefix), "{why}"),
                (got, _) => panic!("{bytes:?}: {got:?}, expected {expected:?}"),
            }
        }
    }
}
