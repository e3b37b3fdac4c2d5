//! Everything wasmtime, by concern: the engine, linker and compiling (`engine.rs`), the
//! instances of each version of the component (`pool.rs`), running one request within its
//! limits (`run.rs`), the bodies around a guest (`body.rs`), what a store holds (`state.rs`),
//! and why the host answers instead of the guest (`failure.rs`).

mod body;
mod engine;
mod failure;
mod pool;
mod run;
mod state;

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock, mpsc};
use std::time::Duration;

use anyhow::{anyhow, bail};
use tokio::sync::Semaphore;
use wasmtime::component::Linker;
use wasmtime::{Engine, Store};

pub(crate) use body::ResponseBody;
pub(crate) use failure::Failure;

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
    linker: Linker<RequestState>,
    /// The engine has the component model's concurrency (the first version served was a
    /// WASI 0.3 component; see `engine::engine`).
    concurrent: bool,
    current: RwLock<Arc<Version>>,
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
    /// that the host can satisfy its imports. `settings` is the JSON every instance gets as
    /// `NANOHTTP_SETTINGS`.
    pub(crate) fn load(
        target: &Target,
        settings: String,
        options: &HostOptions,
    ) -> anyhow::Result<App> {
        let limits = &options.limits;
        let concurrent = engine::exports_wasi_http_p3(&target.wasm);
        let engine = engine::engine(limits.max_concurrent, limits.memory_limit, concurrent)?;
        let linker = engine::linker(&engine, concurrent)?;
        let cache_dir = options.runtime.cache_dir();
        let pre = engine::prepare(
            &linker,
            &target.name,
            &target.wasm,
            limits.memory_limit,
            cache_dir.as_deref(),
        )?;
        Ok(App {
            linker,
            concurrent,
            current: RwLock::new(Arc::new(Version::new(pre))),
            settings: settings.into(),
            dirs: options.runtime.dir.clone().into(),
            limits: Limits {
                request_timeout: limits.request_timeout,
                memory: limits.memory_limit,
                body: limits.max_body_size,
                reuse: limits.reuse,
            },
            cache_dir,
            permits: Arc::new(Semaphore::new(limits.max_concurrent as usize)),
            outbound: Outbound::new(&options.outbound)?,
            kv: crate::kv::Kv::open(&options.kv)?,
            _ticker: engine::start_ticker(engine)?,
        })
    }

    /// Compiles `wasm` (blocking: call it off the async workers) and, if it is a servable
    /// component, serves it from now on. On error the current version stays.
    pub(crate) fn reload(&self, name: &str, wasm: &[u8]) -> anyhow::Result<()> {
        check_is_component(wasm)
            .map_err(|why| anyhow!("'{name}' is not a WebAssembly component: {why}"))?;
        if engine::exports_wasi_http_p3(wasm) && !self.concurrent {
            bail!(
                "'{name}' is a WASI 0.3 component and this host started with a WASI 0.2 one: \
                 restart it to serve WASI 0.3"
            );
        }
        let pre = engine::prepare(
            &self.linker,
            name,
            wasm,
            self.limits.memory,
            self.cache_dir.as_deref(),
        )?;
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
}
