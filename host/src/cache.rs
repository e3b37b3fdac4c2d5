//! Compiled components kept on disk, so a restart skips compiling.
//!
//! One file per component and engine configuration: `<sha-256>.cwasm` in the cache directory,
//! the hash taken over the component's bytes and wasmtime's own compatibility hash of the
//! engine (its version, compiler settings and the tunables the pool and memory limit set). A
//! file that wasmtime refuses is ignored and replaced. Files are written under a temporary
//! name and renamed, so concurrent hosts never read half a file.
//!
//! A snapshot of a component's start-up (`app/snapshot.rs`) is the same on every load when the
//! start-up is (most are), but not when it reads the clock or draws a random number: it is
//! kept as `<origin's hash>-<its hash>.cwasm` and replaces any earlier one of the same origin,
//! so the directory holds one per component (and engine configuration) however often it starts.

use std::hash::{Hash as _, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Bumped when the file layout changes.
const FORMAT: &[u8] = b"nanohttp-cache-1";

/// What is being compiled, which decides its file's name.
#[derive(Clone, Copy)]
pub(crate) enum Kind<'a> {
    /// A component, named by its bytes.
    Component,
    /// A snapshot of `origin`'s start-up, named by its origin's bytes and its own; saving it
    /// removes the earlier snapshots of `origin` (see the module's docs).
    SnapshotOf(&'a [u8]),
}

/// The compiled component: from `dir` when it holds a usable copy, else compiled (and, if
/// `dir` is given, saved there; failing to save is only a warning).
pub(crate) fn load_or_compile(
    engine: &Engine,
    wasm: &[u8],
    kind: Kind<'_>,
    dir: Option<&Path>,
) -> anyhow::Result<Component> {
    let Some(dir) = dir else {
        crate::metrics::compile_cache(false);
        return compile(engine, wasm);
    };
    let prefix = match kind {
        Kind::Component => None,
        Kind::SnapshotOf(origin) => Some(format!("{}-", key(engine, origin))),
    };
    let name = format!(
        "{}{}.cwasm",
        prefix.as_deref().unwrap_or(""),
        key(engine, wasm)
    );
    let path = dir.join(&name);
    if path.is_file() {
        let started = Instant::now();
        match deserialize(engine, &path) {
            Ok(component) => {
                tracing::debug!(
                    "loaded the compiled component from {} in {:.1?}",
                    path.display(),
                    started.elapsed()
                );
                crate::metrics::compile_cache(true);
                return Ok(component);
            }
            Err(error) => tracing::warn!("ignoring {}: {error:#}", path.display()),
        }
    }
    crate::metrics::compile_cache(false);
    let component = compile(engine, wasm)?;
    match save(&component, dir, &path) {
        Ok(()) => {
            if let Some(prefix) = prefix {
                remove_others(dir, &prefix, &name);
            }
        }
        Err(error) => tracing::warn!(
            "cannot keep the compiled component in {}: {error:#}",
            dir.display()
        ),
    }
    Ok(component)
}

/// Removes the compiled files in `dir` whose names start with `prefix`, but `keep`: earlier
/// snapshots of one origin. One already gone (another host sharing the directory removed it)
/// is fine; failing otherwise is only a warning.
fn remove_others(dir: &Path, prefix: &str, keep: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if !name.starts_with(prefix) || !name.ends_with(".cwasm") || name == keep {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!("cannot remove {}: {error}", entry.path().display());
            }
            _ => {}
        }
    }
}

fn compile(engine: &Engine, wasm: &[u8]) -> anyhow::Result<Component> {
    let started = Instant::now();
    let component = Component::new(engine, wasm).map_err(anyhow::Error::from)?;
    tracing::debug!("compiled the component in {:.1?}", started.elapsed());
    Ok(component)
}

/// The file name: a hash of everything the compiled code depends on.
fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    hasher.write(FORMAT);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.write(&(wasm.len() as u64).to_le_bytes());
    hasher.write(wasm);
    hasher
        .0
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Feeds [`std::hash::Hash`] output into SHA-256 (`finish` is unused).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        0
    }
}

#[expect(
    unsafe_code,
    reason = "wasmtime trusts a precompiled artifact to be its own output; this one is: it \
              was written by `save` below into the host's own cache directory (created \
              owner-only), under a name hashing the component and the engine, and wasmtime \
              still checks its header against the engine"
)]
fn deserialize(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    // SAFETY: see the reason above; a file someone else wrote there could run code as this
    // user, which anyone able to write to the user's cache directory can do anyway.
    unsafe { Component::deserialize_file(engine, path) }.map_err(anyhow::Error::from)
}

fn save(component: &Component, dir: &Path, path: &Path) -> anyhow::Result<()> {
    create_private_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let bytes = component.serialize().map_err(anyhow::Error::from)?;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let temporary = PathBuf::from(format!(
        "{}.{}-{}.tmp",
        path.display(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        anyhow::Error::new(e).context(format!("cannot rename to {}", path.display()))
    })
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
