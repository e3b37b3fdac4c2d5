//! Pre-initialisation: the guest's start-up (its settings parsed, `app_init` run) runs once at
//! load, and the memories and globals it leaves are written back into the component as its
//! initial state (Wizer's snapshot), so that each request's fresh instance starts initialised.
//! Isolation is unchanged: every request still gets an instance of its own, made from the
//! snapshot instead of from the component as built.
//!
//! What a snapshot cannot hold is a handle: an index into the start-up store's resource table
//! (an open stream or bucket) would mean nothing, or another resource, in a later store. So a
//! start-up that keeps one is refused here and the component is served as built.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use wasmtime::Store;
use wasmtime::component::{Instance, Lift, Linker, WasmList};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use super::state::RequestState;

/// The export that runs a nanohttp component's start-up (`nanohttp::export!` makes it): Wizer's
/// default name, so other tools that pre-initialise components find it too.
const START_UP: &str = "wizer-initialize";

/// Whether the component `wasm` exports a start-up to snapshot ([`START_UP`]), read from its
/// outermost export section without compiling it. (Its type, nothing to nothing, is checked
/// when it is called.)
pub(super) fn has_start_up(wasm: &[u8]) -> bool {
    use wasmparser::{ComponentExternalKind, Parser, Payload};
    // Nested modules and components have export sections of their own.
    let mut depth = 0_usize;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(Payload::ModuleSection { .. } | Payload::ComponentSection { .. }) => depth += 1,
            Ok(Payload::End(_)) => depth = depth.saturating_sub(1),
            Ok(Payload::ComponentExportSection(exports)) if depth == 0 => {
                let found = exports.into_iter().any(|export| {
                    export.is_ok_and(|export| {
                        export.name.name == START_UP && export.kind == ComponentExternalKind::Func
                    })
                });
                if found {
                    return true;
                }
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// Runs the start-up of `wasm` in `store` (instantiated with `linker`) and returns the
/// component rewritten to start in the state the start-up left.
pub(super) async fn take(
    linker: &Linker<RequestState>,
    store: &mut Store<RequestState>,
    wasm: &[u8],
    cache_dir: Option<&Path>,
) -> anyhow::Result<Vec<u8>> {
    let mut wizer = Wizer::new();
    wizer.init_func(START_UP);
    // Wizer would take the export out of the core module but leave the component's lift of it,
    // and the result would not compile; calling it again does nothing anyway.
    wizer.keep_init_func(true);
    let (context, instrumented) = wizer
        .instrument_component(wasm)
        .map_err(anyhow::Error::from)
        .context("cannot instrument the component")?;
    // The same for the same component: cached like it.
    let component = crate::cache::load_or_compile(
        linker.engine(),
        &instrumented,
        crate::cache::Kind::Component,
        cache_dir,
    )
    .context("cannot compile the instrumented component")?;
    let instance = linker
        .instantiate_async(&mut *store, &component)
        .await
        .map_err(anyhow::Error::from)
        .context("cannot instantiate the instrumented component")?;
    let start_up = instance
        .get_typed_func::<(), ()>(&mut *store, START_UP)
        .map_err(anyhow::Error::from)?;
    start_up
        .call_async(&mut *store, ())
        .await
        .map_err(anyhow::Error::from)
        .context("the start-up failed")?;
    if store.data().holds_handles() {
        bail!(
            "the start-up kept a handle, which a snapshot cannot carry into other instances \
             (does `app_init` write to stderr or stdout, which keeps the stream, or keep a file \
             or key-value bucket open?)"
        );
    }
    let mut started = Started {
        store,
        instance,
        failed: None,
    };
    let snapshot = wizer
        .snapshot_component(&context, &mut started)
        .await
        .map_err(anyhow::Error::from)
        .context("cannot snapshot the started instance")?;
    match started.failed {
        Some(error) => Err(error.context("cannot snapshot the started instance")),
        None => Ok(snapshot),
    }
}

/// The instance after its start-up, read through the accessors Wizer's instrumentation
/// exported (one function per memory and global, in one exported instance).
struct Started<'a> {
    store: &'a mut Store<RequestState>,
    instance: Instance,
    /// The first accessor that could not be called: Wizer's reading has no way to fail, so it
    /// gets a zero and the snapshot is thrown away afterwards.
    failed: Option<anyhow::Error>,
}

impl Started<'_> {
    /// Calls the accessor `func` of the exported `instance`.
    async fn read<R: Lift + Send + Sync + 'static>(
        &mut self,
        instance: &str,
        func: &str,
    ) -> Option<R> {
        let result = self.try_read(instance, func).await;
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.failed
                    .get_or_insert(error.context(format!("cannot read {instance}#{func}")));
                None
            }
        }
    }

    async fn try_read<R: Lift + Send + Sync + 'static>(
        &mut self,
        instance: &str,
        func: &str,
    ) -> anyhow::Result<R> {
        let missing = |name: &str| anyhow!("the instrumented component exports no {name}");
        let accessors = self
            .instance
            .get_export_index(&mut *self.store, None, instance)
            .ok_or_else(|| missing(instance))?;
        let index = self
            .instance
            .get_export_index(&mut *self.store, Some(&accessors), func)
            .ok_or_else(|| missing(func))?;
        let typed = self
            .instance
            .get_typed_func::<(), (R,)>(&mut *self.store, index)
            .map_err(anyhow::Error::from)?;
        let (value,) = typed
            .call_async(&mut *self.store, ())
            .await
            .map_err(anyhow::Error::from)?;
        Ok(value)
    }
}

impl ComponentInstanceState for Started<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        match self.read::<WasmList<u8>>(instance, func).await {
            Some(list) => contents(list.as_le_slice(&*self.store)),
            None => contents(&[]),
        }
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.read(instance, func).await.unwrap_or_default()
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.read(instance, func).await.unwrap_or_default()
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.read::<f32>(instance, func)
            .await
            .map_or(0, f32::to_bits)
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.read::<f64>(instance, func)
            .await
            .map_or(0, f64::to_bits)
    }
}
