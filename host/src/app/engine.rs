//! The engine and its instance pool, the linker, and compiling and checking a component.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use wasmtime::component::{Component, Linker};
use wasmtime::{Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi_http::handler::ProxyPre;
use wasmtime_wasi_http::{p2, p3};

use super::state::RequestState;
use crate::cache;

/// Core instances, memories and tables one component may hold. A Rust `wasm32-wasip2`
/// component has a handful of core instances (the program, the WASI adapter and the shims
/// gluing them) and two memories; these limits leave headroom for bigger toolchains' output.
const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 8;
const MAX_MEMORIES_PER_COMPONENT: u32 = 2;
const MAX_TABLES_PER_COMPONENT: u32 = 4;
/// Fiber stacks one request may use: the call's own, and for a WASI 0.3 component one more
/// while its task blocks in the guest (a body read waiting for the client), which wasmtime
/// runs on a fiber of its own.
const STACKS_PER_INSTANCE: u32 = 2;

/// Bytes of each memory and table slot kept resident between instances (see [`engine`]).
const KEEP_RESIDENT_MEMORY: usize = 1 << 20;
const KEEP_RESIDENT_TABLE: usize = 64 << 10;

/// How often running guests yield to the tokio scheduler (one epoch tick), so a busy guest
/// cannot hold a worker thread for longer than this; also how late, at most, a guest that
/// computes past its time limit is stopped.
const YIELD_INTERVAL: Duration = Duration::from_millis(10);

/// Whether a component exports WASI 0.3's `wasi:http/handler` (its export's name is in the
/// binary as text), known before an engine is made for it. A false positive only costs speed:
/// the engine then has the component model's concurrency support, which a WASI 0.2 component
/// does not need.
pub(super) fn exports_wasi_http_p3(wasm: &[u8]) -> bool {
    const EXPORT: &[u8] = b"wasi:http/handler@0.3";
    wasm.windows(EXPORT.len()).any(|window| window == EXPORT)
}

/// The engine: async support, epoch-based yielding and the pooling allocator, sized for
/// `instances` at once (one per concurrent request) with `memory` bytes per linear memory.
/// `concurrent`: the component model's concurrency (WASI 0.3), only for a component that
/// needs it: with it every store and every call of a WASI 0.2 guest pays for its bookkeeping
/// (about 14 µs of host CPU per request for hello, `bench/profile.md`).
pub(super) fn engine(instances: u32, memory: usize, concurrent: bool) -> anyhow::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances * MAX_CORE_INSTANCES_PER_COMPONENT)
        .total_memories(instances * MAX_MEMORIES_PER_COMPONENT)
        .total_tables(instances * MAX_TABLES_PER_COMPONENT)
        .total_stacks(instances * STACKS_PER_INSTANCE)
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
        // WASI 0.3: async exports and imports, streams and futures.
        .concurrency_support(concurrent)
        .wasm_component_model_async(concurrent)
        .epoch_interruption(true)
        .memory_reservation(memory as u64)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot create the wasmtime engine and its instance pool")
}

/// What guests may import: WASI 0.2 and, on a `concurrent` engine, 0.3 (no sockets: the
/// context refuses them), either version's `wasi:http` client (both through the outbound
/// policy), `wasi:keyvalue` and an empty `wasi:config/store`. A WASI 0.3 component built by
/// Rust's `wasm32-wasip2` target imports both: 0.2 for the standard library, 0.3 for HTTP.
pub(super) fn linker(engine: &Engine, concurrent: bool) -> anyhow::Result<Linker<RequestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    p2::add_only_http_to_linker_async(&mut linker)?;
    if concurrent {
        wasmtime_wasi::p3::add_to_linker(&mut linker)?;
        p3::add_to_linker(&mut linker)?;
    }
    crate::kv::add_to_linker(&mut linker, RequestState::kv)?;
    crate::config_store::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// Compiles (or loads from the cache), links and checks one component.
pub(super) fn prepare(
    linker: &Linker<RequestState>,
    name: &str,
    wasm: &[u8],
    kind: cache::Kind<'_>,
    memory: usize,
    cache_dir: Option<&Path>,
) -> anyhow::Result<ProxyPre<RequestState>> {
    let component = cache::load_or_compile(linker.engine(), wasm, kind, cache_dir)
        .with_context(|| format!("cannot compile component '{name}'"))?;
    check_fits_pool(&component, memory)
        .with_context(|| format!("cannot serve component '{name}'"))?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!("component '{name}' needs an import this host does not provide")
        })?;
    // Which `wasi:http` it serves, 0.3 first (as `wasmtime serve` chooses): a component
    // exporting both is a 0.3 one that kept a 0.2 export for older hosts.
    if let Ok(service) = p3::bindings::ServicePre::new(pre.clone()) {
        return Ok(ProxyPre::P3(service));
    }
    p2::bindings::ProxyPre::new(pre)
        .map(ProxyPre::P2)
        .map_err(|e| {
            anyhow!(
                "component '{name}' exports neither wasi:http/handler@0.3.x nor \
                 wasi:http/incoming-handler@0.2.x (is it a wasi:http handler?): {e}"
            )
        })
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
pub(super) fn start_ticker(engine: Engine) -> anyhow::Result<mpsc::Sender<()>> {
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
