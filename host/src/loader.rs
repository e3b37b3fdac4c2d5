//! Everything wasmtime: the engine and its instance pool, the linker, compiling and checking
//! the component, and running one request through a fresh instance.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use hyper::body::Incoming;
use tokio::sync::oneshot;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::config::Target;
use crate::state::RequestState;

/// The body of every response the host sends: the guest's stream, or the host's own text.
pub(crate) type ResponseBody = HyperOutgoingBody;

/// Concurrent instances (requests in flight) the pool holds. Beyond this, instantiation fails
/// and the request gets a 500, rather than memory growing without bound.
const MAX_INSTANCES: u32 = 1000;

/// Linear memory per instance memory. Handlers are short-lived and small (a Rust component
/// starts at ~1 MiB); 64 MiB leaves room for large bodies while bounding 1000 instances.
/// Reserving exactly this much address space per slot (instead of wasmtime's 4 GiB, which lets
/// it drop bounds checks) keeps each pool at ~0.2 TiB of address space rather than ~8 TiB, so
/// tests can run many servers in one process. The cost, a bounds check per memory access, did
/// not show above the noise with wrk on the echo fixture or the demo: instantiation and HTTP
/// dominate a request handler.
const MAX_MEMORY_BYTES: usize = 64 << 20;

/// Core instances, memories and tables one component may hold. A Rust `wasm32-wasip2`
/// component has a handful of core instances (the program, the WASI adapter and the shims
/// gluing them) and two memories; these limits leave headroom for bigger toolchains' output.
const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 8;
const MAX_MEMORIES_PER_COMPONENT: u32 = 2;
const MAX_TABLES_PER_COMPONENT: u32 = 4;

/// How often running guests yield to the tokio scheduler (one epoch tick), so a busy guest
/// cannot hold a worker thread for longer than this.
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

/// A compiled, linked and checked component, ready to serve: instantiation per request is a
/// pool slot plus copy-on-write memory images.
pub(crate) struct App {
    pre: ProxyPre<RequestState>,
    settings: Arc<str>,
    /// Dropping it stops the epoch thread.
    _ticker: mpsc::Sender<()>,
}

impl App {
    /// Compiles `target` (seconds for a big component; call it off the async workers), checks
    /// that it exports `wasi:http/incoming-handler@0.2.x` and that the host can satisfy its
    /// imports. `settings` is the YAML every instance gets as `NANOHTTP_SETTINGS`.
    pub(crate) fn load(target: &Target, settings: String) -> anyhow::Result<App> {
        let name = &target.name;
        let engine = engine()?;
        let component = Component::new(&engine, &target.wasm)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot compile component '{name}'"))?;
        check_fits_pool(&component).with_context(|| format!("cannot serve component '{name}'"))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
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

        Ok(App {
            pre,
            settings: settings.into(),
            _ticker: start_ticker(engine)?,
        })
    }

    /// Runs one request in a fresh instance. Resolves once the guest has set the response
    /// (status and headers); the body streams from the guest while it keeps running.
    ///
    /// `Err` when the guest traps or returns before setting a response, or sets an error
    /// code instead; a trap after the response was set is logged here and cuts the body.
    pub(crate) async fn handle(
        &self,
        request: hyper::Request<Incoming>,
    ) -> anyhow::Result<hyper::Response<ResponseBody>> {
        let mut store = Store::new(self.pre.engine(), RequestState::new(&self.settings));
        store.epoch_deadline_async_yield_and_update(1);

        let (sender, receiver) = oneshot::channel();
        // Set synchronously when the guest calls `response-outparam.set`, so the guest task
        // knows whether a later failure still has a request to fail or only a body to cut.
        let responded = Arc::new(AtomicBool::new(false));
        let flag = responded.clone();
        let (method, uri) = (request.method().clone(), request.uri().clone());
        let mut http = store.data_mut().http();
        let request = http.new_incoming_request(Scheme::Http, request)?;
        let out = http.new_response_outparam_from_callback(move |result| {
            flag.store(true, Ordering::Release);
            // The receiver is gone if the client hung up; nothing to do then.
            let _ = sender.send(result);
        })?;

        let pre = self.pre.clone();
        let guest = tokio::spawn(async move {
            let result = async {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, request, out)
                    .await
            }
            .await
            .map_err(anyhow::Error::from);
            match result {
                Err(error) if responded.load(Ordering::Acquire) => {
                    tracing::error!("{method} {uri}: the guest failed after responding: {error:#}");
                    Ok(())
                }
                other => other,
            }
        });

        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => {
                bail!("the guest answered with an error instead of a response: {code:?}")
            }
            // The guest's store is gone without a response: the task is done, ask it why.
            Err(_) => match guest.await {
                Ok(Ok(())) => bail!("the guest returned without setting a response"),
                Ok(Err(error)) => Err(error.context("the guest failed before responding")),
                Err(join) => Err(anyhow::Error::new(join).context("the guest task panicked")),
            },
        }
    }
}

/// The engine: async support, epoch-based yielding and the pooling allocator.
fn engine() -> anyhow::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(MAX_INSTANCES)
        .total_core_instances(MAX_INSTANCES * MAX_CORE_INSTANCES_PER_COMPONENT)
        .total_memories(MAX_INSTANCES * MAX_MEMORIES_PER_COMPONENT)
        .total_tables(MAX_INSTANCES * MAX_TABLES_PER_COMPONENT)
        .total_stacks(MAX_INSTANCES)
        .max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MAX_MEMORIES_PER_COMPONENT)
        .max_tables_per_component(MAX_TABLES_PER_COMPONENT)
        .max_memory_size(MAX_MEMORY_BYTES);

    let mut config = wasmtime::Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .memory_reservation(MAX_MEMORY_BYTES as u64)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot create the wasmtime engine and its instance pool")
}

/// Refuses, at start-up, a component the pool could never instantiate.
fn check_fits_pool(component: &Component) -> anyhow::Result<()> {
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
    if initial > MAX_MEMORY_BYTES as u64 {
        bail!(
            "a memory starts at {} MiB; this host allows {} MiB",
            initial >> 20,
            MAX_MEMORY_BYTES >> 20
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
