//! Everything wasmtime, by concern: the engine, linker and compiling (`engine.rs`), the
//! instances of each version of the component (`pool.rs`), running one request within its
//! limits (`run.rs`), the bodies around a guest (`body.rs`), what a store holds (`state.rs`),
//! the snapshot of the guest's start-up each instance is made from (`snapshot.rs`), and why the
//! host answers instead of the guest (`failure.rs`).

mod body;
mod engine;
mod failure;
mod pool;
mod run;
mod snapshot;
mod state;

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock, mpsc};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use tokio::sync::Semaphore;
use wasmtime::Store;
use wasmtime::component::Linker;
use wasmtime_wasi_http::handler::ProxyPre;

pub(crate) use body::ResponseBody;
pub(crate) use failure::Failure;

use crate::cache;
use crate::config::HostOptions;
use crate::options::DirMapping;
use crate::outbound::Outbound;
use crate::target::{Target, check_is_component};
use pool::Version;
use state::RequestState;

/// Marks a request that came over TLS (a request extension): the guest sees scheme `https`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OverTls;

/// What each request's instance is allowed.
#[derive(Debug, Clone, Copy)]
struct Limits {
    request_timeout: Option<Duration>,
    memory: usize,
    body: u64,
    /// Requests one instance may serve (`--reuse`).
    reuse: u32,
}

/// A compiled, linked and checked component, ready to serve: instantiation per request is a
/// pool slot plus copy-on-write memory images. [`App::reload`] swaps in a new version; requests
/// in flight keep the one they started with.
pub(crate) struct App {
    factory: Factory,
    /// The engine has the component model's concurrency (the first version served was a
    /// WASI 0.3 component; see `engine::engine`).
    concurrent: bool,
    current: RwLock<Arc<Version>>,
    /// Dropping it stops the epoch thread.
    _ticker: mpsc::Sender<()>,
}

/// What versions of the component and their instances are made with: the linker, what each
/// instance gets and may do, and how a version is prepared (compiled, its start-up snapshot).
struct Factory {
    linker: Linker<RequestState>,
    settings: Arc<str>,
    dirs: Arc<[DirMapping]>,
    limits: Limits,
    /// Each version is served from a snapshot of its start-up, where it can be (`--no-snapshot`).
    snapshot: bool,
    cache_dir: Option<PathBuf>,
    permits: Arc<Semaphore>,
    /// Guests' outgoing requests: the allow-list, TLS roots and per-upstream limits.
    outbound: Arc<Outbound>,
    /// The key-value store every instance shares.
    kv: Arc<crate::kv::Kv>,
}

impl App {
    /// Compiles `target` (seconds for a big component; call it off the async workers), or
    /// loads it from the cache, checks that it exports `wasi:http/incoming-handler@0.2.x` and
    /// that the host can satisfy its imports, and runs its start-up for the snapshot every
    /// instance is made from. `settings` is the JSON every instance gets as
    /// `NANOHTTP_SETTINGS`.
    pub(crate) fn load(
        target: &Target,
        settings: String,
        options: &HostOptions,
    ) -> anyhow::Result<App> {
        let limits = &options.limits;
        let concurrent = engine::exports_wasi_http_p3(&target.wasm);
        let engine = engine::engine(limits.max_concurrent, limits.memory_limit, concurrent)?;
        let factory = Factory {
            linker: engine::linker(&engine, concurrent)?,
            settings: settings.into(),
            dirs: options.runtime.dir.clone().into(),
            limits: Limits {
                request_timeout: limits.request_timeout,
                memory: limits.memory_limit,
                body: limits.max_body_size,
                reuse: limits.reuse,
            },
            snapshot: options.runtime.snapshot,
            cache_dir: options.runtime.cache_dir(),
            permits: Arc::new(Semaphore::new(limits.max_concurrent as usize)),
            outbound: Outbound::new(&options.outbound)?,
            kv: crate::kv::Kv::open(&options.kv)?,
        };
        // Ticking before the start-up runs: it yields, and stops at its deadline, as a request.
        let ticker = engine::start_ticker(engine)?;
        let pre = factory.prepare(&target.name, &target.wasm)?;
        Ok(App {
            factory,
            concurrent,
            current: RwLock::new(Arc::new(Version::new(pre))),
            _ticker: ticker,
        })
    }

    /// Compiles `wasm` (blocking: call it off the async workers) and, if it is a servable
    /// component, serves it from now on (from a snapshot of its start-up, taken anew). On error
    /// the current version stays.
    pub(crate) fn reload(&self, name: &str, wasm: &[u8]) -> anyhow::Result<()> {
        check_is_component(wasm)
            .map_err(|why| anyhow!("'{name}' is not a WebAssembly component: {why}"))?;
        if engine::exports_wasi_http_p3(wasm) && !self.concurrent {
            bail!(
                "'{name}' is a WASI 0.3 component and this host started with a WASI 0.2 one: \
                 restart it to serve WASI 0.3"
            );
        }
        let pre = self.factory.prepare(name, wasm)?;
        let previous = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(PoisonError::into_inner),
            Arc::new(Version::new(pre)),
        );
        previous.retire();
        Ok(())
    }

    /// The version new requests are served by.
    fn current(&self) -> Arc<Version> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Factory {
    /// The version to serve `wasm` as: a snapshot of its start-up when the host takes them
    /// and the component exports one (`snapshot.rs`), else the component as built, compiled
    /// only then. A failed snapshot is a warning, not an error: each instance then runs the
    /// start-up itself, as with `--no-snapshot`. Blocking, as compiling is.
    fn prepare(&self, name: &str, wasm: &[u8]) -> anyhow::Result<ProxyPre<RequestState>> {
        if self.snapshot && snapshot::has_start_up(wasm) {
            let started = Instant::now();
            match self.snapshot_of(name, wasm) {
                Ok(pre) => {
                    tracing::debug!(
                        "'{name}': started once, in {:.1?}; every instance starts from there",
                        started.elapsed()
                    );
                    return Ok(pre);
                }
                Err(error) => {
                    // A component that cannot be served as built says why in its own error.
                    let pre = self.compile(name, wasm, cache::Kind::Component)?;
                    tracing::warn!(
                        "'{name}': serving without a snapshot of its start-up, which each \
                         instance then runs itself: {error:#}"
                    );
                    return Ok(pre);
                }
            }
        }
        self.compile(name, wasm, cache::Kind::Component)
    }

    /// Runs the start-up of `wasm` in a store like a request's, within a request's limits and
    /// holding one of its permits while its instance lives (on a reload while busy it waits for
    /// one: the instance takes a slot of the pool), and compiles the snapshot it leaves.
    fn snapshot_of(&self, name: &str, wasm: &[u8]) -> anyhow::Result<ProxyPre<RequestState>> {
        let runtime = tokio::runtime::Handle::current();
        let permit = runtime.block_on(self.permits.acquire())?;
        let mut store = self.new_store()?;
        let deadline = self
            .limits
            .request_timeout
            .map(|limit| Instant::now() + limit);
        store.data_mut().serving("start-up".into(), deadline, None);
        run::arm_deadline(&mut store, deadline);
        let cache_dir = self.cache_dir.as_deref();
        let snapshot =
            runtime.block_on(snapshot::take(&self.linker, &mut store, wasm, cache_dir))?;
        drop(store);
        drop(permit);
        self.compile(name, &snapshot, cache::Kind::SnapshotOf(wasm))
    }

    fn compile(
        &self,
        name: &str,
        wasm: &[u8],
        kind: cache::Kind<'_>,
    ) -> anyhow::Result<ProxyPre<RequestState>> {
        engine::prepare(
            &self.linker,
            name,
            wasm,
            kind,
            self.limits.memory,
            self.cache_dir.as_deref(),
        )
    }

    /// A store for a new instance, with its WASI context and memory limit.
    fn new_store(&self) -> anyhow::Result<Store<RequestState>> {
        let state = RequestState::new(
            &self.settings,
            self.limits.memory,
            &self.dirs,
            &self.outbound,
            self.kv.clone(),
        )?;
        let mut store = Store::new(self.linker.engine(), state);
        store.limiter(|state| state.limiter());
        Ok(store)
    }
}
